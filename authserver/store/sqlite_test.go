package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oidcstack/oidcstack/authserver/store"
	"github.com/oidcstack/oidcstack/authserver/store/storetest"
)

func TestSQLiteMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.OpenSQLiteMemory(context.Background(), t.Name())
		require.NoError(t, err)
		return s
	})
}

func TestSQLiteFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.OpenSQLiteFile(context.Background(), filepath.Join(t.TempDir(), "authserver.db"))
		require.NoError(t, err)
		return s
	})
}

func TestSQLiteFileReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dir with space?#", "authserver.db")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))

	s, err := store.OpenSQLiteFile(ctx, path)
	require.NoError(t, err)
	created := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	_, err = s.UpsertUser(ctx, store.User{ID: "u1", Issuer: "https://idp.example", Subject: "alice", CreatedAt: created, UpdatedAt: created})
	require.NoError(t, err)
	require.NoError(t, s.AddSigningKey(ctx, store.SigningKey{ID: "k1", PEM: []byte("pem"), CreatedAt: created}))
	require.NoError(t, s.Close())

	// Reopening runs the migrations again, which must skip the applied ones.
	s, err = store.OpenSQLiteFile(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	u, err := s.GetUser(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, "alice", u.Subject)
	keys, err := s.SigningKeys(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Equal(t, []byte("pem"), keys[0].PEM)
}

func TestSQLiteMemoryIsolation(t *testing.T) {
	ctx := context.Background()
	a, err := store.OpenSQLiteMemory(ctx, t.Name()+"-a")
	require.NoError(t, err)
	defer a.Close()
	b, err := store.OpenSQLiteMemory(ctx, t.Name()+"-b")
	require.NoError(t, err)
	defer b.Close()

	require.NoError(t, a.AddSigningKey(ctx, store.SigningKey{ID: "k1", PEM: []byte("pem"), CreatedAt: time.Now()}))
	keys, err := b.SigningKeys(ctx)
	require.NoError(t, err)
	assert.Empty(t, keys, "databases with different names are separate")
}

func TestOpenSQLiteRejectsEmptyNames(t *testing.T) {
	_, err := store.OpenSQLiteFile(context.Background(), "")
	assert.Error(t, err)
	_, err = store.OpenSQLiteMemory(context.Background(), "")
	assert.Error(t, err)
}
