package authserver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/keys"
)

// keyCheckInterval is how often the background work checks whether the
// signing key is due for rotation and older keys for retirement.
const keyCheckInterval = time.Minute

// errStaticKeys is returned by RotateKey when Config.SigningKeys is set.
var errStaticKeys = errors.New("authserver: the signing keys are set in Config, so the server does not rotate them")

// keyRotation is the state of signing key rotation. Only keys saved in the
// store rotate. The store records when each key was added and which keys
// are retired, so a restarted server or another replica follows the same
// schedule.
type keyRotation struct {
	// static is set when the keys come from Config.SigningKeys.
	static   bool
	period   time.Duration
	generate func() (*keys.Key, error)
	// mu serializes rotation checks, so two of them never rotate twice.
	mu   sync.Mutex
	stop func()
}

func newKeyRotation(cfg Config) *keyRotation {
	r := &keyRotation{period: cfg.KeyRotation, generate: cfg.GenerateKey}
	if r.generate == nil {
		r.generate = keys.Generate
	}
	return r
}

// RotateKey makes a newly generated key the signing key and saves it in
// the store. The previous keys stay in the JWKS until every token they
// signed has expired. It fails when Config.SigningKeys is set.
func (s *Server) RotateKey(ctx context.Context) error {
	if s.rotation.static {
		return errStaticKeys
	}
	s.rotation.mu.Lock()
	defer s.rotation.mu.Unlock()
	return s.rotateKey(ctx)
}

// rotateKey does the work of RotateKey. The caller holds rotation.mu.
func (s *Server) rotateKey(ctx context.Context) error {
	k, err := s.rotation.generate()
	if err != nil {
		return fmt.Errorf("authserver: rotate signing key: %w", err)
	}
	if err := s.saveSigningKey(ctx, k); err != nil {
		return err
	}
	previous := s.keys.Signing().ID
	// NOTE: the new key signs at once, so a verifier holding a cached
	// JWKS must refetch it on an unknown kid, as go-oidc does.
	s.keys.Rotate(k)
	s.log.Info("signing key rotated", "kid", k.ID, "previous_kid", previous)
	return nil
}

// signedTokenTTL is the longest lifetime of a token signed with a signing
// key: an ID token lives AccessTokenTTL, an exchanged JWT at most
// ExchangedTokenTTL.
func (s *Server) signedTokenTTL() time.Duration {
	return max(s.accessTTL, s.exchangedTTL)
}

// maintainKeys rotates the signing key once it is KeyRotation old, and
// retires each older key whose signed tokens have all expired: it leaves
// the JWKS and is marked retired in the store.
func (s *Server) maintainKeys(ctx context.Context) error {
	if s.rotation.static {
		return nil
	}
	s.rotation.mu.Lock()
	defer s.rotation.mu.Unlock()

	saved, err := s.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("authserver: list signing keys: %w", err)
	}
	now := s.now()
	var errs []error
	if err := s.adoptNewestKey(saved); err != nil {
		errs = append(errs, err)
	}
	if p := s.rotation.period; p > 0 && len(saved) > 0 && !now.Before(saved[0].CreatedAt.Add(p)) {
		errs = append(errs, s.rotateKey(ctx))
	}

	// Key i stopped signing when key i-1 was added, so its last token
	// expires signedTokenTTL after that.
	ttl := s.signedTokenTTL()
	for i := 1; i < len(saved); i++ {
		if now.Before(saved[i-1].CreatedAt.Add(ttl)) {
			continue
		}
		id := saved[i].ID
		err := s.store.RetireSigningKey(ctx, id, now)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, fmt.Errorf("authserver: retire signing key %q: %w", id, err))
			continue
		}
		// ErrNotFound means another server sharing the store retired it.
		s.keys.Retire(id)
		s.log.Info("signing key retired", "kid", id)
	}

	// A key that is published here but no longer listed was retired by
	// another server. Retire never removes the signing key.
	listed := make(map[string]bool, len(saved))
	for _, sk := range saved {
		listed[sk.ID] = true
	}
	for _, k := range s.keys.Keys() {
		if !listed[k.ID] && s.keys.Retire(k.ID) {
			s.log.Info("signing key retired by another server", "kid", k.ID)
		}
	}
	return errors.Join(errs...)
}

// adoptNewestKey makes the newest saved key the signing key when another
// server sharing the store added it, so within keyCheckInterval all of
// them sign with the same key.
func (s *Server) adoptNewestKey(saved []store.SigningKey) error {
	if len(saved) == 0 {
		return nil
	}
	newest := saved[0]
	for _, k := range s.keys.Keys() {
		if k.ID == newest.ID {
			return nil
		}
	}
	k, err := keys.ParsePEM(newest.PEM)
	if err != nil {
		return fmt.Errorf("authserver: signing key %q: %w", newest.ID, err)
	}
	s.keys.Rotate(k)
	s.log.Info("signing key of another server adopted", "kid", k.ID)
	return nil
}

// startKeyRotation checks the keys once now, so a restart retires keys
// that became due while the server was down, and then every
// keyCheckInterval until Close. The checks read the injected clock.
func (s *Server) startKeyRotation(ctx context.Context) {
	if s.rotation.static {
		return
	}
	if err := s.maintainKeys(ctx); err != nil {
		s.log.Warn("signing key rotation failed", "err", err)
	}

	s.rotation.stop = runEvery(keyCheckInterval, func(ctx context.Context) {
		if err := s.maintainKeys(ctx); err != nil {
			s.log.Warn("signing key rotation failed", "err", err)
		}
	})
}

// stopKeyRotation stops the background checks. It is safe to call more
// than once.
func (s *Server) stopKeyRotation() {
	if s.rotation != nil && s.rotation.stop != nil {
		s.rotation.stop()
		s.rotation.stop = nil
	}
}
