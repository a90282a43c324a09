package mockidp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// TestRelyingPartyCodePKCE drives a login with the unmodified go-oidc and
// x/oauth2 clients: discovery, code + PKCE, exchange, ID token
// verification and userinfo.
func TestRelyingPartyCodePKCE(t *testing.T) {
	for _, tc := range []struct {
		name         string
		clientID     string
		secret       string
		redirectURI  string
		authStyle    oauth2.AuthStyle
		issuerName   string
		wantSub      string
		username     string
		password     string
		wantFullName string
	}{
		{"confidential basic", rpClientID, rpSecret, rpRedirectURI, oauth2.AuthStyleInHeader, "google",
			"104293871234509876543", "alice@example.com", "alice-password", "Alice Liddell"},
		{"confidential post", rpClientID, rpSecret, rpRedirectURI, oauth2.AuthStyleInParams, "corp",
			"117654320987612345678", "BOB@example.com", "bob-password", "Bob Marley"},
		{"public client", spaClientID, "", spaRedirectURI, oauth2.AuthStyleInParams, "google",
			"104293871234509876543", "alice@example.com", "alice-password", "Alice Liddell"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, ts := startIDP(t, Config{Issuers: testIssuers(t, tc.issuerName)})
			ctx := context.Background()
			issuer := srv.Issuer(tc.issuerName)

			provider, err := oidc.NewProvider(ctx, issuer)
			require.NoError(t, err)
			conf := oauth2.Config{
				ClientID:     tc.clientID,
				ClientSecret: tc.secret,
				Endpoint:     provider.Endpoint(),
				RedirectURL:  tc.redirectURI,
				Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
			}
			conf.Endpoint.AuthStyle = tc.authStyle

			verifier := oauth2.GenerateVerifier()
			state, nonce := oauth.NewToken(), oauth.NewToken()
			authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))

			callback := newBrowser(t, ts).login(authURL, tc.username, tc.password)
			require.True(t, strings.HasPrefix(callback.String(), tc.redirectURI+"?"), callback.String())
			assert.Equal(t, state, callback.Query().Get("state"))
			assert.Equal(t, issuer, callback.Query().Get("iss"))
			code := callback.Query().Get("code")
			require.NotEmpty(t, code)

			token, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
			require.NoError(t, err)
			assert.Equal(t, "Bearer", token.TokenType)
			rawID, ok := token.Extra("id_token").(string)
			require.True(t, ok, "token response has no id_token")

			idToken, err := provider.Verifier(&oidc.Config{ClientID: tc.clientID}).Verify(ctx, rawID)
			require.NoError(t, err)
			assert.Equal(t, issuer, idToken.Issuer)
			assert.Equal(t, []string{tc.clientID}, idToken.Audience)
			assert.Equal(t, tc.wantSub, idToken.Subject)
			assert.Equal(t, nonce, idToken.Nonce)
			require.NoError(t, idToken.VerifyAccessToken(token.AccessToken))

			var claims struct {
				Email         string `json:"email"`
				EmailVerified bool   `json:"email_verified"`
				Name          string `json:"name"`
				AZP           string `json:"azp"`
			}
			require.NoError(t, idToken.Claims(&claims))
			assert.Equal(t, strings.ToLower(tc.username), claims.Email)
			assert.True(t, claims.EmailVerified)
			assert.Equal(t, tc.wantFullName, claims.Name)
			assert.Equal(t, tc.clientID, claims.AZP)

			info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
			require.NoError(t, err)
			assert.Equal(t, tc.wantSub, info.Subject)
			assert.Equal(t, strings.ToLower(tc.username), info.Email)
			assert.True(t, info.EmailVerified)
		})
	}
}

// TestTokenResponseWireValues checks the exact values a relying party
// receives from the token endpoint.
func TestTokenResponseWireValues(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	issuer := srv.Issuer("google")
	verifier := oauth2.GenerateVerifier()
	callback := newBrowser(t, ts).login(authURL(issuer, url.Values{
		"code_challenge":        {oauth.S256Challenge(verifier)},
		"code_challenge_method": {"S256"},
		"nonce":                 {"n-0S6_WzA2Mj"},
	}), "alice@example.com", "alice-password")

	resp := postToken(t, issuer, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {callback.Query().Get("code")},
		"redirect_uri":  {rpRedirectURI},
		"code_verifier": {verifier},
	}, rpClientID, rpSecret)

	assert.Equal(t, http.StatusOK, resp.status)
	assert.Equal(t, "no-store", resp.header.Get("Cache-Control"))
	assert.Equal(t, "application/json", resp.header.Get("Content-Type"))
	assert.Equal(t, json.Number("3600"), resp.body["expires_in"])
	assert.Equal(t, "Bearer", resp.body["token_type"])
	assert.Equal(t, "openid email profile", resp.body["scope"])
	assert.NotContains(t, resp.body, "refresh_token")

	claims := jwtClaims(t, resp.body["id_token"].(string))
	assert.Equal(t, issuer, claims["iss"])
	assert.Equal(t, rpClientID, claims["aud"])
	assert.Equal(t, rpClientID, claims["azp"])
	assert.Equal(t, "104293871234509876543", claims["sub"])
	assert.Equal(t, "n-0S6_WzA2Mj", claims["nonce"])
	assert.Equal(t, true, claims["email_verified"])
	assert.Equal(t, "Alice", claims["given_name"])
	assert.Equal(t, "Liddell", claims["family_name"])
	assert.Equal(t, "en", claims["locale"])
	assert.Equal(t, accessTokenHash(resp.body["access_token"].(string)), claims["at_hash"])
	iat, err := claims["iat"].(json.Number).Int64()
	require.NoError(t, err)
	exp, err := claims["exp"].(json.Number).Int64()
	require.NoError(t, err)
	assert.Equal(t, int64(3600), exp-iat)
	assert.Contains(t, claims, "auth_time")
	assert.NotContains(t, claims, "hd")
}

// tokenResult is a decoded token endpoint response.
type tokenResult struct {
	status int
	header http.Header
	body   map[string]any
}

// postToken posts form to the issuer's token endpoint, authenticating with
// client_secret_basic when secret is set.
func postToken(t *testing.T, issuer string, form url.Values, clientID, secret string) tokenResult {
	t.Helper()
	req := newFormRequest(t, issuer+"/token", form)
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	return doJSON(t, req)
}
