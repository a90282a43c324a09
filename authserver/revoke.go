package authserver

import (
	"errors"
	"net/http"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// handleRevoke is the revocation endpoint (RFC 7009). A client may revoke
// only tokens issued to it. An unknown, expired or already revoked token
// gets 200, as RFC 7009 section 2.2 requires, because the client's goal
// (the token no longer works) is met.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) error {
	s.allowAnyClientOrigin(w, r)
	if err := parseForm(w, r); err != nil {
		return err
	}
	client, err := s.authenticateClient(r)
	if err != nil {
		return err
	}
	if err := checkOrigin(r, client); err != nil {
		return err
	}
	token, err := singleParam(r.PostForm, "token")
	if err != nil {
		return err
	}
	if token == "" {
		return oauth.NewError(oauth.ErrInvalidRequest, "The token parameter is missing.")
	}
	hash := oauth.HashToken(token)
	ctx := r.Context()

	// token_type_hint only speeds up the lookup (RFC 7009 section 2.1),
	// so both kinds are tried whatever its value.
	at, err := s.store.GetAccessToken(ctx, hash)
	switch {
	case err == nil:
		if at.ClientID != client.ID {
			return errNotOwner(client.ID)
		}
		if err := s.store.RevokeAccessToken(ctx, hash); err != nil {
			return oauth.Wrap(oauth.ErrServerError, "The token could not be revoked.", err)
		}
		s.pushRevoked(hash)
		s.log.Info("access token revoked", "client_id", client.ID, "access_token_fp", trace.Fingerprint(token))
		w.WriteHeader(http.StatusOK)
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return oauth.Wrap(oauth.ErrServerError, "The token could not be revoked.", err)
	}

	rt, err := s.store.GetRefreshToken(ctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		w.WriteHeader(http.StatusOK)
		return nil
	case err != nil:
		return oauth.Wrap(oauth.ErrServerError, "The token could not be revoked.", err)
	case rt.ClientID != client.ID:
		return errNotOwner(client.ID)
	}
	// Revoking a refresh token ends its whole grant, access tokens
	// included (RFC 7009 section 2.1).
	hashes, err := s.store.RevokeGrant(ctx, rt.GrantID, s.now())
	if err != nil {
		return oauth.Wrap(oauth.ErrServerError, "The token could not be revoked.", err)
	}
	s.pushRevoked(hashes...)
	s.log.Info("refresh token grant revoked", "client_id", client.ID, "grant_fp", trace.Fingerprint(rt.GrantID))
	w.WriteHeader(http.StatusOK)
	return nil
}

func errNotOwner(clientID string) error {
	return oauth.Wrap(oauth.ErrUnauthorizedClient, "The token was not issued to this client.",
		errors.New("client "+clientID+" tried to revoke another client's token"))
}
