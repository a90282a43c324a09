package mockidp

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertLoggedOut checks that the browser has no session at google: an
// authorization request shows the login page.
func assertLoggedOut(t *testing.T, srv *Server, b *browser) {
	t.Helper()
	resp, page := b.get(authURL(srv.Issuer("google"), nil))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, page, `name="password"`)
}

func TestLogoutWithIDTokenHint(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	b := newBrowser(t, ts)
	tokens := offlineTokens(t, srv, b, nil)

	q := url.Values{
		"id_token_hint":            {tokens.body["id_token"].(string)},
		"post_logout_redirect_uri": {rpLogoutURI},
		"state":                    {"bye"},
	}
	resp, _ := b.get(srv.Issuer("google") + "/logout?" + q.Encode())
	require.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, rpLogoutURI+"?state=bye", resp.Header.Get("Location"))
	assertLoggedOut(t, srv, b)
}

func TestLogoutRejectsUnregisteredURI(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	b := newBrowser(t, ts)
	tokens := offlineTokens(t, srv, b, nil)
	for _, tc := range []struct {
		name  string
		query url.Values
	}{
		{"unregistered uri", url.Values{"id_token_hint": {tokens.body["id_token"].(string)}, "post_logout_redirect_uri": {rpLogoutURI + "/x"}}},
		{"redirect uri not post-logout", url.Values{"client_id": {rpClientID}, "post_logout_redirect_uri": {rpRedirectURI}}},
		{"uri without client", url.Values{"post_logout_redirect_uri": {rpLogoutURI}}},
		{"client mismatch", url.Values{"id_token_hint": {tokens.body["id_token"].(string)}, "client_id": {spaClientID}}},
		{"forged hint", url.Values{"id_token_hint": {"a.b.c"}, "post_logout_redirect_uri": {rpLogoutURI}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := b.get(srv.Issuer("google") + "/logout?" + tc.query.Encode())
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Location"))
			assert.Contains(t, body, `role="alert"`)
		})
	}

	// The session survives rejected requests.
	resp, _ := b.get(authURL(srv.Issuer("google"), nil))
	assert.Equal(t, http.StatusFound, resp.StatusCode)
}

func TestLogoutWithoutHintAsksToConfirm(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	b := newBrowser(t, ts)
	signedIn(t, srv, b)
	q := url.Values{"client_id": {rpClientID}, "post_logout_redirect_uri": {rpLogoutURI}, "state": {"s"}}

	resp, page := b.get(srv.Issuer("google") + "/logout?" + q.Encode())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))

	// A forged confirmation (wrong CSRF token) only shows the page again.
	forged := url.Values{"client_id": {rpClientID}, "post_logout_redirect_uri": {rpLogoutURI}, FieldCSRFToken: {"forged"}}
	resp, _ = b.post(formAction(t, page), forged)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = b.get(authURL(srv.Issuer("google"), nil))
	require.Equal(t, http.StatusFound, resp.StatusCode, "still signed in")

	confirm := url.Values{}
	for _, name := range []string{"id_token_hint", "client_id", "post_logout_redirect_uri", "state", FieldCSRFToken} {
		confirm.Set(name, formValue(t, page, name))
	}
	resp, _ = b.post(formAction(t, page), confirm)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, rpLogoutURI+"?state=s", resp.Header.Get("Location"))
	assertLoggedOut(t, srv, b)
}

func TestLogoutWithoutSession(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	resp, body := newBrowser(t, ts).get(srv.Issuer("google") + "/logout")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, "signed out")
}
