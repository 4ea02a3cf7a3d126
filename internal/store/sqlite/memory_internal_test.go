package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sentinel-agent/sentinel/internal/memory"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "audit.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testRecord(id, text string) memory.Record {
	t0 := time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC)
	return memory.Record{ID: id, Layer: memory.LayerEpisodic, Kind: "note", Scope: "main", Text: text, Importance: 0.5,
		Source: memory.Source{Kind: "user", Trusted: true}, Created: t0, Updated: t0}
}

func TestFTSQuery(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"  \t\n", ""},
		{"billing", `"billing"`},
		{"billing  staging", `"billing" "staging"`},
		{`say "hi"`, `"say" """hi"""`},
		{"a OR b NOT c", `"a" "OR" "b" "NOT" "c"`},
		{"NEAR(a b) x:y *z ^w", `"NEAR(a" "b)" "x:y" "*z" "^w"`},
		{"a\x00b", `"a" "b"`},
		{"a\xffb", `"a" "b"`},
	} {
		if got := ftsQuery(tt.in); got != tt.want {
			t.Errorf("ftsQuery(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestMemoryIndexInStep checks, with FTS5's own integrity check, that the
// triggers keep the index in step with the table through puts, upserts,
// touches and deletes; and that the check sees an index out of step.
func TestMemoryIndexInStep(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	check := func() error {
		_, err := s.w.ExecContext(ctx, "INSERT INTO memory_fts (memory_fts, rank) VALUES ('integrity-check', 1)")
		return err
	}
	for i := range 200 {
		r := testRecord(fmt.Sprintf("r%d", i%50), fmt.Sprintf("text %d of round %d", i, i/50))
		r.Key, r.Summary = fmt.Sprintf("key%d", i%7), fmt.Sprintf("summary %d", i)
		if err := s.PutMemory(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.TouchMemory(ctx, []string{"r1", "r2", "r3"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := s.DeleteMemory(ctx, fmt.Sprintf("r%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := check(); err != nil {
		t.Fatalf("the full-text index is out of step with the table: %v", err)
	}
	if _, err := s.w.ExecContext(ctx, "DROP TRIGGER memory_fts_update; UPDATE memory SET text = 'changed behind the index' WHERE id = 'r30'"); err != nil {
		t.Fatal(err)
	}
	if err := check(); err == nil {
		t.Fatal("the integrity check passed with an index out of step")
	}
}

// TestMemoryTamperedRow: a row changed outside Sentinel into something
// PutMemory would refuse is an error, not a record.
func TestMemoryTamperedRow(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct{ set, want string }{
		{"level = 7", "level 7"},
		{"importance = 2", "importance is 2"},
		{"created = 'yesterday'", "not in the store's format"},
		{"layer = 'working'", `layer "working"`},
	} {
		t.Run(tt.set, func(t *testing.T) {
			s := openTest(t)
			if err := s.PutMemory(ctx, testRecord("a", "billing")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.w.ExecContext(ctx, "UPDATE memory SET "+tt.set+" WHERE id = 'a'"); err != nil {
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

// FuzzSearchMemory: whatever the text, a search either runs or, over the
// documented bounds, says so; it returns only stored records, each once;
// a record holding the text is found by it; and a record of one word is
// found only by text made of that word.
func FuzzSearchMemory(f *testing.F) {
	for _, seed := range []string{
		"billing", `"unbalanced`, `a "b c" d`, "a OR b", "NOT x", "a AND b", "NEAR(a b, 3)", "col:x", "x*", "^x",
		"(a OR b) AND -c", "{a b}:c", "+a -b", "\x00", "\xff\xfe", "quartz", "QUÄRTZ quartz", "user@example.com",
		"-- ; DROP TABLE memory; --", "' OR 1=1 --", "东京 タワー", "!!!", "", " ", strings.Repeat("w ", 65),
		strings.Repeat("x", 4097), "a\tb\nc\rd", "\"\"\"\"", "''", "\\", "%_", "e\u0301", "\u200b",
	} {
		f.Add(seed)
	}
	s := openTest(f)
	ctx := context.Background()
	control := testRecord("control", "quartz")
	stored := map[string]memory.Record{"control": control}
	for i, text := range []string{"billing run", "the quick brown fox", "user@example.com wrote", "NEAR OR AND NOT"} {
		r := testRecord(fmt.Sprintf("other%d", i), text)
		stored[r.ID] = r
	}
	for _, r := range stored {
		if err := s.PutMemory(ctx, r); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		probe := testRecord("probe", strings.ReplaceAll(strings.ToValidUTF8(text, " "), "\x00", " "))
		if err := s.PutMemory(ctx, probe); err != nil {
			if len(probe.Text) <= maxMemoryText {
				t.Fatalf("PutMemory of %q: %v", probe.Text, err)
			}
			probe.Text = "placeholder"
			if err := s.PutMemory(ctx, probe); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.SearchMemory(ctx, memory.Query{Text: text, MaxLevel: -1})
		tooBig := len(text) > maxQueryText || len(strings.Fields(strings.ReplaceAll(strings.ToValidUTF8(text, " "), "\x00", " "))) > maxQueryWords
		if tooBig {
			if err == nil {
				t.Fatalf("SearchMemory of %d bytes ran; want an error over the bounds", len(text))
			}
			return
		}
		if err != nil {
			t.Fatalf("SearchMemory(%q): %v", text, err)
		}
		seen := map[string]bool{}
		for _, r := range got {
			if seen[r.ID] {
				t.Fatalf("SearchMemory(%q) returned %s twice", text, r.ID)
			}
			seen[r.ID] = true
			want, ok := stored[r.ID]
			if r.ID == "probe" {
				want, ok = probe, true
			}
			if !ok {
				t.Fatalf("SearchMemory(%q) returned %q, which was never stored", text, r.ID)
			}
			if diff := cmp.Diff(want, r); diff != "" {
				t.Fatalf("SearchMemory(%q) returned record %s changed (-stored +got):\n%s", text, r.ID, diff)
			}
		}
		lower := strings.ToLower(text)
		if seen["control"] && strings.IndexFunc(lower, func(c rune) bool {
			return c < 0x80 && (c >= 'a' && c <= 'z' || c >= '0' && c <= '9') && !strings.ContainsRune("quartz", c)
		}) >= 0 {
			t.Fatalf("SearchMemory(%q) returned the record of the one word %q", text, control.Text)
		}
		hasWord := strings.IndexFunc(lower, func(c rune) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }) >= 0
		if hasWord && probe.Text != "placeholder" && !seen["probe"] {
			t.Fatalf("SearchMemory(%q) did not find the record holding that text; it found %d others", text, len(got))
		}
	})
}

// TestMemoryKindPlan holds the plan of the memory context's reads: a
// search by kind walks memory_kind, so it reads the kind's best records
// and no other kind's (with memory_scope it read the whole layer).
func TestMemoryKindPlan(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	q := memory.Query{Layer: memory.LayerSemantic, Kind: "fact", Scope: "main", Agent: "default", MaxLevel: -1, Limit: 100}
	conds, args, none := memoryFilters(q)
	if none {
		t.Fatal("the query selects nothing")
	}
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN SELECT "+memoryColumns+" FROM memory m"+whereClause(conds)+
		" ORDER BY m.importance DESC, m.created DESC, m.id LIMIT ?", append(args, 100)...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan, "; "); !strings.Contains(got, "USING INDEX memory_kind (scope=? AND layer=? AND kind=?)") {
		t.Errorf("a search by kind is planned as %q, not on memory_kind", got)
	}
}
