package authserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/mockidp"
)

// countingStore counts the users and sessions the server writes, so a test
// can show that a rejected login wrote neither.
type countingStore struct {
	store.Store
	users, sessions atomic.Int32
}

func (c *countingStore) UpsertUser(ctx context.Context, u store.User) (store.User, error) {
	c.users.Add(1)
	return c.Store.UpsertUser(ctx, u)
}

func (c *countingStore) CreateSession(ctx context.Context, s store.Session) error {
	c.sessions.Add(1)
	return c.Store.CreateSession(ctx, s)
}

func (c *countingStore) ReplaceSession(ctx context.Context, oldID string, s store.Session) error {
	c.sessions.Add(1)
	return c.Store.ReplaceSession(ctx, oldID, s)
}

// upstreamTamper is the authorization server's HTTP transport in tests that
// forge the provider's back-channel responses. Requests go to the real
// mock IDP, and the test may fail a request or rewrite the token response.
type upstreamTamper struct {
	mu sync.Mutex
	// fail, when set, makes a request fail as if the provider were down.
	// It returns the status to respond with, or 0 for a connection error.
	fail func(r *http.Request) (status int, failed bool)
	// token, when set, rewrites the token response's JSON.
	token func(body map[string]any)
}

func (u *upstreamTamper) set(fn func(u *upstreamTamper)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	fn(u)
}

func (u *upstreamTamper) RoundTrip(req *http.Request) (*http.Response, error) {
	u.mu.Lock()
	fail, token := u.fail, u.token
	u.mu.Unlock()

	if fail != nil {
		if status, failed := fail(req); failed && status == 0 {
			return nil, errors.New("connection refused (injected)")
		} else if failed {
			return &http.Response{
				StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(`{"error":"server_error"}`)), Request: req,
			}, nil
		}
	}

	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if token == nil || !strings.HasSuffix(req.URL.Path, "/token") || resp.StatusCode != http.StatusOK {
		return resp, nil
	}

	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	token(body)
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	resp.Header.Set("Content-Length", strconv.Itoa(len(data)))
	return resp, nil
}

// federation is a stack whose authorization server talks to the mock IDP
// through an upstreamTamper and writes to a countingStore.
type federation struct {
	*stack
	tamper *upstreamTamper
	counts *countingStore
}

func newFederation(t *testing.T, configure func(*Config)) *federation {
	t.Helper()
	f := &federation{tamper: &upstreamTamper{}}
	f.stack = newStack(t, func(c *Config) {
		f.counts = &countingStore{Store: c.Store}
		c.Store = f.counts
		c.HTTPClient = &http.Client{Transport: f.tamper}
		if configure != nil {
			configure(c)
		}
	})
	return f
}

// loginWith runs steps 2a to 13b through the upstream idp and returns the
// web app callback's query.
func (f *federation) loginWith(b *browser, idp, email, password string) url.Values {
	f.t.Helper()
	authURL := f.webClient().AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	resp, page := b.get(authURL)
	require.Equal(f.t, http.StatusOK, resp.StatusCode, "login page (3): %s", page)
	resp, page = b.submit(page, url.Values{"idp": {idp}})
	require.Equal(f.t, http.StatusOK, resp.StatusCode, "IDP login page (6): %s", page)
	return f.submitIDPLogin(b, page, email, password)
}

// resignIDToken returns a token-response rewrite that changes the ID
// token's claims and has the mock IDP sign the result with its own key.
func (f *federation) resignIDToken(change func(claims map[string]any)) func(map[string]any) {
	return func(body map[string]any) {
		claims := decodeClaims(f.t, body["id_token"].(string))
		change(claims)
		raw, err := f.idp.SignClaims("google", claims)
		require.NoError(f.t, err)
		body["id_token"] = raw
	}
}

// decodeHeader returns the header of a JWT without checking it.
func decodeHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	header, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(header, &h))
	return h
}

// decodeClaims returns the payload of a JWT without checking it.
func decodeClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	return claims
}

// assertRejected checks that the login ended at the web app with errCode
// and that no user and no session were written.
func (f *federation) assertRejected(t *testing.T, b *browser, callback url.Values, errCode string) {
	t.Helper()
	assert.Equal(t, errCode, callback.Get("error"), "error_description: %s", callback.Get("error_description"))
	assert.Equal(t, "st", callback.Get("state"))
	assert.Empty(t, callback.Get("code"))
	assert.Equal(t, int32(0), f.counts.users.Load(), "no user created")
	assert.Equal(t, int32(0), f.counts.sessions.Load(), "no session created")
	for _, c := range b.client.Jar.Cookies(mustParseURL(t, f.url)) {
		assert.NotEqual(t, sessionCookie, c.Name, "no session cookie set")
	}
}

func mustParseURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}

// isPath reports whether r goes to a path ending in tail.
func isPath(tail string) func(*http.Request) bool {
	return func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, tail) }
}

// TestCallbackRejectsForgedAnswers covers forged responses that no mockidp
// fault produces; TestMockIDPFaults covers the others.
func TestCallbackRejectsForgedAnswers(t *testing.T) {
	tests := []struct {
		name  string
		token func(f *federation) func(map[string]any)
		want  string
	}{
		{name: "no ID token", want: oauth.ErrServerError, token: func(*federation) func(map[string]any) {
			return func(body map[string]any) { delete(body, "id_token") }
		}},
		{name: "ID token signed by a foreign key with the real kid", want: oauth.ErrServerError, token: func(f *federation) func(map[string]any) {
			return func(body map[string]any) {
				forger := keytest.Key(f.t)
				forger.ID = decodeHeader(f.t, body["id_token"].(string))["kid"].(string)
				raw, err := forger.Sign(decodeClaims(f.t, body["id_token"].(string)), "JWT")
				require.NoError(f.t, err)
				body["id_token"] = raw
			}
		}},
		{name: "sub longer than 255 characters", want: oauth.ErrServerError, token: resign(func(c map[string]any) { c["sub"] = strings.Repeat("s", 256) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFederation(t, nil)
			f.tamper.set(func(u *upstreamTamper) { u.token = tt.token(f) })
			b := newBrowser(t)
			callback := f.loginWith(b, "google", "alice@example.com", "alice-password")
			f.assertRejected(t, b, callback, tt.want)
		})
	}
}

// resign is a table helper for federation.resignIDToken.
func resign(change func(claims map[string]any)) func(f *federation) func(map[string]any) {
	return func(f *federation) func(map[string]any) { return f.resignIDToken(change) }
}

// TestCallbackAcceptsValidVariants covers valid ID tokens that no mockidp
// fault produces.
func TestCallbackAcceptsValidVariants(t *testing.T) {
	tests := []struct {
		name   string
		change func(claims map[string]any)
	}{
		{"several audiences with azp", func(c map[string]any) {
			c["aud"] = []any{c["aud"], "another-client"}
			c["azp"] = DemoUpstreamClientID
		}},
		{"no azp", func(c map[string]any) { delete(c, "azp") }},
		{"no at_hash", func(c map[string]any) { delete(c, "at_hash") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFederation(t, nil)
			f.tamper.set(func(u *upstreamTamper) { u.token = f.resignIDToken(tt.change) })
			b := newBrowser(t)
			callback := f.loginWith(b, "google", "alice@example.com", "alice-password")
			assert.Empty(t, callback.Get("error"), "error_description: %s", callback.Get("error_description"))
			assert.NotEmpty(t, callback.Get("code"))
			assert.Equal(t, int32(1), f.counts.users.Load())
			assert.Equal(t, int32(1), f.counts.sessions.Load())
		})
	}
}

func TestCallbackUpstreamUnavailable(t *testing.T) {
	tests := []struct {
		name string
		fail func(*http.Request) (int, bool)
		want string
	}{
		{"token endpoint unreachable", failIf(isPath("/token"), 0), oauth.ErrTemporarilyUnavailable},
		{"token endpoint 503", failIf(isPath("/token"), http.StatusServiceUnavailable), oauth.ErrTemporarilyUnavailable},
		{"JWKS unreachable", failIf(isPath("/jwks"), 0), oauth.ErrTemporarilyUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFederation(t, nil)
			f.tamper.set(func(u *upstreamTamper) { u.fail = tt.fail })
			b := newBrowser(t)
			callback := f.loginWith(b, "google", "alice@example.com", "alice-password")
			f.assertRejected(t, b, callback, tt.want)

			// Once the provider is back, the next login works. The clock
			// moves past the key set's wait after a failed fetch.
			f.tamper.set(func(u *upstreamTamper) { u.fail = nil })
			f.clock.Advance(time.Second)
			callback = f.loginWith(newBrowser(t), "google", "alice@example.com", "alice-password")
			assert.NotEmpty(t, callback.Get("code"), "error: %s", callback.Get("error"))
		})
	}
}

// failIf fails the requests that match with status, or with a connection
// error when status is 0.
func failIf(match func(*http.Request) bool, status int) func(*http.Request) (int, bool) {
	return func(r *http.Request) (int, bool) { return status, match(r) }
}

func TestCallbackRejectsReplayedNonce(t *testing.T) {
	f := newFederation(t, nil)
	var captured string
	f.tamper.set(func(u *upstreamTamper) {
		u.token = func(body map[string]any) { captured = body["id_token"].(string) }
	})
	callback := f.loginWith(newBrowser(t), "google", "alice@example.com", "alice-password")
	require.NotEmpty(t, callback.Get("code"))
	require.NotEmpty(t, captured)
	users, sessions := f.counts.users.Load(), f.counts.sessions.Load()

	// A later login receives the earlier login's ID token: still signed,
	// unexpired and for this client, but its nonce belongs to the first
	// login, whose transaction is gone.
	f.tamper.set(func(u *upstreamTamper) {
		u.token = func(body map[string]any) { body["id_token"] = captured }
	})
	b := newBrowser(t)
	callback = f.loginWith(b, "google", "bob@example.com", "bob-password")
	assert.Equal(t, oauth.ErrServerError, callback.Get("error"))
	assert.Empty(t, callback.Get("code"))
	assert.Equal(t, users, f.counts.users.Load(), "no user written")
	assert.Equal(t, sessions, f.counts.sessions.Load(), "no session created")
}

func TestCallbackReplayCreatesNoSession(t *testing.T) {
	f := newFederation(t, nil)
	b := newBrowser(t)
	callback := f.loginWith(b, "google", "alice@example.com", "alice-password")
	require.NotEmpty(t, callback.Get("code"))
	response := b.visited("/callback/google")
	require.NotNil(t, response)
	require.Equal(t, int32(1), f.counts.sessions.Load())

	// In the same browser the replayed state is spent. In an attacker's
	// browser with a login transaction of its own, it belongs to another
	// transaction.
	attacker := newBrowser(t)
	resp, page := attacker.get(f.webClient().AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	for name, jar := range map[string]http.CookieJar{"same browser": b.client.Jar, "other browser": attacker.client.Jar} {
		resp, err := noRedirectClient(jar).Get(response.String())
		require.NoError(t, err, name)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, name)
		assert.Empty(t, resp.Header.Get("Location"), name)
	}
	assert.Equal(t, int32(1), f.counts.sessions.Load(), "no session from a replay")
	assert.Equal(t, int32(1), f.counts.users.Load(), "no user write from a replay")
}

// userOf logs in through idp and returns the authorization server's user
// ID and name, read through its token and userinfo endpoints.
func (f *federation) userOf(b *browser, idp, email, password string) (sub, name string) {
	f.t.Helper()
	conf := f.webClient()
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier))
	resp, page := b.get(authURL)
	require.Equal(f.t, http.StatusOK, resp.StatusCode, page)
	resp, page = b.submit(page, url.Values{"idp": {idp}})
	require.Equal(f.t, http.StatusOK, resp.StatusCode, page)
	callback := f.submitIDPLogin(b, page, email, password)
	require.NotEmpty(f.t, callback.Get("code"), "error: %s", callback.Get("error"))

	token, err := conf.Exchange(f.t.Context(), callback.Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(f.t, err)
	req, err := http.NewRequest(http.MethodGet, f.url+"/userinfo", nil)
	require.NoError(f.t, err)
	req.Header.Set("Authorization", "Bearer "+token.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	require.Equal(f.t, http.StatusOK, resp.StatusCode)
	info := decodeJSON(f.t, resp)
	return info["sub"].(string), info["name"].(string)
}

func TestSameEmailAtTwoProvidersIsTwoUsers(t *testing.T) {
	f := newFederation(t, nil)
	// Both demo issuers have an alice@example.com, with the same subject
	// even, so only the issuer distinguishes them.
	googleSub, _ := f.userOf(newBrowser(t), "google", "alice@example.com", "alice-password")
	corpSub, _ := f.userOf(newBrowser(t), "corp", "alice@example.com", "alice-password")
	assert.NotEqual(t, googleSub, corpSub)

	againSub, _ := f.userOf(newBrowser(t), "corp", "alice@example.com", "alice-password")
	assert.Equal(t, corpSub, againSub, "the same provider's user keeps its ID")
}

func TestProfileRefreshedAtEachLogin(t *testing.T) {
	f := newFederation(t, nil)
	firstSub, firstName := f.userOf(newBrowser(t), "google", "alice@example.com", "alice-password")
	assert.Equal(t, "Alice Liddell", firstName)

	alice := mockidp.DemoUsers()[0]
	alice.Name = "Alice Pleasance Liddell"
	require.NoError(t, f.idp.AddUser("google", alice))

	secondSub, secondName := f.userOf(newBrowser(t), "google", "alice@example.com", "alice-password")
	assert.Equal(t, firstSub, secondSub)
	assert.Equal(t, "Alice Pleasance Liddell", secondName)
}

func TestUpstreamRequestCarriesMaxAge(t *testing.T) {
	f := newFederation(t, nil)
	b := newBrowser(t)
	authURL := f.webClient().AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("max_age", "300"))
	resp, page := b.get(authURL)
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	resp, page = b.submit(page, url.Values{"idp": {"google"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	upstream := b.visited("/google/authorize")
	require.NotNil(t, upstream)
	assert.Equal(t, "300", upstream.Query().Get("max_age"))

	// An ID token whose auth_time is older than max_age is rejected.
	f.tamper.set(func(u *upstreamTamper) {
		u.token = f.resignIDToken(func(c map[string]any) { c["auth_time"] = c["iat"].(float64) - 3600 })
	})
	callback := f.submitIDPLogin(b, page, "alice@example.com", "alice-password")
	f.assertRejected(t, b, callback, oauth.ErrServerError)
}

func TestImplicitRejectionInFragment(t *testing.T) {
	f := newFederation(t, func(c *Config) {
		c.Clients[0].GrantTypes = []string{oauth.GrantAuthorizationCode, oauth.GrantImplicit}
	})
	f.tamper.set(func(u *upstreamTamper) {
		u.token = f.resignIDToken(func(c map[string]any) { c["nonce"] = oauth.NewToken() })
	})
	b := newBrowser(t)
	authURL := f.webClient().AuthCodeURL("st", oauth2.SetAuthURLParam("response_type", oauth.ResponseTypeToken))
	resp, page := b.get(authURL)
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	resp, page = b.submit(page, url.Values{"idp": {"google"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	resp, page = b.submit(page, url.Values{"username": {"alice@example.com"}, "password": {"alice-password"}, "action": {"login"}})
	require.Equal(t, http.StatusFound, resp.StatusCode, page)

	// The implicit grant's errors go in the fragment (RFC 6749 section
	// 4.2.2.1), never in the query.
	loc := mustParseURL(t, resp.Header.Get("Location"))
	assert.Empty(t, loc.RawQuery)
	fragment, err := url.ParseQuery(loc.Fragment)
	require.NoError(t, err)
	assert.Equal(t, oauth.ErrServerError, fragment.Get("error"))
	assert.Equal(t, "st", fragment.Get("state"))
	assert.Empty(t, fragment.Get("access_token"))
	assert.Equal(t, int32(0), f.counts.sessions.Load(), "no session created")
}
