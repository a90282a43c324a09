package authserver

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

// failingTransport fails the first n requests, then passes them on.
type failingTransport struct {
	remaining atomic.Int32
}

func (f *failingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if f.remaining.Add(-1) >= 0 {
		return nil, errors.New("connection refused (injected)")
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestDiscoveryRetriedAfterFailure(t *testing.T) {
	transport := &failingTransport{}
	transport.remaining.Store(1)
	s := newStack(t, func(c *Config) {
		c.HTTPClient = &http.Client{Transport: transport}
	})
	b := newBrowser(t)
	authURL := s.webClient().AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))

	// The first discovery fails: the client learns the IDP is unavailable.
	resp, page := b.get(authURL)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body := b.submit(page, url.Values{"idp": {"google"}})
	require.Equal(t, http.StatusFound, resp.StatusCode, body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, oauth.ErrTemporarilyUnavailable, loc.Query().Get("error"))
	assert.Equal(t, "st", loc.Query().Get("state"))

	// The next login discovers the IDP and succeeds.
	callback := s.login(b, authURL, "bob@example.com", "bob-password")
	assert.NotEmpty(t, callback.Get("code"))
}

func TestUserInfoFillsMissingClaims(t *testing.T) {
	s := newStack(t, func(c *Config) {
		// With only openid, the ID token has no email or name (10b).
		c.Upstreams[0].Scopes = []string{"openid"}
	})
	b := newBrowser(t)
	callback := s.login(b, s.webClient().AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())),
		"alice@example.com", "alice-password")
	assert.NotEmpty(t, callback.Get("code"))

	var authserverSteps, idpSteps []string
	for _, e := range s.srv.Trace().Events() {
		authserverSteps = append(authserverSteps, e.Step)
	}
	for _, e := range s.idp.Trace().Events() {
		idpSteps = append(idpSteps, e.Step)
	}
	assert.True(t, slices.Contains(authserverSteps, "10b"), "authserver called userinfo: %v", authserverSteps)
	assert.True(t, slices.Contains(idpSteps, "10b"), "mockidp served userinfo: %v", idpSteps)
}

func TestSameUpstreamUserKeepsID(t *testing.T) {
	s := newStack(t, nil)
	conf := s.webClient()
	var subjects []string
	for _, email := range []string{"alice@example.com", "alice@example.com", "bob@example.com"} {
		b := newBrowser(t)
		verifier := oauth2.GenerateVerifier()
		password := map[string]string{"alice@example.com": "alice-password", "bob@example.com": "bob-password"}[email]
		callback := s.login(b, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), email, password)
		token, err := conf.Exchange(t.Context(), callback.Get("code"), oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		intro := decodeJSON(t, s.introspect(token.AccessToken, DemoGatewayClientID, DemoGatewaySecret))
		subjects = append(subjects, intro["sub"].(string))
	}
	assert.Equal(t, subjects[0], subjects[1], "same IDP user, same ID")
	assert.NotEqual(t, subjects[0], subjects[2], "other IDP user, other ID")
}

func TestCallbackRejectsOtherIssuer(t *testing.T) {
	s := newStack(t, nil)
	b := newBrowser(t)
	resp, page := b.get(s.webClient().AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	action, fields := parsePageForm(t, page)
	fields.Set("idp", "google")
	resp, err := noRedirectClient(b.client.Jar).PostForm(action, fields)
	require.NoError(t, err)
	resp.Body.Close()
	upstream, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)

	// A response that names another issuer (RFC 9207) ends the login.
	callback := s.url + "/callback/google?" + url.Values{
		"code": {"x"}, "state": {upstream.Query().Get("state")}, "iss": {s.idp.Issuer("corp")},
	}.Encode()
	resp, err = noRedirectClient(b.client.Jar).Get(callback)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, oauth.ErrServerError, loc.Query().Get("error"))
	assert.Equal(t, "st", loc.Query().Get("state"))
}

func TestFillMissingKeepsIDTokenClaims(t *testing.T) {
	p := store.Profile{Name: "From ID Token"}
	fillMissing(&p, store.Profile{
		Email: "a@example.com", EmailVerified: true, Name: "From Userinfo",
		GivenName: "Given", FamilyName: "Family", Picture: "https://pic.example/a",
	})
	assert.Equal(t, store.Profile{
		Email: "a@example.com", EmailVerified: true, Name: "From ID Token",
		GivenName: "Given", FamilyName: "Family", Picture: "https://pic.example/a",
	}, p)

	// An email from the ID token keeps its own verification flag.
	p = store.Profile{Email: "id@example.com"}
	fillMissing(&p, store.Profile{Email: "info@example.com", EmailVerified: true})
	assert.Equal(t, "id@example.com", p.Email)
	assert.False(t, p.EmailVerified)
}
