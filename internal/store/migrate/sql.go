package migrate

import (
	"context"
	"database/sql"
)

// SQL adapts a database/sql handle to DB. Its transactions lock the
// database the way the driver's BeginTx does; for SQLite open the handle
// with _txlock=immediate so that migrators exclude each other.
func SQL(db *sql.DB) DB { return sqlDB{db} }

type sqlDB struct{ db *sql.DB }

func (d sqlDB) Begin(ctx context.Context) (Tx, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return sqlTx{tx}, nil
}

type sqlTx struct{ tx *sql.Tx }

func (t sqlTx) Exec(ctx context.Context, query string) error {
	_, err := t.tx.ExecContext(ctx, query)
	return err
}

func (t sqlTx) QueryInt(ctx context.Context, query string) (int64, error) {
	var n int64
	err := t.tx.QueryRowContext(ctx, query).Scan(&n)
	return n, err
}

func (t sqlTx) Commit(context.Context) error   { return t.tx.Commit() }
func (t sqlTx) Rollback(context.Context) error { return t.tx.Rollback() }
