package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/audit"
)

// Query limits, as audit.Filter documents them.
const (
	defaultLimit = 100
	maxLimit     = 10000
)

// scanPage is how many records Scan reads per query. Scan holds no
// connection or transaction while its callback runs, so the callback may
// use the store.
const scanPage = 1000

// maxGroups bounds the values Stats counts per column; the most frequent
// are kept.
const maxGroups = 1000

// Head implements audit.Store.
func (s *Store) Head(ctx context.Context) (audit.Head, error) {
	h, err := readHead(ctx, s.headR)
	if err != nil {
		return audit.Head{}, fmt.Errorf("sqlite: reading the head of %s: %w", s.path, err)
	}
	return h, nil
}

// Scan implements audit.Store. Records appended while it runs are
// included. It reads a page at a time and keeps scanAhead pages in flight
// while fn works: a chain's seqs are contiguous, so the page after
// [a, a+scanPage) most likely starts at a+scanPage; a page fetched from a
// start that turns out wrong (a gap) is dropped and fetched again.
func (s *Store) Scan(ctx context.Context, from uint64, fn func(audit.Record) error) error {
	if from > math.MaxInt64 {
		return ctx.Err()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetch struct {
		start int64
		done  chan []audit.Record
		err   error
	}
	var inflight []*fetch
	launch := func(start int64) {
		f := &fetch{start: start, done: make(chan []audit.Record, 1)}
		go func() {
			page, err := s.records(ctx, s.scan, "", start, scanPage)
			if err != nil {
				f.err = fmt.Errorf("sqlite: scanning %s from %d: %w", s.path, start, err)
			}
			f.done <- page
		}()
		inflight = append(inflight, f)
	}
	drop := func() {
		cancel()
		for _, f := range inflight {
			<-f.done
		}
		inflight = nil
	}
	next := int64(max(from, 1))
	launch(next)
	for {
		f := inflight[0]
		inflight = inflight[1:]
		page := <-f.done
		if f.err != nil {
			drop()
			return f.err
		}
		if len(page) < scanPage {
			drop()
			for _, rec := range page {
				if err := fn(rec); err != nil {
					return err
				}
			}
			return nil
		}
		next = int64(page[len(page)-1].Seq) + 1
		if len(inflight) > 0 && inflight[0].start != next {
			// A gap: the guesses are wrong. Wait for them (they share
			// ctx, which must stay live) and fetch from the true start.
			for _, g := range inflight {
				<-g.done
			}
			inflight = nil
		}
		for len(inflight) < scanAhead {
			start := next
			if n := len(inflight); n > 0 {
				start = inflight[n-1].start + scanPage
			}
			launch(start)
		}
		for _, rec := range page {
			if err := fn(rec); err != nil {
				drop()
				return err
			}
		}
	}
}

// scanAhead is how many pages Scan fetches ahead of the one fn reads.
const scanAhead = 2

// where turns the selecting fields of f into a WHERE clause; paging says
// whether AfterSeq and BeforeSeq count.
func where(f audit.Filter, paging bool) (string, []any) {
	var conds []string
	var args []any
	eq := func(col, v string) {
		if v != "" {
			conds = append(conds, col+" = ?")
			args = append(args, v)
		}
	}
	eq("session", f.Session)
	eq("agent", f.Agent)
	eq("tool", f.Tool)
	eq("action", f.Action)
	eq("verify", f.Verify)
	if f.HasMinRisk {
		conds = append(conds, "risk >= ?")
		args = append(args, f.MinRisk)
	}
	if !f.Since.IsZero() {
		conds = append(conds, "time >= ?")
		args = append(args, timeBound(f.Since))
	}
	if !f.Until.IsZero() {
		conds = append(conds, "time < ?")
		args = append(args, timeBound(f.Until))
	}
	if paging && f.AfterSeq > 0 {
		conds = append(conds, "seq > ?")
		args = append(args, clamp(f.AfterSeq))
	}
	if paging && f.BeforeSeq > 0 {
		conds = append(conds, "seq < ?")
		args = append(args, clamp(f.BeforeSeq))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// timeBound formats a filter bound like stored times; bounds beyond the
// years the store keeps are moved to its edges, where they select the
// same records.
func timeBound(t time.Time) string {
	t = t.UTC()
	switch {
	case t.Year() < 0:
		return "0000-01-01T00:00:00.000000000Z"
	case t.Year() > 9999:
		return "9999-12-31T23:59:59.999999999Z~" // after every stored time
	}
	return t.Format(timeLayout)
}

// Query implements audit.Store. Limit 0 (or less) means 100; it is capped
// at 10,000.
func (s *Store) Query(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	w, args := where(f, true)
	order := " ORDER BY seq"
	if f.Desc {
		order += " DESC"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	recs, err := s.records(ctx, nil, "SELECT "+columns+" FROM events"+w+order+" LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: querying %s: %w", s.path, err)
	}
	return recs, nil
}

// records runs a query returning events rows: the prepared st, or q.
func (s *Store) records(ctx context.Context, st *sql.Stmt, q string, args ...any) ([]audit.Record, error) {
	var rows *sql.Rows
	var err error
	if st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = s.r.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []audit.Record
	for rows.Next() {
		var r audit.Record
		var seq int64
		var t string
		if err := rows.Scan(&seq, &r.Hash, &r.PrevHash, &t, &r.EventID, &r.Type, &r.DecisionID, &r.Session,
			&r.Agent, &r.Tool, &r.Kind, &r.Action, &r.Risk, &r.Verify, &r.Body); err != nil {
			return nil, err
		}
		r.Seq = uint64(seq)
		if r.Time, err = time.Parse(timeLayout, t); err != nil {
			return nil, fmt.Errorf("record %d has time %q, not in the store's format: %w", seq, t, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Stats implements audit.Store. Records without an action or tool count in
// Total only; ByAction and ByTool keep the 1,000 most frequent values.
func (s *Store) Stats(ctx context.Context, f audit.Filter, highRisk float64) (audit.Stats, error) {
	st := audit.Stats{ByAction: map[string]int64{}, ByTool: map[string]int64{}}
	// One read transaction, so that the three queries see one snapshot.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return audit.Stats{}, fmt.Errorf("sqlite: summarising %s: %w", s.path, err)
	}
	defer tx.Rollback()
	w, args := where(f, false)
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(verify = 'fail'), 0), COALESCE(SUM(risk >= ?), 0) FROM events`+w,
		append([]any{highRisk}, args...)...).Scan(&st.Total, &st.Failures, &st.HighRisk)
	if err != nil {
		return audit.Stats{}, fmt.Errorf("sqlite: summarising %s: %w", s.path, err)
	}
	for col, m := range map[string]map[string]int64{"action": st.ByAction, "tool": st.ByTool} {
		cond := " WHERE " + col + " <> ''"
		if w != "" {
			cond = w + " AND " + col + " <> ''"
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+col+", COUNT(*) AS n FROM events"+cond+" GROUP BY "+col+" ORDER BY n DESC LIMIT ?",
			append(args, maxGroups)...)
		if err != nil {
			return audit.Stats{}, fmt.Errorf("sqlite: counting %s values in %s: %w", col, s.path, err)
		}
		for rows.Next() {
			var k string
			var n int64
			if err := rows.Scan(&k, &n); err != nil {
				rows.Close()
				return audit.Stats{}, fmt.Errorf("sqlite: counting %s values in %s: %w", col, s.path, err)
			}
			m[k] = n
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return audit.Stats{}, fmt.Errorf("sqlite: counting %s values in %s: %w", col, s.path, err)
		}
	}
	return st, nil
}

// Checkpoints implements audit.Store.
func (s *Store) Checkpoints(ctx context.Context, from uint64) ([]audit.Checkpoint, error) {
	rows, err := s.cps.QueryContext(ctx, clamp(from))
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading checkpoints of %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []audit.Checkpoint
	for rows.Next() {
		var c audit.Checkpoint
		var seq int64
		if err := rows.Scan(&seq, &c.Hash, &c.Body); err != nil {
			return nil, fmt.Errorf("sqlite: reading checkpoints of %s: %w", s.path, err)
		}
		c.Seq = uint64(seq)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading checkpoints of %s: %w", s.path, err)
	}
	return out, nil
}
