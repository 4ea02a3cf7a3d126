package migrate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// Migration is one numbered schema step.
type Migration struct {
	Version int
	Name    string // the file it came from
	SQL     string
}

// DB is a database Apply can migrate. Each store adapts its driver to it.
type DB interface {
	// Begin starts a transaction that excludes every other migrator of
	// the same database until it ends (BEGIN IMMEDIATE in SQLite, an
	// advisory transaction lock in PostgreSQL).
	Begin(ctx context.Context) (Tx, error)
}

// Tx is one migration transaction.
type Tx interface {
	// Exec runs SQL without arguments; it may hold several statements.
	Exec(ctx context.Context, sql string) error
	// QueryInt runs a query returning one integer.
	QueryInt(ctx context.Context, sql string) (int64, error)
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// Options says how to record applied migrations.
type Options struct {
	// TimeType is the SQL type of schema_migrations.applied_at: "TEXT"
	// in SQLite, "TIMESTAMPTZ" in PostgreSQL.
	TimeType string
	// Now stamps applied_at; nil means time.Now.
	Now func() time.Time
}

// ErrTooNew is returned (wrapped) when the database's schema is newer than
// the migrations the binary carries.
var ErrTooNew = errors.New("migrate: the database schema is newer than this Sentinel")

// maxFiles bounds how many migration files Load accepts.
const maxFiles = 10000

// Load reads the migrations in dir of fsys: files named
// NNNN_description.sql, numbered 1, 2, 3, … without gaps. Other files are
// an error, so that a misnamed migration is never silently skipped.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: reading migrations in %q: %w", dir, err)
	}
	if len(entries) > maxFiles {
		return nil, fmt.Errorf("migrate: %q holds %d files; at most %d migrations are supported", dir, len(entries), maxFiles)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if e.IsDir() || !ok || err != nil || v < 1 || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migrate: %q in %q is not a migration; name migrations NNNN_description.sql with NNNN ≥ 1", name, dir)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("migrate: reading %q: %w", name, err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return nil, fmt.Errorf("migrate: %q is empty; a migration must change something", name)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	// fs.ReadDir sorts by name; with equal-width numbers that is version
	// order, and the check below catches anything else.
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrate: %q has version %d where version %d was expected; number migrations 1, 2, 3, … without gaps or repeats, zero-padded to one width", m.Name, m.Version, i+1)
		}
	}
	return ms, nil
}

// Apply brings db up to the last of ms, one transaction per migration,
// and returns how many it applied. It is safe to run from several
// processes at once: each step re-reads the version under the lock.
func Apply(ctx context.Context, db DB, ms []Migration, opts Options) (int, error) {
	if !isTypeName(opts.TimeType) {
		return 0, fmt.Errorf("migrate: Options.TimeType %q is not an SQL type name; use TEXT or TIMESTAMPTZ", opts.TimeType)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	for i, m := range ms {
		if m.Version != i+1 {
			return 0, fmt.Errorf("migrate: migration %q has version %d at position %d; pass the list Load returns", m.Name, m.Version, i+1)
		}
	}
	applied := 0
	for {
		done, err := step(ctx, db, ms, opts.TimeType, now)
		if err != nil || done {
			return applied, err
		}
		applied++
	}
}

// step applies the next migration, or reports that there is none.
func step(ctx context.Context, db DB, ms []Migration, timeType string, now func() time.Time) (done bool, err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate: starting a transaction: %w", err)
	}
	defer func() {
		if err != nil || done {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at "+timeType+" NOT NULL)"); err != nil {
		return false, fmt.Errorf("migrate: creating schema_migrations: %w", err)
	}
	v, err := tx.QueryInt(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
	if err != nil {
		return false, fmt.Errorf("migrate: reading the schema version: %w", err)
	}
	if v > int64(len(ms)) {
		return false, fmt.Errorf("%w: the database is at version %d, this binary knows versions up to %d; run a newer Sentinel or point it at another database", ErrTooNew, v, len(ms))
	}
	if v == int64(len(ms)) {
		return true, nil
	}
	m := ms[v]
	if err := tx.Exec(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migrate: applying %s: %w", m.Name, err)
	}
	stamp := now().UTC().Format("2006-01-02T15:04:05.000000000Z")
	if err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO schema_migrations (version, applied_at) VALUES (%d, '%s')", m.Version, stamp)); err != nil {
		return false, fmt.Errorf("migrate: recording %s: %w", m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("migrate: committing %s: %w", m.Name, err)
	}
	return false, nil
}

// isTypeName reports whether s is a plain SQL type name, safe to splice
// into DDL.
func isTypeName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == ' ') {
			return false
		}
	}
	return true
}
