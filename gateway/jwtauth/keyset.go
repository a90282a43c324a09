package jwtauth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// failedFetchRetry is the time after a failed fetch before the next one,
// so an issuer that is down is not asked on every request.
const failedFetchRetry = time.Second

// maxResponseBytes bounds the metadata and JWKS documents.
const maxResponseBytes = 1 << 20

// keySet holds the issuer's RSA signature keys by kid. It fetches the
// JWKS on the first lookup and again when a token names an unknown kid
// (after a key rotation), but not more often than refetchInterval.
type keySet struct {
	issuer          string
	client          *http.Client
	now             func() time.Time
	refetchInterval time.Duration

	// fetchMu serializes fetches, so concurrent misses share one.
	fetchMu sync.Mutex
	jwksURL string // discovered under fetchMu when not configured

	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey
	nextFetch time.Time
}

// key returns the public key with the given kid. It returns an error
// wrapping ErrInvalidToken when the JWKS has no such key, and one wrapping
// ErrKeysUnavailable when the JWKS could not be fetched.
func (ks *keySet) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if k := ks.lookup(kid); k != nil {
		return k, nil
	}

	ks.fetchMu.Lock()
	defer ks.fetchMu.Unlock()
	// Another request may have fetched the key while this one waited.
	if k := ks.lookup(kid); k != nil {
		return k, nil
	}

	ks.mu.Lock()
	now := ks.now()
	wait := now.Before(ks.nextFetch)
	fetched := ks.keys != nil
	ks.mu.Unlock()
	if wait {
		if !fetched {
			return nil, fmt.Errorf("%w: JWKS fetch failed recently, next attempt at %s", ErrKeysUnavailable, ks.nextFetch.Format(time.RFC3339))
		}
		return nil, fmt.Errorf("%w: unknown kid %q (JWKS refetch rate limited)", ErrInvalidToken, kid)
	}

	keys, err := ks.fetch(ctx)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if err != nil {
		ks.nextFetch = now.Add(failedFetchRetry)
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	ks.keys = keys
	ks.nextFetch = now.Add(ks.refetchInterval)
	if k := keys[kid]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: unknown kid %q", ErrInvalidToken, kid)
}

func (ks *keySet) lookup(kid string) *rsa.PublicKey {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.keys[kid]
}

// fetch downloads the JWKS and keeps its RSA signature keys that have a
// kid. Keys for other uses or algorithms are skipped.
func (ks *keySet) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	if ks.jwksURL == "" {
		jwksURL, err := ks.discover(ctx)
		if err != nil {
			return nil, err
		}
		ks.jwksURL = jwksURL
	}

	var set jose.JSONWebKeySet
	if err := ks.getJSON(ctx, ks.jwksURL, &set); err != nil {
		return nil, err
	}
	keys := make(map[string]*rsa.PublicKey)
	for _, k := range set.Keys {
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || k.KeyID == "" || (k.Use != "" && k.Use != "sig") ||
			(k.Algorithm != "" && k.Algorithm != string(jose.RS256)) {
			continue
		}
		keys[k.KeyID] = pub
	}
	return keys, nil
}

// discover returns the jwks_uri from the issuer's RFC 8414 metadata.
func (ks *keySet) discover(ctx context.Context) (string, error) {
	u, err := url.Parse(ks.issuer)
	if err != nil {
		return "", fmt.Errorf("parse issuer %q: %w", ks.issuer, err)
	}
	// RFC 8414 section 3.1: the well-known suffix goes between the host
	// and the issuer's path.
	u.Path = "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""

	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := ks.getJSON(ctx, u.String(), &meta); err != nil {
		return "", err
	}
	// RFC 8414 section 3.3.
	if meta.Issuer != ks.issuer {
		return "", fmt.Errorf("metadata issuer %q does not match configured issuer %q", meta.Issuer, ks.issuer)
	}
	if err := validateURL(meta.JWKSURI); err != nil {
		return "", fmt.Errorf("metadata jwks_uri: %w", err)
	}
	return meta.JWKSURI, nil
}

func (ks *keySet) getJSON(ctx context.Context, target string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("build request for %q: %w", target, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := ks.client.Do(req)
	if err != nil {
		return fmt.Errorf("get %q: %w", target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %q: status %d, want 200", target, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(v); err != nil {
		return fmt.Errorf("decode %q: %w", target, err)
	}
	return nil
}

// Errors of Verify, to be compared with errors.Is.
var (
	// ErrInvalidToken means the token is not an acceptable JWT. The wrapping
	// error names the failed check.
	ErrInvalidToken = errors.New("jwtauth: invalid token")
	// ErrKeysUnavailable means the issuer's keys could not be fetched, so
	// the token could not be checked.
	ErrKeysUnavailable = errors.New("jwtauth: signing keys unavailable")
)
