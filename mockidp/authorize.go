package mockidp

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// authOutcome is the decision of the authorization endpoint. Exactly one
// of location, response and errorPage is set.
type authOutcome struct {
	step string // "5b" without a usable session, "8b" otherwise
	note string

	location  string          // a page of this issuer (login or consent)
	response  *clientResponse // the authorization response or error
	errorPage *oauth.Error    // shown to the user, never redirected
	code      string          // the issued code, for the trace

	// newBinding is a fresh loginCookie value to set.
	newBinding string
	// newSession is the sessionCookie value of a queued login to set.
	newSession string
}

// clientResponse is an authorization response or error bound for a
// registered redirect URI.
type clientResponse struct {
	redirectURI string
	mode        string // responseModeQuery or responseModeFormPost
	params      url.Values
}

// handleAuthorize serves the authorization endpoint: step 5b (no session:
// remember the request and send the browser to the login page) and step 8b
// (session: redirect to the client with a code).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request, iss *issuer) {
	start := time.Now()
	out := s.authorize(r, iss)
	if out.newSession != "" {
		iss.setCookie(w, sessionCookie, out.newSession, int(s.cfg.SessionTTL/time.Second))
	}

	status := http.StatusFound
	switch {
	case out.errorPage != nil:
		status = http.StatusBadRequest
		writeErrorPage(w, status, out.errorPage.Description)
	case out.response != nil:
		status = writeClientResponse(w, out.response)
	default:
		if out.newBinding != "" {
			iss.setCookie(w, loginCookie, out.newBinding, 0)
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, out.location, status)
	}
	s.record(r, start, out.step, status, out.note,
		trace.KeyUpstreamState, r.Form.Get("state"), trace.KeyCode, out.code)
}

// authorize decides the outcome of an authorization request without
// writing anything.
func (s *Server) authorize(r *http.Request, iss *issuer) authOutcome {
	now := s.now()
	sessionKey, sess := iss.sessionFor(r, now)
	step := "8b"
	if sess == nil {
		step = "5b"
	}

	req, out, ok := parseAuthorize(r, iss, step)
	if !ok {
		return out
	}

	// Step 5b: log the user in unless the session satisfies the request.
	reason := s.loginReason(iss, req, sess, now)
	switch {
	case reason == "":
		return s.authorizeWithSession(r, iss, req, sess, now, step)
	case req.has(promptNone):
		return authOutcome{step: step, note: "login required: " + reason,
			response: errorResponse(req, oauth.NewError(oauth.ErrLoginRequired, "The user must log in."))}
	}

	// A login queued by LoginNext happens at once, without the login page.
	if subject, ok := iss.takeQueuedLogin(req.ClientID, req.LoginHint); ok {
		value, queued := iss.startSession(sessionKey, subject, now, s.cfg.SessionTTL)
		iss.markSession(queued, req.key(), false, now)
		out := s.authorizeWithSession(r, iss, req, queued, now, "8b")
		out.newSession = value
		out.note = strings.TrimSpace("queued login " + out.note)
		return out
	}
	return pendingOutcome(r, iss, req, false, now, "5b", "login: "+reason)
}

// parseAuthorize parses the authorization request in r and applies an
// injected authorization fault. When ok is false, out is the final outcome:
// an error page or an error response for the client.
func parseAuthorize(r *http.Request, iss *issuer, step string) (req authRequest, out authOutcome, ok bool) {
	req, aerr := parseAuthRequest(r, iss)
	if aerr != nil {
		out = authOutcome{step: step, note: aerr.err.Code}
		if aerr.redirect {
			out.response = errorResponse(req, aerr.err)
		} else {
			out.errorPage = aerr.err
		}
		return req, out, false
	}
	if f, ok := iss.takeFault(targetAuthorize, req.ClientID); ok {
		return req, authOutcome{step: step, note: "fault " + string(f.Name),
			response: errorResponse(req, authorizeFaultError(f.Name))}, false
	}
	return req, authOutcome{}, true
}

// pendingOutcome stores req as a pending login or consent bound to the
// browser and redirects to its page.
func pendingOutcome(r *http.Request, iss *issuer, req authRequest, consent bool, now time.Time, step, note string) authOutcome {
	out := authOutcome{step: step, note: note}
	binding := loginBinding(r)
	if binding == "" {
		binding = oauth.NewToken()
		out.newBinding = binding
	}
	page := "/login?tx="
	if consent {
		page = "/consent?tx="
	}
	out.location = iss.url + page + iss.startLogin(req, binding, consent, now)
	return out
}

// authorizeWithSession finishes a request whose session needs no new
// login: it redirects to the consent page if needed, or issues the code
// (step 8b).
func (s *Server) authorizeWithSession(r *http.Request, iss *issuer, req authRequest, sess *session, now time.Time, step string) authOutcome {
	client, _ := iss.client(req.ClientID)

	// Consent is skipped unless the request or the client asks for it.
	if s.needsConsent(iss, req, client, sess, now) {
		if req.has(promptNone) {
			return authOutcome{step: step, note: "consent required",
				response: errorResponse(req, oauth.NewError(oauth.ErrConsentRequired, "The user must consent."))}
		}
		return pendingOutcome(r, iss, req, true, now, step, "consent")
	}

	// Step 8b: issue a code and send it to the client (RFC 6749 section
	// 4.1.2), with the issuer (RFC 9207) against mix-up attacks.
	code := oauth.NewToken()
	iss.issueCode(code, req, sess, now, s.cfg.CodeTTL)
	params := url.Values{"code": {code}, "iss": {iss.url}}
	if req.State != "" {
		params.Set("state", req.State)
	}
	return authOutcome{step: "8b", code: code,
		response: &clientResponse{redirectURI: req.RedirectURI, mode: req.ResponseMode, params: params}}
}

// loginReason returns why the user must log in for req, or "" if the
// session will do.
func (s *Server) loginReason(iss *issuer, req authRequest, sess *session, now time.Time) string {
	if sess == nil {
		return "no session"
	}
	user, ok := iss.user(sess.subject)
	if !ok {
		return "user removed"
	}
	if loggedIn, _ := iss.requestMarks(sess, req.key(), now); loggedIn {
		return ""
	}
	switch {
	case req.has(promptLogin):
		return "prompt=login"
	case req.has(promptSelectAccount):
		return "prompt=select_account"
	case req.MaxAge >= 0 && now.Sub(sess.authTime) > time.Duration(req.MaxAge)*time.Second:
		// OpenID Connect Core section 3.1.2.1: re-authenticate once the
		// login is older than max_age seconds.
		return "max_age exceeded"
	case req.LoginHint != "" && !strings.EqualFold(req.LoginHint, user.Email) && req.LoginHint != user.Subject:
		return "login_hint names another user"
	}
	return ""
}

// needsConsent reports whether the user must approve the client first.
func (s *Server) needsConsent(iss *issuer, req authRequest, client Client, sess *session, now time.Time) bool {
	if !req.has(promptConsent) && !client.RequireConsent {
		return false
	}
	_, consented := iss.requestMarks(sess, req.key(), now)
	if consented {
		return false
	}
	return req.has(promptConsent) || !iss.hasConsented(sess, client.ID)
}

// loginBinding returns the browser's loginCookie value, if it has one.
func loginBinding(r *http.Request) string {
	c, err := r.Cookie(loginCookie)
	if err != nil || len(c.Value) < 32 || len(c.Value) > 128 {
		return ""
	}
	return c.Value
}

// errorResponse returns err as an authorization error response for req's
// redirect URI (RFC 6749 section 4.1.2.1), which must be registered.
func errorResponse(req authRequest, err *oauth.Error) *clientResponse {
	params := url.Values{"error": {err.Code}}
	if err.Description != "" {
		params.Set("error_description", err.Description)
	}
	if req.State != "" {
		params.Set("state", req.State)
	}
	return &clientResponse{redirectURI: req.RedirectURI, mode: req.ResponseMode, params: params}
}

// writeClientResponse sends cr by redirect or, for response_mode=form_post,
// by an auto-submitting form, and returns the status it wrote.
func writeClientResponse(w http.ResponseWriter, cr *clientResponse) int {
	if cr.mode == responseModeFormPost {
		writePage(w, http.StatusOK, "form_post", formPostData{Action: cr.redirectURI, Params: cr.params})
		return http.StatusOK
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", oauth.AddParams(cr.redirectURI, cr.params, false))
	w.WriteHeader(http.StatusFound)
	return http.StatusFound
}
