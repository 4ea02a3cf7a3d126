package postgres

// Agent memory (memory.Store) lives in the memory table, one column per
// Record field, with a generated tsvector column over its text and key
// under a GIN index (migration 0004). User text reaches the index only
// through plainto_tsquery, which reads it as words: no query syntax, no
// SQL. Every method fails on an ended context, even where it would not
// reach the database.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sentinel-agent/sentinel/internal/memory"
)

var _ memory.Store = (*Store)(nil)

// memoryColumns are the columns scanMemory reads, in its order.
const memoryColumns = "m.id, m.layer, m.kind, m.scope, m.agent, m.session, m.key, m.text, m.summary, m.one_line, m.level, " +
	"m.importance, m.confidence, m.confirmations, m.uses, m.source_kind, m.source_tool, m.source_trusted, m.source_session, " +
	"m.source_decision_id, m.created, m.created_ns, m.updated, m.updated_ns, m.last_used, m.last_used_ns"

// putMemorySQL inserts a record or, when its ID is stored, overwrites
// every field in place.
const putMemorySQL = `INSERT INTO memory (id, layer, kind, scope, agent, session, key, text, summary, one_line, level,
	importance, confidence, confirmations, uses, source_kind, source_tool, source_trusted, source_session,
	source_decision_id, created, created_ns, updated, updated_ns, last_used, last_used_ns)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)
ON CONFLICT (id) DO UPDATE SET layer = EXCLUDED.layer, kind = EXCLUDED.kind, scope = EXCLUDED.scope,
	agent = EXCLUDED.agent, session = EXCLUDED.session, key = EXCLUDED.key, text = EXCLUDED.text,
	summary = EXCLUDED.summary, one_line = EXCLUDED.one_line, level = EXCLUDED.level,
	importance = EXCLUDED.importance, confidence = EXCLUDED.confidence, confirmations = EXCLUDED.confirmations,
	uses = EXCLUDED.uses, source_kind = EXCLUDED.source_kind, source_tool = EXCLUDED.source_tool,
	source_trusted = EXCLUDED.source_trusted, source_session = EXCLUDED.source_session,
	source_decision_id = EXCLUDED.source_decision_id, created = EXCLUDED.created, created_ns = EXCLUDED.created_ns,
	updated = EXCLUDED.updated, updated_ns = EXCLUDED.updated_ns, last_used = EXCLUDED.last_used,
	last_used_ns = EXCLUDED.last_used_ns`

// memoryOrder is the order of records of equal relevance: importance,
// then the newest, then ID bytewise, as in SQLite.
const memoryOrder = `m.importance DESC, m.created DESC, m.created_ns DESC, m.id COLLATE "C"`

// PutMemory implements memory.Store.
func (s *Store) PutMemory(ctx context.Context, r memory.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: storing memory: %w", err)
	}
	if err := checkMemory(r); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	created, createdNs := splitTime(r.Created)
	updated, updatedNs := splitTime(r.Updated)
	lastUsed, lastUsedNs := splitTime(r.LastUsed)
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, putMemorySQL, r.ID, r.Layer, r.Kind, r.Scope, r.Agent, r.Session, r.Key, r.Text, r.Summary,
			r.OneLine, r.Level, r.Importance, r.Confidence, r.Confirmations, r.Uses, r.Source.Kind, r.Source.Tool,
			r.Source.Trusted, r.Source.Session, r.Source.DecisionID, created, createdNs, updated, updatedNs, lastUsed, lastUsedNs)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: storing memory %s in schema %s: %w", r.ID, s.schema, err)
	}
	return nil
}

// GetMemory implements memory.Store.
func (s *Store) GetMemory(ctx context.Context, id string) (memory.Record, error) {
	if err := ctx.Err(); err != nil {
		return memory.Record{}, fmt.Errorf("postgres: reading memory: %w", err)
	}
	if len(id) > maxMemoryID || !storable(id) {
		return memory.Record{}, fmt.Errorf("postgres: memory %.40q: %w", id, memory.ErrNotFound)
	}
	rs, err := s.memories(ctx, "SELECT "+memoryColumns+" FROM memory m WHERE m.id = $1", id)
	if err != nil {
		return memory.Record{}, fmt.Errorf("postgres: reading memory %.40q from schema %s: %w", id, s.schema, err)
	}
	if len(rs) == 0 {
		return memory.Record{}, fmt.Errorf("postgres: memory %.40q in schema %s: %w", id, s.schema, memory.ErrNotFound)
	}
	return rs[0], nil
}

// DeleteMemory implements memory.Store.
func (s *Store) DeleteMemory(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: deleting memory: %w", err)
	}
	if len(id) > maxMemoryID || !storable(id) {
		return fmt.Errorf("postgres: memory %.40q: %w", id, memory.ErrNotFound)
	}
	var n int64
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, "DELETE FROM memory WHERE id = $1", id)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: deleting memory %.40q from schema %s: %w", id, s.schema, err)
	}
	if n == 0 {
		return fmt.Errorf("postgres: memory %.40q in schema %s: %w", id, s.schema, memory.ErrNotFound)
	}
	return nil
}

// SearchMemory implements memory.Store. With Text, the records holding
// every word come first by ts_rank, normalised by the length of the
// text (as BM25 does in SQLite); ties, and every search without Text,
// go by importance, then the newest, then ID.
func (s *Store) SearchMemory(ctx context.Context, q memory.Query) ([]memory.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: searching memory: %w", err)
	}
	query, args, none, err := searchSQL(q)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if none {
		return nil, nil
	}
	rs, err := s.memories(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: searching memory in schema %s: %w", s.schema, err)
	}
	return rs, nil
}

// SearchMemories implements memory.BatchSearcher: the queries go to the
// server in one round trip on one connection (a pgx batch), each answered
// as SearchMemory answers it. The context block reads eight at once.
func (s *Store) SearchMemories(ctx context.Context, qs []memory.Query) ([][]memory.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: searching memory: %w", err)
	}
	if len(qs) > memory.MaxBatch {
		return nil, fmt.Errorf("postgres: %d memory queries at once; at most %d are allowed, split the call", len(qs), memory.MaxBatch)
	}
	out := make([][]memory.Record, len(qs))
	var b pgx.Batch
	var sent []int // the queries in the batch, by index in qs
	for i, q := range qs {
		query, args, none, err := searchSQL(q)
		if err != nil {
			return nil, fmt.Errorf("postgres: query %d: %w", i, err)
		}
		if !none {
			b.Queue(query, args...)
			sent = append(sent, i)
		}
	}
	if len(sent) == 0 {
		return out, nil
	}
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		br := c.SendBatch(ctx, &b)
		for _, i := range sent {
			rows, err := br.Query()
			if err != nil {
				br.Close()
				return err
			}
			for rows.Next() {
				r, err := scanMemory(rows)
				if err != nil {
					rows.Close()
					br.Close()
					return err
				}
				out[i] = append(out[i], r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				br.Close()
				return err
			}
		}
		return br.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: searching memory in schema %s: %w", s.schema, err)
	}
	return out, nil
}

// searchSQL is the statement and arguments of a search; none reports a
// query no record can match (it is not sent).
func searchSQL(q memory.Query) (query string, args []any, none bool, err error) {
	limit, err := checkQuery(q)
	if err != nil {
		return "", nil, false, err
	}
	var conds []string
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	from, order := "memory m", " ORDER BY "+memoryOrder
	if q.Text != "" {
		if len(queryWords(q.Text)) == 0 {
			return "", nil, true, nil // no words: nothing holds all of them
		}
		// plainto_tsquery parses the text as the index parsed the
		// records' and ANDs the words; it has no operators for user text
		// to reach. The text goes whole: the parser reads a token by its
		// context (" ~0" is the word "0", "~0" a file name).
		from = "memory m, plainto_tsquery('simple', " + arg(cleanText(q.Text)) + ") tq"
		conds = append(conds, "m.search @@ tq")
		order = " ORDER BY ts_rank(m.search, tq, 1) DESC, " + memoryOrder
	}
	for _, f := range [...]struct{ col, v string }{{"m.layer", q.Layer}, {"m.kind", q.Kind}, {"m.scope", q.Scope}, {"m.agent", q.Agent}, {"m.key", q.Key}} {
		if f.v != "" {
			if !storable(f.v) {
				return "", nil, true, nil // no record holds it
			}
			conds = append(conds, f.col+" = "+arg(f.v))
		}
	}
	if q.MaxLevel >= 0 {
		conds = append(conds, "m.level <= "+arg(q.MaxLevel))
	}
	// Stored times are in the years 0000–9999; a bound outside them
	// either selects nothing or every record.
	if !q.Before.IsZero() {
		switch y := q.Before.UTC().Year(); {
		case y < 0:
			return "", nil, true, nil
		case y <= 9999:
			t, ns := splitTime(q.Before)
			conds = append(conds, "(m.created, m.created_ns) < ("+arg(t)+", "+arg(ns)+")")
		}
	}
	if !q.After.IsZero() {
		switch y := q.After.UTC().Year(); {
		case y > 9999:
			return "", nil, true, nil
		case y >= 0:
			t, ns := splitTime(q.After)
			conds = append(conds, "(m.created, m.created_ns) > ("+arg(t)+", "+arg(ns)+")")
		}
	}
	query = "SELECT " + memoryColumns + " FROM " + from
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	return query + order + " LIMIT " + arg(limit), args, false, nil
}

// TouchMemory implements memory.Store. IDs that are not stored (deleted
// since they were found) are skipped; an ID listed twice counts once.
func (s *Store) TouchMemory(ctx context.Context, ids []string, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: touching memory: %w", err)
	}
	if len(ids) > maxTouch {
		return fmt.Errorf("postgres: touching %d memory records at once; at most %d are allowed, split the call", len(ids), maxTouch)
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return fmt.Errorf("postgres: touching memory at %v, outside the years 0000–9999 the store keeps", t)
	}
	if ids = storableIDs(ids); len(ids) == 0 {
		return nil
	}
	at, ns := splitTime(t)
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "UPDATE memory SET uses = uses + 1, last_used = $1, last_used_ns = $2 WHERE id = ANY($3)", at, ns, ids)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: touching %d memory records in schema %s: %w", len(ids), s.schema, err)
	}
	return nil
}

// MemoryStats implements memory.Store.
func (s *Store) MemoryStats(ctx context.Context) (memory.Stats, error) {
	if err := ctx.Err(); err != nil {
		return memory.Stats{}, fmt.Errorf("postgres: sizing memory: %w", err)
	}
	st := memory.Stats{Records: map[string]int{}}
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT layer, COUNT(*),
			COALESCE(SUM(octet_length(text)::bigint + octet_length(summary) + octet_length(one_line)), 0)::bigint
			FROM memory GROUP BY layer`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var layer string
			var n, bytes int64
			if err := rows.Scan(&layer, &n, &bytes); err != nil {
				return err
			}
			st.Records[layer] = int(n)
			st.Bytes += bytes
		}
		return rows.Err()
	})
	if err != nil {
		return memory.Stats{}, fmt.Errorf("postgres: sizing memory in schema %s: %w", s.schema, err)
	}
	return st, nil
}

// memories runs a query selecting memoryColumns.
func (s *Store) memories(ctx context.Context, q string, args ...any) ([]memory.Record, error) {
	var out []memory.Record
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanMemory(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// scanMemory reads one row of memoryColumns and checks it as PutMemory
// would: a row changed outside Sentinel is an error, not a record.
func scanMemory(rows pgx.Rows) (memory.Record, error) {
	var r memory.Record
	var created, updated, lastUsed time.Time
	var createdNs, updatedNs, lastUsedNs int16
	if err := rows.Scan(&r.ID, &r.Layer, &r.Kind, &r.Scope, &r.Agent, &r.Session, &r.Key, &r.Text, &r.Summary, &r.OneLine,
		&r.Level, &r.Importance, &r.Confidence, &r.Confirmations, &r.Uses, &r.Source.Kind, &r.Source.Tool, &r.Source.Trusted,
		&r.Source.Session, &r.Source.DecisionID, &created, &createdNs, &updated, &updatedNs, &lastUsed, &lastUsedNs); err != nil {
		return memory.Record{}, err
	}
	for _, ns := range [...]int16{createdNs, updatedNs, lastUsedNs} {
		if ns < 0 || ns > 999 {
			return memory.Record{}, fmt.Errorf("stored memory %.40q has %d nanoseconds beyond the microsecond; the table was changed outside Sentinel", r.ID, ns)
		}
	}
	r.Created = joinTime(created, createdNs)
	r.Updated = joinTime(updated, updatedNs)
	r.LastUsed = joinTime(lastUsed, lastUsedNs)
	if err := checkMemory(r); err != nil {
		return memory.Record{}, fmt.Errorf("stored %w; the table was changed outside Sentinel", err)
	}
	return r, nil
}

// splitTime splits t into the microsecond PostgreSQL keeps and the
// nanoseconds beyond it.
func splitTime(t time.Time) (time.Time, int16) {
	t = t.UTC()
	ns := t.Nanosecond() % 1000
	return t.Add(-time.Duration(ns)), int16(ns)
}

// joinTime undoes splitTime.
func joinTime(t time.Time, ns int16) time.Time {
	return t.UTC().Add(time.Duration(ns))
}
