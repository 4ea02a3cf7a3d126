package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/approval"
	msqlite "modernc.org/sqlite"
)

var _ approval.Store = (*Store)(nil)

// Approvals change at the pace of people, so their statements are not
// prepared ahead: preparing one costs microseconds.

const approvalColumns = "id, status, call_hash, session, created_at, expires_at, version, body"

// maxBody bounds the JSON of a stored approval or grant that the store
// reads back; approval.Check keeps real ones far below it.
const maxBody = 1 << 20

// CreateApproval implements approval.Store.
func (s *Store) CreateApproval(ctx context.Context, a approval.Approval) error {
	if err := createCheck(a); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("sqlite: encoding approval %s: %w", a.ID, err)
	}
	_, err = s.w.ExecContext(ctx, "INSERT INTO approvals ("+approvalColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		a.ID, string(a.Status), a.CallHash, a.Session, a.CreatedAt.UTC().Format(timeLayout), a.ExpiresAt.UTC().Format(timeLayout),
		a.Version, body)
	if isConstraint(err) {
		return fmt.Errorf("sqlite: approval %s or a pending approval for call %.16s… is already in %s: %w", a.ID, a.CallHash, s.path, approval.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: storing approval %s in %s: %w", a.ID, s.path, err)
	}
	return nil
}

// createCheck is what a new approval must be.
func createCheck(a approval.Approval) error {
	if err := a.Check(); err != nil {
		return err
	}
	if a.Version != 1 || a.Status != approval.Pending {
		return fmt.Errorf("approval %s: %w: a new approval is pending at version 1, not %s at %d", a.ID, approval.ErrInvalid, a.Status, a.Version)
	}
	return nil
}

// isConstraint reports a violated UNIQUE or PRIMARY KEY constraint.
func isConstraint(err error) bool {
	var se *msqlite.Error
	// SQLITE_CONSTRAINT is 19; extended codes keep it in the low byte.
	return errors.As(err, &se) && se.Code()&0xff == 19
}

// GetApproval implements approval.Store.
func (s *Store) GetApproval(ctx context.Context, id string) (approval.Approval, error) {
	if !approval.ValidID(id) {
		return approval.Approval{}, fmt.Errorf("sqlite: approval %.40q: %w", id, approval.ErrNotFound)
	}
	as, err := s.approvals(ctx, "SELECT "+approvalColumns+" FROM approvals WHERE id = ?", id)
	if err != nil {
		return approval.Approval{}, fmt.Errorf("sqlite: reading approval %s from %s: %w", id, s.path, err)
	}
	if len(as) == 0 {
		return approval.Approval{}, fmt.Errorf("sqlite: approval %s in %s: %w", id, s.path, approval.ErrNotFound)
	}
	return as[0], nil
}

// FindPending implements approval.Store.
func (s *Store) FindPending(ctx context.Context, callHash string) (approval.Approval, bool, error) {
	if !approval.ValidCallHash(callHash) {
		return approval.Approval{}, false, nil
	}
	as, err := s.approvals(ctx, "SELECT "+approvalColumns+" FROM approvals WHERE call_hash = ? AND status = 'pending' ORDER BY created_at DESC, id DESC LIMIT 1", callHash)
	if err != nil {
		return approval.Approval{}, false, fmt.Errorf("sqlite: looking up the pending approval for call %.16s… in %s: %w", callHash, s.path, err)
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
		return nil, fmt.Errorf("sqlite: listing approvals: %w", err)
	}
	var conds []string
	var args []any
	if f.Status != "" {
		conds, args = append(conds, "status = ?"), append(args, string(f.Status))
	}
	if f.Session != "" {
		conds, args = append(conds, "session = ?"), append(args, f.Session)
	}
	if !f.ExpiredBy.IsZero() {
		conds, args = append(conds, "expires_at <= ?"), append(args, timeBound(f.ExpiredBy))
	}
	q := "SELECT " + approvalColumns + " FROM approvals"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	as, err := s.approvals(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing approvals in %s: %w", s.path, err)
	}
	return as, nil
}

// CountPending implements approval.Store.
func (s *Store) CountPending(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM approvals WHERE status = 'pending'").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: counting pending approvals in %s: %w", s.path, err)
	}
	return n, nil
}

// UpdateApproval implements approval.Store.
func (s *Store) UpdateApproval(ctx context.Context, a approval.Approval) error {
	if err := a.Check(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if a.Version < 2 {
		return fmt.Errorf("sqlite: approval %s: %w: an update carries version 2 or later, not %d", a.ID, approval.ErrInvalid, a.Version)
	}
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("sqlite: encoding approval %s: %w", a.ID, err)
	}
	// The columns that never change are not written but matched, so that
	// an update cannot move an approval to another call or lifetime.
	created, expires := a.CreatedAt.UTC().Format(timeLayout), a.ExpiresAt.UTC().Format(timeLayout)
	res, err := s.w.ExecContext(ctx, `UPDATE approvals SET status = ?, version = ?, body = ?
		WHERE id = ? AND version = ? AND call_hash = ? AND session = ? AND created_at = ? AND expires_at = ?`,
		string(a.Status), a.Version, body, a.ID, a.Version-1, a.CallHash, a.Session, created, expires)
	if isConstraint(err) {
		return fmt.Errorf("sqlite: approval %s: another approval is pending for call %.16s… in %s: %w", a.ID, a.CallHash, s.path, approval.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: updating approval %s in %s: %w", a.ID, s.path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: updating approval %s in %s: %w", a.ID, s.path, err)
	}
	if n == 1 {
		return nil
	}
	var version int64
	var hash, session, created0, expires0 string
	err = s.w.QueryRowContext(ctx, "SELECT version, call_hash, session, created_at, expires_at FROM approvals WHERE id = ?", a.ID).
		Scan(&version, &hash, &session, &created0, &expires0)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: updating approval %s in %s: %w", a.ID, s.path, approval.ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlite: updating approval %s in %s: %w", a.ID, s.path, err)
	case hash != a.CallHash || session != a.Session || created0 != created || expires0 != expires:
		return fmt.Errorf("sqlite: approval %s: %w: an update may not change its call, session, creation or expiry", a.ID, approval.ErrInvalid)
	}
	return fmt.Errorf("sqlite: approval %s is at version %d in %s, the update expected %d: %w", a.ID, version, s.path, a.Version-1, approval.ErrConflict)
}

// approvals runs a query selecting approvalColumns on the read pool.
func (s *Store) approvals(ctx context.Context, q string, args ...any) ([]approval.Approval, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []approval.Approval
	for rows.Next() {
		var id, status, hash, session, created, expires string
		var version int64
		var body []byte
		if err := rows.Scan(&id, &status, &hash, &session, &created, &expires, &version, &body); err != nil {
			return nil, err
		}
		a, err := decodeApproval(body)
		if err != nil {
			return nil, fmt.Errorf("approval %.40q: %w", id, err)
		}
		if a.ID != id || string(a.Status) != status || a.CallHash != hash || a.Session != session || a.Version != version {
			return nil, fmt.Errorf("approval %.40q: its row and its body disagree (id, status, call, session or version); the table was changed outside Sentinel", id)
		}
		out = append(out, a)
	}
	return out, rows.Err()
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
		return fmt.Errorf("sqlite: %w", err)
	}
	body, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("sqlite: encoding grant %s: %w", g.ID, err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: locking %s to store grant %s: %w", s.path, g.ID, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM grants WHERE session = ? AND tool = ? AND shape = ? AND expires_at <= ?",
		g.Session, g.Tool, g.Shape, g.CreatedAt.UTC().Format(timeLayout)); err != nil {
		return fmt.Errorf("sqlite: dropping expired grants from %s: %w", s.path, err)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO grants (id, session, tool, shape, approval_id, created_at, expires_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		g.ID, g.Session, g.Tool, g.Shape, g.ApprovalID, g.CreatedAt.UTC().Format(timeLayout), g.ExpiresAt.UTC().Format(timeLayout), body)
	if isConstraint(err) {
		return fmt.Errorf("sqlite: grant %s is already in %s: %w", g.ID, s.path, approval.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: storing grant %s in %s: %w", g.ID, s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: committing grant %s to %s: %w", g.ID, s.path, err)
	}
	return nil
}

// FindGrant implements approval.Store.
func (s *Store) FindGrant(ctx context.Context, session, tool, shape string, now time.Time) (approval.Grant, bool, error) {
	var id string
	var body []byte
	err := s.r.QueryRowContext(ctx, "SELECT id, body FROM grants WHERE session = ? AND tool = ? AND shape = ? AND expires_at > ? ORDER BY expires_at DESC LIMIT 1",
		session, tool, shape, timeBound(now)).Scan(&id, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return approval.Grant{}, false, nil
	}
	if err != nil {
		return approval.Grant{}, false, fmt.Errorf("sqlite: looking up grants in %s: %w", s.path, err)
	}
	g, err := decodeGrant(body)
	if err != nil {
		return approval.Grant{}, false, fmt.Errorf("sqlite: grant %.40q in %s: %w", id, s.path, err)
	}
	if g.ID != id || g.Session != session || g.Tool != tool || g.Shape != shape {
		return approval.Grant{}, false, fmt.Errorf("sqlite: grant %.40q in %s: its row and its body disagree; the table was changed outside Sentinel", id, s.path)
	}
	if !now.Before(g.ExpiresAt) {
		return approval.Grant{}, false, nil
	}
	return g, true, nil
}

func decodeGrant(body []byte) (approval.Grant, error) {
	var g approval.Grant
	if len(body) > maxBody {
		return g, fmt.Errorf("the stored body is %d bytes, more than a grant can be", len(body))
	}
	if err := json.Unmarshal(body, &g); err != nil {
		return g, fmt.Errorf("decoding the stored body: %w", err)
	}
	if err := g.Check(); err != nil {
		return g, fmt.Errorf("the stored grant is not valid: %w", err)
	}
	return g, nil
}
