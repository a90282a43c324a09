package e2e

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/stack"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// journeyTimeout bounds every wait of one browser journey.
const journeyTimeout = 30 * time.Second

// browserSteps are the steps of the flow the browser's own network log
// shows for a first login, in order.
var browserSteps = []string{
	"1", "2a", "2b", "3", "4a", "4b", "5a", "5b", "6", "7a", "7b",
	"8a", "8b", "9a", "11b", "12a", "13b", "14a", "14c", "15",
}

// journey is one browser session against a stack: a fresh incognito
// context, its page, and the page's network log.
type journey struct {
	t      *testing.T
	st     *stack.Stack
	page   *rod.Page
	netlog *networkLog
}

func newJourney(t *testing.T, st *stack.Stack) *journey {
	t.Helper()
	incognito, err := sharedBrowser(t).Incognito()
	require.NoError(t, err)
	page, err := incognito.Page(proto.TargetCreateTarget{})
	require.NoError(t, err)
	j := &journey{t: t, st: st, page: page.Timeout(journeyTimeout), netlog: recordNetwork(page)}
	t.Cleanup(func() {
		if t.Failed() {
			j.saveArtifacts()
		}
		_ = page.Close()
		_ = incognito.Close()
	})
	return j
}

// saveArtifacts writes a screenshot, the network log and every service's
// step trace next to the test, for a failure to be read afterwards.
func (j *journey) saveArtifacts() {
	dir := artifactDir(j.t)
	if img, err := j.page.Screenshot(true, nil); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "screenshot.png"), img, 0o644)
	}
	traces := map[string]any{"browser": j.netlog.Hops()}
	for _, base := range []string{j.st.URLs.MockIDP, j.st.URLs.AuthServer, j.st.URLs.Gateway, j.st.URLs.WebApp, j.st.URLs.API} {
		tr := fetchTrace(j.t, base)
		traces[tr.Service] = tr.Events
	}
	data, _ := json.MarshalIndent(traces, "", "  ")
	_ = os.WriteFile(filepath.Join(dir, "traces.json"), data, 0o644)
	j.t.Logf("saved a screenshot and the step traces in %s", dir)
}

func (j *journey) endpoints() endpoints {
	return endpoints{
		WebApp:     j.st.URLs.WebApp,
		AuthServer: j.st.URLs.AuthServer,
		Issuer:     j.st.URLs.Issuers[0],
		Gateway:    j.st.URLs.Gateway,
	}
}

// loginAs walks the interactive part of the flow: open the app, click
// "Log in", pick the first IDP, and sign in there.
func (j *journey) loginAs(email, password string) {
	t := j.t
	t.Helper()
	require.NoError(t, j.page.Navigate(j.st.URLs.WebApp))
	j.click("#login")

	// Step 3: the authorization server's login page lists the IDPs.
	j.click(`button[name="idp"][value="google"]`)

	// Step 6: the IDP's login page.
	j.input("#username", email)
	j.input("#password", password)
	j.click("#login")
}

func (j *journey) click(selector string) {
	j.t.Helper()
	el, err := j.page.Element(selector)
	require.NoError(j.t, err, "find %s on %s", selector, j.page.MustInfo().URL)
	require.NoError(j.t, el.Click(proto.InputMouseButtonLeft, 1), "click %s", selector)
}

func (j *journey) input(selector, text string) {
	j.t.Helper()
	el, err := j.page.Element(selector)
	require.NoError(j.t, err, "find %s", selector)
	require.NoError(j.t, el.SelectAllText())
	require.NoError(j.t, el.Input(text), "type into %s", selector)
}

// text waits for selector to be visible and returns its text.
func (j *journey) text(selector string) string {
	j.t.Helper()
	el, err := j.page.Element(selector)
	require.NoError(j.t, err, "find %s", selector)
	require.NoError(j.t, el.WaitVisible(), "wait for %s to be visible", selector)
	text, err := el.Text()
	require.NoError(j.t, err)
	return text
}

// hopParam returns parameter name, from the query or the fragment, of the
// Location of the first hop that shows step, or of the hop's own URL when
// fromLocation is false.
func hopParam(t *testing.T, ep endpoints, hops []hop, step, name string, fromLocation bool) string {
	t.Helper()
	var seenAuthorize, seenIDPAuthorize bool
	for _, h := range hops {
		names := ep.classify(h, seenAuthorize, seenIDPAuthorize)
		if len(names) == 0 {
			continue
		}
		seenAuthorize = seenAuthorize || names[0] == "2a"
		seenIDPAuthorize = seenIDPAuthorize || names[0] == "5a"
		for _, n := range names {
			if n != step {
				continue
			}
			raw := h.URL
			if fromLocation {
				raw = h.Location
			}
			u, err := url.Parse(raw)
			require.NoError(t, err)
			value := u.Query().Get(name)
			if value == "" {
				// The implicit grant returns its response in the fragment.
				fragment, err := url.ParseQuery(u.Fragment)
				require.NoError(t, err)
				value = fragment.Get(name)
			}
			require.NotEmpty(t, value, "step %s: no %s in %q", step, name, raw)
			return value
		}
	}
	t.Fatalf("no hop shows step %s", step)
	return ""
}

func TestLoginFlowWalksEveryStep(t *testing.T) {
	st := startStack(t, nil)
	j := newJourney(t, st)

	j.loginAs("alice@example.com", "alice-password")

	// The page shows the user's data as the demo API returned it through
	// the gateway.
	assert.Equal(t, "Alice Liddell", j.text("#user-name"))
	assert.Equal(t, "alice@example.com", j.text("#user-email"))
	assert.NotEmpty(t, j.text("#user-sub"))

	// The browser's own network log shows steps 1 to 15 in order.
	ep := j.endpoints()
	hops := j.netlog.Hops()
	require.Equal(t, browserSteps, ep.steps(hops), "browser steps; hops: %+v", hops)

	// Every redirect of the flow is a 302 or 303, and the pages load.
	for _, h := range hops {
		names := ep.classify(h, true, true)
		if len(names) == 0 {
			continue
		}
		assert.Less(t, h.Status, 400, "%s %s answered %d", h.Method, h.URL, h.Status)
	}

	// The services' traces hold the back-channel steps of the same login,
	// tied together by the fingerprints the browser can compute itself.
	appState := trace.Fingerprint(hopParam(t, ep, hops, "2a", "state", false))
	upstreamState := trace.Fingerprint(hopParam(t, ep, hops, "4b", "state", true))
	code := trace.Fingerprint(hopParam(t, ep, hops, "13b", "code", true))

	auth := fetchTrace(t, st.URLs.AuthServer)
	for _, step := range []string{"2b", "13b"} {
		_, err := findStep(auth, step, trace.KeyAppState, appState)
		assert.NoError(t, err)
	}
	for _, step := range []string{"4b", "9b", "10a", "11a", "11b"} {
		_, err := findStep(auth, step, trace.KeyUpstreamState, upstreamState)
		assert.NoError(t, err)
	}
	redeemed, err := findStep(auth, "14c", trace.KeyCode, code)
	require.NoError(t, err)
	accessToken := redeemed.Fingerprints[trace.KeyAccessToken]
	require.NotEmpty(t, accessToken, "step 14c carries the access token's fingerprint")

	idp := fetchTrace(t, st.URLs.MockIDP)
	_, err = findStep(idp, "10a", trace.KeyUpstreamState, upstreamState)
	if err != nil {
		// The IDP gets no state at its token endpoint; the code it issued
		// at 8b ties its 10a to this login instead.
		idpCode := trace.Fingerprint(hopParam(t, ep, hops, "8b", "code", true))
		_, err = findStep(idp, "10a", trace.KeyCode, idpCode)
	}
	assert.NoError(t, err, "the IDP's token endpoint step")

	gw := fetchTrace(t, st.URLs.Gateway)
	for _, step := range []string{"15", "16", "17"} {
		_, err := findStep(gw, step, trace.KeyAccessToken, accessToken)
		assert.NoError(t, err)
	}
	forwarded, err := findStep(gw, "18", trace.KeyAccessToken, accessToken)
	require.NoError(t, err)
	jwt := forwarded.Fingerprints[trace.KeyJWT]
	require.NotEmpty(t, jwt, "the gateway's step 18 carries the JWT's fingerprint")

	exchanged, err := findStep(auth, "17", trace.KeyAccessToken, accessToken)
	require.NoError(t, err)
	assert.Equal(t, jwt, exchanged.Fingerprints[trace.KeyJWT], "the gateway forwards the JWT the authorization server minted")
	_, err = findStep(auth, "16", trace.KeyAccessToken, accessToken)
	assert.NoError(t, err)

	api := fetchTrace(t, st.URLs.API)
	_, err = findStep(api, "18", trace.KeyJWT, jwt)
	assert.NoError(t, err, "the demo API verified the gateway's JWT")
}
