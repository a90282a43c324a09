package jwtauth

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/jwks"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
)

func TestVerifyAcceptsGoodToken(t *testing.T) {
	iss := newTestIssuer(t)
	clock := newFakeClock()
	v := newTestVerifier(t, iss, clock)
	now := clock.Now()

	claims, err := v.Verify(context.Background(), sign(t, iss.keys.Signing(), iss.goodClaims(now)))
	require.NoError(t, err)
	assert.Equal(t, &Claims{
		Issuer:        iss.url(),
		Subject:       "user-42",
		Audience:      []string{testAudience},
		ClientID:      "demo-web",
		IssuedAt:      time.Unix(now.Unix(), 0),
		Expiry:        time.Unix(now.Add(time.Minute).Unix(), 0),
		ID:            "jti-1",
		Scope:         "openid profile email",
		Name:          "Alice Liddell",
		Email:         "alice@example.com",
		EmailVerified: true,
		Actor:         "gateway",
	}, claims)
}

func TestVerifyAcceptsWithinLeeway(t *testing.T) {
	iss := newTestIssuer(t)
	clock := newFakeClock()
	v := newTestVerifier(t, iss, clock)
	key := iss.keys.Signing()
	now := clock.Now()

	tests := []struct {
		name string
		edit func(c map[string]any)
	}{
		{"expired within leeway", func(c map[string]any) { c["exp"] = now.Add(-20 * time.Second).Unix() }},
		{"nbf within leeway", func(c map[string]any) { c["nbf"] = now.Add(20 * time.Second).Unix() }},
		{"audience array", func(c map[string]any) { c["aud"] = []string{"other", testAudience} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := iss.goodClaims(now)
			tt.edit(claims)
			_, err := v.Verify(context.Background(), sign(t, key, claims))
			assert.NoError(t, err)
		})
	}

	t.Run("typ with application prefix", func(t *testing.T) {
		token := signWith(t, jose.RS256, key.Private,
			map[jose.HeaderKey]any{"kid": key.ID, "typ": "application/AT+JWT"}, iss.goodClaims(now))
		_, err := v.Verify(context.Background(), token)
		assert.NoError(t, err)
	})
}

func TestVerifyRejectsBadTokens(t *testing.T) {
	iss := newTestIssuer(t)
	clock := newFakeClock()
	v := newTestVerifier(t, iss, clock)
	key := iss.keys.Signing()
	other := keytest.Key(t)
	now := clock.Now()

	withClaims := func(edit func(c map[string]any)) map[string]any {
		c := iss.goodClaims(now)
		edit(c)
		return c
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.Private.PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	tests := []struct {
		name   string
		reason string // part of the error message naming the failed check
		token  string
	}{
		{"typ JWT", "header typ", func() string { tok, _ := key.Sign(iss.goodClaims(now), "JWT"); return tok }()},
		{"no typ", "header typ", signWith(t, jose.RS256, key.Private, map[jose.HeaderKey]any{"kid": key.ID}, iss.goodClaims(now))},
		{"ID token shape", "header typ", func() string {
			tok, _ := key.Sign(map[string]any{
				"iss": iss.url(), "sub": "user-42", "aud": "demo-web", "nonce": "n-1",
				"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			}, "JWT")
			return tok
		}()},
		{"wrong iss", "iss ", sign(t, key, withClaims(func(c map[string]any) { c["iss"] = "http://evil.example" }))},
		{"wrong aud", "aud ", sign(t, key, withClaims(func(c map[string]any) { c["aud"] = "other-api" }))},
		{"expired beyond leeway", "expired", sign(t, key, withClaims(func(c map[string]any) { c["exp"] = now.Add(-31 * time.Second).Unix() }))},
		{"nbf in future", "not valid before", sign(t, key, withClaims(func(c map[string]any) { c["nbf"] = now.Add(time.Minute).Unix() }))},
		{"iat in future", "issued in the future", sign(t, key, withClaims(func(c map[string]any) { c["iat"] = now.Add(time.Minute).Unix() }))},
		{"missing jti", "missing required claims jti", sign(t, key, withClaims(func(c map[string]any) { delete(c, "jti") }))},
		{"missing client_id", "missing required claims client_id", sign(t, key, withClaims(func(c map[string]any) { delete(c, "client_id") }))},
		{"missing sub", "missing required claims sub", sign(t, key, withClaims(func(c map[string]any) { delete(c, "sub") }))},
		{"missing exp", "missing required claims exp", sign(t, key, withClaims(func(c map[string]any) { delete(c, "exp") }))},
		{"missing iat", "missing required claims iat", sign(t, key, withClaims(func(c map[string]any) { delete(c, "iat") }))},
		{"HS256 keyed with public key", "unexpected signature algorithm", signWith(t, jose.HS256, pubPEM,
			map[jose.HeaderKey]any{"kid": key.ID, "typ": "at+jwt"}, iss.goodClaims(now))},
		{"alg none", "unexpected signature algorithm", unsigned(t, key.ID, iss.goodClaims(now))},
		{"no kid", "no kid", signWith(t, jose.RS256, key.Private, map[jose.HeaderKey]any{"typ": "at+jwt"}, iss.goodClaims(now))},
		{"unknown kid", "unknown kid", sign(t, other, iss.goodClaims(now))},
		{"bad signature", "signature:", signWith(t, jose.RS256, other.Private,
			map[jose.HeaderKey]any{"kid": key.ID, "typ": "at+jwt"}, iss.goodClaims(now))},
		{"not a JWS", "parse JWS", "not-a-token"},
		{"JSON serialization", "parse JWS", `{"payload":"e30","signatures":[]}`},
		{"oversize", "bytes, more than", strings.Repeat("a", MaxTokenLength+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NotEmpty(t, tt.token)
			claims, err := v.Verify(context.Background(), tt.token)
			assert.ErrorIs(t, err, ErrInvalidToken)
			assert.ErrorContains(t, err, tt.reason)
			assert.Nil(t, claims)
		})
	}
}

func TestVerifyKeysUnavailable(t *testing.T) {
	iss := newTestIssuer(t)
	clock := newFakeClock()
	v := newTestVerifier(t, iss, clock)
	token := sign(t, iss.keys.Signing(), iss.goodClaims(clock.Now()))

	iss.setStatus(http.StatusInternalServerError)
	_, err := v.Verify(context.Background(), token)
	assert.ErrorIs(t, err, ErrKeysUnavailable)

	// A failed fetch is retried after a second, not on every request.
	iss.setStatus(0)
	_, err = v.Verify(context.Background(), token)
	assert.ErrorIs(t, err, ErrKeysUnavailable)
	assert.Equal(t, 1, iss.calls())

	clock.Advance(jwks.RetryAfterFailedFetch)
	_, err = v.Verify(context.Background(), token)
	assert.NoError(t, err)
	assert.Equal(t, 2, iss.calls())
}

func TestVerifyRefetchIsRateLimited(t *testing.T) {
	iss := newTestIssuer(t)
	clock := newFakeClock()
	v := newTestVerifier(t, iss, clock)
	ctx := context.Background()

	_, err := v.Verify(ctx, sign(t, iss.keys.Signing(), iss.goodClaims(clock.Now())))
	require.NoError(t, err)
	require.Equal(t, 1, iss.calls())

	// Tokens with an unknown kid cause no fetch within the interval.
	stranger := keytest.Key(t)
	for range 5 {
		_, err = v.Verify(ctx, sign(t, stranger, iss.goodClaims(clock.Now())))
		assert.ErrorIs(t, err, ErrInvalidToken)
	}
	assert.Equal(t, 1, iss.calls())

	// After a rotation and the interval, the new key is fetched once.
	rotated := keytest.Key(t)
	iss.keys.Rotate(rotated)
	clock.Advance(DefaultRefetchInterval)
	for range 3 {
		_, err = v.Verify(ctx, sign(t, rotated, iss.goodClaims(clock.Now())))
		assert.NoError(t, err)
	}
	assert.Equal(t, 2, iss.calls())
}

func TestVerifyExplicitJWKSURL(t *testing.T) {
	iss := newTestIssuer(t)
	clock := newFakeClock()
	v, err := New(Config{Issuer: "http://issuer.example", JWKSURL: iss.url() + "/jwks", Audience: testAudience, Clock: clock.Now})
	require.NoError(t, err)

	claims := iss.goodClaims(clock.Now())
	claims["iss"] = "http://issuer.example"
	_, err = v.Verify(context.Background(), sign(t, iss.keys.Signing(), claims))
	assert.NoError(t, err)
}

func TestConfigValidate(t *testing.T) {
	err := Config{Issuer: "issuer", JWKSURL: "/jwks", Realm: `"`, Leeway: -time.Second, RefetchInterval: -time.Second}.Validate()
	require.Error(t, err)
	for _, want := range []string{"Issuer", "JWKSURL", "Audience is required", "Realm", "Leeway", "RefetchInterval"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NoError(t, Config{Issuer: "http://localhost:9001", Audience: "demo-api"}.Validate())
}
