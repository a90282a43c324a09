package authserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

const testPostLogoutURI = testWebApp + "/"

// sessionTokens redeems a code issued under the session of cookie, as the
// web app does at 14c after a login in that browser.
func (e *testEnv) sessionTokens(userID string, cookie *http.Cookie) map[string]any {
	e.t.Helper()
	code, verifier := oauth.NewToken(), oauth.NewToken()
	now := e.clock.Now()
	err := e.store.CreateAuthCode(context.Background(), store.AuthCode{
		Hash: oauth.HashToken(code), ClientID: DemoWebClientID, RedirectURI: testWebApp + "/callback",
		UserID: userID, SessionID: oauth.HashToken(cookie.Value), Scope: "openid profile email", Nonce: "n",
		CodeChallenge: oauth.S256Challenge(verifier), CodeChallengeMethod: oauth.PKCEMethodS256,
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(DefaultCodeTTL),
	})
	require.NoError(e.t, err)
	resp := e.redeem(code, verifier, nil)
	require.Equal(e.t, http.StatusOK, resp.StatusCode)
	return decodeJSON(e.t, resp)
}

// logout sends a logout request with params in the query (GET) or the
// body (POST), with the session cookie when it is not nil.
func (e *testEnv) logout(method string, params url.Values, cookie *http.Cookie) *http.Response {
	e.t.Helper()
	target := e.url + "/logout"
	var body *strings.Reader
	if method == http.MethodGet {
		target += "?" + params.Encode()
		body = strings.NewReader("")
	} else {
		body = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	require.NoError(e.t, err)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := noRedirectClient(nil).Do(req)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// active reports whether introspection finds token active.
func (e *testEnv) active(token string) bool {
	e.t.Helper()
	return decodeJSON(e.t, e.introspect(token, DemoGatewayClientID, DemoGatewaySecret))["active"] == true
}

// sessionExists reports whether the store still has the session of cookie.
func (e *testEnv) sessionExists(cookie *http.Cookie) bool {
	e.t.Helper()
	_, err := e.store.GetSession(context.Background(), oauth.HashToken(cookie.Value))
	if err == nil {
		return true
	}
	require.ErrorIs(e.t, err, store.ErrNotFound)
	return false
}

// expiredSessionCookie reports whether resp expires the session cookie.
func expiredSessionCookie(resp *http.Response) bool {
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return c.MaxAge < 0 && c.Value == "" && c.HttpOnly && c.SameSite == http.SameSiteLaxMode
		}
	}
	return false
}

// signHint signs claims as an ID token of env, changed by change.
func signHint(t *testing.T, env *testEnv, typ string, change func(map[string]any)) string {
	t.Helper()
	now := env.clock.Now()
	claims := map[string]any{
		"iss": env.url, "sub": "user-1", "aud": DemoWebClientID,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if change != nil {
		change(claims)
	}
	raw, err := env.key.Sign(claims, typ)
	require.NoError(t, err)
	return raw
}

func TestLogoutWithHintEndsSession(t *testing.T) {
	env, _, pull := newPushEnv(t, func(c *Config) {
		c.Clients[0].GrantTypes = []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken}
	})
	user := env.seedUser("user-1")
	cookie := env.seedSession(user.ID, time.Minute)
	first := env.sessionTokens(user.ID, cookie)
	second := env.sessionTokens(user.ID, cookie)

	// Two hours later the first ID token has expired, and a refresh
	// carries the session on to new tokens.
	env.clock.Advance(2 * DefaultAccessTokenTTL)
	resp := env.refresh(first["refresh_token"].(string), "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	refreshed := decodeJSON(t, resp)

	// Another browser of the same user keeps its session and tokens.
	otherCookie := env.seedSession(user.ID, time.Minute)
	other := env.sessionTokens(user.ID, otherCookie)

	// OpenID Connect RP-Initiated Logout 1.0 section 2: the server SHOULD
	// accept the expired hint.
	resp = env.logout(http.MethodGet, url.Values{
		"id_token_hint": {first["id_token"].(string)}, "client_id": {DemoWebClientID},
		"post_logout_redirect_uri": {testPostLogoutURI}, "state": {"logout-state"},
	}, cookie)
	require.Equal(t, http.StatusFound, resp.StatusCode, readBody(t, resp))
	assert.Equal(t, testPostLogoutURI+"?state=logout-state", resp.Header.Get("Location"))
	assert.True(t, expiredSessionCookie(resp), "the session cookie is expired")
	assert.False(t, env.sessionExists(cookie))

	// Every token of the session is revoked, the refreshed ones included.
	assert.False(t, env.active(refreshed["access_token"].(string)))
	for _, tokens := range []map[string]any{second, refreshed} {
		resp = env.refresh(tokens["refresh_token"].(string), "")
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "the refresh token is revoked")
	}
	assert.True(t, env.active(other["access_token"].(string)), "another session's token")
	assert.True(t, env.sessionExists(otherCookie))

	// The push names the token that was live; the first two had expired.
	revoked := pull.next().Events.TokenRevoked
	require.NotNil(t, revoked, "the logout pushes the revocation")
	assert.Equal(t, []string{oauth.HashToken(refreshed["access_token"].(string))}, revoked.TokenHashes)
	pull.nothingPending()
}

func TestLogoutPushesLiveTokens(t *testing.T) {
	env, push, pull := newPushEnv(t, nil)
	user := env.seedUser("user-1")
	cookie := env.seedSession(user.ID, time.Minute)
	first := env.sessionTokens(user.ID, cookie)
	second := env.sessionTokens(user.ID, cookie)
	require.NotNil(t, push.next().Events.TokenIssued)
	require.NotNil(t, push.next().Events.TokenIssued)

	resp := env.logout(http.MethodPost, url.Values{"id_token_hint": {second["id_token"].(string)}}, cookie)
	require.Equal(t, http.StatusOK, resp.StatusCode, "no redirect URI: the logged-out page")
	assert.Contains(t, readBody(t, resp), "You are logged out")

	want := []string{oauth.HashToken(first["access_token"].(string)), oauth.HashToken(second["access_token"].(string))}
	for _, rcv := range []*setReceiver{push, pull} {
		// The logout waited for the first delivery, so the events are
		// there already.
		select {
		case set := <-rcv.sets:
			<-rcv.raw
			require.NotNil(t, set.Events.TokenRevoked)
			assert.ElementsMatch(t, want, set.Events.TokenRevoked.TokenHashes)
		default:
			t.Fatalf("%s: no revocation delivered before the logout response", rcv.audience)
		}
	}

	// A push cycle after the logout sends nothing for the tokens.
	env.srv.pushCycle(context.Background())
	assert.NotNil(t, push.next().Events.StateSynced)
	push.nothingPending()
}

func TestLogoutWithoutHintAsksConfirmation(t *testing.T) {
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	cookie := env.seedSession(user.ID, time.Minute)
	tokens := env.sessionTokens(user.ID, cookie)
	accessToken := tokens["access_token"].(string)
	params := url.Values{"client_id": {DemoWebClientID}, "post_logout_redirect_uri": {testPostLogoutURI}, "state": {"s1"}}

	// A bare GET, as a cross-site link would send it, only shows the page.
	resp := env.logout(http.MethodGet, params, cookie)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	page := readBody(t, resp)
	assert.Contains(t, page, "demo-web asks you to log out.")
	assert.Empty(t, resp.Header.Get("Location"))
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), "the page cannot be framed for clickjacking")
	assert.True(t, env.sessionExists(cookie))
	assert.True(t, env.active(accessToken))

	action, fields := parsePageForm(t, page)
	assert.Equal(t, env.url+"/logout", action)
	assert.Equal(t, DemoWebClientID, fields.Get("client_id"))
	assert.Equal(t, testPostLogoutURI, fields.Get("post_logout_redirect_uri"))
	assert.Equal(t, "s1", fields.Get("state"))
	require.NotEmpty(t, fields.Get("csrf_token"))
	assert.NotContains(t, page, cookie.Value, "the page never shows the session token")
	assert.NotContains(t, page, oauth.HashToken(cookie.Value), "nor the session ID")

	t.Run("form without cookie", func(t *testing.T) {
		resp := env.logout(http.MethodPost, fields, nil)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.Empty(t, resp.Header.Get("Location"))
	})
	t.Run("form with a wrong token", func(t *testing.T) {
		forged := url.Values{}
		for k, v := range fields {
			forged[k] = v
		}
		forged.Set("csrf_token", logoutCSRFToken("another-cookie"))
		resp := env.logout(http.MethodPost, forged, cookie)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.True(t, env.sessionExists(cookie))
	})
	require.True(t, env.active(accessToken), "nothing ended so far")

	resp = env.logout(http.MethodPost, fields, cookie)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, testPostLogoutURI+"?state=s1", resp.Header.Get("Location"))
	assert.True(t, expiredSessionCookie(resp))
	assert.False(t, env.sessionExists(cookie))
	assert.False(t, env.active(accessToken))
}

func TestLogoutHintOfAnotherUserAsksConfirmation(t *testing.T) {
	env := newTestEnv(t, nil)
	alice := env.seedUser("user-1")
	cookie := env.seedSession(alice.ID, time.Minute)
	tokens := env.sessionTokens(alice.ID, cookie)

	// A valid ID token of another user must not log Alice out unasked.
	hint := signHint(t, env, "JWT", func(c map[string]any) { c["sub"] = "user-2" })
	resp := env.logout(http.MethodGet, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {testPostLogoutURI}}, cookie)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, readBody(t, resp), `name="csrf_token"`)
	assert.True(t, env.sessionExists(cookie))
	assert.True(t, env.active(tokens["access_token"].(string)))
}

func TestLogoutWithoutSession(t *testing.T) {
	env := newTestEnv(t, nil)
	hint := signHint(t, env, "JWT", nil)

	// The browser is logged out already. A verified client gets the
	// redirect at once, and any other request gets the logged-out page.
	resp := env.logout(http.MethodGet, url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {testPostLogoutURI}}, nil)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, testPostLogoutURI, resp.Header.Get("Location"))

	resp = env.logout(http.MethodGet, url.Values{"client_id": {DemoWebClientID}, "post_logout_redirect_uri": {testPostLogoutURI}}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"), "no redirect without a hint or a confirmation")
	assert.Contains(t, readBody(t, resp), "You are logged out")
}

func TestLogoutRejectsInvalidRequests(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{
			ID: "other-web", Public: true, RedirectURIs: []string{"http://localhost:8090/callback"},
			PostLogoutRedirectURIs: []string{"http://localhost:8090/"},
		})
	})
	user := env.seedUser("user-1")
	foreignKey := keytest.Key(t)
	valid := signHint(t, env, "JWT", nil)
	foreign, err := foreignKey.Sign(map[string]any{"iss": env.url, "sub": "user-1", "aud": DemoWebClientID}, "JWT")
	require.NoError(t, err)

	tests := []struct {
		name   string
		params url.Values
	}{
		{"unregistered redirect URI", url.Values{"id_token_hint": {valid}, "post_logout_redirect_uri": {"https://evil.example/"}}},
		{"redirect URI without slash", url.Values{"id_token_hint": {valid}, "post_logout_redirect_uri": {testWebApp}}},
		{"another client's redirect URI", url.Values{"id_token_hint": {valid}, "post_logout_redirect_uri": {"http://localhost:8090/"}}},
		{"redirect URI without client", url.Values{"post_logout_redirect_uri": {testPostLogoutURI}}},
		{"unknown client", url.Values{"client_id": {"nobody"}}},
		{"client_id differs from hint", url.Values{"id_token_hint": {valid}, "client_id": {"other-web"}}},
		{"hint not a JWT", url.Values{"id_token_hint": {"not-a-jwt"}}},
		{"hint signed by another key", url.Values{"id_token_hint": {foreign}}},
		{"hint from another issuer", url.Values{"id_token_hint": {signHint(t, env, "JWT", func(c map[string]any) { c["iss"] = "https://other.example" })}}},
		{"hint is an access token", url.Values{"id_token_hint": {signHint(t, env, oauth.JWTTypeAccessToken, nil)}}},
		{"hint for an unknown client", url.Values{"id_token_hint": {signHint(t, env, "JWT", func(c map[string]any) { c["aud"] = DemoAudience })}}},
		{"hint for two audiences", url.Values{"id_token_hint": {signHint(t, env, "JWT", func(c map[string]any) { c["aud"] = []string{DemoWebClientID, "other-web"} })}}},
		{"hint without sub", url.Values{"id_token_hint": {signHint(t, env, "JWT", func(c map[string]any) { delete(c, "sub") })}}},
		{"state twice", url.Values{"id_token_hint": {valid}, "state": {"a", "b"}}},
		{"state too long", url.Values{"id_token_hint": {valid}, "state": {strings.Repeat("s", maxEchoedParam+1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cookie := env.seedSession(user.ID, time.Minute)
			tokens := env.sessionTokens(user.ID, cookie)
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				resp := env.logout(method, tt.params, cookie)
				assert.Equal(t, http.StatusBadRequest, resp.StatusCode, method)
				assert.Empty(t, resp.Header.Get("Location"), "never a redirect")
				body := readBody(t, resp)
				assert.Contains(t, body, "Logout failed")
				assert.Contains(t, body, oauth.ErrInvalidRequest)
			}
			assert.True(t, env.sessionExists(cookie), "the session is kept")
			assert.True(t, env.active(tokens["access_token"].(string)), "the tokens are kept")
		})
	}
}

func TestLogoutHintFromLogin(t *testing.T) {
	// The ID token the token endpoint returned works as a hint, by GET
	// and by a form POST, and the response names the endpoint in both
	// metadata documents.
	env := newTestEnv(t, nil)
	user := env.seedUser("user-1")
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		var doc map[string]any
		require.NoError(t, json.NewDecoder(env.get(path).Body).Decode(&doc))
		assert.Equal(t, env.url+"/logout", doc["end_session_endpoint"], path)
	}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			cookie := env.seedSession(user.ID, time.Minute)
			tokens := env.sessionTokens(user.ID, cookie)
			resp := env.logout(method, url.Values{
				"id_token_hint": {tokens["id_token"].(string)}, "post_logout_redirect_uri": {testPostLogoutURI},
			}, cookie)
			require.Contains(t, []int{http.StatusFound, http.StatusSeeOther}, resp.StatusCode)
			assert.Equal(t, testPostLogoutURI, resp.Header.Get("Location"))
			assert.False(t, env.sessionExists(cookie))
			assert.False(t, env.active(tokens["access_token"].(string)))
		})
	}
}

func TestPostLogoutRedirectURIsValidated(t *testing.T) {
	cfg := Config{
		Issuer:    "http://localhost:9001",
		Upstreams: DemoUpstreams("http://127.0.0.1:9000"),
		Clients: []Client{{
			ID: "web", Public: true, RedirectURIs: []string{"http://localhost:8080/callback"},
			PostLogoutRedirectURIs: []string{"/relative", "http://localhost:8080/#fragment"},
		}},
	}
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `post-logout redirect URI "/relative" must be absolute`)
	assert.Contains(t, err.Error(), `post-logout redirect URI "http://localhost:8080/#fragment" must be absolute and without a fragment`)

	cfg.Clients[0].PostLogoutRedirectURIs = []string{"http://localhost:8080/"}
	assert.NoError(t, cfg.Validate())
}

func TestLogoutAfterRepeatedLogin(t *testing.T) {
	s := newStack(t, nil)
	b := newBrowser(t)
	conf := s.webClient()
	ctx := context.Background()
	redeemLogin := func(authURL, verifier string) *oauth2.Token {
		t.Helper()
		callback := s.login(b, authURL, "alice@example.com", "alice-password")
		token, err := conf.Exchange(ctx, callback.Get("code"), oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		return token
	}

	firstVerifier := oauth2.GenerateVerifier()
	first := redeemLogin(conf.AuthCodeURL("first", oauth2.S256ChallengeOption(firstVerifier)), firstVerifier)

	// prompt=login makes the user log in again, which replaces the
	// browser's session; the first login's token stays with the browser.
	secondVerifier := oauth2.GenerateVerifier()
	second := redeemLogin(conf.AuthCodeURL("second", oauth2.S256ChallengeOption(secondVerifier),
		oauth2.SetAuthURLParam("prompt", "login")), secondVerifier)

	logoutURL := s.url + "/logout?" + url.Values{
		"id_token_hint": {second.Extra("id_token").(string)}, "post_logout_redirect_uri": {testPostLogoutURI},
	}.Encode()
	resp, err := noRedirectClient(b.client.Jar).Get(logoutURL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, testPostLogoutURI, resp.Header.Get("Location"))

	assert.False(t, s.active(second.AccessToken))
	assert.False(t, s.active(first.AccessToken), "the token of the replaced session ends too")

	// The browser has no session left: authorizing shows the login page.
	resp, page := b.get(conf.AuthCodeURL("third", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, page, "Log in with Google (mock)")
}
