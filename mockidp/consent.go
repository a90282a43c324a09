package mockidp

import (
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// handleConsentPage shows the consent screen of a pending consent. It is
// part of step 8a: the browser comes back to the authorization URL after
// the user decides.
func (s *Server) handleConsentPage(w http.ResponseWriter, r *http.Request, iss *issuer) {
	id := r.URL.Query().Get(FieldTx)
	now := s.now()
	tx, ok := iss.pendingLogin(r, id, true, now)
	_, sess := iss.sessionFor(r, now)
	if !ok || sess == nil {
		writeErrorPage(w, http.StatusBadRequest, expiredLoginMessage)
		return
	}
	user, _ := iss.user(sess.subject)
	writePage(w, http.StatusOK, "consent", consentPageData{
		ClientID: tx.req.ClientID,
		Email:    user.Email,
		Action:   iss.url + "/consent",
		Tx:       id,
		CSRF:     tx.csrf,
		Scopes:   tx.req.Scope,
	})
}

// handleConsent records the user's decision. Allow sends the browser back
// to the authorization URL, which then issues the code; Deny sends
// access_denied to the client.
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request, iss *issuer) {
	start := time.Now()
	now := s.now()
	id := r.PostFormValue(FieldTx)
	tx, ok := iss.pendingLogin(r, id, true, now)
	_, sess := iss.sessionFor(r, now)
	if !ok || sess == nil || subtle.ConstantTimeCompare([]byte(r.PostFormValue(FieldCSRFToken)), []byte(tx.csrf)) != 1 {
		writeErrorPage(w, http.StatusBadRequest, expiredLoginMessage)
		s.record(r, start, "8b", http.StatusBadRequest, "invalid pending consent or csrf token")
		return
	}
	if !iss.finishLogin(id) {
		writeErrorPage(w, http.StatusBadRequest, expiredLoginMessage)
		s.record(r, start, "8b", http.StatusBadRequest, "pending consent already used")
		return
	}

	if r.PostFormValue(FieldAction) != ActionAllow {
		status := writeClientResponse(w, errorResponse(tx.req, oauth.NewError(oauth.ErrAccessDenied, "The user denied access.")))
		s.record(r, start, "8b", status, "consent denied", trace.KeyUpstreamState, tx.req.State)
		return
	}
	iss.markSession(sess, tx.req.key(), true, now)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, iss.authorizeURL(tx.req), http.StatusSeeOther)
	s.record(r, start, "8b", http.StatusSeeOther, "consent given", trace.KeyUpstreamState, tx.req.State)
}
