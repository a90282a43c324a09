package secevent

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

const (
	testIssuer   = "http://localhost:9001"
	testAudience = "gateway-1"
)

var testHash = oauth.HashToken("an-access-token")

// keyFuncOf returns a KeyFunc that finds only k.
func keyFuncOf(k *keys.Key) KeyFunc {
	return func(_ context.Context, kid string) (*rsa.PublicKey, error) {
		if kid != k.ID {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return &k.Private.PublicKey, nil
	}
}

func validSET(now time.Time) SET {
	return SET{
		Issuer: testIssuer, Audience: testAudience, IssuedAt: now.Unix(), ID: oauth.NewToken(),
		Events: Events{TokenRevoked: &TokenRevoked{TokenHashes: []string{testHash}}},
	}
}

func TestVerifyAcceptsValidSET(t *testing.T) {
	k := keytest.Key(t)
	now := time.Now()
	v := NewVerifier(testIssuer, testAudience, time.Minute, 5*time.Second, keyFuncOf(k), func() time.Time { return now })

	raw, err := k.Sign(validSET(now), oauth.JWTTypeSecEvent)
	require.NoError(t, err)
	set, err := v.Verify(context.Background(), raw)
	require.NoError(t, err)
	require.NotNil(t, set.Events.TokenRevoked)
	assert.Equal(t, []string{testHash}, set.Events.TokenRevoked.TokenHashes)
}

func TestVerifyRejects(t *testing.T) {
	k, other := keytest.Key(t), keytest.Key(t)
	now := time.Now()

	tests := []struct {
		name     string
		edit     func(*SET)
		typ      string
		signer   *keys.Key
		wantCode string
	}{
		{name: "bad signature", signer: keys.FromRSA(other.Private), wantCode: ErrInvalidKey},
		{name: "wrong typ", typ: oauth.JWTTypeAccessToken, wantCode: ErrInvalidRequest},
		{name: "plain JWT typ", typ: "JWT", wantCode: ErrInvalidRequest},
		{name: "wrong aud", edit: func(s *SET) { s.Audience = "gateway-2" }, wantCode: ErrInvalidAudience},
		{name: "wrong iss", edit: func(s *SET) { s.Issuer = "http://localhost:9999" }, wantCode: ErrInvalidIssuer},
		{name: "too old", edit: func(s *SET) { s.IssuedAt = now.Add(-time.Minute - time.Second).Unix() }, wantCode: ErrInvalidRequest},
		{name: "issued in future", edit: func(s *SET) { s.IssuedAt = now.Add(time.Minute).Unix() }, wantCode: ErrInvalidRequest},
		{name: "no iat", edit: func(s *SET) { s.IssuedAt = 0 }, wantCode: ErrInvalidRequest},
		{name: "no jti", edit: func(s *SET) { s.ID = "" }, wantCode: ErrInvalidRequest},
		{name: "no events", edit: func(s *SET) { s.Events = Events{} }, wantCode: ErrInvalidRequest},
		{name: "raw token instead of hash", edit: func(s *SET) {
			s.Events.TokenRevoked.TokenHashes = []string{"an-access-token"}
		}, wantCode: ErrInvalidRequest},
		{name: "issued without jwts", edit: func(s *SET) {
			s.Events = Events{TokenIssued: &TokenIssued{TokenHash: testHash, Subject: "u", ClientID: "c", Expiry: now.Unix()}}
		}, wantCode: ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVerifier(testIssuer, testAudience, time.Minute, 5*time.Second, keyFuncOf(k), func() time.Time { return now })
			set := validSET(now)
			if tc.edit != nil {
				tc.edit(&set)
			}
			typ := oauth.JWTTypeSecEvent
			if tc.typ != "" {
				typ = tc.typ
			}
			signer := k
			if tc.signer != nil {
				// Same kid as the trusted key, different private key.
				signer = &keys.Key{ID: k.ID, Private: tc.signer.Private}
			}
			raw, err := signer.Sign(set, typ)
			require.NoError(t, err)

			_, err = v.Verify(context.Background(), raw)
			var serr *Error
			require.ErrorAs(t, err, &serr)
			assert.Equal(t, tc.wantCode, serr.Code)
		})
	}
}

func TestVerifyRejectsReplayedJTI(t *testing.T) {
	k := keytest.Key(t)
	now := time.Now()
	clock := func() time.Time { return now }
	v := NewVerifier(testIssuer, testAudience, time.Minute, 5*time.Second, keyFuncOf(k), clock)
	raw, err := k.Sign(validSET(now), oauth.JWTTypeSecEvent)
	require.NoError(t, err)

	_, err = v.Verify(context.Background(), raw)
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), raw)
	var serr *Error
	require.ErrorAs(t, err, &serr)
	assert.Equal(t, ErrInvalidRequest, serr.Code)
	assert.Contains(t, serr.Description, "received before")

	// Once the SET is too old its jti is forgotten, and the age check
	// still rejects it.
	now = now.Add(2 * time.Minute)
	_, err = v.Verify(context.Background(), raw)
	require.ErrorAs(t, err, &serr)
	assert.Contains(t, serr.Description, "too old")

	fresh, err := k.Sign(validSET(now), oauth.JWTTypeSecEvent)
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), fresh)
	require.NoError(t, err)
	v.mu.Lock()
	assert.Len(t, v.seen, 1, "the expired jti was swept")
	v.mu.Unlock()
}

func TestVerifyUnknownKidAndUnavailableKeys(t *testing.T) {
	k := keytest.Key(t)
	now := time.Now()
	raw, err := k.Sign(validSET(now), oauth.JWTTypeSecEvent)
	require.NoError(t, err)

	unknown := func(context.Context, string) (*rsa.PublicKey, error) { return nil, errors.New("no such kid") }
	_, err = NewVerifier(testIssuer, testAudience, time.Minute, 0, unknown, func() time.Time { return now }).Verify(context.Background(), raw)
	var serr *Error
	require.ErrorAs(t, err, &serr)
	assert.Equal(t, ErrInvalidKey, serr.Code)

	down := func(context.Context, string) (*rsa.PublicKey, error) { return nil, ErrKeysUnavailable }
	_, err = NewVerifier(testIssuer, testAudience, time.Minute, 0, down, func() time.Time { return now }).Verify(context.Background(), raw)
	assert.ErrorIs(t, err, ErrKeysUnavailable)
	assert.False(t, errors.As(err, &serr), "unavailable keys are no rejection of the SET")
}

func TestValidTokenHash(t *testing.T) {
	assert.NoError(t, ValidTokenHash(testHash))
	assert.Error(t, ValidTokenHash(""))
	assert.Error(t, ValidTokenHash("zz"+testHash[2:]))
	assert.Error(t, ValidTokenHash("AB"+testHash[2:]), "upper case")
}
