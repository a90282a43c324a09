package gateway

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"

	"github.com/oidcstack/oidcstack/internal/jwks"
	"github.com/oidcstack/oidcstack/internal/secevent"
)

// newKeySet returns the authorization server's published signing keys,
// found through the jwks_uri of its metadata. The gateway uses them to
// verify pushed SETs and to notice when a key that signed cached JWTs has
// been retired. Unknown kids cause a refetch at most every
// jwks.DefaultRefetchInterval, so a flood of SETs with made-up kids cannot
// become a flood of requests to the authorization server.
func newKeySet(disc *discovery, cfg Config) *jwks.KeySet {
	return jwks.New(jwks.Config{
		ResolveURL: func(ctx context.Context) (string, error) {
			meta, err := disc.metadata(ctx)
			if err != nil {
				return "", err
			}
			if meta.JWKSURI == "" {
				return "", errors.New("gateway: authorization server metadata has no jwks_uri")
			}
			return meta.JWKSURI, nil
		},
		HTTPClient: cfg.HTTPClient,
		Clock:      cfg.Clock,
	})
}

// setSigningKey returns the authorization server's key with the given kid
// for a pushed SET. It implements secevent.KeyFunc: the error wraps
// secevent.ErrKeysUnavailable when the SET could not be checked and a
// retry may succeed.
func (s *Server) setSigningKey(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	key, err := s.keys.Key(ctx, kid)
	switch {
	case err == nil:
		return key, nil
	case errors.Is(err, jwks.ErrRefetchLimited):
		// Not a rejection: the kid may belong to a key the authorization
		// server has just rotated in. The transmitter retries a SET that
		// could not be checked, and the retry finds the key once the
		// interval has passed.
		return nil, fmt.Errorf("%w: %w", secevent.ErrKeysUnavailable, err)
	case errors.Is(err, jwks.ErrUnknownKey):
		return nil, err
	default:
		return nil, fmt.Errorf("%w: %w", secevent.ErrKeysUnavailable, err)
	}
}

// publishedKeyIDs fetches the JWKS now and returns the set of published
// kids.
func (s *Server) publishedKeyIDs(ctx context.Context) (map[string]bool, error) {
	if err := s.keys.Refresh(ctx); err != nil {
		return nil, err
	}
	kids := make(map[string]bool)
	for _, kid := range s.keys.KeyIDs() {
		kids[kid] = true
	}
	return kids, nil
}
