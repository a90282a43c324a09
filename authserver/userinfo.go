package authserver

import (
	"errors"
	"net/http"
	"strings"

	"github.com/oidcstack/oidcstack/internal/oauth"
	"github.com/oidcstack/oidcstack/internal/trace"
)

// errNoBearer means the request carried no bearer token at all.
var errNoBearer = errors.New("no bearer token")

// handleUserInfo is the OpenID Connect userinfo endpoint (OpenID Connect
// Core section 5.3). It accepts this server's own access tokens with the
// openid scope, sent as a Bearer header (RFC 6750 section 2.1), and
// returns the claims their scope releases.
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	s.allowAnyClientOrigin(w, r)
	claims, err := s.userInfo(r)
	if err == nil {
		oauth.WriteJSON(w, http.StatusOK, claims)
		return
	}

	s.logError(r, "", err)
	var oe *oauth.Error
	switch {
	case errors.Is(err, errNoBearer):
		// RFC 6750 section 3.1: no error code when the request has no token.
		w.Header().Set("WWW-Authenticate", `Bearer realm="oidcstack"`)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnauthorized)
	case errors.As(err, &oe):
		oauth.WriteError(w, oe)
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="oidcstack", error="invalid_token"`)
		oauth.WriteError(w, oauth.NewError(oauth.ErrInvalidToken, "The access token is invalid."))
	}
}

// userInfo returns the claims for the request's access token. A plain
// error means the token is unusable; an *oauth.Error is a server failure.
func (s *Server) userInfo(r *http.Request) (map[string]any, error) {
	token, ok := bearerToken(r)
	if !ok {
		return nil, errNoBearer
	}
	at, err := s.activeAccessToken(r.Context(), token)
	if err != nil {
		return nil, err
	}
	if !hasScope(at.Scope, "openid") {
		return nil, errors.New("access token " + trace.Fingerprint(token) + " has no openid scope")
	}
	user, err := s.store.GetUser(r.Context(), at.UserID)
	if err != nil {
		return nil, oauth.Wrap(oauth.ErrServerError, "The user could not be read.", err)
	}
	claims := userClaims(user.Profile, at.Scope)
	claims["sub"] = user.ID
	return claims, nil
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}
