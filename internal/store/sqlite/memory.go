package sqlite

// Agent memory (memory.Store) lives in the memory table, one column per
// Record field, with an FTS5 index over its key and text kept in step by
// triggers (migration 0004). Writes go through the write connection like
// every other write; searches use the read pool and never lock the
// writer out. Every method fails on an ended context, even where it
// would not reach the database.

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/memory"
)

var _ memory.Store = (*Store)(nil)

// memoryColumns are the columns scanMemory reads, in its order.
const memoryColumns = "m.id, m.layer, m.kind, m.scope, m.agent, m.session, m.key, m.text, m.summary, m.one_line, m.level, " +
	"m.importance, m.confidence, m.confirmations, m.uses, m.source_kind, m.source_tool, m.source_trusted, m.source_session, " +
	"m.source_decision_id, m.created, m.updated, m.last_used"

// putMemorySQL inserts a record or, when its ID is stored, overwrites
// every field in place: the row keeps its rowid, so the update trigger
// re-indexes it under the same one.
const putMemorySQL = `INSERT INTO memory (id, layer, kind, scope, agent, session, key, text, summary, one_line, level,
	importance, confidence, confirmations, uses, source_kind, source_tool, source_trusted, source_session,
	source_decision_id, created, updated, last_used)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET layer = excluded.layer, kind = excluded.kind, scope = excluded.scope,
	agent = excluded.agent, session = excluded.session, key = excluded.key, text = excluded.text,
	summary = excluded.summary, one_line = excluded.one_line, level = excluded.level,
	importance = excluded.importance, confidence = excluded.confidence, confirmations = excluded.confirmations,
	uses = excluded.uses, source_kind = excluded.source_kind, source_tool = excluded.source_tool,
	source_trusted = excluded.source_trusted, source_session = excluded.source_session,
	source_decision_id = excluded.source_decision_id, created = excluded.created, updated = excluded.updated,
	last_used = excluded.last_used`

// PutMemory implements memory.Store.
func (s *Store) PutMemory(ctx context.Context, r memory.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: storing memory: %w", err)
	}
	if err := checkMemory(r); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, putMemorySQL, memoryArgs(r)...); err != nil {
		return fmt.Errorf("sqlite: storing memory %s in %s: %w", r.ID, s.path, err)
	}
	return nil
}

// memoryArgs are the parameters of putMemorySQL.
func memoryArgs(r memory.Record) []any {
	return []any{r.ID, r.Layer, r.Kind, r.Scope, r.Agent, r.Session, r.Key, r.Text, r.Summary, r.OneLine, r.Level,
		r.Importance, r.Confidence, r.Confirmations, r.Uses, r.Source.Kind, r.Source.Tool, r.Source.Trusted,
		r.Source.Session, r.Source.DecisionID, formatTime(r.Created), formatTime(r.Updated), formatTime(r.LastUsed)}
}

// GetMemory implements memory.Store.
func (s *Store) GetMemory(ctx context.Context, id string) (memory.Record, error) {
	if err := ctx.Err(); err != nil {
		return memory.Record{}, fmt.Errorf("sqlite: reading memory: %w", err)
	}
	if len(id) > maxMemoryID || !storable(id) {
		return memory.Record{}, fmt.Errorf("sqlite: memory %.40q: %w", id, memory.ErrNotFound)
	}
	rs, err := s.memories(ctx, "SELECT "+memoryColumns+" FROM memory m WHERE m.id = ?", id)
	if err != nil {
		return memory.Record{}, fmt.Errorf("sqlite: reading memory %.40q from %s: %w", id, s.path, err)
	}
	if len(rs) == 0 {
		return memory.Record{}, fmt.Errorf("sqlite: memory %.40q in %s: %w", id, s.path, memory.ErrNotFound)
	}
	return rs[0], nil
}

// DeleteMemory implements memory.Store.
func (s *Store) DeleteMemory(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: deleting memory: %w", err)
	}
	if len(id) > maxMemoryID || !storable(id) {
		return fmt.Errorf("sqlite: memory %.40q: %w", id, memory.ErrNotFound)
	}
	res, err := s.w.ExecContext(ctx, "DELETE FROM memory WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("sqlite: deleting memory %.40q from %s: %w", id, s.path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: deleting memory %.40q from %s: %w", id, s.path, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: memory %.40q in %s: %w", id, s.path, memory.ErrNotFound)
	}
	return nil
}

// SearchMemory implements memory.Store. With Text, the records holding
// every word come first by BM25 relevance; ties, and every search
// without Text, go by importance, then the newest, then ID.
func (s *Store) SearchMemory(ctx context.Context, q memory.Query) ([]memory.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: searching memory: %w", err)
	}
	limit, err := checkQuery(q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	conds, args, none := memoryFilters(q)
	if none {
		return nil, nil
	}
	var rs []memory.Record
	if q.Text == "" {
		query := "SELECT " + memoryColumns + " FROM memory m" + whereClause(conds) +
			" ORDER BY m.importance DESC, m.created DESC, m.id LIMIT ?"
		rs, err = s.memories(ctx, query, append(args, limit)...)
	} else {
		match := ftsQuery(q.Text)
		if match == "" {
			return nil, nil // no words: nothing holds all of them
		}
		rs, err = s.ranked(ctx, match, conds, args, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: searching memory in %s: %w", s.path, err)
	}
	return rs, nil
}

// memoryFilters turns the fields of q other than Text and Limit into
// conditions on the memory table m; none reports a query that selects
// nothing whatever is stored.
func memoryFilters(q memory.Query) (conds []string, args []any, none bool) {
	for _, f := range [...]struct{ col, v string }{{"m.layer", q.Layer}, {"m.kind", q.Kind}, {"m.scope", q.Scope}, {"m.agent", q.Agent}, {"m.key", q.Key}} {
		if f.v != "" {
			if !storable(f.v) {
				return nil, nil, true // no record holds it
			}
			conds, args = append(conds, f.col+" = ?"), append(args, f.v)
		}
	}
	if q.MaxLevel >= 0 {
		conds, args = append(conds, "m.level <= ?"), append(args, q.MaxLevel)
	}
	// Stored times are in the years 0000–9999; a bound outside them
	// either selects nothing or every record.
	if !q.Before.IsZero() {
		switch y := q.Before.UTC().Year(); {
		case y < 0:
			return nil, nil, true
		case y <= 9999:
			conds, args = append(conds, "m.created < ?"), append(args, formatTime(q.Before))
		}
	}
	if !q.After.IsZero() {
		switch y := q.After.UTC().Year(); {
		case y > 9999:
			return nil, nil, true
		case y >= 0:
			conds, args = append(conds, "m.created > ?"), append(args, formatTime(q.After))
		}
	}
	return conds, args, false
}

// whereClause joins conds into a WHERE clause, or nothing.
func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// ranked returns the best limit records matching the FTS5 query match
// and conds. FTS5 ranks every match itself (ORDER BY rank is answered
// inside the index) and the rows stream out best first, each joined to
// its record and filtered on the way, so that reading stops after limit
// records and whatever ties the last; the ties are then ordered here.
// Ordering by rank and the tie-breakers in SQL would instead join and
// sort every match (measured over 110,000 records: p99 20 ms of CPU
// against 15 ms).
func (s *Store) ranked(ctx context.Context, match string, conds []string, args []any, limit int) ([]memory.Record, error) {
	query := "SELECT " + memoryColumns + ", memory_fts.rank FROM memory_fts JOIN memory m ON m.n = memory_fts.rowid" +
		whereClause(append([]string{"memory_fts MATCH ?"}, conds...)) + " ORDER BY memory_fts.rank"
	rows, err := s.r.QueryContext(ctx, query, append([]any{match}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type hit struct {
		r    memory.Record
		rank float64 // bm25: lower is better
	}
	var hits []hit
	for rows.Next() {
		var h hit
		if h.r, err = scanMemory(rows, &h.rank); err != nil {
			return nil, err
		}
		if len(hits) >= limit && h.rank != hits[limit-1].rank {
			break
		}
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		return compareStored(&a.r, &b.r)
	})
	out := make([]memory.Record, 0, min(limit, len(hits)))
	for _, h := range hits[:min(limit, len(hits))] {
		out = append(out, h.r)
	}
	return out, nil
}

// compareStored orders records as searches without text do: importance,
// then the newest, then ID.
func compareStored(a, b *memory.Record) int {
	if c := cmp.Compare(b.Importance, a.Importance); c != 0 {
		return c
	}
	if c := b.Created.Compare(a.Created); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// TouchMemory implements memory.Store. IDs that are not stored (deleted
// since they were found) are skipped; an ID listed twice counts once.
func (s *Store) TouchMemory(ctx context.Context, ids []string, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: touching memory: %w", err)
	}
	if len(ids) > maxTouch {
		return fmt.Errorf("sqlite: touching %d memory records at once; at most %d are allowed, split the call", len(ids), maxTouch)
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return fmt.Errorf("sqlite: touching memory at %v, outside the years 0000–9999 the store keeps", t)
	}
	if ids = storableIDs(ids); len(ids) == 0 {
		return nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("sqlite: touching memory: %w", err)
	}
	// One parameter whatever the count, far from SQLite's variable limit.
	if _, err := s.w.ExecContext(ctx, "UPDATE memory SET uses = uses + 1, last_used = ? WHERE id IN (SELECT value FROM json_each(?))",
		formatTime(t), string(list)); err != nil {
		return fmt.Errorf("sqlite: touching %d memory records in %s: %w", len(ids), s.path, err)
	}
	return nil
}

// MemoryStats implements memory.Store.
func (s *Store) MemoryStats(ctx context.Context) (memory.Stats, error) {
	if err := ctx.Err(); err != nil {
		return memory.Stats{}, fmt.Errorf("sqlite: sizing memory: %w", err)
	}
	st := memory.Stats{Records: map[string]int{}}
	rows, err := s.r.QueryContext(ctx, `SELECT layer, COUNT(*),
		COALESCE(SUM(length(CAST(text AS BLOB)) + length(CAST(summary AS BLOB)) + length(CAST(one_line AS BLOB))), 0)
		FROM memory GROUP BY layer`)
	if err != nil {
		return memory.Stats{}, fmt.Errorf("sqlite: sizing memory in %s: %w", s.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var layer string
		var n int
		var bytes int64
		if err := rows.Scan(&layer, &n, &bytes); err != nil {
			return memory.Stats{}, fmt.Errorf("sqlite: sizing memory in %s: %w", s.path, err)
		}
		st.Records[layer] = n
		st.Bytes += bytes
	}
	if err := rows.Err(); err != nil {
		return memory.Stats{}, fmt.Errorf("sqlite: sizing memory in %s: %w", s.path, err)
	}
	return st, nil
}

// memories runs a query selecting memoryColumns on the read pool.
func (s *Store) memories(ctx context.Context, q string, args ...any) ([]memory.Record, error) {
	var rows *sql.Rows
	st, err := s.memStmt(ctx, q)
	switch {
	case err != nil:
		return nil, err
	case st != nil:
		rows, err = st.QueryContext(ctx, args...)
	default:
		rows, err = s.r.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []memory.Record
	for rows.Next() {
		r, err := scanMemory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// maxMemStmts bounds the prepared memory queries: their text depends only
// on which filters a query sets, a few hundred shapes at most.
const maxMemStmts = 512

// memStmt returns the read statement for a memory query, prepared on its
// first use (preparing took a quarter of a context block's time). Past
// maxMemStmts shapes it returns nil: the caller runs the query unprepared.
func (s *Store) memStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	s.memMu.Lock()
	defer s.memMu.Unlock()
	if st, ok := s.memStmts[q]; ok {
		return st, nil
	}
	if len(s.memStmts) >= maxMemStmts {
		return nil, nil
	}
	st, err := s.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if s.memStmts == nil {
		s.memStmts = map[string]*sql.Stmt{}
	}
	s.memStmts[q] = st
	return st, nil
}

// scanMemory reads one row of memoryColumns, and extra after them, and
// checks it as PutMemory would: a row changed outside Sentinel is an
// error, not a record.
func scanMemory(rows *sql.Rows, extra ...any) (memory.Record, error) {
	var r memory.Record
	var created, updated, lastUsed string
	dst := []any{&r.ID, &r.Layer, &r.Kind, &r.Scope, &r.Agent, &r.Session, &r.Key, &r.Text, &r.Summary, &r.OneLine,
		&r.Level, &r.Importance, &r.Confidence, &r.Confirmations, &r.Uses, &r.Source.Kind, &r.Source.Tool, &r.Source.Trusted,
		&r.Source.Session, &r.Source.DecisionID, &created, &updated, &lastUsed}
	if err := rows.Scan(append(dst, extra...)...); err != nil {
		return memory.Record{}, err
	}
	var errs []error
	for _, f := range []struct {
		dst *time.Time
		v   string
	}{{&r.Created, created}, {&r.Updated, updated}, {&r.LastUsed, lastUsed}} {
		t, err := time.Parse(timeLayout, f.v)
		*f.dst = t
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return memory.Record{}, fmt.Errorf("memory %.40q has a time not in the store's format: %w", r.ID, err)
	}
	if err := checkMemory(r); err != nil {
		return memory.Record{}, fmt.Errorf("stored %w; the table was changed outside Sentinel", err)
	}
	return r, nil
}

// formatTime formats t as the memory table stores times: UTC, fixed
// width, so that they sort as text.
func formatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}
