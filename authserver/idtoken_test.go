package authserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/jwks"
	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
)

const (
	testUpstreamIssuer = "https://idp.example"
	testUpstreamClient = "rp-client"
	testNonce          = "nonce-of-this-login"
	testAccessToken    = "upstream-access-token"
)

// checklistEnv is a provider's key set served over HTTP and the
// discovered configuration that verifyIDToken uses, without discovery.
type checklistEnv struct {
	key       *keys.Key
	disc      *discovered
	now       time.Time
	jwksCalls atomic.Int32
	jwksDown  atomic.Bool
}

func newChecklistEnv(t *testing.T) *checklistEnv {
	t.Helper()
	env := &checklistEnv{key: keytest.Key(t), now: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)}
	set := keys.NewSet(env.key)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.jwksCalls.Add(1)
		if env.jwksDown.Load() {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		set.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	clock := func() time.Time { return env.now }
	ks := jwks.New(jwks.Config{URL: srv.URL, Clock: clock})
	env.disc = &discovered{
		keySet: ks,
		verifier: oidc.NewVerifier(testUpstreamIssuer, ks, &oidc.Config{
			ClientID: testUpstreamClient, SupportedSigningAlgs: []string{oidc.RS256}, Now: clock,
		}),
	}
	return env
}

// claims returns the claims of a valid ID token for this login.
func (env *checklistEnv) claims() map[string]any {
	sum := sha256.Sum256([]byte(testAccessToken))
	return map[string]any{
		"iss":       testUpstreamIssuer,
		"sub":       "user-1",
		"aud":       testUpstreamClient,
		"exp":       env.now.Add(time.Hour).Unix(),
		"iat":       env.now.Unix(),
		"auth_time": env.now.Add(-time.Minute).Unix(),
		"nonce":     testNonce,
		"at_hash":   base64.RawURLEncoding.EncodeToString(sum[:16]),
	}
}

func (env *checklistEnv) verify(raw string, maxAge int) error {
	_, err := verifyIDToken(context.Background(), env.disc, raw, idTokenExpectations{
		clientID: testUpstreamClient, nonce: testNonce, accessToken: testAccessToken,
		maxAge: maxAge, now: env.now,
	})
	return err
}

func TestVerifyIDTokenClaims(t *testing.T) {
	env := newChecklistEnv(t)
	now := env.now
	tests := []struct {
		name   string
		change map[string]any // nil value removes the claim
		maxAge int
		ok     bool
	}{
		{name: "valid", maxAge: -1, ok: true},
		{name: "several audiences with azp", change: map[string]any{"aud": []string{testUpstreamClient, "other"}, "azp": testUpstreamClient}, maxAge: -1, ok: true},
		{name: "azp equal to client", change: map[string]any{"azp": testUpstreamClient}, maxAge: -1, ok: true},
		{name: "iat ahead within skew", change: map[string]any{"iat": now.Add(idTokenSkew).Unix()}, maxAge: -1, ok: true},
		{name: "no at_hash", change: map[string]any{"at_hash": nil}, maxAge: -1, ok: true},
		{name: "no auth_time without max_age", change: map[string]any{"auth_time": nil}, maxAge: -1, ok: true},
		{name: "auth_time within max_age", maxAge: 60, ok: true},
		{name: "auth_time within max_age plus skew", change: map[string]any{"auth_time": now.Add(-2 * time.Minute).Unix()}, maxAge: 60, ok: true},
		{name: "huge max_age", maxAge: 1<<63 - 1, ok: true},

		{name: "wrong issuer", change: map[string]any{"iss": "https://evil.example"}, maxAge: -1},
		{name: "no issuer", change: map[string]any{"iss": nil}, maxAge: -1},
		{name: "other audience", change: map[string]any{"aud": "someone-else"}, maxAge: -1},
		{name: "no audience", change: map[string]any{"aud": nil}, maxAge: -1},
		{name: "expired", change: map[string]any{"exp": now.Add(-time.Second).Unix()}, maxAge: -1},
		{name: "no exp", change: map[string]any{"exp": nil}, maxAge: -1},
		{name: "no sub", change: map[string]any{"sub": nil}, maxAge: -1},
		{name: "empty sub", change: map[string]any{"sub": ""}, maxAge: -1},
		{name: "sub too long", change: map[string]any{"sub": strings.Repeat("s", 256)}, maxAge: -1},
		{name: "several audiences without azp", change: map[string]any{"aud": []string{testUpstreamClient, "other"}}, maxAge: -1},
		{name: "several audiences with other azp", change: map[string]any{"aud": []string{testUpstreamClient, "other"}, "azp": "other"}, maxAge: -1},
		{name: "azp of another client", change: map[string]any{"azp": "other"}, maxAge: -1},
		{name: "no iat", change: map[string]any{"iat": nil}, maxAge: -1},
		{name: "iat in the future", change: map[string]any{"iat": now.Add(idTokenSkew + time.Second).Unix()}, maxAge: -1},
		{name: "no nonce", change: map[string]any{"nonce": nil}, maxAge: -1},
		{name: "other nonce", change: map[string]any{"nonce": "nonce-of-another-login"}, maxAge: -1},
		{name: "wrong at_hash", change: map[string]any{"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, maxAge: -1},
		{name: "no auth_time with max_age", change: map[string]any{"auth_time": nil}, maxAge: 300},
		{name: "auth_time older than max_age", change: map[string]any{"auth_time": now.Add(-10 * time.Minute).Unix()}, maxAge: 300},
		{name: "auth_time in the future", change: map[string]any{"auth_time": now.Add(time.Hour).Unix()}, maxAge: 300},
		{name: "nbf in the future", change: map[string]any{"nbf": now.Add(time.Hour).Unix()}, maxAge: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := env.claims()
			for k, v := range tt.change {
				if v == nil {
					delete(claims, k)
					continue
				}
				claims[k] = v
			}
			raw, err := env.key.Sign(claims, "JWT")
			require.NoError(t, err)

			err = env.verify(raw, tt.maxAge)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, errIDToken)
			assert.NotErrorIs(t, err, jwks.ErrUnavailable)
		})
	}
}

func TestVerifyIDTokenSignature(t *testing.T) {
	env := newChecklistEnv(t)
	claims := env.claims()
	good, err := env.key.Sign(claims, "JWT")
	require.NoError(t, err)
	parts := strings.Split(good, ".")
	require.Len(t, parts, 3)

	stranger := keytest.Key(t)
	unknownKid, err := stranger.Sign(claims, "JWT")
	require.NoError(t, err)
	stranger.ID = env.key.ID
	sameKidOtherKey, err := stranger.Sign(claims, "JWT")
	require.NoError(t, err)

	// HS256 keyed with the client secret: a client that accepted HMAC
	// would let anyone with the secret mint ID tokens.
	hmac, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(DemoUpstreamSecret + "-padded-to-32-bytes")},
		(&jose.SignerOptions{}).WithHeader("kid", env.key.ID))
	require.NoError(t, err)
	hmacJWS, err := hmac.Sign([]byte(parts[1]))
	require.NoError(t, err)
	hmacToken, err := hmacJWS.CompactSerialize()
	require.NoError(t, err)

	other := map[string]any{}
	maps.Copy(other, claims)
	other["sub"] = "user-2"
	swapped, err := env.key.Sign(other, "JWT")
	require.NoError(t, err)

	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + env.key.ID + `"}`))
	tests := map[string]string{
		"alg none":            none + "." + parts[1] + ".",
		"alg HS256":           hmacToken,
		"unknown kid":         unknownKid,
		"same kid, other key": sameKidOtherKey,
		"payload swapped":     parts[0] + "." + strings.Split(swapped, ".")[1] + "." + parts[2],
		"encrypted (JWE)":     "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d",
		"empty":               "",
	}
	require.NoError(t, env.verify(good, -1), "the unmodified token is valid")
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			err := env.verify(raw, -1)
			assert.ErrorIs(t, err, errIDToken)
		})
	}
}

func TestVerifyIDTokenUnknownKidRefetchLimited(t *testing.T) {
	env := newChecklistEnv(t)
	good, err := env.key.Sign(env.claims(), "JWT")
	require.NoError(t, err)
	require.NoError(t, env.verify(good, -1))
	require.Equal(t, int32(1), env.jwksCalls.Load())

	stranger := keytest.Key(t)
	forged, err := stranger.Sign(env.claims(), "JWT")
	require.NoError(t, err)
	for range 10 {
		assert.ErrorIs(t, env.verify(forged, -1), jwks.ErrUnknownKey)
	}
	assert.Equal(t, int32(1), env.jwksCalls.Load(), "no refetch within the interval")

	env.now = env.now.Add(jwks.DefaultRefetchInterval)
	assert.ErrorIs(t, env.verify(forged, -1), jwks.ErrUnknownKey)
	assert.Equal(t, int32(2), env.jwksCalls.Load(), "one refetch after the interval")
}

func TestVerifyIDTokenKeysUnavailable(t *testing.T) {
	env := newChecklistEnv(t)
	env.jwksDown.Store(true)
	raw, err := env.key.Sign(env.claims(), "JWT")
	require.NoError(t, err)

	err = env.verify(raw, -1)
	assert.ErrorIs(t, err, jwks.ErrUnavailable)
	assert.NotErrorIs(t, err, errIDToken)
}
