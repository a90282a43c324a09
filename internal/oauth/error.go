package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
)

// Error is an OAuth 2.0 error response (RFC 6749 section 5.2). Code and
// Description go to the client; Cause is for the operator's log only and is
// never written to the response.
type Error struct {
	Code        string
	Description string
	// Status is the HTTP status of a direct (non-redirect) response. Zero
	// means the default for Code: see [Error.HTTPStatus].
	Status int
	Cause  error
}

// NewError returns an error with the given code and client-facing
// description.
func NewError(code, description string) *Error {
	return &Error{Code: code, Description: description}
}

// Wrap returns an error with the given code and description that records
// cause for the log.
func Wrap(code, description string, cause error) *Error {
	return &Error{Code: code, Description: description, Cause: cause}
}

func (e *Error) Error() string {
	msg := "oauth: " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

// HTTPStatus returns the status to send when the error is written directly:
// 401 for invalid_client and invalid_token, 403 for insufficient_scope, 500
// for server_error, 503 for temporarily_unavailable and 400 for the rest
// (RFC 6749 section 5.2, RFC 6750 section 3.1).
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	switch e.Code {
	case ErrInvalidClient, ErrInvalidToken:
		return http.StatusUnauthorized
	case ErrInsufficientScope, ErrAccessDenied:
		return http.StatusForbidden
	case ErrServerError:
		return http.StatusInternalServerError
	case ErrTemporarilyUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

// AsError converts any error to an *Error. An error that is not an *Error
// becomes server_error with a generic description, keeping the original as
// the cause.
func AsError(err error) *Error {
	var oe *Error
	if errors.As(err, &oe) {
		return oe
	}
	return Wrap(ErrServerError, "The server failed to process the request.", err)
}

type errorBody struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// WriteError writes err as a JSON error response with Cache-Control:
// no-store. An invalid_client error carries a Basic challenge, as RFC 6749
// section 5.2 requires for a 401.
func WriteError(w http.ResponseWriter, err *Error) {
	status := err.HTTPStatus()
	if err.Code == ErrInvalidClient && status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
	}
	WriteJSON(w, status, errorBody{Code: err.Code, Description: err.Description})
}

// WriteJSON writes v as JSON with the headers every token, introspection
// and error response needs: Cache-Control: no-store and Pragma: no-cache
// (RFC 6749 section 5.1).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ErrorRedirectURL returns redirectURI with the error, its description and
// state added, in the query or, for the implicit grant, in the fragment
// (RFC 6749 sections 4.1.2.1 and 4.2.2.1). The caller must have checked
// that redirectURI is registered for the client.
func ErrorRedirectURL(redirectURI, state string, err *Error, inFragment bool) string {
	params := url.Values{"error": {err.Code}}
	if err.Description != "" {
		params.Set("error_description", err.Description)
	}
	if state != "" {
		params.Set("state", state)
	}
	return AddParams(redirectURI, params, inFragment)
}

// AddParams returns rawURL with params added to its query, or set as its
// fragment when inFragment is true. Parameters already in the query stay.
func AddParams(rawURL string, params url.Values, inFragment bool) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	if inFragment {
		u.Fragment = params.Encode()
		u.RawFragment = ""
		return u.String()
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
