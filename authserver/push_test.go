package authserver

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/secevent"
)

// setReceiver is a gateway's push endpoint that verifies every SET against
// the test server's key and hands it to the test.
type setReceiver struct {
	t        *testing.T
	audience string
	srv      *httptest.Server
	sets     chan *secevent.SET
	raw      chan string

	// ready is closed once the verifier is set, which needs the server's
	// URL and key; the start-up push may arrive before.
	ready    chan struct{}
	verifier *secevent.Verifier
}

func newSETReceiver(t *testing.T, audience string) *setReceiver {
	t.Helper()
	rcv := &setReceiver{
		t: t, audience: audience, ready: make(chan struct{}),
		sets: make(chan *secevent.SET, 64), raw: make(chan string, 64),
	}
	rcv.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-rcv.ready:
		case <-time.After(5 * time.Second):
			http.Error(w, "receiver not ready", http.StatusServiceUnavailable)
			return
		}
		raw, err := secevent.ReadRequest(w, r)
		if !assert.NoError(t, err) {
			return
		}
		set, err := rcv.verifier.Verify(r.Context(), raw)
		if !assert.NoError(t, err) {
			secevent.WriteError(w, err.(*secevent.Error))
			return
		}
		rcv.raw <- raw
		rcv.sets <- set
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rcv.srv.Close)
	return rcv
}

// trust makes the receiver accept SETs from env.
func (rcv *setReceiver) trust(env *testEnv) {
	keyFunc := func(_ context.Context, kid string) (*rsa.PublicKey, error) {
		if kid != env.key.ID {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return &env.key.Private.PublicKey, nil
	}
	rcv.verifier = secevent.NewVerifier(env.url, rcv.audience, time.Minute, 5*time.Second, keyFunc, env.clock.Now)
	close(rcv.ready)
}

// next returns the next SET the receiver got.
func (rcv *setReceiver) next() *secevent.SET {
	rcv.t.Helper()
	select {
	case set := <-rcv.sets:
		<-rcv.raw
		return set
	case <-time.After(5 * time.Second):
		rcv.t.Fatal("no SET within 5 s")
		return nil
	}
}

// nextRaw returns the next SET as it arrived on the wire.
func (rcv *setReceiver) nextRaw() (*secevent.SET, string) {
	rcv.t.Helper()
	select {
	case set := <-rcv.sets:
		return set, <-rcv.raw
	case <-time.After(5 * time.Second):
		rcv.t.Fatal("no SET within 5 s")
		return nil, ""
	}
}

// nothingPending checks that no SET is waiting.
func (rcv *setReceiver) nothingPending() {
	rcv.t.Helper()
	select {
	case set := <-rcv.sets:
		rcv.t.Fatalf("unexpected SET with events %+v", set.Events)
	default:
	}
}

// newPushEnv starts a server that pushes to a gateway in push mode and to
// one in pull mode. It returns after the start-up push cycle reached the
// push-mode gateway.
func newPushEnv(t *testing.T, configure func(*Config)) (env *testEnv, push, pull *setReceiver) {
	t.Helper()
	push = newSETReceiver(t, "gateway-push")
	pull = newSETReceiver(t, "gateway-pull")
	env = newTestEnv(t, func(c *Config) {
		c.PushGateways = []PushGateway{
			{URL: push.srv.URL + "/_push", Audience: "gateway-push", PushMode: true},
			{URL: pull.srv.URL + "/_push", Audience: "gateway-pull"},
		}
		// Tests run further cycles themselves.
		c.ExchangedTokenTTL = DefaultExchangedTokenTTL
		c.PushInterval = DefaultExchangedTokenTTL - time.Second
		if configure != nil {
			configure(c)
		}
	})
	push.trust(env)
	pull.trust(env)
	require.NotNil(t, push.next().Events.StateSynced, "the first cycle runs at start")
	return env, push, pull
}

// verifyPushedJWT checks the signature and typ of a pushed JWT and returns
// its claims.
func verifyPushedJWT(t *testing.T, env *testEnv, jwt string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSignedCompact(jwt, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	assert.Equal(t, oauth.JWTTypeAccessToken, jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType])
	payload, err := jws.Verify(&env.key.Private.PublicKey)
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	return claims
}

func TestPushIssuedTokenToPushModeGateway(t *testing.T) {
	env, push, pull := newPushEnv(t, nil)
	user := env.seedUser("user-1")
	tokens := env.firstTokens(user.ID)
	accessToken := tokens["access_token"].(string)

	// The token response waits for the push, so the SET is there already.
	set, raw := push.nextRaw()
	assert.NotContains(t, raw, accessToken, "the raw token never travels")
	assert.Equal(t, env.url, set.Issuer)
	assert.Equal(t, "gateway-push", set.Audience)
	issued := set.Events.TokenIssued
	require.NotNil(t, issued)
	assert.Equal(t, oauth.HashToken(accessToken), issued.TokenHash)
	assert.Equal(t, user.ID, issued.Subject)
	assert.Equal(t, DemoWebClientID, issued.ClientID)
	assert.Equal(t, "openid profile email", issued.Scope)
	assert.Equal(t, env.clock.Now().Add(DefaultAccessTokenTTL).Unix(), issued.Expiry)
	require.Contains(t, issued.JWTs, DemoAudience)

	claims := verifyPushedJWT(t, env, issued.JWTs[DemoAudience])
	assert.Equal(t, env.url, claims["iss"])
	assert.Equal(t, user.ID, claims["sub"])
	assert.Equal(t, DemoAudience, claims["aud"])
	assert.Equal(t, DemoWebClientID, claims["client_id"])
	assert.Equal(t, "Alice Liddell", claims["name"])
	assert.EqualValues(t, env.clock.Now().Add(DefaultExchangedTokenTTL).Unix(), claims["exp"])
	assert.NotEmpty(t, claims["jti"])
	assert.NotContains(t, claims, "act", "no party exchanged a token for a pushed JWT")

	pull.nothingPending()
}

func TestPushRevocationToEveryGateway(t *testing.T) {
	env, push, pull := newPushEnv(t, nil)
	user := env.seedUser("user-1")
	accessToken := env.firstTokens(user.ID)["access_token"].(string)
	require.NotNil(t, push.next().Events.TokenIssued)

	require.Equal(t, http.StatusOK, env.revokeAsWeb(accessToken, nil).StatusCode)
	for _, rcv := range []*setReceiver{push, pull} {
		revoked := rcv.next().Events.TokenRevoked
		require.NotNil(t, revoked)
		assert.Equal(t, []string{oauth.HashToken(accessToken)}, revoked.TokenHashes)
	}
}

func TestPushRefreshReuseRevokesWholeGrant(t *testing.T) {
	env, push, pull := newPushEnv(t, func(c *Config) {
		c.Clients[0].GrantTypes = []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken}
	})
	user := env.seedUser("user-1")
	first := env.firstTokens(user.ID)
	resp := env.refresh(first["refresh_token"].(string), "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	second := decodeJSON(t, resp)
	require.NotNil(t, push.next().Events.TokenIssued)
	require.NotNil(t, push.next().Events.TokenIssued, "the refreshed token is pushed too")

	// Reusing the first refresh token revokes the family.
	require.Equal(t, http.StatusBadRequest, env.refresh(first["refresh_token"].(string), "").StatusCode)
	revoked := pull.next().Events.TokenRevoked
	require.NotNil(t, revoked)
	assert.ElementsMatch(t, []string{
		oauth.HashToken(first["access_token"].(string)), oauth.HashToken(second["access_token"].(string)),
	}, revoked.TokenHashes)
}

func TestPushCycleSendsFreshJWTsForLiveTokens(t *testing.T) {
	env, push, _ := newPushEnv(t, nil)
	user := env.seedUser("user-1")
	kept := env.firstTokens(user.ID)["access_token"].(string)
	revoked := env.firstTokens(user.ID)["access_token"].(string)
	push.next()
	push.next()
	require.Equal(t, http.StatusOK, env.revokeAsWeb(revoked, nil).StatusCode)
	require.NotNil(t, push.next().Events.TokenRevoked)

	env.clock.Advance(30 * time.Second)
	env.srv.pushCycle(context.Background())

	set := push.next()
	require.NotNil(t, set.Events.TokenIssued, "only the live token is pushed again")
	assert.Equal(t, oauth.HashToken(kept), set.Events.TokenIssued.TokenHash)
	claims := verifyPushedJWT(t, env, set.Events.TokenIssued.JWTs[DemoAudience])
	assert.EqualValues(t, env.clock.Now().Unix(), claims["iat"], "a fresh JWT")
	assert.NotNil(t, push.next().Events.StateSynced, "the cycle ends with state-synced")
	push.nothingPending()

	// An expired token is not pushed again.
	env.clock.Advance(DefaultAccessTokenTTL)
	env.srv.pushCycle(context.Background())
	assert.NotNil(t, push.next().Events.StateSynced, "no token-issued before state-synced")
	push.nothingPending()
}

func TestPushUserChangeAtLogin(t *testing.T) {
	env, push, pull := newPushEnv(t, nil)
	user := env.seedUser("user-1")
	ctx := context.Background()
	env.srv.pushUserLogin(ctx, nil, user)
	accessToken := env.firstTokens(user.ID)["access_token"].(string)
	require.NotNil(t, push.next().Events.TokenIssued)

	// A login that brings the same profile changes nothing.
	env.srv.pushUserLogin(ctx, &user, user)
	pull.nothingPending()

	// The next login brings a new name.
	changed := user
	changed.Profile.Name = "Alice Pleasance Liddell"
	_, err := env.store.UpsertUser(ctx, store.User{
		ID: "ignored", Issuer: user.Issuer, Subject: user.Subject, Profile: changed.Profile,
		CreatedAt: env.clock.Now(), UpdatedAt: env.clock.Now(),
	})
	require.NoError(t, err)
	env.srv.pushUserLogin(ctx, &user, changed)

	uc := pull.next().Events.UserChanged
	require.NotNil(t, uc)
	assert.Equal(t, user.ID, uc.Subject)
	require.NotNil(t, push.next().Events.UserChanged)
	issued := push.next().Events.TokenIssued
	require.NotNil(t, issued, "push mode gets fresh JWTs after the change")
	assert.Equal(t, oauth.HashToken(accessToken), issued.TokenHash)
	claims := verifyPushedJWT(t, env, issued.JWTs[DemoAudience])
	assert.Equal(t, "Alice Pleasance Liddell", claims["name"])
}

func TestPushGatewaysValidated(t *testing.T) {
	cfg := Config{
		Issuer:    "http://localhost:9001",
		Upstreams: DemoUpstreams("http://127.0.0.1:9000"),
		PushGateways: []PushGateway{
			{URL: "not a url", Audience: "g"},
			{URL: "http://localhost:8000/_push"},
			{URL: "http://localhost:8000/_push", Audience: "g"},
		},
		PushInterval: -time.Second,
	}
	tooLong := cfg
	tooLong.PushGateways = nil
	tooLong.PushInterval = DefaultExchangedTokenTTL
	assert.ErrorContains(t, tooLong.Validate(), "must be shorter than the exchanged token TTL")

	err := cfg.Validate()
	require.Error(t, err)
	for _, want := range []string{"must be an absolute http(s) URL", "empty Audience", "duplicate URL", "push interval is negative"} {
		assert.True(t, strings.Contains(err.Error(), want), "missing %q in %v", want, err)
	}
}
