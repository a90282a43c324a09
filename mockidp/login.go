package mockidp

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// expiredLoginMessage is shown when a login form refers to no live pending
// login of this browser.
const expiredLoginMessage = "This sign-in request is invalid or has expired. Go back to the application and start again."

// fieldAccount is the query parameter of an account chooser link.
const fieldAccount = "account"

// loginForm is a parsed POST of the login page (step 7a).
type loginForm struct {
	tx, csrf, username, password, action string
}

// handleLoginPage serves the login page of a pending login (step 6).
func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request, iss *issuer) {
	start := time.Now()
	id := r.URL.Query().Get(FieldTx)
	tx, ok := iss.pendingLogin(r, id, false, s.now())
	if !ok {
		writeErrorPage(w, http.StatusBadRequest, expiredLoginMessage)
		s.record(r, start, "6", http.StatusBadRequest, "no pending login")
		return
	}
	username := tx.req.LoginHint
	// The account chooser's links name an account to fill in.
	if chosen := r.URL.Query().Get(fieldAccount); chosen != "" {
		if u, ok := iss.userByEmail(chosen); ok {
			username = u.Email
		}
	}
	writePage(w, http.StatusOK, "login", iss.loginPage(id, tx, username, ""))
	s.record(r, start, "6", http.StatusOK, "", trace.KeyUpstreamState, tx.req.State)
}

func (iss *issuer) loginPage(id string, tx loginTx, username, errMsg string) loginPageData {
	var accounts []accountChoice
	for _, u := range iss.usersByEmail() {
		link := iss.url + "/login?" + url.Values{FieldTx: {id}, fieldAccount: {u.Email}}.Encode()
		accounts = append(accounts, accountChoice{Name: u.Name, Email: u.Email, URL: link})
	}
	return loginPageData{
		Accounts: accounts,
		Issuer:   iss.name,
		ClientID: tx.req.ClientID,
		Action:   iss.url + "/login",
		Tx:       id,
		CSRF:     tx.csrf,
		Username: username,
		Error:    errMsg,
	}
}

// handleLogin checks the posted credentials (step 7b): on success it
// starts a session and sends the browser back to the remembered
// authorization URL; Cancel sends access_denied to the client.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request, iss *issuer) {
	start := time.Now()
	now := s.now()
	form := loginForm{
		tx:       r.PostFormValue(FieldTx),
		csrf:     r.PostFormValue(FieldCSRFToken),
		username: r.PostFormValue(FieldUsername),
		password: r.PostFormValue(FieldPassword),
		action:   r.PostFormValue(FieldAction),
	}

	// The form must belong to a live pending login of this browser and
	// carry its CSRF token.
	tx, ok := iss.pendingLogin(r, form.tx, false, now)
	if !ok || subtle.ConstantTimeCompare([]byte(form.csrf), []byte(tx.csrf)) != 1 {
		writeErrorPage(w, http.StatusBadRequest, expiredLoginMessage)
		s.record(r, start, "7b", http.StatusBadRequest, "invalid pending login or csrf token")
		return
	}
	state := tx.req.State

	// Cancel: the user declines, so the client gets access_denied at its
	// registered redirect URI (RFC 6749 section 4.1.2.1).
	if form.action == ActionCancel {
		iss.finishLogin(form.tx)
		status := writeClientResponse(w, errorResponse(tx.req, oauth.NewError(oauth.ErrAccessDenied, "The user canceled the sign-in.")))
		s.record(r, start, "7b", status, "canceled", trace.KeyUpstreamState, state)
		return
	}

	// The credentials must match a user. The same message covers an
	// unknown user and a wrong password.
	user, ok := iss.userByEmail(form.username)
	if !ok || subtle.ConstantTimeCompare([]byte(form.password), []byte(user.Password)) != 1 {
		if !iss.failLogin(form.tx) {
			writeErrorPage(w, http.StatusBadRequest, "Too many failed sign-in attempts. Go back to the application and start again.")
			s.record(r, start, "7b", http.StatusBadRequest, "too many failed attempts", trace.KeyUpstreamState, state)
			return
		}
		writePage(w, http.StatusUnauthorized, "login", iss.loginPage(form.tx, tx, form.username, "Wrong email or password."))
		s.record(r, start, "7b", http.StatusUnauthorized, "wrong credentials", trace.KeyUpstreamState, state)
		return
	}

	// A pending login completes once, even if the form is posted twice.
	if !iss.finishLogin(form.tx) {
		writeErrorPage(w, http.StatusBadRequest, expiredLoginMessage)
		s.record(r, start, "7b", http.StatusBadRequest, "pending login already used")
		return
	}
	oldKey, _ := iss.sessionFor(r, now)
	value, sess := iss.startSession(oldKey, user.Subject, now, s.cfg.SessionTTL)
	iss.markSession(sess, tx.req.key(), false, now)

	iss.setCookie(w, sessionCookie, value, int(s.cfg.SessionTTL/time.Second))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, iss.authorizeURL(tx.req), http.StatusSeeOther)
	s.record(r, start, "7b", http.StatusSeeOther, "", trace.KeyUpstreamState, state)
}

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
