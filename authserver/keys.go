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
		// TODO: rotate on a schedule and retire keys whose tokens have all
		// expired; until then every stored key stays published.
		return keys.NewSet(loaded...), nil
	}

	k, err := keys.Generate()
	if err != nil {
		return nil, fmt.Errorf("authserver: %w", err)
	}
	pem, err := k.MarshalPEM()
	if err != nil {
		return nil, fmt.Errorf("authserver: %w", err)
	}
	err = s.store.AddSigningKey(ctx, store.SigningKey{ID: k.ID, PEM: pem, CreatedAt: s.now()})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return nil, fmt.Errorf("authserver: save signing key: %w", err)
	}
	s.log.Info("signing key generated", "kid", k.ID)
	return keys.NewSet(k), nil
}
