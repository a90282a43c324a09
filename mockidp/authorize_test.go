package mockidp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

func TestAuthorizeErrorPage(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	for _, tc := range []struct {
		name   string
		params url.Values
	}{
		{"unregistered redirect uri", url.Values{"redirect_uri": {"http://evil.test/callback"}}},
		{"redirect uri with extra path", url.Values{"redirect_uri": {rpRedirectURI + "/x"}}},
		{"missing redirect uri", url.Values{"redirect_uri": nil}},
		{"unknown client", url.Values{"client_id": {"nobody"}}},
		{"missing client", url.Values{"client_id": nil}},
		{"repeated redirect uri", url.Values{"redirect_uri": {rpRedirectURI, rpRedirectURI}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"client_id": {rpClientID}, "redirect_uri": {rpRedirectURI},
				"response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
			for k, v := range tc.params {
				if v == nil {
					q.Del(k)
				} else {
					q[k] = v
				}
			}
			resp, body := newBrowser(t, ts).get(srv.Issuer("google") + "/authorize?" + q.Encode())
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Location"))
			assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
			assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
			assert.Contains(t, body, `role="alert"`)
		})
	}
}

func TestAuthorizeErrorRedirect(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	for _, tc := range []struct {
		name      string
		params    url.Values
		wantError string
	}{
		{"unsupported response type", url.Values{"response_type": {"token"}}, oauth.ErrUnsupportedResponseType},
		{"missing response type", url.Values{"response_type": {""}}, oauth.ErrInvalidRequest},
		{"scope without openid", url.Values{"scope": {"email"}}, oauth.ErrInvalidScope},
		{"unknown scope", url.Values{"scope": {"openid admin"}}, oauth.ErrInvalidScope},
		{"unknown challenge method", url.Values{"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S512"}}, oauth.ErrInvalidRequest},
		{"short challenge", url.Values{"code_challenge": {"abc"}, "code_challenge_method": {"S256"}}, oauth.ErrInvalidRequest},
		{"method without challenge", url.Values{"code_challenge_method": {"S256"}}, oauth.ErrInvalidRequest},
		{"unknown prompt", url.Values{"prompt": {"create"}}, oauth.ErrInvalidRequest},
		{"prompt none with login", url.Values{"prompt": {"none login"}}, oauth.ErrInvalidRequest},
		{"negative max age", url.Values{"max_age": {"-1"}}, oauth.ErrInvalidRequest},
		{"unknown access type", url.Values{"access_type": {"forever"}}, oauth.ErrInvalidRequest},
		{"unknown response mode", url.Values{"response_mode": {"fragment"}}, oauth.ErrInvalidRequest},
		{"request object", url.Values{"request": {"eyJ..."}}, errRequestNotSupported},
		{"repeated scope", url.Values{"scope": {"openid", "openid"}}, oauth.ErrInvalidRequest},
		{"prompt none without session", url.Values{"prompt": {"none"}}, oauth.ErrLoginRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := newBrowser(t, ts).get(authURL(srv.Issuer("google"), tc.params))
			require.Equal(t, http.StatusFound, resp.StatusCode)
			loc, err := resp.Location()
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(loc.String(), rpRedirectURI+"?"), loc.String())
			assert.Equal(t, tc.wantError, loc.Query().Get("error"))
			assert.Equal(t, "state-123", loc.Query().Get("state"))
			assert.Empty(t, loc.Query().Get("code"))
		})
	}
}

func TestPublicClientNeedsPKCE(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	q := url.Values{"client_id": {spaClientID}, "redirect_uri": {spaRedirectURI},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
	resp, _ := newBrowser(t, ts).get(srv.Issuer("google") + "/authorize?" + q.Encode())
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := resp.Location()
	require.NoError(t, err)
	assert.Equal(t, oauth.ErrInvalidRequest, loc.Query().Get("error"))
}

func TestLoginPage(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	b := newBrowser(t, ts)
	resp, page := b.get(authURL(srv.Issuer("google"), url.Values{"login_hint": {"bob@example.com"}}))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, srv.Issuer("google")+"/login", resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+resp.Request.URL.Path)
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	assert.Equal(t, "frame-ancestors 'none'", resp.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Contains(t, page, `value="bob@example.com"`, "login_hint pre-fills the user")
	assert.Contains(t, page, `name="csrf_token"`)

	// A wrong password shows the page again with an error and no session.
	resp, body := b.submitLogin(page, "bob@example.com", "wrong", ActionLogin)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, body, "Wrong email or password.")
	assert.NotContains(t, body, "wrong\"", "the submitted password is not echoed")

	// The same form then succeeds with the right password.
	resp, body = b.submitLogin(body, "bob@example.com", "bob-password", ActionLogin)
	require.Equal(t, http.StatusFound, resp.StatusCode, body)
	loc, err := resp.Location()
	require.NoError(t, err)
	assert.NotEmpty(t, loc.Query().Get("code"))
}

func TestLoginRejectsForgedForm(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(form url.Values)
		// otherBrowser posts the form from a browser without the login
		// cookie, as a login CSRF attack would.
		otherBrowser bool
	}{
		{"wrong csrf token", func(f url.Values) { f.Set(FieldCSRFToken, oauth.NewToken()) }, false},
		{"missing csrf token", func(f url.Values) { f.Del(FieldCSRFToken) }, false},
		{"unknown tx", func(f url.Values) { f.Set(FieldTx, oauth.NewToken()) }, false},
		{"other browser", func(url.Values) {}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, ts := startIDP(t, Config{})
			b := newBrowser(t, ts)
			_, page := b.get(authURL(srv.Issuer("google"), nil))
			form := url.Values{
				FieldTx:        {formValue(t, page, FieldTx)},
				FieldCSRFToken: {formValue(t, page, FieldCSRFToken)},
				FieldUsername:  {"alice@example.com"},
				FieldPassword:  {"alice-password"},
				FieldAction:    {ActionLogin},
			}
			tc.edit(form)
			poster := b
			if tc.otherBrowser {
				poster = newBrowser(t, ts)
			}
			resp, _ := poster.post(formAction(t, page), form)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Location"))
			for _, c := range resp.Cookies() {
				assert.NotEqual(t, sessionCookie, c.Name, "no session after a forged form")
			}
		})
	}
}

func TestLoginAttemptsLimited(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	b := newBrowser(t, ts)
	_, page := b.get(authURL(srv.Issuer("google"), nil))
	for range maxLoginAttempts - 1 {
		resp, body := b.submitLogin(page, "alice@example.com", "wrong", ActionLogin)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		page = body
	}
	resp, _ := b.submitLogin(page, "alice@example.com", "wrong", ActionLogin)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, _ = b.submitLogin(page, "alice@example.com", "alice-password", ActionLogin)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "the pending login is gone")
}

func TestSessionCookie(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	b := newBrowser(t, ts)
	_, page := b.get(authURL(srv.Issuer("google"), nil))
	resp, _ := b.submitLogin(page, "alice@example.com", "alice-password", ActionLogin)
	require.Equal(t, http.StatusFound, resp.StatusCode)

	var session *http.Cookie
	for r := resp; r != nil; r = r.Request.Response {
		for _, c := range r.Cookies() {
			if c.Name == sessionCookie {
				session = c
			}
		}
	}
	require.NotNil(t, session, "login sets %s", sessionCookie)
	assert.True(t, session.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, session.SameSite)
	assert.Equal(t, "/google", session.Path)
	assert.False(t, session.Secure)
}

func TestSessionReusedPerIssuer(t *testing.T) {
	srv, ts := startIDP(t, Config{Issuers: testIssuers(t, "google", "corp")})
	b := newBrowser(t, ts)
	b.login(authURL(srv.Issuer("google"), nil), "alice@example.com", "alice-password")

	// Step 8b: the session at google yields a code at once.
	resp, _ := b.get(authURL(srv.Issuer("google"), nil))
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := resp.Location()
	require.NoError(t, err)
	assert.NotEmpty(t, loc.Query().Get("code"))

	// The corp issuer has its own sessions, so it shows the login page.
	resp, page := b.get(authURL(srv.Issuer("corp"), nil))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, page, `name="password"`)
}
