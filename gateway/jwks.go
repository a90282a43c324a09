package gateway

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

	"github.com/oidcstack/oidcstack/internal/secevent"
)

// keyRefetchInterval is the minimum time between two JWKS fetches that an
// unknown kid triggers, so a flood of SETs with made-up kids cannot become
// a flood of requests to the authorization server.
const keyRefetchInterval = 10 * time.Second

// keyCache holds the authorization server's published signing keys by kid.
// The gateway uses them to verify pushed SETs and to notice when a key that
// signed cached JWTs has been retired. It is safe for concurrent use.
type keyCache struct {
	discovery *discovery
	client    *http.Client
	now       func() time.Time

	// fetchMu serializes fetches, so concurrent misses share one.
	fetchMu sync.Mutex

	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey // nil until the first fetch succeeds
	nextFetch time.Time
}

// key returns the public key with the given kid, fetching the JWKS when it
// has none yet or does not know kid and no fetch happened recently. It
// implements secevent.KeyFunc.
func (kc *keyCache) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if k := kc.lookup(kid); k != nil {
		return k, nil
	}
	kc.fetchMu.Lock()
	defer kc.fetchMu.Unlock()
	if k := kc.lookup(kid); k != nil {
		return k, nil
	}

	kc.mu.Lock()
	loaded, wait := kc.keys != nil, kc.now().Before(kc.nextFetch)
	kc.mu.Unlock()
	if wait {
		if !loaded {
			return nil, fmt.Errorf("%w: JWKS fetch failed recently", secevent.ErrKeysUnavailable)
		}
		// Not a rejection: the kid may belong to a key the authorization
		// server has just rotated in. The transmitter retries a SET that
		// could not be checked, and the retry finds the key once the
		// interval has passed.
		return nil, fmt.Errorf("%w: unknown kid %q, JWKS refetch rate limited", secevent.ErrKeysUnavailable, kid)
	}
	keys, err := kc.fetchLocked(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", secevent.ErrKeysUnavailable, err)
	}
	if k := keys[kid]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}

func (kc *keyCache) lookup(kid string) *rsa.PublicKey {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	return kc.keys[kid]
}

// loaded reports whether a JWKS fetch has succeeded.
func (kc *keyCache) loaded() bool {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	return kc.keys != nil
}

// refresh fetches the JWKS now and returns the set of published kids.
func (kc *keyCache) refresh(ctx context.Context) (map[string]bool, error) {
	kc.fetchMu.Lock()
	defer kc.fetchMu.Unlock()
	keys, err := kc.fetchLocked(ctx)
	if err != nil {
		return nil, err
	}
	kids := make(map[string]bool, len(keys))
	for kid := range keys {
		kids[kid] = true
	}
	return kids, nil
}

// fetchLocked downloads the JWKS and keeps its RSA signature keys that
// have a kid. The caller holds fetchMu.
func (kc *keyCache) fetchLocked(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	keys, err := kc.download(ctx)
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if err != nil {
		kc.nextFetch = kc.now().Add(time.Second)
		return nil, err
	}
	kc.keys = keys
	kc.nextFetch = kc.now().Add(keyRefetchInterval)
	return keys, nil
}

func (kc *keyCache) download(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	meta, err := kc.discovery.metadata(ctx)
	if err != nil {
		return nil, err
	}
	if meta.JWKSURI == "" {
		return nil, errors.New("gateway: authorization server metadata has no jwks_uri")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, meta.JWKSURI, nil)
	if err != nil {
		return nil, fmt.Errorf("gateway: build request for %q: %w", meta.JWKSURI, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := kc.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gateway: get %q: %w", meta.JWKSURI, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("gateway: get %q: status %d, want 200", meta.JWKSURI, resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&set); err != nil {
		return nil, fmt.Errorf("gateway: decode JWKS from %q: %w", meta.JWKSURI, err)
	}
	keys := make(map[string]*rsa.PublicKey)
	for _, k := range set.Keys {
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || k.KeyID == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		keys[k.KeyID] = pub
	}
	return keys, nil
}
