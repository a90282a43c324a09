package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"
)

// CreateAuthCode implements [Store].
func (s *SQLite) CreateAuthCode(ctx context.Context, c AuthCode) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO auth_codes (hash, client_id, redirect_uri, user_id, session_id, scope, nonce,
			code_challenge, code_challenge_method, auth_time, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Hash, c.ClientID, c.RedirectURI, c.UserID, c.SessionID, c.Scope, c.Nonce,
		c.CodeChallenge, c.CodeChallengeMethod, nanos(c.AuthTime), nanos(c.CreatedAt), nanos(c.ExpiresAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: create auth code: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create auth code: %w", err)
	}
	return nil
}

// RedeemAuthCode implements [Store].
func (s *SQLite) RedeemAuthCode(ctx context.Context, hash string, issue func(AuthCode) (Tokens, error)) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var c AuthCode
		var used bool
		var auth, created, expires int64
		err := tx.QueryRowContext(ctx, `
			SELECT hash, client_id, redirect_uri, user_id, session_id, scope, nonce, code_challenge,
				code_challenge_method, auth_time, created_at, expires_at, used
			FROM auth_codes WHERE hash = ?`, hash).Scan(
			&c.Hash, &c.ClientID, &c.RedirectURI, &c.UserID, &c.SessionID, &c.Scope, &c.Nonce,
			&c.CodeChallenge, &c.CodeChallengeMethod, &auth, &created, &expires, &used)
		if err != nil {
			return notFound(err)
		}
		if used {
			return ErrAlreadyUsed
		}
		c.AuthTime, c.CreatedAt, c.ExpiresAt = fromNanos(auth), fromNanos(created), fromNanos(expires)

		tokens, err := issue(c)
		if err != nil {
			return err
		}
		// The immediate transaction holds the write lock, so no other
		// redemption can mark the code used between the read and here.
		if err := execOne(ctx, tx, `UPDATE auth_codes SET used = 1 WHERE hash = ? AND used = 0`, hash); err != nil {
			return err
		}
		return insertTokens(ctx, tx, tokens)
	})
	if err != nil {
		return fmt.Errorf("store: redeem auth code: %w", err)
	}
	return nil
}

// CreateAccessToken implements [Store].
func (s *SQLite) CreateAccessToken(ctx context.Context, t AccessToken) error {
	if err := insertTokens(ctx, s.db, Tokens{Access: t}); err != nil {
		return fmt.Errorf("store: create access token: %w", err)
	}
	return nil
}

// GetAccessToken implements [Store].
func (s *SQLite) GetAccessToken(ctx context.Context, hash string) (AccessToken, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+accessTokenColumns+` FROM access_tokens WHERE hash = ?`, hash)
	t, err := scanAccessToken(row)
	if err != nil {
		return AccessToken{}, fmt.Errorf("store: get access token: %w", notFound(err))
	}
	return t, nil
}

// LiveAccessTokens implements [Store].
func (s *SQLite) LiveAccessTokens(ctx context.Context, now time.Time) ([]AccessToken, error) {
	tokens, err := s.queryAccessTokens(ctx, `
		SELECT `+accessTokenColumns+` FROM access_tokens
		WHERE revoked = 0 AND expires_at > ? ORDER BY issued_at, hash`, nanos(now))
	if err != nil {
		return nil, fmt.Errorf("store: list live access tokens: %w", err)
	}
	return tokens, nil
}

// LiveAccessTokensOfUser implements [Store].
func (s *SQLite) LiveAccessTokensOfUser(ctx context.Context, userID string, now time.Time) ([]AccessToken, error) {
	tokens, err := s.queryAccessTokens(ctx, `
		SELECT `+accessTokenColumns+` FROM access_tokens
		WHERE user_id = ? AND revoked = 0 AND expires_at > ? ORDER BY issued_at, hash`, userID, nanos(now))
	if err != nil {
		return nil, fmt.Errorf("store: list live access tokens of user: %w", err)
	}
	return tokens, nil
}

const accessTokenColumns = `hash, client_id, COALESCE(user_id, ''), scope, audiences, grant_id, session_id,
	issued_at, expires_at, revoked`

type rowScanner interface {
	Scan(dest ...any) error
}

func scanAccessToken(row rowScanner) (AccessToken, error) {
	var t AccessToken
	var audiences string
	var issued, expires int64
	err := row.Scan(&t.Hash, &t.ClientID, &t.UserID, &t.Scope, &audiences, &t.GrantID, &t.SessionID,
		&issued, &expires, &t.Revoked)
	if err != nil {
		return AccessToken{}, err
	}
	t.Audiences = splitList(audiences)
	t.IssuedAt, t.ExpiresAt = fromNanos(issued), fromNanos(expires)
	return t, nil
}

func (s *SQLite) queryAccessTokens(ctx context.Context, query string, args ...any) ([]AccessToken, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AccessToken
	for rows.Next() {
		t, err := scanAccessToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAccessToken implements [Store].
func (s *SQLite) RevokeAccessToken(ctx context.Context, hash string) error {
	if err := execOne(ctx, s.db, `UPDATE access_tokens SET revoked = 1 WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("store: revoke access token: %w", err)
	}
	return nil
}

// GetRefreshToken implements [Store].
func (s *SQLite) GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error) {
	t, err := getRefreshToken(ctx, s.db, hash)
	if err != nil {
		return RefreshToken{}, fmt.Errorf("store: get refresh token: %w", err)
	}
	return t, nil
}

// RotateRefreshToken implements [Store].
func (s *SQLite) RotateRefreshToken(ctx context.Context, hash string, issue func(RefreshToken) (Tokens, error)) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := getRefreshToken(ctx, tx, hash)
		if err != nil {
			return err
		}
		if old.Used {
			return ErrAlreadyUsed
		}
		tokens, err := issue(old)
		if err != nil {
			return err
		}
		if err := execOne(ctx, tx, `UPDATE refresh_tokens SET used = 1 WHERE hash = ? AND used = 0`, hash); err != nil {
			return err
		}
		return insertTokens(ctx, tx, tokens)
	})
	if err != nil {
		return fmt.Errorf("store: rotate refresh token: %w", err)
	}
	return nil
}

// RevokeRefreshToken implements [Store].
func (s *SQLite) RevokeRefreshToken(ctx context.Context, hash string) error {
	if err := execOne(ctx, s.db, `UPDATE refresh_tokens SET revoked = 1 WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("store: revoke refresh token: %w", err)
	}
	return nil
}

// RevokeGrant implements [Store].
func (s *SQLite) RevokeGrant(ctx context.Context, grantID string, now time.Time) ([]string, error) {
	if grantID == "" {
		return nil, errors.New("store: revoke grant: empty grant ID")
	}
	hashes, err := s.revokeTokens(ctx, "grant_id", grantID, now, nil)
	if err != nil {
		return nil, fmt.Errorf("store: revoke grant: %w", err)
	}
	return hashes, nil
}

// EndSession implements [Store].
func (s *SQLite) EndSession(ctx context.Context, id string, now time.Time) ([]string, error) {
	if id == "" {
		return nil, errors.New("store: end session: empty session ID")
	}
	hashes, err := s.revokeTokens(ctx, "session_id", id, now, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: end session: %w", err)
	}
	return hashes, nil
}

// revokeTokens revokes, in one transaction with also (if not nil), every
// access and refresh token whose column equals value. It returns the
// hashes of the access tokens that were live at now, in hash order.
// column is a constant of the caller, never input.
func (s *SQLite) revokeTokens(ctx context.Context, column, value string, now time.Time, also func(*sql.Tx) error) ([]string, error) {
	var hashes []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			UPDATE access_tokens SET revoked = 1
			WHERE `+column+` = ? AND revoked = 0
			RETURNING hash, expires_at`, value)
		if err != nil {
			return err
		}
		for rows.Next() {
			var hash string
			var expires int64
			if err := rows.Scan(&hash, &expires); err != nil {
				_ = rows.Close()
				return err
			}
			if expires > nanos(now) {
				hashes = append(hashes, hash)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked = 1 WHERE `+column+` = ?`, value); err != nil {
			return err
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(hashes)
	return hashes, nil
}

// AddSigningKey implements [Store].
func (s *SQLite) AddSigningKey(ctx context.Context, k SigningKey) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO signing_keys (id, pem, created_at) VALUES (?, ?, ?)`,
		k.ID, k.PEM, nanos(k.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: add signing key: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: add signing key: %w", err)
	}
	return nil
}

// SigningKeys implements [Store].
func (s *SQLite) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT id, pem, created_at FROM signing_keys WHERE retired_at = 0
		ORDER BY created_at DESC, rowid DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: list signing keys: %w", err)
	}
	defer rows.Close()
	var out []SigningKey
	for rows.Next() {
		var k SigningKey
		var created int64
		if err := rows.Scan(&k.ID, &k.PEM, &created); err != nil {
			return nil, fmt.Errorf("store: list signing keys: %w", err)
		}
		k.CreatedAt = fromNanos(created)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list signing keys: %w", err)
	}
	return out, nil
}

// RetireSigningKey implements [Store].
func (s *SQLite) RetireSigningKey(ctx context.Context, id string, at time.Time) error {
	err := execOne(ctx, s.db, `UPDATE signing_keys SET retired_at = ?, pem = x'' WHERE id = ? AND retired_at = 0`,
		nanos(at), id)
	if err != nil {
		return fmt.Errorf("store: retire signing key: %w", err)
	}
	return nil
}

// DeleteExpired implements [Store].
func (s *SQLite) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"sessions", "transactions", "auth_codes", "access_tokens", "refresh_tokens"} {
			res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE expires_at < ?`, nanos(now))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete expired: %w", err)
	}
	return total, nil
}

func insertTokens(ctx context.Context, e execer, t Tokens) error {
	a := t.Access
	_, err := e.ExecContext(ctx, `
		INSERT INTO access_tokens (hash, client_id, user_id, scope, audiences, grant_id, session_id,
			issued_at, expires_at, revoked)
		VALUES (?, ?, NULLIF(?, ''), ?, ?, ?, ?, ?, ?, ?)`,
		a.Hash, a.ClientID, a.UserID, a.Scope, joinList(a.Audiences), a.GrantID, a.SessionID,
		nanos(a.IssuedAt), nanos(a.ExpiresAt), a.Revoked)
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil || t.Refresh == nil {
		return err
	}
	r := t.Refresh
	_, err = e.ExecContext(ctx, `
		INSERT INTO refresh_tokens (hash, client_id, user_id, scope, audiences, grant_id, session_id,
			auth_time, issued_at, expires_at, used, revoked)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Hash, r.ClientID, r.UserID, r.Scope, joinList(r.Audiences), r.GrantID, r.SessionID, nanos(r.AuthTime),
		nanos(r.IssuedAt), nanos(r.ExpiresAt), r.Used, r.Revoked)
	if isUniqueViolation(err) {
		return ErrConflict
	}
	return err
}

func getRefreshToken(ctx context.Context, q queryer, hash string) (RefreshToken, error) {
	var t RefreshToken
	var audiences string
	var auth, issued, expires int64
	err := q.QueryRowContext(ctx, `
		SELECT hash, client_id, user_id, scope, audiences, grant_id, session_id, auth_time, issued_at,
			expires_at, used, revoked
		FROM refresh_tokens WHERE hash = ?`, hash).Scan(
		&t.Hash, &t.ClientID, &t.UserID, &t.Scope, &audiences, &t.GrantID, &t.SessionID, &auth, &issued,
		&expires, &t.Used, &t.Revoked)
	if err != nil {
		return RefreshToken{}, notFound(err)
	}
	t.Audiences = splitList(audiences)
	t.AuthTime, t.IssuedAt, t.ExpiresAt = fromNanos(auth), fromNanos(issued), fromNanos(expires)
	return t, nil
}
