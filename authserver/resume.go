package authserver

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// handleResume continues the authorization request stored at 2b once the
// user has logged in (12a), and responds to it (13b). The URL carries only the
// transaction ID, which must equal the browser's transaction cookie.
func (s *Server) handleResume(w http.ResponseWriter, r *http.Request) error {
	st := s.startStep(r, "13b")
	txID := r.URL.Query().Get("tx")
	cookie := cookieValue(r, txCookie)
	if txID == "" || cookie == "" || subtle.ConstantTimeCompare([]byte(txID), []byte(cookie)) != 1 {
		return oauth.NewError(oauth.ErrInvalidRequest, "The login session was not found in this browser.")
	}

	// Taking the transaction makes the resume single-use.
	req, err := s.store.TakeTransaction(r.Context(), oauth.HashToken(txID))
	if errors.Is(err, store.ErrNotFound) {
		return oauth.NewError(oauth.ErrInvalidRequest, "The login session has expired or was already used.")
	}
	if err != nil {
		return oauth.Wrap(oauth.ErrServerError, "The login session could not be read.", err)
	}
	s.clearCookie(w, txCookie)
	st.Set(trace.KeyAppState, req.State)
	if !s.now().Before(req.ExpiresAt) {
		return oauth.NewError(oauth.ErrInvalidRequest, "The login session has expired.")
	}

	// The session must be the one created by this transaction's login.
	ses, err := s.currentSession(r)
	if err != nil {
		return s.redirectErr(&req, err)
	}
	if ses == nil || req.SessionID == "" || ses.ID != req.SessionID {
		return s.redirectErr(&req, oauth.NewError(oauth.ErrAccessDenied, "The login did not complete."))
	}
	return s.issueAuthorization(w, r, &req, ses)
}

// issueAuthorization responds to a validated authorization request for the
// user of ses (13b): with a code for the authorization code grant, or with
// an access token in the fragment for the implicit grant. A client that
// needs the user's consent first gets the consent page instead (13a).
func (s *Server) issueAuthorization(w http.ResponseWriter, r *http.Request, req *store.Transaction, ses *store.Session) error {
	if shown, err := s.askConsent(w, r, req, ses); shown {
		return err
	}
	st := s.startStep(r, "13b").Set(trace.KeyAppState, req.State).Set(trace.KeySubject, ses.UserID)
	if req.ResponseType == oauth.ResponseTypeToken {
		return s.issueImplicit(w, r, req, ses, st)
	}

	code := oauth.NewToken()
	now := s.now()
	err := s.store.CreateAuthCode(r.Context(), store.AuthCode{
		Hash:                oauth.HashToken(code),
		ClientID:            req.ClientID,
		RedirectURI:         req.RedirectURI,
		UserID:              ses.UserID,
		SessionID:           ses.ID,
		Scope:               req.Scope,
		Nonce:               req.Nonce,
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: req.CodeChallengeMethod,
		AuthTime:            ses.AuthTime,
		CreatedAt:           now,
		ExpiresAt:           now.Add(s.codeTTL),
	})
	if err != nil {
		return s.redirectErr(req, oauth.Wrap(oauth.ErrServerError, "The authorization could not be issued.", err))
	}
	st.Set(trace.KeyCode, code)
	s.redirectToClient(w, r, req.RedirectURI, req.State, url.Values{"code": {code}}, false)
	return nil
}
