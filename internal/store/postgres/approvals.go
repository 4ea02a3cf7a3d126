package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sentinel-agent/sentinel/internal/approval"
)

var _ approval.Store = (*Store)(nil)

const approvalColumns = "id, status, call_hash, session, created_at, expires_at, version, body"

// maxBody bounds the JSON of a stored approval or grant that the store
// reads back; approval.Check keeps real ones far below it.
const maxBody = 1 << 20

// isUniqueViolation reports PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// CreateApproval implements approval.Store.
func (s *Store) CreateApproval(ctx context.Context, a approval.Approval) error {
	if err := a.Check(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if a.Version != 1 || a.Status != approval.Pending {
		return fmt.Errorf("postgres: approval %s: %w: a new approval is pending at version 1, not %s at %d", a.ID, approval.ErrInvalid, a.Status, a.Version)
	}
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("postgres: encoding approval %s: %w", a.ID, err)
	}
	err = s.withConn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "INSERT INTO approvals ("+approvalColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			a.ID, string(a.Status), a.CallHash, a.Session, a.CreatedAt, a.ExpiresAt, a.Version, body)
		return err
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: approval %s or a pending approval for call %.16s… is already in schema %s: %w", a.ID, a.CallHash, s.schema, approval.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: storing approval %s in schema %s: %w", a.ID, s.schema, err)
	}
	return nil
}

// GetApproval implements approval.Store.
func (s *Store) GetApproval(ctx context.Context, id string) (approval.Approval, error) {
	if !approval.ValidID(id) {
		return approval.Approval{}, fmt.Errorf("postgres: approval %.40q: %w", id, approval.ErrNotFound)
	}
	as, err := s.approvals(ctx, "SELECT "+approvalColumns+" FROM approvals WHERE id = $1", id)
	if err != nil {
		return approval.Approval{}, fmt.Errorf("postgres: reading approval %s from schema %s: %w", id, s.schema, err)
	}
	if len(as) == 0 {
		return approval.Approval{}, fmt.Errorf("postgres: approval %s in schema %s: %w", id, s.schema, approval.ErrNotFound)
	}
	return as[0], nil
}

// FindPending implements approval.Store.
func (s *Store) FindPending(ctx context.Context, callHash string) (approval.Approval, bool, error) {
	if !approval.ValidCallHash(callHash) {
		return approval.Approval{}, false, nil
	}
	as, err := s.approvals(ctx, "SELECT "+approvalColumns+" FROM approvals WHERE call_hash = $1 AND status = 'pending' ORDER BY created_at DESC, id DESC LIMIT 1", callHash)
	if err != nil {
		return approval.Approval{}, false, fmt.Errorf("postgres: looking up the pending approval for call %.16s… in schema %s: %w", callHash, s.schema, err)
	}
	if len(as) == 0 {
		return approval.Approval{}, false, nil
	}
	return as[0], true, nil
}

// ListApprovals implements approval.Store.
func (s *Store) ListApprovals(ctx context.Context, f approval.ListFilter) ([]approval.Approval, error) {
	f, err := f.Normalize()
	if err != nil {
		return nil, fmt.Errorf("postgres: listing approvals: %w", err)
	}
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, cond+" $"+strconv.Itoa(len(args)))
	}
	if f.Status != "" {
		add("status =", string(f.Status))
	}
	if f.Session != "" {
		add("session =", f.Session)
	}
	if !f.ExpiredBy.IsZero() {
		add("expires_at <=", f.ExpiredBy)
	}
	q := "SELECT " + approvalColumns + " FROM approvals"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	args = append(args, f.Limit)
	q += " ORDER BY created_at DESC, id DESC LIMIT $" + strconv.Itoa(len(args))
	as, err := s.approvals(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing approvals in schema %s: %w", s.schema, err)
	}
	return as, nil
}

// CountPending implements approval.Store.
func (s *Store) CountPending(ctx context.Context) (int, error) {
	var n int
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT COUNT(*) FROM approvals WHERE status = 'pending'").Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: counting pending approvals in schema %s: %w", s.schema, err)
	}
	return n, nil
}

// UpdateApproval implements approval.Store.
func (s *Store) UpdateApproval(ctx context.Context, a approval.Approval) error {
	if err := a.Check(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if a.Version < 2 {
		return fmt.Errorf("postgres: approval %s: %w: an update carries version 2 or later, not %d", a.ID, approval.ErrInvalid, a.Version)
	}
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("postgres: encoding approval %s: %w", a.ID, err)
	}
	var (
		updated          bool
		version          int64
		hash, session    string
		created, expires time.Time
	)
	err = s.withConn(ctx, func(c *pgx.Conn) error {
		// The columns that never change are not written but matched, so
		// that an update cannot move an approval to another call or
		// lifetime. Both sides of those comparisons travel through the
		// same microsecond encoding.
		tag, err := c.Exec(ctx, `UPDATE approvals SET status = $1, version = $2, body = $3
			WHERE id = $4 AND version = $5 AND call_hash = $6 AND session = $7 AND created_at = $8 AND expires_at = $9`,
			string(a.Status), a.Version, body, a.ID, a.Version-1, a.CallHash, a.Session, a.CreatedAt, a.ExpiresAt)
		if err != nil || tag.RowsAffected() == 1 {
			updated = err == nil
			return err
		}
		return c.QueryRow(ctx, "SELECT version, call_hash, session, created_at, expires_at FROM approvals WHERE id = $1", a.ID).
			Scan(&version, &hash, &session, &created, &expires)
	})
	switch {
	case updated:
		return nil
	case isUniqueViolation(err):
		return fmt.Errorf("postgres: approval %s: another approval is pending for call %.16s… in schema %s: %w", a.ID, a.CallHash, s.schema, approval.ErrConflict)
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: updating approval %s in schema %s: %w", a.ID, s.schema, approval.ErrNotFound)
	case err != nil:
		return fmt.Errorf("postgres: updating approval %s in schema %s: %w", a.ID, s.schema, err)
	case hash != a.CallHash || session != a.Session || !created.Equal(a.CreatedAt.Truncate(time.Microsecond)) || !expires.Equal(a.ExpiresAt.Truncate(time.Microsecond)):
		return fmt.Errorf("postgres: approval %s: %w: an update may not change its call, session, creation or expiry", a.ID, approval.ErrInvalid)
	}
	return fmt.Errorf("postgres: approval %s is at version %d in schema %s, the update expected %d: %w", a.ID, version, s.schema, a.Version-1, approval.ErrConflict)
}

// approvals runs a query selecting approvalColumns.
func (s *Store) approvals(ctx context.Context, q string, args ...any) ([]approval.Approval, error) {
	var out []approval.Approval
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, status, hash, session string
			var created, expires time.Time
			var version int64
			var body []byte
			if err := rows.Scan(&id, &status, &hash, &session, &created, &expires, &version, &body); err != nil {
				return err
			}
			a, err := decodeApproval(body)
			if err != nil {
				return fmt.Errorf("approval %.40q: %w", id, err)
			}
			if a.ID != id || string(a.Status) != status || a.CallHash != hash || a.Session != session || a.Version != version {
				return fmt.Errorf("approval %.40q: its row and its body disagree (id, status, call, session or version); the table was changed outside Sentinel", id)
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, err
}

// decodeApproval reads and checks a stored body.
func decodeApproval(body []byte) (approval.Approval, error) {
	var a approval.Approval
	if len(body) > maxBody {
		return a, fmt.Errorf("the stored body is %d bytes, more than an approval can be", len(body))
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return a, fmt.Errorf("decoding the stored body: %w", err)
	}
	if err := a.Check(); err != nil {
		return a, fmt.Errorf("the stored approval is not valid: %w", err)
	}
	return a, nil
}

// CreateGrant implements approval.Store. It also drops the expired grants
// of the same session, tool and shape, which nothing reads any more.
func (s *Store) CreateGrant(ctx context.Context, g approval.Grant) error {
	if err := g.Check(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	body, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("postgres: encoding grant %s: %w", g.ID, err)
	}
	err = s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM grants WHERE session = $1 AND tool = $2 AND shape = $3 AND expires_at <= $4",
			g.Session, g.Tool, g.Shape, g.CreatedAt); err != nil {
			return fmt.Errorf("dropping expired grants: %w", err)
		}
		_, err := tx.Exec(ctx, "INSERT INTO grants (id, session, tool, shape, approval_id, created_at, expires_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			g.ID, g.Session, g.Tool, g.Shape, g.ApprovalID, g.CreatedAt, g.ExpiresAt, body)
		return err
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: grant %s is already in schema %s: %w", g.ID, s.schema, approval.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: storing grant %s in schema %s: %w", g.ID, s.schema, err)
	}
	return nil
}

// FindGrant implements approval.Store.
func (s *Store) FindGrant(ctx context.Context, session, tool, shape string, now time.Time) (approval.Grant, bool, error) {
	var id string
	var body []byte
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT id, body FROM grants WHERE session = $1 AND tool = $2 AND shape = $3 AND expires_at > $4 ORDER BY expires_at DESC LIMIT 1",
			session, tool, shape, now).Scan(&id, &body)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return approval.Grant{}, false, nil
	}
	if err != nil {
		return approval.Grant{}, false, fmt.Errorf("postgres: looking up grants in schema %s: %w", s.schema, err)
	}
	var g approval.Grant
	if len(body) > maxBody {
		return approval.Grant{}, false, fmt.Errorf("postgres: grant %.40q in schema %s: the stored body is %d bytes, more than a grant can be", id, s.schema, len(body))
	}
	if err := json.Unmarshal(body, &g); err != nil {
		return approval.Grant{}, false, fmt.Errorf("postgres: grant %.40q in schema %s: decoding the stored body: %w", id, s.schema, err)
	}
	if err := g.Check(); err != nil {
		return approval.Grant{}, false, fmt.Errorf("postgres: grant %.40q in schema %s: the stored grant is not valid: %w", id, s.schema, err)
	}
	if g.ID != id || g.Session != session || g.Tool != tool || g.Shape != shape {
		return approval.Grant{}, false, fmt.Errorf("postgres: grant %.40q in schema %s: its row and its body disagree; the table was changed outside Sentinel", id, s.schema)
	}
	// The column keeps microseconds; the body the exact expiry.
	if !now.Before(g.ExpiresAt) {
		return approval.Grant{}, false, nil
	}
	return g, true, nil
}
