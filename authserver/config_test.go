package authserver

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

func validConfig(t *testing.T) Config {
	return Config{
		Issuer:      "http://localhost:9001",
		Clients:     DemoClients("http://localhost:8080"),
		Upstreams:   DemoUpstreams("http://127.0.0.1:9000"),
		SigningKeys: []*keys.Key{keytest.Key(t)},
	}
}

func TestConfigValidateDemo(t *testing.T) {
	assert.NoError(t, validConfig(t).Validate())
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	cfg := Config{
		Issuer: "http://localhost:9001/",
		Clients: []Client{
			{ID: "web", Public: true, Secret: "s", RedirectURIs: []string{"/relative", "http://x/cb#frag"}, WebOrigins: []string{"http://x/"}},
			{ID: "web", Secret: "s", GrantTypes: []string{"password"}},
			{ID: "api"},
		},
		Upstreams:      []Upstream{{ID: "a/b", Issuer: "ftp://idp", Scopes: []string{"email"}}},
		AccessTokenTTL: -time.Second,
		SigningKeys:    []*keys.Key{nil},
	}
	err := cfg.Validate()
	require.Error(t, err)
	for _, want := range []string{
		"issuer: URL \"http://localhost:9001/\" must have no trailing slash",
		`client "web": duplicate ID`,
		"a public client has no secret",
		`redirect URI "/relative" must be absolute`,
		`redirect URI "http://x/cb#frag" must be absolute and without a fragment`,
		`web origin "http://x/" must be scheme://host[:port]`,
		`unsupported grant type "password"`,
		"a confidential client needs a secret",
		"the authorization_code grant needs a redirect URI",
		"ID must be non-empty and URL-safe",
		`URL "ftp://idp" must be http(s)://host`,
		"empty client ID",
		`scopes must include "openid"`,
		"access token TTL is negative",
		"signing key 0: missing key or key ID",
	} {
		assert.ErrorContains(t, err, want)
	}

	_, err = New(cfg)
	assert.ErrorContains(t, err, "authserver: invalid config")
}

func TestConfigValidateNeedsIssuerAndUpstream(t *testing.T) {
	err := Config{}.Validate()
	assert.ErrorContains(t, err, "issuer: empty URL")
	assert.ErrorContains(t, err, "no upstream identity provider configured")
}

func TestNewWithoutStoreUsesMemory(t *testing.T) {
	srv, err := New(validConfig(t))
	require.NoError(t, err)
	require.True(t, srv.ownsStore)
	_, err = srv.store.SigningKeys(context.Background())
	assert.NoError(t, err)
	srv.Close()
	srv.Close()
	_, err = srv.store.SigningKeys(context.Background())
	assert.Error(t, err, "the server closed the store it opened")
}

func TestSweepDeletesExpiredRecords(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	live := env.seedAccessToken(user.ID, 2*time.Hour)
	expired := env.seedAccessToken(user.ID, time.Hour)
	env.clock.Advance(time.Hour + time.Second)

	env.srv.sweep(context.Background())

	_, err := env.store.GetAccessToken(context.Background(), oauth.HashToken(expired))
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = env.store.GetAccessToken(context.Background(), oauth.HashToken(live))
	assert.NoError(t, err)
}
