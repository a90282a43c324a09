package authserver

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

// newConsentEnv returns a server whose demo-web client requires consent.
func newConsentEnv(t *testing.T) *testEnv {
	return newTestEnv(t, func(c *Config) { c.Clients[0].RequireConsent = true })
}

// consentBrowser is a cookie-keeping client that does not follow
// redirects, logged in to env as userID.
type consentBrowser struct {
	t      *testing.T
	env    *testEnv
	jar    *cookiejar.Jar
	client *http.Client
}

func (e *testEnv) consentBrowser(userID string) *consentBrowser {
	e.t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	b := &consentBrowser{t: e.t, env: e, jar: jar, client: noRedirectClient(jar)}
	b.setSession(e.seedSession(userID, time.Minute))
	return b
}

func (b *consentBrowser) setSession(cookie *http.Cookie) {
	u, err := url.Parse(b.env.url)
	require.NoError(b.t, err)
	b.jar.SetCookies(u, []*http.Cookie{cookie})
}

func (b *consentBrowser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Get(b.env.url + path)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	return resp, readBody(b.t, resp)
}

func (b *consentBrowser) post(action string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.PostForm(action, form)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	return resp, readBody(b.t, resp)
}

// authorizeToConsent sends an authorization request that must lead to the
// consent page, and returns the page.
func (b *consentBrowser) authorizeToConsent(overrides map[string]string) string {
	b.t.Helper()
	resp, body := b.get(authorizeQuery(overrides))
	require.Equal(b.t, http.StatusFound, resp.StatusCode, body)
	require.Equal(b.t, b.env.url+"/consent", resp.Header.Get("Location"))
	resp, page := b.get("/consent")
	require.Equal(b.t, http.StatusOK, resp.StatusCode, page)
	return page
}

// callbackParams returns the query of a redirect to the web app.
func callbackParams(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, testWebApp+"/callback", loc.Scheme+"://"+loc.Host+loc.Path)
	return loc.Query()
}

func TestConsentAskedOncePerClient(t *testing.T) {
	env := newConsentEnv(t)
	user := env.seedUser("user-1")
	b := env.consentBrowser(user.ID)

	page := b.authorizeToConsent(nil)
	assert.Contains(t, page, "demo-web requests access")
	assert.Contains(t, page, "Your email address (email)")
	action, fields := parsePageForm(t, page)
	assert.Equal(t, env.url+"/consent", action)
	fields.Set("decision", "allow")
	resp, _ := b.post(action, fields)
	params := callbackParams(t, resp)
	assert.Equal(t, "app-state-1", params.Get("state"))
	require.NotEmpty(t, params.Get("code"))

	consent, err := env.store.GetConsent(context.Background(), user.ID, DemoWebClientID)
	require.NoError(t, err)
	assert.Equal(t, "openid profile email", consent.Scope)

	// The second request gets its code at once.
	resp, _ = b.get(authorizeQuery(map[string]string{"state": "second"}))
	params = callbackParams(t, resp)
	assert.Equal(t, "second", params.Get("state"))
	assert.NotEmpty(t, params.Get("code"))

	// prompt=consent shows the page again.
	b.authorizeToConsent(map[string]string{"prompt": "consent"})
}

func TestConsentPageHeaders(t *testing.T) {
	env := newConsentEnv(t)
	b := env.consentBrowser(env.seedUser("user-1").ID)
	b.authorizeToConsent(nil)
	resp, _ := b.get("/consent")
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	assert.Equal(t, "frame-ancestors 'none'", resp.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
}

func TestConsentDenied(t *testing.T) {
	env := newConsentEnv(t)
	user := env.seedUser("user-1")
	b := env.consentBrowser(user.ID)

	action, fields := parsePageForm(t, b.authorizeToConsent(nil))
	fields.Set("decision", "deny")
	resp, _ := b.post(action, fields)
	params := callbackParams(t, resp)
	assert.Equal(t, oauth.ErrAccessDenied, params.Get("error"))
	assert.Equal(t, "app-state-1", params.Get("state"))
	assert.Empty(t, params.Get("code"))

	_, err := env.store.GetConsent(context.Background(), user.ID, DemoWebClientID)
	assert.ErrorIs(t, err, store.ErrNotFound, "a denial is not remembered")
}

func TestConsentPromptForcesPage(t *testing.T) {
	env := newTestEnv(t, nil)
	b := env.consentBrowser(env.seedUser("user-1").ID)

	resp, _ := b.get(authorizeQuery(nil))
	assert.NotEmpty(t, callbackParams(t, resp).Get("code"), "the client requires no consent")

	action, fields := parsePageForm(t, b.authorizeToConsent(map[string]string{"prompt": "consent"}))
	fields.Set("decision", "allow")
	resp, _ = b.post(action, fields)
	assert.NotEmpty(t, callbackParams(t, resp).Get("code"))
}

func TestConsentPromptNone(t *testing.T) {
	env := newConsentEnv(t)
	b := env.consentBrowser(env.seedUser("user-1").ID)
	resp, _ := b.get(authorizeQuery(map[string]string{"prompt": "none"}))
	params := callbackParams(t, resp)
	assert.Equal(t, oauth.ErrConsentRequired, params.Get("error"))
	assert.Empty(t, resp.Cookies(), "no transaction stored")
}

func TestConsentImplicitDenialInFragment(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Clients[0].RequireConsent = true
		c.Clients[0].GrantTypes = []string{oauth.GrantAuthorizationCode, oauth.GrantImplicit}
	})
	b := env.consentBrowser(env.seedUser("user-1").ID)
	action, fields := parsePageForm(t, b.authorizeToConsent(map[string]string{
		"response_type": "token", "code_challenge": "", "code_challenge_method": "",
	}))
	fields.Set("decision", "deny")
	resp, _ := b.post(action, fields)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	params, err := url.ParseQuery(loc.Fragment)
	require.NoError(t, err)
	assert.Equal(t, oauth.ErrAccessDenied, params.Get("error"))
	assert.Empty(t, loc.RawQuery)
}

func TestConsentRejectsBadSubmissions(t *testing.T) {
	env := newConsentEnv(t)
	user := env.seedUser("user-1")
	tests := []struct {
		name string
		// change alters the form or the browser before the submission.
		change       func(b *consentBrowser, form url.Values)
		wantStatus   int
		wantRedirect string
	}{
		{
			name:       "wrong CSRF token",
			change:     func(_ *consentBrowser, form url.Values) { form.Set("csrf_token", oauth.NewToken()) },
			wantStatus: http.StatusForbidden,
		},
		{
			name:       "missing CSRF token",
			change:     func(_ *consentBrowser, form url.Values) { form.Del("csrf_token") },
			wantStatus: http.StatusForbidden,
		},
		{
			name:       "unknown decision",
			change:     func(_ *consentBrowser, form url.Values) { form.Set("decision", "maybe") },
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "session replaced by another user's",
			change: func(b *consentBrowser, _ url.Values) {
				b.setSession(env.seedSession(env.seedUser("user-2").ID, time.Minute))
			},
			wantStatus:   http.StatusFound,
			wantRedirect: oauth.ErrAccessDenied,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := env.consentBrowser(user.ID)
			action, form := parsePageForm(t, b.authorizeToConsent(nil))
			form.Set("decision", "allow")
			tt.change(b, form)
			resp, body := b.post(action, form)
			require.Equal(t, tt.wantStatus, resp.StatusCode, body)
			if tt.wantRedirect != "" {
				assert.Equal(t, tt.wantRedirect, callbackParams(t, resp).Get("error"))
			} else {
				assert.Empty(t, resp.Header.Get("Location"), "no redirect for a forged form")
			}
		})
	}
	_, err := env.store.GetConsent(context.Background(), user.ID, DemoWebClientID)
	assert.ErrorIs(t, err, store.ErrNotFound, "no submission gave consent")
}

func TestConsentSubmittedOnce(t *testing.T) {
	env := newConsentEnv(t)
	b := env.consentBrowser(env.seedUser("user-1").ID)
	action, form := parsePageForm(t, b.authorizeToConsent(nil))
	form.Set("decision", "allow")
	resp, _ := b.post(action, form)
	require.NotEmpty(t, callbackParams(t, resp).Get("code"))

	// The replay finds no transaction: its cookie is gone, and so is the
	// stored request.
	resp, _ = b.post(action, form)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
}

func TestConsentAfterLoginThroughMockIDP(t *testing.T) {
	s := newStack(t, func(c *Config) { c.Clients[0].RequireConsent = true })
	b := newBrowser(t)
	conf := s.webClient()
	verifier := oauth2.GenerateVerifier()

	resp, page := b.get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	resp, page = b.submit(page, url.Values{"idp": {"google"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, page)

	// After the IDP login, the resume leads to the consent page.
	resp, page = b.submit(page, url.Values{"username": {"alice@example.com"}, "password": {"alice-password"}, "action": {"login"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	require.Contains(t, page, "Allow access")
	resp, _ = b.submit(page, url.Values{"decision": {"allow"}})
	params := callbackParams(t, resp)
	assert.Equal(t, "st", params.Get("state"))

	token, err := conf.Exchange(context.Background(), params.Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	assert.NotEmpty(t, token.AccessToken)
}
