package authserver

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

func TestAuthorizeWithSession(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")

	tests := []struct {
		name      string
		authAge   time.Duration
		overrides map[string]string
		// wantLogin means a new login: a redirect to the login page.
		wantLogin bool
		wantError string
	}{
		{"session issues code", time.Minute, nil, false, ""},
		{"prompt none with session", time.Minute, map[string]string{"prompt": "none"}, false, ""},
		{"max_age satisfied", time.Minute, map[string]string{"max_age": "120"}, false, ""},
		{"max_age exceeded", 3 * time.Minute, map[string]string{"max_age": "120"}, true, ""},
		{"max_age zero", time.Second, map[string]string{"max_age": "0"}, true, ""},
		{"huge max_age", time.Minute, map[string]string{"max_age": "9000000000000000000"}, false, ""},
		{"prompt login", time.Minute, map[string]string{"prompt": "login"}, true, ""},
		{"prompt none and max_age exceeded", 3 * time.Minute, map[string]string{"prompt": "none", "max_age": "120"}, false, oauth.ErrLoginRequired},
		{"expired session", DefaultSessionTTL, nil, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cookie := env.seedSession(user.ID, tt.authAge)
			resp := env.getWithCookie(authorizeQuery(tt.overrides), cookie)
			require.Equal(t, http.StatusFound, resp.StatusCode)
			if tt.wantLogin {
				assert.Equal(t, env.url+"/login", resp.Header.Get("Location"))
				return
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			require.NoError(t, err)
			assert.Equal(t, "app-state-1", loc.Query().Get("state"))
			assert.Equal(t, tt.wantError, loc.Query().Get("error"))
			if tt.wantError == "" {
				assert.NotEmpty(t, loc.Query().Get("code"))
			}
		})
	}
}

func TestImplicitGrant(t *testing.T) {
	const redirectURI = "http://localhost:8090/callback"
	env := newTestEnv(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{
			ID: "legacy-web", Public: true, RedirectURIs: []string{redirectURI},
			GrantTypes: []string{oauth.GrantImplicit, oauth.GrantRefreshToken},
			Scopes:     []string{"openid", "profile"}, Audiences: []string{DemoAudience},
		})
	})
	user := env.seedUser("user-1")
	cookie := env.seedSession(user.ID, time.Minute)
	query := url.Values{
		"client_id": {"legacy-web"}, "redirect_uri": {redirectURI}, "response_type": {"token"},
		"scope": {"profile"}, "state": {"legacy-state"},
	}

	resp := env.getWithCookie("/authorize?"+query.Encode(), cookie)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Empty(t, loc.RawQuery, "nothing in the query")
	fragment, err := url.ParseQuery(loc.Fragment)
	require.NoError(t, err)
	assert.Equal(t, "Bearer", fragment.Get("token_type"))
	assert.Equal(t, "3600", fragment.Get("expires_in"))
	assert.Equal(t, "profile", fragment.Get("scope"))
	assert.Equal(t, "legacy-state", fragment.Get("state"))
	assert.False(t, fragment.Has("refresh_token"), "never a refresh token (RFC 6749 section 4.2.2)")

	intro := decodeJSON(t, env.introspect(fragment.Get("access_token"), DemoGatewayClientID, DemoGatewaySecret))
	assert.Equal(t, true, intro["active"])
	assert.Equal(t, "legacy-web", intro["client_id"])

	// The code grant stays off for this client.
	query.Set("response_type", "code")
	resp = env.getWithCookie("/authorize?"+query.Encode(), cookie)
	loc, err = url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, oauth.ErrUnauthorizedClient, loc.Query().Get("error"))
}

func TestSigningKeysPersistAcrossRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "authserver.db")
	openFile := func(c *Config) {
		st, err := store.OpenSQLiteFile(ctx, path)
		require.NoError(t, err)
		c.Store, c.SigningKeys = st, nil
	}

	first := newTestEnv(t, openFile)
	user := first.seedUser("user-1")
	cookie := first.seedSession(user.ID, time.Minute)
	firstKey := first.srv.Keys()[0].ID
	code, verifier := first.seedCode(user.ID, "openid", "")
	resp := first.redeem(code, verifier, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	idToken := decodeJSON(t, resp)["id_token"].(string)
	first.srv.Close()
	require.NoError(t, first.srv.store.Close())

	// The restarted server signs with the same key, so tokens issued
	// before the restart still verify, and the browser's session still
	// works.
	second := newTestEnv(t, openFile)
	t.Cleanup(func() { _ = second.srv.store.Close() })
	require.Len(t, second.srv.Keys(), 1)
	assert.Equal(t, firstKey, second.srv.Keys()[0].ID)
	header, claims := verifyJWT(t, second, idToken)
	assert.Equal(t, firstKey, header.KeyID)
	assert.Equal(t, "user-1", claims["sub"])

	resp = second.getWithCookie(authorizeQuery(nil), cookie)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.NotEmpty(t, loc.Query().Get("code"), "session survived the restart")
}
