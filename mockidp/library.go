package mockidp

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/oidcstack/oidcstack/internal/keys"
)

// AddUser adds u to the issuer called issuerName, or replaces the user with
// the same Subject. It fails if u lacks a Subject, Email or Password, or if
// another user has the same email address.
func (s *Server) AddUser(issuerName string, u User) error {
	iss, ok := s.issuers[issuerName]
	if !ok {
		return issuerNotFound(issuerName)
	}
	if u.Subject == "" || u.Email == "" || u.Password == "" {
		return errors.New("mockidp: AddUser needs Subject, Email and Password")
	}
	u.Extra = maps.Clone(u.Extra)

	iss.mu.Lock()
	defer iss.mu.Unlock()
	if owner, ok := iss.emails[strings.ToLower(u.Email)]; ok && owner != u.Subject {
		return fmt.Errorf("mockidp: email %q already belongs to subject %q", u.Email, owner)
	}
	iss.putUser(u)
	return nil
}

// AddClient registers c at the issuer called issuerName, or replaces the
// client with the same ID. It validates c as [Config.Validate] does.
func (s *Server) AddClient(issuerName string, c Client) error {
	iss, ok := s.issuers[issuerName]
	if !ok {
		return issuerNotFound(issuerName)
	}
	if errs := c.validate("mockidp: issuer "+issuerName, 0); len(errs) > 0 {
		return errors.Join(errs...)
	}

	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.clients[c.ID] = cloneClient(c)
	return nil
}

// LoginNext makes the next authorization request of clientID at the issuer
// called issuerName that needs a login log the user with the given subject
// in at once, without the login page. Calls queue up in order. Parallel
// tests that use different client IDs do not race for a queued login.
func (s *Server) LoginNext(issuerName, clientID, subject string) error {
	iss, ok := s.issuers[issuerName]
	if !ok {
		return issuerNotFound(issuerName)
	}
	if _, ok := iss.user(subject); !ok {
		return fmt.Errorf("mockidp: issuer %q has no user with subject %q", issuerName, subject)
	}

	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.queued[clientID] = append(iss.queued[clientID], subject)
	return nil
}

// RotateKey makes k the signing key of the issuer called issuerName. The
// previous keys stay in the JWKS, so tokens they signed still verify.
func (s *Server) RotateKey(issuerName string, k *keys.Key) error {
	iss, ok := s.issuers[issuerName]
	if !ok {
		return issuerNotFound(issuerName)
	}
	if k == nil || k.Private == nil {
		return errors.New("mockidp: RotateKey needs a key")
	}
	iss.keys.Rotate(k)
	s.log.Info("signing key rotated", "issuer", iss.url, "key_id", k.ID)
	return nil
}

// SignClaims signs claims exactly as given with the current key of the
// issuer called issuerName, for tests that need a token no login produces
// (a wrong audience, an expired exp, a missing claim).
func (s *Server) SignClaims(issuerName string, claims map[string]any) (string, error) {
	iss, ok := s.issuers[issuerName]
	if !ok {
		return "", issuerNotFound(issuerName)
	}
	return iss.keys.Sign(claims, "JWT")
}

// IDToken returns an ID token for the user with the given subject at the
// issuer called issuerName, as a login of clientID with scope "openid
// email profile" would yield it now. Claims in override replace or add to
// the standard ones; a nil value removes a claim.
func (s *Server) IDToken(issuerName, clientID, subject string, override map[string]any) (string, error) {
	iss, ok := s.issuers[issuerName]
	if !ok {
		return "", issuerNotFound(issuerName)
	}
	user, ok := iss.user(subject)
	if !ok {
		return "", fmt.Errorf("mockidp: issuer %q has no user with subject %q", issuerName, subject)
	}
	now := s.now()
	claims := idTokenClaims(user, []string{"openid", "email", "profile"}, idTokenParams{
		issuer:   iss.url,
		clientID: clientID,
		authTime: now,
		now:      now,
		ttl:      s.cfg.TokenTTL,
	})
	for name, value := range override {
		if value == nil {
			delete(claims, name)
			continue
		}
		claims[name] = value
	}
	return iss.keys.Sign(claims, "JWT")
}
