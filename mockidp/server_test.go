package mockidp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

func TestHealthzAndTrace(t *testing.T) {
	_, ts := startIDP(t, Config{})
	resp, body := newBrowser(t, ts).get(ts.URL + "/healthz")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok\n", body)

	resp, body = newBrowser(t, ts).get(ts.URL + "/_trace")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `"service":"mockidp"`)
}

func TestUnknownIssuerNotFound(t *testing.T) {
	_, ts := startIDP(t, Config{})
	for _, path := range []string{"/nope/.well-known/openid-configuration", "/nope/authorize", "/.well-known/openid-configuration/nope"} {
		resp, _ := newBrowser(t, ts).get(ts.URL + path)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
}

func TestJWKSPublicOnly(t *testing.T) {
	srv, ts := startIDP(t, Config{Issuers: testIssuers(t, "google", "corp")})
	kids := map[string]bool{}
	for _, name := range []string{"google", "corp"} {
		resp, body := newBrowser(t, ts).get(srv.Issuer(name) + "/jwks")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &set))
		require.Len(t, set.Keys, 1)
		key := set.Keys[0]
		assert.Equal(t, "RSA", key["kty"])
		assert.Equal(t, "RS256", key["alg"])
		assert.Equal(t, "sig", key["use"])
		assert.NotEmpty(t, key["kid"])
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			assert.NotContains(t, key, private)
		}
		kids[key["kid"].(string)] = true
	}
	assert.Len(t, kids, 2, "each issuer has its own key")
}

func TestTraceSteps(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	issuer := srv.Issuer("google")
	code, verifier := loginForCode(t, newBrowser(t, ts), issuer, nil)
	token := postToken(t, issuer, codeForm(code, verifier), rpClientID, rpSecret)
	require.Equal(t, http.StatusOK, token.status)
	getUserinfo(t, issuer, token.body["access_token"].(string))

	var steps []string
	byStep := map[string]trace.Event{}
	for _, e := range srv.Trace().Events() {
		steps = append(steps, e.Step)
		byStep[e.Step] = e
	}
	assert.Equal(t, []string{"5b", "6", "7b", "8b", "10a", "10b"}, steps)

	stateFP := trace.Fingerprint("state-123")
	for _, step := range []string{"5b", "6", "7b", "8b"} {
		assert.Equal(t, stateFP, byStep[step].Fingerprints[trace.KeyUpstreamState], step)
	}
	assert.Equal(t, trace.Fingerprint(code), byStep["8b"].Fingerprints[trace.KeyCode])
	assert.Equal(t, trace.Fingerprint(code), byStep["10a"].Fingerprints[trace.KeyCode])
	assert.Equal(t, http.StatusFound, byStep["5b"].Status)
	assert.Equal(t, http.StatusSeeOther, byStep["7b"].Status)
	assert.Equal(t, http.StatusOK, byStep["10b"].Status)

	// The trace never carries the raw values.
	raw, err := json.Marshal(srv.Trace().Events())
	require.NoError(t, err)
	assert.NotContains(t, string(raw), code)
	assert.NotContains(t, string(raw), "state-123")
}

func TestUserinfoErrors(t *testing.T) {
	srv, _ := startIDP(t, Config{})
	issuer := srv.Issuer("google")

	resp := getUserinfo(t, issuer, "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer realm="mockidp"`, resp.Header.Get("WWW-Authenticate"))

	resp = getUserinfo(t, issuer, oauth.NewToken())
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer realm="mockidp", error="invalid_token"`))

	req, err := http.NewRequest(http.MethodGet, issuer+"/userinfo", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic abc")
	res := doJSON(t, req)
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Equal(t, oauth.ErrInvalidRequest, res.body["error"])
}

func TestUserinfoPostAndScopes(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	issuer := srv.Issuer("google")
	code, verifier := loginForCode(t, newBrowser(t, ts), issuer, url.Values{"scope": {"openid email"}})
	token := postToken(t, issuer, codeForm(code, verifier), rpClientID, rpSecret)
	require.Equal(t, http.StatusOK, token.status)

	// RFC 6750 section 2.2: the token may come in the form body.
	res := doJSON(t, newFormRequest(t, issuer+"/userinfo", url.Values{"access_token": {token.body["access_token"].(string)}}))
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "104293871234509876543", res.body["sub"])
	assert.Equal(t, "alice@example.com", res.body["email"])
	assert.Equal(t, true, res.body["email_verified"])
	assert.NotContains(t, res.body, "name", "profile claims need the profile scope")
}
