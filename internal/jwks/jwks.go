// Package jwks verifies JWT signatures against an issuer's published JSON
// Web Key Set (RFC 7517). It fetches the set on first use and again when a
// token names a key ID it does not know, which is how a relying party
// learns about a key rotation, but never more often than a minimum
// interval: a stream of tokens with made-up key IDs cannot turn into a
// stream of requests to the issuer.
//
// Only RSA signature keys are kept and only RS256 signatures are accepted.
// The package checks signatures only; the caller checks the claims.
package jwks

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// DefaultRefetchInterval is the minimum time between two fetches of the
// key set when [Config.RefetchInterval] is zero.
const DefaultRefetchInterval = 10 * time.Second

// failedFetchRetry is the wait after a failed fetch before the next one,
// so an issuer that is down is not asked on every request.
const failedFetchRetry = time.Second

// maxSetBytes bounds the JWKS document; real ones are a few kilobytes.
const maxSetBytes = 1 << 20

// Errors of [KeySet.Key] and [KeySet.VerifySignature], to be compared with
// errors.Is.
var (
	// ErrInvalidSignature means the token is malformed, not RS256, or its
	// signature does not verify with the named key.
	ErrInvalidSignature = errors.New("jwks: invalid signature")
	// ErrUnknownKey means the key set has no key with the token's key ID,
	// even after a refetch (or a refetch was rate limited).
	ErrUnknownKey = errors.New("jwks: unknown key")
	// ErrUnavailable means the key set could not be fetched, so the
	// token could not be checked. Retrying later may succeed.
	ErrUnavailable = errors.New("jwks: key set unavailable")
)

// Config configures a [KeySet].
type Config struct {
	// URL is the JWKS document's URL, such as a provider's jwks_uri.
	URL string
	// HTTPClient fetches the document. Nil means http.DefaultClient.
	HTTPClient *http.Client
	// Clock returns the current time. Nil means time.Now.
	Clock func() time.Time
	// RefetchInterval is the minimum time between two fetches caused by
	// unknown key IDs. Zero means [DefaultRefetchInterval].
	RefetchInterval time.Duration
}

// KeySet is a cached, rate-limited copy of one issuer's JWKS. It is safe
// for concurrent use. Its VerifySignature method makes it usable as a
// go-oidc KeySet.
type KeySet struct {
	url             string
	client          *http.Client
	now             func() time.Time
	refetchInterval time.Duration

	// fetchMu serializes fetches, so concurrent misses share one.
	fetchMu sync.Mutex

	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey // nil until the first fetch succeeds
	nextFetch time.Time
}

// New returns a key set for cfg. It fetches nothing until the first lookup.
func New(cfg Config) *KeySet {
	ks := &KeySet{
		url:             cfg.URL,
		client:          cfg.HTTPClient,
		now:             cfg.Clock,
		refetchInterval: cfg.RefetchInterval,
	}
	if ks.client == nil {
		ks.client = http.DefaultClient
	}
	if ks.now == nil {
		ks.now = time.Now
	}
	if ks.refetchInterval <= 0 {
		ks.refetchInterval = DefaultRefetchInterval
	}
	return ks
}

// VerifySignature checks that raw is a compact JWS signed with RS256 by a
// key of the set and returns its payload. A token without a key ID is
// tried against every key.
func (ks *KeySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: %d signatures, want 1", ErrInvalidSignature, len(jws.Signatures))
	}
	kid := jws.Signatures[0].Header.KeyID

	var candidates []*rsa.PublicKey
	if kid == "" {
		if candidates, err = ks.all(ctx); err != nil {
			return nil, err
		}
	} else {
		key, err := ks.Key(ctx, kid)
		if err != nil {
			return nil, err
		}
		candidates = []*rsa.PublicKey{key}
	}
	for _, key := range candidates {
		if payload, err := jws.Verify(key); err == nil {
			return payload, nil
		}
	}
	return nil, fmt.Errorf("%w: no key of %q verifies the token (kid %q)", ErrInvalidSignature, ks.url, kid)
}

// Key returns the public key with the given key ID, fetching the set
// when it has none yet, or when it does not know kid and the last fetch
// is at least the refetch interval ago.
func (ks *KeySet) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if key := ks.lookup(kid); key != nil {
		return key, nil
	}

	ks.fetchMu.Lock()
	defer ks.fetchMu.Unlock()
	// Another request may have fetched the key while this one waited.
	if key := ks.lookup(kid); key != nil {
		return key, nil
	}
	if err := ks.refresh(ctx); err != nil {
		return nil, err
	}
	if key := ks.lookup(kid); key != nil {
		return key, nil
	}
	return nil, fmt.Errorf("%w: %q has no key with kid %q", ErrUnknownKey, ks.url, kid)
}

// all returns every key, fetching the set first if it has none yet.
func (ks *KeySet) all(ctx context.Context) ([]*rsa.PublicKey, error) {
	ks.fetchMu.Lock()
	defer ks.fetchMu.Unlock()
	ks.mu.Lock()
	loaded := ks.keys != nil
	ks.mu.Unlock()
	if !loaded {
		if err := ks.refresh(ctx); err != nil {
			return nil, err
		}
	}

	ks.mu.Lock()
	defer ks.mu.Unlock()
	out := make([]*rsa.PublicKey, 0, len(ks.keys))
	for _, key := range ks.keys {
		out = append(out, key)
	}
	return out, nil
}

func (ks *KeySet) lookup(kid string) *rsa.PublicKey {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.keys[kid]
}

// refresh fetches the set unless the rate limit forbids it. A rate-limited
// refresh of a loaded set is no error: the caller then finds no new key.
// The caller holds fetchMu.
func (ks *KeySet) refresh(ctx context.Context) error {
	ks.mu.Lock()
	now := ks.now()
	wait := now.Before(ks.nextFetch)
	loaded := ks.keys != nil
	ks.mu.Unlock()
	if wait && loaded {
		return nil
	}
	if wait {
		return fmt.Errorf("%w: fetch of %q failed recently, next attempt at %s",
			ErrUnavailable, ks.url, ks.nextFetch.Format(time.RFC3339))
	}

	keys, err := ks.fetch(ctx)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if err != nil {
		ks.nextFetch = now.Add(failedFetchRetry)
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	ks.keys = keys
	ks.nextFetch = now.Add(ks.refetchInterval)
	return nil
}

// fetch downloads the set and keeps its RSA keys that may sign with
// RS256. Keys for encryption or other algorithms are skipped.
func (ks *KeySet) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ks.url, nil)
	if err != nil {
		return nil, fmt.Errorf("build request for %q: %w", ks.url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := ks.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %q: %w", ks.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %q: status %d, want 200", ks.url, resp.StatusCode)
	}

	// Each key is decoded on its own, so a key of a type or curve go-jose
	// does not know (secp256k1, say) is skipped instead of failing the set.
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSetBytes)).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode %q: %w", ks.url, err)
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue
		}
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != string(jose.RS256)) {
			continue
		}
		keys[k.KeyID] = pub
	}
	return keys, nil
}
