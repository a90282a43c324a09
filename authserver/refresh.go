package authserver

import (
	"errors"
	"net/http"
	"strings"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// refreshTokenGrant trades a refresh token for new tokens (RFC 6749
// section 6). Each refresh token works once: the response carries its
// successor, and presenting a used one revokes the whole family, since one
// of its copies must have been stolen (RFC 9700 section 4.14).
func (s *Server) refreshTokenGrant(r *http.Request, client *Client, st *trace.Step) (*tokenResponse, error) {
	if !client.allows(oauth.GrantRefreshToken) {
		return nil, oauth.NewError(oauth.ErrUnauthorizedClient, "The client may not use refresh tokens.")
	}
	token, err := singleParam(r.PostForm, "refresh_token")
	if err != nil {
		return nil, err
	}
	requested, err := singleParam(r.PostForm, "scope")
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, oauth.NewError(oauth.ErrInvalidRequest, "The refresh_token parameter is missing.")
	}

	invalid := func(cause string) error {
		return oauth.Wrap(oauth.ErrInvalidGrant, "The refresh token is invalid.", errors.New(cause))
	}
	now := s.now()
	var issued *issuedTokens
	var old store.RefreshToken
	err = s.store.RotateRefreshToken(r.Context(), oauth.HashToken(token), func(rt store.RefreshToken) (store.Tokens, error) {
		old = rt
		switch {
		case rt.ClientID != client.ID:
			return store.Tokens{}, invalid("refresh token issued to another client")
		case rt.Revoked:
			return store.Tokens{}, invalid("refresh token revoked")
		case !now.Before(rt.ExpiresAt):
			return store.Tokens{}, invalid("refresh token expired")
		}
		// A requested scope may only narrow the original grant (RFC 6749
		// section 6).
		scope := rt.Scope
		if requested != "" {
			for _, sc := range strings.Fields(requested) {
				if !hasScope(rt.Scope, sc) {
					return store.Tokens{}, oauth.NewError(oauth.ErrInvalidScope, "The scope exceeds the original grant.")
				}
			}
			scope = strings.Join(strings.Fields(requested), " ")
		}
		issued = s.newTokens(client, rt.UserID, scope, rt.GrantID, rt.SessionID, rt.AuthTime, now)
		return issued.stored, nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, invalid("refresh token unknown")
	case errors.Is(err, store.ErrAlreadyUsed):
		s.revokeReusedFamily(r, token)
		return nil, invalid("refresh token reused; its family is revoked")
	case err != nil:
		return nil, oauth.AsError(err)
	}

	st.Set(trace.KeyAccessToken, issued.accessToken).Set(trace.KeySubject, old.UserID)
	resp := issued.response()
	if hasScope(issued.scope, "openid") {
		// OpenID Connect Core section 12.2: a refreshed ID token keeps
		// the original auth_time and carries no nonce.
		resp.IDToken, err = s.signIDToken(r.Context(), idTokenParams{
			clientID: client.ID, userID: old.UserID, scope: issued.scope,
			authTime: old.AuthTime, accessToken: issued.accessToken, now: now,
		})
		if err != nil {
			return nil, s.abandonGrant(r, old.GrantID, err)
		}
	}
	s.pushIssued(r.Context(), issued.stored.Access)
	return resp, nil
}

// revokeReusedFamily revokes every token of the grant of a reused refresh
// token.
func (s *Server) revokeReusedFamily(r *http.Request, token string) {
	rt, err := s.store.GetRefreshToken(r.Context(), oauth.HashToken(token))
	var hashes []string
	if err == nil {
		hashes, err = s.store.RevokeGrant(r.Context(), rt.GrantID, s.now())
	}
	if err != nil {
		s.log.Error("revoke reused refresh token family failed", "step", "14c", "err", err)
		return
	}
	s.pushRevoked(hashes...)
	s.log.Warn("refresh token reused, family revoked", "client_id", rt.ClientID,
		"grant_fp", trace.Fingerprint(rt.GrantID))
}
