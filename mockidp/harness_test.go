package mockidp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/trace"
)

const bobSubject = "117654320987612345678"

func TestStartTBClosesAtCleanup(t *testing.T) {
	var srv *Server
	t.Run("inner", func(t *testing.T) {
		srv = StartTB(t, Config{Issuers: testIssuers(t, "google")})
		assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, srv.URL())
		resp, err := http.Get(srv.URL() + "/healthz")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	_, err := http.Get(srv.URL() + "/healthz")
	assert.Error(t, err, "the server closed when the subtest ended")
}

func TestEndpointsMatchDiscovery(t *testing.T) {
	srv, _ := startIDP(t, Config{})
	e := srv.Endpoints("google")
	provider, err := oidc.NewProvider(context.Background(), e.Issuer)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, provider.Claims(&doc))
	assert.Equal(t, srv.Issuer("google"), e.Issuer)
	assert.Equal(t, doc["authorization_endpoint"], e.Authorization)
	assert.Equal(t, doc["token_endpoint"], e.Token)
	assert.Equal(t, doc["userinfo_endpoint"], e.Userinfo)
	assert.Equal(t, doc["jwks_uri"], e.JWKS)
	assert.Equal(t, doc["revocation_endpoint"], e.Revocation)
	assert.Equal(t, doc["end_session_endpoint"], e.EndSession)
	assert.Equal(t, e.Issuer+"/.well-known/openid-configuration", e.Discovery)
	assert.Equal(t, Endpoints{}, srv.Endpoints("nope"))
}

// TestLoginWithoutBrowser logs in through the control API only: the
// relying party builds its authorization URL, Login completes it, and the
// relying party redeems the code as usual.
func TestLoginWithoutBrowser(t *testing.T) {
	srv, _ := startIDP(t, Config{})
	rp := newReferenceRP(t, srv.Issuer("google"), 5*time.Second)
	sub, err := rp.login(context.Background(), srv, "bob@example.com")
	require.NoError(t, err)
	assert.Equal(t, bobSubject, sub)

	var authorize []Request
	for _, r := range srv.Requests() {
		if r.Path == "/authorize" {
			authorize = append(authorize, r)
		}
	}
	require.Len(t, authorize, 1, "Login records the authorization request")
	assert.Equal(t, "S256", authorize[0].Params.Get("code_challenge_method"))
}

func TestLoginErrors(t *testing.T) {
	srv, _ := startIDP(t, Config{})
	ctx := context.Background()
	issuer := srv.Issuer("google")
	tests := []struct {
		name    string
		authURL string
		user    string
		want    string
	}{
		{"other server", "http://elsewhere.test/google/authorize?client_id=rp", aliceSubject, "not the authorization endpoint"},
		{"unknown user", authURL(issuer, nil), "nobody@example.com", "no user"},
		{"unknown client", issuer + "/authorize?client_id=nope&redirect_uri=" + url.QueryEscape(rpRedirectURI), aliceSubject, "not registered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := srv.Login(ctx, tt.authURL, tt.user)
			assert.ErrorContains(t, err, tt.want)
		})
	}

	// An invalid request with a trusted redirect URI yields an error
	// redirect, as the authorization endpoint does.
	callback, err := srv.Login(ctx, authURL(issuer, url.Values{"scope": {"email"}}), aliceSubject)
	require.NoError(t, err)
	assert.Equal(t, "invalid_scope", callback.Query().Get("error"))
}

func TestLoginHonorsPromptAndConsent(t *testing.T) {
	issuers := testIssuers(t, "google")
	issuers[0].Clients[0].RequireConsent = true
	srv, _ := startIDP(t, Config{Issuers: issuers})
	callback, err := srv.Login(context.Background(), authURL(srv.Issuer("google"), url.Values{"prompt": {"login consent"}, "max_age": {"0"}}), aliceSubject)
	require.NoError(t, err)
	assert.NotEmpty(t, callback.Query().Get("code"), "%s", callback)
}

// TestParallelQueuedLogins runs tests in parallel that share one client
// and pick their users by login_hint: no test gets another's user.
func TestParallelQueuedLogins(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	users := []User{}
	for i := range 8 {
		u := User{Subject: "parallel-" + string(rune('a'+i)), Email: "p" + string(rune('a'+i)) + "@example.com", Password: "pw"}
		require.NoError(t, srv.AddUser("google", u))
		users = append(users, u)
	}
	for _, u := range users {
		t.Run(u.Subject, func(t *testing.T) {
			t.Parallel()
			hint := "hint-for-" + u.Subject
			require.NoError(t, srv.LoginNextHint("google", hint, u.Subject))
			resp, _ := newBrowser(t, ts).get(authURL(srv.Issuer("google"), url.Values{"login_hint": {hint}}))
			loc, err := resp.Location()
			require.NoError(t, err)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {rpRedirectURI}}
			tokens := postToken(t, srv.Issuer("google"), form, rpClientID, rpSecret)
			assert.Equal(t, u.Subject, jwtClaims(t, tokens.body["id_token"].(string))["sub"])
		})
	}
}

func TestLoginNextHintWinsOverClientQueue(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	require.NoError(t, srv.LoginNext("google", rpClientID, "alice@example.com"))
	require.NoError(t, srv.LoginNextHint("google", "Bob@Example.com", bobSubject))
	assert.ErrorContains(t, srv.LoginNextHint("google", "", bobSubject), "needs a login hint")

	resp, _ := newBrowser(t, ts).get(authURL(srv.Issuer("google"), url.Values{"login_hint": {"bob@example.com"}}))
	loc, err := resp.Location()
	require.NoError(t, err)
	assert.Equal(t, bobSubject, jwtClaims(t, redeem(t, srv, loc))["sub"])

	resp, _ = newBrowser(t, ts).get(authURL(srv.Issuer("google"), nil))
	loc, err = resp.Location()
	require.NoError(t, err)
	assert.Equal(t, aliceSubject, jwtClaims(t, redeem(t, srv, loc))["sub"], "the client queue is next")
}

func TestAccessTokenWorksAtUserinfo(t *testing.T) {
	srv, _ := startIDP(t, Config{})
	token, err := srv.AccessToken("google", rpClientID, "alice@example.com", map[string]any{"scope": "openid email", "extra": "x"})
	require.NoError(t, err)
	header, claims := jwtHeader(t, token), jwtClaims(t, token)
	assert.Equal(t, "at+jwt", header["typ"])
	assert.Equal(t, srv.SigningKeyID("google"), header["kid"])
	assert.Equal(t, srv.Issuer("google"), claims["iss"])
	assert.Equal(t, aliceSubject, claims["sub"])
	assert.Equal(t, rpClientID, claims["aud"])
	assert.Equal(t, rpClientID, claims["client_id"])
	assert.Equal(t, "openid email", claims["scope"])
	assert.Equal(t, "x", claims["extra"])
	assert.NotEmpty(t, claims["jti"])

	resp := getUserinfo(t, srv.Issuer("google"), token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var info map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
	assert.Equal(t, aliceSubject, info["sub"])

	// An exp in the past makes the token dead at once.
	expired, err := srv.AccessToken("google", rpClientID, aliceSubject, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, getUserinfo(t, srv.Issuer("google"), expired).StatusCode)
}

func TestClockControlsTokens(t *testing.T) {
	srv, _ := startIDP(t, Config{})
	at := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	srv.SetTime(at)
	assert.Equal(t, at, srv.Now())
	token, err := srv.IDToken("google", rpClientID, aliceSubject, nil)
	require.NoError(t, err)
	assert.Equal(t, json.Number("1935817689"), jwtClaims(t, token)["iat"])

	srv.Advance(90 * time.Second)
	assert.Equal(t, at.Add(90*time.Second), srv.Now(), "a stopped clock stays stopped")

	// A running clock keeps running, moved by Advance.
	clock := newTestClock()
	running, _ := startIDP(t, Config{Clock: clock.Now})
	running.Advance(time.Hour)
	assert.Equal(t, clock.Now().Add(time.Hour), running.Now())
	clock.Advance(time.Minute)
	assert.Equal(t, clock.Now().Add(time.Hour), running.Now())
}

func TestAdvancePastTokenExpiry(t *testing.T) {
	srv, _ := startIDP(t, Config{})
	token, err := srv.AccessToken("google", rpClientID, aliceSubject, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, getUserinfo(t, srv.Issuer("google"), token).StatusCode)
	srv.Advance(DefaultTokenTTL + time.Second)
	assert.Equal(t, http.StatusUnauthorized, getUserinfo(t, srv.Issuer("google"), token).StatusCode)
}

func TestRotateKeyGracePeriod(t *testing.T) {
	srv, _ := startIDP(t, Config{
		KeyGracePeriod: 10 * time.Minute,
		GenerateKey:    func() (*keys.Key, error) { return keytest.Key(t), nil },
	})
	oldKID := srv.SigningKeyID("google")
	require.NoError(t, srv.RotateKey("google", nil))
	newKID := srv.SigningKeyID("google")
	require.NotEqual(t, oldKID, newKID)
	assert.Equal(t, []string{newKID, oldKID}, publishedKeyIDs(t, srv), "the old key stays during the grace period")

	srv.Advance(10*time.Minute - time.Second)
	assert.Equal(t, []string{newKID, oldKID}, publishedKeyIDs(t, srv))
	srv.Advance(time.Second)
	assert.Equal(t, []string{newKID}, publishedKeyIDs(t, srv), "the old key is gone after the grace period")
	assert.ErrorContains(t, srv.RotateKey("google", &keys.Key{ID: "x"}), "private half")
}

func TestRequestsMaskSecretHeaders(t *testing.T) {
	srv, _ := startIDP(t, Config{})
	req, err := http.NewRequest(http.MethodGet, srv.Issuer("google")+"/userinfo", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer secret-token")
	req.Header.Set("Cookie", "mockidp_session=secret-session; other=value")
	req.Header.Set("X-Request-Id", "req-1")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()

	got := srv.Requests()
	require.Len(t, got, 1)
	h := got[0].Header
	assert.Equal(t, "Bearer "+trace.Fingerprint("secret-token"), h.Get("Authorization"))
	assert.Equal(t, "mockidp_session="+trace.Fingerprint("secret-session")+"; other="+trace.Fingerprint("value"), h.Get("Cookie"))
	assert.Equal(t, "req-1", h.Get("X-Request-Id"))
	assert.Equal(t, "Bearer", got[0].AuthScheme)
	assert.False(t, strings.Contains(h.Get("Authorization"), "secret"))

	srv.ClearRequests()
	assert.Empty(t, srv.Requests())
}
