package authserver

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oidcstack/oidcstack/internal/jwks"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/mockidp"
)

// faultErrors are the errors the web app gets for the must-reject faults
// that are not a rejected ID token (server_error).
var faultErrors = map[mockidp.FaultName]string{
	mockidp.FaultAccessDenied:     oauth.ErrAccessDenied,
	mockidp.FaultLoginRequired:    oauth.ErrAccessDenied,
	mockidp.FaultTokenServerError: oauth.ErrTemporarilyUnavailable,
	mockidp.FaultTokenSlow:        oauth.ErrTemporarilyUnavailable,
}

// faultScopes are the upstream scopes a fault needs: with openid alone the
// ID token lacks email and name, so the server calls userinfo (10b).
var faultScopes = map[mockidp.FaultName][]string{
	mockidp.FaultUserinfoSubOther: {"openid"},
}

// faultWarmUp are the faults tested after a first login, so the key set
// is already loaded: an unknown or rotated kid must cause a refetch.
var faultWarmUp = map[mockidp.FaultName]bool{
	mockidp.FaultKeyRotated: true,
	mockidp.FaultKidUnknown: true,
}

// slowTokenTimeout is the back-channel timeout in the token_slow case,
// far below the fault's delay, so the test ends quickly.
const slowTokenTimeout = time.Second

// TestMockIDPFaults runs one login per fault of mockidp through the real
// callback. A must-reject fault ends the login at the web app with an
// error and writes no user and no session. A must-accept fault logs in.
func TestMockIDPFaults(t *testing.T) {
	for _, name := range mockidp.FaultNames() {
		t.Run(string(name), func(t *testing.T) {
			t.Parallel()
			f := newFederation(t, func(c *Config) {
				if scopes, ok := faultScopes[name]; ok {
					c.Upstreams[0].Scopes = scopes
				}
				if name == mockidp.FaultTokenSlow {
					c.HTTPClient.Timeout = slowTokenTimeout
				}
			})

			users, sessions := f.counts.users.Load(), f.counts.sessions.Load()
			if faultWarmUp[name] {
				// A first login loads the JWKS, as on a running server;
				// then the key set's refetch interval passes.
				warm := f.loginWith(newBrowser(t), "google", "bob@example.com", "bob-password")
				require.NotEmpty(t, warm.Get("code"), "warm-up login: %s", warm.Get("error"))
				f.clock.Advance(jwks.DefaultRefetchInterval)
				users, sessions = f.counts.users.Load(), f.counts.sessions.Load()
			}

			fault := mockidp.Fault{Name: name}
			if name == mockidp.FaultTokenSlow {
				fault.Delay = 10 * slowTokenTimeout
			}
			require.NoError(t, f.idp.InjectFault("google", fault))
			b := newBrowser(t)
			callback := f.loginAllowingEarlyError(b, "alice@example.com", "alice-password")
			assert.Empty(t, f.idp.Faults("google"), "the fault was applied")

			switch name.Group() {
			case mockidp.GroupReject:
				want, ok := faultErrors[name]
				if !ok {
					want = oauth.ErrServerError
				}
				assert.Equal(t, want, callback.Get("error"), "error_description: %s", callback.Get("error_description"))
				assert.Equal(t, "st", callback.Get("state"))
				assert.Empty(t, callback.Get("code"))
				assert.Equal(t, users, f.counts.users.Load(), "no user written")
				assert.Equal(t, sessions, f.counts.sessions.Load(), "no session created")
				for _, c := range b.client.Jar.Cookies(mustParseURL(t, f.url)) {
					assert.NotEqual(t, sessionCookie, c.Name, "no session cookie set")
				}
			case mockidp.GroupAccept:
				assert.Empty(t, callback.Get("error"), "error_description: %s", callback.Get("error_description"))
				assert.NotEmpty(t, callback.Get("code"))
				assert.Equal(t, users+1, f.counts.users.Load())
			case mockidp.GroupEither:
				// Either outcome is correct. This server accepts a token
				// without kid by trying every published key.
				assert.NotEmpty(t, callback.Get("code"), "error: %s", callback.Get("error"))
			default:
				t.Fatalf("fault %q has no group", name)
			}
		})
	}
}

// TestKeyRotationWithinRefetchInterval shows the cost of the rate limit. A
// key that appears within the interval after the last JWKS fetch is not
// fetched, so that login fails. After the interval, the next login works.
func TestKeyRotationWithinRefetchInterval(t *testing.T) {
	f := newFederation(t, nil)
	warm := f.loginWith(newBrowser(t), "google", "bob@example.com", "bob-password")
	require.NotEmpty(t, warm.Get("code"))

	require.NoError(t, f.idp.InjectFault("google", mockidp.Fault{Name: mockidp.FaultKeyRotated}))
	callback := f.loginWith(newBrowser(t), "google", "alice@example.com", "alice-password")
	assert.Equal(t, oauth.ErrServerError, callback.Get("error"))

	// The provider keeps signing with the new key.
	f.clock.Advance(jwks.DefaultRefetchInterval)
	callback = f.loginWith(newBrowser(t), "google", "alice@example.com", "alice-password")
	assert.NotEmpty(t, callback.Get("code"), "error: %s", callback.Get("error"))
}

// loginAllowingEarlyError logs in through google like loginWith, but
// accepts an error response from the provider's authorization endpoint
// before its login page (5b), as an authorization fault sends.
func (f *federation) loginAllowingEarlyError(b *browser, email, password string) url.Values {
	f.t.Helper()
	resp, page := b.get(f.webClient().AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	require.Equal(f.t, http.StatusOK, resp.StatusCode, "login page (3): %s", page)
	resp, page = b.submit(page, url.Values{"idp": {"google"}})
	if resp.StatusCode == http.StatusFound {
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(f.t, err)
		require.Equal(f.t, testWebApp+"/callback", loc.Scheme+"://"+loc.Host+loc.Path)
		return loc.Query()
	}
	require.Equal(f.t, http.StatusOK, resp.StatusCode, "IDP login page (6): %s", page)
	return f.submitIDPLogin(b, page, email, password)
}
