package mockidp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFileConfig(t *testing.T) {
	data := []byte(`{
	  "base_url": "http://127.0.0.1:9100",
	  "code_ttl": "30s",
	  "token_ttl": "15m",
	  "users": [{"sub": "1", "email": "ann@example.com", "password": "pw", "email_verified": true,
	             "name": "Ann", "hd": "example.com", "extra": {"groups": ["admins"]}}],
	  "clients": [{"client_id": "app", "client_secret": "s", "redirect_uris": ["http://localhost:8080/cb"]}],
	  "issuers": [
	    {"name": "google"},
	    {"name": "corp", "clients": [{"client_id": "spa", "public": true, "redirect_uris": ["http://localhost:8080/spa"]}]}
	  ]
	}`)
	fc, err := ParseFileConfig(data)
	require.NoError(t, err)
	cfg, err := fc.Config()
	require.NoError(t, err)

	assert.Equal(t, "http://127.0.0.1:9100", cfg.BaseURL)
	assert.Equal(t, 30*time.Second, cfg.CodeTTL)
	assert.Equal(t, 15*time.Minute, cfg.TokenTTL)
	assert.Zero(t, cfg.SessionTTL)
	require.Len(t, cfg.Issuers, 2)

	google := cfg.Issuers[0]
	assert.Equal(t, "google", google.Name)
	require.Len(t, google.Users, 1)
	assert.Equal(t, User{Subject: "1", Email: "ann@example.com", Password: "pw", Name: "Ann", HostedDomain: "example.com",
		EmailVerified: true, Extra: map[string]any{"groups": []any{"admins"}}}, google.Users[0])
	assert.Equal(t, []Client{{ID: "app", Secret: "s", RedirectURIs: []string{"http://localhost:8080/cb"}}}, google.Clients)

	corp := cfg.Issuers[1]
	assert.Equal(t, google.Users, corp.Users, "top-level users apply to every issuer without its own")
	assert.Equal(t, []Client{{ID: "spa", Public: true, RedirectURIs: []string{"http://localhost:8080/spa"}}}, corp.Clients)
}

func TestFileConfigDefaults(t *testing.T) {
	fc, err := ParseFileConfig([]byte(`{"authserver_url": "http://localhost:9555"}`))
	require.NoError(t, err)
	cfg, err := fc.Config()
	require.NoError(t, err)
	require.Len(t, cfg.Issuers, 2)
	for i, name := range []string{"google", "corp"} {
		assert.Equal(t, name, cfg.Issuers[i].Name)
		assert.Equal(t, DemoUsers(), cfg.Issuers[i].Users)
		assert.Equal(t, []Client{DemoClient("http://localhost:9555", name)}, cfg.Issuers[i].Clients)
	}
}

func TestFileConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		data    string
		wantErr string
	}{
		{"unknown field", `{"base_ulr": "http://x"}`, `unknown field "base_ulr"`},
		{"trailing data", `{} {}`, "data after the JSON object"},
		{"not json", `base_url = 1`, "parse config file"},
		{"bad duration", `{"code_ttl": "60"}`, `invalid code_ttl "60"`},
		{"confidential without secret", `{"clients": [{"client_id": "a", "redirect_uris": ["http://a/cb"]}]}`, `confidential client "a" has no Secret`},
		{"duplicate issuer", `{"issuers": [{"name": "g"}, {"name": "g"}]}`, `issuer name "g" is used twice`},
		{"bad base url", `{"base_url": "http://x/path"}`, "must have no path"},
		{"user without password", `{"users": [{"sub": "1", "email": "a@b"}]}`, "has no Password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc, err := ParseFileConfig([]byte(tc.data))
			if err == nil {
				_, err = fc.Config()
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestConfigValidateReportsAll(t *testing.T) {
	err := Config{
		BaseURL:  "ftp://x",
		CodeTTL:  -time.Second,
		Issuers:  []IssuerConfig{{Name: "healthz"}, {Name: "a/b", Clients: []Client{{ID: "c", Public: true, Secret: "s", RedirectURIs: []string{"/relative"}}}}},
		TokenTTL: 0,
	}.Validate()
	require.Error(t, err)
	for _, want := range []string{
		"must use http or https",
		"must not be negative",
		`invalid name "healthz"`,
		`invalid name "a/b"`,
		`public client "c" must have no Secret`,
		`redirect URI "/relative" must be absolute`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}
