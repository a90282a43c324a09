package mockidp

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
)

// issuerWithoutKeys returns the test issuer called name with no keys, so
// the server loads or generates them.
func issuerWithoutKeys(t *testing.T, name string) IssuerConfig {
	t.Helper()
	ic := testIssuers(t, name)[0]
	ic.Keys = nil
	return ic
}

func TestKeyDirLoadsKey(t *testing.T) {
	dir := t.TempDir()
	key := keytest.Key(t)
	data, err := key.MarshalPEM()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "google.pem"), data, 0o600))

	srv, err := New(Config{KeyDir: dir, Issuers: []IssuerConfig{issuerWithoutKeys(t, "google")}})
	require.NoError(t, err)
	defer srv.Close()
	assert.Equal(t, key.ID, srv.issuers["google"].keys.Signing().ID)
}

// TestKeyDirSavesGeneratedKey generates one RSA key inside New, the only
// way to test that path.
func TestKeyDirSavesGeneratedKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	srv, err := New(Config{KeyDir: dir, Issuers: []IssuerConfig{issuerWithoutKeys(t, "corp")}})
	require.NoError(t, err)
	defer srv.Close()

	path := filepath.Join(dir, "corp.pem")
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	saved, err := keys.ParsePEM(data)
	require.NoError(t, err)
	assert.Equal(t, saved.ID, srv.issuers["corp"].keys.Signing().ID)

	// A second server with the same directory signs with the same key.
	again, err := New(Config{KeyDir: dir, Issuers: []IssuerConfig{issuerWithoutKeys(t, "corp")}})
	require.NoError(t, err)
	defer again.Close()
	assert.Equal(t, saved.ID, again.issuers["corp"].keys.Signing().ID)
}

func TestKeyDirRejectsBadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "google.pem")
	require.NoError(t, os.WriteFile(path, []byte("not a key"), 0o600))

	_, err := New(Config{KeyDir: dir, Issuers: []IssuerConfig{issuerWithoutKeys(t, "google")}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "not a key", string(data), "an unreadable key file is never replaced")
}
