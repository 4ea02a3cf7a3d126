package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/sentinel-agent/sentinel/internal/memory"
	"github.com/sentinel-agent/sentinel/internal/memory/memorytest"
	"github.com/sentinel-agent/sentinel/internal/store/postgres"
)

func openMemory(t testing.TB) *postgres.Store {
	return open(t, freshSchema(t))
}

func TestMemoryConformance(t *testing.T) {
	memorytest.Run(t, func(t *testing.T) memory.Store { return openMemory(t) })
}

func TestMemoryDatabase(t *testing.T) {
	memorytest.RunDatabase(t, func(t *testing.T) memory.Store { return openMemory(t) })
}

// TestMemorySearchFolding is PostgreSQL's: the 'simple' configuration
// lower-cases words in any script (as the database's locale does) but
// keeps accents, and its parser keeps addresses, paths and hyphenated
// words whole beside their parts.
func TestMemorySearchFolding(t *testing.T) {
	s := openMemory(t)
	memorytest.PutAll(t, s,
		memorytest.Rec("fr", memory.LayerEpisodic, "Le Café était fermé à Noël", 0.5, memorytest.Base),
		memorytest.Rec("ru", memory.LayerEpisodic, "Привет МИР", 0.5, memorytest.Base),
		memorytest.Rec("ja", memory.LayerEpisodic, "東京 タワー", 0.5, memorytest.Base),
		memorytest.Rec("addr", memory.LayerEpisodic, "mail user@example.com about /etc/passwd and the follow-up", 0.5, memorytest.Base),
	)
	for text, want := range map[string][]string{
		"CAFÉ noël": {"fr"}, "cafe": {}, "мир привет": {"ru"}, "東京": {"ja"},
		"USER@example.com": {"addr"}, "/etc/passwd": {"addr"}, "follow-up": {"addr"}, "follow": {"addr"}, "example": {},
	} {
		if got := memorytest.SearchIDs(t, s, memory.Query{Text: text}); !slices.Equal(got, want) {
			t.Errorf("SearchMemory(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestMemoryReopen(t *testing.T) {
	schema := freshSchema(t)
	s := open(t, schema)
	rs := memorytest.FilterRecords()
	memorytest.PutAll(t, s, rs...)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, schema)
	if got := memorytest.SearchIDs(t, s, memory.Query{Text: "billing", MaxLevel: -1}); len(got) != 3 {
		t.Fatalf("after reopening, the text search finds %v", got)
	}
	got, err := s.GetMemory(context.Background(), rs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rs[0], got); diff != "" {
		t.Fatalf("after reopening (-put +got):\n%s", diff)
	}
}

// TestMemoryTamperedRow: a row changed outside Sentinel into something
// PutMemory would refuse is an error, not a record.
func TestMemoryTamperedRow(t *testing.T) {
	ctx := context.Background()
	c := connect(t)
	for _, tt := range []struct{ set, want string }{
		{"level = 7", "level 7"},
		{"importance = 2", "importance is 2"},
		{"created_ns = 1000", "1000 nanoseconds"},
		{"layer = 'working'", `layer "working"`},
	} {
		t.Run(tt.set, func(t *testing.T) {
			schema := freshSchema(t)
			s := open(t, schema)
			memorytest.PutAll(t, s, memorytest.Rec("a", memory.LayerEpisodic, "billing", 0.5, memorytest.Base))
			if _, err := c.Exec(ctx, "UPDATE "+pgx.Identifier{schema, "memory"}.Sanitize()+" SET "+tt.set+" WHERE id = 'a'"); err != nil {
				t.Fatal(err)
			}
			_, err := s.GetMemory(ctx, "a")
			if err == nil || errors.Is(err, memory.ErrNotFound) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("GetMemory of a tampered row = %v, want an error naming %q", err, tt.want)
			}
			if _, err := s.SearchMemory(ctx, memory.Query{Text: "billing", MaxLevel: -1}); err == nil {
				t.Error("SearchMemory returned a tampered row without an error")
			}
		})
	}
}

// TestMemoryTimesBeyondMicroseconds: PostgreSQL keeps microseconds; the
// store keeps the nanoseconds beside them, so that records round-trip and
// order and filter as in SQLite, before 1970 and in year 0 too.
func TestMemoryTimesBeyondMicroseconds(t *testing.T) {
	s := openMemory(t)
	ctx := context.Background()
	var rs []memory.Record
	for i, at := range []time.Time{
		time.Date(2026, 1, 2, 3, 4, 5, 999, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 1, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 7, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	} {
		r := memorytest.Rec(string(rune('a'+i)), memory.LayerEpisodic, "tick", 0.5, at)
		r.LastUsed = at.Add(-3)
		rs = append(rs, r)
	}
	memorytest.PutAll(t, s, rs...)
	for _, want := range rs {
		got, err := s.GetMemory(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("record %s (-put +got):\n%s", want.ID, diff)
		}
	}
	if got := memorytest.SearchIDs(t, s, memory.Query{MaxLevel: -1}); !slices.Equal(got, []string{"f", "a", "b", "c", "d", "e"}) {
		t.Errorf("newest first = %v", got)
	}
	q := memory.Query{After: rs[1].Created, Before: rs[0].Created, MaxLevel: -1}
	if got := memorytest.SearchIDs(t, s, q); len(got) != 0 {
		t.Errorf("strictly between 1 ns and 999 ns past the second: %v", got)
	}
	q = memory.Query{After: rs[2].Created, Before: rs[0].Created.Add(1), MaxLevel: -1}
	if got := memorytest.SearchIDs(t, s, q); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("after the second, before 1000 ns past it: %v, want [a b]", got)
	}
}
