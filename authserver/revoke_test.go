package authserver

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

func (e *testEnv) revokeAsWeb(token string, header http.Header) *http.Response {
	e.t.Helper()
	return e.postForm("/revoke", url.Values{"token": {token}, "client_id": {DemoWebClientID}}, "", "", header)
}

func TestRevokeAccessToken(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	token := env.seedAccessToken(user.ID, time.Hour)

	resp := env.revokeAsWeb(token, http.Header{"Origin": {testWebApp}})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, testWebApp, resp.Header.Get("Access-Control-Allow-Origin"))

	intro := env.introspect(token, DemoGatewayClientID, DemoGatewaySecret)
	assert.Equal(t, "{\"active\":false}\n", readBody(t, intro))

	// Revoking again, or revoking an unknown token, succeeds (RFC 7009
	// section 2.2).
	assert.Equal(t, http.StatusOK, env.revokeAsWeb(token, nil).StatusCode)
	assert.Equal(t, http.StatusOK, env.revokeAsWeb("no-such-token", nil).StatusCode)
}

func TestRevokeRejectsOtherClients(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	token := env.seedAccessToken(user.ID, time.Hour)

	resp := env.postForm("/revoke", url.Values{"token": {token}}, DemoGatewayClientID, DemoGatewaySecret, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, oauth.ErrUnauthorizedClient, decodeJSON(t, resp)["error"])

	intro := env.introspect(token, DemoGatewayClientID, DemoGatewaySecret)
	assert.Equal(t, true, decodeJSON(t, intro)["active"], "the token still works")

	t.Run("foreign origin", func(t *testing.T) {
		resp := env.revokeAsWeb(token, http.Header{"Origin": {"http://evil.example"}})
		assert.Equal(t, oauth.ErrInvalidRequest, decodeJSON(t, resp)["error"])
	})
	t.Run("no client", func(t *testing.T) {
		resp := env.postForm("/revoke", url.Values{"token": {token}}, "", "", nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
	t.Run("missing token", func(t *testing.T) {
		resp := env.revokeAsWeb("", nil)
		assert.Equal(t, oauth.ErrInvalidRequest, decodeJSON(t, resp)["error"])
	})
}

func TestUserInfo(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	token := env.seedAccessToken(user.ID, time.Hour)

	call := func(authorization string) *http.Response {
		req, err := http.NewRequest(http.MethodGet, env.url+"/userinfo", nil)
		require.NoError(t, err)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}

	resp := call("Bearer " + token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"sub":"user-1","name":"Alice Liddell","given_name":"Alice","family_name":"Liddell",`+
		`"email":"alice@example.com","email_verified":true}`, readBody(t, resp))

	resp = call("")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer realm="oidcstack"`, resp.Header.Get("WWW-Authenticate"))

	resp = call("Bearer not-a-token")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer realm="oidcstack", error="invalid_token"`, resp.Header.Get("WWW-Authenticate"))

	require.NoError(t, env.store.RevokeAccessToken(t.Context(), oauth.HashToken(token)))
	resp = call("Bearer " + token)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "revoked token")
}
