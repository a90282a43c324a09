package gateway

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func preflight(origin string) *http.Request {
	req := apiRequest(http.MethodOptions, "/api/me", "")
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodGet)
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	return req
}

func TestGatewayPreflightAllowedOrigin(t *testing.T) {
	g := newTestGateway(t, nil)
	rec := g.do(preflight(testOrigin))

	assert.Equal(t, http.StatusNoContent, rec.Code)
	h := rec.Header()
	assert.Equal(t, testOrigin, h.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "Authorization, Content-Type", h.Get("Access-Control-Allow-Headers"))
	assert.Equal(t, corsAllowMethods, h.Get("Access-Control-Allow-Methods"))
	assert.Equal(t, "600", h.Get("Access-Control-Max-Age"))
	assert.Contains(t, h.Get("Vary"), "Origin")
	assert.Empty(t, h.Values("Access-Control-Allow-Credentials"))
	assert.Empty(t, h.Values("WWW-Authenticate"), "a preflight needs no token")

	introspections, _ := g.auth.calls()
	assert.Zero(t, introspections)
	assert.Empty(t, g.upstream.received(), "the preflight is answered by the gateway")
	events := g.Trace().Events()
	if assert.Len(t, events, 1) {
		assert.Equal(t, "15", events[0].Step)
	}
}

func TestGatewayPreflightForeignOrigin(t *testing.T) {
	g := newTestGateway(t, nil)
	for _, origin := range []string{"http://evil.example", "http://localhost:8081", "null", testOrigin + "/"} {
		t.Run(origin, func(t *testing.T) {
			rec := g.do(preflight(origin))

			assert.Equal(t, http.StatusForbidden, rec.Code)
			for name := range rec.Header() {
				assert.NotContains(t, name, "Access-Control-", "no CORS header for a foreign origin")
			}
		})
	}
}

func TestGatewayActualRequestForeignOrigin(t *testing.T) {
	g := newTestGateway(t, nil)
	req := apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken)
	req.Header.Set("Origin", "http://evil.example")
	rec := g.do(req)

	// The request itself is served, since the token authorizes it, but the
	// browser does not let the foreign page read the response.
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
}

func TestGatewayOptionsWithoutPreflightHeaders(t *testing.T) {
	g := newTestGateway(t, nil)
	req := apiRequest(http.MethodOptions, "/api/me", "")
	req.Header.Set("Origin", testOrigin)
	rec := g.do(req)

	// Without Access-Control-Request-Method this is a plain OPTIONS
	// request, which needs a token like any other.
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer realm="oidcstack"`, rec.Header().Get("WWW-Authenticate"))
}
