package authserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/oidcstack/oidcstack/internal/httpx"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// handlerFunc is an endpoint that writes its success response itself and
// returns its failure, which the wrapper writes in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// redirectError is an authorization error to send back to the client at a
// redirect URI that was already checked against the client's registration
// (RFC 6749 section 4.1.2.1).
type redirectError struct {
	err         *oauth.Error
	redirectURI string
	state       string
	inFragment  bool
}

func (e *redirectError) Error() string { return e.err.Error() }
func (e *redirectError) Unwrap() error { return e.err }

// page wraps a browser endpoint: a redirectError becomes a redirect to the
// client, any other error an HTML error page. The page shows the generic
// description; the cause goes to the log only.
func (s *Server) page(h handlerFunc) http.Handler {
	return s.wrap(h, func(w http.ResponseWriter, r *http.Request, err error) {
		var re *redirectError
		if errors.As(err, &re) {
			params := url.Values{"error": {re.err.Code}}
			if re.err.Description != "" {
				params.Set("error_description", re.err.Description)
			}
			s.redirectToClient(w, r, re.redirectURI, re.state, params, re.inFragment)
			return
		}
		oe := oauth.AsError(err)
		s.pages.writeError(w, oe.HTTPStatus(), oe)
	})
}

// api wraps a JSON endpoint: errors are written as RFC 6749 section 5.2
// error responses.
func (s *Server) api(h handlerFunc) http.Handler {
	return s.wrap(h, func(w http.ResponseWriter, _ *http.Request, err error) {
		oauth.WriteError(w, oauth.AsError(err))
	})
}

func (s *Server) wrap(h handlerFunc, writeErr func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slot := &stepSlot{}
		r = r.WithContext(context.WithValue(r.Context(), stepKey{}, slot))
		sw := &httpx.StatusRecorder{ResponseWriter: w}

		err := h(sw, r)
		note := ""
		if err != nil {
			writeErr(sw, r, err)
			note = errorCode(err)
			s.logError(r, slot.name, err)
		}
		if slot.step != nil {
			slot.step.End(sw.StatusOrOK(), note)
		}
	})
}

// logError logs a failed request with its cause. Causes never contain
// tokens or secrets; handlers put only fingerprints in them.
func (s *Server) logError(r *http.Request, step string, err error) {
	level := slog.LevelInfo
	if code := errorCode(err); code == oauth.ErrServerError || code == oauth.ErrTemporarilyUnavailable {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("error_code", errorCode(err)), slog.Any("err", err),
	}
	if step != "" {
		attrs = append(attrs, slog.String("step", step))
	}
	s.log.LogAttrs(r.Context(), level, "request failed", attrs...)
}

type stepKey struct{}

// stepSlot passes the traced step of one request from the handler, which
// decides the step, to the wrapper, which writes the status.
type stepSlot struct {
	name string
	step *trace.Step
}

// startStep starts tracing step for r; the wrapper ends it with the
// response status.
func (s *Server) startStep(r *http.Request, step string) *trace.Step {
	st := s.trace.Start(r, step)
	if slot, ok := r.Context().Value(stepKey{}).(*stepSlot); ok {
		slot.name, slot.step = step, st
	}
	return st
}

// finishStep ends the request's current step when it is one part of a
// larger exchange, such as the ID token check inside the callback. The
// event carries no status, because the response is not written yet.
func finishStep(r *http.Request, note string) {
	if slot, ok := r.Context().Value(stepKey{}).(*stepSlot); ok && slot.step != nil {
		slot.step.End(0, note)
		slot.name, slot.step = "", nil
	}
}

func isHTTPS(rawURL string) bool { return strings.HasPrefix(rawURL, "https://") }

// redirectToClient ends an authorization request: it sends the browser to
// redirectURI with params, state and the iss parameter (RFC 9207), in the
// query or, for the implicit grant, in the fragment. redirectURI must have
// been checked against the client's registration.
func (s *Server) redirectToClient(w http.ResponseWriter, r *http.Request, redirectURI, state string, params url.Values, inFragment bool) {
	if state != "" {
		params.Set("state", state)
	}
	params.Set("iss", s.issuer)
	http.Redirect(w, r, oauth.AddParams(redirectURI, params, inFragment), http.StatusFound)
}
