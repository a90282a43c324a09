package jwks

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/oidcstack/oidcstack/internal/httpx"
)

// all returns every key, fetching the set first if it has none yet.
func (ks *KeySet) all(ctx context.Context) ([]*rsa.PublicKey, error) {
	ks.fetchMu.Lock()
	defer ks.fetchMu.Unlock()
	if !ks.Loaded() {
		if _, err := ks.refresh(ctx, false); err != nil {
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

// refresh fetches the set unless the rate limit forbids it and force is
// false, and reports whether it fetched. A rate-limited refresh of a
// loaded set is no error: the caller then finds no new key. The caller
// holds fetchMu.
func (ks *KeySet) refresh(ctx context.Context, force bool) (bool, error) {
	ks.mu.Lock()
	now := ks.now()
	next := ks.nextFetch
	loaded := ks.keys != nil
	ks.mu.Unlock()
	if wait := now.Before(next); wait && !force {
		if loaded {
			return false, nil
		}
		return false, fmt.Errorf("%w: fetch of %q failed recently, next attempt at %s",
			ErrUnavailable, ks.source(), next.Format(time.RFC3339))
	}

	keys, err := ks.fetch(ctx)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if err != nil {
		ks.nextFetch = now.Add(RetryAfterFailedFetch)
		return false, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	ks.keys = keys
	ks.nextFetch = now.Add(ks.refetchInterval)
	return true, nil
}

// documentURL returns the JWKS document's URL, resolving it on first use.
// The caller holds fetchMu.
func (ks *KeySet) documentURL(ctx context.Context) (string, error) {
	if target := ks.source(); target != "" {
		return target, nil
	}
	if ks.resolveURL == nil {
		return "", errors.New("no JWKS URL configured")
	}
	target, err := ks.resolveURL(ctx)
	if err != nil {
		return "", fmt.Errorf("resolve JWKS URL: %w", err)
	}
	if target == "" {
		return "", errors.New("resolve JWKS URL: empty URL")
	}
	ks.mu.Lock()
	ks.url = target
	ks.mu.Unlock()
	return target, nil
}

// fetch downloads the set and keeps its RSA keys that may sign with
// RS256. Keys for encryption or other algorithms are skipped.
func (ks *KeySet) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	target, err := ks.documentURL(ctx)
	if err != nil {
		return nil, err
	}

	// Each key is decoded on its own, so a key of a type or curve go-jose
	// does not know (secp256k1, say) is skipped instead of failing the set.
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := httpx.GetJSON(ctx, ks.client, target, &set); err != nil {
		return nil, err
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
