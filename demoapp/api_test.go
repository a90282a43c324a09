package demoapp

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// apiTestIssuer serves an authorization server's RFC 8414 metadata and
// JWKS, and signs JWTs with its key.
type apiTestIssuer struct {
	url string
	key *keys.Key
}

func newAPITestIssuer(t *testing.T) *apiTestIssuer {
	t.Helper()
	iss := &apiTestIssuer{key: keytest.Key(t)}
	set := keys.NewSet(iss.key)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, _ *http.Request) {
		oauth.WriteJSON(w, http.StatusOK, map[string]string{"issuer": iss.url, "jwks_uri": iss.url + "/jwks"})
	})
	mux.Handle("GET /jwks", set.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.url = srv.URL
	return iss
}

// jwt returns a JWT of the shape the authorization server's token exchange
// issues.
func (iss *apiTestIssuer) jwt(t *testing.T, audience string) string {
	t.Helper()
	now := time.Now()
	token, err := iss.key.Sign(map[string]any{
		"iss": iss.url, "sub": "user-7", "aud": audience, "client_id": "demo-web",
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "jti-7",
		"scope": "openid profile email", "name": "Alice Liddell",
		"email": "alice@example.com", "email_verified": true,
		"act": map[string]string{"sub": "gateway"},
	}, oauth.JWTTypeAccessToken)
	require.NoError(t, err)
	return token
}

func newTestAPI(t *testing.T, iss *apiTestIssuer) *APIServer {
	t.Helper()
	api, err := NewAPI(APIConfig{Issuer: iss.url})
	require.NoError(t, err)
	t.Cleanup(func() { _ = api.Close() })
	return api
}

func apiGet(api *APIServer, path, authorization string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	return rec
}

func TestAPIMeReturnsClaims(t *testing.T) {
	iss := newAPITestIssuer(t)
	api := newTestAPI(t, iss)
	jwt := iss.jwt(t, DefaultAPIAudience)

	rec := apiGet(api, "/api/me", "Bearer "+jwt)

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, `{
		"sub": "user-7", "name": "Alice Liddell", "email": "alice@example.com",
		"email_verified": true, "client_id": "demo-web", "scope": "openid profile email"
	}`, rec.Body.String())

	events := api.Trace().Events()
	require.Len(t, events, 1)
	assert.Equal(t, "18", events[0].Step)
	assert.Equal(t, APIServiceName, events[0].Service)
	assert.Equal(t, http.StatusOK, events[0].Status)
	assert.Equal(t, trace.Fingerprint(jwt), events[0].Fingerprints[trace.KeyJWT])
	assert.Equal(t, trace.Fingerprint("user-7"), events[0].Fingerprints[trace.KeySubject])
}

func TestAPIMeRejects(t *testing.T) {
	iss := newAPITestIssuer(t)
	api := newTestAPI(t, iss)

	tests := []struct {
		name          string
		authorization string
		challenge     string
	}{
		{"no token", "", `Bearer realm="oidcstack"`},
		{"other audience", "Bearer " + iss.jwt(t, "other-api"), `Bearer realm="oidcstack", error="invalid_token"`},
		{"opaque token", "Bearer " + oauth.NewToken(), `Bearer realm="oidcstack", error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := apiGet(api, "/api/me", tt.authorization)
			assert.Equal(t, http.StatusUnauthorized, rec.Code)
			assert.Equal(t, tt.challenge, rec.Header().Get("WWW-Authenticate"))
			assert.NotContains(t, rec.Body.String(), "user-7")
		})
	}

	events := api.Trace().Events()
	require.Len(t, events, len(tests))
	for _, e := range events {
		assert.Equal(t, http.StatusUnauthorized, e.Status)
		assert.Empty(t, e.Fingerprints[trace.KeySubject])
	}
}

func TestAPIServiceEndpoints(t *testing.T) {
	api := newTestAPI(t, newAPITestIssuer(t))

	assert.Equal(t, http.StatusOK, apiGet(api, "/healthz", "").Code)
	assert.Equal(t, http.StatusOK, apiGet(api, "/_trace", "").Code)
	assert.Equal(t, http.StatusNotFound, apiGet(api, "/api/other", "").Code)
}

func TestAPIConfigValidate(t *testing.T) {
	err := APIConfig{Issuer: "localhost:9001", JWKSURL: "/jwks"}.Validate()
	require.Error(t, err)
	assert.ErrorContains(t, err, "API Issuer")
	assert.ErrorContains(t, err, "API JWKSURL")

	assert.ErrorContains(t, APIConfig{}.Validate(), "API Issuer is missing")
	assert.NoError(t, APIConfig{Issuer: "http://localhost:9001"}.Validate())
}
