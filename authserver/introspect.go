package authserver

import (
	"context"
	"errors"
	"net/http"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// introspection is the RFC 7662 section 2.2 response for an active token.
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope"`
	ClientID  string   `json:"client_id"`
	Subject   string   `json:"sub"`
	ExpiresAt int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	TokenType string   `json:"token_type"`
	Issuer    string   `json:"iss"`
	Audience  []string `json:"aud"`
}

// inactive is the whole response for a token that is not active: RFC 7662
// section 2.2 advises against any other member, and without them unknown,
// expired and revoked tokens look the same.
type inactive struct {
	Active bool `json:"active"`
}

// handleIntrospect is the introspection endpoint (16). Only confidential
// clients may call it (RFC 7662 section 2.1); a public client gets
// invalid_client.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) error {
	st := s.startStep(r, "16")
	if err := parseForm(w, r); err != nil {
		return err
	}
	client, err := s.authenticateClient(r)
	if err != nil {
		return err
	}
	if client.Public {
		return oauth.NewError(oauth.ErrInvalidClient, "Public clients may not introspect tokens.")
	}
	token, err := singleParam(r.PostForm, "token")
	if err != nil {
		return err
	}
	if token == "" {
		return oauth.NewError(oauth.ErrInvalidRequest, "The token parameter is missing.")
	}
	st.Set(trace.KeyAccessToken, token)

	// token_type_hint is only a hint (RFC 7662 section 2.1). Only access
	// tokens are ever active here, whatever its value.
	at, err := s.activeAccessToken(r.Context(), token)
	if errors.Is(err, errInvalidToken) {
		oauth.WriteJSON(w, http.StatusOK, inactive{})
		return nil
	}
	if err != nil {
		return err
	}
	st.Set(trace.KeySubject, tokenSubject(at))
	oauth.WriteJSON(w, http.StatusOK, introspection{
		Active:    true,
		Scope:     at.Scope,
		ClientID:  at.ClientID,
		Subject:   tokenSubject(at),
		ExpiresAt: at.ExpiresAt.Unix(),
		IssuedAt:  at.IssuedAt.Unix(),
		TokenType: oauth.TokenTypeBearer,
		Issuer:    s.issuer,
		Audience:  at.Audiences,
	})
	return nil
}

// activeAccessToken returns the stored access token for token, or
// errInvalidToken when it is unknown, revoked or expired.
func (s *Server) activeAccessToken(ctx context.Context, token string) (*store.AccessToken, error) {
	at, err := s.store.GetAccessToken(ctx, oauth.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInvalidToken
	}
	if err != nil {
		return nil, oauth.Wrap(oauth.ErrServerError, "The token could not be checked.", err)
	}
	if at.Revoked || !s.now().Before(at.ExpiresAt) {
		return nil, errInvalidToken
	}
	return &at, nil
}
