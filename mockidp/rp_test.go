package mockidp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// Stages at which the reference relying party rejects a login.
const (
	stageAuthorization = "authorization response"
	stageToken         = "token request"
	stageIDToken       = "ID token"
	stageUserinfo      = "userinfo"
)

// rpMaxSkew is how far ahead of the relying party's clock iat may be. It
// matches the leeway go-oidc allows for nbf.
const rpMaxSkew = 5 * time.Minute

// rpError is a login the reference relying party rejected, with the stage
// that rejected it.
type rpError struct {
	stage string
	err   error
}

func (e *rpError) Error() string { return e.stage + ": " + e.err.Error() }
func (e *rpError) Unwrap() error { return e.err }

func reject(stage, format string, args ...any) error {
	return &rpError{stage: stage, err: fmt.Errorf(format, args...)}
}

// referenceRP is a relying party built the way this project's
// authorization server is. It uses go-oidc and x/oauth2 for discovery, the
// code exchange with PKCE and the ID token's signature, issuer, audience,
// exp and nbf. It adds the checks of OpenID Connect Core section 3.1.3.7
// that go-oidc leaves to its caller.
type referenceRP struct {
	issuer   string
	client   *http.Client
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	conf     oauth2.Config
}

// newReferenceRP discovers the issuer and returns a confidential relying
// party whose every HTTP call gives up after timeout.
func newReferenceRP(t *testing.T, issuer string, timeout time.Duration) *referenceRP {
	t.Helper()
	rp := &referenceRP{issuer: issuer, client: &http.Client{Timeout: timeout}}
	provider, err := oidc.NewProvider(rp.context(context.Background()), issuer)
	require.NoError(t, err)
	rp.provider = provider
	rp.verifier = provider.Verifier(&oidc.Config{ClientID: rpClientID, SupportedSigningAlgs: []string{oidc.RS256}})
	rp.conf = oauth2.Config{
		ClientID:     rpClientID,
		ClientSecret: rpSecret,
		Endpoint:     provider.Endpoint(),
		RedirectURL:  rpRedirectURI,
		Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
	}
	return rp
}

// context returns ctx carrying the relying party's HTTP client for go-oidc
// and x/oauth2.
func (rp *referenceRP) context(ctx context.Context) context.Context {
	return context.WithValue(oidc.ClientContext(ctx, rp.client), oauth2.HTTPClient, rp.client)
}

// rpLogin is one login of the reference relying party: the values it
// keeps between the authorization request and the callback.
type rpLogin struct {
	state, nonce, verifier string
	authURL                string
}

func (rp *referenceRP) start() rpLogin {
	l := rpLogin{state: oauth.NewToken(), nonce: oauth.NewToken(), verifier: oauth2.GenerateVerifier()}
	l.authURL = rp.conf.AuthCodeURL(l.state, oauth2.S256ChallengeOption(l.verifier), oidc.Nonce(l.nonce))
	return l
}

// finish handles the callback of login l and returns the user's subject.
// Every check is one step; the first that fails rejects the login.
func (rp *referenceRP) finish(ctx context.Context, l rpLogin, callback *url.URL) (string, error) {
	ctx = rp.context(ctx)
	q := callback.Query()

	// RFC 6749 section 4.1.2.1: an error response ends the login.
	if code := q.Get("error"); code != "" {
		return "", reject(stageAuthorization, "error %q", code)
	}

	// The state must be the one this login sent (RFC 6749 section 10.12).
	if q.Get("state") != l.state {
		return "", reject(stageAuthorization, "state mismatch")
	}

	// RFC 9207: an iss parameter must name the issuer asked.
	if iss := q.Get("iss"); iss != "" && iss != rp.issuer {
		return "", reject(stageAuthorization, "iss %q, want %q", iss, rp.issuer)
	}

	// Redeem the code with the PKCE verifier (step 10a).
	token, err := rp.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(l.verifier))
	if err != nil {
		return "", &rpError{stage: stageToken, err: err}
	}
	rawID, ok := token.Extra("id_token").(string)
	if !ok {
		return "", reject(stageToken, "no id_token in the token response")
	}

	idToken, err := rp.checkIDToken(ctx, rawID, l.nonce, token.AccessToken)
	if err != nil {
		return "", err
	}

	// Core section 5.3.2: the userinfo sub must be the ID token's (10b).
	info, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
	if err != nil {
		return "", &rpError{stage: stageUserinfo, err: err}
	}
	if info.Subject != idToken.Subject {
		return "", reject(stageUserinfo, "sub %q, want %q", info.Subject, idToken.Subject)
	}
	return idToken.Subject, nil
}

// checkIDToken validates an ID token as Core section 3.1.3.7 requires.
func (rp *referenceRP) checkIDToken(ctx context.Context, raw, nonce, accessToken string) (*oidc.IDToken, error) {
	// Steps 1 to 3 and 6 to 9 (go-oidc). The signature must be RS256 by
	// a JWKS key, and an unknown kid refetches the JWKS. iss must be the
	// issuer, aud must contain the client ID, exp must be in the future
	// and nbf at most 5 minutes ahead.
	idToken, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, &rpError{stage: stageIDToken, err: err}
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		return nil, &rpError{stage: stageIDToken, err: err}
	}

	// Core section 2: sub is required and not empty.
	if idToken.Subject == "" {
		return nil, reject(stageIDToken, "sub is missing or empty")
	}

	// Step 10: iat is required and must not lie in the future beyond the
	// allowed skew.
	iat, ok := claims["iat"].(float64)
	if !ok {
		return nil, reject(stageIDToken, "iat is missing")
	}
	if time.Unix(int64(iat), 0).After(time.Now().Add(rpMaxSkew)) {
		return nil, reject(stageIDToken, "iat %v is in the future", iat)
	}

	// Step 4: several audiences need an azp.
	azp, hasAZP := claims["azp"].(string)
	if len(idToken.Audience) > 1 && !hasAZP {
		return nil, reject(stageIDToken, "several audiences and no azp")
	}

	// Step 5: an azp must be this client.
	if hasAZP && azp != rpClientID {
		return nil, reject(stageIDToken, "azp %q, want %q", azp, rpClientID)
	}

	// Step 11: the nonce must be the one this login sent.
	if idToken.Nonce != nonce {
		return nil, reject(stageIDToken, "nonce mismatch")
	}

	// Core section 3.2.2.9: an at_hash must match the access token.
	if idToken.AccessTokenHash != "" {
		if err := idToken.VerifyAccessToken(accessToken); err != nil {
			return nil, &rpError{stage: stageIDToken, err: err}
		}
	}
	return idToken, nil
}

// login runs one login of user through srv.Login, with no browser.
func (rp *referenceRP) login(ctx context.Context, srv *Server, user string) (string, error) {
	l := rp.start()
	callback, err := srv.Login(ctx, l.authURL, user)
	if err != nil {
		return "", err
	}
	return rp.finish(ctx, l, callback)
}
