package jwtauth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// protected returns v's middleware around a handler that writes the
// subject it found in the context.
func protected(v *Verifier) http.Handler {
	return v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, ok := ClaimsFromContext(r.Context())
		if !ok {
			http.Error(w, "no claims", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(claims.Subject))
	}))
}

func serve(h http.Handler, authorization ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	for _, a := range authorization {
		req.Header.Add("Authorization", a)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return body.Error
}

func TestMiddlewarePassesClaims(t *testing.T) {
	iss := newTestIssuer(t)
	clock := newFakeClock()
	h := protected(newTestVerifier(t, iss, clock))

	rec := serve(h, "Bearer "+sign(t, iss.keys.Signing(), iss.goodClaims(clock.Now())))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "user-42", rec.Body.String())
}

func TestMiddlewareRejects(t *testing.T) {
	iss := newTestIssuer(t)
	clock := newFakeClock()
	h := protected(newTestVerifier(t, iss, clock))
	good := sign(t, iss.keys.Signing(), iss.goodClaims(clock.Now()))

	tests := []struct {
		name          string
		authorization []string
		status        int
		challenge     string
	}{
		{"no header", nil, http.StatusUnauthorized, `Bearer realm="oidcstack"`},
		{"basic scheme", []string{"Basic dXNlcjpwYXNz"}, http.StatusUnauthorized, `Bearer realm="oidcstack"`},
		{"bearer alone", []string{"Bearer"}, http.StatusBadRequest, `Bearer realm="oidcstack", error="invalid_request"`},
		{"two tokens", []string{"Bearer " + good + " " + good}, http.StatusBadRequest, `Bearer realm="oidcstack", error="invalid_request"`},
		{"two headers", []string{"Bearer " + good, "Bearer " + good}, http.StatusBadRequest, `Bearer realm="oidcstack", error="invalid_request"`},
		{"garbage token", []string{"Bearer abc"}, http.StatusUnauthorized, `Bearer realm="oidcstack", error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(h, tt.authorization...)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.challenge, rec.Header().Get("WWW-Authenticate"))
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.NotContains(t, rec.Body.String(), "user-42")
		})
	}
}

func TestMiddlewareKeysUnavailable(t *testing.T) {
	iss := newTestIssuer(t)
	clock := newFakeClock()
	h := protected(newTestVerifier(t, iss, clock))
	iss.setStatus(http.StatusServiceUnavailable)

	rec := serve(h, "Bearer "+sign(t, iss.keys.Signing(), iss.goodClaims(clock.Now())))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, oauth.ErrTemporarilyUnavailable, errorCode(t, rec))
	assert.NotContains(t, rec.Body.String(), iss.url(), "no internals in the body")
}

func TestClaimsFromContextEmpty(t *testing.T) {
	claims, ok := ClaimsFromContext(httptest.NewRequest(http.MethodGet, "/", nil).Context())
	assert.False(t, ok)
	assert.Nil(t, claims)
}
