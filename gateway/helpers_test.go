package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

const (
	testClientID = "gateway"
	// testClientSecret has characters that RFC 6749 section 2.3.1
	// form-encoding changes, so the test detects a gateway that skips it.
	testClientSecret = "p@ss:w rd+/"
	testAudience     = "demo-api"
	testOrigin       = "http://localhost:8080"
	testToken        = "opaque-access-token-0123456789abcdefghijklmnopq"
)

// fakeAuthServer plays the authorization server's metadata, introspection
// and token exchange endpoints, and records what the gateway sent.
type fakeAuthServer struct {
	t    testing.TB
	srv  *httptest.Server
	jwt  string    // what the token exchange returns
	keys *keys.Set // signs jwt and the SETs, published at /jwks

	mu             sync.Mutex
	active         map[string]bool
	scope          string
	tokenExpiry    time.Time // the exp of every active token
	expiresIn      int       // the expires_in of the token exchange
	metadataStatus int       // 0 means 200
	jwksStatus     int       // 0 means 200
	exchangeError  string
	introspections []url.Values
	exchanges      []url.Values
	metadataCalls  int
	// gate, when set, holds every introspection until it is closed, after
	// signaling arrived.
	gate    chan struct{}
	arrived chan struct{}
}

func newFakeAuthServer(t testing.TB, now time.Time) *fakeAuthServer {
	t.Helper()
	key := keytest.Key(t)
	jwt, err := key.Sign(map[string]any{
		"iss": "x", "sub": "user-1", "aud": testAudience, "client_id": "demo-web",
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "jti-1",
	}, oauth.JWTTypeAccessToken)
	require.NoError(t, err)

	f := &fakeAuthServer{
		t: t, jwt: jwt, keys: keys.NewSet(key), active: map[string]bool{testToken: true},
		scope: "openid profile email", tokenExpiry: now.Add(time.Hour), expiresIn: 60,
		arrived: make(chan struct{}, 1),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", f.handleMetadata)
	mux.HandleFunc("POST /introspect", f.handleIntrospect)
	mux.HandleFunc("POST /token", f.handleToken)
	mux.HandleFunc("GET /jwks", f.handleJWKS)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAuthServer) issuer() string { return f.srv.URL }

func (f *fakeAuthServer) handleMetadata(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	f.metadataCalls++
	status := f.metadataStatus
	f.mu.Unlock()
	if status != 0 {
		http.Error(w, "metadata failure", status)
		return
	}
	oauth.WriteJSON(w, http.StatusOK, map[string]any{
		"issuer":                 f.srv.URL,
		"token_endpoint":         f.srv.URL + "/token",
		"introspection_endpoint": f.srv.URL + "/introspect",
		"jwks_uri":               f.srv.URL + "/jwks",
	})
}

func (f *fakeAuthServer) handleJWKS(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	status := f.jwksStatus
	f.mu.Unlock()
	if status != 0 {
		http.Error(w, "jwks failure", status)
		return
	}
	f.keys.Handler().ServeHTTP(w, r)
}

// checkClient asserts client_secret_basic with form-encoded credentials.
func (f *fakeAuthServer) checkClient(w http.ResponseWriter, r *http.Request) bool {
	want := "Basic " + base64.StdEncoding.EncodeToString(
		[]byte(url.QueryEscape(testClientID)+":"+url.QueryEscape(testClientSecret)))
	if !assert.Equal(f.t, want, r.Header.Get("Authorization"), "client_secret_basic header") {
		oauth.WriteError(w, oauth.NewError(oauth.ErrInvalidClient, "bad client"))
		return false
	}
	return true
}

func (f *fakeAuthServer) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	if !f.checkClient(w, r) {
		return
	}
	if !assert.NoError(f.t, r.ParseForm()) {
		return
	}
	f.mu.Lock()
	f.introspections = append(f.introspections, r.PostForm)
	active := f.active[r.PostForm.Get("token")]
	scope, exp, gate := f.scope, f.tokenExpiry, f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case f.arrived <- struct{}{}:
		default:
		}
		<-gate
	}
	if !active {
		oauth.WriteJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	oauth.WriteJSON(w, http.StatusOK, map[string]any{
		"active": true, "scope": scope, "client_id": "demo-web",
		"sub": "user-1", "exp": exp.Unix(), "iat": exp.Add(-time.Hour).Unix(),
		"token_type": "Bearer", "iss": f.srv.URL, "aud": []string{testAudience},
	})
}

func (f *fakeAuthServer) handleToken(w http.ResponseWriter, r *http.Request) {
	if !f.checkClient(w, r) {
		return
	}
	if !assert.NoError(f.t, r.ParseForm()) {
		return
	}
	f.mu.Lock()
	f.exchanges = append(f.exchanges, r.PostForm)
	exchangeError, expiresIn := f.exchangeError, f.expiresIn
	f.mu.Unlock()
	if exchangeError != "" {
		oauth.WriteError(w, oauth.NewError(exchangeError, "refused"))
		return
	}
	oauth.WriteJSON(w, http.StatusOK, map[string]any{
		"access_token":      f.jwt,
		"issued_token_type": oauth.TokenTypeAccessToken,
		"token_type":        "Bearer",
		"expires_in":        expiresIn,
	})
}

func (f *fakeAuthServer) calls() (introspections, exchanges int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.introspections), len(f.exchanges)
}

// forms returns the forms of the introspection and token exchange requests.
func (f *fakeAuthServer) forms() (introspections, exchanges []url.Values) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.introspections...), append([]url.Values(nil), f.exchanges...)
}

// set runs edit with the server's state locked.
func (f *fakeAuthServer) set(edit func(f *fakeAuthServer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	edit(f)
}

// fakeUpstream is a service behind the gateway that records the requests
// it got.
type fakeUpstream struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []*http.Request
}

func newFakeUpstream(t testing.TB) *fakeUpstream {
	t.Helper()
	u := &fakeUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.requests = append(u.requests, r.Clone(r.Context()))
		u.mu.Unlock()
		// The gateway must drop both of these.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		http.SetCookie(w, &http.Cookie{Name: "authserver_session", Value: "fixated"})
		oauth.WriteJSON(w, http.StatusOK, map[string]string{"path": r.URL.Path})
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *fakeUpstream) received() []*http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*http.Request(nil), u.requests...)
}

// testGateway is a gateway in front of a fake authorization server and a
// fake upstream, with its log captured.
type testGateway struct {
	*Server
	auth     *fakeAuthServer
	upstream *fakeUpstream
	logs     *syncBuffer
}

func newTestGateway(t *testing.T, edit func(*Config)) *testGateway {
	t.Helper()
	return newTestGatewayAt(t, time.Now(), edit)
}

// newTestGatewayAt starts a gateway whose fake authorization server issues
// tokens and JWTs relative to now.
func newTestGatewayAt(t testing.TB, now time.Time, edit func(*Config)) *testGateway {
	t.Helper()
	auth := newFakeAuthServer(t, now)
	upstream := newFakeUpstream(t)
	logs := &syncBuffer{}
	cfg := Config{
		AuthServer:   auth.issuer(),
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		Routes: []Route{{
			Prefix:         "/api/",
			Upstream:       upstream.srv.URL,
			Audience:       testAudience,
			AllowedOrigins: []string{testOrigin},
		}},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		// Tests run the key check themselves, with maintain.
		KeyCheckInterval: -1,
	}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return &testGateway{Server: srv, auth: auth, upstream: upstream, logs: logs}
}

// do serves req and returns the recorded response.
func (g *testGateway) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, req)
	return rec
}

func apiRequest(method, target, authorization string) *http.Request {
	req := httptest.NewRequest(method, target, nil)
	req.RemoteAddr = "127.0.0.1:50000"
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return req
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "body %q", rec.Body.String())
	return body.Error
}

// fakeClock is a clock that moves only when a test advances it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
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

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
