package authserver

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// exchangeRequest is a token exchange request (RFC 8693 section 2.1).
type exchangeRequest struct {
	subjectToken       string
	subjectTokenType   string
	requestedTokenType string
	audience           string
	scope              string
}

func parseExchangeRequest(r *http.Request) (exchangeRequest, error) {
	var req exchangeRequest
	form := r.PostForm
	var err error
	for name, dst := range map[string]*string{
		"subject_token": &req.subjectToken, "subject_token_type": &req.subjectTokenType,
		"requested_token_type": &req.requestedTokenType, "scope": &req.scope,
	} {
		if *dst, err = singleParam(form, name); err != nil {
			return req, err
		}
	}
	if form.Has("actor_token") || form.Has("actor_token_type") {
		return req, oauth.NewError(oauth.ErrInvalidRequest, "Actor tokens are not supported.")
	}
	if req.subjectToken == "" {
		return req, oauth.NewError(oauth.ErrInvalidRequest, "The subject_token parameter is missing.")
	}
	if req.subjectTokenType != oauth.TokenTypeAccessToken {
		return req, oauth.NewError(oauth.ErrInvalidRequest, "The subject token type must be an access token.")
	}
	switch req.requestedTokenType {
	case "", oauth.TokenTypeAccessToken, oauth.TokenTypeJWT:
	default:
		return req, oauth.NewError(oauth.ErrInvalidRequest, "The requested token type is not supported.")
	}

	// One target only: the JWT has a single audience.
	if form.Has("resource") {
		return req, oauth.NewError(oauth.ErrInvalidTarget, "Resource indicators are not supported; use audience.")
	}
	switch len(form["audience"]) {
	case 0:
		return req, oauth.NewError(oauth.ErrInvalidRequest, "The audience parameter is missing.")
	case 1:
		req.audience = form.Get("audience")
	default:
		return req, oauth.NewError(oauth.ErrInvalidTarget, "Exactly one audience is supported.")
	}
	return req, nil
}

// tokenExchange trades an opaque access token for a short-lived JWT access
// token (RFC 9068) for one audience (17).
func (s *Server) tokenExchange(r *http.Request, client *Client, st *trace.Step) (*tokenResponse, error) {
	// Only confidential clients allowed the grant may exchange.
	if client.Public || !client.allows(oauth.GrantTokenExchange) {
		return nil, oauth.NewError(oauth.ErrUnauthorizedClient, "The client may not use token exchange.")
	}
	req, err := parseExchangeRequest(r)
	if err != nil {
		return nil, err
	}
	st.Set(trace.KeyAccessToken, req.subjectToken)

	// The subject token must be active; RFC 8693 section 2.2.2 calls an
	// invalid one invalid_request.
	subject, err := s.activeAccessToken(r.Context(), req.subjectToken)
	if errors.Is(err, errInvalidToken) {
		return nil, oauth.Wrap(oauth.ErrInvalidRequest, "The subject token is invalid.", err)
	}
	if err != nil {
		return nil, err
	}
	st.Set(trace.KeySubject, tokenSubject(subject))

	// The audience must be allowed to the calling client and to the
	// subject token.
	if !slices.Contains(client.Audiences, req.audience) || !slices.Contains(subject.Audiences, req.audience) {
		return nil, oauth.NewError(oauth.ErrInvalidTarget, "The audience is not allowed.")
	}

	// A requested scope may only narrow the subject token's.
	scope := subject.Scope
	if req.scope != "" {
		for _, sc := range strings.Fields(req.scope) {
			if !hasScope(subject.Scope, sc) {
				return nil, oauth.NewError(oauth.ErrInvalidScope, "The scope exceeds the subject token's.")
			}
		}
		scope = strings.Join(strings.Fields(req.scope), " ")
	}

	// A token of the client credentials grant has no user, so its JWT
	// has no user claims and names the client as "sub".
	claims := map[string]any{}
	if subject.UserID != "" {
		user, err := s.store.GetUser(r.Context(), subject.UserID)
		if err != nil {
			return nil, oauth.Wrap(oauth.ErrInvalidRequest, "The subject token is invalid.", err)
		}
		claims = userClaims(user.Profile, scope)
	}

	// The JWT lives ExchangedTokenTTL, never past the subject token.
	now := s.now()
	iat := now.Unix()
	exp := min(now.Add(s.exchangedTTL).Unix(), subject.ExpiresAt.Unix())
	claims["iss"] = s.issuer
	claims["sub"] = tokenSubject(subject)
	claims["aud"] = req.audience
	claims["client_id"] = subject.ClientID
	claims["iat"] = iat
	claims["exp"] = exp
	claims["jti"] = oauth.NewToken()
	claims["scope"] = scope
	claims["act"] = map[string]string{"sub": client.ID}
	jwt, err := s.keys.Sign(claims, oauth.JWTTypeAccessToken)
	if err != nil {
		return nil, oauth.Wrap(oauth.ErrServerError, "The token could not be issued.", err)
	}
	st.Set(trace.KeyJWT, jwt)
	return &tokenResponse{
		AccessToken:     jwt,
		IssuedTokenType: oauth.TokenTypeAccessToken,
		TokenType:       oauth.TokenTypeBearer,
		ExpiresIn:       exp - iat,
	}, nil
}
