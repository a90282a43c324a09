package gateway

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

func TestGatewayRequiredScopes(t *testing.T) {
	g, _ := newCachingGateway(t, func(c *Config) {
		c.Routes[0].RequiredScopes = map[string][]string{
			http.MethodGet: {"profile", "email"},
			AnyMethod:      {"profile", "admin"},
		}
	})

	tests := []struct {
		method    string
		status    int
		challenge string
	}{
		{http.MethodGet, http.StatusOK, ""},
		{http.MethodHead, http.StatusOK, ""},
		{http.MethodPost, http.StatusForbidden, `Bearer realm="oidcstack", error="insufficient_scope", scope="profile admin"`},
		{http.MethodDelete, http.StatusForbidden, `Bearer realm="oidcstack", error="insufficient_scope", scope="profile admin"`},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			rec := g.do(apiRequest(tt.method, "/api/me", "Bearer "+testToken))
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.challenge, rec.Header().Get("WWW-Authenticate"))
			if tt.status == http.StatusForbidden {
				assert.Equal(t, oauth.ErrInsufficientScope, decodeError(t, rec))
			}
		})
	}

	// The scope is checked on every request, also when the result comes
	// from the cache.
	introspections, _ := g.auth.calls()
	assert.Equal(t, 1, introspections)
	assert.Len(t, g.upstream.received(), 2, "only GET and HEAD reach the upstream")
}

func TestGatewayScopeCheckedOnCacheHit(t *testing.T) {
	g, _ := newCachingGateway(t, func(c *Config) {
		c.Routes[0].RequiredScopes = map[string][]string{AnyMethod: {"email"}}
		admin := c.Routes[0]
		admin.Prefix = "/admin/"
		admin.RequiredScopes = map[string][]string{AnyMethod: {"admin"}}
		c.Routes = append(c.Routes, admin)
	})
	require.Equal(t, http.StatusOK, g.call(t, testToken))

	// The second route has the same audience, so it shares the cached
	// result but makes its own decision.
	rec := g.do(apiRequest(http.MethodGet, "/admin/users", "Bearer "+testToken))
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Equal(t, `Bearer realm="oidcstack", error="insufficient_scope", scope="admin"`, rec.Header().Get("WWW-Authenticate"))
	introspections, exchanges := g.auth.calls()
	assert.Equal(t, 1, introspections)
	assert.Equal(t, 1, exchanges)
}

func TestMissingScopes(t *testing.T) {
	assert.Empty(t, missingScopes("openid profile email", []string{"email", "openid"}))
	assert.Empty(t, missingScopes("openid", nil))
	assert.Equal(t, []string{"admin"}, missingScopes("openid  profile", []string{"profile", "admin"}))
	assert.Equal(t, []string{"pro"}, missingScopes("profile", []string{"pro"}), "scopes compare whole")
}

func TestConfigValidateScopes(t *testing.T) {
	cfg := validConfig()
	cfg.Routes[0].RequiredScopes = map[string][]string{
		"get":  {"profile"},
		"POST": {"a b", `q"uote`, ""},
	}
	err := cfg.Validate()
	require.Error(t, err)
	assert.ErrorContains(t, err, `method "get"`)
	assert.ErrorContains(t, err, `scope "a b"`)
	assert.ErrorContains(t, err, `scope "q\"uote"`)
	assert.ErrorContains(t, err, `scope ""`)
}
