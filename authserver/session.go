package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

// currentSession returns the live session named by the request's session
// cookie, or nil when there is none, it is unknown or it expired.
func (s *Server) currentSession(r *http.Request) (*store.Session, error) {
	token := cookieValue(r, sessionCookie)
	if token == "" {
		return nil, nil
	}
	ses, err := s.store.GetSession(r.Context(), oauth.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, oauth.Wrap(oauth.ErrServerError, "The session could not be read.", err)
	}
	if !s.now().Before(ses.ExpiresAt) {
		return nil, nil
	}
	return &ses, nil
}

// sessionSatisfies reports whether an existing session may answer req
// without a new login: not with prompt=login, and not when the last
// authentication is older than max_age (OpenID Connect Core section
// 3.1.2.1).
func (s *Server) sessionSatisfies(ses *store.Session, req *store.Transaction) bool {
	if req.Prompt == "login" {
		return false
	}
	// Whole seconds on both sides, so a huge max_age cannot overflow.
	if req.MaxAge >= 0 && int64(s.now().Sub(ses.AuthTime)/time.Second) > int64(req.MaxAge) {
		return false
	}
	return true
}

// startSession creates a session for user and sets its cookie (11b). A new
// session ID is chosen at every login, and the browser's previous session
// is deleted, so a session token set before the login (session fixation)
// is worthless after it. The tokens the same user got under the previous
// session move to the new one, so a logout still ends them.
func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, userID, upstreamID string) (store.Session, error) {
	var previous string
	if old := cookieValue(r, sessionCookie); old != "" {
		previous = oauth.HashToken(old)
	}
	token := oauth.NewToken()
	now := s.now()
	ses := store.Session{
		ID:         oauth.HashToken(token),
		UserID:     userID,
		UpstreamID: upstreamID,
		AuthTime:   now,
		CreatedAt:  now,
		ExpiresAt:  now.Add(s.sessionTTL),
	}
	if err := s.store.ReplaceSession(ctx, previous, ses); err != nil {
		return store.Session{}, fmt.Errorf("create session: %w", err)
	}
	s.setCookie(w, sessionCookie, token, s.sessionTTL)
	return ses, nil
}
