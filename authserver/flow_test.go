package authserver

import (
	"context"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
	"github.com/oidcstack/oidcstack/mockidp"
)

// stack is an authorization server at http://localhost:PORT and a mock IDP
// at http://127.0.0.1:PORT, so the IDP hop is cross-site as in production.
type stack struct {
	*testEnv
	idp *mockidp.Server
}

// newStack starts both servers; configure may change the authorization
// server's config.
func newStack(t *testing.T, configure func(*Config)) *stack {
	t.Helper()
	idpHTTP := httptest.NewUnstartedServer(nil)
	idpURL := "http://" + idpHTTP.Listener.Addr().String()

	var idp *mockidp.Server
	env := newTestEnv(t, func(c *Config) {
		c.Issuer = strings.Replace(c.Issuer, "127.0.0.1", "localhost", 1)
		c.Upstreams = DemoUpstreams(idpURL)
		issuers := mockidp.DemoIssuers(c.Issuer)
		for i := range issuers {
			issuers[i].Keys = []*keys.Key{keytest.Key(t)}
		}
		var err error
		idp, err = mockidp.New(mockidp.Config{BaseURL: idpURL, Issuers: issuers, Clock: c.Clock})
		require.NoError(t, err)
		if configure != nil {
			configure(c)
		}
	})
	env.url = strings.Replace(env.url, "127.0.0.1", "localhost", 1)
	idpHTTP.Config.Handler = idp
	idpHTTP.Start()
	t.Cleanup(func() {
		idpHTTP.Close()
		idp.Close()
	})
	return &stack{testEnv: env, idp: idp}
}

// browser is a cookie-keeping HTTP client that follows redirects until one
// leads to the web app, which is not running, and remembers every URL it
// visited.
type browser struct {
	t      *testing.T
	client *http.Client
	mu     sync.Mutex
	seen   []*url.URL
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	b := &browser{t: t}
	b.client = &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			b.mu.Lock()
			b.seen = append(b.seen, req.URL)
			b.mu.Unlock()
			if strings.HasPrefix(req.URL.String(), testWebApp) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return b
}

func (b *browser) get(rawURL string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Get(rawURL)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	return resp, readBody(b.t, resp)
}

// submit posts the page's first form with its hidden fields plus extra.
func (b *browser) submit(page string, extra url.Values) (*http.Response, string) {
	b.t.Helper()
	action, fields := parsePageForm(b.t, page)
	for k, vs := range extra {
		fields[k] = vs
	}
	resp, err := b.client.PostForm(action, fields)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	return resp, readBody(b.t, resp)
}

// visited returns the first visited URL whose path is path.
func (b *browser) visited(path string) *url.URL {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, u := range b.seen {
		if u.Path == path {
			return u
		}
	}
	return nil
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

func parsePageForm(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	m := formAction.FindStringSubmatch(page)
	require.NotNil(t, m, "page has a form: %s", page)
	fields := url.Values{}
	for _, in := range hiddenInput.FindAllStringSubmatch(page, -1) {
		fields.Set(in[1], html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), fields
}

// webClient is the web app's OAuth client, unmodified x/oauth2.
func (s *stack) webClient() *oauth2.Config {
	return &oauth2.Config{
		ClientID: DemoWebClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL: s.url + "/authorize", TokenURL: s.url + "/token", AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: testWebApp + "/callback",
		Scopes:      []string{"openid", "profile", "email"},
	}
}

// login runs steps 2a to 13b for the demo user with the given credentials
// and returns the web app callback's query.
func (s *stack) login(b *browser, authURL, email, password string) url.Values {
	s.t.Helper()
	resp, page := b.get(authURL)
	require.Equal(s.t, http.StatusOK, resp.StatusCode, "login page (3): %s", page)
	require.Contains(s.t, page, "Log in with Google (mock)")

	resp, page = b.submit(page, url.Values{"idp": {"google"}})
	require.Equal(s.t, http.StatusOK, resp.StatusCode, "IDP login page (6): %s", page)
	return s.submitIDPLogin(b, page, email, password)
}

func (s *stack) submitIDPLogin(b *browser, page, email, password string) url.Values {
	s.t.Helper()
	resp, body := b.submit(page, url.Values{"username": {email}, "password": {password}, "action": {"login"}})
	require.Equal(s.t, http.StatusFound, resp.StatusCode, "redirect to the web app (13b): %s", body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(s.t, err)
	require.Equal(s.t, testWebApp+"/callback", loc.Scheme+"://"+loc.Host+loc.Path)
	return loc.Query()
}

func TestLoginThroughMockIDP(t *testing.T) {
	s := newStack(t, nil)
	b := newBrowser(t)
	conf := s.webClient()
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("app-state-1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "app-nonce"))

	callback := s.login(b, authURL, "alice@example.com", "alice-password")
	assert.Equal(t, "app-state-1", callback.Get("state"))
	assert.Equal(t, s.url, callback.Get("iss"))
	require.NotEmpty(t, callback.Get("code"))

	// 14c: the unmodified x/oauth2 client redeems the code with its verifier.
	ctx := context.Background()
	token, err := conf.Exchange(ctx, callback.Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	assert.Equal(t, "Bearer", token.TokenType)

	provider, err := oidc.NewProvider(ctx, s.url)
	require.NoError(t, err)
	idToken, err := provider.Verifier(&oidc.Config{ClientID: DemoWebClientID, Now: s.clock.Now}).
		Verify(ctx, token.Extra("id_token").(string))
	require.NoError(t, err)
	assert.Equal(t, "app-nonce", idToken.Nonce)

	// 11a: the user is keyed by the IDP's issuer and subject.
	user, err := s.store.GetUser(ctx, idToken.Subject)
	require.NoError(t, err)
	assert.Equal(t, s.idp.Issuer("google"), user.Issuer)
	assert.Equal(t, "104293871234509876543", user.Subject)
	assert.Equal(t, store.Profile{Email: "alice@example.com", EmailVerified: true, Name: "Alice Liddell", GivenName: "Alice", FamilyName: "Liddell"}, user.Profile)

	// 16: introspection by the gateway.
	resp := s.introspect(token.AccessToken, DemoGatewayClientID, DemoGatewaySecret)
	intro := decodeJSON(t, resp)
	assert.Equal(t, true, intro["active"])
	assert.Equal(t, user.ID, intro["sub"])
	assert.Equal(t, DemoWebClientID, intro["client_id"])

	// 17: the exchanged JWT.
	resp = s.exchange(token.AccessToken, DemoAudience)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	exchanged := decodeJSON(t, resp)
	header, claims := verifyJWT(t, s.testEnv, exchanged["access_token"].(string))
	assert.Equal(t, "at+jwt", header.ExtraHeaders["typ"])
	assert.Equal(t, s.url, claims["iss"])
	assert.Equal(t, DemoAudience, claims["aud"])
	assert.Equal(t, user.ID, claims["sub"])
	assert.Equal(t, DemoWebClientID, claims["client_id"])
	assert.Equal(t, map[string]any{"sub": DemoGatewayClientID}, claims["act"])
	assert.Equal(t, float64(60), claims["exp"].(float64)-claims["iat"].(float64))

	// Every authserver step of the flow is traced, and the fingerprints
	// tie the steps of this login together.
	fingerprints := map[string]map[string]string{}
	for _, e := range s.srv.Trace().Events() {
		fingerprints[e.Step] = e.Fingerprints
	}
	for _, want := range []string{"2b", "3", "4b", "9b", "10a", "11a", "11b", "13b", "14c", "16", "17"} {
		assert.Contains(t, fingerprints, want)
	}
	assert.NotEmpty(t, fingerprints["2b"]["app_state"])
	assert.Equal(t, fingerprints["2b"]["app_state"], fingerprints["13b"]["app_state"])
	assert.NotEmpty(t, fingerprints["4b"]["upstream_state"])
	assert.Equal(t, fingerprints["4b"]["upstream_state"], fingerprints["9b"]["upstream_state"])
	assert.Equal(t, trace.Fingerprint(callback.Get("code")), fingerprints["13b"]["code"])
	assert.Equal(t, fingerprints["13b"]["code"], fingerprints["14c"]["code"])
	assert.Equal(t, trace.Fingerprint(token.AccessToken), fingerprints["14c"]["access_token"])
	assert.Equal(t, fingerprints["14c"]["access_token"], fingerprints["16"]["access_token"])
	assert.Equal(t, fingerprints["14c"]["access_token"], fingerprints["17"]["access_token"])
	assert.Equal(t, trace.Fingerprint(exchanged["access_token"].(string)), fingerprints["17"]["jwt"])
	assert.Equal(t, trace.Fingerprint(user.ID), fingerprints["17"]["sub"])
}

func TestLoginSecondAuthorizeUsesSession(t *testing.T) {
	s := newStack(t, nil)
	b := newBrowser(t)
	conf := s.webClient()
	s.login(b, conf.AuthCodeURL("first", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "alice@example.com", "alice-password")

	// 13b straight away: no login page, no IDP.
	resp, err := b.client.Get(conf.AuthCodeURL("second", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "second", loc.Query().Get("state"))
	assert.NotEmpty(t, loc.Query().Get("code"))

	// prompt=login sends the user back to the login page and requests a
	// fresh login at the IDP too.
	resp, page := b.get(conf.AuthCodeURL("third", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "login")))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, "Log in with")
	action, fields := parsePageForm(t, page)
	fields.Set("idp", "google")
	resp, err = noRedirectClient(b.client.Jar).PostForm(action, fields)
	require.NoError(t, err)
	resp.Body.Close()
	upstream, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "login", upstream.Query().Get("prompt"))
	assert.Equal(t, "S256", upstream.Query().Get("code_challenge_method"))
	assert.NotEmpty(t, upstream.Query().Get("nonce"))
	assert.NotEmpty(t, upstream.Query().Get("state"))
}

func TestCallbackRejectsReplayedState(t *testing.T) {
	s := newStack(t, nil)
	b := newBrowser(t)
	s.login(b, s.webClient().AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "alice@example.com", "alice-password")
	callback := b.visited("/callback/google")
	require.NotNil(t, callback)

	resp, err := noRedirectClient(b.client.Jar).Get(callback.String())
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
}

func TestCallbackRejectsForeignState(t *testing.T) {
	s := newStack(t, nil)
	b := newBrowser(t)
	resp, page := b.get(s.webClient().AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, _ = b.submit(page, url.Values{"idp": {"google"}})

	// The browser has a transaction waiting at the IDP; a response with
	// another state (a login CSRF attempt) is rejected.
	resp, err := noRedirectClient(b.client.Jar).Get(s.url + "/callback/google?code=x&state=" + oauth.NewToken())
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
}

func TestLoginCancelledAtIDP(t *testing.T) {
	s := newStack(t, nil)
	b := newBrowser(t)
	resp, page := b.get(s.webClient().AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, page = b.submit(page, url.Values{"idp": {"google"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp, body := b.submit(page, url.Values{"action": {"cancel"}})
	require.Equal(t, http.StatusFound, resp.StatusCode, body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, oauth.ErrAccessDenied, loc.Query().Get("error"))
	assert.Equal(t, "st", loc.Query().Get("state"))
}
