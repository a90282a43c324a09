package authserver

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// issueImplicit responds to an implicit grant request (RFC 6749 section 4.2)
// with an access token in the redirect URI's fragment. It is legacy: the
// token travels through the browser's history and the client cannot prove
// it requested it, so a client must enable the grant explicitly, and it
// never yields a refresh token (RFC 6749 section 4.2.2).
func (s *Server) issueImplicit(w http.ResponseWriter, r *http.Request, req *store.Transaction, ses *store.Session, st *trace.Step) error {
	client, ok := s.clients[req.ClientID]
	if !ok {
		return s.redirectErr(req, oauth.NewError(oauth.ErrUnauthorizedClient, "The client is unknown."))
	}
	now := s.now()
	token := oauth.NewToken()
	at := store.AccessToken{
		Hash:      oauth.HashToken(token),
		ClientID:  client.ID,
		UserID:    ses.UserID,
		Scope:     req.Scope,
		Audiences: client.Audiences,
		GrantID:   oauth.HashToken(oauth.NewToken()),
		SessionID: ses.ID,
		IssuedAt:  now,
		ExpiresAt: now.Add(s.accessTTL),
	}
	if err := s.store.CreateAccessToken(r.Context(), at); err != nil {
		return s.redirectErr(req, oauth.Wrap(oauth.ErrServerError, "The authorization could not be issued.", err))
	}
	st.Set(trace.KeyAccessToken, token)
	s.pushIssued(r.Context(), at)
	params := url.Values{
		"access_token": {token},
		"token_type":   {oauth.TokenTypeBearer},
		"expires_in":   {strconv.FormatInt(int64(s.accessTTL.Seconds()), 10)},
		"scope":        {req.Scope},
	}
	s.redirectToClient(w, r, req.RedirectURI, req.State, params, true)
	return nil
}
