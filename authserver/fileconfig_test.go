package authserver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

func TestFileConfigConverts(t *testing.T) {
	fc, err := ParseFileConfig([]byte(`{
	  "issuer": "https://auth.example.com",
	  "clients": [
	    {"client_id": "web", "public": true, "redirect_uris": ["https://app.example.com/callback"],
	     "post_logout_redirect_uris": ["https://app.example.com/"],
	     "web_origins": ["https://app.example.com"], "scope": "openid email", "audiences": ["api"],
	     "require_consent": true},
	    {"client_id": "svc", "client_secret": "s", "grant_types": ["client_credentials"], "scope": "api.read"}
	  ],
	  "upstreams": [{"id": "google", "display_name": "Google", "issuer": "https://accounts.google.com",
	                 "client_id": "cid", "client_secret": "cs"}],
	  "access_token_ttl": "15m", "exchanged_token_ttl": "30s", "key_rotation": "720h"
	}`))
	require.NoError(t, err)
	cfg, err := fc.Config()
	require.NoError(t, err)

	assert.Equal(t, "https://auth.example.com", cfg.Issuer)
	assert.Equal(t, 15*time.Minute, cfg.AccessTokenTTL)
	assert.Equal(t, 30*time.Second, cfg.ExchangedTokenTTL)
	assert.Equal(t, 720*time.Hour, cfg.KeyRotation)
	assert.Zero(t, cfg.RefreshTokenTTL, "absent means the default")
	assert.Equal(t, []Client{
		{
			ID: "web", Public: true, RedirectURIs: []string{"https://app.example.com/callback"},
			PostLogoutRedirectURIs: []string{"https://app.example.com/"},
			WebOrigins:             []string{"https://app.example.com"}, Scopes: []string{"openid", "email"},
			Audiences: []string{"api"}, RequireConsent: true,
		},
		{ID: "svc", Secret: "s", GrantTypes: []string{oauth.GrantClientCredentials}, Scopes: []string{"api.read"}},
	}, cfg.Clients)
	require.Len(t, cfg.Upstreams, 1)
	assert.Nil(t, cfg.Upstreams[0].Scopes, "no scope means the default scopes")
	assert.NoError(t, cfg.Validate())
}

func TestFileConfigRejections(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr string
	}{
		{"unknown field", `{"isuer": "https://auth.example.com"}`, `unknown field "isuer"`},
		{"unknown client field", `{"clients": [{"client_id": "a", "secret": "s"}]}`, `unknown field "secret"`},
		{"trailing data", `{} {}`, "data after the JSON object"},
		{"not JSON", `issuer: x`, "parse config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFileConfig([]byte(tt.json))
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}

	t.Run("invalid durations", func(t *testing.T) {
		fc, err := ParseFileConfig([]byte(`{"access_token_ttl": "1 hour", "session_ttl": "5"}`))
		require.NoError(t, err)
		_, err = fc.Config()
		assert.ErrorContains(t, err, `invalid access_token_ttl "1 hour"`)
		assert.ErrorContains(t, err, `invalid session_ttl "5"`, "every invalid duration is reported")
	})
}
