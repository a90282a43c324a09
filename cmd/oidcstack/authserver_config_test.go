package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/oidcstack/oidcstack/authserver"
)

// authServerConfigFile has its own service client and public client, and
// an upstream that the tests never contact.
const authServerConfigFile = `{
  "clients": [
    {"client_id": "reports", "client_secret": "reports-secret", "grant_types": ["client_credentials"],
     "scope": "reports.read", "audiences": ["reports"]},
    {"client_id": "spa", "public": true, "redirect_uris": ["http://localhost:5555/cb"], "scope": "openid"}
  ],
  "upstreams": [{"id": "corp", "display_name": "Corp File", "issuer": "http://127.0.0.1:1/corp",
                 "client_id": "authserver", "client_secret": "corp-secret"}],
  "access_token_ttl": "5m"
}`

func writeConfigFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authserver.json")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// loginPage starts an authorization request of the "spa" client and
// returns the login page it leads to.
func loginPage(t *testing.T, issuer string) string {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	query := url.Values{
		"client_id": {"spa"}, "redirect_uri": {"http://localhost:5555/cb"}, "response_type": {"code"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
	}
	resp, err := client.Get(issuer + "/authorize?" + query.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	return string(body)
}

func TestAuthServerServesConfigFile(t *testing.T) {
	path := writeConfigFile(t, authServerConfigFile)
	urls, _ := startCommand(t, nil, "authserver", "-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-config", path)
	issuer := urls["authserver"]

	// The file's service client gets a token with the file's lifetime.
	conf := &clientcredentials.Config{ClientID: "reports", ClientSecret: "reports-secret", TokenURL: issuer + "/token"}
	tok, err := conf.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, float64(300), tok.Extra("expires_in"))
	assert.Equal(t, "reports.read", tok.Extra("scope"))

	// The file's clients replace the demo clients.
	form := url.Values{"token": {tok.AccessToken}}
	req, err := http.NewRequest(http.MethodPost, issuer+"/introspect", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(authserver.DemoGatewayClientID, authserver.DemoGatewaySecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the demo gateway client is not registered")

	page := loginPage(t, issuer)
	assert.Contains(t, page, "Log in with Corp File")
	assert.NotContains(t, page, "Google (mock)", "the file's upstreams replace the demo upstreams")
}

func TestAuthServerFlagsOverrideConfigFile(t *testing.T) {
	t.Run("upstream", func(t *testing.T) {
		path := writeConfigFile(t, authServerConfigFile)
		urls, _ := startCommand(t, nil, "authserver", "-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-config", path,
			"-upstream-issuer", "http://127.0.0.1:1/real", "-upstream-client-id", "x", "-upstream-name", "Flag IDP")
		page := loginPage(t, urls["authserver"])
		assert.Contains(t, page, "Log in with Flag IDP")
		assert.NotContains(t, page, "Corp File")
	})

	t.Run("issuer", func(t *testing.T) {
		withIssuer := func(issuer string) string {
			var fc map[string]any
			require.NoError(t, json.Unmarshal([]byte(authServerConfigFile), &fc))
			fc["issuer"] = issuer
			data, err := json.Marshal(fc)
			require.NoError(t, err)
			return writeConfigFile(t, string(data))
		}
		path := withIssuer("http://auth.file.test:9001")
		urls, _ := startCommand(t, nil, "authserver", "-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-config", path)
		assert.Equal(t, "http://auth.file.test:9001", urls["authserver"], "the file sets the issuer")

		urls, _ = startCommand(t, nil, "authserver", "-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-config", path,
			"-public-url", "http://auth.flag.test:9001")
		assert.Equal(t, "http://auth.flag.test:9001", urls["authserver"], "-public-url overrides the file")
	})
}

func TestAuthServerRejectsInvalidConfigFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"unknown field", `{"client": []}`, `unknown field "client"`},
		{"invalid duration", `{"access_token_ttl": "an hour"}`, "access_token_ttl"},
		{"invalid client", `{"clients": [{"client_id": "c"}]}`, "needs a secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfigFile(t, tt.content)
			err := run(t.Context(), []string{"authserver", "-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-config", path},
				func(string) string { return "" }, &syncBuffer{}, &syncBuffer{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing.json")
		err := run(t.Context(), []string{"authserver", "-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-config", path},
			func(string) string { return "" }, &syncBuffer{}, &syncBuffer{})
		assert.ErrorContains(t, err, path)
	})
}

func TestAuthServerDemoSecretsDetected(t *testing.T) {
	own := []authserver.Client{{ID: "svc", Secret: "own-secret"}}
	ownUpstream := []authserver.Upstream{{ID: "idp", Issuer: "https://idp.example", ClientID: "c", ClientSecret: "own"}}
	tests := []struct {
		name string
		cfg  authserver.Config
		want bool
	}{
		{"demo registrations", authserver.Config{
			Clients: authserver.DemoClients(defaultWebAppURL), Upstreams: authserver.DemoUpstreams(defaultMockIDPURL),
		}, true},
		{"demo clients with a real upstream", authserver.Config{
			Clients: authserver.DemoClients(defaultWebAppURL), Upstreams: ownUpstream,
		}, true},
		{"own clients with the demo upstreams", authserver.Config{
			Clients: own, Upstreams: authserver.DemoUpstreams(defaultMockIDPURL),
		}, true},
		{"own clients and upstream", authserver.Config{Clients: own, Upstreams: ownUpstream}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, usesAuthServerDemoSecrets(tt.cfg))
		})
	}
}
