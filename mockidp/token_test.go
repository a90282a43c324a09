package mockidp

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// loginForCode logs alice in at issuer with a PKCE S256 challenge and
// returns the code and the verifier.
func loginForCode(t *testing.T, b *browser, issuer string, extra url.Values) (code, verifier string) {
	t.Helper()
	verifier = oauth2.GenerateVerifier()
	params := url.Values{
		"code_challenge":        {oauth.S256Challenge(verifier)},
		"code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		params[k] = v
	}
	callback := b.login(authURL(issuer, params), "alice@example.com", "alice-password")
	code = callback.Query().Get("code")
	require.NotEmpty(t, code, "callback %s", callback)
	return code, verifier
}

func codeForm(code, verifier string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {rpRedirectURI},
		"code_verifier": {verifier},
	}
}

func TestCodeGrantErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		edit       func(form url.Values)
		secret     string
		wantStatus int
		wantError  string
	}{
		{"wrong verifier", func(f url.Values) { f.Set("code_verifier", oauth2.GenerateVerifier()) }, rpSecret, 400, oauth.ErrInvalidGrant},
		{"missing verifier", func(f url.Values) { f.Del("code_verifier") }, rpSecret, 400, oauth.ErrInvalidGrant},
		{"other redirect uri", func(f url.Values) { f.Set("redirect_uri", rpRedirectURI+"/x") }, rpSecret, 400, oauth.ErrInvalidGrant},
		{"unknown code", func(f url.Values) { f.Set("code", oauth.NewToken()) }, rpSecret, 400, oauth.ErrInvalidGrant},
		{"missing code", func(f url.Values) { f.Del("code") }, rpSecret, 400, oauth.ErrInvalidRequest},
		{"wrong secret", func(url.Values) {}, "wrong", 401, oauth.ErrInvalidClient},
		{"no client authentication", func(url.Values) {}, "", 401, oauth.ErrInvalidClient},
		{"unsupported grant", func(f url.Values) { f.Set("grant_type", "password") }, rpSecret, 400, oauth.ErrUnsupportedGrantType},
		{"missing grant type", func(f url.Values) { f.Del("grant_type") }, rpSecret, 400, oauth.ErrInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, ts := startIDP(t, Config{})
			issuer := srv.Issuer("google")
			code, verifier := loginForCode(t, newBrowser(t, ts), issuer, nil)

			form := codeForm(code, verifier)
			tc.edit(form)
			resp := postToken(t, issuer, form, rpClientID, tc.secret)
			assert.Equal(t, tc.wantStatus, resp.status)
			assert.Equal(t, tc.wantError, resp.body["error"])
			assert.Equal(t, "no-store", resp.header.Get("Cache-Control"))
			if tc.wantStatus == http.StatusUnauthorized {
				assert.Equal(t, `Basic realm="token"`, resp.header.Get("WWW-Authenticate"))
			}

			// A failed request does not use up the code.
			retry := postToken(t, issuer, codeForm(code, verifier), rpClientID, rpSecret)
			assert.Equal(t, http.StatusOK, retry.status, "retry: %v", retry.body)
		})
	}
}

func TestCodeReplayRevokesTokens(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	issuer := srv.Issuer("google")
	code, verifier := loginForCode(t, newBrowser(t, ts), issuer, nil)

	first := postToken(t, issuer, codeForm(code, verifier), rpClientID, rpSecret)
	require.Equal(t, http.StatusOK, first.status)
	accessToken := first.body["access_token"].(string)
	require.Equal(t, http.StatusOK, getUserinfo(t, issuer, accessToken).StatusCode)

	replay := postToken(t, issuer, codeForm(code, verifier), rpClientID, rpSecret)
	assert.Equal(t, http.StatusBadRequest, replay.status)
	assert.Equal(t, oauth.ErrInvalidGrant, replay.body["error"])

	// RFC 6749 section 4.1.2: the tokens of the first redemption die too.
	resp := getUserinfo(t, issuer, accessToken)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
}

func TestCodeExpires(t *testing.T) {
	clock := newTestClock()
	srv, ts := startIDP(t, Config{Clock: clock.Now})
	issuer := srv.Issuer("google")
	code, verifier := loginForCode(t, newBrowser(t, ts), issuer, nil)

	clock.Advance(DefaultCodeTTL)
	resp := postToken(t, issuer, codeForm(code, verifier), rpClientID, rpSecret)
	assert.Equal(t, http.StatusBadRequest, resp.status)
	assert.Equal(t, oauth.ErrInvalidGrant, resp.body["error"])
}

func TestCodeOfOtherClient(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	issuer := srv.Issuer("google")
	code, verifier := loginForCode(t, newBrowser(t, ts), issuer, nil)

	form := codeForm(code, verifier)
	form.Set("client_id", spaClientID)
	form.Set("redirect_uri", spaRedirectURI)
	resp := postToken(t, issuer, form, "", "")
	assert.Equal(t, http.StatusBadRequest, resp.status)
	assert.Equal(t, oauth.ErrInvalidGrant, resp.body["error"])
}

func TestCodeOfOtherIssuer(t *testing.T) {
	srv, ts := startIDP(t, Config{Issuers: testIssuers(t, "google", "corp")})
	code, verifier := loginForCode(t, newBrowser(t, ts), srv.Issuer("google"), nil)

	resp := postToken(t, srv.Issuer("corp"), codeForm(code, verifier), rpClientID, rpSecret)
	assert.Equal(t, http.StatusBadRequest, resp.status)
	assert.Equal(t, oauth.ErrInvalidGrant, resp.body["error"])
}

func TestClientAuthenticationMethods(t *testing.T) {
	srv, _ := startIDP(t, Config{})
	for _, tc := range []struct {
		name      string
		basicUser string
		basicPass string
		form      url.Values
		wantError string
	}{
		{"basic and post together", url.QueryEscape(rpClientID), url.QueryEscape(rpSecret),
			url.Values{"client_secret": {rpSecret}}, oauth.ErrInvalidRequest},
		{"basic not form-encoded", rpClientID, "rp-secret:with%odd=chars", nil, oauth.ErrInvalidClient},
		{"post wrong secret", "", "", url.Values{"client_id": {rpClientID}, "client_secret": {"x"}}, oauth.ErrInvalidClient},
		{"confidential without secret", "", "", url.Values{"client_id": {rpClientID}}, oauth.ErrInvalidClient},
		{"public with secret", "", "", url.Values{"client_id": {spaClientID}, "client_secret": {"x"}}, oauth.ErrInvalidClient},
		{"public with basic secret", spaClientID, "x", nil, oauth.ErrInvalidClient},
		{"public with empty basic password", spaClientID, "", nil, oauth.ErrInvalidGrant},
		{"unknown client", "", "", url.Values{"client_id": {"nobody"}}, oauth.ErrInvalidClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {rpRedirectURI}}
			for k, v := range tc.form {
				form[k] = v
			}
			req := newFormRequest(t, srv.Issuer("google")+"/token", form)
			if tc.basicUser != "" {
				req.SetBasicAuth(tc.basicUser, tc.basicPass)
			}
			resp := doJSON(t, req)
			assert.Equal(t, tc.wantError, resp.body["error"])
		})
	}
}
