// Package secevent is the push channel from the authorization server to the
// gateways: Security Event Tokens (RFC 8417) delivered by HTTP POST (RFC
// 8935). It defines the event types and their payloads, signs and verifies
// SETs, and delivers them with retries. The authorization server transmits
// and every gateway receives; both import this package, and neither imports
// the other.
//
// A SET is a JWT with header typ "secevent+jwt", signed with RS256 by the
// authorization server's signing key, so a receiver verifies it against the
// server's JWKS. Its claims:
//
//	iss     the authorization server's issuer URL
//	aud     the receiving gateway's configured identifier (one string)
//	iat     when the SET was signed; receivers reject SETs older than their
//	        maximum age
//	jti     unique per SET; receivers reject a jti they have seen
//	events  one or more of the event types below, URN to payload
//
// Event types (payloads in the structs of the same name):
//
//	urn:oidcstack:secevent:token-issued   TokenIssued: an access token's
//	        SHA-256 hash, subject, client, scope, expiry and one JWT per
//	        audience. Sent only to gateways in push mode, at issuance and
//	        again with fresh JWTs before the earlier ones expire.
//	urn:oidcstack:secevent:token-revoked  TokenRevoked: hashes of access
//	        tokens that stopped being valid (revocation, logout).
//	urn:oidcstack:secevent:user-changed   UserChanged: the subject whose
//	        profile changed, so results built from the old profile are
//	        stale.
//	urn:oidcstack:secevent:state-synced   StateSynced: every access token
//	        live when the authorization server began its latest push cycle
//	        has been sent to this gateway. Sent only in push mode.
//
// Raw access tokens never travel: a token is named by its hash, the
// lowercase hex SHA-256 that oauth.HashToken returns.
package secevent

import (
	"encoding/hex"
	"fmt"
)

// Event type URNs, the keys of the events claim.
const (
	EventTokenIssued  = "urn:oidcstack:secevent:token-issued"
	EventTokenRevoked = "urn:oidcstack:secevent:token-revoked"
	EventUserChanged  = "urn:oidcstack:secevent:user-changed"
	EventStateSynced  = "urn:oidcstack:secevent:state-synced"
)

// ContentType is the media type of a SET in an RFC 8935 push request.
const ContentType = "application/secevent+jwt"

// SET is the claims set of a Security Event Token.
type SET struct {
	Issuer   string `json:"iss"`
	Audience string `json:"aud"`
	IssuedAt int64  `json:"iat"`
	ID       string `json:"jti"`
	Events   Events `json:"events"`
}

// Events is the events claim. Each non-nil field is one event; a receiver
// ignores event types it does not know (RFC 8417 section 2.2).
type Events struct {
	TokenIssued  *TokenIssued  `json:"urn:oidcstack:secevent:token-issued,omitempty"`
	TokenRevoked *TokenRevoked `json:"urn:oidcstack:secevent:token-revoked,omitempty"`
	UserChanged  *UserChanged  `json:"urn:oidcstack:secevent:user-changed,omitempty"`
	StateSynced  *StateSynced  `json:"urn:oidcstack:secevent:state-synced,omitempty"`
}

// TokenIssued describes a live access token to a push-mode gateway.
type TokenIssued struct {
	// TokenHash is the hex SHA-256 of the access token.
	TokenHash string `json:"token_hash"`
	// Subject is the authorization server's user ID.
	Subject  string `json:"sub"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	// Expiry is the access token's exp, in seconds since the Unix epoch.
	Expiry int64 `json:"exp"`
	// JWTs maps each audience of the token to a JWT access token (RFC
	// 9068) for that audience.
	JWTs map[string]string `json:"jwts"`
}

// TokenRevoked names access tokens that are no longer valid.
type TokenRevoked struct {
	TokenHashes []string `json:"token_hashes"`
}

// UserChanged names a user whose profile changed.
type UserChanged struct {
	Subject string `json:"sub"`
}

// StateSynced marks the end of a push cycle. It has no members.
type StateSynced struct{}

// PushOnly reports whether e holds an event that only push-mode gateways
// receive.
func (e Events) PushOnly() bool {
	return e.TokenIssued != nil || e.StateSynced != nil
}

// validate checks the payload of every event in e and that e has at least
// one event type this package defines.
func (e Events) validate() error {
	if e.TokenIssued == nil && e.TokenRevoked == nil && e.UserChanged == nil && e.StateSynced == nil {
		return fmt.Errorf("no known event type in events")
	}
	if ti := e.TokenIssued; ti != nil {
		if err := ValidTokenHash(ti.TokenHash); err != nil {
			return fmt.Errorf("%s: %w", EventTokenIssued, err)
		}
		if ti.Subject == "" || ti.ClientID == "" || ti.Expiry <= 0 || len(ti.JWTs) == 0 {
			return fmt.Errorf("%s: sub, client_id, exp and jwts are required", EventTokenIssued)
		}
	}
	if tr := e.TokenRevoked; tr != nil {
		if len(tr.TokenHashes) == 0 {
			return fmt.Errorf("%s: token_hashes is empty", EventTokenRevoked)
		}
		for _, h := range tr.TokenHashes {
			if err := ValidTokenHash(h); err != nil {
				return fmt.Errorf("%s: %w", EventTokenRevoked, err)
			}
		}
	}
	if uc := e.UserChanged; uc != nil && uc.Subject == "" {
		return fmt.Errorf("%s: sub is required", EventUserChanged)
	}
	return nil
}

// ValidTokenHash checks that h is a lowercase hex SHA-256, as
// oauth.HashToken returns.
func ValidTokenHash(h string) error {
	if len(h) != 64 {
		return fmt.Errorf("token hash has %d characters, want 64", len(h))
	}
	if _, err := hex.DecodeString(h); err != nil {
		return fmt.Errorf("token hash is not hex: %w", err)
	}
	for i := 0; i < len(h); i++ {
		if h[i] >= 'A' && h[i] <= 'F' {
			return fmt.Errorf("token hash must be lowercase hex")
		}
	}
	return nil
}
