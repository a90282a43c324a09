package authserver

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
)

// storedKeys makes the server keep its signing keys in the store, drawing
// new ones from the test key pool.
func storedKeys(t *testing.T) func(*Config) {
	return func(c *Config) {
		c.SigningKeys = nil
		c.GenerateKey = func() (*keys.Key, error) { return keytest.Key(t), nil }
	}
}

// jwksKeyIDs returns the key IDs the server publishes, in order.
func (e *testEnv) jwksKeyIDs() []string {
	e.t.Helper()
	var set jose.JSONWebKeySet
	resp := e.get("/jwks")
	require.Equal(e.t, http.StatusOK, resp.StatusCode)
	require.NoError(e.t, json.NewDecoder(resp.Body).Decode(&set))
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.KeyID)
	}
	return ids
}

// storedKeyIDs returns the IDs of the unretired keys in the store.
func (e *testEnv) storedKeyIDs() []string {
	e.t.Helper()
	saved, err := e.store.SigningKeys(context.Background())
	require.NoError(e.t, err)
	var ids []string
	for _, k := range saved {
		ids = append(ids, k.ID)
	}
	return ids
}

// idToken redeems a fresh code with the openid scope and returns the ID
// token.
func (e *testEnv) idToken(userID string) string {
	e.t.Helper()
	code, verifier := e.seedCode(userID, "openid", "")
	resp := e.redeem(code, verifier, nil)
	require.Equal(e.t, http.StatusOK, resp.StatusCode)
	return decodeJSON(e.t, resp)["id_token"].(string)
}

func TestRotateKeyRetiresOldKeyAfterTokensExpire(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		storedKeys(t)(c)
		c.AccessTokenTTL = 10 * time.Minute
		// The exchanged JWTs live longer here, so they set the retirement.
		c.ExchangedTokenTTL = 20 * time.Minute
	})
	ctx := context.Background()
	user := env.seedUser("user-1")
	oldKey := env.srv.Keys()[0].ID
	oldToken := env.idToken(user.ID)

	env.clock.Advance(time.Minute)
	require.NoError(t, env.srv.RotateKey(ctx))
	newKey := env.srv.Keys()[0].ID
	require.NotEqual(t, oldKey, newKey)
	assert.Equal(t, []string{newKey, oldKey}, env.jwksKeyIDs(), "the old key stays published")
	assert.Equal(t, []string{newKey, oldKey}, env.storedKeyIDs(), "the new key is saved")

	header, _ := verifyJWT(t, env, env.idToken(user.ID))
	assert.Equal(t, newKey, header.KeyID, "the new key signs")
	header, _ = verifyJWT(t, env, oldToken)
	assert.Equal(t, oldKey, header.KeyID, "tokens of the old key still verify")

	// The old key's last token expires 20 minutes after the rotation.
	env.clock.Advance(20*time.Minute - time.Second)
	require.NoError(t, env.srv.maintainKeys(ctx))
	assert.Equal(t, []string{newKey, oldKey}, env.jwksKeyIDs())

	env.clock.Advance(time.Second)
	require.NoError(t, env.srv.maintainKeys(ctx))
	assert.Equal(t, []string{newKey}, env.jwksKeyIDs(), "retired from the JWKS")
	assert.Equal(t, []string{newKey}, env.storedKeyIDs(), "marked retired in the store")
	assert.ErrorIs(t, env.store.RetireSigningKey(ctx, oldKey, env.clock.Now()), store.ErrNotFound)
}

func TestKeyRotationPeriod(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		storedKeys(t)(c)
		c.KeyRotation = 24 * time.Hour
	})
	ctx := context.Background()
	first := env.srv.Keys()[0].ID

	env.clock.Advance(24*time.Hour - time.Second)
	require.NoError(t, env.srv.maintainKeys(ctx))
	assert.Equal(t, []string{first}, env.jwksKeyIDs(), "not due yet")

	env.clock.Advance(time.Second)
	require.NoError(t, env.srv.maintainKeys(ctx))
	second := env.srv.Keys()[0].ID
	assert.NotEqual(t, first, second)
	assert.Equal(t, []string{second, first}, env.jwksKeyIDs())

	// A second check at the same time neither rotates nor retires.
	require.NoError(t, env.srv.maintainKeys(ctx))
	assert.Equal(t, []string{second, first}, env.jwksKeyIDs())

	// The default lifetimes: an ID token lives one hour.
	env.clock.Advance(DefaultAccessTokenTTL)
	require.NoError(t, env.srv.maintainKeys(ctx))
	assert.Equal(t, []string{second}, env.jwksKeyIDs())
}

func TestKeyRotationSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "authserver.db")
	clock := newFakeClock()
	start := func() *testEnv {
		env := newTestEnv(t, func(c *Config) {
			st, err := store.OpenSQLiteFile(ctx, path)
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			c.Store = st
			c.Clock = clock.Now
			storedKeys(t)(c)
		})
		env.clock = clock
		return env
	}

	first := start()
	oldKey := first.srv.Keys()[0].ID
	clock.Advance(time.Minute)
	require.NoError(t, first.srv.RotateKey(ctx))
	newKey := first.srv.Keys()[0].ID
	first.srv.Close()

	// Before the old key's tokens expire, a restart keeps both keys and
	// signs with the new one.
	second := start()
	assert.Equal(t, []string{newKey, oldKey}, second.jwksKeyIDs())
	second.srv.Close()

	// A restart after they expired retires the old key at once.
	clock.Advance(DefaultAccessTokenTTL)
	third := start()
	assert.Equal(t, []string{newKey}, third.jwksKeyIDs())
	assert.Equal(t, []string{newKey}, third.storedKeyIDs())
}

func TestRotateKeyNeedsStoredKeys(t *testing.T) {
	env := newTestEnv(t, nil)
	assert.ErrorIs(t, env.srv.RotateKey(context.Background()), errStaticKeys)
	require.Len(t, env.srv.Keys(), 1, "the configured key is untouched")

	cfg := Config{
		Issuer:      "http://localhost:9001",
		Upstreams:   DemoUpstreams("http://127.0.0.1:9000"),
		SigningKeys: []*keys.Key{env.key},
		KeyRotation: time.Hour,
	}
	assert.ErrorContains(t, cfg.Validate(), "key rotation needs keys saved in the store")
	cfg.SigningKeys, cfg.KeyRotation = nil, -time.Hour
	assert.ErrorContains(t, cfg.Validate(), "key rotation period is negative")
}

func TestKeyRotationAdoptsKeyOfOtherServer(t *testing.T) {
	env := newTestEnv(t, storedKeys(t))
	ctx := context.Background()
	first := env.srv.Keys()[0].ID

	// Another server sharing the store rotates.
	env.clock.Advance(time.Minute)
	other := keytest.Key(t)
	pem, err := other.MarshalPEM()
	require.NoError(t, err)
	require.NoError(t, env.store.AddSigningKey(ctx, store.SigningKey{ID: other.ID, PEM: pem, CreatedAt: env.clock.Now()}))

	require.NoError(t, env.srv.maintainKeys(ctx))
	assert.Equal(t, []string{other.ID, first}, env.jwksKeyIDs())
	header, _ := verifyJWT(t, env, env.idToken(env.seedUser("user-1").ID))
	assert.Equal(t, other.ID, header.KeyID, "the adopted key signs")

	// The other server retires the first key.
	require.NoError(t, env.store.RetireSigningKey(ctx, first, env.clock.Now()))
	require.NoError(t, env.srv.maintainKeys(ctx))
	assert.Equal(t, []string{other.ID}, env.jwksKeyIDs())
}
