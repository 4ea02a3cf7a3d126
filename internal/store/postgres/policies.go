package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sentinel-agent/sentinel/internal/sharedpolicy"
)

var _ sharedpolicy.Store = (*Store)(nil)

// LatestPolicy implements sharedpolicy.Store.
func (s *Store) LatestPolicy(ctx context.Context) (sharedpolicy.Revision, error) {
	var r sharedpolicy.Revision
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT seq, hash, created_at, created_by, source FROM policies ORDER BY seq DESC LIMIT 1").
			Scan(&r.Seq, &r.Hash, &r.At, &r.By, &r.Source)
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return r, fmt.Errorf("postgres: schema %s: %w", s.schema, sharedpolicy.ErrNotFound)
	case err != nil:
		return r, fmt.Errorf("postgres: reading the shared policy from schema %s: %w", s.schema, err)
	}
	r.At = r.At.UTC()
	if err := r.Check(); err != nil {
		return r, fmt.Errorf("postgres: shared policy %d in schema %s: %w", r.Seq, s.schema, err)
	}
	return r, nil
}

// AppendPolicy implements sharedpolicy.Store.
func (s *Store) AppendPolicy(ctx context.Context, r sharedpolicy.Revision) error {
	if err := r.Check(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	var n int64
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		// Two writers that both read the same newest insert the same seq:
		// the primary key refuses the second.
		tag, err := c.Exec(ctx, `INSERT INTO policies (seq, hash, created_at, created_by, source)
			SELECT $1, $2, $3, $4, $5 WHERE (SELECT COALESCE(MAX(seq), 0) FROM policies) = $6`,
			r.Seq, r.Hash, r.At, r.By, r.Source, r.Seq-1)
		n = tag.RowsAffected()
		return err
	})
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("postgres: shared policy %d is already in schema %s: %w", r.Seq, s.schema, sharedpolicy.ErrConflict)
	case err != nil:
		return fmt.Errorf("postgres: storing shared policy %d in schema %s: %w", r.Seq, s.schema, err)
	case n != 1:
		return fmt.Errorf("postgres: shared policy %d does not follow the newest in schema %s: %w", r.Seq, s.schema, sharedpolicy.ErrConflict)
	}
	return nil
}
