package mockidp

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// getTokeninfo calls the issuer's tokeninfo endpoint with query.
func getTokeninfo(t *testing.T, issuer string, query url.Values) tokenResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, issuer+"/tokeninfo?"+query.Encode(), nil)
	require.NoError(t, err)
	return doJSON(t, req)
}

func TestTokeninfoIDToken(t *testing.T) {
	clock := newTestClock()
	srv, ts := startIDP(t, Config{Clock: clock.Now})
	issuer := srv.Issuer("google")
	tokens := offlineTokens(t, srv, newBrowser(t, ts), nil)
	idToken := tokens.body["id_token"].(string)
	claims := jwtClaims(t, idToken)

	info := getTokeninfo(t, issuer, url.Values{"id_token": {idToken}})
	require.Equal(t, http.StatusOK, info.status, "%v", info.body)
	assert.Equal(t, issuer, info.body["iss"])
	assert.Equal(t, rpClientID, info.body["aud"])
	assert.Equal(t, "104293871234509876543", info.body["sub"])
	assert.Equal(t, "true", info.body["email_verified"], "values are strings, as at Google")
	assert.Equal(t, claims["exp"].(interface{ String() string }).String(), info.body["exp"])
	assert.Equal(t, "RS256", info.body["alg"])
	assert.Equal(t, "JWT", info.body["typ"])
	assert.NotEmpty(t, info.body["kid"])

	clock.Advance(DefaultTokenTTL)
	expired := getTokeninfo(t, issuer, url.Values{"id_token": {idToken}})
	assert.Equal(t, http.StatusBadRequest, expired.status)
	assert.Equal(t, oauth.ErrInvalidToken, expired.body["error"])
	assert.Equal(t, "Invalid Value", expired.body["error_description"])
}

func TestTokeninfoAccessToken(t *testing.T) {
	clock := newTestClock()
	srv, ts := startIDP(t, Config{Clock: clock.Now})
	issuer := srv.Issuer("google")
	tokens := offlineTokens(t, srv, newBrowser(t, ts), url.Values{"access_type": {"offline"}})

	info := getTokeninfo(t, issuer, url.Values{"access_token": {tokens.body["access_token"].(string)}})
	require.Equal(t, http.StatusOK, info.status, "%v", info.body)
	assert.Equal(t, rpClientID, info.body["azp"])
	assert.Equal(t, rpClientID, info.body["aud"])
	assert.Equal(t, "104293871234509876543", info.body["sub"])
	assert.Equal(t, "openid email profile", info.body["scope"])
	assert.Equal(t, "3600", info.body["expires_in"])
	assert.Equal(t, strconv.FormatInt(clock.Now().Add(DefaultTokenTTL).Unix(), 10), info.body["exp"])
	assert.Equal(t, "offline", info.body["access_type"])
	assert.Equal(t, "alice@example.com", info.body["email"])
	assert.Equal(t, "true", info.body["email_verified"])
}

func TestTokeninfoErrors(t *testing.T) {
	srv, _ := startIDP(t, Config{Issuers: testIssuers(t, "google", "corp")})
	otherIssuer := testIssuers(t, "google")[0].Keys[0]
	foreign, err := otherIssuer.Sign(map[string]any{"iss": srv.Issuer("google"), "exp": time.Now().Add(time.Hour).Unix()}, "JWT")
	require.NoError(t, err)
	corpSigned, err := srv.issuers["corp"].keys.Sign(map[string]any{"iss": srv.Issuer("corp"), "exp": time.Now().Add(time.Hour).Unix()}, "JWT")
	require.NoError(t, err)

	for _, tc := range []struct {
		name      string
		query     url.Values
		wantError string
	}{
		{"unknown access token", url.Values{"access_token": {"x"}}, oauth.ErrInvalidToken},
		{"malformed id token", url.Values{"id_token": {"a.b.c"}}, oauth.ErrInvalidToken},
		{"id token of unknown key", url.Values{"id_token": {foreign}}, oauth.ErrInvalidToken},
		{"id token of other issuer", url.Values{"id_token": {corpSigned}}, oauth.ErrInvalidToken},
		{"no token", url.Values{}, oauth.ErrInvalidRequest},
		{"both tokens", url.Values{"id_token": {"x"}, "access_token": {"y"}}, oauth.ErrInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := getTokeninfo(t, srv.Issuer("google"), tc.query)
			assert.Equal(t, http.StatusBadRequest, resp.status)
			assert.Equal(t, tc.wantError, resp.body["error"])
		})
	}
}
