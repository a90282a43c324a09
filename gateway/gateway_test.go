package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

func TestGatewayForwardsWithJWT(t *testing.T) {
	g := newTestGateway(t, nil)

	req := apiRequest(http.MethodGet, "/api/me?x=1", "Bearer "+testToken)
	req.Header.Set("Origin", testOrigin)
	req.Header.Set("Cookie", "authserver_session=secret-session")
	req.Header.Set("X-Forwarded-For", "203.0.113.66")
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("Forwarded", "for=203.0.113.66")
	rec := g.do(req)

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"path":"/api/me"}`, rec.Body.String())
	assert.Equal(t, testOrigin, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Empty(t, rec.Header().Values("Set-Cookie"), "upstream cookies must not pass")
	assert.Len(t, rec.Header().Values("Access-Control-Allow-Origin"), 1)

	// Steps 16 and 17 sent exactly the expected forms.
	introspections, exchanges := g.auth.forms()
	require.Len(t, introspections, 1)
	assert.Equal(t, url.Values{"token": {testToken}, "token_type_hint": {"access_token"}}, introspections[0])
	require.Len(t, exchanges, 1)
	assert.Equal(t, url.Values{
		"grant_type":         {oauth.GrantTokenExchange},
		"subject_token":      {testToken},
		"subject_token_type": {oauth.TokenTypeAccessToken},
		"audience":           {testAudience},
	}, exchanges[0])

	// Step 18: the upstream got the JWT and nothing the client could spoof.
	got := g.upstream.received()
	require.Len(t, got, 1)
	up := got[0]
	assert.Equal(t, "Bearer "+g.auth.jwt, up.Header.Get("Authorization"))
	assert.Empty(t, up.Header.Values("Cookie"))
	assert.Equal(t, []string{"127.0.0.1"}, up.Header.Values("X-Forwarded-For"))
	assert.Equal(t, "example.com", up.Header.Get("X-Forwarded-Host"))
	assert.Equal(t, "http", up.Header.Get("X-Forwarded-Proto"))
	assert.Empty(t, up.Header.Get("Forwarded"))
	assert.Equal(t, "/api/me", up.URL.Path)
	assert.Equal(t, "x=1", up.URL.RawQuery)
	assert.Len(t, trace.TraceID(up.Header.Get("traceparent")), 32, "the forwarded call starts a W3C trace")
}

func TestGatewayKeepsCallersTraceparent(t *testing.T) {
	g := newTestGateway(t, nil)
	const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	req := apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken)
	req.Header.Set("traceparent", traceparent)
	rec := g.do(req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	got := g.upstream.received()
	require.Len(t, got, 1)
	assert.Equal(t, traceparent, got[0].Header.Get("traceparent"))
}

func TestGatewayTracesSteps(t *testing.T) {
	g := newTestGateway(t, nil)
	rec := g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))
	require.Equal(t, http.StatusOK, rec.Code)

	tokenFP := trace.Fingerprint(testToken)
	jwtFP := trace.Fingerprint(g.auth.jwt)
	var steps []string
	for _, e := range g.Trace().Events() {
		steps = append(steps, e.Step)
		assert.Equal(t, tokenFP, e.Fingerprints[trace.KeyAccessToken], "step %s", e.Step)
	}
	assert.Equal(t, []string{"15", "16", "17", "18"}, steps)
	events := g.Trace().Events()
	assert.Equal(t, jwtFP, events[2].Fingerprints[trace.KeyJWT])
	assert.Equal(t, jwtFP, events[3].Fingerprints[trace.KeyJWT])
	assert.Equal(t, http.StatusOK, events[3].Status)

	logs := g.logs.String()
	assert.NotContains(t, logs, testToken)
	assert.NotContains(t, logs, g.auth.jwt)
	assert.Contains(t, logs, tokenFP)
}

func TestGatewayMissingToken(t *testing.T) {
	g := newTestGateway(t, nil)
	req := apiRequest(http.MethodGet, "/api/me", "")
	req.Header.Set("Origin", testOrigin)
	rec := g.do(req)

	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, []string{`Bearer realm="oidcstack"`}, rec.Header().Values("WWW-Authenticate"))
	assert.Equal(t, testOrigin, rec.Header().Get("Access-Control-Allow-Origin"), "the script must be able to read the 401")
	introspections, _ := g.auth.calls()
	assert.Zero(t, introspections)
}

func TestGatewayInactiveToken(t *testing.T) {
	g := newTestGateway(t, func(c *Config) { c.Realm = "example" })
	rec := g.do(apiRequest(http.MethodGet, "/api/me", "Bearer unknown-token"))

	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer realm="example", error="invalid_token"`, rec.Header().Get("WWW-Authenticate"))
	assert.Equal(t, oauth.ErrInvalidToken, decodeError(t, rec))
	_, exchanges := g.auth.calls()
	assert.Zero(t, exchanges, "an inactive token must not be exchanged")
	assert.Empty(t, g.upstream.received())
}

func TestGatewayExchangeRefused(t *testing.T) {
	g := newTestGateway(t, nil)
	g.auth.set(func(f *fakeAuthServer) { f.exchangeError = oauth.ErrInvalidGrant })
	rec := g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))

	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer realm="oidcstack", error="invalid_token"`, rec.Header().Get("WWW-Authenticate"))
	assert.Empty(t, g.upstream.received())
}

func TestGatewayAuthServerDown(t *testing.T) {
	g := newTestGateway(t, nil)
	g.auth.srv.Close()
	rec := g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))

	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, oauth.ErrTemporarilyUnavailable, decodeError(t, rec))
	assert.NotContains(t, rec.Body.String(), g.auth.issuer(), "no internals in the body")
	assert.Contains(t, g.logs.String(), "authorization server call failed")
}

func TestGatewayRetriesDiscovery(t *testing.T) {
	g := newTestGateway(t, nil)
	g.auth.set(func(f *fakeAuthServer) { f.metadataStatus = http.StatusInternalServerError })

	rec := g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)

	g.auth.set(func(f *fakeAuthServer) { f.metadataStatus = 0 })
	rec = g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	rec = g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))
	assert.Equal(t, http.StatusOK, rec.Code)
	g.auth.set(func(f *fakeAuthServer) {
		assert.Equal(t, 2, f.metadataCalls, "metadata is kept after the first success")
	})
}

func TestGatewayDiscoveryIssuerMismatch(t *testing.T) {
	g := newTestGateway(t, func(c *Config) { c.AuthServer += "/" })
	rec := g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))

	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Contains(t, g.logs.String(), "does not match configured issuer")
}

func TestGatewayUpstreamDown(t *testing.T) {
	g := newTestGateway(t, nil)
	g.upstream.srv.Close()
	rec := g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))

	assert.Equal(t, http.StatusBadGateway, rec.Code)
	assert.Equal(t, oauth.ErrTemporarilyUnavailable, decodeError(t, rec))
	assert.NotContains(t, rec.Body.String(), "127.0.0.1")
	events := g.Trace().Events()
	assert.Equal(t, http.StatusBadGateway, events[len(events)-1].Status)
}

func TestGatewayUpstreamTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	g := newTestGateway(t, func(c *Config) {
		c.Routes[0].Upstream = slow.URL
		c.UpstreamTimeout = 50 * time.Millisecond
	})

	rec := g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))
	assert.Equal(t, http.StatusGatewayTimeout, rec.Code)
	assert.Equal(t, oauth.ErrTemporarilyUnavailable, decodeError(t, rec))
}

func TestGatewayQueryToken(t *testing.T) {
	t.Run("rejected by default", func(t *testing.T) {
		g := newTestGateway(t, nil)
		rec := g.do(apiRequest(http.MethodGet, "/api/me?access_token="+testToken, ""))
		assert.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Equal(t, `Bearer realm="oidcstack", error="invalid_request"`, rec.Header().Get("WWW-Authenticate"))
		introspections, _ := g.auth.calls()
		assert.Zero(t, introspections)
	})
	t.Run("allowed and removed before forwarding", func(t *testing.T) {
		g := newTestGateway(t, func(c *Config) { c.Routes[0].InsecureAllowQueryToken = true })
		rec := g.do(apiRequest(http.MethodGet, "/api/me?a=1&access_token="+testToken, ""))
		require.Equal(t, http.StatusOK, rec.Code)
		got := g.upstream.received()
		require.Len(t, got, 1)
		assert.Equal(t, "a=1", got[0].URL.RawQuery)
	})
	t.Run("header and query together", func(t *testing.T) {
		g := newTestGateway(t, func(c *Config) { c.Routes[0].InsecureAllowQueryToken = true })
		rec := g.do(apiRequest(http.MethodGet, "/api/me?access_token="+testToken, "Bearer "+testToken))
		assert.Equal(t, http.StatusBadRequest, rec.Code)
	})
}

func TestGatewayServiceEndpoints(t *testing.T) {
	g := newTestGateway(t, nil)

	rec := g.do(apiRequest(http.MethodGet, "/healthz", ""))
	assert.Equal(t, http.StatusOK, rec.Code)

	g.do(apiRequest(http.MethodGet, "/api/me", ""))
	rec = g.do(apiRequest(http.MethodGet, "/_trace", ""))
	require.Equal(t, http.StatusOK, rec.Code)
	var body struct {
		Service string        `json:"service"`
		Events  []trace.Event `json:"events"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, ServiceName, body.Service)
	require.Len(t, body.Events, 1)
	assert.Equal(t, "15", body.Events[0].Step)

	remote := apiRequest(http.MethodGet, "/_trace", "")
	remote.RemoteAddr = "192.0.2.1:4000"
	assert.Equal(t, http.StatusForbidden, g.do(remote).Code)

	assert.Equal(t, http.StatusNotFound, g.do(apiRequest(http.MethodGet, "/other", "Bearer "+testToken)).Code)
}

func TestGatewayLogsAudienceRejection(t *testing.T) {
	// A route whose audience the token was not issued for, as when a
	// service is added to the gateway but not to the client's audiences at
	// the authorization server.
	g := newTestGateway(t, func(c *Config) { c.Routes[0].Audience = "orders-api" })
	rec := g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))

	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`)
	_, exchanges := g.auth.forms()
	assert.Empty(t, exchanges, "no exchange for a token of another audience")
	logs := g.logs.String()
	assert.Contains(t, logs, "token rejected")
	assert.Contains(t, logs, "not issued for this audience")
	assert.Contains(t, logs, "audience=orders-api")
	assert.NotContains(t, logs, testToken, "the log carries the fingerprint, never the token")
}
