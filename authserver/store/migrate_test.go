package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMigrationsKeepRecords opens a database written by the first schema
// version and checks that the later migrations keep its records.
func TestMigrationsKeepRecords(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "authserver.db")
	created := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

	db, err := sql.Open("sqlite", "file:"+path+"?"+filePragmas)
	require.NoError(t, err)
	initial, err := migrations.ReadFile("migrations/0001_init.sql")
	require.NoError(t, err)
	for _, stmt := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)`,
		string(initial),
		`INSERT INTO schema_migrations (version) VALUES (1)`,
		`INSERT INTO users (id, issuer, subject, created_at, updated_at) VALUES ('u1', 'https://idp.example', 'alice', 1, 1)`,
		`INSERT INTO access_tokens (hash, client_id, user_id, scope, audiences, grant_id, issued_at, expires_at)
			VALUES ('at1', 'web', 'u1', 'openid', 'api', 'g1', 1, 2)`,
	} {
		_, err := db.ExecContext(ctx, stmt)
		require.NoError(t, err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO signing_keys (id, pem, created_at) VALUES ('k1', 'pem', ?)`, nanos(created))
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := OpenSQLiteFile(ctx, path)
	require.NoError(t, err)
	defer s.Close()

	at, err := s.GetAccessToken(ctx, "at1")
	require.NoError(t, err)
	assert.Equal(t, "u1", at.UserID)
	assert.Equal(t, []string{"api"}, at.Audiences)
	assert.Empty(t, at.SessionID, "a token from before the session column belongs to no session")
	keys, err := s.SigningKeys(ctx)
	require.NoError(t, err)
	assert.Equal(t, []SigningKey{{ID: "k1", PEM: []byte("pem"), CreatedAt: created}}, keys, "an existing key is not retired")

	// The rebuilt table still cascades the deletion of a user.
	_, err = s.db.ExecContext(ctx, `DELETE FROM users WHERE id = 'u1'`)
	require.NoError(t, err)
	_, err = s.GetAccessToken(ctx, "at1")
	assert.ErrorIs(t, err, ErrNotFound)
}
