// Package store defines what the authorization server keeps between
// requests and restarts: users, sessions, login transactions, authorization
// codes, access and refresh tokens, and signing keys. [Store] is the only
// seam; [OpenSQLite] and its siblings return the embedded SQLite
// implementation, and package storetest holds the conformance test that
// every implementation runs.
//
// The store keeps what it is given. The authorization server hands it only
// hashes of codes, access tokens, refresh tokens, session tokens and
// transaction IDs, so a copy of the database yields none of them. Signing
// keys and the short-lived values of a login transaction (upstream state,
// nonce and PKCE verifier, CSRF token) are stored as they are, because the
// server needs them back.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every implementation returns, compared with errors.Is.
var (
	// ErrNotFound means no live record has the given key.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyUsed means a single-use record (an authorization code, a
	// refresh token or an upstream state) was used before.
	ErrAlreadyUsed = errors.New("store: already used")
	// ErrConflict means a record with the same key already exists.
	ErrConflict = errors.New("store: conflict")
)

// Store is the storage of the authorization server. Every method is safe
// for concurrent use, and each method that writes does so in one
// transaction: it either makes all of its changes or none.
type Store interface {
	// UpsertUser finds the user with u's (Issuer, Subject) and replaces its
	// profile with u's, or creates u when there is none. It returns the
	// stored user; u.ID is used only when the user is created. Users are
	// never matched by email.
	UpsertUser(ctx context.Context, u User) (User, error)
	// GetUser returns the user with the given ID.
	GetUser(ctx context.Context, id string) (User, error)
	// GetUserBySubject returns the user with the upstream identity
	// provider's issuer and subject.
	GetUserBySubject(ctx context.Context, issuer, subject string) (User, error)

	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the session with the given ID, expired or not.
	GetSession(ctx context.Context, id string) (Session, error)
	// DeleteSession removes a session; a missing session is not an error.
	DeleteSession(ctx context.Context, id string) error
	// ReplaceSession stores s and deletes the session oldID, in one
	// transaction, for a browser that logs in again. The access and
	// refresh tokens that the user of s got under oldID move to s, so
	// ending s ends them too. An empty or missing oldID only stores s.
	ReplaceSession(ctx context.Context, oldID string, s Session) error
	// EndSession deletes the session with the given ID and revokes every
	// access and refresh token issued under it, in one transaction. It
	// returns the hashes of the access tokens that were live at now
	// (neither revoked nor expired), sorted. A missing session is not an
	// error, and its tokens are still revoked.
	EndSession(ctx context.Context, id string, now time.Time) ([]string, error)

	// CreateTransaction stores a new login transaction.
	CreateTransaction(ctx context.Context, t Transaction) error
	// GetTransaction returns the login transaction with the given ID.
	GetTransaction(ctx context.Context, id string) (Transaction, error)
	// SetTransactionUpstream records the upstream request the transaction
	// waits for, replacing any earlier one.
	SetTransactionUpstream(ctx context.Context, id string, up UpstreamRequest) error
	// ConsumeUpstreamState clears the transaction's upstream state if it
	// equals state and returns the transaction as it was, so each upstream
	// state is accepted once. It returns ErrAlreadyUsed when the state does
	// not match or was used before.
	ConsumeUpstreamState(ctx context.Context, id, state string) (Transaction, error)
	// SetTransactionSession binds the transaction to the session created at
	// its login.
	SetTransactionSession(ctx context.Context, id, sessionID string) error
	// TakeTransaction deletes the transaction and returns it, so it can be
	// resumed once.
	TakeTransaction(ctx context.Context, id string) (Transaction, error)

	// CreateAuthCode stores a new authorization code.
	CreateAuthCode(ctx context.Context, c AuthCode) error
	// RedeemAuthCode marks the code with the given hash used and stores the
	// tokens that issue builds from it, in one transaction. When issue
	// returns an error nothing changes and that error is returned. A code
	// used before gives ErrAlreadyUsed without calling issue.
	RedeemAuthCode(ctx context.Context, hash string, issue func(AuthCode) (Tokens, error)) error

	// CreateAccessToken stores a new access token.
	CreateAccessToken(ctx context.Context, t AccessToken) error
	// GetAccessToken returns the access token with the given hash, revoked
	// or expired ones included.
	GetAccessToken(ctx context.Context, hash string) (AccessToken, error)
	// RevokeAccessToken marks the access token with the given hash revoked.
	RevokeAccessToken(ctx context.Context, hash string) error
	// LiveAccessTokens returns the access tokens that are neither revoked
	// nor expired at now, oldest first.
	LiveAccessTokens(ctx context.Context, now time.Time) ([]AccessToken, error)
	// LiveAccessTokensOfUser returns the live access tokens of one user,
	// oldest first.
	LiveAccessTokensOfUser(ctx context.Context, userID string, now time.Time) ([]AccessToken, error)

	// GetRefreshToken returns the refresh token with the given hash.
	GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// RotateRefreshToken marks the refresh token with the given hash used
	// and stores the tokens that issue builds from it, in one transaction.
	// When issue returns an error nothing changes. A token used before gives
	// ErrAlreadyUsed without calling issue. The caller should then revoke
	// the grant, because a used refresh token in use again means one copy
	// was stolen (RFC 9700 section 4.14).
	RotateRefreshToken(ctx context.Context, hash string, issue func(RefreshToken) (Tokens, error)) error
	// RevokeRefreshToken marks the refresh token with the given hash revoked.
	RevokeRefreshToken(ctx context.Context, hash string) error

	// RevokeGrant revokes every access and refresh token of the grant. It
	// returns the hashes of the access tokens that were live at now
	// (neither revoked nor expired), sorted.
	RevokeGrant(ctx context.Context, grantID string, now time.Time) ([]string, error)

	// GetConsent returns the consent the user gave the client.
	GetConsent(ctx context.Context, userID, clientID string) (Consent, error)
	// SaveConsent stores c, replacing any earlier consent of the same user
	// to the same client.
	SaveConsent(ctx context.Context, c Consent) error

	// AddSigningKey stores a signing key.
	AddSigningKey(ctx context.Context, k SigningKey) error
	// SigningKeys returns the stored signing keys that are not retired,
	// newest first; keys added at the same time come in reverse order of
	// addition.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// RetireSigningKey marks the key retired at the given time and erases
	// its private key. A retired key is no longer listed, and its ID stays
	// taken. It returns ErrNotFound when no unretired key has the ID.
	RetireSigningKey(ctx context.Context, id string, at time.Time) error

	// DeleteExpired removes sessions, transactions, codes and tokens that
	// expired before now, and returns how many records it removed.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)

	// Close releases the store's resources.
	Close() error
}

// Tokens are the tokens issued by one grant, stored together.
type Tokens struct {
	Access AccessToken
	// Refresh is nil when no refresh token is issued.
	Refresh *RefreshToken
}
