package authserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

// restartableEnv is an authorization server on a SQLite file behind a
// fixed URL, which the test can stop and start again, as a process
// restart on the same address and database would.
type restartableEnv struct {
	*testEnv
	path    string
	handler atomic.Pointer[http.Handler]
	config  func(*Config)
}

func newRestartableEnv(t *testing.T, configure func(*Config)) *restartableEnv {
	t.Helper()
	env := &restartableEnv{
		testEnv: &testEnv{t: t, clock: newFakeClock(), key: keytest.Key(t)},
		path:    filepath.Join(t.TempDir(), "authserver.db"),
		config:  configure,
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := env.handler.Load()
		if h == nil {
			http.Error(w, "authorization server stopped", http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	env.url = front.URL
	t.Cleanup(env.stop)
	return env
}

// start opens the database file and starts a new server on it.
func (e *restartableEnv) start() {
	e.t.Helper()
	st, err := store.OpenSQLiteFile(context.Background(), e.path)
	require.NoError(e.t, err)
	cfg := Config{
		Issuer:      e.url,
		Store:       st,
		Clients:     DemoClients(testWebApp),
		Upstreams:   []Upstream{{ID: "unused", Issuer: "http://127.0.0.1:1/unused", ClientID: "c"}},
		SigningKeys: []*keys.Key{e.key},
		Clock:       e.clock.Now,
	}
	if e.config != nil {
		e.config(&cfg)
	}
	srv, err := New(cfg)
	require.NoError(e.t, err)
	e.srv, e.store = srv, st
	var h http.Handler = srv
	e.handler.Store(&h)
}

// stop stops the server and closes its database, dropping everything the
// process held in memory.
func (e *restartableEnv) stop() {
	if e.srv == nil {
		return
	}
	e.handler.Store(nil)
	e.srv.Close()
	assert.NoError(e.t, e.store.Close())
	e.srv, e.store = nil, nil
}

func TestPushStateSurvivesRestart(t *testing.T) {
	push := newSETReceiver(t, "gateway-push")
	pull := newSETReceiver(t, "gateway-pull")
	env := newRestartableEnv(t, func(c *Config) {
		c.Clients[0].GrantTypes = []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken}
		c.PushGateways = []PushGateway{
			{URL: push.srv.URL + "/_push", Audience: "gateway-push", PushMode: true},
			{URL: pull.srv.URL + "/_push", Audience: "gateway-pull"},
		}
		// Tests run further cycles themselves.
		c.PushInterval = DefaultExchangedTokenTTL - time.Second
	})
	env.start()
	push.trust(env.testEnv)
	pull.trust(env.testEnv)
	require.NotNil(t, push.next().Events.StateSynced)

	user := env.seedUser("user-1")
	tokens := env.firstTokens(user.ID)
	hash := oauth.HashToken(tokens["access_token"].(string))
	require.Equal(t, hash, push.next().Events.TokenIssued.TokenHash)

	env.stop()
	env.clock.Advance(30 * time.Second)
	env.start()

	// The restarted server's first cycle pushes a fresh JWT for the token
	// issued before the restart.
	set := push.next()
	require.NotNil(t, set.Events.TokenIssued, "the token issued before the restart is pushed again")
	assert.Equal(t, hash, set.Events.TokenIssued.TokenHash)
	claims := verifyPushedJWT(t, env.testEnv, set.Events.TokenIssued.JWTs[DemoAudience])
	assert.EqualValues(t, env.clock.Now().Unix(), claims["iat"], "a fresh JWT")
	assert.Equal(t, user.ID, claims["sub"])
	require.NotNil(t, push.next().Events.StateSynced)

	// And so does every later cycle, before the earlier JWT expires.
	env.clock.Advance(30 * time.Second)
	env.srv.pushCycle(context.Background())
	set = push.next()
	require.NotNil(t, set.Events.TokenIssued)
	assert.Equal(t, hash, set.Events.TokenIssued.TokenHash)
	require.NotNil(t, push.next().Events.StateSynced)

	// Revoking the grant through its refresh token reaches both gateways.
	require.Equal(t, http.StatusOK, env.revokeAsWeb(tokens["refresh_token"].(string), nil).StatusCode)
	for _, rcv := range []*setReceiver{push, pull} {
		revoked := rcv.next().Events.TokenRevoked
		require.NotNil(t, revoked, rcv.audience)
		assert.Equal(t, []string{hash}, revoked.TokenHashes, rcv.audience)
	}

	// A revoked token is not pushed again.
	env.srv.pushCycle(context.Background())
	require.NotNil(t, push.next().Events.StateSynced)
	push.nothingPending()
	pull.nothingPending()
}
