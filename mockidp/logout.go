package mockidp

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// logoutRequest is a parsed RP-initiated logout request (OpenID Connect
// RP-Initiated Logout 1.0 section 2).
type logoutRequest struct {
	idTokenHint           string
	clientID              string
	postLogoutRedirectURI string
	state                 string
	csrf                  string // set when the user confirmed on our page

	hintSubject string // sub of a valid id_token_hint
}

// handleLogout serves the end session endpoint. It logs the browser out
// at once when a valid id_token_hint names the session's user. Otherwise
// it shows a confirmation form, so another site cannot log the user out.
// It redirects only to a post_logout_redirect_uri registered for the
// client, by exact match.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, iss *issuer) {
	req, message := s.parseLogout(r, iss)
	if message != "" {
		s.log.Info("logout rejected", "issuer", iss.name, "reason", message)
		writeErrorPage(w, http.StatusBadRequest, message)
		return
	}

	sessionKey, sess := iss.sessionFor(r, s.now())
	if sess != nil {
		confirmed := req.csrf != "" && subtle.ConstantTimeCompare([]byte(req.csrf), []byte(sess.csrf)) == 1
		if !confirmed && req.hintSubject != sess.subject {
			writePage(w, http.StatusOK, "logout", logoutPageData{
				Issuer: iss.name,
				Action: iss.url + "/logout",
				Hidden: map[string]string{
					"id_token_hint":            req.idTokenHint,
					"client_id":                req.clientID,
					"post_logout_redirect_uri": req.postLogoutRedirectURI,
					"state":                    req.state,
					FieldCSRFToken:             sess.csrf,
				},
			})
			return
		}
		iss.endSession(sessionKey)
		iss.setCookie(w, sessionCookie, "", -1)
		s.log.Info("session ended", "issuer", iss.name)
	}

	if req.postLogoutRedirectURI == "" {
		writePage(w, http.StatusOK, "signed_out", nil)
		return
	}
	params := url.Values{}
	if req.state != "" {
		params.Set("state", req.state)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, oauth.AddParams(req.postLogoutRedirectURI, params, false), http.StatusFound)
}

// parseLogout validates a logout request. It returns a message for the
// user when the request is rejected.
func (s *Server) parseLogout(r *http.Request, iss *issuer) (logoutRequest, string) {
	if err := r.ParseForm(); err != nil {
		return logoutRequest{}, "The sign-out request could not be parsed."
	}
	req := logoutRequest{
		idTokenHint:           r.Form.Get("id_token_hint"),
		clientID:              r.Form.Get("client_id"),
		postLogoutRedirectURI: r.Form.Get("post_logout_redirect_uri"),
		state:                 r.Form.Get("state"),
	}
	if r.Method == http.MethodPost {
		req.csrf = r.PostForm.Get(FieldCSRFToken)
	}

	// An id_token_hint must be an ID token of this issuer; an expired one
	// will do (RP-Initiated Logout section 2). It names the client, and a
	// client_id sent with it must agree.
	if req.idTokenHint != "" {
		jwt, err := iss.verifyJWT(req.idTokenHint)
		if err != nil {
			return req, "The id_token_hint is not a valid ID token of this provider."
		}
		aud := jwt.audience()
		if req.clientID != "" && !slices.Contains(aud, req.clientID) {
			return req, "The client_id does not match the id_token_hint."
		}
		if req.clientID == "" && len(aud) > 0 {
			req.clientID = aud[0]
		}
		req.hintSubject, _ = jwt.claims["sub"].(string)
	}

	// The redirect target must be registered for a known client.
	if req.postLogoutRedirectURI != "" {
		client, ok := iss.client(req.clientID)
		if !ok {
			return req, "A post_logout_redirect_uri needs a client_id or an id_token_hint that names a registered client."
		}
		if !slices.Contains(client.PostLogoutRedirectURIs, req.postLogoutRedirectURI) {
			return req, "The post_logout_redirect_uri is not registered for this client."
		}
	}
	return req, ""
}
