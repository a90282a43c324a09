package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// UpsertUser implements [Store].
func (s *SQLite) UpsertUser(ctx context.Context, u User) (User, error) {
	if u.ID == "" || u.Issuer == "" || u.Subject == "" {
		return User{}, fmt.Errorf("store: upsert user: empty ID, issuer or subject")
	}
	p := u.Profile
	// The conflict clause keeps the existing ID and creation time: a user
	// is keyed by the upstream's (issuer, subject), whatever ID the caller
	// proposed for a new one.
	row := s.db.QueryRowContext(ctx, `
		INSERT INTO users (id, issuer, subject, email, email_verified, name, given_name,
			family_name, picture, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (issuer, subject) DO UPDATE SET
			email = excluded.email, email_verified = excluded.email_verified,
			name = excluded.name, given_name = excluded.given_name,
			family_name = excluded.family_name, picture = excluded.picture,
			updated_at = excluded.updated_at
		RETURNING `+userColumns,
		u.ID, u.Issuer, u.Subject, p.Email, p.EmailVerified, p.Name, p.GivenName,
		p.FamilyName, p.Picture, nanos(u.CreatedAt), nanos(u.UpdatedAt))
	out, err := scanUser(row)
	if err != nil {
		return User{}, fmt.Errorf("store: upsert user: %w", err)
	}
	return out, nil
}

// GetUser implements [Store].
func (s *SQLite) GetUser(ctx context.Context, id string) (User, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id)
	u, err := scanUser(row)
	if err != nil {
		return User{}, fmt.Errorf("store: get user: %w", notFound(err))
	}
	return u, nil
}

// GetUserBySubject implements [Store].
func (s *SQLite) GetUserBySubject(ctx context.Context, issuer, subject string) (User, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE issuer = ? AND subject = ?`, issuer, subject)
	u, err := scanUser(row)
	if err != nil {
		return User{}, fmt.Errorf("store: get user by subject: %w", notFound(err))
	}
	return u, nil
}

const userColumns = `id, issuer, subject, email, email_verified, name, given_name,
	family_name, picture, created_at, updated_at`

func scanUser(row *sql.Row) (User, error) {
	var u User
	var created, updated int64
	err := row.Scan(&u.ID, &u.Issuer, &u.Subject, &u.Profile.Email, &u.Profile.EmailVerified,
		&u.Profile.Name, &u.Profile.GivenName, &u.Profile.FamilyName, &u.Profile.Picture,
		&created, &updated)
	u.CreatedAt, u.UpdatedAt = fromNanos(created), fromNanos(updated)
	return u, err
}

// CreateSession implements [Store].
func (s *SQLite) CreateSession(ctx context.Context, ses Session) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO sessions (id, user_id, upstream_id, auth_time, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		ses.ID, ses.UserID, ses.UpstreamID, nanos(ses.AuthTime), nanos(ses.CreatedAt), nanos(ses.ExpiresAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: create session: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// GetSession implements [Store].
func (s *SQLite) GetSession(ctx context.Context, id string) (Session, error) {
	var ses Session
	var auth, created, expires int64
	err := s.db.QueryRowContext(ctx, `
		SELECT id, user_id, upstream_id, auth_time, created_at, expires_at
		FROM sessions WHERE id = ?`, id).
		Scan(&ses.ID, &ses.UserID, &ses.UpstreamID, &auth, &created, &expires)
	if err != nil {
		return Session{}, fmt.Errorf("store: get session: %w", notFound(err))
	}
	ses.AuthTime, ses.CreatedAt, ses.ExpiresAt = fromNanos(auth), fromNanos(created), fromNanos(expires)
	return ses, nil
}

// ReplaceSession implements [Store].
func (s *SQLite) ReplaceSession(ctx context.Context, oldID string, ses Session) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO sessions (id, user_id, upstream_id, auth_time, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`,
			ses.ID, ses.UserID, ses.UpstreamID, nanos(ses.AuthTime), nanos(ses.CreatedAt), nanos(ses.ExpiresAt))
		if isUniqueViolation(err) {
			return ErrConflict
		}
		if err != nil || oldID == "" || oldID == ses.ID {
			return err
		}
		// Tokens of another user stay with the old session ID: a logout
		// of this user must not end them.
		for _, table := range []string{"access_tokens", "refresh_tokens"} {
			if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET session_id = ? WHERE session_id = ? AND user_id = ?`,
				ses.ID, oldID, ses.UserID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, oldID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: replace session: %w", err)
	}
	return nil
}

// DeleteSession implements [Store].
func (s *SQLite) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// CreateTransaction implements [Store].
func (s *SQLite) CreateTransaction(ctx context.Context, t Transaction) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO transactions (id, client_id, redirect_uri, response_type, scope, state, nonce,
			code_challenge, code_challenge_method, prompt, max_age, csrf_token, upstream_id,
			upstream_state, upstream_nonce, upstream_verifier, session_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.ClientID, t.RedirectURI, t.ResponseType, t.Scope, t.State, t.Nonce,
		t.CodeChallenge, t.CodeChallengeMethod, t.Prompt, t.MaxAge, t.CSRFToken,
		t.Upstream.UpstreamID, t.Upstream.State, t.Upstream.Nonce, t.Upstream.CodeVerifier,
		t.SessionID, nanos(t.CreatedAt), nanos(t.ExpiresAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: create transaction: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create transaction: %w", err)
	}
	return nil
}

// GetTransaction implements [Store].
func (s *SQLite) GetTransaction(ctx context.Context, id string) (Transaction, error) {
	t, err := getTransaction(ctx, s.db, id)
	if err != nil {
		return Transaction{}, fmt.Errorf("store: get transaction: %w", err)
	}
	return t, nil
}

// SetTransactionUpstream implements [Store].
func (s *SQLite) SetTransactionUpstream(ctx context.Context, id string, up UpstreamRequest) error {
	err := execOne(ctx, s.db, `
		UPDATE transactions SET upstream_id = ?, upstream_state = ?, upstream_nonce = ?,
			upstream_verifier = ?
		WHERE id = ?`, up.UpstreamID, up.State, up.Nonce, up.CodeVerifier, id)
	if err != nil {
		return fmt.Errorf("store: set transaction upstream: %w", err)
	}
	return nil
}

// ConsumeUpstreamState implements [Store].
func (s *SQLite) ConsumeUpstreamState(ctx context.Context, id, state string) (Transaction, error) {
	var t Transaction
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = getTransaction(ctx, tx, id); err != nil {
			return err
		}
		// The empty state never matches: it marks a used or never-sent one.
		err = execOne(ctx, tx, `
			UPDATE transactions SET upstream_state = ''
			WHERE id = ? AND upstream_state = ? AND upstream_state != ''`, id, state)
		if errors.Is(err, ErrNotFound) {
			return ErrAlreadyUsed
		}
		return err
	})
	if err != nil {
		return Transaction{}, fmt.Errorf("store: consume upstream state: %w", err)
	}
	return t, nil
}

// SetTransactionSession implements [Store].
func (s *SQLite) SetTransactionSession(ctx context.Context, id, sessionID string) error {
	if err := execOne(ctx, s.db, `UPDATE transactions SET session_id = ? WHERE id = ?`, sessionID, id); err != nil {
		return fmt.Errorf("store: set transaction session: %w", err)
	}
	return nil
}

// TakeTransaction implements [Store].
func (s *SQLite) TakeTransaction(ctx context.Context, id string) (Transaction, error) {
	var t Transaction
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = getTransaction(ctx, tx, id); err != nil {
			return err
		}
		return execOne(ctx, tx, `DELETE FROM transactions WHERE id = ?`, id)
	})
	if err != nil {
		return Transaction{}, fmt.Errorf("store: take transaction: %w", err)
	}
	return t, nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getTransaction(ctx context.Context, q queryer, id string) (Transaction, error) {
	var t Transaction
	var created, expires int64
	err := q.QueryRowContext(ctx, `
		SELECT id, client_id, redirect_uri, response_type, scope, state, nonce, code_challenge,
			code_challenge_method, prompt, max_age, csrf_token, upstream_id, upstream_state,
			upstream_nonce, upstream_verifier, session_id, created_at, expires_at
		FROM transactions WHERE id = ?`, id).Scan(
		&t.ID, &t.ClientID, &t.RedirectURI, &t.ResponseType, &t.Scope, &t.State, &t.Nonce,
		&t.CodeChallenge, &t.CodeChallengeMethod, &t.Prompt, &t.MaxAge, &t.CSRFToken,
		&t.Upstream.UpstreamID, &t.Upstream.State, &t.Upstream.Nonce, &t.Upstream.CodeVerifier,
		&t.SessionID, &created, &expires)
	if err != nil {
		return Transaction{}, notFound(err)
	}
	t.CreatedAt, t.ExpiresAt = fromNanos(created), fromNanos(expires)
	return t, nil
}
