package mockidp

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
)

// Test registrations: a confidential client and a public (PKCE) client.
const (
	rpClientID     = "rp"
	rpSecret       = "rp-secret:with%odd=chars"
	rpRedirectURI  = "http://rp.test/callback"
	rpLogoutURI    = "http://rp.test/signed-out"
	spaClientID    = "spa"
	spaRedirectURI = "http://spa.test/callback"
)

// testClock is a settable clock shared by a test and its server.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now().Truncate(time.Second)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testIssuers returns issuers with the given names, each with the demo
// users, the test clients and a fresh key.
func testIssuers(t *testing.T, names ...string) []IssuerConfig {
	t.Helper()
	var out []IssuerConfig
	for _, name := range names {
		out = append(out, IssuerConfig{
			Name:  name,
			Users: DemoUsers(),
			Clients: []Client{
				{ID: rpClientID, Secret: rpSecret, RedirectURIs: []string{rpRedirectURI}, PostLogoutRedirectURIs: []string{rpLogoutURI}},
				{ID: spaClientID, Public: true, RedirectURIs: []string{spaRedirectURI}},
			},
			Keys: []*keys.Key{keytest.Key(t)},
		})
	}
	return out
}

// startIDP serves a Server for cfg on a loopback httptest server. BaseURL
// is set to the server's URL; nil Issuers become one test issuer, "google".
func startIDP(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg.BaseURL = "http://" + ts.Listener.Addr().String()
	if cfg.Issuers == nil {
		cfg.Issuers = testIssuers(t, "google")
	}
	srv, err := New(cfg)
	require.NoError(t, err)
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return srv, ts
}

// browser is a cookie-keeping HTTP client that follows redirects only
// within the IDP, so a redirect to a client comes back as the response.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T, ts *httptest.Server) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	idpHost := strings.TrimPrefix(ts.URL, "http://")
	return &browser{t: t, client: &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if req.URL.Host != idpHost {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

// get fetches rawURL and returns the response with its body read.
func (b *browser) get(rawURL string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Get(rawURL)
	require.NoError(b.t, err)
	return resp, readBody(b.t, resp)
}

// post submits form to rawURL.
func (b *browser) post(rawURL string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.PostForm(rawURL, form)
	require.NoError(b.t, err)
	return resp, readBody(b.t, resp)
}

// submitLogin fills in the login page and submits it with the given action.
func (b *browser) submitLogin(page, username, password, action string) (*http.Response, string) {
	b.t.Helper()
	form := url.Values{
		FieldTx:        {formValue(b.t, page, FieldTx)},
		FieldCSRFToken: {formValue(b.t, page, FieldCSRFToken)},
		FieldUsername:  {username},
		FieldPassword:  {password},
		FieldAction:    {action},
	}
	return b.post(formAction(b.t, page), form)
}

// login opens authURL, logs in as username and returns the redirect to the
// client (step 8b).
func (b *browser) login(authURL, username, password string) *url.URL {
	b.t.Helper()
	resp, page := b.get(authURL)
	require.Equal(b.t, http.StatusOK, resp.StatusCode, "login page: %s", page)
	resp, body := b.submitLogin(page, username, password, ActionLogin)
	require.Equal(b.t, http.StatusFound, resp.StatusCode, "after login: %s", body)
	loc, err := resp.Location()
	require.NoError(b.t, err)
	return loc
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(data)
}

// formValue returns the value of the hidden input called name in page.
func formValue(t *testing.T, page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(page)
	require.NotNil(t, m, "no input %q in page:\n%s", name, page)
	return m[1]
}

// formAction returns the action URL of the first form in page.
func formAction(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`<form method="post" action="([^"]*)"`).FindStringSubmatch(page)
	require.NotNil(t, m, "no form in page:\n%s", page)
	return m[1]
}

// jwtClaims decodes the payload of a compact JWT without verifying it.
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&claims))
	return claims
}

// authURL returns an authorization URL of issuer for the confidential test
// client with the given extra parameters.
func authURL(issuer string, extra url.Values) string {
	q := url.Values{
		"client_id":     {rpClientID},
		"redirect_uri":  {rpRedirectURI},
		"response_type": {"code"},
		"scope":         {"openid email profile"},
		"state":         {"state-123"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return issuer + "/authorize?" + q.Encode()
}

// newFormRequest returns a POST of form to rawURL.
func newFormRequest(t *testing.T, rawURL string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// doJSON sends req and decodes the JSON response body.
func doJSON(t *testing.T, req *http.Request) tokenResult {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	require.NoError(t, dec.Decode(&body))
	return tokenResult{status: resp.StatusCode, header: resp.Header, body: body}
}

// getUserinfo calls the issuer's userinfo endpoint with a bearer token.
func getUserinfo(t *testing.T, issuer, accessToken string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, issuer+"/userinfo", nil)
	require.NoError(t, err)
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// decodeJSON decodes body into v with numbers as json.Number.
func decodeJSON(body string, v any) error {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	return dec.Decode(v)
}
