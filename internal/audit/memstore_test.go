package audit

import (
	"context"
	"sort"
	"sync"
)

// memStore is an in-memory Store for the chain and verification tests of
// this package; the SQLite and PostgreSQL stores are held to the same
// contract by internal/store/storetest, and the audit log is tested on
// SQLite in log_sqlite_test.go.
type memStore struct {
	mu   sync.Mutex
	recs []Record
	cks  map[uint64]Checkpoint
	fail error
}

func newMemStore() *memStore { return &memStore{cks: map[uint64]Checkpoint{}} }

func (m *memStore) head() Head {
	if len(m.recs) == 0 {
		return Head{}
	}
	r := m.recs[len(m.recs)-1]
	return Head{Seq: r.Seq, Hash: r.Hash}
}

func (m *memStore) Append(ctx context.Context, seal Seal) (Head, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return Head{}, m.fail
	}
	h := m.head()
	recs, err := seal(h)
	if err != nil {
		return Head{}, err
	}
	for i, r := range recs {
		if r.Seq != h.Seq+uint64(i)+1 || i == 0 && r.PrevHash != h.Hash || i > 0 && r.PrevHash != recs[i-1].Hash {
			return Head{}, ErrConflict
		}
	}
	for _, r := range recs {
		r.Body = append([]byte(nil), r.Body...)
		m.recs = append(m.recs, r)
	}
	return m.head(), nil
}

func (m *memStore) Head(ctx context.Context) (Head, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return Head{}, m.fail
	}
	return m.head(), nil
}

func (m *memStore) Scan(ctx context.Context, from uint64, fn func(Record) error) error {
	m.mu.Lock()
	recs := append([]Record(nil), m.recs...)
	m.mu.Unlock()
	for _, r := range recs {
		if r.Seq >= from {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memStore) Query(ctx context.Context, f Filter) ([]Record, error) {
	var out []Record
	err := m.Scan(ctx, 0, func(r Record) error {
		if (f.Session == "" || r.Session == f.Session) && (f.Action == "" || r.Action == f.Action) {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func (m *memStore) Stats(ctx context.Context, f Filter, highRisk float64) (Stats, error) {
	s := Stats{ByAction: map[string]int64{}, ByTool: map[string]int64{}}
	recs, err := m.Query(ctx, f)
	for _, r := range recs {
		s.Total++
		s.ByAction[r.Action]++
		s.ByTool[r.Tool]++
	}
	return s, err
}

func (m *memStore) PutCheckpoint(ctx context.Context, c Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if old, ok := m.cks[c.Seq]; ok && old.Hash != c.Hash {
		return ErrConflict
	}
	c.Body = append([]byte(nil), c.Body...)
	m.cks[c.Seq] = c
	return nil
}

func (m *memStore) Checkpoints(ctx context.Context, from uint64) ([]Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Checkpoint
	for _, c := range m.cks {
		if c.Seq >= from {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

func (m *memStore) Prune(ctx context.Context, before uint64, anchor Checkpoint) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var kept []Record
	var n int64
	for _, r := range m.recs {
		if r.Seq < before {
			n++
			continue
		}
		kept = append(kept, r)
	}
	m.recs = kept
	m.cks[anchor.Seq] = anchor
	return n, nil
}

func (m *memStore) Close() error { return nil }
