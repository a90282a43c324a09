package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/secevent"
)

// rotateAndRetire makes a new key sign at the fake authorization server
// and removes the key that signed its JWT from the JWKS.
func (f *fakeAuthServer) rotateAndRetire(t *testing.T) {
	t.Helper()
	old := f.keys.Signing()
	f.keys.Rotate(keytest.Key(t))
	require.True(t, f.keys.Retire(old.ID))
}

func TestMaintainDropsJWTsOfRetiredKey(t *testing.T) {
	g, _ := newCachingGateway(t, nil)
	require.Equal(t, http.StatusOK, g.call(t, testToken))

	g.maintain(context.Background())
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	introspections, _ := g.auth.calls()
	require.Equal(t, 1, introspections, "the key is still published, so the result stays")

	g.auth.rotateAndRetire(t)
	g.maintain(context.Background())
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	introspections, exchanges := g.auth.calls()
	assert.Equal(t, 2, introspections, "the JWT of the retired key was dropped")
	assert.Equal(t, 2, exchanges)
	assert.Contains(t, g.logs.String(), "jwts of retired signing keys dropped")
}

func TestMaintainKeepsEntriesWhenJWKSUnavailable(t *testing.T) {
	g, _ := newCachingGateway(t, nil)
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	g.auth.rotateAndRetire(t)
	g.auth.set(func(f *fakeAuthServer) { f.jwksStatus = http.StatusServiceUnavailable })

	g.maintain(context.Background())
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	introspections, _ := g.auth.calls()
	assert.Equal(t, 1, introspections, "an unreadable JWKS retires nothing")
}

func TestMaintainRetiresPushedJWTs(t *testing.T) {
	g, clock := newPushGateway(t, ModePush)
	g.push(t, clock.Now(), g.issued(clock.Now().Add(time.Hour), "openid"))
	require.Equal(t, http.StatusOK, g.call(t, testToken))

	g.auth.rotateAndRetire(t)
	g.maintain(context.Background())
	assert.Equal(t, http.StatusServiceUnavailable, g.call(t, testToken),
		"the token is valid but its JWT no longer verifies, until a fresh one is pushed")
}

func TestMaintainSweepsExpiredEntries(t *testing.T) {
	g, clock := newCachingGateway(t, nil)
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	clock.Advance(DefaultCacheWindow)
	g.maintain(context.Background())
	active, inactive := g.cache.len()
	assert.Zero(t, active)
	assert.Zero(t, inactive)
}

func readyz(t *testing.T, g *testGateway) (int, readiness) {
	t.Helper()
	rec := g.do(apiRequest(http.MethodGet, "/readyz", ""))
	var body readiness
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return rec.Code, body
}

func TestReadyzPullMode(t *testing.T) {
	g, clock := newCachingGateway(t, nil)
	g.auth.set(func(f *fakeAuthServer) { f.metadataStatus = http.StatusInternalServerError })

	code, body := readyz(t, g)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.False(t, body.Ready)
	assert.Equal(t, "failed", body.Checks["authserver_metadata"])
	assert.Equal(t, "failed", body.Checks["jwks"])

	g.auth.set(func(f *fakeAuthServer) { f.metadataStatus = 0 })
	// A failed JWKS fetch is retried a second after the failure.
	clock.Advance(time.Second)
	code, body = readyz(t, g)
	assert.Equal(t, http.StatusOK, code)
	assert.True(t, body.Ready)
	assert.Equal(t, ModePull, body.Mode)
	assert.Equal(t, map[string]string{"authserver_metadata": "ok", "jwks": "ok"}, body.Checks)
}

func TestReadyzPushModeWaitsForSync(t *testing.T) {
	g, clock := newPushGateway(t, ModePush)

	code, body := readyz(t, g)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "ok", body.Checks["jwks"])
	assert.Equal(t, "failed", body.Checks["push_state"])

	g.push(t, clock.Now(), secevent.Events{StateSynced: &secevent.StateSynced{}})
	code, body = readyz(t, g)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, map[string]string{"jwks": "ok", "push_state": "ok"}, body.Checks)
	introspections, exchanges := g.auth.calls()
	assert.Zero(t, introspections+exchanges)
}

func TestMetricsExposeSeries(t *testing.T) {
	g, clock := newPushGateway(t, ModePull)
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	require.Equal(t, http.StatusUnauthorized, g.do(apiRequest(http.MethodGet, "/api/me", "")).Code)
	g.push(t, clock.Now(), revoked(testToken))

	rec := g.do(apiRequest(http.MethodGet, "/metrics", ""))
	require.Equal(t, http.StatusOK, rec.Code)
	text := rec.Body.String()
	for _, series := range []string{
		`gateway_requests_total{code="200",route="/api/"} 2`,
		`gateway_requests_total{code="401",route="/api/"} 1`,
		`gateway_cache_hits_total 1`,
		`gateway_cache_misses_total 1`,
		`gateway_cache_evictions_total{reason="revoked"} 1`,
		`gateway_authserver_request_duration_seconds_count{call="introspection"} 1`,
		`gateway_authserver_request_duration_seconds_count{call="token_exchange"} 1`,
		`gateway_upstream_request_duration_seconds_count{route="/api/"} 2`,
		`gateway_push_events_received_total{event="token-revoked",result="applied"} 1`,
		`gateway_push_delay_seconds_count 1`,
	} {
		assert.Contains(t, text, series)
	}
}

func TestMetricsRegistryPerServer(t *testing.T) {
	a, _ := newCachingGateway(t, nil)
	b, _ := newCachingGateway(t, nil)
	require.Equal(t, http.StatusOK, a.call(t, testToken))

	rec := b.do(apiRequest(http.MethodGet, "/metrics", ""))
	assert.Contains(t, rec.Body.String(), "gateway_cache_misses_total 0", "another gateway's requests are not counted")
}
