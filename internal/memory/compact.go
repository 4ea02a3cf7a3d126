package memory

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"time"
)

// maxEnumerate bounds the records one pass over a layer reads (Compact,
// Export, MEMORY.md).
const maxEnumerate = 1_000_000

// levelWeight is β in the compaction priority p = I + β·Level: a record
// already compressed is kept a little longer, so that many unimportant
// records lose their detail before any of them is forgotten, and an
// important record is only compressed once the unimportant are gone.
const levelWeight = 0.15

// lowWater is the fraction of the cap Compact brings the layer down to,
// so that it does not run again after every write.
const lowWater = 0.9

// CompactReport says what Compact did.
type CompactReport struct {
	Records    int   `json:"records"`      // episodic records read
	Before     int64 `json:"bytes_before"` // episodic bytes before
	After      int64 `json:"bytes_after"`  // and after
	Summarized int   `json:"summarized"`   // full → summary
	OneLined   int   `json:"one_lined"`    // summary → one-liner
	Forgotten  int   `json:"forgotten"`    // one-liner → deleted
}

// Compact enforces Options.MaxEpisodicBytes on this agent's episodic
// layer. When the layer is over the cap, the record with the lowest
// priority
//
//	p = I + 0.15·Level      (I: live importance, see the package doc)
//
// is compressed one step (full → summary → one-liner → forgotten) and
// pushed back, until the layer is at 90% of the cap. Ties go to the older
// record. A record changed by someone else during the pass is left alone.
func (m *Memory) Compact(ctx context.Context) (CompactReport, error) {
	if m.err != nil {
		return CompactReport{}, m.err
	}
	m.compactMu.Lock()
	defer m.compactMu.Unlock()
	var recs []Record
	var total int64
	err := m.each(ctx, Query{Layer: LayerEpisodic, Agent: m.opt.Agent, MaxLevel: -1}, func(r *Record) error {
		recs = append(recs, *r)
		total += recordBytes(r)
		return nil
	})
	if err != nil {
		return CompactReport{}, fmt.Errorf("memory: reading the episodic layer: %w", err)
	}
	rep := CompactReport{Records: len(recs), Before: total, After: total}
	if total > m.opt.MaxEpisodicBytes {
		if err := m.shrink(ctx, recs, &rep); err != nil {
			return rep, err
		}
	}
	m.statMu.Lock()
	m.measured, m.written = rep.After, 0
	m.statMu.Unlock()
	return rep, nil
}

// shrink plans the compression of recs down to the low-water mark, then
// writes it.
func (m *Memory) shrink(ctx context.Context, recs []Record, rep *CompactReport) error {
	now := m.now()
	target := int64(float64(m.opt.MaxEpisodicBytes) * lowWater)
	work := make([]Record, len(recs))
	copy(work, recs)
	forgotten := make([]bool, len(recs))
	h := &compactHeap{}
	for i := range work {
		h.items = append(h.items, compactItem{i, m.liveImportance(&work[i], now) + levelWeight*float64(work[i].Level), &work[i]})
	}
	heap.Init(h)
	total := rep.Before
	for total > target && h.Len() > 0 {
		it := heap.Pop(h).(compactItem)
		r := it.rec
		before := recordBytes(r)
		if r.Level >= LevelOneLine {
			forgotten[it.idx] = true
			total -= before
			continue
		}
		compressStep(r)
		total += recordBytes(r) - before
		it.p += levelWeight
		heap.Push(h, it)
	}
	var errs []error
	for i := range work {
		orig, next := &recs[i], &work[i]
		switch {
		case forgotten[i]:
			if err := m.store.DeleteMemory(ctx, orig.ID); err != nil && !errors.Is(err, ErrNotFound) {
				errs = append(errs, err)
				continue
			}
			rep.Forgotten++
			rep.After -= recordBytes(orig)
		case next.Level != orig.Level:
			written, err := m.writeCompressed(ctx, orig, next.Level, now)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !written {
				continue
			}
			for l := orig.Level; l < next.Level; l++ {
				if l == LevelFull {
					rep.Summarized++
				} else {
					rep.OneLined++
				}
			}
			rep.After += recordBytes(next) - recordBytes(orig)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("memory: compacting: %w", errors.Join(errs...))
	}
	return nil
}

// writeCompressed compresses the stored record to level, reading it again
// so that a retrieval counted meanwhile is kept; a record whose text or
// level changed since it was read is left alone.
func (m *Memory) writeCompressed(ctx context.Context, orig *Record, level int, now time.Time) (bool, error) {
	cur, err := m.store.GetMemory(ctx, orig.ID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if cur.Level != orig.Level || cur.Text != orig.Text {
		return false, nil
	}
	for cur.Level < level {
		compressStep(&cur)
	}
	cur.Updated = now
	return true, m.store.PutMemory(ctx, cur)
}

// compressStep moves r one level down: its summary (or one-liner) becomes
// its text. An empty Summary or OneLine means "the same as the level
// before" (see summarize).
func compressStep(r *Record) {
	switch r.Level {
	case LevelFull:
		if r.Summary != "" {
			r.Text = r.Summary
		}
		r.Summary = ""
		r.Level = LevelSummary
	case LevelSummary:
		if r.OneLine != "" {
			r.Text = r.OneLine
		}
		r.OneLine = ""
		r.Level = LevelOneLine
	}
}

type compactItem struct {
	idx int
	p   float64
	rec *Record
}

// compactHeap pops the lowest priority first, the older record on ties,
// then the smaller ID, so that a pass is deterministic.
type compactHeap struct{ items []compactItem }

func (h *compactHeap) Len() int { return len(h.items) }
func (h *compactHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.p != b.p {
		return a.p < b.p
	}
	if !a.rec.Created.Equal(b.rec.Created) {
		return a.rec.Created.Before(b.rec.Created)
	}
	return a.rec.ID < b.rec.ID
}
func (h *compactHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *compactHeap) Push(x any)    { h.items = append(h.items, x.(compactItem)) }
func (h *compactHeap) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}

// each calls fn once with every record q selects (q.Text and q.Limit are
// ignored). A Store returns at most 10,000 records a query and has no
// cursor, so each pages by creation time: a window that comes back full
// is split in two, at microsecond boundaries (PostgreSQL's precision),
// the halves overlapping by a microsecond and duplicates dropped by ID.
func (m *Memory) each(ctx context.Context, q Query, fn func(*Record) error) error {
	q.Text, q.Limit = "", maxLimit
	type window struct{ after, before time.Time }
	stack := []window{{}} // first: no bounds at all
	seen := map[string]bool{}
	for len(stack) > 0 {
		w := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		q.After, q.Before = w.after, w.before
		rs, err := m.store.SearchMemory(ctx, q)
		if err != nil {
			return err
		}
		if len(rs) >= maxLimit {
			if w.after.IsZero() && w.before.IsZero() {
				stack = append(stack, window{epoch.Add(-time.Microsecond), m.now().AddDate(100, 0, 0)})
				continue
			}
			span := w.before.Sub(w.after)
			if span <= 2*time.Microsecond {
				return fmt.Errorf("%w: more than %d records created within %v", ErrLimit, maxLimit, span)
			}
			mid := w.after.Add(span / 2).Truncate(time.Microsecond)
			if !mid.After(w.after) {
				mid = w.after.Add(time.Microsecond)
			}
			stack = append(stack, window{mid.Add(-time.Microsecond), w.before}, window{w.after, mid})
			continue
		}
		for i := range rs {
			if seen[rs[i].ID] {
				continue
			}
			seen[rs[i].ID] = true
			if len(seen) > maxEnumerate {
				return fmt.Errorf("%w: more than %d records in one pass", ErrLimit, maxEnumerate)
			}
			if err := fn(&rs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
