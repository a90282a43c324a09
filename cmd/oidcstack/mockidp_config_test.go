package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMockIDPServesConfigFileIssuers(t *testing.T) {
	config := `{
	  "users": [{"sub": "4242", "email": "ann@example.com", "password": "ann-pw", "email_verified": true}],
	  "clients": [{"client_id": "rp", "client_secret": "rp-secret", "redirect_uris": ["http://localhost:5555/cb"]}],
	  "issuers": [{"name": "google"}, {"name": "corp"}]
	}`
	path := filepath.Join(t.TempDir(), "mockidp.json")
	require.NoError(t, os.WriteFile(path, []byte(config), 0o600))

	urls, _ := startCommand(t, nil, "mockidp", "-addr", "127.0.0.1:0", "-config", path)
	for _, name := range []string{"google", "corp"} {
		issuer := urls["mockidp"] + "/" + name
		resp, err := http.Get(issuer + "/.well-known/openid-configuration")
		require.NoError(t, err)
		var doc struct {
			Issuer string `json:"issuer"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
		resp.Body.Close()
		assert.Equal(t, issuer, doc.Issuer)
	}
}

func TestMockIDPRejectsInvalidConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mockidp.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"isuers": []}`), 0o600))

	err := run(t.Context(), []string{"mockidp", "-addr", "127.0.0.1:0", "-config", path}, func(string) string { return "" }, &syncBuffer{}, &syncBuffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), path, "the error names the file")
}
