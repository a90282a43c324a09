package mockidp

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/oidcstack/oidcstack/internal/oauth"
)

// codeGrant redeems an authorization code (RFC 6749 section 4.1.3).
func (s *Server) codeGrant(iss *issuer, client Client, form url.Values) (tokenResponse, *oauth.Error) {
	cr := codeRedemption{
		code:         form.Get("code"),
		redirectURI:  form.Get("redirect_uri"),
		codeVerifier: form.Get("code_verifier"),
	}
	if cr.code == "" {
		return tokenResponse{}, oauth.NewError(oauth.ErrInvalidRequest, "The request has no code.")
	}
	now := s.now()
	// A redeemed code is remembered as long as its access tokens live, so
	// a replay within that time revokes them.
	g, oerr := iss.redeemCode(client.ID, cr, now, s.cfg.TokenTTL)
	if oerr != nil {
		return tokenResponse{}, oerr
	}
	view := iss.snapshot(g)
	resp, err := s.issueTokens(iss, g, view, true, now)
	if err != nil {
		return tokenResponse{}, err
	}
	if view.accessType == "offline" {
		resp.RefreshToken = iss.issueRefreshToken(g)
	}
	return resp, nil
}

// issueTokens issues an access token for g and, when its scope has openid,
// an ID token. view is a copy of g taken under the issuer's lock.
func (s *Server) issueTokens(iss *issuer, g *grant, view grant, withNonce bool, now time.Time) (tokenResponse, *oauth.Error) {
	access, _ := iss.issueAccessToken(g, now, s.cfg.TokenTTL)
	resp := tokenResponse{
		AccessToken: access,
		TokenType:   oauth.TokenTypeBearer,
		ExpiresIn:   int64(s.cfg.TokenTTL / time.Second),
		Scope:       strings.Join(view.scope, " "),
	}
	if view.subject == "" || !slices.Contains(view.scope, "openid") {
		return resp, nil
	}

	user, ok := iss.user(view.subject)
	if !ok {
		return tokenResponse{}, oauth.NewError(oauth.ErrInvalidGrant, "The user no longer exists.")
	}
	p := idTokenParams{
		issuer:      iss.url,
		clientID:    view.clientID,
		authTime:    view.authTime,
		accessToken: access,
		now:         now,
		ttl:         s.cfg.TokenTTL,
	}
	if withNonce {
		p.nonce = view.nonce
	}
	idToken, err := s.signIDToken(iss, idTokenClaims(user, view.scope, p), view.clientID)
	if err != nil {
		return tokenResponse{}, oauth.Wrap(oauth.ErrServerError, "The server failed to sign the ID token.", err)
	}
	resp.IDToken = idToken
	return resp, nil
}

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

	// The new ID token keeps sub, aud and auth_time (OpenID Connect Core
	// section 12.2) and carries no nonce, as the errata of that section
	// allow: a refresh is not an authentication request.
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
