package gateway

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validConfig() Config {
	return Config{
		AuthServer:   "http://localhost:9001",
		ClientID:     "gateway",
		ClientSecret: "gateway-demo-secret",
		Routes: []Route{{
			Prefix:         "/api/",
			Upstream:       "http://localhost:8081",
			Audience:       "demo-api",
			AllowedOrigins: []string{"http://localhost:8080"},
		}},
	}
}

func TestConfigValidateAccepts(t *testing.T) {
	require.NoError(t, validConfig().Validate())
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	cfg := Config{
		AuthServer: "localhost:9001",
		Realm:      `a"b`,
		Routes: []Route{
			{Prefix: "api", Upstream: "http://localhost:8081?x=1", AllowedOrigins: []string{"*", "http://localhost:8080/"}},
			{Prefix: "/v1/", Upstream: "http://localhost:8082", Audience: "a"},
			{Prefix: "/v1/", Upstream: "http://localhost:8083", Audience: "b"},
		},
	}
	err := cfg.Validate()
	require.Error(t, err)
	for _, want := range []string{
		"AuthServer", "ClientID is required", "ClientSecret is required", "Realm",
		`route 0: prefix "api"`, "route 0: Upstream", "route 0: Audience is required",
		`allowed origin "*"`, `allowed origin "http://localhost:8080/"`,
		`route 2: duplicate prefix "/v1/"`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "route 1:")
}

func TestConfigValidateRoutePrefix(t *testing.T) {
	for _, prefix := range []string{"", "/", "/api", "api/", "/{x}/", "/healthz/", "/_trace/", "/_push/", "/metrics/", "/readyz/"} {
		t.Run(prefix, func(t *testing.T) {
			cfg := validConfig()
			cfg.Routes[0].Prefix = prefix
			assert.ErrorContains(t, cfg.Validate(), "prefix")
		})
	}
}

func TestConfigValidateModes(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{name: "pull with receiver", edit: func(c *Config) { c.PushAudience = "gateway" }},
		{name: "push without credentials", edit: func(c *Config) {
			c.Mode, c.PushAudience, c.ClientID, c.ClientSecret = ModePush, "gateway", "", ""
		}},
		{name: "push without audience", edit: func(c *Config) { c.Mode = ModePush }, wantErr: "PushAudience is required in push mode"},
		{name: "unknown mode", edit: func(c *Config) { c.Mode = "poll" }, wantErr: `Mode "poll"`},
		{name: "negative max age", edit: func(c *Config) { c.PushMaxAge = -time.Second }, wantErr: "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig()
			tc.edit(&cfg)
			err := cfg.Validate()
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	_, err := New(Config{})
	assert.ErrorContains(t, err, "at least one route")
}
