package authserver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// handleCallback receives the upstream provider's authentication response
// (9b), redeems the code and checks the ID token (10a), fills missing
// claims from userinfo (10b), finds or creates the user (11a), and starts
// a session before resuming the authorization request (11b).
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) error {
	st := s.startStep(r, "9b")
	q := r.URL.Query()
	state := q.Get("state")
	st.Set(trace.KeyUpstreamState, state)

	// 9b: the state must be the unused one of this browser's transaction
	// (OpenID Connect Core section 3.1.2.7); consuming it makes a replayed
	// response fail.
	txID := cookieValue(r, txCookie)
	if txID == "" || state == "" {
		return oauth.NewError(oauth.ErrInvalidRequest, "The login session was not found in this browser.")
	}
	tx, err := s.store.ConsumeUpstreamState(r.Context(), oauth.HashToken(txID), state)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return oauth.NewError(oauth.ErrInvalidRequest, "The login session has expired or was already used.")
	case errors.Is(err, store.ErrAlreadyUsed):
		return oauth.NewError(oauth.ErrInvalidRequest, "The login response does not belong to this login.")
	case err != nil:
		return oauth.Wrap(oauth.ErrServerError, "The login session could not be read.", err)
	}
	st.Set(trace.KeyAppState, tx.State)
	if !s.now().Before(tx.ExpiresAt) {
		return oauth.NewError(oauth.ErrInvalidRequest, "The login session has expired.")
	}
	up, ok := s.upstreams[r.PathValue("idp")]
	if !ok || up.cfg.ID != tx.Upstream.UpstreamID {
		return oauth.NewError(oauth.ErrInvalidRequest, "The login response came from another identity provider.")
	}

	// A provider that names itself in the response (RFC 9207) must be the
	// one the request went to, against mix-up attacks.
	if iss := q.Get("iss"); iss != "" && iss != up.cfg.Issuer {
		return s.failTransaction(r, &tx, oauth.Wrap(oauth.ErrServerError, "The login response came from another identity provider.",
			fmt.Errorf("iss %q, want %q", iss, up.cfg.Issuer)))
	}

	// An error from the provider ends the authorization request: a user
	// who declined gets access_denied, anything else server_error.
	if upstreamErr := q.Get("error"); upstreamErr != "" {
		return s.failTransaction(r, &tx, upstreamError(upstreamErr))
	}
	code := q.Get("code")
	if code == "" {
		return s.failTransaction(r, &tx, oauth.NewError(oauth.ErrServerError, "The identity provider returned no code."))
	}
	finishStep(r, "state checked")

	id, err := s.authenticateUpstream(r, up, &tx, code)
	if err != nil {
		return s.failTransaction(r, &tx, err)
	}

	// 11a: users are keyed by the provider's (issuer, subject), never by
	// email, which the provider may reassign or not have verified.
	s.startStep(r, "11a").Set(trace.KeyUpstreamState, tx.Upstream.State)
	now := s.now()
	// The profile before this login shows whether the login changed it,
	// which the push to gateways needs.
	var before *store.User
	if known, err := s.store.GetUserBySubject(r.Context(), up.cfg.Issuer, id.subject); err == nil {
		before = &known
	} else if !errors.Is(err, store.ErrNotFound) {
		return s.failTransaction(r, &tx, oauth.Wrap(oauth.ErrServerError, "The user could not be read.", err))
	}
	user, err := s.store.UpsertUser(r.Context(), store.User{
		ID: newUserID(), Issuer: up.cfg.Issuer, Subject: id.subject, Profile: id.profile,
		CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return s.failTransaction(r, &tx, oauth.Wrap(oauth.ErrServerError, "The user could not be saved.", err))
	}
	finishStep(r, "user "+trace.Fingerprint(user.ID))
	s.pushUserLogin(r.Context(), before, user)

	// 11b: a new session, then back to the stored authorization request.
	st = s.startStep(r, "11b").Set(trace.KeyAppState, tx.State).Set(trace.KeyUpstreamState, tx.Upstream.State).Set(trace.KeySubject, user.ID)
	ses, err := s.startSession(r.Context(), w, r, user.ID, up.cfg.ID)
	if err != nil {
		return s.failTransaction(r, &tx, oauth.Wrap(oauth.ErrServerError, "The session could not be created.", err))
	}
	if err := s.store.SetTransactionSession(r.Context(), tx.ID, ses.ID); err != nil {
		return s.failTransaction(r, &tx, oauth.Wrap(oauth.ErrServerError, "The login could not be resumed.", err))
	}
	http.Redirect(w, r, s.issuer+"/authorize/resume?tx="+url.QueryEscape(txID), http.StatusFound)
	return nil
}

// failTransaction ends the transaction and sends err to the client.
func (s *Server) failTransaction(r *http.Request, tx *store.Transaction, err error) error {
	if _, takeErr := s.store.TakeTransaction(r.Context(), tx.ID); takeErr != nil && !errors.Is(takeErr, store.ErrNotFound) {
		s.log.Warn("delete failed transaction", "err", takeErr)
	}
	return s.redirectErr(tx, err)
}

// upstreamError maps the provider's error code to the one the client gets
// (OpenID Connect Core section 3.1.2.6).
func upstreamError(code string) *oauth.Error {
	switch code {
	case oauth.ErrAccessDenied, oauth.ErrLoginRequired, oauth.ErrConsentRequired, oauth.ErrInteractionRequired:
		return oauth.NewError(oauth.ErrAccessDenied, "The user did not log in at the identity provider.")
	case oauth.ErrTemporarilyUnavailable:
		return oauth.NewError(oauth.ErrTemporarilyUnavailable, "The identity provider is unavailable.")
	default:
		return oauth.Wrap(oauth.ErrServerError, "The identity provider failed to log the user in.",
			errors.New("upstream error "+url.QueryEscape(code)))
	}
}

// newUserID returns a random user ID: 128 bits in hex.
func newUserID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
