package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/store/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options tune a Store.
type Options struct {
	// Schema holds the store's tables; it is created if missing. Empty
	// means "sentinel". It must be a lower-case SQL identifier.
	Schema string
	// MaxConns bounds the store's connections; 0 means 4. It takes the
	// place of pool_max_conns in the connection string; the string's
	// other pool_ settings (pool_max_conn_lifetime,
	// pool_max_conn_idle_time, pool_health_check_period, …) apply as
	// pgxpool documents them.
	MaxConns int
}

// maxConns is PostgreSQL's own ceiling on max_connections.
const maxConns = 262143

// Store is an audit.Store in a PostgreSQL schema.
type Store struct {
	schema string
	pool   *pgxpool.Pool
	closed atomic.Bool
}

var _ audit.Store = (*Store)(nil)

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

var errClosed = errors.New("the store is closed; open it again")

// Open connects to the database dsn names (a postgres:// URL or key=value
// string, as libpq takes) and brings the schema up to date.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg, err := poolConfig(dsn, opts)
	if err != nil {
		return nil, err
	}
	return open(ctx, cfg, opts.Schema)
}

// withDefaults checks o and fills in what it leaves out.
func (o Options) withDefaults() (Options, error) {
	if o.Schema == "" {
		o.Schema = "sentinel"
	}
	if !schemaName.MatchString(o.Schema) {
		return o, fmt.Errorf("postgres: schema %q is not a lower-case identifier; use letters a-z, digits and _, at most 63, not starting with a digit", o.Schema)
	}
	if o.MaxConns < 0 || o.MaxConns > maxConns {
		return o, fmt.Errorf("postgres: MaxConns is %d; use 0 for the default or a number from 1 to %d", o.MaxConns, maxConns)
	}
	if o.MaxConns == 0 {
		o.MaxConns = 4
	}
	return o, nil
}

// poolConfig parses dsn and points every connection at the store's
// schema.
func poolConfig(dsn string, opts Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, connStringError(err)
	}
	cfg.MaxConns = int32(opts.MaxConns)
	cfg.MinConns = min(cfg.MinConns, cfg.MaxConns)
	// Every table name then resolves in the store's schema.
	cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "sentinel"
	}
	return cfg, nil
}

// connStringError describes a connection string that does not parse
// without quoting it. pgx masks the passwords it recognises, but a
// malformed string can hide one where the masking does not look (a
// "password secret" missing its "="), so only pgx's reason is kept, and
// the cause is not wrapped.
func connStringError(err error) error {
	const advice = "; write a postgres:// URL or key=value pairs, as libpq takes"
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return errors.New("postgres: the connection string is not valid" + advice)
	}
	// The text is "cannot parse `<masked string>`: <reason>"; cutting at
	// the last "`: " drops the whole string even if it holds one itself.
	msg := pe.Error()
	i := strings.LastIndex(msg, "`: ")
	if i < 0 {
		return errors.New("postgres: the connection string is not valid" + advice)
	}
	return errors.New("postgres: the connection string is not valid: " + msg[i+len("`: "):] + advice)
}

// open starts a pool on cfg and sets the schema up.
func open(ctx context.Context, cfg *pgxpool.Config, schema string) (*Store, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: starting the connection pool: %w", err)
	}
	s := &Store{schema: schema, pool: pool}
	if err := s.setUp(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// setUp creates the schema and applies the migrations, under an advisory
// lock so that replicas starting together do not race.
func (s *Store) setUp(ctx context.Context) error {
	db := &migrator{s: s}
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connecting: %w", err)
	}
	if err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{s.schema}.Sanitize()); err != nil {
		_ = tx.Rollback(ctx)
		return fmt.Errorf("postgres: creating schema %s: %w", s.schema, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: creating schema %s: %w", s.schema, err)
	}
	ms, err := migrate.Load(migrations, "migrations")
	if err != nil {
		return err
	}
	if _, err := migrate.Apply(ctx, db, ms, migrate.Options{TimeType: "TIMESTAMPTZ"}); err != nil {
		return fmt.Errorf("postgres: migrating schema %s: %w", s.schema, err)
	}
	return nil
}

// migrator adapts the store's pool to migrate.DB.
type migrator struct{ s *Store }

func (m *migrator) Begin(ctx context.Context) (migrate.Tx, error) {
	tx, err := m.s.begin(ctx, pgx.TxOptions{})
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "sentinel.migrate."+m.s.schema); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, err
	}
	return migratorTx{tx}, nil
}

// migratorTx is a transaction on one pooled connection; Commit and
// Rollback give the connection back.
type migratorTx struct{ tx pgx.Tx }

func (t migratorTx) Exec(ctx context.Context, sql string) error {
	_, err := t.tx.Exec(ctx, sql)
	return err
}

func (t migratorTx) QueryInt(ctx context.Context, sql string) (int64, error) {
	var n int64
	err := t.tx.QueryRow(ctx, sql).Scan(&n)
	return n, err
}

func (t migratorTx) Commit(ctx context.Context) error { return t.tx.Commit(ctx) }

func (t migratorTx) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }

// acquire takes a connection from the pool, waiting while ctx allows.
func (s *Store) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil && s.closed.Load() {
		return nil, errClosed
	}
	return c, err
}

// begin starts a transaction on a pooled connection, which goes back to
// the pool when the transaction ends (closed, not reused, if it ends
// badly).
func (s *Store) begin(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	if s.closed.Load() {
		return nil, errClosed
	}
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil && s.closed.Load() {
		return nil, errClosed
	}
	return tx, err
}

// inTx runs fn in a transaction on a pooled connection and commits when
// it returns nil.
func (s *Store) inTx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	tx, err := s.begin(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	return tx.Commit(ctx)
}

// withConn runs fn on a pooled connection.
func (s *Store) withConn(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return fn(c.Conn())
}

// Close releases the store, waiting for calls in progress to give their
// connections back. It may be called more than once.
func (s *Store) Close() error {
	if !s.closed.Swap(true) {
		s.pool.Close()
	}
	return nil
}

// Schema returns the schema holding the store's tables.
func (s *Store) Schema() string { return s.schema }
