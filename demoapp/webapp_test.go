package demoapp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/trace"
)

func newTestWebApp(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{
		BaseURL:  "http://localhost:8080/",
		Issuer:   "http://localhost:9001",
		ClientID: "demo-web",
		APIURL:   "http://localhost:8000/api/me",
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestWebAppConfigDocument(t *testing.T) {
	s := newTestWebApp(t)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/config.json", nil))

	require.Equal(t, http.StatusOK, rec.Code)
	var got map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.Equal(t, map[string]string{
		"issuer":                   "http://localhost:9001",
		"authorization_endpoint":   "http://localhost:9001/authorize",
		"token_endpoint":           "http://localhost:9001/token",
		"end_session_endpoint":     "http://localhost:9001/logout",
		"client_id":                "demo-web",
		"redirect_uri":             "http://localhost:8080/callback",
		"post_logout_redirect_uri": "http://localhost:8080/",
		"scope":                    "openid profile email",
		"response_type":            "code",
		"api_url":                  "http://localhost:8000/api/me",
	}, got)
}

func TestWebAppImplicitResponseType(t *testing.T) {
	s, err := New(Config{
		BaseURL:  "http://localhost:8080",
		Issuer:   "http://localhost:9001",
		ClientID: "demo-web",
		APIURL:   "http://localhost:8000/api/me",
		Grant:    GrantImplicit,
	})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/config.json", nil))

	var got map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.Equal(t, "token", got["response_type"])
}

func TestWebAppPageHeaders(t *testing.T) {
	s := newTestWebApp(t)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))

	require.Equal(t, http.StatusOK, rec.Code)
	for _, button := range []string{`<button id="login"`, `<button id="logout" type="button">Log out</button>`, `<button id="forget"`} {
		assert.Contains(t, rec.Body.String(), button)
	}
	assert.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
	assert.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"))
	csp := rec.Header().Get("Content-Security-Policy")
	assert.Contains(t, csp, "script-src 'self'")
	assert.Contains(t, csp, "connect-src 'self' http://localhost:9001 http://localhost:8000")
	assert.Contains(t, csp, "frame-ancestors 'none'")
}

func TestWebAppTracesPageSteps(t *testing.T) {
	s := newTestWebApp(t)
	for _, target := range []string{"/", "/callback?code=the-code&state=the-state"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		require.Equal(t, http.StatusOK, rec.Code, target)
	}

	events := s.Trace().Events()
	require.Len(t, events, 2)
	assert.Equal(t, "1", events[0].Step)
	assert.Equal(t, "14a", events[1].Step)
	assert.Equal(t, trace.Fingerprint("the-state"), events[1].Fingerprints[trace.KeyAppState])
	assert.Equal(t, trace.Fingerprint("the-code"), events[1].Fingerprints[trace.KeyCode])
	for _, e := range events {
		for _, fp := range e.Fingerprints {
			assert.NotContains(t, fp, "the-")
		}
	}
}

func TestWebAppServesScript(t *testing.T) {
	s := newTestWebApp(t)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/app.js", nil))

	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Header().Get("Content-Type"), "javascript")
	for _, want := range []string{
		`params.set("code_challenge_method", "S256")`, `crypto.subtle.digest("SHA-256"`,
		`params.set("id_token_hint", idToken)`, `post_logout_redirect_uri: config.post_logout_redirect_uri`,
		`new URL(config.end_session_endpoint)`,
	} {
		assert.True(t, strings.Contains(rec.Body.String(), want), "app.js lacks %q", want)
	}
}

func TestWebAppEndSessionEndpointSetting(t *testing.T) {
	s, err := New(Config{
		BaseURL:            "http://localhost:8080",
		Issuer:             "http://localhost:9001",
		EndSessionEndpoint: "http://localhost:9001/session/end",
		ClientID:           "demo-web",
		APIURL:             "http://localhost:8000/api/me",
	})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/config.json", nil))

	var got map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.Equal(t, "http://localhost:9001/session/end", got["end_session_endpoint"])
	assert.Equal(t, "http://localhost:8080/", s.PostLogoutRedirectURI())
}

func TestWebAppConfigValidate(t *testing.T) {
	_, err := New(Config{BaseURL: "localhost:8080", APIURL: "ftp://x", Grant: "password", EndSessionEndpoint: "/logout"})
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		`BaseURL is "localhost:8080"`,
		"Issuer is missing",
		`APIURL is "ftp://x"`,
		"ClientID is missing",
		`Grant is "password"`,
		`EndSessionEndpoint is "/logout"`,
	} {
		assert.Contains(t, msg, want)
	}
}
