package mockidp

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// postRevoke posts form to the issuer's revocation endpoint with
// client_secret_basic when secret is set, and returns the status and the
// error code, if any.
func postRevoke(t *testing.T, issuer string, form url.Values, clientID, secret string) (int, string) {
	t.Helper()
	req := newFormRequest(t, issuer+"/revoke", form)
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body := readBody(t, resp)
	if resp.StatusCode == http.StatusOK {
		assert.Empty(t, body)
		return resp.StatusCode, ""
	}
	res := map[string]any{}
	require.NoError(t, decodeJSON(body, &res))
	code, _ := res["error"].(string)
	return resp.StatusCode, code
}

func TestRevocation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token string // "access" or "refresh"
	}{
		{"access token", "access"},
		{"refresh token", "refresh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, ts := startIDP(t, Config{})
			issuer := srv.Issuer("google")
			tokens := offlineTokens(t, srv, newBrowser(t, ts), url.Values{"access_type": {"offline"}})
			access := tokens.body["access_token"].(string)
			refresh := tokens.body["refresh_token"].(string)

			status, code := postRevoke(t, issuer, url.Values{"token": {tokens.body[tc.token+"_token"].(string)}}, rpClientID, rpSecret)
			require.Equal(t, http.StatusOK, status, code)

			// The whole grant is revoked.
			assert.Equal(t, http.StatusUnauthorized, getUserinfo(t, issuer, access).StatusCode)
			resp := postToken(t, issuer, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, rpClientID, rpSecret)
			assert.Equal(t, oauth.ErrInvalidGrant, resp.body["error"])
		})
	}
}

func TestRevocationErrors(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	issuer := srv.Issuer("google")
	tokens := offlineTokens(t, srv, newBrowser(t, ts), nil)
	access := tokens.body["access_token"].(string)

	status, code := postRevoke(t, issuer, url.Values{"token": {oauth.NewToken()}}, rpClientID, rpSecret)
	assert.Equal(t, http.StatusOK, status, "RFC 7009 section 2.2: an unknown token is not an error")
	assert.Empty(t, code)

	status, code = postRevoke(t, issuer, url.Values{"token": {access}}, rpClientID, "wrong")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, oauth.ErrInvalidClient, code)

	status, code = postRevoke(t, issuer, url.Values{"token": {access}, "client_id": {spaClientID}}, "", "")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, oauth.ErrUnauthorizedClient, code)

	status, code = postRevoke(t, issuer, url.Values{}, rpClientID, rpSecret)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, oauth.ErrInvalidRequest, code)

	assert.Equal(t, http.StatusOK, getUserinfo(t, issuer, access).StatusCode, "failed revocations leave the token alive")
}
