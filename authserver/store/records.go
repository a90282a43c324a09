package store

import "time"

// User is a person known to the authorization server, identified by its own
// ID and keyed by the (Issuer, Subject) pair of the upstream identity
// provider that authenticated them.
type User struct {
	ID      string
	Issuer  string
	Subject string
	Profile Profile
	// CreatedAt is set by the caller on creation and kept afterwards.
	CreatedAt time.Time
	// UpdatedAt is the time of the last login that refreshed the profile.
	UpdatedAt time.Time
}

// Profile is the user's profile as the upstream identity provider last
// reported it (OpenID Connect Core section 5.1 claim names).
type Profile struct {
	Email         string
	EmailVerified bool
	Name          string
	GivenName     string
	FamilyName    string
	Picture       string
}

// Session is a browser's login at the authorization server.
type Session struct {
	// ID is the key the caller chose, typically a hash of the cookie value.
	ID     string
	UserID string
	// UpstreamID names the identity provider the user logged in with.
	UpstreamID string
	// AuthTime is when the user last authenticated.
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Transaction is a validated authorization request waiting for the user to
// log in, together with the upstream request sent on its behalf.
type Transaction struct {
	ID       string
	ClientID string
	// RedirectURI has been checked against the client's registration.
	RedirectURI         string
	ResponseType        string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              string
	// MaxAge is the max_age parameter in seconds, or -1 when absent.
	MaxAge int
	// CSRFToken protects the login form of this transaction.
	CSRFToken string
	Upstream  UpstreamRequest
	// SessionID is set once the user has logged in for this transaction.
	SessionID string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// UpstreamRequest is the authentication request sent to an upstream
// identity provider: the values its response must match.
type UpstreamRequest struct {
	UpstreamID   string
	State        string
	Nonce        string
	CodeVerifier string
}

// AuthCode is an issued authorization code.
type AuthCode struct {
	// Hash is the code's hash; it also identifies the grant of the tokens
	// issued for the code.
	Hash                string
	ClientID            string
	RedirectURI         string
	UserID              string
	SessionID           string
	Scope               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	AuthTime            time.Time
	CreatedAt           time.Time
	ExpiresAt           time.Time
}

// AccessToken is an issued opaque access token.
type AccessToken struct {
	Hash     string
	ClientID string
	// UserID is empty for a token of the client credentials grant, which
	// a client gets for itself.
	UserID    string
	Scope     string
	Audiences []string
	// GrantID ties the token to the code or refresh token family it came
	// from, so the whole grant can be revoked at once.
	GrantID string
	// SessionID is the login session the token was issued under, so a
	// logout can revoke it. It is empty for a token of the client
	// credentials grant.
	SessionID string
	IssuedAt  time.Time
	ExpiresAt time.Time
	Revoked   bool
}

// RefreshToken is an issued opaque refresh token.
type RefreshToken struct {
	Hash      string
	ClientID  string
	UserID    string
	Scope     string
	Audiences []string
	// GrantID is the same for every token of one rotation family.
	GrantID string
	// SessionID is the login session of the grant, kept through every
	// rotation.
	SessionID string
	AuthTime  time.Time
	IssuedAt  time.Time
	ExpiresAt time.Time
	Used      bool
	Revoked   bool
}

// Consent records the scopes a user allowed a client on the consent page.
type Consent struct {
	UserID   string
	ClientID string
	// Scope is space-separated, as on the wire.
	Scope     string
	GrantedAt time.Time
}

// SigningKey is a private signing key in PEM form.
type SigningKey struct {
	ID        string
	PEM       []byte
	CreatedAt time.Time
}
