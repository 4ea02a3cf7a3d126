package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/store/migrate"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune a Store.
type Options struct {
	// Sync makes every commit durable before Append returns
	// (synchronous=FULL): it survives a power cut. Without it
	// (synchronous=NORMAL) commits survive a crash of the process, but
	// the last ones may be lost if the machine goes down.
	Sync bool
	// ReadConns bounds the connections used by queries; 0 means 4.
	ReadConns int
}

// Store is an audit.Store in a SQLite file.
type Store struct {
	path string
	w    *sql.DB // one connection; its transactions are BEGIN IMMEDIATE
	r    *sql.DB // read-only pool

	inserts          [len(chunkSizes)]*sql.Stmt // on w, by chunkSizes index
	headW, moveHead  *sql.Stmt                  // on w
	headR, scan, cps *sql.Stmt                  // on r
	stmts            []*sql.Stmt                // all of them, to close

	// memStmts are the memory queries prepared once (see memStmt).
	memMu    sync.Mutex
	memStmts map[string]*sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

var _ audit.Store = (*Store)(nil)

// busyTimeout is how long a writer waits for another process's write
// lock, in milliseconds.
const busyTimeout = 10000

// Open opens (creating it if needed) the audit database at path and
// brings its schema up to date. The parent directory is created with mode
// 0700 and the file with 0600; an existing file keeps its mode.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: the database path is empty; set the audit store path")
	}
	if opts.ReadConns < 0 {
		return nil, fmt.Errorf("sqlite: ReadConns is %d; use 0 for the default or a positive number", opts.ReadConns)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: resolving %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: creating the directory of %s: %w", abs, err)
	}
	// SQLite would create the file with the umask's mode; create it first
	// so that only its owner can read the audit trail. Its -wal and -shm
	// files take the same mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", abs, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", abs, err)
	}

	syncMode := "NORMAL"
	if opts.Sync {
		syncMode = "FULL"
	}
	// Pragmas go in the DSN so that every connection the pool opens gets
	// them, not only the first. temp_store(MEMORY) keeps the statement
	// journal of the multi-row INSERTs (at most 128 records) off the disk:
	// in a temporary file it cost the writer a write call per page
	// (measured: batch appends 40–60k/s with it on disk, 59–67k/s without).
	base := "file:" + (&url.URL{Path: abs}).EscapedPath() +
		fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(%s)&_pragma=temp_store(MEMORY)", busyTimeout, syncMode)
	s := &Store{path: abs}
	if s.w, err = sql.Open("sqlite", base+"&_pragma=journal_mode(WAL)&_txlock=immediate"); err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", abs, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	// Switching a new file to WAL takes an exclusive lock without waiting
	// on the busy handler, so processes opening the same new database at
	// once can see SQLITE_BUSY here: retry within the busy timeout.
	deadline := time.Now().Add(busyTimeout * time.Millisecond)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err = s.setUp(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			break
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			err = fmt.Errorf("sqlite: opening %s: %w", abs, ctx.Err())
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		s.w.Close()
		return nil, err
	}
	if s.r, err = sql.Open("sqlite", base+"&_pragma=query_only(1)"); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", abs, err)
	}
	n := opts.ReadConns
	if n == 0 {
		n = 4
	}
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// isBusy reports SQLite's "database is locked".
func isBusy(err error) bool {
	m := err.Error()
	return strings.Contains(m, "SQLITE_BUSY") || strings.Contains(m, "database is locked")
}

// setUp checks the journal mode and applies the migrations.
func (s *Store) setUp(ctx context.Context) error {
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: opening %s: %w", s.path, err)
	}
	if mode != "wal" {
		return fmt.Errorf("sqlite: %s runs in journal mode %q, not WAL; keep the database on a local file system that supports shared memory", s.path, mode)
	}
	ms, err := migrate.Load(migrations, "migrations")
	if err != nil {
		return err
	}
	if _, err := migrate.Apply(ctx, migrate.SQL(s.w), ms, migrate.Options{TimeType: "TEXT"}); err != nil {
		return fmt.Errorf("sqlite: migrating %s: %w", s.path, err)
	}
	return nil
}

// Close releases the store. It may be called more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for _, st := range s.stmts {
			errs = append(errs, st.Close())
		}
		s.memMu.Lock()
		for _, st := range s.memStmts {
			errs = append(errs, st.Close())
		}
		s.memStmts = nil
		s.memMu.Unlock()
		errs = append(errs, s.r.Close(), s.w.Close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }
