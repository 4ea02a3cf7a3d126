package memory

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// microStore keeps times at microseconds and rounds query bounds, as
// PostgreSQL does with timestamptz.
type microStore struct{ *MemStore }

func (s microStore) PutMemory(ctx context.Context, r Record) error {
	r.Created = r.Created.Round(time.Microsecond)
	return s.MemStore.PutMemory(ctx, r)
}

func (s microStore) SearchMemory(ctx context.Context, q Query) ([]Record, error) {
	if !q.After.IsZero() {
		q.After = q.After.Round(time.Microsecond)
	}
	if !q.Before.IsZero() {
		q.Before = q.Before.Round(time.Microsecond)
	}
	return s.MemStore.SearchMemory(ctx, q)
}

func TestEachPagesPastTheLimit(t *testing.T) {
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		store Store
	}{{"nanoseconds", NewMemStore()}, {"microseconds", microStore{NewMemStore()}}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			const n = 25000
			for i := range n {
				// Three records per microsecond, and a spread-out tail.
				at := base.Add(time.Duration(i) * 333 * time.Nanosecond)
				if i%10 == 0 {
					at = base.Add(time.Duration(i) * time.Hour)
				}
				if err := tc.store.PutMemory(ctx, Record{ID: fmt.Sprint(i), Layer: LayerEpisodic, Agent: "a", Text: "x", Created: at}); err != nil {
					t.Fatal(err)
				}
			}
			m := New(tc.store, Options{Agent: "a", Now: func() time.Time { return base.Add(n * time.Hour) }})
			seen := map[string]int{}
			if err := m.each(ctx, Query{Layer: LayerEpisodic, MaxLevel: -1}, func(r *Record) error { seen[r.ID]++; return nil }); err != nil {
				t.Fatal(err)
			}
			if len(seen) != n {
				t.Errorf("each visited %d records, want %d", len(seen), n)
			}
			for id, c := range seen {
				if c != 1 {
					t.Fatalf("record %s visited %d times", id, c)
				}
			}
		})
	}
}

func TestEachRefusesTooManyAtOneInstant(t *testing.T) {
	ctx := context.Background()
	s := NewMemStore()
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxLimit + 1 {
		if err := s.PutMemory(ctx, Record{ID: fmt.Sprint(i), Layer: LayerEpisodic, Agent: defaultAgent, Text: "x", Created: at}); err != nil {
			t.Fatal(err)
		}
	}
	m := New(s, Options{Now: func() time.Time { return at }})
	err := m.each(ctx, Query{Layer: LayerEpisodic, MaxLevel: -1}, func(*Record) error { return nil })
	if !errors.Is(err, ErrLimit) {
		t.Errorf("each over %d records at one instant: %v", maxLimit+1, err)
	}
	// Compact then fails closed: nothing is compressed blindly.
	if _, err := m.Compact(ctx); err == nil {
		t.Error("Compact went ahead without reading the whole layer")
	}
}
