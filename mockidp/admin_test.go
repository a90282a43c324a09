package mockidp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/keys"
	"github.com/oidcstack/oidcstack/internal/keys/keytest"
)

// adminCall sends a JSON admin request and decodes the JSON response, if any.
func adminCall(t *testing.T, baseURL, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var reader *bytes.Reader
	if body != nil {
		data, err := json.Marshal(body)
		require.NoError(t, err)
		reader = bytes.NewReader(data)
	} else {
		reader = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, baseURL+path, reader)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw := readBody(t, resp)
	var out map[string]any
	if resp.Header.Get("Content-Type") == "application/json" {
		require.NoError(t, decodeJSON(raw, &out), raw)
	}
	return resp.StatusCode, out
}

func TestAdminOffByDefault(t *testing.T) {
	srv, ts := startIDP(t, Config{})
	status, _ := adminCall(t, ts.URL, http.MethodGet, "/_admin/issuers", nil)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "", srv.Issuer("_admin"))
}

func TestAdminAccess(t *testing.T) {
	private := netip.MustParsePrefix("10.0.0.0/8")
	tests := []struct {
		name       string
		admin      AdminConfig
		remoteAddr string
		auth       string
		wantStatus int
	}{
		{"loopback by default", AdminConfig{Enabled: true}, "127.0.0.1:5000", "", http.StatusOK},
		{"ipv6 loopback by default", AdminConfig{Enabled: true}, "[::1]:5000", "", http.StatusOK},
		{"other address by default", AdminConfig{Enabled: true}, "192.0.2.7:5000", "", http.StatusForbidden},
		{"network allowed", AdminConfig{Enabled: true, AllowedNetworks: []netip.Prefix{private}}, "10.1.2.3:5000", "", http.StatusOK},
		{"network replaces loopback", AdminConfig{Enabled: true, AllowedNetworks: []netip.Prefix{private}}, "127.0.0.1:5000", "", http.StatusForbidden},
		{"token from anywhere", AdminConfig{Enabled: true, Token: "s3cret"}, "192.0.2.7:5000", "Bearer s3cret", http.StatusOK},
		{"token missing", AdminConfig{Enabled: true, Token: "s3cret"}, "127.0.0.1:5000", "", http.StatusUnauthorized},
		{"token wrong", AdminConfig{Enabled: true, Token: "s3cret"}, "127.0.0.1:5000", "Bearer s3cre", http.StatusUnauthorized},
		{"token and network", AdminConfig{Enabled: true, Token: "s3cret", AllowedNetworks: []netip.Prefix{private}}, "192.0.2.7:5000", "Bearer s3cret", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := New(Config{Issuers: testIssuers(t, "google"), Admin: tt.admin})
			require.NoError(t, err)
			defer srv.Close()
			req := httptest.NewRequest(http.MethodGet, "/_admin/issuers", nil)
			req.RemoteAddr = tt.remoteAddr
			// Forwarding headers never count.
			req.Header.Set("X-Forwarded-For", "127.0.0.1")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			assert.Equal(t, tt.wantStatus, rec.Code, rec.Body.String())
			if tt.wantStatus == http.StatusUnauthorized {
				assert.Equal(t, `Bearer realm="mockidp-admin"`, rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestAdminConfigValidation(t *testing.T) {
	err := Config{Admin: AdminConfig{Token: "x"}, CAFile: "ca.pem", BaseURL: "https://127.0.0.1:1"}.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Admin.Enabled is false")
	assert.Contains(t, err.Error(), "CAFile is set but HTTPS is off")
	assert.ErrorContains(t, Config{HTTPS: true, BaseURL: "http://127.0.0.1:1"}.Validate(), "needs an https BaseURL")
}

// TestAdminAPIMirrorsGoAPI drives every admin route over HTTP.
func TestAdminAPIMirrorsGoAPI(t *testing.T) {
	srv, ts := startIDP(t, Config{
		Admin:       AdminConfig{Enabled: true},
		GenerateKey: func() (*keys.Key, error) { return keytest.Key(t), nil },
	})
	base := ts.URL + "/_admin"

	status, body := adminCall(t, base, http.MethodGet, "/issuers", nil)
	require.Equal(t, http.StatusOK, status, "%v", body)
	issuers := body["issuers"].([]any)
	require.Len(t, issuers, 1)
	first := issuers[0].(map[string]any)
	assert.Equal(t, "google", first["name"])
	assert.Equal(t, srv.Issuer("google"), first["issuer"])
	assert.Equal(t, srv.Endpoints("google").Token, first["token_endpoint"])
	assert.Equal(t, srv.SigningKeyID("google"), first["signing_key_id"])

	// Users and clients.
	status, body = adminCall(t, base, http.MethodPost, "/issuers/google/users", map[string]any{"sub": "77", "email": "dora@example.com", "password": "pw", "email_verified": true})
	require.Equal(t, http.StatusOK, status, "%v", body)
	status, body = adminCall(t, base, http.MethodPost, "/issuers/google/clients", map[string]any{"client_id": "curl", "client_secret": "curl-secret", "redirect_uris": []string{"http://curl.test/cb"}})
	require.Equal(t, http.StatusOK, status, "%v", body)
	status, body = adminCall(t, base, http.MethodPost, "/issuers/google/users", map[string]any{"sub": "78", "emial": "typo"})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body["error_description"], "unknown field")
	status, _ = adminCall(t, base, http.MethodPost, "/issuers/nope/users", map[string]any{})
	assert.Equal(t, http.StatusNotFound, status)

	// Login through the admin API, then redeem the code at the token endpoint.
	q := url.Values{"client_id": {"curl"}, "redirect_uri": {"http://curl.test/cb"}, "response_type": {"code"}, "scope": {"openid email"}, "state": {"st"}}
	status, body = adminCall(t, base, http.MethodPost, "/issuers/google/login", map[string]any{
		"authorization_url": srv.Endpoints("google").Authorization + "?" + q.Encode(),
		"user":              "dora@example.com",
	})
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "st", body["state"])
	assert.True(t, strings.HasPrefix(body["redirect_url"].(string), "http://curl.test/cb?"))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {body["code"].(string)}, "redirect_uri": {"http://curl.test/cb"}}
	tokens := postToken(t, srv.Issuer("google"), form, "curl", "curl-secret")
	require.Equal(t, http.StatusOK, tokens.status)
	assert.Equal(t, "77", jwtClaims(t, tokens.body["id_token"].(string))["sub"])

	status, body = adminCall(t, base, http.MethodPost, "/issuers/google/login", map[string]any{
		"authorization_url": "http://elsewhere.test/authorize?" + q.Encode(),
		"user":              "dora@example.com",
	})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body["error_description"], "authorization_url must start with "+srv.Issuer("google"))

	// Next login per client and per login_hint.
	status, _ = adminCall(t, base, http.MethodPost, "/issuers/google/next-login", map[string]any{"user": "77", "client_id": rpClientID})
	assert.Equal(t, http.StatusNoContent, status)
	status, _ = adminCall(t, base, http.MethodPost, "/issuers/google/next-login", map[string]any{"user": "77", "login_hint": "h"})
	assert.Equal(t, http.StatusNoContent, status)
	status, body = adminCall(t, base, http.MethodPost, "/issuers/google/next-login", map[string]any{"user": "77"})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body["error_description"], "exactly one of client_id and login_hint")

	// Minted tokens.
	status, body = adminCall(t, base, http.MethodPost, "/issuers/google/id-token", map[string]any{"client_id": rpClientID, "user": "77", "claims": map[string]any{"exp": 1, "custom": "v"}})
	require.Equal(t, http.StatusOK, status, "%v", body)
	claims := jwtClaims(t, body["id_token"].(string))
	assert.Equal(t, json.Number("1"), claims["exp"], "numbers keep their exact value")
	assert.Equal(t, "v", claims["custom"])
	status, body = adminCall(t, base, http.MethodPost, "/issuers/google/access-token", map[string]any{"client_id": rpClientID, "user": "77"})
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, http.StatusOK, getUserinfo(t, srv.Issuer("google"), body["access_token"].(string)).StatusCode)
	status, body = adminCall(t, base, http.MethodPost, "/issuers/google/sign", map[string]any{"claims": map[string]any{"anything": true}})
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, true, jwtClaims(t, body["jwt"].(string))["anything"])

	// Key rotation.
	oldKID := srv.SigningKeyID("google")
	status, body = adminCall(t, base, http.MethodPost, "/issuers/google/rotate-key", nil)
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, srv.SigningKeyID("google"), body["signing_key_id"])
	assert.NotEqual(t, oldKID, body["signing_key_id"])

	// Faults.
	status, body = adminCall(t, base, http.MethodPost, "/issuers/google/faults", map[string]any{"name": "token_slow", "count": 2, "client_id": rpClientID, "delay": "250ms"})
	require.Equal(t, http.StatusNoContent, status, "%v", body)
	status, body = adminCall(t, base, http.MethodGet, "/issuers/google/faults", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, []any{map[string]any{"name": "token_slow", "count": json.Number("2"), "client_id": rpClientID, "delay": "250ms"}}, body["faults"])
	assert.Equal(t, []Fault{{Name: FaultTokenSlow, Count: 2, ClientID: rpClientID, Delay: 250 * time.Millisecond}}, srv.Faults("google"))
	status, body = adminCall(t, base, http.MethodPost, "/issuers/google/faults", map[string]any{"name": "nope"})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body["error_description"], "unknown fault")
	status, _ = adminCall(t, base, http.MethodDelete, "/issuers/google/faults", nil)
	assert.Equal(t, http.StatusNoContent, status)
	assert.Empty(t, srv.Faults("google"))
	status, body = adminCall(t, base, http.MethodGet, "/faults", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Len(t, body["faults"], len(FaultNames()))

	// Clock.
	status, body = adminCall(t, base, http.MethodPost, "/clock", map[string]any{"time": "2030-01-02T03:04:05Z"})
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "2030-01-02T03:04:05Z", body["now"])
	status, body = adminCall(t, base, http.MethodPost, "/clock", map[string]any{"advance": "90s"})
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "2030-01-02T03:05:35Z", body["now"])
	status, body = adminCall(t, base, http.MethodGet, "/clock", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "2030-01-02T03:05:35Z", body["now"])
	status, _ = adminCall(t, base, http.MethodPost, "/clock", map[string]any{"advance": "soon"})
	assert.Equal(t, http.StatusBadRequest, status)

	// Requests: the token request of the login above, masked.
	status, body = adminCall(t, base, http.MethodGet, "/requests?issuer=google", nil)
	require.Equal(t, http.StatusOK, status)
	var sawToken bool
	for _, raw := range body["requests"].([]any) {
		r := raw.(map[string]any)
		if r["path"] == "/token" {
			sawToken = true
			assert.Equal(t, "POST", r["method"])
			assert.Equal(t, "Basic", r["auth_scheme"])
			assert.NotContains(t, r["header"].(map[string]any)["Authorization"].([]any)[0], "curl-secret")
		}
	}
	assert.True(t, sawToken, "the token request is recorded")
	status, _ = adminCall(t, base, http.MethodDelete, "/requests", nil)
	assert.Equal(t, http.StatusNoContent, status)
	assert.Empty(t, srv.Requests())
}
