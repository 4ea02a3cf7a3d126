package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/audit"
)

const columns = "seq, hash, prev_hash, time, event_id, type, decision_id, session, agent, tool, kind, action, risk, verify, body"

// chunkSizes are the record counts of the prepared INSERTs: 128 records
// of 15 parameters each stay well under SQLite's limit of 32766, and a
// batch of any size splits into these (1000 = 7×128 + 64 + 32 + 8), so
// that no INSERT is parsed twice.
var chunkSizes = [...]int{128, 64, 32, 16, 8, 4, 2, 1}

// insertSQL returns an INSERT of n records.
func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO events (" + columns + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	return b.String()
}

// Statements every Append or read runs, prepared once: parsing SQL costs
// more than running these.
const (
	headSQL     = "SELECT seq, hash FROM audit_head WHERE id = 1"
	moveHeadSQL = "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1"
	scanSQL     = "SELECT " + columns + " FROM events WHERE seq >= ? ORDER BY seq LIMIT ?"
	cpsSQL      = "SELECT seq, hash, body FROM checkpoints WHERE seq >= ? ORDER BY seq"
)

// prepare prepares the statements of the write connection and the read
// pool.
func (s *Store) prepare(ctx context.Context) error {
	var err error
	prep := func(db *sql.DB, q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		if st, err = db.PrepareContext(ctx, q); err != nil {
			err = fmt.Errorf("sqlite: preparing %.40q… on %s: %w", q, s.path, err)
			return nil
		}
		s.stmts = append(s.stmts, st)
		return st
	}
	for i, n := range chunkSizes {
		s.inserts[i] = prep(s.w, insertSQL(n))
	}
	s.headW = prep(s.w, headSQL)
	s.moveHead = prep(s.w, moveHeadSQL)
	s.headR = prep(s.r, headSQL)
	s.scan = prep(s.r, scanSQL)
	s.cps = prep(s.r, cpsSQL)
	return err
}

// Append implements audit.Store.
func (s *Store) Append(ctx context.Context, seal audit.Seal) (audit.Head, error) {
	if err := ctx.Err(); err != nil {
		return audit.Head{}, fmt.Errorf("sqlite: appending to %s: %w", s.path, err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return audit.Head{}, fmt.Errorf("sqlite: locking %s for an append: %w", s.path, err)
	}
	defer tx.Rollback()
	h, err := readHead(ctx, tx.StmtContext(ctx, s.headW))
	if err != nil {
		return audit.Head{}, fmt.Errorf("sqlite: reading the head of %s: %w", s.path, err)
	}
	recs, err := seal(h)
	if err != nil {
		return audit.Head{}, err
	}
	if len(recs) == 0 {
		return h, nil
	}
	if err := checkRecords(h, recs); err != nil {
		return audit.Head{}, err
	}
	// The context may have ended while the seal ran.
	if err := ctx.Err(); err != nil {
		return audit.Head{}, fmt.Errorf("sqlite: appending to %s: %w", s.path, err)
	}
	if err := s.insert(ctx, tx, recs); err != nil {
		return audit.Head{}, fmt.Errorf("sqlite: inserting %d records into %s: %w", len(recs), s.path, err)
	}
	last := recs[len(recs)-1]
	if _, err := tx.StmtContext(ctx, s.moveHead).ExecContext(ctx, int64(last.Seq), last.Hash); err != nil {
		return audit.Head{}, fmt.Errorf("sqlite: moving the head of %s: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return audit.Head{}, fmt.Errorf("sqlite: committing %d records to %s: %w", len(recs), s.path, err)
	}
	return audit.Head{Seq: last.Seq, Hash: last.Hash}, nil
}

// insert writes recs with the prepared multi-row INSERTs.
func (s *Store) insert(ctx context.Context, tx *sql.Tx, recs []audit.Record) error {
	args := make([]any, 0, 15*chunkSizes[0])
	for len(recs) > 0 {
		i := 0
		for chunkSizes[i] > len(recs) {
			i++
		}
		n := chunkSizes[i]
		args = args[:0]
		for _, r := range recs[:n] {
			args = append(args, int64(r.Seq), r.Hash, r.PrevHash, r.Time.UTC().Format(timeLayout), r.EventID, r.Type,
				r.DecisionID, r.Session, r.Agent, r.Tool, r.Kind, r.Action, r.Risk, r.Verify, r.Body)
		}
		if _, err := tx.StmtContext(ctx, s.inserts[i]).ExecContext(ctx, args...); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// readHead runs headSQL.
func readHead(ctx context.Context, st *sql.Stmt) (audit.Head, error) {
	var seq int64
	var h audit.Head
	if err := st.QueryRowContext(ctx).Scan(&seq, &h.Hash); err != nil {
		return audit.Head{}, err
	}
	h.Seq = uint64(seq)
	return h, nil
}

// PutCheckpoint implements audit.Store.
func (s *Store) PutCheckpoint(ctx context.Context, c audit.Checkpoint) error {
	if err := checkCheckpoint(c); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: locking %s to store checkpoint %d: %w", s.path, c.Seq, err)
	}
	defer tx.Rollback()
	if err := putCheckpoint(ctx, tx, c); err != nil {
		return fmt.Errorf("sqlite: storing checkpoint %d in %s: %w", c.Seq, s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: committing checkpoint %d to %s: %w", c.Seq, s.path, err)
	}
	return nil
}

// putCheckpoint stores c unless a checkpoint with another hash holds its
// seq.
func putCheckpoint(ctx context.Context, tx *sql.Tx, c audit.Checkpoint) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (seq, hash, body) VALUES (?, ?, ?)
		ON CONFLICT (seq) DO UPDATE SET body = excluded.body WHERE checkpoints.hash = excluded.hash`,
		int64(c.Seq), c.Hash, c.Body)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var stored string
	if err := tx.QueryRowContext(ctx, "SELECT hash FROM checkpoints WHERE seq = ?", int64(c.Seq)).Scan(&stored); err != nil {
		return err
	}
	return fmt.Errorf("a checkpoint for seq %d says hash %.16q, this one %.16q: %w", c.Seq, stored, c.Hash, audit.ErrConflict)
}

// Prune implements audit.Store. A before of 0 or 1 prunes nothing and
// stores nothing. The anchor must name seq before-1 and, while that record
// is still stored, carry its hash.
func (s *Store) Prune(ctx context.Context, before uint64, anchor audit.Checkpoint) (int64, error) {
	if before <= 1 {
		return 0, ctx.Err()
	}
	if anchor.Seq != before-1 {
		return 0, fmt.Errorf("sqlite: pruning below %d needs an anchor for seq %d, not %d", before, before-1, anchor.Seq)
	}
	if err := checkCheckpoint(anchor); err != nil {
		return 0, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: locking %s to prune: %w", s.path, err)
	}
	defer tx.Rollback()
	h, err := readHead(ctx, tx.StmtContext(ctx, s.headW))
	if err != nil {
		return 0, fmt.Errorf("sqlite: reading the head of %s: %w", s.path, err)
	}
	if anchor.Seq > h.Seq {
		return 0, fmt.Errorf("sqlite: cannot prune below %d: the chain in %s ends at %d", before, s.path, h.Seq)
	}
	var hash string
	err = tx.QueryRowContext(ctx, "SELECT hash FROM events WHERE seq = ?", int64(anchor.Seq)).Scan(&hash)
	switch {
	case errors.Is(err, sql.ErrNoRows): // pruned already; the checkpoints table still guards the anchor
	case err != nil:
		return 0, fmt.Errorf("sqlite: reading record %d of %s: %w", anchor.Seq, s.path, err)
	case hash != anchor.Hash:
		return 0, fmt.Errorf("sqlite: the anchor says record %d has hash %.16q, the store %.16q: %w", anchor.Seq, anchor.Hash, hash, audit.ErrConflict)
	}
	if err := putCheckpoint(ctx, tx, anchor); err != nil {
		return 0, fmt.Errorf("sqlite: storing the anchor %d in %s: %w", anchor.Seq, s.path, err)
	}
	res, err := tx.ExecContext(ctx, "DELETE FROM events WHERE seq < ?", clamp(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: deleting records below %d from %s: %w", before, s.path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: deleting records below %d from %s: %w", before, s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: committing the prune of %s: %w", s.path, err)
	}
	return n, nil
}
