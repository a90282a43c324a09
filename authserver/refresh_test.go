package authserver

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// newRefreshEnv returns a server whose demo-web client may use refresh
// tokens.
func newRefreshEnv(t *testing.T) *testEnv {
	return newTestEnv(t, func(c *Config) {
		c.Clients[0].GrantTypes = []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken}
	})
}

func (e *testEnv) refresh(token, scope string) *http.Response {
	e.t.Helper()
	form := url.Values{"grant_type": {oauth.GrantRefreshToken}, "refresh_token": {token}, "client_id": {DemoWebClientID}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return e.postForm("/token", form, "", "", nil)
}

// firstTokens redeems a fresh code and returns the token response.
func (e *testEnv) firstTokens(userID string) map[string]any {
	e.t.Helper()
	code, verifier := e.seedCode(userID, "openid profile email", "app-nonce")
	resp := e.redeem(code, verifier, nil)
	require.Equal(e.t, http.StatusOK, resp.StatusCode)
	return decodeJSON(e.t, resp)
}

func TestRefreshRotatesToken(t *testing.T) {
	env := newRefreshEnv(t)
	user := env.seedUser("user-1")
	first := env.firstTokens(user.ID)
	require.NotEmpty(t, first["refresh_token"])
	authTime := env.clock.Now().Unix()

	env.clock.Advance(10 * time.Minute)
	resp := env.refresh(first["refresh_token"].(string), "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	second := decodeJSON(t, resp)
	assert.NotEqual(t, first["refresh_token"], second["refresh_token"], "a new refresh token each time")
	assert.NotEqual(t, first["access_token"], second["access_token"])
	assert.Equal(t, "openid profile email", second["scope"])

	// The refreshed ID token keeps auth_time and has no nonce (OpenID
	// Connect Core section 12.2).
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, env.url)
	require.NoError(t, err)
	idToken, err := provider.Verifier(&oidc.Config{ClientID: DemoWebClientID, Now: env.clock.Now}).Verify(ctx, second["id_token"].(string))
	require.NoError(t, err)
	assert.Empty(t, idToken.Nonce)
	var claims struct {
		AuthTime int64 `json:"auth_time"`
	}
	require.NoError(t, idToken.Claims(&claims))
	assert.Equal(t, authTime, claims.AuthTime)

	// A narrower scope is allowed, a wider one is not.
	resp = env.refresh(second["refresh_token"].(string), "openid")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	third := decodeJSON(t, resp)
	assert.Equal(t, "openid", third["scope"])
	resp = env.refresh(third["refresh_token"].(string), "openid admin")
	assert.Equal(t, oauth.ErrInvalidScope, decodeJSON(t, resp)["error"])
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	env := newRefreshEnv(t)
	user := env.seedUser("user-1")
	first := env.firstTokens(user.ID)
	resp := env.refresh(first["refresh_token"].(string), "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	second := decodeJSON(t, resp)

	// The first refresh token is used again: one copy was stolen.
	resp = env.refresh(first["refresh_token"].(string), "")
	assert.Equal(t, oauth.ErrInvalidGrant, decodeJSON(t, resp)["error"])

	for name, token := range map[string]string{
		"first access token": first["access_token"].(string), "second access token": second["access_token"].(string),
	} {
		intro := env.introspect(token, DemoGatewayClientID, DemoGatewaySecret)
		assert.Equal(t, "{\"active\":false}\n", readBody(t, intro), name)
	}
	resp = env.refresh(second["refresh_token"].(string), "")
	assert.Equal(t, oauth.ErrInvalidGrant, decodeJSON(t, resp)["error"], "the newest refresh token is revoked too")
}

func TestRefreshRejections(t *testing.T) {
	env := newRefreshEnv(t)
	user := env.seedUser("user-1")

	t.Run("unknown token", func(t *testing.T) {
		assert.Equal(t, oauth.ErrInvalidGrant, decodeJSON(t, env.refresh("unknown", ""))["error"])
	})
	t.Run("expired token", func(t *testing.T) {
		first := env.firstTokens(user.ID)
		env.clock.Advance(DefaultRefreshTokenTTL)
		assert.Equal(t, oauth.ErrInvalidGrant, decodeJSON(t, env.refresh(first["refresh_token"].(string), ""))["error"])
	})
	t.Run("revoked grant", func(t *testing.T) {
		first := env.firstTokens(user.ID)
		revoke := env.revokeAsWeb(first["refresh_token"].(string), nil)
		require.Equal(t, http.StatusOK, revoke.StatusCode)
		assert.Equal(t, oauth.ErrInvalidGrant, decodeJSON(t, env.refresh(first["refresh_token"].(string), ""))["error"])
		intro := env.introspect(first["access_token"].(string), DemoGatewayClientID, DemoGatewaySecret)
		assert.Equal(t, "{\"active\":false}\n", readBody(t, intro), "RFC 7009 section 2.1: the grant's access tokens go too")
	})
	t.Run("client without refresh grant", func(t *testing.T) {
		plain := newTestEnv(t, nil)
		first := plain.firstTokens(plain.seedUser("user-1").ID)
		assert.NotContains(t, first, "refresh_token")
		assert.Equal(t, oauth.ErrUnauthorizedClient, decodeJSON(t, plain.refresh("anything", ""))["error"])
	})
}
