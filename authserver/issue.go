package authserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/internal/oauth"
)

// issuedTokens are new tokens: the raw values for the client and their
// hashed records for the store.
type issuedTokens struct {
	accessToken  string
	refreshToken string
	stored       store.Tokens
	expiresIn    int64
	scope        string
}

// newTokens builds an access token for the user, and a refresh token when
// the client may use the refresh grant, both part of grant grantID and of
// the login session sessionID.
func (s *Server) newTokens(client *Client, userID, scope, grantID, sessionID string, authTime, now time.Time) *issuedTokens {
	t := &issuedTokens{
		accessToken: oauth.NewToken(),
		expiresIn:   int64(s.accessTTL / time.Second),
		scope:       scope,
	}
	t.stored.Access = store.AccessToken{
		Hash:      oauth.HashToken(t.accessToken),
		ClientID:  client.ID,
		UserID:    userID,
		Scope:     scope,
		Audiences: client.Audiences,
		GrantID:   grantID,
		SessionID: sessionID,
		IssuedAt:  now,
		ExpiresAt: now.Add(s.accessTTL),
	}
	if client.allows(oauth.GrantRefreshToken) {
		t.refreshToken = oauth.NewToken()
		t.stored.Refresh = &store.RefreshToken{
			Hash:      oauth.HashToken(t.refreshToken),
			ClientID:  client.ID,
			UserID:    userID,
			Scope:     scope,
			Audiences: client.Audiences,
			GrantID:   grantID,
			SessionID: sessionID,
			AuthTime:  authTime,
			IssuedAt:  now,
			ExpiresAt: now.Add(s.refreshTTL),
		}
	}
	return t
}

func (t *issuedTokens) response() *tokenResponse {
	return &tokenResponse{
		AccessToken:  t.accessToken,
		TokenType:    oauth.TokenTypeBearer,
		ExpiresIn:    t.expiresIn,
		Scope:        t.scope,
		RefreshToken: t.refreshToken,
	}
}

// idTokenParams are the inputs of an ID token.
type idTokenParams struct {
	clientID    string
	userID      string
	scope       string
	nonce       string
	authTime    time.Time
	accessToken string
	now         time.Time
}

// signIDToken returns a signed ID token (OpenID Connect Core section 2)
// with the user's claims allowed by scope.
func (s *Server) signIDToken(ctx context.Context, p idTokenParams) (string, error) {
	user, err := s.store.GetUser(ctx, p.userID)
	if err != nil {
		return "", oauth.Wrap(oauth.ErrServerError, "The ID token could not be issued.", err)
	}
	claims := userClaims(user.Profile, p.scope)
	claims["iss"] = s.issuer
	claims["sub"] = user.ID
	claims["aud"] = p.clientID
	claims["iat"] = p.now.Unix()
	claims["exp"] = p.now.Add(s.accessTTL).Unix()
	claims["auth_time"] = p.authTime.Unix()
	if p.nonce != "" {
		claims["nonce"] = p.nonce
	}
	if p.accessToken != "" {
		claims["at_hash"] = accessTokenHash(p.accessToken)
	}
	token, err := s.keys.Sign(claims, "JWT")
	if err != nil {
		return "", oauth.Wrap(oauth.ErrServerError, "The ID token could not be issued.", err)
	}
	return token, nil
}

// userClaims returns the profile claims that scope releases: name and
// picture for "profile", email for "email" (OpenID Connect Core section
// 5.4). Empty values are left out.
func userClaims(p store.Profile, scope string) map[string]any {
	claims := map[string]any{}
	set := func(name, value string) {
		if value != "" {
			claims[name] = value
		}
	}
	if hasScope(scope, "profile") {
		set("name", p.Name)
		set("given_name", p.GivenName)
		set("family_name", p.FamilyName)
		set("picture", p.Picture)
	}
	if hasScope(scope, "email") && p.Email != "" {
		claims["email"] = p.Email
		claims["email_verified"] = p.EmailVerified
	}
	return claims
}

// accessTokenHash is the at_hash of an RS256-signed ID token: the left
// half of the SHA-256 of the token, base64url-encoded (OpenID Connect Core
// section 3.1.3.6).
func accessTokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// errInvalidToken is the cause when a presented token is unknown, revoked
// or expired.
var errInvalidToken = errors.New("token unknown, revoked or expired")
