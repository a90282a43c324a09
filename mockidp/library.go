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
// called issuerName that needs a login log in the user whose subject or
// email address is user at once, without the login page. Calls queue up in
// order. Parallel tests that use different client IDs do not race for a
// queued login; tests that share a client use [Server.LoginNextHint].
func (s *Server) LoginNext(issuerName, clientID, user string) error {
	iss, u, err := s.issuerUser(issuerName, user)
	if err != nil {
		return err
	}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.queued[clientID] = append(iss.queued[clientID], u.Subject)
	return nil
}

// LoginNextHint is like [Server.LoginNext] for the next authorization
// request that carries login_hint (compared case-insensitively) instead of
// the next one of a client. A queued hint wins over a queued client login.
func (s *Server) LoginNextHint(issuerName, loginHint, user string) error {
	if loginHint == "" {
		return errors.New("mockidp: LoginNextHint needs a login hint")
	}
	iss, u, err := s.issuerUser(issuerName, user)
	if err != nil {
		return err
	}
	key := strings.ToLower(loginHint)
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.hinted[key] = append(iss.hinted[key], u.Subject)
	return nil
}

// issuerUser returns the issuer called issuerName and its user whose
// subject or email address is user.
func (s *Server) issuerUser(issuerName, user string) (*issuer, User, error) {
	iss, ok := s.issuers[issuerName]
	if !ok {
		return nil, User{}, issuerNotFound(issuerName)
	}
	u, ok := iss.findUser(user)
	if !ok {
		return nil, User{}, fmt.Errorf("mockidp: issuer %q has no user with subject or email %q", issuerName, user)
	}
	return iss, u, nil
}

// RotateKey makes k the signing key of the issuer called issuerName, or a
// newly generated key when k is nil. The previous signing key stays in the
// JWKS for Config.KeyGracePeriod, so tokens it signed still verify.
func (s *Server) RotateKey(issuerName string, k *keys.Key) error {
	iss, ok := s.issuers[issuerName]
	if !ok {
		return issuerNotFound(issuerName)
	}
	if k == nil {
		var err error
		if k, err = s.cfg.GenerateKey(); err != nil {
			return err
		}
	}
	if k.Private == nil {
		return errors.New("mockidp: RotateKey needs a key with its private half")
	}
	iss.rotate(k, s.now().Add(s.cfg.KeyGracePeriod))
	s.log.Info("signing key rotated", "issuer", iss.url, "key_id", k.ID)
	return nil
}

// SigningKeyID returns the kid of the key that signs the tokens of the
// issuer called issuerName, or "" if the server has no such issuer.
func (s *Server) SigningKeyID(issuerName string) string {
	iss, ok := s.issuers[issuerName]
	if !ok {
		return ""
	}
	return iss.keys.Signing().ID
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

// IDToken returns an ID token for the user whose subject or email address
// is subject at the issuer called issuerName, as a login of clientID with
// scope "openid email profile" would yield it now. Claims in override
// replace or add to the standard ones; a nil value removes a claim.
func (s *Server) IDToken(issuerName, clientID, subject string, override map[string]any) (string, error) {
	iss, user, err := s.issuerUser(issuerName, subject)
	if err != nil {
		return "", err
	}
	now := s.now()
	claims := idTokenClaims(user, []string{"openid", "email", "profile"}, idTokenParams{
		issuer:   iss.url,
		clientID: clientID,
		authTime: now,
		now:      now,
		ttl:      s.cfg.TokenTTL,
	})
	applyOverride(claims, override)
	return iss.keys.Sign(claims, "JWT")
}

// applyOverride replaces or adds the claims in override; a nil value
// removes a claim.
func applyOverride(claims, override map[string]any) {
	for name, value := range override {
		if value == nil {
			delete(claims, name)
			continue
		}
		claims[name] = value
	}
}
