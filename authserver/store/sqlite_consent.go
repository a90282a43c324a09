package store

import (
	"context"
	"fmt"
)

// GetConsent implements [Store].
func (s *SQLite) GetConsent(ctx context.Context, userID, clientID string) (Consent, error) {
	c := Consent{UserID: userID, ClientID: clientID}
	var granted int64
	err := s.db.QueryRowContext(ctx, `SELECT scope, granted_at FROM consents WHERE user_id = ? AND client_id = ?`,
		userID, clientID).Scan(&c.Scope, &granted)
	if err != nil {
		return Consent{}, fmt.Errorf("store: get consent: %w", notFound(err))
	}
	c.GrantedAt = fromNanos(granted)
	return c, nil
}

// SaveConsent implements [Store].
func (s *SQLite) SaveConsent(ctx context.Context, c Consent) error {
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id, client_id) DO UPDATE SET
			scope = excluded.scope, granted_at = excluded.granted_at`,
		c.UserID, c.ClientID, c.Scope, nanos(c.GrantedAt))
	if err != nil {
		return fmt.Errorf("store: save consent: %w", err)
	}
	return nil
}
