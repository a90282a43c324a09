package e2e

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/demoapp"
	"github.com/oidcstack/oidcstack/internal/stack"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// implicitBrowserSteps are the browser's steps with the implicit grant:
// the token arrives in the fragment at 13b, so there is no 14c.
var implicitBrowserSteps = []string{
	"1", "2a", "2b", "3", "4a", "4b", "5a", "5b", "6", "7a", "7b",
	"8a", "8b", "9a", "11b", "12a", "13b", "14a", "15",
}

func TestImplicitGrantFlow(t *testing.T) {
	st := startStack(t, func(o *stack.Options) { o.WebAppGrant = demoapp.GrantImplicit })
	j := newJourney(t, st)

	j.loginAs("bob@example.com", "bob-password")

	assert.Equal(t, "Bob Marley", j.text("#user-name"))
	assert.Equal(t, "bob@example.com", j.text("#user-email"))

	ep := j.endpoints()
	hops := j.netlog.Hops()
	require.Equal(t, implicitBrowserSteps, ep.steps(hops), "browser steps; hops: %+v", hops)

	// 13b carries the token in the fragment, never in the query, and no
	// refresh token (RFC 6749 section 4.2.2).
	var location *url.URL
	for _, h := range hops {
		if names := ep.classify(h, true, true); len(names) > 0 && names[0] == "12a" {
			var err error
			location, err = url.Parse(h.Location)
			require.NoError(t, err)
		}
	}
	require.NotNil(t, location, "no 13b redirect recorded")
	assert.Empty(t, location.RawQuery, "the implicit grant answers in the fragment only")
	fragment, err := url.ParseQuery(location.Fragment)
	require.NoError(t, err)
	assert.Equal(t, "Bearer", fragment.Get("token_type"))
	assert.NotEmpty(t, fragment.Get("expires_in"))
	assert.Empty(t, fragment.Get("refresh_token"))
	assert.Empty(t, fragment.Get("code"))

	// The gateway checked and exchanged the very token of the fragment.
	accessToken := trace.Fingerprint(fragment.Get("access_token"))
	gw := fetchTrace(t, st.URLs.Gateway)
	for _, step := range []string{"15", "16", "17", "18"} {
		_, err := findStep(gw, step, trace.KeyAccessToken, accessToken)
		assert.NoError(t, err)
	}

	// The fragment never reaches the app server: its 14a has no token.
	web := fetchTrace(t, st.URLs.WebApp)
	for _, e := range web.Events {
		assert.NotContains(t, e.Fingerprints, trace.KeyAccessToken, "step %s", e.Step)
	}
}
