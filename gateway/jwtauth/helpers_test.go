package jwtauth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

const testAudience = "demo-api"

// fakeClock is a clock that moves only when a test advances it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testIssuer serves RFC 8414 metadata and a JWKS from a key set, and
// counts the JWKS requests.
type testIssuer struct {
	srv  *httptest.Server
	keys *keys.Set

	mu         sync.Mutex
	jwksCalls  int
	jwksStatus int // 0 means 200
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	iss := &testIssuer{keys: keys.NewSet(keytest.Key(t))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, _ *http.Request) {
		oauth.WriteJSON(w, http.StatusOK, map[string]string{
			"issuer":   iss.srv.URL,
			"jwks_uri": iss.srv.URL + "/jwks",
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		iss.mu.Lock()
		iss.jwksCalls++
		status := iss.jwksStatus
		iss.mu.Unlock()
		if status != 0 {
			http.Error(w, "jwks failure", status)
			return
		}
		iss.keys.Handler().ServeHTTP(w, r)
	})
	iss.srv = httptest.NewServer(mux)
	t.Cleanup(iss.srv.Close)
	return iss
}

func (iss *testIssuer) url() string { return iss.srv.URL }

func (iss *testIssuer) calls() int {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.jwksCalls
}

func (iss *testIssuer) setStatus(status int) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.jwksStatus = status
}

// goodClaims returns the claims of a valid token issued at now.
func (iss *testIssuer) goodClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss":            iss.url(),
		"sub":            "user-42",
		"aud":            testAudience,
		"client_id":      "demo-web",
		"iat":            now.Unix(),
		"exp":            now.Add(time.Minute).Unix(),
		"jti":            "jti-1",
		"scope":          "openid profile email",
		"name":           "Alice Liddell",
		"email":          "alice@example.com",
		"email_verified": true,
		"act":            map[string]string{"sub": "gateway"},
	}
}

// sign signs claims with key as an at+jwt.
func sign(t *testing.T, key *keys.Key, claims map[string]any) string {
	t.Helper()
	token, err := key.Sign(claims, oauth.JWTTypeAccessToken)
	require.NoError(t, err)
	return token
}

// signWith signs claims with any algorithm and key, and exactly the given
// extra headers (no typ unless headers has one).
func signWith(t *testing.T, alg jose.SignatureAlgorithm, key any, headers map[jose.HeaderKey]any, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{ExtraHeaders: headers}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	require.NoError(t, err)
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	jws, err := signer.Sign(payload)
	require.NoError(t, err)
	token, err := jws.CompactSerialize()
	require.NoError(t, err)
	return token
}

// unsigned returns a token with alg "none" and an empty signature.
func unsigned(t *testing.T, kid string, claims map[string]any) string {
	t.Helper()
	header, err := json.Marshal(map[string]string{"alg": "none", "typ": "at+jwt", "kid": kid})
	require.NoError(t, err)
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(header) + "." + enc(payload) + "."
}

func newTestVerifier(t *testing.T, iss *testIssuer, clock *fakeClock) *Verifier {
	t.Helper()
	v, err := New(Config{Issuer: iss.url(), Audience: testAudience, Clock: clock.Now})
	require.NoError(t, err)
	return v
}
