package mockidp

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"time"
)

// userClaims returns the claims about u that scope releases (OpenID Connect
// Core section 5.4). The "email" scope releases email and email_verified,
// and "profile" releases name, given_name, family_name, picture and locale.
// Like Google, hd and the user's Extra claims are always released. Empty values are
// left out, and an Extra claim never replaces one the server sets.
func userClaims(u User, scope []string) map[string]any {
	claims := map[string]any{}
	for name, value := range u.Extra {
		if !slices.Contains(claimsSupported, name) && name != "at_hash" {
			claims[name] = value
		}
	}
	set := func(name, value string) {
		if value != "" {
			claims[name] = value
		}
	}

	if slices.Contains(scope, "email") {
		set("email", u.Email)
		claims["email_verified"] = u.EmailVerified
	}
	if slices.Contains(scope, "profile") {
		set("name", u.Name)
		set("given_name", u.GivenName)
		set("family_name", u.FamilyName)
		set("picture", u.Picture)
		set("locale", u.Locale)
	}
	set("hd", u.HostedDomain)
	claims["sub"] = u.Subject
	return claims
}

// idTokenParams are the values of one ID token besides the user's claims.
type idTokenParams struct {
	issuer      string
	clientID    string
	authTime    time.Time
	nonce       string
	accessToken string
	now         time.Time
	ttl         time.Duration
}

// idTokenClaims returns the claims of an ID token for u (OpenID Connect
// Core section 2).
func idTokenClaims(u User, scope []string, p idTokenParams) map[string]any {
	claims := userClaims(u, scope)
	claims["iss"] = p.issuer
	claims["aud"] = p.clientID
	claims["azp"] = p.clientID
	claims["iat"] = p.now.Unix()
	claims["exp"] = p.now.Add(p.ttl).Unix()
	claims["auth_time"] = p.authTime.Unix()
	if p.nonce != "" {
		claims["nonce"] = p.nonce
	}
	if p.accessToken != "" {
		claims["at_hash"] = accessTokenHash(p.accessToken)
	}
	return claims
}

// accessTokenHash returns the at_hash of token for RS256: the base64url
// encoding of the left half of its SHA-256 (OpenID Connect Core section
// 3.1.3.6).
func accessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
