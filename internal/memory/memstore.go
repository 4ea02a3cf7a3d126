package memory

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// MemStore is a Store that keeps records in memory, for tests and for
// embedding Sentinel without a database. Text queries match whole words
// (letters and digits, each CJK character a word of its own, case folded,
// no stemming) in a record's Text and Key, and rank by BM25.
type MemStore struct {
	mu      sync.RWMutex
	byID    map[string]*memEntry
	slots   []*memEntry // by slot; dead once replaced or deleted, until compact
	lens    []uint32    // by slot: indexed words, read by text search without touching the entry
	dead    int
	post    map[string][]posting // word → postings in slot order
	buckets map[string]*bucket   // all, layer, layer+kind, layer+scope
	layers  map[string]int
	bytes   int64
	words   int64 // indexed words of live records, for BM25's average length
}

var _ Store = (*MemStore)(nil)

type memEntry struct {
	rec    Record
	slot   uint32
	nwords int
	// sec and nsec are rec.Created as integers, for the sort order.
	sec  int64
	nsec int32
	// dead: replaced or deleted. The entry stays in its slot, keeping its
	// place in the buckets' order, until compact drops it.
	dead bool
}

type posting struct {
	slot uint32
	tf   uint32
}

// bucket lists the slots of a group of records in the order a query
// without text returns them (betterStored), so that such a query reads
// only as far as its limit. New slots wait in pending (fewer than
// mergeAt), merged in by the writer or by a reader's settle; a reader that
// still finds some merges a sorted copy as it walks. Dead slots are
// skipped, and dropped by compact.
type bucket struct {
	sorted  []uint32
	pending []uint32
}

const mergeAt = 256

// Query bounds of every store (see Query.Limit).
const (
	maxLimit      = 10000
	maxQueryWords = 32 // words of a text query considered
)

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{
		byID:    map[string]*memEntry{},
		post:    map[string][]posting{},
		buckets: map[string]*bucket{},
		layers:  map[string]int{},
	}
}

func recordBytes(r *Record) int64 { return int64(len(r.Text) + len(r.Summary) + len(r.OneLine)) }

func bucketKeys(r *Record) [4]string {
	return [4]string{"a", "l\x00" + r.Layer, "k\x00" + r.Layer + "\x00" + r.Kind, "s\x00" + r.Layer + "\x00" + r.Scope}
}

// PutMemory inserts r or replaces the record with its ID.
func (s *MemStore) PutMemory(ctx context.Context, r Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// What the database stores refuse, this one refuses too.
	if err := CheckRecord(r); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	tf := map[string]uint32{}
	n := 0
	for _, field := range [2]string{r.Text, r.Key} {
		eachWord(field, func(w string) bool {
			tf[w]++
			n++
			return true
		})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remove(r.ID)
	e := &memEntry{rec: r, slot: uint32(len(s.slots)), nwords: n, sec: r.Created.Unix(), nsec: int32(r.Created.Nanosecond())}
	s.slots = append(s.slots, e)
	s.lens = append(s.lens, uint32(n))
	s.byID[r.ID] = e
	for w, c := range tf {
		s.post[w] = append(s.post[w], posting{e.slot, c})
	}
	for _, k := range bucketKeys(&r) {
		b := s.buckets[k]
		if b == nil {
			b = &bucket{}
			s.buckets[k] = b
		}
		b.pending = append(b.pending, e.slot)
		if len(b.pending) >= mergeAt {
			s.merge(b)
		}
	}
	s.layers[r.Layer]++
	s.bytes += recordBytes(&r)
	s.words += int64(n)
	return nil
}

// remove drops the live record id, leaving its slot dead; the indexes
// are rebuilt once dead slots outnumber live ones.
func (s *MemStore) remove(id string) bool {
	e, ok := s.byID[id]
	if !ok {
		return false
	}
	delete(s.byID, id)
	e.dead = true
	s.dead++
	s.layers[e.rec.Layer]--
	if s.layers[e.rec.Layer] == 0 {
		delete(s.layers, e.rec.Layer)
	}
	s.bytes -= recordBytes(&e.rec)
	s.words -= int64(e.nwords)
	if s.dead > 1024 && s.dead > len(s.byID) {
		s.compact()
	}
	return true
}

// compact renumbers the live slots and drops dead ones from the postings
// and buckets, keeping every list in slot order.
func (s *MemStore) compact() {
	renum := make([]uint32, len(s.slots))
	live := make([]*memEntry, 0, len(s.byID))
	lens := make([]uint32, 0, len(s.byID))
	for i, e := range s.slots {
		if e.dead {
			renum[i] = math.MaxUint32
			continue
		}
		renum[i] = uint32(len(live))
		e.slot = renum[i]
		live = append(live, e)
		lens = append(lens, s.lens[i])
	}
	for w, ps := range s.post {
		out := ps[:0]
		for _, p := range ps {
			if n := renum[p.slot]; n != math.MaxUint32 {
				out = append(out, posting{n, p.tf})
			}
		}
		if len(out) == 0 {
			delete(s.post, w)
		} else {
			s.post[w] = out
		}
	}
	remap := func(slots []uint32) []uint32 {
		out := slots[:0]
		for _, slot := range slots {
			if n := renum[slot]; n != math.MaxUint32 {
				out = append(out, n)
			}
		}
		return out
	}
	for k, b := range s.buckets {
		b.sorted, b.pending = remap(b.sorted), remap(b.pending)
		if len(b.sorted)+len(b.pending) == 0 {
			delete(s.buckets, k)
		}
	}
	s.slots, s.lens, s.dead = live, lens, 0
}

// GetMemory returns the record, or an error wrapping ErrNotFound.
func (s *MemStore) GetMemory(ctx context.Context, id string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.byID[id]
	if !ok {
		return Record{}, notFound(id)
	}
	return e.rec, nil
}

func notFound(id string) error {
	return &notFoundError{id: id}
}

type notFoundError struct{ id string }

func (e *notFoundError) Error() string { return ErrNotFound.Error() + ": " + e.id }
func (e *notFoundError) Unwrap() error { return ErrNotFound }

// DeleteMemory removes the record; a missing one is ErrNotFound.
func (s *MemStore) DeleteMemory(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.remove(id) {
		return notFound(id)
	}
	return nil
}

// TouchMemory marks records as retrieved at t; missing IDs are skipped
// (a record forgotten between a search and its touch is not an error).
func (s *MemStore) TouchMemory(ctx context.Context, ids []string, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(ids) > MaxTouch {
		return fmt.Errorf("memory: touching %d records at once; at most %d", len(ids), MaxTouch)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		// A record named twice in one call is retrieved once, as the
		// database stores count it.
		if e, ok := s.byID[id]; ok && !seen[id] {
			seen[id] = true
			e.rec.Uses++
			e.rec.LastUsed = t
		}
	}
	return nil
}

// MemoryStats sizes the store.
func (s *MemStore) MemoryStats(ctx context.Context) (Stats, error) {
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := Stats{Records: make(map[string]int, len(s.layers)), Bytes: s.bytes}
	for l, n := range s.layers {
		st.Records[l] = n
	}
	return st, nil
}

// SearchMemory returns the records q selects, best first.
func (s *MemStore) SearchMemory(ctx context.Context, q Query) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	limit, err := CheckQuery(q)
	if err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	if q.Text == "" {
		s.settle(bucketKey(&q))
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if q.Text == "" {
		var out []Record
		s.ordered(q, func(e *memEntry) bool {
			out = append(out, e.rec)
			return len(out) < limit
		})
		return out, nil
	}
	top := s.searchText(q, limit)
	best := top.sorted()
	out := make([]Record, len(best))
	for i, it := range best {
		out[i] = it.e.rec
	}
	return out, nil
}

// merge sorts a bucket's pending slots into its sorted ones, in place:
// each pending slot's place is found by bisection and the slots after it
// move up in one copy, so a merge costs m·log n comparisons and one pass
// of memory moves. Dead slots stay until compact. The lock is held for
// writing.
func (s *MemStore) merge(b *bucket) {
	s.sortSlots(b.pending)
	n, m := len(b.sorted), len(b.pending)
	b.sorted = slices.Grow(b.sorted, m)[:n+m]
	end, hi := n+m, n // b.sorted[hi:end] is free; b.sorted[:hi] not yet moved
	for j := m - 1; j >= 0; j-- {
		p := b.pending[j]
		k := sort.Search(hi, func(x int) bool { return !s.before(b.sorted[x], p) })
		copy(b.sorted[end-(hi-k):end], b.sorted[k:hi])
		end -= hi - k
		end--
		b.sorted[end] = p
		hi = k
	}
	b.pending = b.pending[:0]
}

func (s *MemStore) sortSlots(slots []uint32) {
	slices.SortFunc(slots, func(a, b uint32) int {
		switch {
		case s.before(a, b):
			return -1
		case s.before(b, a):
			return 1
		}
		return 0
	})
}

// before orders two slots, live or dead, as betterStored.
func (s *MemStore) before(a, b uint32) bool {
	return betterStored(scored{e: s.slots[a]}, scored{e: s.slots[b]})
}

// bucketKey names the narrowest bucket that covers q.
func bucketKey(q *Query) string {
	switch {
	case q.Layer != "" && q.Kind != "":
		return "k\x00" + q.Layer + "\x00" + q.Kind
	case q.Layer != "" && q.Scope != "":
		return "s\x00" + q.Layer + "\x00" + q.Scope
	case q.Layer != "":
		return "l\x00" + q.Layer
	}
	return "a"
}

// settle merges the pending slots of a bucket before it is read, so that
// reads after a burst of writes walk one sorted list. A write may add
// more before the read; ordered copes with that.
func (s *MemStore) settle(key string) {
	s.mu.RLock()
	b := s.buckets[key]
	need := b != nil && len(b.pending) > 0
	s.mu.RUnlock()
	if need {
		s.mu.Lock()
		if b := s.buckets[key]; b != nil && len(b.pending) > 0 {
			s.merge(b)
		}
		s.mu.Unlock()
	}
}

// ordered calls fn, best first, with every live record q's fields select,
// from the narrowest bucket that covers the query, until fn returns
// false. The lock is held for reading: pending slots are sorted in a
// copy.
func (s *MemStore) ordered(q Query, fn func(*memEntry) bool) {
	b := s.buckets[bucketKey(&q)]
	if b == nil {
		return
	}
	pending := slices.Clone(b.pending)
	s.sortSlots(pending)
	i, j := 0, 0
	for i < len(b.sorted) || j < len(pending) {
		var slot uint32
		if j == len(pending) || i < len(b.sorted) && s.before(b.sorted[i], pending[j]) {
			slot, i = b.sorted[i], i+1
		} else {
			slot, j = pending[j], j+1
		}
		if e := s.slots[slot]; !e.dead && matches(&e.rec, &q) && !fn(e) {
			return
		}
	}
}

// matches applies every field of q except Text and Limit.
func matches(r *Record, q *Query) bool {
	return (q.Layer == "" || r.Layer == q.Layer) &&
		(q.Kind == "" || r.Kind == q.Kind) &&
		(q.Scope == "" || r.Scope == q.Scope) &&
		(q.Agent == "" || r.Agent == q.Agent) &&
		(q.Key == "" || r.Key == q.Key) &&
		(q.MaxLevel < 0 || r.Level <= q.MaxLevel) &&
		(q.After.IsZero() || r.Created.After(q.After)) &&
		(q.Before.IsZero() || r.Created.Before(q.Before))
}

// BM25 parameters.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// searchText intersects the postings of the query's words, shortest list
// first, and ranks the records that have them all by BM25.
func (s *MemStore) searchText(q Query, limit int) topK {
	top := topK{k: limit, better: betterScored}
	words := queryWords(q.Text, maxQueryWords)
	if len(words) == 0 {
		return top
	}
	lists := make([][]posting, len(words))
	for i, w := range words {
		lists[i] = s.post[w]
		if len(lists[i]) == 0 {
			return top
		}
	}
	// Shortest first: it drives the intersection; the others are searched.
	for i := 1; i < len(lists); i++ {
		for j := i; j > 0 && len(lists[j]) < len(lists[j-1]); j-- {
			lists[j], lists[j-1] = lists[j-1], lists[j]
		}
	}
	n := float64(max(len(s.byID), 1))
	avg := max(float64(s.words)/n, 1)
	idf := make([]float64, len(lists))
	for i, l := range lists {
		df := float64(len(l))
		idf[i] = math.Log(1 + (n-df+0.5)/(df+0.5))
	}
	cursor := make([]int, len(lists))
	// Score from the postings and lengths alone; read the entry (a cache
	// miss each) only for a candidate that could enter the top k.
	for _, p := range lists[0] {
		norm := bm25K1 * (1 - bm25B + bm25B*float64(s.lens[p.slot])/avg)
		score := idf[0] * float64(p.tf) * (bm25K1 + 1) / (float64(p.tf) + norm)
		ok := true
		for i := 1; i < len(lists); i++ {
			l := lists[i]
			c := seek(l, cursor[i], p.slot)
			cursor[i] = c
			if c == len(l) || l[c].slot != p.slot {
				ok = false
				break
			}
			tf := float64(l[c].tf)
			score += idf[i] * tf * (bm25K1 + 1) / (tf + norm)
		}
		if !ok || len(top.items) == top.k && score < top.items[0].score {
			continue
		}
		if e := s.slots[p.slot]; !e.dead && matches(&e.rec, &q) {
			top.offer(e, score)
		}
	}
	return top
}

// seek returns the first index at or after from whose slot is ≥ slot,
// galloping then bisecting, so that intersecting a short list with a long
// one costs O(short · log long).
func seek(l []posting, from int, slot uint32) int {
	step := 1
	hi := from
	for hi < len(l) && l[hi].slot < slot {
		from = hi + 1
		hi += step
		step *= 2
	}
	hi = min(hi, len(l))
	for from < hi {
		mid := int(uint(from+hi) >> 1)
		if l[mid].slot < slot {
			from = mid + 1
		} else {
			hi = mid
		}
	}
	return from
}

type scored struct {
	e     *memEntry
	score float64
}

// betterStored is the order without text: importance, newer, then ID.
func betterStored(a, b scored) bool {
	ea, eb := a.e, b.e
	switch {
	case ea.rec.Importance != eb.rec.Importance:
		return ea.rec.Importance > eb.rec.Importance
	case ea.sec != eb.sec:
		return ea.sec > eb.sec
	case ea.nsec != eb.nsec:
		return ea.nsec > eb.nsec
	}
	return ea.rec.ID < eb.rec.ID
}

// betterScored is the order with text: relevance, then betterStored.
func betterScored(a, b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return betterStored(a, b)
}

// topK keeps the k best items offered, in a heap whose root is the worst.
type topK struct {
	k      int
	better func(a, b scored) bool
	items  []scored
}

func (t *topK) offer(e *memEntry, score float64) {
	it := scored{e, score}
	if len(t.items) < t.k {
		t.items = append(t.items, it)
		t.up(len(t.items) - 1)
		return
	}
	if !t.better(it, t.items[0]) {
		return
	}
	t.items[0] = it
	t.down(0)
}

func (t *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.better(t.items[p], t.items[i]) {
			return
		}
		t.items[p], t.items[i] = t.items[i], t.items[p]
		i = p
	}
}

func (t *topK) down(i int) {
	n := len(t.items)
	for {
		worst, l, r := i, 2*i+1, 2*i+2
		if l < n && t.better(t.items[worst], t.items[l]) {
			worst = l
		}
		if r < n && t.better(t.items[worst], t.items[r]) {
			worst = r
		}
		if worst == i {
			return
		}
		t.items[i], t.items[worst] = t.items[worst], t.items[i]
		i = worst
	}
}

// sorted empties the heap into a best-first slice.
func (t *topK) sorted() []scored {
	out := make([]scored, len(t.items))
	for i := len(t.items) - 1; i >= 0; i-- {
		out[i] = t.items[0]
		last := len(t.items) - 1
		t.items[0] = t.items[last]
		t.items = t.items[:last]
		t.down(0)
	}
	return out
}
