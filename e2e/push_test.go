package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/authserver"
	"github.com/oidcstack/oidcstack/internal/stack"
	"github.com/oidcstack/oidcstack/internal/trace"
)

func TestLoginFlowInPushMode(t *testing.T) {
	st := startStack(t, func(o *stack.Options) { o.PushMode = true })

	// The authorization server's first push cycle ends with a
	// state-synced event, which makes the push-mode gateway ready.
	client := &http.Client{Timeout: 5 * time.Second}
	require.Eventually(t, func() bool {
		resp, err := client.Get(st.URLs.Gateway + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "the push-mode gateway becomes ready")

	j := newJourney(t, st)
	j.loginAs("alice@example.com", "alice-password")
	assert.Equal(t, "Alice Liddell", j.text("#user-name"))
	assert.Equal(t, "alice@example.com", j.text("#user-email"))

	ep := j.endpoints()
	hops := j.netlog.Hops()
	require.Equal(t, browserSteps, ep.steps(hops), "browser steps; hops: %+v", hops)

	// The gateway served the call with what the authorization server
	// pushed at 14c: it never introspected or exchanged the token.
	code := trace.Fingerprint(hopParam(t, ep, hops, "13b", "code", true))
	auth := fetchTrace(t, st.URLs.AuthServer)
	redeemed, err := findStep(auth, "14c", trace.KeyCode, code)
	require.NoError(t, err)
	accessToken := redeemed.Fingerprints[trace.KeyAccessToken]
	require.NotEmpty(t, accessToken)
	for _, e := range auth.Events {
		assert.NotContains(t, []string{"16", "17"}, e.Step, "push mode never reaches steps 16 or 17 at the authorization server")
	}

	gw := fetchTrace(t, st.URLs.Gateway)
	pushed, err := findStep(gw, "17", trace.KeyAccessToken, accessToken)
	require.NoError(t, err)
	assert.Equal(t, "jwt from push", pushed.Note)
	forwarded, err := findStep(gw, "18", trace.KeyAccessToken, accessToken)
	require.NoError(t, err)
	jwt := forwarded.Fingerprints[trace.KeyJWT]
	require.NotEmpty(t, jwt)

	api := fetchTrace(t, st.URLs.API)
	_, err = findStep(api, "18", trace.KeyJWT, jwt)
	assert.NoError(t, err, "the demo API verified the pushed JWT")

	// A revocation at the authorization server reaches the gateway by
	// push. Without it, a push-mode gateway would serve the token until
	// it expires an hour later.
	token := j.accessToken()
	require.Equal(t, http.StatusOK, callAPI(t, st, token))
	revoke(t, st, token)
	require.Eventually(t, func() bool { return callAPI(t, st, token) == http.StatusUnauthorized },
		5*time.Second, 20*time.Millisecond, "the pushed revocation ends the token at the gateway")
}

func TestRevocationPushInPullMode(t *testing.T) {
	st := startStack(t, nil)
	j := newJourney(t, st)
	j.loginAs("alice@example.com", "alice-password")
	require.Equal(t, "Alice Liddell", j.text("#user-name"))

	// The page's API call has put the token's result in the gateway's
	// cache, which would keep serving it for the cache window.
	token := j.accessToken()
	require.Equal(t, http.StatusOK, callAPI(t, st, token))
	revoke(t, st, token)

	// The revocation push drops the cached result; the metric shows that
	// the push, not the end of the window, did it.
	require.Eventually(t, func() bool {
		return strings.Contains(fetchText(t, st.URLs.Gateway+"/metrics"), `gateway_cache_evictions_total{reason="revoked"} 1`)
	}, 5*time.Second, 20*time.Millisecond, "the gateway received the revocation")
	assert.Equal(t, http.StatusUnauthorized, callAPI(t, st, token))
}

// accessToken returns the access token the web app's script holds in its
// top-level accessToken variable.
func (j *journey) accessToken() string {
	j.t.Helper()
	obj, err := j.page.Eval(`() => accessToken`)
	require.NoError(j.t, err)
	token := obj.Value.Str()
	require.NotEmpty(j.t, token, "the web app holds an access token")
	return token
}

// callAPI calls the demo API through the gateway with token and returns
// the status.
func callAPI(t *testing.T, st *stack.Stack, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, st.URLs.Gateway+stack.APIPath, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// revoke revokes token at the authorization server (RFC 7009) as the web
// app's client.
func revoke(t *testing.T, st *stack.Stack, token string) {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}, "client_id": {authserver.DemoWebClientID}}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).PostForm(st.URLs.AuthServer+"/revoke", form)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func fetchText(t *testing.T, target string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(target)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}
