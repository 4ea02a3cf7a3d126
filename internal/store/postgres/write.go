package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sentinel-agent/sentinel/internal/audit"
)

const columns = "seq, hash, prev_hash, time, event_id, type, decision_id, session, agent, tool, kind, action, risk, verify, body"

// appendSQL inserts a batch of any size and moves the head in one
// statement, one round trip: each column travels as an array.
const appendSQL = "WITH ins AS (INSERT INTO events (" + columns + ") SELECT * FROM unnest(" +
	"$1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], " +
	"$9::text[], $10::text[], $11::text[], $12::text[], $13::float8[], $14::text[], $15::bytea[])) " +
	"UPDATE audit_head SET seq = $16, hash = $17 WHERE id = 1"

// lockHeadSQL is the chain's lock: writers queue on this row.
const lockHeadSQL = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE"

// asIs carries an error through inTx to Append's caller unchanged: the
// seal's own error, or a refusal that already says what and where.
type asIs struct{ err error }

func (e asIs) Error() string { return e.err.Error() }

// Append implements audit.Store.
func (s *Store) Append(ctx context.Context, seal audit.Seal) (audit.Head, error) {
	if err := ctx.Err(); err != nil {
		return audit.Head{}, fmt.Errorf("postgres: appending to schema %s: %w", s.schema, err)
	}
	var out audit.Head
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		h, err := lockHead(ctx, tx)
		if err != nil {
			return err
		}
		recs, err := seal(h)
		if err != nil {
			return asIs{err}
		}
		if out = h; len(recs) == 0 {
			return nil
		}
		if err := checkRecords(h, recs); err != nil {
			return asIs{err}
		}
		// The context may have ended while the seal ran.
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := insert(ctx, tx, recs); err != nil {
			return fmt.Errorf("inserting %d records: %w", len(recs), err)
		}
		last := recs[len(recs)-1]
		out = audit.Head{Seq: last.Seq, Hash: last.Hash}
		return nil
	})
	var plain asIs
	switch {
	case errors.As(err, &plain):
		return audit.Head{}, plain.err
	case err != nil:
		return audit.Head{}, fmt.Errorf("postgres: appending to schema %s: %w", s.schema, err)
	}
	return out, nil
}

func lockHead(ctx context.Context, tx pgx.Tx) (audit.Head, error) {
	var seq int64
	var h audit.Head
	if err := tx.QueryRow(ctx, lockHeadSQL).Scan(&seq, &h.Hash); err != nil {
		return audit.Head{}, fmt.Errorf("locking the head: %w", err)
	}
	h.Seq = uint64(seq)
	return h, nil
}

// insert writes recs and moves the head to the last of them.
func insert(ctx context.Context, tx pgx.Tx, recs []audit.Record) error {
	n := len(recs)
	var (
		seqs                                    = make([]int64, n)
		hashes, prevs, ids, types, decisions    = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		sessions, agents, tools, kinds, actions = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		verifies                                = make([]string, n)
		times                                   = make([]time.Time, n)
		risks                                   = make([]float64, n)
		bodies                                  = make([][]byte, n)
	)
	for i, r := range recs {
		seqs[i], hashes[i], prevs[i], times[i] = int64(r.Seq), r.Hash, r.PrevHash, r.Time.UTC().Truncate(time.Microsecond)
		ids[i], types[i], decisions[i], sessions[i] = r.EventID, r.Type, r.DecisionID, r.Session
		agents[i], tools[i], kinds[i], actions[i] = r.Agent, r.Tool, r.Kind, r.Action
		risks[i], verifies[i], bodies[i] = r.Risk, r.Verify, r.Body
	}
	last := recs[n-1]
	tag, err := tx.Exec(ctx, appendSQL, seqs, hashes, prevs, times, ids, types, decisions, sessions, agents, tools, kinds, actions,
		risks, verifies, bodies, int64(last.Seq), last.Hash)
	if err == nil && tag.RowsAffected() != 1 {
		err = fmt.Errorf("the audit_head row is missing; the schema was changed outside Sentinel")
	}
	return err
}

// PutCheckpoint implements audit.Store.
func (s *Store) PutCheckpoint(ctx context.Context, c audit.Checkpoint) error {
	if err := checkCheckpoint(c); err != nil {
		return err
	}
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error { return putCheckpoint(ctx, tx, c) })
	if err != nil && !errors.Is(err, audit.ErrConflict) {
		return fmt.Errorf("postgres: storing checkpoint %d in schema %s: %w", c.Seq, s.schema, err)
	}
	return err
}

// putCheckpoint stores c unless a checkpoint with another hash holds its
// seq.
func putCheckpoint(ctx context.Context, tx pgx.Tx, c audit.Checkpoint) error {
	tag, err := tx.Exec(ctx, `INSERT INTO checkpoints (seq, hash, body) VALUES ($1, $2, $3)
		ON CONFLICT (seq) DO UPDATE SET body = excluded.body WHERE checkpoints.hash = excluded.hash`,
		int64(c.Seq), c.Hash, c.Body)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var stored string
	if err := tx.QueryRow(ctx, "SELECT hash FROM checkpoints WHERE seq = $1", int64(c.Seq)).Scan(&stored); err != nil {
		return err
	}
	return fmt.Errorf("postgres: a checkpoint for seq %d says hash %.16q, this one %.16q: %w", c.Seq, stored, c.Hash, audit.ErrConflict)
}

// Prune implements audit.Store. A before of 0 or 1 prunes nothing and
// stores nothing. The anchor must name seq before-1 and, while that record
// is still stored, carry its hash.
func (s *Store) Prune(ctx context.Context, before uint64, anchor audit.Checkpoint) (int64, error) {
	if before <= 1 {
		return 0, ctx.Err()
	}
	if anchor.Seq != before-1 {
		return 0, fmt.Errorf("postgres: pruning below %d needs an anchor for seq %d, not %d", before, before-1, anchor.Seq)
	}
	if err := checkCheckpoint(anchor); err != nil {
		return 0, err
	}
	var n int64
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		// Appends wait while the records go, and the head cannot move.
		h, err := lockHead(ctx, tx)
		if err != nil {
			return err
		}
		if anchor.Seq > h.Seq {
			return fmt.Errorf("cannot prune below %d: the chain ends at %d", before, h.Seq)
		}
		var hash string
		err = tx.QueryRow(ctx, "SELECT hash FROM events WHERE seq = $1", int64(anchor.Seq)).Scan(&hash)
		switch {
		case errors.Is(err, pgx.ErrNoRows): // pruned already; the checkpoints table still guards the anchor
		case err != nil:
			return fmt.Errorf("reading record %d: %w", anchor.Seq, err)
		case hash != anchor.Hash:
			return fmt.Errorf("postgres: the anchor says record %d has hash %.16q, the store %.16q: %w", anchor.Seq, anchor.Hash, hash, audit.ErrConflict)
		}
		if err := putCheckpoint(ctx, tx, anchor); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM events WHERE seq < $1", clamp(before))
		if err != nil {
			return fmt.Errorf("deleting records below %d: %w", before, err)
		}
		n = tag.RowsAffected()
		return nil
	})
	switch {
	case errors.Is(err, audit.ErrConflict):
		return 0, err
	case err != nil:
		return 0, fmt.Errorf("postgres: pruning schema %s below %d: %w", s.schema, before, err)
	}
	return n, nil
}
