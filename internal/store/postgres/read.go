package postgres

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sentinel-agent/sentinel/internal/audit"
)

// Query limits, as audit.Filter documents them.
const (
	defaultLimit = 100
	maxLimit     = 10000
)

// scanPage is how many records Scan reads per query. Scan holds no
// connection while its callback runs, so the callback may use the store.
const scanPage = 1000

// maxGroups bounds the values Stats counts per column; the most frequent
// are kept.
const maxGroups = 1000

// Head implements audit.Store.
func (s *Store) Head(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		var seq int64
		if err := c.QueryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&seq, &h.Hash); err != nil {
			return err
		}
		h.Seq = uint64(seq)
		return nil
	})
	if err != nil {
		return audit.Head{}, fmt.Errorf("postgres: reading the head of schema %s: %w", s.schema, err)
	}
	return h, nil
}

// Scan implements audit.Store. Records appended while it runs are
// included; it reads them a page at a time.
func (s *Store) Scan(ctx context.Context, from uint64, fn func(audit.Record) error) error {
	if from > math.MaxInt64 {
		return ctx.Err()
	}
	next := int64(max(from, 1))
	for {
		page, err := s.records(ctx, "SELECT "+columns+" FROM events WHERE seq >= $1 ORDER BY seq LIMIT $2", next, scanPage)
		if err != nil {
			return fmt.Errorf("postgres: scanning schema %s from %d: %w", s.schema, next, err)
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		next = int64(page[len(page)-1].Seq) + 1
	}
}

// where turns the selecting fields of f into a WHERE clause whose
// parameters are numbered from len(args)+1; paging says whether AfterSeq
// and BeforeSeq count.
func where(f audit.Filter, paging bool, args []any) (string, []any) {
	var conds []string
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1))
	}
	eq := func(col, v string) {
		if v != "" {
			add(col+" = ?", v)
		}
	}
	eq("session", f.Session)
	eq("agent", f.Agent)
	eq("tool", f.Tool)
	eq("action", f.Action)
	eq("verify", f.Verify)
	if f.HasMinRisk {
		add("risk >= ?", f.MinRisk)
	}
	// Stored times have microseconds; so do the bounds.
	if !f.Since.IsZero() {
		add("time >= ?", f.Since.UTC().Truncate(time.Microsecond))
	}
	if !f.Until.IsZero() {
		add("time < ?", f.Until.UTC().Truncate(time.Microsecond))
	}
	if paging && f.AfterSeq > 0 {
		add("seq > ?", clamp(f.AfterSeq))
	}
	if paging && f.BeforeSeq > 0 {
		add("seq < ?", clamp(f.BeforeSeq))
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Query implements audit.Store. Limit 0 (or less) means 100; it is capped
// at 10,000.
func (s *Store) Query(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	w, args := where(f, true, nil)
	order := " ORDER BY seq"
	if f.Desc {
		order += " DESC"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	args = append(args, min(limit, maxLimit))
	recs, err := s.records(ctx, "SELECT "+columns+" FROM events"+w+order+" LIMIT $"+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: querying schema %s: %w", s.schema, err)
	}
	return recs, nil
}

// records runs a query returning events rows.
func (s *Store) records(ctx context.Context, q string, args ...any) ([]audit.Record, error) {
	var out []audit.Record
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r audit.Record
			var seq int64
			if err := rows.Scan(&seq, &r.Hash, &r.PrevHash, &r.Time, &r.EventID, &r.Type, &r.DecisionID, &r.Session,
				&r.Agent, &r.Tool, &r.Kind, &r.Action, &r.Risk, &r.Verify, &r.Body); err != nil {
				return err
			}
			r.Seq, r.Time = uint64(seq), r.Time.UTC()
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// Stats implements audit.Store. Records without an action or tool count in
// Total only; ByAction and ByTool keep the 1,000 most frequent values.
func (s *Store) Stats(ctx context.Context, f audit.Filter, highRisk float64) (audit.Stats, error) {
	st := audit.Stats{ByAction: map[string]int64{}, ByTool: map[string]int64{}}
	// One snapshot for the three queries.
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := s.inTx(ctx, opts, func(tx pgx.Tx) error {
		w, args := where(f, false, []any{highRisk})
		err := tx.QueryRow(ctx, "SELECT COUNT(*), COUNT(*) FILTER (WHERE verify = 'fail'), COUNT(*) FILTER (WHERE risk >= $1) FROM events"+w,
			args...).Scan(&st.Total, &st.Failures, &st.HighRisk)
		if err != nil {
			return err
		}
		for _, g := range []struct {
			col string
			m   map[string]int64
		}{{"action", st.ByAction}, {"tool", st.ByTool}} {
			w, args := where(f, false, nil)
			cond := " WHERE " + g.col + " <> ''"
			if w != "" {
				cond = w + " AND " + g.col + " <> ''"
			}
			args = append(args, maxGroups)
			rows, err := tx.Query(ctx, "SELECT "+g.col+", COUNT(*) AS n FROM events"+cond+" GROUP BY "+g.col+
				" ORDER BY n DESC LIMIT $"+strconv.Itoa(len(args)), args...)
			if err != nil {
				return fmt.Errorf("counting %s values: %w", g.col, err)
			}
			var k string
			var n int64
			if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error { g.m[k] = n; return nil }); err != nil {
				return fmt.Errorf("counting %s values: %w", g.col, err)
			}
		}
		return nil
	})
	if err != nil {
		return audit.Stats{}, fmt.Errorf("postgres: summarising schema %s: %w", s.schema, err)
	}
	return st, nil
}

// Checkpoints implements audit.Store.
func (s *Store) Checkpoints(ctx context.Context, from uint64) ([]audit.Checkpoint, error) {
	var out []audit.Checkpoint
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT seq, hash, body FROM checkpoints WHERE seq >= $1 ORDER BY seq", clamp(from))
		if err != nil {
			return err
		}
		var cp audit.Checkpoint
		var seq int64
		_, err = pgx.ForEachRow(rows, []any{&seq, &cp.Hash, &cp.Body}, func() error {
			cp.Seq = uint64(seq)
			out = append(out, cp)
			cp.Body = nil
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: reading checkpoints of schema %s: %w", s.schema, err)
	}
	return out, nil
}
