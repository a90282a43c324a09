package authserver

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// authorizeQuery returns a valid demo-web authorization request with the
// given parameters replaced.
func authorizeQuery(overrides map[string]string) string {
	q := url.Values{
		"client_id":             {DemoWebClientID},
		"redirect_uri":          {testWebApp + "/callback"},
		"response_type":         {"code"},
		"scope":                 {"openid profile email"},
		"state":                 {"app-state-1"},
		"code_challenge":        {oauth.S256Challenge(oauth.NewToken())},
		"code_challenge_method": {"S256"},
	}
	for k, v := range overrides {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	return "/authorize?" + q.Encode()
}

func TestAuthorizeRejectsUnregisteredRedirectURI(t *testing.T) {
	env := newTestEnv(t, nil)
	tests := []struct {
		name        string
		redirectURI string
	}{
		{"prefix", testWebApp + "/call"},
		{"path suffix", testWebApp + "/callback/evil"},
		{"extra query", testWebApp + "/callback?next=x"},
		{"upper case path", testWebApp + "/Callback"},
		{"upper case host", "http://LOCALHOST:8080/callback"},
		{"trailing slash", testWebApp + "/callback/"},
		{"user info", "http://localhost:8080@evil.example/callback"},
		{"user info in front", "http://evil@localhost:8080/callback"},
		{"encoded dots", testWebApp + "/%2e%2e/callback"},
		{"dot segment", testWebApp + "/x/../callback"},
		{"other port", "http://localhost:8081/callback"},
		{"default port", "http://localhost/callback"},
		{"other scheme", "https://localhost:8080/callback"},
		{"fragment", testWebApp + "/callback#x"},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := authorizeQuery(map[string]string{"redirect_uri": tt.redirectURI})
			if tt.redirectURI == "" {
				path = authorizeQuery(map[string]string{"redirect_uri": ""})
			}
			resp := env.get(path)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Location"), "never redirect to an unregistered URI")
			assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
			assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
			assert.Contains(t, readBody(t, resp), "invalid_request")
		})
	}
}

func TestAuthorizeUnknownClientShowsErrorPage(t *testing.T) {
	env := newTestEnv(t, nil)
	for _, clientID := range []string{"", "unknown", "Demo-Web"} {
		resp := env.get(authorizeQuery(map[string]string{"client_id": clientID}))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, clientID)
		assert.Empty(t, resp.Header.Get("Location"), clientID)
	}

	// A repeated redirect_uri is ambiguous, so it cannot be redirected to.
	resp := env.get(authorizeQuery(nil) + "&redirect_uri=" + url.QueryEscape(testWebApp+"/callback"))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
}

func TestAuthorizeRedirectsErrorsToClient(t *testing.T) {
	env := newTestEnv(t, nil)
	tests := []struct {
		name      string
		overrides map[string]string
		extra     string
		wantCode  string
	}{
		{"missing PKCE for public client", map[string]string{"code_challenge": "", "code_challenge_method": ""}, "", oauth.ErrInvalidRequest},
		{"plain PKCE method", map[string]string{"code_challenge_method": "plain"}, "", oauth.ErrInvalidRequest},
		{"absent PKCE method means plain", map[string]string{"code_challenge_method": ""}, "", oauth.ErrInvalidRequest},
		{"malformed challenge", map[string]string{"code_challenge": "short"}, "", oauth.ErrInvalidRequest},
		{"missing response type", map[string]string{"response_type": ""}, "", oauth.ErrInvalidRequest},
		{"unsupported response type", map[string]string{"response_type": "id_token"}, "", oauth.ErrUnsupportedResponseType},
		{"implicit not enabled", map[string]string{"response_type": "token"}, "", oauth.ErrUnauthorizedClient},
		{"scope not allowed", map[string]string{"scope": "openid admin"}, "", oauth.ErrInvalidScope},
		{"unsupported prompt", map[string]string{"prompt": "select_account"}, "", oauth.ErrInvalidRequest},
		{"negative max_age", map[string]string{"max_age": "-1"}, "", oauth.ErrInvalidRequest},
		{"repeated scope", nil, "&scope=openid", oauth.ErrInvalidRequest},
		{"prompt none without session", map[string]string{"prompt": "none"}, "", oauth.ErrLoginRequired},
		{"form_post response mode", map[string]string{"response_mode": "form_post"}, "", oauth.ErrInvalidRequest},
		{"overlong nonce", map[string]string{"nonce": strings.Repeat("n", 2049)}, "", oauth.ErrInvalidRequest},
		{"request object", map[string]string{"request": "eyJhbGciOiJub25lIn0.e30."}, "", oauth.ErrRequestNotSupported},
		{"request URI", map[string]string{"request_uri": "https://evil.example/r"}, "", oauth.ErrRequestURINotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := env.get(authorizeQuery(tt.overrides) + tt.extra)
			require.Equal(t, http.StatusFound, resp.StatusCode)
			loc, err := url.Parse(resp.Header.Get("Location"))
			require.NoError(t, err)
			assert.Equal(t, testWebApp+"/callback", loc.Scheme+"://"+loc.Host+loc.Path)
			params := loc.Query()
			if tt.overrides["response_type"] == "token" {
				// Implicit grant errors go in the fragment (RFC 6749 section 4.2.2.1).
				params, err = url.ParseQuery(loc.Fragment)
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantCode, params.Get("error"))
			assert.Equal(t, "app-state-1", params.Get("state"))
			assert.Equal(t, env.url, params.Get("iss"))
			assert.Empty(t, resp.Cookies(), "no transaction for a rejected request")
		})
	}
}

func TestAuthorizeStoresTransactionAndRedirectsToLogin(t *testing.T) {
	env := newTestEnv(t, nil)
	resp := env.get(authorizeQuery(map[string]string{"nonce": "app-nonce", "max_age": "300"}))
	require.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, env.url+"/login", resp.Header.Get("Location"))

	var tx *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "authserver_tx" {
			tx = c
		}
	}
	require.NotNil(t, tx, "transaction cookie set")
	assert.True(t, tx.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, tx.SameSite)
	assert.Equal(t, "/", tx.Path)
	assert.False(t, tx.Secure, "plain http issuer")

	stored, err := env.store.GetTransaction(context.Background(), oauth.HashToken(tx.Value))
	require.NoError(t, err, "stored under the hash of the cookie value")
	assert.Equal(t, DemoWebClientID, stored.ClientID)
	assert.Equal(t, "app-state-1", stored.State)
	assert.Equal(t, "app-nonce", stored.Nonce)
	assert.Equal(t, 300, stored.MaxAge)
	assert.Equal(t, "openid profile email", stored.Scope)
	assert.NotEmpty(t, stored.CSRFToken)

	events := env.srv.Trace().Events()
	require.NotEmpty(t, events)
	last := events[len(events)-1]
	assert.Equal(t, "2b", last.Step)
	assert.Equal(t, http.StatusFound, last.Status)
	assert.NotEmpty(t, last.Fingerprints["app_state"])
}

func TestLoginPage(t *testing.T) {
	env := newTestEnv(t, nil)

	t.Run("without transaction", func(t *testing.T) {
		resp := env.get("/login")
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Contains(t, readBody(t, resp), "not found in this browser")
	})

	t.Run("with transaction", func(t *testing.T) {
		authz := env.get(authorizeQuery(nil))
		req, err := http.NewRequest(http.MethodGet, env.url+"/login", nil)
		require.NoError(t, err)
		for _, c := range authz.Cookies() {
			req.AddCookie(c)
		}
		resp, err := noRedirectClient(nil).Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body := readBody(t, resp)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, body, "Log in with Unused")
		assert.Contains(t, body, `name="csrf_token"`)
		assert.Contains(t, body, `action="`+env.url+`/login"`)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	})

	t.Run("post with wrong CSRF token", func(t *testing.T) {
		authz := env.get(authorizeQuery(nil))
		form := url.Values{"idp": {"unused"}, "csrf_token": {"forged"}}
		req, err := http.NewRequest(http.MethodPost, env.url+"/login", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range authz.Cookies() {
			req.AddCookie(c)
		}
		resp, err := noRedirectClient(nil).Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.Empty(t, resp.Header.Get("Location"))
	})
}

func TestAuthorizeAcceptsPost(t *testing.T) {
	env := newTestEnv(t, nil)
	query, err := url.ParseQuery(strings.TrimPrefix(authorizeQuery(nil), "/authorize?"))
	require.NoError(t, err)
	resp := env.postForm("/authorize", query, "", "", nil)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, env.url+"/login", resp.Header.Get("Location"))
}
