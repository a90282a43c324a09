package interop

import (
	"context"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/authserver"
)

const (
	webApp        = "http://localhost:8080"
	upstreamID    = "zitadel"
	opClientID    = "oidcstack-authserver"
	opSecret      = "interop-secret"
	opUsername    = "test-user2" // a demo user of the example storage
	opPassword    = "verysecure"
	opUserEmail   = "test-user2@zitadel.ch"
	opUserName    = "Test User2"
	opUserSubject = "id2"
)

// startZitadelOP starts zitadel/oidc's example OpenID provider on a
// loopback port with one client, the authorization server at
// authserverURL, and returns its issuer.
func startZitadelOP(t *testing.T, authserverURL string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	clients := map[string]*storage.Client{
		opClientID: storage.WebClient(opClientID, opSecret, authserverURL+"/callback/"+upstreamID),
	}
	st := storage.NewStorageWithClients(storage.NewUserStore(issuer), clients)
	// A nil logger keeps the example from replacing slog's default logger.
	srv.Config.Handler = exampleop.SetupServer(issuer, st, nil, false)
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

// startAuthServer starts the authorization server on a loopback port with
// the OP at opIssuer as its only upstream. The listener is bound before
// the OP starts, because each one's configuration names the other's URL.
func startAuthServer(t *testing.T, ln net.Listener, issuer, opIssuer string) *authserver.Server {
	t.Helper()
	srv, err := authserver.New(authserver.Config{
		Issuer:  issuer,
		Clients: authserver.DemoClients(webApp),
		Upstreams: []authserver.Upstream{{
			ID: upstreamID, DisplayName: "ZITADEL example", Issuer: opIssuer,
			ClientID: opClientID, ClientSecret: opSecret,
		}},
	})
	require.NoError(t, err)
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv}}
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return srv
}

func TestLoginThroughZitadelExampleOP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	// localhost for the authorization server and 127.0.0.1 for the OP,
	// so the hop to the provider is cross-site, as in production.
	issuer := "http://localhost:" + portOf(t, ln.Addr().String())
	opIssuer := startZitadelOP(t, issuer)
	srv := startAuthServer(t, ln, issuer, opIssuer)

	web := &oauth2.Config{
		ClientID:    authserver.DemoWebClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: issuer + "/authorize", TokenURL: issuer + "/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: webApp + "/callback",
		Scopes:      []string{"openid", "profile", "email"},
	}
	verifier := oauth2.GenerateVerifier()
	b := newBrowser(t)

	// 2a to 3: the authorization server's login page.
	page := b.get(web.AuthCodeURL("interop-state", oauth2.S256ChallengeOption(verifier), oidc.Nonce("app-nonce")))
	require.Contains(t, page.body, "ZITADEL example")

	// 4a to 6: the provider's own login page.
	page = b.submit(page, url.Values{"idp": {upstreamID}})
	require.True(t, strings.HasPrefix(page.url.String(), opIssuer+"/login/username"), "at the OP's login page: %s", page.url)

	// 7a to 13b: the provider checks the password and sends the browser
	// back. The authorization server redeems the provider's code and
	// redirects to the web app with a code of its own.
	page = b.submit(page, url.Values{"username": {opUsername}, "password": {opPassword}})
	require.Equal(t, webApp+"/callback", page.url.Scheme+"://"+page.url.Host+page.url.Path, "at the web app: %s", page.body)
	callback := page.url.Query()
	require.Empty(t, callback.Get("error"), "error_description: %s", callback.Get("error_description"))
	assert.Equal(t, "interop-state", callback.Get("state"))
	assert.Equal(t, issuer, callback.Get("iss"))

	// 14c: the code is this server's own, redeemed with the web app's
	// PKCE verifier for this server's own tokens.
	ctx := context.Background()
	token, err := web.Exchange(ctx, callback.Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	rawIDToken, ok := token.Extra("id_token").(string)
	require.True(t, ok, "token response has an id_token")

	provider, err := oidc.NewProvider(ctx, issuer)
	require.NoError(t, err)
	idToken, err := provider.Verifier(&oidc.Config{ClientID: authserver.DemoWebClientID}).Verify(ctx, rawIDToken)
	require.NoError(t, err)
	assert.Equal(t, issuer, idToken.Issuer)
	assert.Equal(t, "app-nonce", idToken.Nonce)
	assert.NotEqual(t, opUserSubject, idToken.Subject, "the subject is this server's user ID, not the OP's")

	// The user is the OP's user: the profile came from its ID token and
	// userinfo.
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
	require.NoError(t, err)
	assert.Equal(t, idToken.Subject, info.Subject)
	assert.Equal(t, opUserEmail, info.Email)
	var profile struct {
		Name string `json:"name"`
	}
	require.NoError(t, info.Claims(&profile))
	assert.Equal(t, opUserName, profile.Name)

	var steps []string
	for _, e := range srv.Trace().Events() {
		steps = append(steps, e.Step)
	}
	// The example OP leaves email and name out of its ID tokens, so the
	// server also called its userinfo endpoint (10b).
	for _, step := range []string{"4b", "9b", "10a", "10b", "11a", "11b", "13b", "14c"} {
		assert.Contains(t, steps, step)
	}
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return port
}

// browser is a cookie-keeping HTTP client that follows redirects until one
// leads to the web app, which is not running.
type browser struct {
	t      *testing.T
	client *http.Client
}

// page is a response body and the URL it came from, or for a redirect to
// the web app, that redirect's target.
type page struct {
	url  *url.URL
	body string
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, client: &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), webApp) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

func (b *browser) get(rawURL string) page {
	b.t.Helper()
	resp, err := b.client.Get(rawURL)
	require.NoError(b.t, err)
	return b.read(resp)
}

// submit posts the page's first form with its inputs' values plus extra.
func (b *browser) submit(p page, extra url.Values) page {
	b.t.Helper()
	action, fields := parseForm(b.t, p)
	for k, vs := range extra {
		fields[k] = vs
	}
	resp, err := b.client.PostForm(action, fields)
	require.NoError(b.t, err)
	return b.read(resp)
}

func (b *browser) read(resp *http.Response) page {
	b.t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	if resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther {
		loc, err := resp.Location()
		require.NoError(b.t, err)
		return page{url: loc, body: string(body)}
	}
	require.Equal(b.t, http.StatusOK, resp.StatusCode, "%s: %s", resp.Request.URL, body)
	return page{url: resp.Request.URL, body: string(body)}
}

var (
	formTag  = regexp.MustCompile(`(?is)<form\b[^>]*\baction="([^"]*)"`)
	inputTag = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	attr     = regexp.MustCompile(`(?is)\b(name|value)="([^"]*)"`)
)

// parseForm returns the absolute action URL of the page's first form and
// the values of its inputs that have a name.
func parseForm(t *testing.T, p page) (string, url.Values) {
	t.Helper()
	m := formTag.FindStringSubmatch(p.body)
	require.NotNil(t, m, "page %s has a form: %s", p.url, p.body)
	action, err := p.url.Parse(html.UnescapeString(m[1]))
	require.NoError(t, err)

	fields := url.Values{}
	for _, input := range inputTag.FindAllString(p.body, -1) {
		var name, value string
		for _, a := range attr.FindAllStringSubmatch(input, -1) {
			switch strings.ToLower(a[1]) {
			case "name":
				name = html.UnescapeString(a[2])
			case "value":
				value = html.UnescapeString(a[2])
			}
		}
		if name != "" {
			fields.Set(name, value)
		}
	}
	return action.String(), fields
}
