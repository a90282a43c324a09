package mockidp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// offlineTokens logs alice in with the given extra parameters and redeems
// the code.
func offlineTokens(t *testing.T, srv *Server, b *browser, extra url.Values) tokenResult {
	t.Helper()
	issuer := srv.Issuer("google")
	code, verifier := loginForCode(t, b, issuer, extra)
	resp := postToken(t, issuer, codeForm(code, verifier), rpClientID, rpSecret)
	require.Equal(t, http.StatusOK, resp.status, "%v", resp.body)
	return resp
}

func TestOfflineAccessGivesRefreshToken(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params url.Values
		want   bool
	}{
		{"access type offline", url.Values{"access_type": {"offline"}}, true},
		{"offline access scope", url.Values{"scope": {"openid email offline_access"}}, true},
		{"access type online", url.Values{"access_type": {"online"}}, false},
		{"default", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, ts := startIDP(t, Config{})
			resp := offlineTokens(t, srv, newBrowser(t, ts), tc.params)
			if tc.want {
				assert.NotEmpty(t, resp.body["refresh_token"])
			} else {
				assert.NotContains(t, resp.body, "refresh_token")
			}
		})
	}
}

func TestRefreshGrant(t *testing.T) {
	clock := newTestClock()
	srv, ts := startIDP(t, Config{Clock: clock.Now})
	issuer := srv.Issuer("google")
	first := offlineTokens(t, srv, newBrowser(t, ts), url.Values{"access_type": {"offline"}, "nonce": {"n1"}})
	refreshToken := first.body["refresh_token"].(string)
	firstClaims := jwtClaims(t, first.body["id_token"].(string))
	clock.Advance(2 * time.Hour)

	resp := postToken(t, issuer, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}, rpClientID, rpSecret)
	require.Equal(t, http.StatusOK, resp.status, "%v", resp.body)
	assert.Equal(t, json.Number("3600"), resp.body["expires_in"])
	assert.Equal(t, "Bearer", resp.body["token_type"])
	assert.NotContains(t, resp.body, "refresh_token", "the refresh token is kept, as at Google")
	assert.NotEqual(t, first.body["access_token"], resp.body["access_token"])

	claims := jwtClaims(t, resp.body["id_token"].(string))
	assert.Equal(t, firstClaims["sub"], claims["sub"])
	assert.Equal(t, firstClaims["auth_time"], claims["auth_time"])
	assert.Equal(t, rpClientID, claims["aud"])
	assert.NotContains(t, claims, "nonce")
	assert.Equal(t, http.StatusOK, getUserinfo(t, issuer, resp.body["access_token"].(string)).StatusCode)

	// A narrower scope is allowed and drops the ID token without openid.
	narrow := postToken(t, issuer, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "scope": {"email"}}, rpClientID, rpSecret)
	require.Equal(t, http.StatusOK, narrow.status, "%v", narrow.body)
	assert.Equal(t, "email", narrow.body["scope"])
	assert.NotContains(t, narrow.body, "id_token")
}

func TestRefreshGrantErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		form      url.Values
		clientID  string
		secret    string
		wantError string
	}{
		{"wider scope", url.Values{"scope": {"openid profile"}}, rpClientID, rpSecret, oauth.ErrInvalidScope},
		{"other client", url.Values{"client_id": {spaClientID}}, spaClientID, "", oauth.ErrInvalidGrant},
		{"unknown token", url.Values{"refresh_token": {"x"}}, rpClientID, rpSecret, oauth.ErrInvalidGrant},
		{"missing token", url.Values{"refresh_token": {""}}, rpClientID, rpSecret, oauth.ErrInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, ts := startIDP(t, Config{})
			first := offlineTokens(t, srv, newBrowser(t, ts), url.Values{"access_type": {"offline"}, "scope": {"openid email"}})
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.body["refresh_token"].(string)}}
			for k, v := range tc.form {
				form[k] = v
			}
			resp := postToken(t, srv.Issuer("google"), form, tc.clientID, tc.secret)
			assert.Equal(t, http.StatusBadRequest, resp.status)
			assert.Equal(t, tc.wantError, resp.body["error"])
		})
	}
}

func TestClientCredentialsGrant(t *testing.T) {
	srv, _ := startIDP(t, Config{})
	issuer := srv.Issuer("google")

	resp := postToken(t, issuer, url.Values{"grant_type": {"client_credentials"}, "scope": {"email"}}, rpClientID, rpSecret)
	require.Equal(t, http.StatusOK, resp.status, "%v", resp.body)
	assert.Equal(t, json.Number("3600"), resp.body["expires_in"])
	assert.Equal(t, "Bearer", resp.body["token_type"])
	assert.NotContains(t, resp.body, "id_token")
	assert.NotContains(t, resp.body, "refresh_token")

	// The token has no user, so userinfo refuses it.
	info := getUserinfo(t, issuer, resp.body["access_token"].(string))
	assert.Equal(t, http.StatusForbidden, info.StatusCode)
	assert.Contains(t, info.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`)

	openid := postToken(t, issuer, url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, rpClientID, rpSecret)
	assert.Equal(t, oauth.ErrInvalidScope, openid.body["error"])

	public := postToken(t, issuer, url.Values{"grant_type": {"client_credentials"}, "client_id": {spaClientID}}, "", "")
	assert.Equal(t, oauth.ErrUnauthorizedClient, public.body["error"])
}
