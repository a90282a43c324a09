package authserver

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/authserver/store"
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
// (10a), then calls userinfo when the email or name is missing (10b).
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
		return nil, oauth.Wrap(oauth.ErrServerError, "The identity provider did not accept the login.",
			fmt.Errorf("redeem upstream code: %w", err))
	}
	rawIDToken, ok := token.Extra("id_token").(string)
	if !ok || rawIDToken == "" {
		return nil, oauth.NewError(oauth.ErrServerError, "The identity provider returned no ID token.")
	}

	// go-oidc checks signature, issuer, audience and expiry (OpenID
	// Connect Core section 3.1.3.7); the nonce is ours to check.
	idToken, err := disc.verifier.Verify(ctx, rawIDToken)
	if err != nil {
		return nil, oauth.Wrap(oauth.ErrServerError, "The identity provider's ID token is invalid.", err)
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(tx.Upstream.Nonce)) != 1 {
		return nil, oauth.Wrap(oauth.ErrServerError, "The identity provider's ID token is invalid.",
			errors.New("ID token nonce does not match the authentication request"))
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
