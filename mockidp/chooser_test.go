package mockidp

import (
	"html"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	accountLink   = regexp.MustCompile(`<li><a href="([^"]+)">([^<]+)</a></li>`)
	usernameValue = regexp.MustCompile(`<input id="username"[^>]* value="([^"]*)"`)
)

// filledUsername returns the value of the login page's email field.
func filledUsername(t *testing.T, page string) string {
	t.Helper()
	m := usernameValue.FindStringSubmatch(page)
	require.NotNil(t, m, "no email field in page:\n%s", page)
	return m[1]
}

func TestLoginPageAccountChooser(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	b := newBrowser(t, ts)

	resp, page := b.get(authURL(srv.Issuer("google"), nil))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, filledUsername(t, page), "no account is filled in before a choice")

	links := accountLink.FindAllStringSubmatch(page, -1)
	require.Len(t, links, 2, "one entry per user:\n%s", page)
	assert.Equal(t, "Alice Liddell (alice@example.com)", links[0][2])
	assert.Equal(t, "Bob Marley (bob@example.com)", links[1][2])

	// Choosing bob fills in his email; the password is still required.
	resp, page = b.get(html.UnescapeString(links[1][1]))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "bob@example.com", filledUsername(t, page))
	resp, _ = b.submitLogin(page, "bob@example.com", "wrong-password", ActionLogin)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "choosing an account is no login")
}

func TestAccountChooserIgnoresUnknownAccount(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	b := newBrowser(t, ts)
	_, page := b.get(authURL(srv.Issuer("google"), nil))
	links := accountLink.FindAllStringSubmatch(page, -1)
	require.NotEmpty(t, links)

	forged := regexp.MustCompile(`account=[^&"]+`).ReplaceAllString(html.UnescapeString(links[0][1]), "account=mallory%40example.com")
	resp, page := b.get(forged)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, filledUsername(t, page), "an unknown account is not echoed into the form")
}
