package authserver

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/jwks"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// upstreamIdentity is the user as the upstream provider identified them.
type upstreamIdentity struct {
	subject string
	profile store.Profile
}

// profileClaims are the standard claims read from the ID token and from
// userinfo (OpenID Connect Core section 5.1).
type profileClaims struct {
	Subject    string `json:"sub"`
	Email      string `json:"email"`
	Name       string `json:"name"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	Picture    string `json:"picture"`
	// EmailVerified is a boolean, but some providers send "true".
	EmailVerified any `json:"email_verified"`
}

func (c profileClaims) profile() store.Profile {
	verified := false
	switch v := c.EmailVerified.(type) {
	case bool:
		verified = v
	case string:
		verified, _ = strconv.ParseBool(v)
	}
	return store.Profile{
		Email: c.Email, EmailVerified: verified, Name: c.Name,
		GivenName: c.GivenName, FamilyName: c.FamilyName, Picture: c.Picture,
	}
}

// authenticateUpstream redeems the upstream code and verifies the ID token
// (10a), then calls userinfo when the email or name is missing (10b). When
// the provider cannot be reached, the error is temporarily_unavailable;
// when its response is invalid, the error is server_error.
func (s *Server) authenticateUpstream(r *http.Request, up *upstream, tx *store.Transaction, code string) (*upstreamIdentity, error) {
	s.startStep(r, "10a").Set(trace.KeyUpstreamState, tx.Upstream.State).Set(trace.KeyCode, code)
	ctx := oidc.ClientContext(r.Context(), s.client)
	disc, err := up.discover(ctx, s.client, s.now)
	if err != nil {
		return nil, oauth.Wrap(oauth.ErrTemporarilyUnavailable, "The identity provider is unavailable.", err)
	}

	// The code is bound to our PKCE verifier (RFC 7636 section 4.5).
	token, err := disc.oauth2.Exchange(ctx, code, oauth2.VerifierOption(tx.Upstream.CodeVerifier))
	if err != nil {
		err = fmt.Errorf("redeem upstream code %s: %w", trace.Fingerprint(code), err)
		if unreachable(err) {
			return nil, oauth.Wrap(oauth.ErrTemporarilyUnavailable, "The identity provider is unavailable.", err)
		}
		return nil, oauth.Wrap(oauth.ErrServerError, "The identity provider did not accept the login.", err)
	}
	rawIDToken, ok := token.Extra("id_token").(string)
	if !ok || rawIDToken == "" {
		return nil, oauth.NewError(oauth.ErrServerError, "The identity provider returned no ID token.")
	}

	idToken, err := verifyIDToken(ctx, disc, rawIDToken, idTokenExpectations{
		clientID:    up.cfg.ClientID,
		nonce:       tx.Upstream.Nonce,
		accessToken: token.AccessToken,
		maxAge:      tx.MaxAge,
		now:         s.now(),
	})
	if errors.Is(err, jwks.ErrUnavailable) {
		return nil, oauth.Wrap(oauth.ErrTemporarilyUnavailable, "The identity provider is unavailable.", err)
	}
	if err != nil {
		return nil, oauth.Wrap(oauth.ErrServerError, "The identity provider's ID token is invalid.", err)
	}
	var claims profileClaims
	if err := idToken.Claims(&claims); err != nil {
		return nil, oauth.Wrap(oauth.ErrServerError, "The identity provider's ID token is invalid.", err)
	}
	finishStep(r, "id token verified")

	id := &upstreamIdentity{subject: idToken.Subject, profile: claims.profile()}
	if (id.profile.Email == "" || id.profile.Name == "") && disc.provider.UserInfoEndpoint() != "" {
		if err := s.fillFromUserInfo(r, disc, token, id); err != nil {
			return nil, err
		}
	}
	return id, nil
}

// unreachable reports whether a failed token request got no response from
// the provider, or a 5xx status, so that a retry later may succeed.
func unreachable(err error) bool {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return true
	}
	var retrieveErr *oauth2.RetrieveError
	return errors.As(err, &retrieveErr) && retrieveErr.Response != nil && retrieveErr.Response.StatusCode >= 500
}

// fillFromUserInfo completes id with the claims the ID token lacked (10b).
func (s *Server) fillFromUserInfo(r *http.Request, disc *discovered, token *oauth2.Token, id *upstreamIdentity) error {
	s.startStep(r, "10b")
	ctx := oidc.ClientContext(r.Context(), s.client)
	info, err := disc.provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
	if err != nil {
		return oauth.Wrap(oauth.ErrServerError, "The identity provider's user info could not be read.", err)
	}

	// OpenID Connect Core section 5.3.4: the userinfo sub must equal the
	// ID token's, or the response may be about someone else.
	if info.Subject != id.subject {
		return oauth.Wrap(oauth.ErrServerError, "The identity provider's user info is invalid.",
			errors.New("userinfo subject differs from the ID token subject"))
	}

	var claims profileClaims
	if err := info.Claims(&claims); err != nil {
		return oauth.Wrap(oauth.ErrServerError, "The identity provider's user info is invalid.", err)
	}
	fillMissing(&id.profile, claims.profile())
	finishStep(r, "claims completed")
	return nil
}

// fillMissing copies into p the fields of extra that p lacks. The email
// and its verification flag travel together.
func fillMissing(p *store.Profile, extra store.Profile) {
	if p.Email == "" {
		p.Email, p.EmailVerified = extra.Email, extra.EmailVerified
	}
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&p.Name, extra.Name}, {&p.GivenName, extra.GivenName},
		{&p.FamilyName, extra.FamilyName}, {&p.Picture, extra.Picture},
	} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
}
