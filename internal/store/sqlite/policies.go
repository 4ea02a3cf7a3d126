package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sentinel-agent/sentinel/internal/sharedpolicy"
)

var _ sharedpolicy.Store = (*Store)(nil)

// LatestPolicy implements sharedpolicy.Store.
func (s *Store) LatestPolicy(ctx context.Context) (sharedpolicy.Revision, error) {
	var r sharedpolicy.Revision
	var at string
	err := s.w.QueryRowContext(ctx, "SELECT seq, hash, created_at, created_by, source FROM policies ORDER BY seq DESC LIMIT 1").
		Scan(&r.Seq, &r.Hash, &at, &r.By, &r.Source)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return r, fmt.Errorf("sqlite: %s: %w", s.path, sharedpolicy.ErrNotFound)
	case err != nil:
		return r, fmt.Errorf("sqlite: reading the shared policy from %s: %w", s.path, err)
	}
	if r.At, err = time.Parse(timeLayout, at); err != nil {
		return r, fmt.Errorf("sqlite: shared policy %d in %s: bad time %q", r.Seq, s.path, at)
	}
	if err := r.Check(); err != nil {
		return r, fmt.Errorf("sqlite: shared policy %d in %s: %w", r.Seq, s.path, err)
	}
	return r, nil
}

// AppendPolicy implements sharedpolicy.Store.
func (s *Store) AppendPolicy(ctx context.Context, r sharedpolicy.Revision) error {
	if err := r.Check(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	// One statement: the check of the newest and the insert cannot be
	// split by another writer.
	res, err := s.w.ExecContext(ctx, `INSERT INTO policies (seq, hash, created_at, created_by, source)
		SELECT ?, ?, ?, ?, ? WHERE (SELECT COALESCE(MAX(seq), 0) FROM policies) = ?`,
		r.Seq, r.Hash, r.At.UTC().Format(timeLayout), r.By, r.Source, r.Seq-1)
	if isConstraint(err) {
		return fmt.Errorf("sqlite: shared policy %d is already in %s: %w", r.Seq, s.path, sharedpolicy.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: storing shared policy %d in %s: %w", r.Seq, s.path, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: storing shared policy %d in %s: %w", r.Seq, s.path, err)
	} else if n != 1 {
		return fmt.Errorf("sqlite: shared policy %d does not follow the newest in %s: %w", r.Seq, s.path, sharedpolicy.ErrConflict)
	}
	return nil
}
