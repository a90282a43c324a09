package mockidp

import (
	"net/url"
	"slices"
	"strings"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// refreshGrant serves the refresh_token grant (RFC 6749 section 6). Like
// Google, it returns a new access token and ID token but keeps the refresh
// token: the response carries no new one.
func (s *Server) refreshGrant(iss *issuer, client Client, form url.Values) (tokenResponse, *oauth.Error) {
	token := form.Get("refresh_token")
	if token == "" {
		return tokenResponse{}, oauth.NewError(oauth.ErrInvalidRequest, "The request has no refresh_token.")
	}

	// The token must be live and issued to this client.
	g, ok := iss.lookupRefreshToken(token)
	if !ok {
		return tokenResponse{}, oauth.NewError(oauth.ErrInvalidGrant, "The refresh token is invalid or revoked.")
	}
	view := iss.snapshot(g)
	if view.clientID != client.ID {
		return tokenResponse{}, oauth.NewError(oauth.ErrInvalidGrant, "The refresh token was issued to another client.")
	}

	// A requested scope may narrow the grant, never widen it.
	if raw := form.Get("scope"); raw != "" {
		scope := strings.Fields(raw)
		for _, sc := range scope {
			if !slices.Contains(view.scope, sc) {
				return tokenResponse{}, oauth.NewError(oauth.ErrInvalidScope, "The scope exceeds the original grant.")
			}
		}
		g = &grant{
			clientID:   view.clientID,
			subject:    view.subject,
			scope:      scope,
			authTime:   view.authTime,
			accessType: view.accessType,
			parent:     g,
		}
		view = *g
	}

	// OpenID Connect Core section 12.2: the new ID token keeps auth_time
	// and has no nonce.
	return s.issueTokens(iss, g, view, false, s.now())
}

// clientCredentialsGrant serves the client_credentials grant (RFC 6749
// section 4.4): an access token for the client itself, with no ID token
// and no refresh token.
func (s *Server) clientCredentialsGrant(iss *issuer, client Client, form url.Values) (tokenResponse, *oauth.Error) {
	if client.Public {
		return tokenResponse{}, oauth.NewError(oauth.ErrUnauthorizedClient, "Public clients cannot use the client_credentials grant.")
	}
	scope := strings.Fields(form.Get("scope"))
	if slices.Contains(scope, "openid") || slices.Contains(scope, "offline_access") {
		return tokenResponse{}, oauth.NewError(oauth.ErrInvalidScope, "The client_credentials grant has no user, so openid and offline_access do not apply.")
	}
	g := &grant{clientID: client.ID, scope: scope}
	return s.issueTokens(iss, g, *g, false, s.now())
}
