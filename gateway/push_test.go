package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/jwks"
	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/nettest"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/secevent"
	"github.com/oidcstack/oidcstack/internal/trace"
)

const testPushAudience = "gateway-1"

// newPushGateway returns a gateway in mode on a fake clock, with the push
// receiver enabled.
func newPushGateway(t *testing.T, mode Mode) (*testGateway, *fakeClock) {
	t.Helper()
	return newCachingGateway(t, func(c *Config) {
		c.Mode = mode
		c.PushAudience = testPushAudience
	})
}

// newSET returns a SET to the test gateway issued at now.
func (g *testGateway) newSET(now time.Time, ev secevent.Events) secevent.SET {
	return secevent.SET{
		Issuer: g.auth.issuer(), Audience: testPushAudience,
		IssuedAt: now.Unix(), ID: oauth.NewToken(), Events: ev,
	}
}

// pushSigned posts a SET signed by signer with typ to /_push.
func (g *testGateway) pushSigned(t *testing.T, set secevent.SET, signer *keys.Key, typ string) *httptest.ResponseRecorder {
	t.Helper()
	raw, err := signer.Sign(set, typ)
	require.NoError(t, err)
	return g.pushRaw(raw, secevent.ContentType)
}

func (g *testGateway) pushRaw(raw, contentType string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/_push", strings.NewReader(raw))
	req.Header.Set("Content-Type", contentType)
	return g.do(req)
}

// push posts a SET with ev, issued at now and signed by the authorization
// server's key, and requires 202.
func (g *testGateway) push(t *testing.T, now time.Time, ev secevent.Events) {
	t.Helper()
	rec := g.pushSigned(t, g.newSET(now, ev), g.auth.keys.Signing(), oauth.JWTTypeSecEvent)
	require.Equal(t, http.StatusAccepted, rec.Code, "push response %s", rec.Body.String())
}

// issued is a token-issued event for testToken with the fake server's JWT.
func (g *testGateway) issued(expiry time.Time, scope string) secevent.Events {
	return secevent.Events{TokenIssued: &secevent.TokenIssued{
		TokenHash: oauth.HashToken(testToken), Subject: "user-1", ClientID: "demo-web",
		Scope: scope, Expiry: expiry.Unix(), JWTs: map[string]string{testAudience: g.auth.jwt},
	}}
}

func revoked(tokens ...string) secevent.Events {
	var hashes []string
	for _, tok := range tokens {
		hashes = append(hashes, oauth.HashToken(tok))
	}
	return secevent.Events{TokenRevoked: &secevent.TokenRevoked{TokenHashes: hashes}}
}

func TestPushRevocationEndsCachedResultAtOnce(t *testing.T) {
	g, clock := newPushGateway(t, ModePull)
	require.Equal(t, http.StatusOK, g.call(t, testToken))

	g.auth.set(func(f *fakeAuthServer) { f.active[testToken] = false })
	g.push(t, clock.Now(), revoked(testToken))

	// Within the cache window, yet the first request after the push is
	// refused.
	assert.Equal(t, http.StatusUnauthorized, g.call(t, testToken))
	introspections, _ := g.auth.calls()
	assert.Equal(t, 2, introspections, "the revoked token was introspected again")
	assert.Contains(t, g.logs.String(), "access_token_fp="+trace.Fingerprint(testToken))
	assert.NotContains(t, g.logs.String(), testToken)
}

func TestPushUserChangedDropsSubjectResults(t *testing.T) {
	g, clock := newPushGateway(t, ModePull)
	require.Equal(t, http.StatusOK, g.call(t, testToken))

	g.push(t, clock.Now(), secevent.Events{UserChanged: &secevent.UserChanged{Subject: "someone-else"}})
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	introspections, _ := g.auth.calls()
	require.Equal(t, 1, introspections, "another user's change keeps the result")

	g.push(t, clock.Now(), secevent.Events{UserChanged: &secevent.UserChanged{Subject: "user-1"}})
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	introspections, exchanges := g.auth.calls()
	assert.Equal(t, 2, introspections, "the user's result was dropped")
	assert.Equal(t, 2, exchanges)
}

func TestPushRevocationDuringResolveIsNotUndone(t *testing.T) {
	g, clock := newPushGateway(t, ModePull)
	g.auth.set(func(f *fakeAuthServer) { f.gate = make(chan struct{}) })

	first := make(chan int, 1)
	go func() { first <- g.call(t, testToken) }()
	<-g.auth.arrived
	// The revocation arrives while the introspection is in flight.
	g.push(t, clock.Now(), revoked(testToken))
	g.auth.set(func(f *fakeAuthServer) { f.active[testToken] = false })
	close(g.auth.gate)
	assert.Equal(t, http.StatusOK, <-first, "the request in flight still gets its result")

	g.auth.set(func(f *fakeAuthServer) { f.gate = nil })
	assert.Equal(t, http.StatusUnauthorized, g.call(t, testToken), "its result was not cached")
}

func TestPushRejectsInvalidSETs(t *testing.T) {
	g, clock := newPushGateway(t, ModePull)
	now := clock.Now()
	good := g.auth.keys.Signing()
	// A key of the same kid that the authorization server never published.
	forged := &keys.Key{ID: good.ID, Private: keytest.Key(t).Private}

	tests := []struct {
		name    string
		set     func() secevent.SET
		signer  *keys.Key
		typ     string
		wantErr string
	}{
		{name: "bad signature", signer: forged, wantErr: secevent.ErrInvalidKey},
		{name: "wrong typ", typ: oauth.JWTTypeAccessToken, wantErr: secevent.ErrInvalidRequest},
		{name: "wrong aud", set: func() secevent.SET {
			s := g.newSET(now, revoked(testToken))
			s.Audience = "gateway-2"
			return s
		}, wantErr: secevent.ErrInvalidAudience},
		{name: "wrong iss", set: func() secevent.SET {
			s := g.newSET(now, revoked(testToken))
			s.Issuer = "http://localhost:1"
			return s
		}, wantErr: secevent.ErrInvalidIssuer},
		{name: "too old", set: func() secevent.SET {
			return g.newSET(now.Add(-DefaultPushMaxAge-time.Second), revoked(testToken))
		}, wantErr: secevent.ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := g.newSET(now, revoked(testToken))
			if tc.set != nil {
				set = tc.set()
			}
			signer, typ := good, oauth.JWTTypeSecEvent
			if tc.signer != nil {
				signer = tc.signer
			}
			if tc.typ != "" {
				typ = tc.typ
			}
			rec := g.pushSigned(t, set, signer, typ)
			require.Equal(t, http.StatusBadRequest, rec.Code)
			var body struct {
				Err         string `json:"err"`
				Description string `json:"description"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.Equal(t, tc.wantErr, body.Err)
			assert.NotEmpty(t, body.Description)
		})
	}

	t.Run("unknown kid after refetch", func(t *testing.T) {
		// Past the refetch interval, an unknown kid makes the gateway read
		// the JWKS again, and a kid still missing there is rejected.
		clock.Advance(jwks.DefaultRefetchInterval)
		rec := g.pushSigned(t, g.newSET(clock.Now(), revoked(testToken)), keytest.Key(t), oauth.JWTTypeSecEvent)
		assert.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Contains(t, rec.Body.String(), `"err":"invalid_key"`)
	})

	t.Run("replayed jti", func(t *testing.T) {
		raw, err := good.Sign(g.newSET(now, revoked(testToken)), oauth.JWTTypeSecEvent)
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, g.pushRaw(raw, secevent.ContentType).Code)
		rec := g.pushRaw(raw, secevent.ContentType)
		assert.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Contains(t, rec.Body.String(), `"err":"invalid_request"`)
	})

	t.Run("wrong content type", func(t *testing.T) {
		raw, err := good.Sign(g.newSET(now, revoked(testToken)), oauth.JWTTypeSecEvent)
		require.NoError(t, err)
		rec := g.pushRaw(raw, "application/jwt")
		assert.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Contains(t, rec.Body.String(), `"err":"invalid_request"`)
	})
}

func TestPushReceiverDisabledWithoutAudience(t *testing.T) {
	g, _ := newCachingGateway(t, nil)
	rec := g.pushRaw("a.b.c", secevent.ContentType)
	assert.Equal(t, http.StatusNotFound, rec.Code)
}

func TestPushUnavailableKeysGet503(t *testing.T) {
	g, clock := newPushGateway(t, ModePull)
	g.auth.set(func(f *fakeAuthServer) { f.metadataStatus = http.StatusInternalServerError })
	rec := g.pushSigned(t, g.newSET(clock.Now(), revoked(testToken)), g.auth.keys.Signing(), oauth.JWTTypeSecEvent)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "the transmitter retries a 503")
}

func TestPushSignedByRotatedKeyIsRetried(t *testing.T) {
	g, clock := newPushGateway(t, ModePull)
	g.push(t, clock.Now(), revoked(testToken))

	// The authorization server rotates its key right after the gateway
	// fetched the JWKS, so the refetch for the new kid is rate limited.
	g.auth.keys.Rotate(keytest.Key(t))
	rec := g.pushSigned(t, g.newSET(clock.Now(), revoked(testToken)), g.auth.keys.Signing(), oauth.JWTTypeSecEvent)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "a retry can succeed, so the SET is not rejected")

	clock.Advance(jwks.DefaultRefetchInterval)
	g.push(t, clock.Now(), revoked(testToken))
}

func TestPushModeRefusesUnknownToken(t *testing.T) {
	g, _ := newPushGateway(t, ModePush)

	rec := g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer realm="oidcstack", error="invalid_token"`, rec.Header().Get("WWW-Authenticate"))
	introspections, exchanges := g.auth.calls()
	assert.Zero(t, introspections, "push mode never introspects")
	assert.Zero(t, exchanges)
	assert.Empty(t, g.upstream.received())
}

func TestPushModeServesPushedToken(t *testing.T) {
	g, clock := newPushGateway(t, ModePush)
	g.push(t, clock.Now(), g.issued(clock.Now().Add(time.Hour), "openid profile"))

	require.Equal(t, http.StatusOK, g.call(t, testToken))
	got := g.upstream.received()
	require.Len(t, got, 1)
	assert.Equal(t, "Bearer "+g.auth.jwt, got[0].Header.Get("Authorization"))
	introspections, exchanges := g.auth.calls()
	assert.Zero(t, introspections, "push mode never introspects")
	assert.Zero(t, exchanges, "push mode never exchanges")

	assert.Equal(t, http.StatusUnauthorized, g.call(t, "another-token-0123456789abcdefghijklmnopqrstu"),
		"a token that was never pushed is refused")

	// A pushed revocation ends the token at once.
	g.push(t, clock.Now(), revoked(testToken))
	assert.Equal(t, http.StatusUnauthorized, g.call(t, testToken))
}

func TestPushModeChecksScope(t *testing.T) {
	g, clock := newCachingGateway(t, func(c *Config) {
		c.Mode = ModePush
		c.PushAudience = testPushAudience
		c.Routes[0].RequiredScopes = map[string][]string{http.MethodGet: {"email"}}
	})
	g.push(t, clock.Now(), g.issued(clock.Now().Add(time.Hour), "openid profile"))

	rec := g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Equal(t, `Bearer realm="oidcstack", error="insufficient_scope", scope="email"`, rec.Header().Get("WWW-Authenticate"))
}

func TestPushModeExpiry(t *testing.T) {
	g, clock := newPushGateway(t, ModePush)
	// The fake server's JWT expires a minute after the clock's start.
	g.push(t, clock.Now(), g.issued(clock.Now().Add(2*time.Minute), "openid"))
	require.Equal(t, http.StatusOK, g.call(t, testToken))

	clock.Advance(time.Minute - jwtExpiryMargin)
	rec := g.do(apiRequest(http.MethodGet, "/api/me", "Bearer "+testToken))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "the token is valid but its JWT is stale")
	assert.Equal(t, oauth.ErrTemporarilyUnavailable, decodeError(t, rec))

	// A fresh JWT arrives with the next push cycle.
	fresh, err := g.auth.keys.Sign(map[string]any{
		"iss": "x", "sub": "user-1", "aud": testAudience, "client_id": "demo-web",
		"iat": clock.Now().Unix(), "exp": clock.Now().Add(time.Minute).Unix(), "jti": "jti-2",
	}, oauth.JWTTypeAccessToken)
	require.NoError(t, err)
	ev := g.issued(clock.Now().Add(time.Minute), "openid")
	ev.TokenIssued.JWTs[testAudience] = fresh
	g.push(t, clock.Now(), ev)
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	got := g.upstream.received()
	assert.Equal(t, "Bearer "+fresh, got[len(got)-1].Header.Get("Authorization"))

	// At the access token's own expiry the token is unknown.
	clock.Advance(time.Minute)
	assert.Equal(t, http.StatusUnauthorized, g.call(t, testToken))
}

func TestPushModeBoundsStoredTokens(t *testing.T) {
	g, clock := newCachingGateway(t, func(c *Config) {
		c.Mode, c.PushAudience, c.PushMaxTokens = ModePush, testPushAudience, 1
	})
	other := "another-token-0123456789abcdefghijklmnopqrstu"
	ev := g.issued(clock.Now().Add(time.Hour), "openid")
	ev.TokenIssued.TokenHash = oauth.HashToken(other)
	g.push(t, clock.Now(), ev)
	g.push(t, clock.Now(), g.issued(clock.Now().Add(time.Hour), "openid"))

	assert.Equal(t, http.StatusOK, g.call(t, other))
	assert.Equal(t, http.StatusUnauthorized, g.call(t, testToken), "the store was full")
	assert.Contains(t, g.logs.String(), "pushed token not stored")

	// Once the first token expires, the next push makes room.
	clock.Advance(time.Hour)
	g.push(t, clock.Now(), g.issued(clock.Now().Add(time.Hour), "openid"))
	assert.Equal(t, 1, g.pushed.len())
}

func TestPushModeReplacesEntriesOnUserChange(t *testing.T) {
	g, clock := newPushGateway(t, ModePush)
	g.push(t, clock.Now(), g.issued(clock.Now().Add(time.Hour), "openid"))
	g.push(t, clock.Now(), secevent.Events{UserChanged: &secevent.UserChanged{Subject: "user-1"}})
	assert.Equal(t, http.StatusOK, g.call(t, testToken),
		"push mode keeps the entry until the token-issued event with fresh JWTs replaces it")
}

func TestPushModeIgnoredInPullMode(t *testing.T) {
	g, clock := newPushGateway(t, ModePull)
	g.push(t, clock.Now(), g.issued(clock.Now().Add(time.Hour), "openid"))
	g.auth.set(func(f *fakeAuthServer) { f.active[testToken] = false })
	assert.Equal(t, http.StatusUnauthorized, g.call(t, testToken), "a pull-mode gateway still introspects")
}

func TestHashFingerprintMatchesTraceFingerprint(t *testing.T) {
	assert.Equal(t, trace.Fingerprint(testToken), hashFingerprint(oauth.HashToken(testToken)))
	assert.Empty(t, hashFingerprint("short"))
}

func TestTransmitterReachesGatewayThatWasDown(t *testing.T) {
	g, _ := newPushGateway(t, ModePull)
	require.Equal(t, http.StatusOK, g.call(t, testToken))
	g.auth.set(func(f *fakeAuthServer) { f.active[testToken] = false })

	// The gateway drops every connection, as if it were down, until its
	// listener comes up during the second backoff.
	srv := httptest.NewUnstartedServer(g)
	down := nettest.NewDownListener(srv.Listener)
	srv.Listener = down
	srv.Start()
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	var waits []time.Duration
	wait := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		if len(waits) == 2 {
			down.Up()
		}
		return ctx.Err()
	}

	tr, err := secevent.NewTransmitter(secevent.TransmitterConfig{
		Issuer: g.auth.issuer(), Signer: g.auth.keys,
		Receivers:  []secevent.Receiver{{URL: srv.URL + "/_push", Audience: testPushAudience}},
		MinBackoff: time.Second, Wait: wait,
	})
	require.NoError(t, err)
	t.Cleanup(tr.Close)

	<-tr.Send(revoked(testToken))
	require.Eventually(t, func() bool { return g.call(t, testToken) == http.StatusUnauthorized },
		5*time.Second, 10*time.Millisecond, "the revocation reached the gateway")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, waits, "the backoff doubles")
}
