package e2e

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/go-rod/rod/lib/proto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogoutEndsSessionAndTokens(t *testing.T) {
	st := startStack(t, nil)
	j := newJourney(t, st)
	j.loginAs("alice@example.com", "alice-password")
	require.Equal(t, "Alice Liddell", j.text("#user-name"))
	forgotten := j.accessToken()

	// "Forget the token" only drops the tokens from the page: the
	// authorization server's session stays, so the next login skips its
	// login page and the forgotten token still works.
	j.click("#forget")
	before := len(j.netlog.Hops())
	j.navigateBy("#login")
	require.Equal(t, "Alice Liddell", j.text("#user-name"))
	require.True(t, j.visitedSince(before, st.URLs.AuthServer+"/authorize"))
	assert.False(t, j.visitedSince(before, st.URLs.AuthServer+"/login"), "a session login shows no login page")
	token := j.accessToken()
	require.NotEqual(t, forgotten, token)
	require.Equal(t, http.StatusOK, callAPI(t, st, forgotten))
	idToken, err := j.page.Eval(`() => idToken`)
	require.NoError(t, err)
	require.NotEmpty(t, idToken.Value.Str(), "the script holds the ID token of 14c")

	// The page's API call has put the token's result in the gateway's
	// cache, which would keep serving it for the cache window.
	require.Equal(t, http.StatusOK, callAPI(t, st, token))

	// "Log out" goes to the end_session_endpoint with the ID token as
	// hint, and the authorization server sends the browser straight back.
	before = len(j.netlog.Hops())
	j.navigateBy("#logout")
	assert.Contains(t, j.text("#logged-out"), "You have logged out")
	assert.Equal(t, st.URLs.WebApp+"/", j.page.MustInfo().URL, "the page removed the state from the address bar")

	logoutHop := j.hopTo(before, st.URLs.AuthServer+"/logout")
	require.NotNil(t, logoutHop, "the browser visited the end_session_endpoint")
	assert.Equal(t, http.StatusFound, logoutHop.Status)
	logoutURL, err := url.Parse(logoutHop.URL)
	require.NoError(t, err)
	q := logoutURL.Query()
	assert.Equal(t, idToken.Value.Str(), q.Get("id_token_hint"))
	assert.Equal(t, "demo-web", q.Get("client_id"))
	assert.Equal(t, st.URLs.WebApp+"/", q.Get("post_logout_redirect_uri"))
	assert.Equal(t, st.URLs.WebApp+"/?state="+url.QueryEscape(q.Get("state")), logoutHop.Location)

	// The logout waited for the revocation push, so the gateway refuses
	// both tokens of the session at once: no clock moved, and the cache
	// window has not passed. The metric shows that the push did it.
	assert.Equal(t, http.StatusUnauthorized, callAPI(t, st, token))
	assert.Equal(t, http.StatusUnauthorized, callAPI(t, st, forgotten))
	evicted := metricValue(t, fetchText(t, st.URLs.Gateway+"/metrics"), `gateway_cache_evictions_total{reason="revoked"}`)
	assert.GreaterOrEqual(t, evicted, 1.0, "the pushed revocation dropped the cached result")

	// The session is gone: the next login shows the authorization
	// server's login page again.
	j.click("#login")
	_, err = j.page.Element(`button[name="idp"][value="google"]`)
	require.NoError(t, err, "the login page lists the identity providers")
	assert.True(t, strings.HasPrefix(j.page.MustInfo().URL, st.URLs.AuthServer+"/login"), j.page.MustInfo().URL)
}

// navigateBy clicks selector and waits until the navigation it starts,
// redirects included, has loaded its last page.
func (j *journey) navigateBy(selector string) {
	j.t.Helper()
	wait := j.page.WaitNavigation(proto.PageLifecycleEventNameNetworkAlmostIdle)
	j.click(selector)
	wait()
}

// hopTo returns the first hop from index from on whose URL starts with
// prefix, or nil.
func (j *journey) hopTo(from int, prefix string) *hop {
	hops := j.netlog.Hops()
	for i := from; i < len(hops); i++ {
		if strings.HasPrefix(hops[i].URL, prefix) {
			return &hops[i]
		}
	}
	return nil
}

// metricValue returns the value of series in a Prometheus text exposition,
// or 0 when it is absent.
func metricValue(t *testing.T, exposition, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(exposition, "\n") {
		value, ok := strings.CutPrefix(line, series+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		require.NoError(t, err, "value of %s", series)
		return v
	}
	return 0
}

// visitedSince reports whether a hop from index from on has a URL that
// starts with prefix.
func (j *journey) visitedSince(from int, prefix string) bool {
	return j.hopTo(from, prefix) != nil
}
