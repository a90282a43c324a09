package authserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)}
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

const testWebApp = "http://localhost:8080"

// testEnv is an authorization server on a loopback port with a store the
// test can seed directly.
type testEnv struct {
	t     *testing.T
	srv   *Server
	url   string
	store store.Store
	clock *fakeClock
	key   *keys.Key
}

// newTestEnv starts a server with the demo clients and an upstream that
// the test never contacts unless it sets its own. configure may change
// the config before New.
func newTestEnv(t *testing.T, configure func(*Config)) *testEnv {
	t.Helper()
	st, err := store.OpenSQLiteMemory(context.Background(), "authserver-test-"+oauth.NewToken())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })

	hs := httptest.NewUnstartedServer(nil)
	issuer := "http://" + hs.Listener.Addr().String()
	env := &testEnv{t: t, url: issuer, store: st, clock: newFakeClock(), key: keytest.Key(t)}
	cfg := Config{
		Issuer:      issuer,
		Store:       st,
		Clients:     DemoClients(testWebApp),
		Upstreams:   []Upstream{{ID: "unused", DisplayName: "Unused", Issuer: "http://127.0.0.1:1/unused", ClientID: "c"}},
		SigningKeys: []*keys.Key{env.key},
		Clock:       env.clock.Now,
	}
	if configure != nil {
		configure(&cfg)
	}
	env.store = cfg.Store
	srv, err := New(cfg)
	require.NoError(t, err)
	env.srv = srv
	hs.Config.Handler = srv
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return env
}

// noRedirectClient returns a client that reports redirects instead of
// following them.
func noRedirectClient(jar http.CookieJar) *http.Client {
	return &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// get sends a GET without following redirects.
func (e *testEnv) get(path string) *http.Response {
	e.t.Helper()
	resp, err := noRedirectClient(nil).Get(e.url + path)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// postForm posts form to path with optional Basic credentials and headers.
func (e *testEnv) postForm(path string, form url.Values, basicUser, basicPass string, header http.Header) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(form.Encode()))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	resp, err := noRedirectClient(nil).Do(req)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func decodeJSON(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return m
}

// seedUser stores a user with the demo profile of Alice.
func (e *testEnv) seedUser(id string) store.User {
	e.t.Helper()
	now := e.clock.Now()
	u, err := e.store.UpsertUser(context.Background(), store.User{
		ID: id, Issuer: "https://idp.example", Subject: "sub-" + id,
		Profile: store.Profile{
			Email: "alice@example.com", EmailVerified: true, Name: "Alice Liddell",
			GivenName: "Alice", FamilyName: "Liddell",
		},
		CreatedAt: now, UpdatedAt: now,
	})
	require.NoError(e.t, err)
	return u
}

// seedCode stores an authorization code for demo-web as /authorize would
// issue it, and returns the code and its PKCE verifier.
func (e *testEnv) seedCode(userID, scope, nonce string) (code, verifier string) {
	e.t.Helper()
	code, verifier = oauth.NewToken(), oauth.NewToken()
	now := e.clock.Now()
	err := e.store.CreateAuthCode(context.Background(), store.AuthCode{
		Hash: oauth.HashToken(code), ClientID: DemoWebClientID, RedirectURI: testWebApp + "/callback",
		UserID: userID, SessionID: "s", Scope: scope, Nonce: nonce,
		CodeChallenge: oauth.S256Challenge(verifier), CodeChallengeMethod: oauth.PKCEMethodS256,
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(DefaultCodeTTL),
	})
	require.NoError(e.t, err)
	return code, verifier
}

// seedAccessToken stores an access token of demo-web for userID.
func (e *testEnv) seedAccessToken(userID string, ttl time.Duration) string {
	e.t.Helper()
	token := oauth.NewToken()
	now := e.clock.Now()
	err := e.store.CreateAccessToken(context.Background(), store.AccessToken{
		Hash: oauth.HashToken(token), ClientID: DemoWebClientID, UserID: userID,
		Scope: "openid profile email", Audiences: []string{DemoAudience}, GrantID: "g-" + token[:8],
		IssuedAt: now, ExpiresAt: now.Add(ttl),
	})
	require.NoError(e.t, err)
	return token
}

// redeem posts an authorization code grant for demo-web.
func (e *testEnv) redeem(code, verifier string, header http.Header) *http.Response {
	e.t.Helper()
	return e.postForm("/token", url.Values{
		"grant_type": {oauth.GrantAuthorizationCode}, "code": {code}, "client_id": {DemoWebClientID},
		"redirect_uri": {testWebApp + "/callback"}, "code_verifier": {verifier},
	}, "", "", header)
}

// seedSession stores a session for userID that authenticated age ago and
// returns its cookie.
func (e *testEnv) seedSession(userID string, age time.Duration) *http.Cookie {
	e.t.Helper()
	token := oauth.NewToken()
	now := e.clock.Now()
	err := e.store.CreateSession(context.Background(), store.Session{
		ID: oauth.HashToken(token), UserID: userID, UpstreamID: "unused",
		AuthTime: now.Add(-age), CreatedAt: now.Add(-age), ExpiresAt: now.Add(DefaultSessionTTL - age),
	})
	require.NoError(e.t, err)
	return &http.Cookie{Name: "authserver_session", Value: token}
}

// getWithCookie sends a GET with the cookie, without following redirects.
func (e *testEnv) getWithCookie(path string, cookie *http.Cookie) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	require.NoError(e.t, err)
	req.AddCookie(cookie)
	resp, err := noRedirectClient(nil).Do(req)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}
