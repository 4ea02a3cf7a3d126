package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/sentinel-agent/sentinel/internal/memory"
	"github.com/sentinel-agent/sentinel/internal/memory/memorytest"
)

// The store's bounds on Query.Text, as its errors state them.
const (
	maxQueryText  = 4096
	maxQueryWords = 64
)

// FuzzSearchMemory: whatever the text, a search either runs or, over the
// documented bounds, says so; it returns only stored records, each once
// and unchanged, each holding every word PostgreSQL's parser finds in the
// text; and a record holding the text itself is found by it.
func FuzzSearchMemory(f *testing.F) {
	for _, seed := range []string{
		"billing", `"unbalanced`, `a "b c" d`, "a OR b", "a | b", "a & !b", "a <-> b", "'a':*", "NOT x", "x*",
		"(a OR b) AND -c", "+a -b", "\x00", "\xff\xfe", "quartz", "QUARTZ quartz", "user@example.com", "<b>quartz</b>",
		"-- ; DROP TABLE memory; --", "' OR 1=1 --", "$1", "东京 タワー", "!!!", "", " ", strings.Repeat("w ", 65),
		strings.Repeat("x", 4097), "a\tb\nc\rd", `\`, "%_", "e\u0301", "\u200b", "/etc/passwd", "1.2.3-beta", " ~0", "x ~0 y",
	} {
		f.Add(seed)
	}
	s := openMemory(f)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close(context.Background()) })
	// lexemes is what the 'simple' configuration makes of text, asked
	// of the server apart from the store's queries.
	lexemes := func(t *testing.T, text string) []string {
		var out []string
		if err := c.QueryRow(ctx, "SELECT tsvector_to_array(to_tsvector('simple', $1))", text).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	control := memorytest.Rec("control", memory.LayerEpisodic, "quartz", 0.5, memorytest.Base)
	stored := map[string]memory.Record{"control": control}
	for i, text := range []string{"billing run", "the quick brown fox", "user@example.com wrote", "NEAR OR AND NOT"} {
		r := memorytest.Rec(fmt.Sprintf("other%d", i), memory.LayerEpisodic, text, 0.5, memorytest.Base)
		stored[r.ID] = r
	}
	for _, r := range stored {
		if err := s.PutMemory(ctx, r); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		clean := strings.ReplaceAll(strings.ToValidUTF8(text, " "), "\x00", " ")
		probe := memorytest.Rec("probe", memory.LayerEpisodic, clean, 0.5, memorytest.Base)
		if err := s.PutMemory(ctx, probe); err != nil {
			t.Fatalf("PutMemory of %q: %v", probe.Text, err)
		}
		got, err := s.SearchMemory(ctx, memory.Query{Text: text, MaxLevel: -1})
		if len(text) > maxQueryText || len(strings.Fields(clean)) > maxQueryWords {
			if err == nil {
				t.Fatalf("SearchMemory of %d bytes ran; want an error over the bounds", len(text))
			}
			return
		}
		if err != nil {
			t.Fatalf("SearchMemory(%q): %v", text, err)
		}
		words := lexemes(t, clean)
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
			have := lexemes(t, r.Text)
			for _, w := range words {
				if !slices.Contains(have, w) {
					t.Fatalf("SearchMemory(%q) returned %s, whose text %q lacks the word %q", text, r.ID, r.Text, w)
				}
			}
		}
		if text != "" && len(words) == 0 && len(got) > 0 {
			t.Fatalf("SearchMemory(%q), text without words, returned %d records", text, len(got))
		}
		if len(words) > 0 && !seen["probe"] {
			t.Fatalf("SearchMemory(%q) did not find the record holding that text; it found %d others", text, len(got))
		}
	})
}
