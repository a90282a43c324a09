package authserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/keys"
)

// loadSigningKeys returns the configured keys, or else the keys saved in
// the store, or else a fresh key that it saves, so that ID tokens and
// exchanged JWTs stay verifiable across restarts.
func (s *Server) loadSigningKeys(ctx context.Context, configured []*keys.Key) (*keys.Set, error) {
	if len(configured) > 0 {
		s.rotation.static = true
		return keys.NewSet(configured...), nil
	}

	saved, err := s.store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("authserver: load signing keys: %w", err)
	}
	var loaded []*keys.Key
	for _, sk := range saved {
		k, err := keys.ParsePEM(sk.PEM)
		if err != nil {
			return nil, fmt.Errorf("authserver: signing key %q: %w", sk.ID, err)
		}
		loaded = append(loaded, k)
	}
	if len(loaded) > 0 {
		// Retired keys are not listed, so the set holds the signing key
		// and the keys whose tokens may still be valid.
		return keys.NewSet(loaded...), nil
	}

	k, err := s.rotation.generate()
	if err != nil {
		return nil, fmt.Errorf("authserver: %w", err)
	}
	err = s.saveSigningKey(ctx, k)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return nil, err
	}
	s.log.Info("signing key generated", "kid", k.ID)
	return keys.NewSet(k), nil
}

// saveSigningKey stores k as created now.
func (s *Server) saveSigningKey(ctx context.Context, k *keys.Key) error {
	pem, err := k.MarshalPEM()
	if err != nil {
		return fmt.Errorf("authserver: %w", err)
	}
	if err := s.store.AddSigningKey(ctx, store.SigningKey{ID: k.ID, PEM: pem, CreatedAt: s.now()}); err != nil {
		return fmt.Errorf("authserver: save signing key: %w", err)
	}
	return nil
}

// publishedKey returns the key with the given ID among those the JWKS
// publishes, or nil.
func (s *Server) publishedKey(kid string) *keys.Key {
	for _, k := range s.keys.Keys() {
		if k.ID == kid {
			return k
		}
	}
	return nil
}
