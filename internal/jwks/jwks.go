// Package jwks verifies JWT signatures against an issuer's published JSON
// Web Key Set (RFC 7517). It fetches the set on first use and again when a
// token names a key ID it does not know, which is how a relying party
// learns about a key rotation, but never more often than a minimum
// interval: a stream of tokens with made-up key IDs cannot turn into a
// stream of requests to the issuer. Concurrent lookups that miss share one
// fetch.
//
// Only RSA signature keys are kept and only RS256 signatures are accepted.
// Keys of other types, uses or algorithms are skipped. The package checks
// signatures only; the caller checks the claims.
//
// The authorization server uses a [KeySet] as go-oidc's key set for the
// upstream providers' ID tokens, the gateway uses one to verify pushed
// Security Event Tokens and to notice retired keys, and gateway/jwtauth
// uses one to verify the gateway's JWTs.
package jwks

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// DefaultRefetchInterval is the minimum time between two fetches of the
// key set when [Config.RefetchInterval] is zero.
const DefaultRefetchInterval = 10 * time.Second

// RetryAfterFailedFetch is the wait after a failed fetch before the next
// one, so an issuer that is down is not asked on every request.
const RetryAfterFailedFetch = time.Second

// Errors of the [KeySet] methods, to be compared with errors.Is.
var (
	// ErrInvalidSignature means the token is malformed, not RS256, or its
	// signature does not verify with the named key.
	ErrInvalidSignature = errors.New("jwks: invalid signature")
	// ErrUnknownKey means the key set has no key with the token's key ID,
	// either after a refetch or because the rate limit skipped the
	// refetch. In the second case the error also wraps ErrRefetchLimited.
	ErrUnknownKey = errors.New("jwks: unknown key")
	// ErrRefetchLimited comes with ErrUnknownKey when the set was not
	// fetched again because the last fetch was less than the refetch
	// interval ago. The key may have been published since, so a retry
	// after the interval can succeed.
	ErrRefetchLimited = errors.New("jwks: refetch rate limited")
	// ErrUnavailable means the key set could not be fetched, so the
	// token could not be checked. Retrying later may succeed.
	ErrUnavailable = errors.New("jwks: key set unavailable")
)

// Config configures a [KeySet].
type Config struct {
	// URL is the JWKS document's URL, such as a provider's jwks_uri.
	// Empty means ResolveURL finds it.
	URL string
	// ResolveURL returns the JWKS document's URL when URL is empty, for
	// example from the issuer's metadata. The key set calls it before each
	// fetch until it succeeds once, and then keeps its result. An error
	// makes that fetch fail with ErrUnavailable. Ignored when URL is set.
	ResolveURL func(ctx context.Context) (string, error)
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
	resolveURL      func(ctx context.Context) (string, error)
	client          *http.Client
	now             func() time.Time
	refetchInterval time.Duration

	// fetchMu serializes fetches, so concurrent misses share one.
	fetchMu sync.Mutex

	mu        sync.Mutex
	url       string                    // empty until resolved
	keys      map[string]*rsa.PublicKey // nil until the first fetch succeeds
	nextFetch time.Time
}

// New returns a key set for cfg. It fetches nothing until the first lookup.
func New(cfg Config) *KeySet {
	ks := &KeySet{
		url:             cfg.URL,
		resolveURL:      cfg.ResolveURL,
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
	return nil, fmt.Errorf("%w: no key of %q verifies the token (kid %q)", ErrInvalidSignature, ks.source(), kid)
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
	fetched, err := ks.refresh(ctx, false)
	if err != nil {
		return nil, err
	}
	if key := ks.lookup(kid); key != nil {
		return key, nil
	}
	if !fetched {
		return nil, fmt.Errorf("%w: %q has no key with kid %q (%w until %s)",
			ErrUnknownKey, ks.source(), kid, ErrRefetchLimited, ks.nextFetchTime().Format(time.RFC3339))
	}
	return nil, fmt.Errorf("%w: %q has no key with kid %q", ErrUnknownKey, ks.source(), kid)
}

// Refresh fetches the set now, whatever the refetch interval, and keeps
// the previous keys when the fetch fails. The error wraps ErrUnavailable.
// Callers use it to notice retired keys, which a lookup never does.
func (ks *KeySet) Refresh(ctx context.Context) error {
	ks.fetchMu.Lock()
	defer ks.fetchMu.Unlock()
	_, err := ks.refresh(ctx, true)
	return err
}

// KeyIDs returns the sorted key IDs of the keys from the last successful
// fetch, without keys that have no key ID. It fetches nothing.
func (ks *KeySet) KeyIDs() []string {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	kids := make([]string, 0, len(ks.keys))
	for kid := range ks.keys {
		if kid != "" {
			kids = append(kids, kid)
		}
	}
	slices.Sort(kids)
	return kids
}

// Loaded reports whether a fetch of the set has succeeded.
func (ks *KeySet) Loaded() bool {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.keys != nil
}

func (ks *KeySet) lookup(kid string) *rsa.PublicKey {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.keys[kid]
}

// source returns the document's URL for error messages, empty while it
// is not resolved.
func (ks *KeySet) source() string {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.url
}

func (ks *KeySet) nextFetchTime() time.Time {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.nextFetch
}
