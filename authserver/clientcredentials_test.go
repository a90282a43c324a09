package authserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

const (
	serviceClientID     = "reports"
	serviceClientSecret = "reports-secret"
)

// newServiceEnv returns a server with the demo clients and the service
// client "reports", which may use the client credentials grant.
func newServiceEnv(t *testing.T) *testEnv {
	return newTestEnv(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{
			ID:         serviceClientID,
			Secret:     serviceClientSecret,
			GrantTypes: []string{oauth.GrantClientCredentials},
			Scopes:     []string{"openid", "reports.read", "reports.write"},
			Audiences:  []string{DemoAudience},
		})
	})
}

func (e *testEnv) serviceClient(scopes ...string) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID:     serviceClientID,
		ClientSecret: serviceClientSecret,
		TokenURL:     e.url + "/token",
		Scopes:       scopes,
	}
}

func TestClientCredentialsWithOAuth2Client(t *testing.T) {
	env := newServiceEnv(t)
	tok, err := env.serviceClient("reports.read").Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.Empty(t, tok.RefreshToken, "RFC 6749 section 4.4.3: no refresh token")
	assert.Equal(t, "reports.read", tok.Extra("scope"))
	assert.Equal(t, float64(3600), tok.Extra("expires_in"))
	assert.Nil(t, tok.Extra("id_token"))

	// 16: introspection names the client as the subject.
	resp := env.introspect(tok.AccessToken, DemoGatewayClientID, DemoGatewaySecret)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	now := env.clock.Now()
	assert.JSONEq(t, `{"active":true,"scope":"reports.read","client_id":"reports","sub":"reports",`+
		`"exp":`+itoa(now.Add(DefaultAccessTokenTTL).Unix())+`,"iat":`+itoa(now.Unix())+
		`,"token_type":"Bearer","iss":"`+env.url+`","aud":["demo-api"]}`, readBody(t, resp))

	// 17: the exchanged JWT carries no user claims.
	resp = env.exchange(tok.AccessToken, DemoAudience)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, claims := verifyJWT(t, env, decodeJSON(t, resp)["access_token"].(string))
	assert.Equal(t, serviceClientID, claims["sub"])
	assert.Equal(t, serviceClientID, claims["client_id"])
	assert.Equal(t, "reports.read", claims["scope"])
	assert.Equal(t, map[string]any{"sub": DemoGatewayClientID}, claims["act"])
	assert.NotContains(t, claims, "email")
	assert.NotContains(t, claims, "name")

	// The client revokes its own token (RFC 7009).
	resp = env.postForm("/revoke", url.Values{"token": {tok.AccessToken}}, serviceClientID, serviceClientSecret, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp = env.introspect(tok.AccessToken, DemoGatewayClientID, DemoGatewaySecret)
	assert.Equal(t, "{\"active\":false}\n", readBody(t, resp))
}

func TestClientCredentialsDefaultScope(t *testing.T) {
	env := newServiceEnv(t)
	tok, err := env.serviceClient().Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "reports.read reports.write", tok.Extra("scope"), "every scope of the client but openid")
}

func TestClientCredentialsRejections(t *testing.T) {
	env := newServiceEnv(t)
	tests := []struct {
		name       string
		form       url.Values
		user, pass string
		wantStatus int
		wantError  string
	}{
		{
			name: "public client", form: url.Values{"client_id": {DemoWebClientID}},
			wantStatus: http.StatusBadRequest, wantError: oauth.ErrUnauthorizedClient,
		},
		{
			name: "confidential client without the grant", user: DemoGatewayClientID, pass: DemoGatewaySecret,
			wantStatus: http.StatusBadRequest, wantError: oauth.ErrUnauthorizedClient,
		},
		{
			name: "wrong secret", user: serviceClientID, pass: "guess",
			wantStatus: http.StatusUnauthorized, wantError: oauth.ErrInvalidClient,
		},
		{
			name: "scope beyond the client's", form: url.Values{"scope": {"reports.read admin"}},
			user: serviceClientID, pass: serviceClientSecret,
			wantStatus: http.StatusBadRequest, wantError: oauth.ErrInvalidScope,
		},
		{
			name: "openid scope", form: url.Values{"scope": {"openid reports.read"}},
			user: serviceClientID, pass: serviceClientSecret,
			wantStatus: http.StatusBadRequest, wantError: oauth.ErrInvalidScope,
		},
		{
			name: "duplicated scope parameter", form: url.Values{"scope": {"reports.read", "reports.write"}},
			user: serviceClientID, pass: serviceClientSecret,
			wantStatus: http.StatusBadRequest, wantError: oauth.ErrInvalidRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"grant_type": {oauth.GrantClientCredentials}}
			for k, v := range tt.form {
				form[k] = v
			}
			resp := env.postForm("/token", form, tt.user, tt.pass, nil)
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, tt.wantError, decodeJSON(t, resp)["error"])
		})
	}
}

func TestClientCredentialsNotTracedAsLoginStep(t *testing.T) {
	env := newServiceEnv(t)
	_, err := env.serviceClient("reports.read").Token(context.Background())
	require.NoError(t, err)
	for _, e := range env.srv.Trace().Events() {
		assert.NotEqual(t, "14c", e.Step, "the grant is no step of the login flow")
	}
}

func TestConfigRejectsPublicClientCredentialsClient(t *testing.T) {
	cfg := Config{
		Issuer:    "http://localhost:9001",
		Upstreams: DemoUpstreams("http://127.0.0.1:9000"),
		Clients:   []Client{{ID: "spa", Public: true, GrantTypes: []string{oauth.GrantClientCredentials}}},
	}
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "client_credentials grant needs a confidential client")
}

func TestTokenExchangeWithOAuth2Client(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	subject := env.seedAccessToken(user.ID, DefaultAccessTokenTTL)

	// x/oauth2's client credentials client lets grant_type be replaced,
	// which makes it an unmodified RFC 8693 client.
	conf := &clientcredentials.Config{
		ClientID:     DemoGatewayClientID,
		ClientSecret: DemoGatewaySecret,
		TokenURL:     env.url + "/token",
		EndpointParams: url.Values{
			"grant_type":         {oauth.GrantTokenExchange},
			"subject_token":      {subject},
			"subject_token_type": {oauth.TokenTypeAccessToken},
			"audience":           {DemoAudience},
		},
	}
	tok, err := conf.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.Equal(t, oauth.TokenTypeAccessToken, tok.Extra("issued_token_type"))
	assert.Equal(t, float64(60), tok.Extra("expires_in"))
	_, claims := verifyJWT(t, env, tok.AccessToken)
	assert.Equal(t, user.ID, claims["sub"])
}

func TestRefreshWithOAuth2TokenSource(t *testing.T) {
	env := newRefreshEnv(t)
	user := env.seedUser("user-1")
	code, verifier := env.seedCode(user.ID, "openid profile email", "")
	conf := &oauth2.Config{
		ClientID:    DemoWebClientID,
		Endpoint:    oauth2.Endpoint{TokenURL: env.url + "/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: testWebApp + "/callback",
	}
	ctx := context.Background()
	first, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	require.NotEmpty(t, first.RefreshToken)

	// A token without an access token makes the source refresh at once.
	second, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, second.AccessToken)
	assert.NotEqual(t, first.RefreshToken, second.RefreshToken, "the refresh token rotates")
	assert.True(t, strings.HasPrefix(second.Extra("id_token").(string), "ey"), "openid scope yields an ID token")

	resp := env.introspect(second.AccessToken, DemoGatewayClientID, DemoGatewaySecret)
	assert.Equal(t, true, decodeJSON(t, resp)["active"])

	// The replaced refresh token is rejected, and the source returns the
	// error.
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
	var retrieveErr *oauth2.RetrieveError
	require.ErrorAs(t, err, &retrieveErr)
	assert.Equal(t, oauth.ErrInvalidGrant, retrieveErr.ErrorCode)
}

func TestMetadataListsClientCredentialsAndConsent(t *testing.T) {
	env := newTestEnv(t, nil)
	var doc struct {
		GrantTypes []string `json:"grant_types_supported"`
		Prompts    []string `json:"prompt_values_supported"`
	}
	require.NoError(t, json.NewDecoder(env.get("/.well-known/openid-configuration").Body).Decode(&doc))
	assert.Contains(t, doc.GrantTypes, oauth.GrantClientCredentials)
	assert.Contains(t, doc.Prompts, "consent")
}
