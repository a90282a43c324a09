package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// challenge returns the WWW-Authenticate value of RFC 6750 section 3 for
// realm, with the error code and scope attributes when they are not empty.
func challenge(realm, code, scope string) string {
	var b strings.Builder
	b.WriteString(`Bearer realm="` + realm + `"`)
	if code != "" {
		b.WriteString(`, error="` + code + `"`)
	}
	if scope != "" {
		b.WriteString(`, scope="` + scope + `"`)
	}
	return b.String()
}

// writeNoToken responds to a request without bearer credentials: 401 with a
// challenge that has no error code (RFC 6750 section 3.1).
func (s *Server) writeNoToken(w http.ResponseWriter) int {
	h := w.Header()
	h.Set("WWW-Authenticate", challenge(s.cfg.Realm, "", ""))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	return http.StatusUnauthorized
}

// writeBearerError responds with err's status, a challenge carrying its
// code (RFC 6750 section 3.1) and the JSON error body.
func (s *Server) writeBearerError(w http.ResponseWriter, err *oauth.Error, scope string) int {
	w.Header().Set("WWW-Authenticate", challenge(s.cfg.Realm, err.Code, scope))
	oauth.WriteError(w, err)
	return err.HTTPStatus()
}

// writeTokenError responds to a request whose credentials could not be read:
// none at all, or malformed ones (invalid_request, 400).
func (s *Server) writeTokenError(w http.ResponseWriter, err error) int {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		return s.writeBearerError(w, oe, "")
	}
	return s.writeNoToken(w)
}

// writeAuthError responds to a request whose token check or exchange failed
// (steps 16 and 17). A rejected token gets 401 invalid_token. A failure of
// the authorization server gets 503 with a generic description, and the
// cause goes to the log only.
func (s *Server) writeAuthError(w http.ResponseWriter, r *http.Request, err error, token string) {
	var oe *oauth.Error
	switch {
	case errors.As(err, &oe):
		s.writeBearerError(w, oe, "")
	case errors.Is(err, errTokenRejected):
		s.writeBearerError(w, invalidToken(), "")
	case errors.Is(err, errPushStale):
		s.cfg.Logger.WarnContext(r.Context(), "pushed jwt expired, no fresh one pushed", "err", err,
			trace.KeyAccessToken+"_fp", trace.Fingerprint(token))
		oauth.WriteError(w, oauth.Wrap(oauth.ErrTemporarilyUnavailable,
			"The gateway has no current token for this request. Try again later.", err))
	case r.Context().Err() != nil:
		s.cfg.Logger.DebugContext(r.Context(), "client went away", "err", err,
			trace.KeyAccessToken+"_fp", trace.Fingerprint(token))
	default:
		s.cfg.Logger.ErrorContext(r.Context(), "authorization server call failed", "err", err,
			trace.KeyAccessToken+"_fp", trace.Fingerprint(token))
		oauth.WriteError(w, oauth.Wrap(oauth.ErrTemporarilyUnavailable,
			"The authorization server is unavailable. Try again later.", err))
	}
}

// invalidToken is the error of an access token that is unknown, expired,
// revoked or not meant for the route.
func invalidToken() *oauth.Error {
	return oauth.NewError(oauth.ErrInvalidToken, "The access token is invalid or expired.")
}

// upstreamError handles a failed forward (step 18): 504 when the upstream
// did not respond within the timeout, 502 for any other failure. The body
// never names the upstream or the cause.
func (s *Server) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(r.Context().Err(), context.Canceled) {
		s.cfg.Logger.DebugContext(r.Context(), "client went away", "step", "18", "err", err)
		return
	}
	status := http.StatusBadGateway
	description := "The upstream service is unavailable."
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		status = http.StatusGatewayTimeout
		description = "The upstream service did not respond in time."
	}
	s.cfg.Logger.WarnContext(r.Context(), "upstream request failed", "step", "18", "status", status, "err", err)
	oauth.WriteError(w, &oauth.Error{Code: oauth.ErrTemporarilyUnavailable, Description: description, Status: status})
}
