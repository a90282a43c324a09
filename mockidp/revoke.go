package mockidp

import (
	"net/http"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// revokeResult is the outcome of looking up a token to revoke.
type revokeResult int

const (
	revokeUnknown revokeResult = iota // no live token matches; nothing to do
	revokeOtherClient
	revokeDone
)

// handleRevoke serves the revocation endpoint (RFC 7009). Like Google's,
// revoking an access or refresh token revokes the whole grant: every token
// issued from the same code. An unknown token gets 200, as RFC 7009 section
// 2.2 requires.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request, iss *issuer) {
	oerr := s.revoke(r, iss)
	if oerr != nil {
		s.log.Info("revocation rejected", "issuer", iss.name, "err", oerr)
		oauth.WriteError(w, oerr)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// revoke decides a revocation request without writing anything.
func (s *Server) revoke(r *http.Request, iss *issuer) *oauth.Error {
	if err := r.ParseForm(); err != nil {
		return oauth.NewError(oauth.ErrInvalidRequest, "The request body is not a valid form.")
	}
	form := r.PostForm

	// RFC 7009 section 2.1: the client authenticates as at the token
	// endpoint; a public client sends its client_id.
	client, oerr := iss.authenticateClient(r, form)
	if oerr != nil {
		return oerr
	}
	token := form.Get("token")
	if token == "" {
		return oauth.NewError(oauth.ErrInvalidRequest, "The request has no token.")
	}

	// token_type_hint only speeds up the lookup (RFC 7009 section 2.1), so
	// both kinds are searched whatever its value.
	switch iss.revokeToken(client.ID, token) {
	case revokeOtherClient:
		// RFC 7009 section 2.1: a token of another client is refused.
		return oauth.NewError(oauth.ErrUnauthorizedClient, "The token was issued to another client.")
	default:
		return nil
	}
}

// revokeToken revokes the grant of the access or refresh token if it
// belongs to clientID.
func (iss *issuer) revokeToken(clientID, token string) revokeResult {
	key := oauth.HashToken(token)
	iss.mu.Lock()
	defer iss.mu.Unlock()

	var g *grant
	if t, ok := iss.access[key]; ok {
		g = t.grant
	} else if rg, ok := iss.refresh[key]; ok {
		g = rg
	}
	if g == nil || g.isRevoked() {
		return revokeUnknown
	}
	if g.clientID != clientID {
		return revokeOtherClient
	}
	for g.parent != nil {
		g = g.parent
	}
	g.revoked = true
	return revokeDone
}
