package oauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestS256ChallengeRFC7636Vector(t *testing.T) {
	// The example of RFC 7636 appendix B.
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	assert.Equal(t, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", S256Challenge(verifier))
}

func TestVerifyPKCE(t *testing.T) {
	verifier := NewToken()
	tests := []struct {
		name      string
		method    string
		challenge string
		verifier  string
		want      bool
	}{
		{name: "s256 match", method: PKCEMethodS256, challenge: S256Challenge(verifier), verifier: verifier, want: true},
		{name: "s256 wrong verifier", method: PKCEMethodS256, challenge: S256Challenge(verifier), verifier: NewToken(), want: false},
		{name: "plain match", method: PKCEMethodPlain, challenge: verifier, verifier: verifier, want: true},
		{name: "empty method is plain", method: "", challenge: verifier, verifier: verifier, want: true},
		{name: "s256 challenge used as plain verifier", method: PKCEMethodS256, challenge: S256Challenge(verifier), verifier: S256Challenge(verifier), want: false},
		{name: "unknown method", method: "S512", challenge: verifier, verifier: verifier, want: false},
		{name: "verifier too short", method: PKCEMethodPlain, challenge: "abc", verifier: "abc", want: false},
		{name: "verifier with invalid character", method: PKCEMethodPlain, challenge: verifier[:42] + "+", verifier: verifier[:42] + "+", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, VerifyPKCE(tt.method, tt.challenge, tt.verifier))
		})
	}
}

func TestNewTokenLengthAndUniqueness(t *testing.T) {
	a, b := NewToken(), NewToken()
	assert.Len(t, a, 43, "32 random bytes in unpadded base64url")
	assert.NotEqual(t, a, b)
	assert.True(t, ValidVerifier(a), "a token must be usable as a PKCE verifier")
}

func TestHashTokenIsHexSHA256(t *testing.T) {
	// SHA-256 of "abc" (FIPS 180-2 appendix B.1).
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", HashToken("abc"))
}

func TestWriteErrorWireFormat(t *testing.T) {
	tests := []struct {
		name      string
		err       *Error
		status    int
		challenge string
	}{
		{name: "invalid_grant", err: NewError(ErrInvalidGrant, "The code is invalid."), status: 400},
		{name: "invalid_client", err: NewError(ErrInvalidClient, "Client authentication failed."), status: 401, challenge: `Basic realm="token"`},
		{name: "server_error", err: Wrap(ErrServerError, "Internal error.", errors.New("disk full")), status: 500},
		{name: "explicit status", err: &Error{Code: ErrInvalidRequest, Status: 405}, status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, tt.err)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Equal(t, tt.challenge, rec.Header().Get("WWW-Authenticate"))
			want := `{"error":"` + tt.err.Code + `"`
			if tt.err.Description != "" {
				want += `,"error_description":"` + tt.err.Description + `"`
			}
			assert.JSONEq(t, want+"}", rec.Body.String())
			assert.NotContains(t, rec.Body.String(), "disk full", "the cause must not reach the client")
		})
	}
}

func TestAsErrorHidesCause(t *testing.T) {
	cause := errors.New("connection refused to 10.0.0.1")
	oe := AsError(cause)
	assert.Equal(t, ErrServerError, oe.Code)
	assert.ErrorIs(t, oe, cause)
	assert.NotContains(t, oe.Description, "10.0.0.1")

	invalid := NewError(ErrInvalidScope, "")
	assert.Same(t, invalid, AsError(invalid))
}

func TestErrorRedirectURL(t *testing.T) {
	err := NewError(ErrAccessDenied, "The user canceled.")

	query := ErrorRedirectURL("https://app.example/cb?x=1", "s t", err, false)
	u, perr := url.Parse(query)
	require.NoError(t, perr)
	assert.Equal(t, "1", u.Query().Get("x"), "existing query parameters stay")
	assert.Equal(t, ErrAccessDenied, u.Query().Get("error"))
	assert.Equal(t, "s t", u.Query().Get("state"))
	assert.Empty(t, u.Fragment)

	fragment := ErrorRedirectURL("https://app.example/cb", "abc", err, true)
	u, perr = url.Parse(fragment)
	require.NoError(t, perr)
	assert.Empty(t, u.RawQuery)
	params, perr := url.ParseQuery(u.Fragment)
	require.NoError(t, perr)
	assert.Equal(t, ErrAccessDenied, params.Get("error"))
	assert.Equal(t, "abc", params.Get("state"))
}

func TestHTTPStatusDefaults(t *testing.T) {
	assert.Equal(t, http.StatusUnauthorized, NewError(ErrInvalidToken, "").HTTPStatus())
	assert.Equal(t, http.StatusForbidden, NewError(ErrInsufficientScope, "").HTTPStatus())
	assert.Equal(t, http.StatusServiceUnavailable, NewError(ErrTemporarilyUnavailable, "").HTTPStatus())
	assert.Equal(t, http.StatusBadRequest, NewError(ErrUnsupportedGrantType, "").HTTPStatus())
}
