package mockidp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// signedIn returns a browser with a session for alice at the google issuer.
func signedIn(t *testing.T, srv *Server, b *browser) {
	t.Helper()
	loc := b.login(authURL(srv.Issuer("google"), nil), "alice@example.com", "alice-password")
	require.NotEmpty(t, loc.Query().Get("code"))
}

// authTimeOf redeems the code of callback and returns the ID token's
// auth_time.
func authTimeOf(t *testing.T, srv *Server, callback *url.URL) int64 {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {callback.Query().Get("code")}, "redirect_uri": {rpRedirectURI}}
	resp := postToken(t, srv.Issuer("google"), form, rpClientID, rpSecret)
	require.Equal(t, http.StatusOK, resp.status, "%v", resp.body)
	n, err := jwtClaims(t, resp.body["id_token"].(string))["auth_time"].(json.Number).Int64()
	require.NoError(t, err)
	return n
}

func TestPromptWithSession(t *testing.T) {
	for _, tc := range []struct {
		name      string
		params    url.Values
		wantLogin bool
	}{
		{"no prompt", nil, false},
		{"prompt none", url.Values{"prompt": {"none"}}, false},
		{"prompt login", url.Values{"prompt": {"login"}}, true},
		{"prompt select account", url.Values{"prompt": {"select_account"}}, true},
		{"max age not reached", url.Values{"max_age": {"600"}}, false},
		{"max age exceeded", url.Values{"max_age": {"60"}}, true},
		{"max age zero", url.Values{"max_age": {"0"}}, true},
		{"login hint of user", url.Values{"login_hint": {"ALICE@example.com"}}, false},
		{"login hint of other user", url.Values{"login_hint": {"bob@example.com"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock()
			srv, ts := startIDP(t, Config{Clock: clock.Now})
			b := newBrowser(t, ts)
			signedIn(t, srv, b)
			loginTime := clock.Now().Unix()
			clock.Advance(5 * time.Minute)

			resp, page := b.get(authURL(srv.Issuer("google"), tc.params))
			if !tc.wantLogin {
				require.Equal(t, http.StatusFound, resp.StatusCode)
				loc, err := resp.Location()
				require.NoError(t, err)
				assert.Equal(t, loginTime, authTimeOf(t, srv, loc), "auth_time is the time of the login")
				return
			}

			require.Equal(t, http.StatusOK, resp.StatusCode)
			username := "alice@example.com"
			if hint := tc.params.Get("login_hint"); hint != "" {
				username = hint
				assert.Contains(t, page, `value="`+hint+`"`)
			}
			password := strings.Split(username, "@")[0] + "-password"
			resp, body := b.submitLogin(page, username, password, ActionLogin)
			require.Equal(t, http.StatusFound, resp.StatusCode, "the fresh login satisfies the request: %s", body)
			loc, err := resp.Location()
			require.NoError(t, err)
			assert.Equal(t, clock.Now().Unix(), authTimeOf(t, srv, loc), "auth_time is the time of the new login")
		})
	}
}

func TestPromptLoginAgainNeedsLogin(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	b := newBrowser(t, ts)
	signedIn(t, srv, b)
	params := url.Values{"prompt": {"login"}}
	b.login(authURL(srv.Issuer("google"), params), "alice@example.com", "alice-password")

	// The fresh login satisfied one request; the same URL needs a login again.
	resp, page := b.get(authURL(srv.Issuer("google"), params))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, page, `name="password"`)
}

func TestFormPostResponseMode(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	b := newBrowser(t, ts)
	signedIn(t, srv, b)

	resp, page := b.get(authURL(srv.Issuer("google"), url.Values{"response_mode": {"form_post"}}))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, rpRedirectURI, formAction(t, page))
	assert.Equal(t, "state-123", formValue(t, page, "state"))
	assert.Equal(t, srv.Issuer("google"), formValue(t, page, "iss"))
	assert.NotEmpty(t, formValue(t, page, "code"))

	// Errors use the requested mode too.
	resp, page = b.get(authURL(srv.Issuer("google"), url.Values{"response_mode": {"form_post"}, "prompt": {"bogus"}}))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, oauth.ErrInvalidRequest, formValue(t, page, "error"))
}

func TestLoginCancel(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	b := newBrowser(t, ts)
	_, page := b.get(authURL(srv.Issuer("google"), nil))
	resp, _ := b.submitLogin(page, "", "", ActionCancel)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := resp.Location()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(loc.String(), rpRedirectURI+"?"), loc.String())
	assert.Equal(t, oauth.ErrAccessDenied, loc.Query().Get("error"))
	assert.Equal(t, "state-123", loc.Query().Get("state"))

	// The canceled login cannot be completed afterwards.
	resp, _ = b.submitLogin(page, "alice@example.com", "alice-password", ActionLogin)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// consentPage opens authURL with a session and returns the consent page.
func consentPage(t *testing.T, b *browser, rawURL string) string {
	t.Helper()
	resp, page := b.get(rawURL)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Request.URL.Path, "/consent")
	assert.Contains(t, page, "alice@example.com")
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	return page
}

func submitConsent(t *testing.T, b *browser, page, action string) *url.URL {
	t.Helper()
	resp, body := b.post(formAction(t, page), url.Values{
		FieldTx:        {formValue(t, page, FieldTx)},
		FieldCSRFToken: {formValue(t, page, FieldCSRFToken)},
		FieldAction:    {action},
	})
	require.Equal(t, http.StatusFound, resp.StatusCode, body)
	loc, err := resp.Location()
	require.NoError(t, err)
	return loc
}

func TestConsentScreen(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	b := newBrowser(t, ts)
	signedIn(t, srv, b)
	consentURL := authURL(srv.Issuer("google"), url.Values{"prompt": {"consent"}})

	loc := submitConsent(t, b, consentPage(t, b, consentURL), ActionAllow)
	assert.NotEmpty(t, loc.Query().Get("code"))

	loc = submitConsent(t, b, consentPage(t, b, consentURL), ActionDeny)
	assert.Equal(t, oauth.ErrAccessDenied, loc.Query().Get("error"))
	assert.Equal(t, "state-123", loc.Query().Get("state"))

	resp, _ := b.get(authURL(srv.Issuer("google"), url.Values{"prompt": {"none consent"}}))
	loc, err := resp.Location()
	require.NoError(t, err)
	assert.Equal(t, oauth.ErrInvalidRequest, loc.Query().Get("error"))
}

func TestRequireConsentOncePerSession(t *testing.T) {
	issuers := testIssuers(t, "google")
	issuers[0].Clients[0].RequireConsent = true
	srv, ts := startIDP(t, Config{Issuers: issuers})
	b := newBrowser(t, ts)
	_, page := b.get(authURL(srv.Issuer("google"), nil))
	resp, _ := b.submitLogin(page, "alice@example.com", "alice-password", ActionLogin)
	require.Equal(t, http.StatusOK, resp.StatusCode, "login leads to the consent page")
	require.Contains(t, resp.Request.URL.Path, "/consent")

	// Before consent, prompt=none gets consent_required.
	noneResp, _ := b.get(authURL(srv.Issuer("google"), url.Values{"prompt": {"none"}}))
	loc, err := noneResp.Location()
	require.NoError(t, err)
	assert.Equal(t, oauth.ErrConsentRequired, loc.Query().Get("error"))

	_, page = b.get(authURL(srv.Issuer("google"), nil))
	loc = submitConsent(t, b, page, ActionAllow)
	assert.NotEmpty(t, loc.Query().Get("code"))

	// The session remembers the consent.
	resp, _ = b.get(authURL(srv.Issuer("google"), url.Values{"prompt": {"none"}}))
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err = resp.Location()
	require.NoError(t, err)
	assert.NotEmpty(t, loc.Query().Get("code"))
}
