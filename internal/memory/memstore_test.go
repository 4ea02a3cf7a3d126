package memory_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/memory"
	"github.com/sentinel-agent/sentinel/internal/memory/memorytest"
)

func TestMemStoreConformance(t *testing.T) {
	memorytest.Run(t, func(t *testing.T) memory.Store { return memory.NewMemStore() })
}

// TestMemStoreMatchesModel runs random writes against the store and a
// plain slice, comparing every kind of query as the indexes merge
// pending entries and drop dead ones.
func TestMemStoreMatchesModel(t *testing.T) {
	ctx := context.Background()
	s := memory.NewMemStore()
	model := map[string]memory.Record{}
	rng := rand.New(rand.NewPCG(1, 1))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	layers := []string{memory.LayerEpisodic, memory.LayerSemantic}
	kinds := []string{"task", "fact", "rule"}
	scopes := []string{"main", "peer:a"}
	wordsOf := []string{"alpha", "beta", "gamma", "delta"}
	check := func(step int) {
		for _, q := range []memory.Query{
			{MaxLevel: -1, Limit: 50},
			{MaxLevel: -1, Limit: 10000},
			{Layer: memory.LayerEpisodic, MaxLevel: -1, Limit: 30},
			{Layer: memory.LayerSemantic, Kind: "rule", MaxLevel: -1, Limit: 10000},
			{Layer: memory.LayerEpisodic, Scope: "peer:a", MaxLevel: 0, Limit: 7},
			{Kind: "fact", After: base.Add(500 * time.Minute), MaxLevel: -1, Limit: 20},
			{Text: "alpha beta", MaxLevel: -1, Limit: 10000},
		} {
			got, err := s.SearchMemory(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var want []memory.Record
			for _, r := range model {
				if (q.Layer == "" || r.Layer == q.Layer) && (q.Kind == "" || r.Kind == q.Kind) && (q.Scope == "" || r.Scope == q.Scope) &&
					(q.MaxLevel < 0 || r.Level <= q.MaxLevel) && (q.After.IsZero() || r.Created.After(q.After)) &&
					(q.Text == "" || strings.Contains(r.Text, "alpha") && strings.Contains(r.Text, "beta")) {
					want = append(want, r)
				}
			}
			slices.SortFunc(want, func(a, b memory.Record) int {
				return cmp.Or(cmp.Compare(b.Importance, a.Importance), b.Created.Compare(a.Created), strings.Compare(a.ID, b.ID))
			})
			if q.Text != "" {
				// Relevance decides the order: compare the sets.
				slices.SortFunc(got, func(a, b memory.Record) int { return strings.Compare(a.ID, b.ID) })
				slices.SortFunc(want, func(a, b memory.Record) int { return strings.Compare(a.ID, b.ID) })
			} else if len(want) > q.Limit {
				want = want[:q.Limit]
			}
			if len(got) != len(want) {
				t.Fatalf("step %d, query %+v: %d records, want %d", step, q, len(got), len(want))
			}
			for i := range got {
				if got[i].ID != want[i].ID || got[i].Uses != want[i].Uses {
					t.Fatalf("step %d, query %+v: record %d is %s (uses %d), want %s (uses %d)", step, q, i, got[i].ID, got[i].Uses, want[i].ID, want[i].Uses)
				}
			}
		}
	}
	for step := range 6000 {
		id := fmt.Sprintf("r%d", rng.IntN(1500))
		switch op := rng.IntN(10); {
		case op < 6:
			r := memory.Record{ID: id, Layer: layers[rng.IntN(2)], Kind: kinds[rng.IntN(3)], Scope: scopes[rng.IntN(2)],
				Text:  wordsOf[rng.IntN(4)] + " " + wordsOf[rng.IntN(4)],
				Level: rng.IntN(3), Importance: float64(rng.IntN(20)) / 20, Created: base.Add(time.Duration(rng.IntN(1000)) * time.Minute)}
			if err := s.PutMemory(ctx, r); err != nil {
				t.Fatal(err)
			}
			model[id] = r
		case op < 9:
			err := s.DeleteMemory(ctx, id)
			if _, ok := model[id]; ok != (err == nil) {
				t.Fatalf("step %d: DeleteMemory(%s) = %v, model has it: %v", step, id, err, ok)
			}
			delete(model, id)
		default:
			if err := s.TouchMemory(ctx, []string{id}, base); err != nil {
				t.Fatal(err)
			}
			if r, ok := model[id]; ok {
				r.Uses++
				model[id] = r
			}
		}
		if step%97 == 0 {
			check(step)
		}
	}
	check(6000)
}

func TestMemStoreRefusesEmptyID(t *testing.T) {
	s := memory.NewMemStore()
	if err := s.PutMemory(context.Background(), memory.Record{Text: "x"}); err == nil {
		t.Error("a record without an ID was stored")
	}
}

func TestMemStoreDatabase(t *testing.T) {
	memorytest.RunDatabase(t, func(t *testing.T) memory.Store { return memory.NewMemStore() })
}
