package mockidp

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/trace"
)

func TestAddUserAndClient(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	require.NoError(t, srv.AddUser("google", User{Subject: "42", Email: "carol@example.com", Password: "pw", EmailVerified: true}))
	require.NoError(t, srv.AddClient("google", Client{ID: "new", Secret: "s", RedirectURIs: []string{"http://new.test/cb"}}))

	q := url.Values{"client_id": {"new"}, "redirect_uri": {"http://new.test/cb"}, "response_type": {"code"}, "scope": {"openid email"}}
	loc := newBrowser(t, ts).login(srv.Issuer("google")+"/authorize?"+q.Encode(), "carol@example.com", "pw")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {"http://new.test/cb"}}
	resp := postToken(t, srv.Issuer("google"), form, "new", "s")
	require.Equal(t, http.StatusOK, resp.status, "%v", resp.body)
	assert.Equal(t, "42", jwtClaims(t, resp.body["id_token"].(string))["sub"])

	assert.ErrorContains(t, srv.AddUser("google", User{Subject: "43", Email: "CAROL@example.com", Password: "x"}), "already belongs")
	assert.ErrorContains(t, srv.AddUser("google", User{Subject: "44"}), "needs Subject, Email and Password")
	assert.ErrorContains(t, srv.AddClient("google", Client{ID: "bad"}), "has no RedirectURIs")
	assert.ErrorContains(t, srv.AddUser("nope", User{}), `no issuer named "nope"`)
}

func TestRotateKeyKeepsOldTokensValid(t *testing.T) {
	srv, _ := startIDP(t, Config{})
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, srv.Issuer("google"))
	require.NoError(t, err)
	verifier := provider.Verifier(&oidc.Config{ClientID: rpClientID})

	before, err := srv.IDToken("google", rpClientID, "104293871234509876543", nil)
	require.NoError(t, err)
	require.NoError(t, srv.RotateKey("google", keytest.Key(t)))
	after, err := srv.IDToken("google", rpClientID, "104293871234509876543", nil)
	require.NoError(t, err)

	for name, raw := range map[string]string{"before rotation": before, "after rotation": after} {
		_, err := verifier.Verify(ctx, raw)
		assert.NoError(t, err, name)
	}
}

func TestIDTokenOverride(t *testing.T) {
	srv, _ := startIDP(t, Config{})
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, srv.Issuer("google"))
	require.NoError(t, err)
	verifier := provider.Verifier(&oidc.Config{ClientID: rpClientID})

	expired, err := srv.IDToken("google", rpClientID, "104293871234509876543", map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})
	require.NoError(t, err)
	_, err = verifier.Verify(ctx, expired)
	assert.ErrorContains(t, err, "expired")

	noEmail, err := srv.IDToken("google", rpClientID, "104293871234509876543", map[string]any{"email": nil})
	require.NoError(t, err)
	assert.NotContains(t, jwtClaims(t, noEmail), "email")

	signed, err := srv.SignClaims("google", map[string]any{"iss": srv.Issuer("google"), "aud": "other", "sub": "x", "exp": time.Now().Add(time.Hour).Unix()})
	require.NoError(t, err)
	_, err = verifier.Verify(ctx, signed)
	assert.ErrorContains(t, err, "audience")
}

func TestStartServesOnLoopback(t *testing.T) {
	srv, err := Start(Config{Issuers: testIssuers(t, "google")})
	require.NoError(t, err)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, srv.URL())
	assert.Equal(t, srv.URL()+"/google", srv.Issuer("google"))

	_, err = oidc.NewProvider(context.Background(), srv.Issuer("google"))
	require.NoError(t, err)

	srv.Close()
	_, err = http.Get(srv.URL() + "/healthz")
	assert.Error(t, err, "the listener is closed")
}

func TestLoginNextSkipsLoginPage(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	require.NoError(t, srv.LoginNext("google", rpClientID, "117654320987612345678"))
	assert.ErrorContains(t, srv.LoginNext("google", rpClientID, "nobody"), "no user")

	b := newBrowser(t, ts)
	resp, _ := b.get(authURL(srv.Issuer("google"), nil))
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := resp.Location()
	require.NoError(t, err)
	assert.Equal(t, "117654320987612345678", jwtClaims(t, redeem(t, srv, loc))["sub"])

	// The queued login started a session, and the queue is now empty.
	resp, _ = b.get(authURL(srv.Issuer("google"), nil))
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	resp, _ = newBrowser(t, ts).get(authURL(srv.Issuer("google"), nil))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a new browser sees the login page")
}

func TestRequestsRecorded(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	code, verifier := loginForCode(t, newBrowser(t, ts), srv.Issuer("google"), url.Values{"prompt": {"login"}})
	require.Equal(t, http.StatusOK, postToken(t, srv.Issuer("google"), codeForm(code, verifier), rpClientID, rpSecret).status)

	var authorize, token []Request
	for _, r := range srv.Requests() {
		assert.Equal(t, "google", r.Issuer)
		switch r.Path {
		case "/authorize":
			authorize = append(authorize, r)
		case "/token":
			token = append(token, r)
		}
	}
	require.NotEmpty(t, authorize)
	assert.Equal(t, "login", authorize[0].Params.Get("prompt"))
	assert.Equal(t, "S256", authorize[0].Params.Get("code_challenge_method"))
	require.Len(t, token, 1)
	assert.Equal(t, "Basic", token[0].AuthScheme)
	assert.Equal(t, "authorization_code", token[0].Params.Get("grant_type"))
	assert.Equal(t, trace.Fingerprint(code), token[0].Params.Get("code"), "secrets are recorded as fingerprints")
	assert.Equal(t, trace.Fingerprint(verifier), token[0].Params.Get("code_verifier"))
}

// redeem exchanges the code of callback for the confidential test client
// and returns the ID token.
func redeem(t *testing.T, srv *Server, callback *url.URL) string {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {callback.Query().Get("code")}, "redirect_uri": {rpRedirectURI}}
	resp := postToken(t, srv.Issuer("google"), form, rpClientID, rpSecret)
	require.Equal(t, http.StatusOK, resp.status, "%v", resp.body)
	return resp.body["id_token"].(string)
}
