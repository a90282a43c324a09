package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// SQLite is the [Store] on an SQLite database (modernc.org/sqlite, pure Go).
type SQLite struct {
	db *sql.DB
}

var _ Store = (*SQLite)(nil)

// filePragmas are the connection settings a file database needs: without
// busy_timeout and immediate transactions, concurrent read-then-write
// transactions fail at once with SQLITE_BUSY.
const filePragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"

// OpenSQLiteFile opens (creating if needed) the database file at path and
// runs the migrations.
func OpenSQLiteFile(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	// EscapedPath escapes '?', '#' and '%', which would otherwise end the
	// file name inside the URI.
	name := (&url.URL{Path: path}).EscapedPath()
	return OpenSQLite(ctx, "file:"+name+"?"+filePragmas)
}

// OpenSQLiteMemory opens the in-memory database called name and runs the
// migrations. The database lives as long as the store; stores opened with
// the same name in one process share it.
//
// NOTE: two stores sharing one name lock each other at table level, and a
// write may then fail with SQLITE_LOCKED; use one store per name.
func OpenSQLiteMemory(ctx context.Context, name string) (*SQLite, error) {
	if name == "" {
		return nil, errors.New("store: empty in-memory database name")
	}
	dsn := "file:" + url.PathEscape(name) + "?mode=memory&cache=shared&_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)"
	return OpenSQLite(ctx, dsn)
}

// OpenSQLite opens the database with the given modernc.org/sqlite DSN and
// runs the migrations. An in-memory DSN gets a single connection, because
// each new connection to a private in-memory database would see an empty
// one and shared-cache connections fail with SQLITE_LOCKED under
// concurrent writes.
func OpenSQLite(ctx context.Context, dsn string) (*SQLite, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	if strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory") {
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	}
	s := &SQLite{db: db}
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// migrate applies, in name order, each embedded migration that the
// schema_migrations table does not list yet, each in its own transaction.
func (s *SQLite) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("store: list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("store: migration %q has no numeric prefix", base)
		}
		script, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("store: read migration %q: %w", base, err)
		}
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx,
				`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(script)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, version)
			return err
		})
		if err != nil {
			return fmt.Errorf("store: apply migration %q: %w", base, err)
		}
	}
	return nil
}

// inTx runs fn in a transaction and commits it unless fn fails.
func (s *SQLite) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// execOne runs a statement that must change exactly one row, and returns
// ErrNotFound when it changed none.
func execOne(ctx context.Context, e execer, query string, args ...any) error {
	res, err := e.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// notFound maps sql.ErrNoRows to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
// constraint failure.
func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// nanos encodes t as Unix nanoseconds, with 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos decodes what nanos encoded, in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func joinList(list []string) string { return strings.Join(list, " ") }

func splitList(s string) []string { return strings.Fields(s) }
