package jwks

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
)

// issuer serves a JWKS that a test can change, and counts the requests.
type issuer struct {
	mu       sync.Mutex
	set      *keys.Set
	down     bool
	requests atomic.Int32
	url      string
}

func newIssuer(t *testing.T, signing *keys.Key) *issuer {
	t.Helper()
	iss := &issuer{set: keys.NewSet(signing)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iss.requests.Add(1)
		iss.mu.Lock()
		down := iss.down
		iss.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		iss.set.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	iss.url = srv.URL
	return iss
}

func (iss *issuer) setDown(down bool) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.down = down
}

// clock is a clock tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newKeySet(iss *issuer, c *clock) *KeySet {
	return New(Config{URL: iss.url, Clock: c.Now, RefetchInterval: time.Minute})
}

func sign(t *testing.T, k *keys.Key) string {
	t.Helper()
	raw, err := k.Sign(map[string]any{"sub": "s"}, "JWT")
	require.NoError(t, err)
	return raw
}

func TestVerifySignatureAcceptsPublishedKey(t *testing.T) {
	k := keytest.Key(t)
	iss := newIssuer(t, k)
	ks := newKeySet(iss, &clock{now: time.Unix(1e9, 0)})

	payload, err := ks.VerifySignature(context.Background(), sign(t, k))
	require.NoError(t, err)
	assert.JSONEq(t, `{"sub":"s"}`, string(payload))

	// The second token is checked from the cache.
	_, err = ks.VerifySignature(context.Background(), sign(t, k))
	require.NoError(t, err)
	assert.Equal(t, int32(1), iss.requests.Load())
}

func TestUnknownKidRefetchIsRateLimited(t *testing.T) {
	iss := newIssuer(t, keytest.Key(t))
	c := &clock{now: time.Unix(1e9, 0)}
	ks := newKeySet(iss, c)
	stranger := keytest.Key(t)

	// The first lookup fetches the set; the unknown kid is not in it.
	_, err := ks.VerifySignature(context.Background(), sign(t, stranger))
	require.ErrorIs(t, err, ErrUnknownKey)
	require.Equal(t, int32(1), iss.requests.Load())

	// Within the interval, more unknown kids cause no request.
	for range 20 {
		_, err = ks.VerifySignature(context.Background(), sign(t, stranger))
		require.ErrorIs(t, err, ErrUnknownKey)
	}
	assert.Equal(t, int32(1), iss.requests.Load())

	// After the interval, one refetch finds a rotated-in key.
	rotated := keytest.Key(t)
	iss.set.Rotate(rotated)
	c.Advance(time.Minute)
	_, err = ks.VerifySignature(context.Background(), sign(t, rotated))
	require.NoError(t, err)
	assert.Equal(t, int32(2), iss.requests.Load())
}

func TestConcurrentMissesShareOneFetch(t *testing.T) {
	k := keytest.Key(t)
	iss := newIssuer(t, k)
	ks := newKeySet(iss, &clock{now: time.Unix(1e9, 0)})
	token := sign(t, k)

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := ks.VerifySignature(context.Background(), token)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), iss.requests.Load())
}

func TestFetchFailureIsUnavailableThenRetried(t *testing.T) {
	k := keytest.Key(t)
	iss := newIssuer(t, k)
	iss.setDown(true)
	c := &clock{now: time.Unix(1e9, 0)}
	ks := newKeySet(iss, c)

	_, err := ks.VerifySignature(context.Background(), sign(t, k))
	require.ErrorIs(t, err, ErrUnavailable)

	// Right after a failure, no request goes out.
	_, err = ks.VerifySignature(context.Background(), sign(t, k))
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Equal(t, int32(1), iss.requests.Load())

	iss.setDown(false)
	c.Advance(RetryAfterFailedFetch)
	_, err = ks.VerifySignature(context.Background(), sign(t, k))
	require.NoError(t, err)
}

func TestVerifySignatureRejectsForgeries(t *testing.T) {
	k := keytest.Key(t)
	iss := newIssuer(t, k)
	ks := newKeySet(iss, &clock{now: time.Unix(1e9, 0)})
	good := sign(t, k)
	parts := strings.Split(good, ".")
	require.Len(t, parts, 3)

	hmacSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("a shared secret of 32 bytes long")},
		(&jose.SignerOptions{}).WithHeader("kid", k.ID))
	require.NoError(t, err)
	hmacJWS, err := hmacSigner.Sign([]byte(`{"sub":"s"}`))
	require.NoError(t, err)
	hmacToken, err := hmacJWS.CompactSerialize()
	require.NoError(t, err)

	otherKey := keytest.Key(t)
	otherKey.ID = k.ID // same kid, different key
	wrongKey := sign(t, otherKey)

	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + k.ID + `"}`))

	for name, raw := range map[string]string{
		"alg none":        noneHeader + "." + parts[1] + ".",
		"alg HS256":       hmacToken,
		"wrong key":       wrongKey,
		"payload changed": parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"t"}`)) + "." + parts[2],
		"not a JWT":       "abc",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ks.VerifySignature(context.Background(), raw)
			assert.ErrorIs(t, err, ErrInvalidSignature)
		})
	}
}

func TestTokenWithoutKidTriesEveryKey(t *testing.T) {
	k := keytest.Key(t)
	iss := newIssuer(t, k)
	iss.set.Rotate(keytest.Key(t))
	ks := newKeySet(iss, &clock{now: time.Unix(1e9, 0)})

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.Private}, nil)
	require.NoError(t, err)
	jws, err := signer.Sign([]byte(`{"sub":"s"}`))
	require.NoError(t, err)
	raw, err := jws.CompactSerialize()
	require.NoError(t, err)

	payload, err := ks.VerifySignature(context.Background(), raw)
	require.NoError(t, err)
	assert.JSONEq(t, `{"sub":"s"}`, string(payload))
}

func TestFetchSkipsUnusableKeys(t *testing.T) {
	k := keytest.Key(t)
	rsaJWK, err := k.PublicJWK().MarshalJSON()
	require.NoError(t, err)
	encJWK := `{"kty":"RSA","use":"enc","kid":"enc","n":"` + base64.RawURLEncoding.EncodeToString(k.Private.N.Bytes()) + `","e":"AQAB"}`
	secp256k1 := `{"kty":"EC","crv":"secp256k1","kid":"k1","x":"AAAA","y":"AAAA"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[` + secp256k1 + `,` + encJWK + `,` + string(rsaJWK) + `]}`))
	}))
	t.Cleanup(srv.Close)
	ks := New(Config{URL: srv.URL})

	_, err = ks.VerifySignature(context.Background(), sign(t, k))
	require.NoError(t, err)
	_, err = ks.Key(context.Background(), "enc")
	assert.ErrorIs(t, err, ErrUnknownKey, "an encryption key never verifies a signature")
}
