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

// memBase is when the test records are made; nanoseconds are kept so
// that a store truncating them shows.
var memBase = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)

// memRec returns a valid record; tests change what they look at.
func memRec(id, layer, text string, importance float64, created time.Time) memory.Record {
	return memory.Record{
		ID: id, Layer: layer, Kind: "note", Scope: "main", Text: text, Importance: importance,
		Source:  memory.Source{Kind: "user", Trusted: true},
		Created: created, Updated: created,
	}
}

func putAll(t testing.TB, s memory.Store, rs ...memory.Record) {
	t.Helper()
	for _, r := range rs {
		if err := s.PutMemory(context.Background(), r); err != nil {
			t.Fatalf("PutMemory(%s): %v", r.ID, err)
		}
	}
}

func search(t testing.TB, s memory.Store, q memory.Query) []string {
	t.Helper()
	rs, err := s.SearchMemory(context.Background(), q)
	if err != nil {
		t.Fatalf("SearchMemory(%+v): %v", q, err)
	}
	ids := []string{}
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestMemoryRoundTrip(t *testing.T) {
	s := openMemory(t)
	ctx := context.Background()
	want := memory.Record{
		ID: "m-1", Layer: memory.LayerSemantic, Kind: "preference", Scope: "channel:slack/peer:u42", Agent: "coder",
		Session: "s-9", Key: "editor", Text: "Prefers «vim» over \"emacs\" — ü, 東京, emoji 🚀\nsecond line",
		Summary: "prefers vim", OneLine: "vim", Level: memory.LevelSummary, Importance: 0.75, Confidence: 0.5,
		Confirmations: 3, Uses: 7,
		Source:   memory.Source{Kind: "tool", Tool: "web.fetch", Trusted: false, Session: "s-8", DecisionID: "d-1"},
		Created:  memBase,
		Updated:  memBase.Add(time.Nanosecond),
		LastUsed: time.Date(2026, 1, 3, 0, 0, 0, 1, time.FixedZone("CET", 3600)),
	}
	putAll(t, s, want)
	got, err := s.GetMemory(ctx, "m-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("GetMemory returned another record than was put (-put +got):\n%s", diff)
	}

	// Put again replaces the record, and the index follows the new text.
	want.Text, want.Summary, want.OneLine, want.Uses, want.LastUsed = "switched to helix", "", "", 0, time.Time{}
	putAll(t, s, want)
	if got, err = s.GetMemory(ctx, "m-1"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("GetMemory after a second put (-put +got):\n%s", diff)
	}
	if got := search(t, s, memory.Query{Text: "vim", MaxLevel: -1}); len(got) != 0 {
		t.Errorf("the replaced text is still found: %v", got)
	}
	if got := search(t, s, memory.Query{Text: "helix", MaxLevel: -1}); !slices.Equal(got, []string{"m-1"}) {
		t.Errorf("the new text is not found: %v", got)
	}
	if st, err := s.MemoryStats(ctx); err != nil || st.Records[memory.LayerSemantic] != 1 || len(st.Records) != 1 {
		t.Errorf("MemoryStats after an upsert = %+v, %v; want one semantic record", st, err)
	}
}

func TestMemoryNotFound(t *testing.T) {
	s := openMemory(t)
	ctx := context.Background()
	putAll(t, s, memRec("a", memory.LayerEpisodic, "deployed the billing service", 0.5, memBase))
	for _, id := range []string{"b", "", "A", strings.Repeat("x", 1000), "\xff"} {
		if _, err := s.GetMemory(ctx, id); !errors.Is(err, memory.ErrNotFound) {
			t.Errorf("GetMemory(%.20q) = %v, want ErrNotFound", id, err)
		}
		if err := s.DeleteMemory(ctx, id); !errors.Is(err, memory.ErrNotFound) {
			t.Errorf("DeleteMemory(%.20q) = %v, want ErrNotFound", id, err)
		}
	}
	if err := s.DeleteMemory(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMemory(ctx, "a"); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("GetMemory of a deleted record = %v, want ErrNotFound", err)
	}
	if err := s.DeleteMemory(ctx, "a"); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("second DeleteMemory = %v, want ErrNotFound", err)
	}
	if got := search(t, s, memory.Query{Text: "billing", MaxLevel: -1}); len(got) != 0 {
		t.Errorf("a deleted record is still found by its text: %v", got)
	}
}

// filterRecords are the records the filter and ranking tests search.
func filterRecords() []memory.Record {
	h := time.Hour
	a := memRec("a", memory.LayerEpisodic, "deployed the billing service to staging", 0.9, memBase.Add(h))
	a.Kind, a.Agent = "tool_call", "coder"
	b := memRec("b", memory.LayerEpisodic, "ran the billing tests", 0.5, memBase.Add(2*h))
	b.Kind, b.Agent, b.Level = "tool_call", "coder", memory.LevelSummary
	c := memRec("c", memory.LayerEpisodic, "alice asked about billing", 0.5, memBase.Add(3*h))
	c.Scope, c.Level = "peer:alice", memory.LevelOneLine
	d := memRec("d", memory.LayerSemantic, "prefers vim", 0.7, memBase)
	d.Kind, d.Key = "preference", "editor"
	e := memRec("e", memory.LayerSemantic, "the project uses Go", 0.7, memBase.Add(h))
	e.Kind, e.Key = "fact", "language"
	f := memRec("f", memory.LayerSemantic, "the database is PostgreSQL", 0.7, memBase.Add(h))
	f.Kind, f.Key = "fact", "db"
	return []memory.Record{f, e, d, c, b, a} // put out of order
}

func TestMemorySearchFilters(t *testing.T) {
	s := openMemory(t)
	putAll(t, s, filterRecords()...)
	h := time.Hour
	for _, tt := range []struct {
		name string
		q    memory.Query
		want []string
	}{
		{"everything: importance, newest, ID", memory.Query{MaxLevel: -1}, []string{"a", "e", "f", "d", "c", "b"}},
		{"MaxLevel 0 is full text only", memory.Query{}, []string{"a", "e", "f", "d"}},
		{"MaxLevel 1", memory.Query{MaxLevel: 1}, []string{"a", "e", "f", "d", "b"}},
		{"layer", memory.Query{Layer: memory.LayerSemantic, MaxLevel: -1}, []string{"e", "f", "d"}},
		{"kind", memory.Query{Kind: "fact", MaxLevel: -1}, []string{"e", "f"}},
		{"scope", memory.Query{Scope: "peer:alice", MaxLevel: -1}, []string{"c"}},
		{"agent", memory.Query{Agent: "coder", MaxLevel: -1}, []string{"a", "b"}},
		{"key", memory.Query{Key: "editor", MaxLevel: -1}, []string{"d"}},
		{"layer, scope, kind and key", memory.Query{Layer: memory.LayerSemantic, Scope: "main", Kind: "fact", Key: "db"}, []string{"f"}},
		{"no match", memory.Query{Scope: "peer:bob", MaxLevel: -1}, []string{}},
		{"after is exclusive", memory.Query{After: memBase.Add(h), MaxLevel: -1}, []string{"c", "b"}},
		{"after, to the nanosecond", memory.Query{After: memBase.Add(h - 1), MaxLevel: -1}, []string{"a", "e", "f", "c", "b"}},
		{"before is exclusive", memory.Query{Before: memBase.Add(h), MaxLevel: -1}, []string{"d"}},
		{"before, to the nanosecond", memory.Query{Before: memBase.Add(h + 1), MaxLevel: -1}, []string{"a", "e", "f", "d"}},
		{"window", memory.Query{After: memBase, Before: memBase.Add(3 * h), MaxLevel: -1}, []string{"a", "e", "f", "b"}},
		{"bounds in another zone", memory.Query{After: memBase.Add(2*h - 1).In(time.FixedZone("X", -7*3600)), MaxLevel: -1}, []string{"c", "b"}},
		{"before beyond year 9999", memory.Query{Before: time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC), MaxLevel: -1}, []string{"a", "e", "f", "d", "c", "b"}},
		{"before year 0", memory.Query{Before: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), MaxLevel: -1}, []string{}},
		{"after beyond year 9999", memory.Query{After: time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC), MaxLevel: -1}, []string{}},
		{"after year 0", memory.Query{After: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), MaxLevel: -1}, []string{"a", "e", "f", "d", "c", "b"}},
		{"limit", memory.Query{Limit: 2, MaxLevel: -1}, []string{"a", "e"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := search(t, s, tt.q); !slices.Equal(got, tt.want) {
				t.Errorf("SearchMemory = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMemorySearchText(t *testing.T) {
	s := openMemory(t)
	putAll(t, s, filterRecords()...)
	// Relevance first: "invoice" three times in a short text beats once
	// in a long one, whatever the importance; equal texts tie, and the
	// tie goes by importance then recency.
	r1 := memRec("r1", memory.LayerEpisodic, "invoice invoice invoice", 0.1, memBase)
	r2 := memRec("r2", memory.LayerEpisodic, "an invoice was mailed to the customer after the quarterly review meeting ended", 1, memBase)
	r3 := memRec("r3", memory.LayerEpisodic, "invoice invoice invoice", 0.2, memBase)
	r4 := memRec("r4", memory.LayerEpisodic, "invoice invoice invoice", 0.2, memBase.Add(time.Nanosecond))
	k := memRec("k", memory.LayerSemantic, "written in tabs", 0.5, memBase)
	k.Kind, k.Key = "preference", "indentation"
	sum := memRec("sum", memory.LayerEpisodic, "the whole long story", 0.5, memBase)
	sum.Summary, sum.OneLine = "a shorter retelling", "gist only"
	putAll(t, s, r1, r2, r3, r4, k, sum)
	for _, tt := range []struct {
		name, text string
		want       []string
	}{
		{"one word", "billing", nil}, // checked as a set below
		{"relevance before importance", "invoice", []string{"r4", "r3", "r1", "r2"}},
		{"every word must match", "billing staging", []string{"a"}},
		{"a missing word matches nothing", "billing kangaroo", []string{}},
		{"case does not matter", "BILLING STAGING", []string{"a"}},
		{"key is searched", "indentation", []string{"k"}},
		{"summary is not searched: it is an extract of the text", "retelling", []string{}},
		{"nor is the one-liner", "gist", []string{}},
		{"punctuation around words", `"staging," (billing)!`, []string{"a"}},
		{"OR is a word", "billing OR kangaroo", []string{}},
		{"NOT is a word", "billing NOT staging", []string{}},
		{"leading minus", "-staging", []string{"a"}},
		{"star", "stag*", []string{}},
		{"column syntax", "text:billing", []string{}},
		{"NEAR", "NEAR(billing staging)", []string{}},
		{"unbalanced quote", `"billing`, nil},
		{"caret", "^billing", nil},
		{"no words", "!!! ... ???", []string{}},
		{"only spaces", "  \t ", []string{}},
		{"NUL and invalid UTF-8", "billing\x00staging\xff", []string{"a"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := search(t, s, memory.Query{Text: tt.text, MaxLevel: -1})
			want := tt.want
			if want == nil { // any order: the billing records
				want = []string{"a", "b", "c"}
				slices.Sort(got)
			}
			if !slices.Equal(got, want) {
				t.Errorf("SearchMemory(%q) = %v, want %v", tt.text, got, want)
			}
		})
	}
	if got := search(t, s, memory.Query{Text: "invoice", Limit: 2}); !slices.Equal(got, []string{"r4", "r3"}) {
		t.Errorf("text search with limit 2 = %v, want [r4 r3]", got)
	}
	// Filters apply to text searches too.
	if got := search(t, s, memory.Query{Text: "billing", Agent: "coder", MaxLevel: 0}); !slices.Equal(got, []string{"a"}) {
		t.Errorf("text and filters = %v, want [a]", got)
	}
}

// TestMemorySearchFolding is PostgreSQL's: the 'simple' configuration
// lower-cases words in any script (as the database's locale does) but
// keeps accents, and its parser keeps addresses, paths and hyphenated
// words whole beside their parts.
func TestMemorySearchFolding(t *testing.T) {
	s := openMemory(t)
	putAll(t, s,
		memRec("fr", memory.LayerEpisodic, "Le Café était fermé à Noël", 0.5, memBase),
		memRec("ru", memory.LayerEpisodic, "Привет МИР", 0.5, memBase),
		memRec("ja", memory.LayerEpisodic, "東京 タワー", 0.5, memBase),
		memRec("addr", memory.LayerEpisodic, "mail user@example.com about /etc/passwd and the follow-up", 0.5, memBase),
	)
	for text, want := range map[string][]string{
		"CAFÉ noël": {"fr"}, "cafe": {}, "мир привет": {"ru"}, "東京": {"ja"},
		"USER@example.com": {"addr"}, "/etc/passwd": {"addr"}, "follow-up": {"addr"}, "follow": {"addr"}, "example": {},
	} {
		if got := search(t, s, memory.Query{Text: text}); !slices.Equal(got, want) {
			t.Errorf("SearchMemory(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestMemoryQueryErrors(t *testing.T) {
	s := openMemory(t)
	for _, tt := range []struct {
		name string
		q    memory.Query
		want string
	}{
		{"negative limit", memory.Query{Limit: -1}, "limit -1"},
		{"MaxLevel below -1", memory.Query{MaxLevel: -2}, "MaxLevel -2"},
		{"long text", memory.Query{Text: strings.Repeat("a", 4097)}, "4097 bytes"},
		{"many words", memory.Query{Text: strings.Repeat("w ", 65)}, "65 words"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.SearchMemory(context.Background(), tt.q)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("SearchMemory(%s) = %v, want an error naming %q", tt.name, err, tt.want)
			}
		})
	}
	// The edges are accepted; a limit over 10,000 is capped.
	for _, q := range []memory.Query{{Limit: 10000}, {Limit: 10001}, {Text: strings.Repeat("w ", 64)}, {Text: strings.Repeat("a", 4096)}} {
		if _, err := s.SearchMemory(context.Background(), q); err != nil {
			t.Errorf("SearchMemory at the edge (limit %d, %d bytes of text): %v", q.Limit, len(q.Text), err)
		}
	}
}

func TestMemoryPutErrors(t *testing.T) {
	s := openMemory(t)
	ok := memRec("ok", memory.LayerEpisodic, "fine", 0.5, memBase)
	for _, tt := range []struct {
		name   string
		change func(r *memory.Record)
		want   string
	}{
		{"no ID", func(r *memory.Record) { r.ID = "" }, "no ID"},
		{"long ID", func(r *memory.Record) { r.ID = strings.Repeat("i", 257) }, "257 bytes"},
		{"unknown layer", func(r *memory.Record) { r.Layer = "working" }, `layer "working"`},
		{"level 3", func(r *memory.Record) { r.Level = 3 }, "level 3"},
		{"negative level", func(r *memory.Record) { r.Level = -1 }, "level -1"},
		{"importance over 1", func(r *memory.Record) { r.Importance = 1.5 }, "importance is 1.5"},
		{"confidence NaN", func(r *memory.Record) { r.Confidence = nan() }, "confidence is NaN"},
		{"negative uses", func(r *memory.Record) { r.Uses = -1 }, "uses -1"},
		{"long scope", func(r *memory.Record) { r.Scope = strings.Repeat("s", 4097) }, "scope is 4097 bytes"},
		{"long text", func(r *memory.Record) { r.Text = strings.Repeat("t", 256<<10+1) }, "shorten the text"},
		{"NUL in text", func(r *memory.Record) { r.Text = "a\x00b" }, "NUL"},
		{"invalid UTF-8 in key", func(r *memory.Record) { r.Key = "\xff" }, "key is not valid UTF-8"},
		{"year 10000", func(r *memory.Record) { r.Created = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "created time"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.change(&r)
			err := s.PutMemory(context.Background(), r)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("PutMemory = %v, want an error naming %q", err, tt.want)
			}
		})
	}
	if got := search(t, s, memory.Query{MaxLevel: -1}); len(got) != 0 {
		t.Fatalf("refused records were stored: %v", got)
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func TestMemoryTouch(t *testing.T) {
	s := openMemory(t)
	ctx := context.Background()
	a := memRec("a", memory.LayerEpisodic, "billing run", 0.5, memBase)
	a.Uses = 2
	b := memRec("b", memory.LayerEpisodic, "billing again", 0.5, memBase)
	c := memRec("c", memory.LayerEpisodic, "untouched", 0.5, memBase)
	putAll(t, s, a, b, c)
	at := memBase.Add(time.Hour + 7)
	if err := s.TouchMemory(ctx, []string{"a", "b", "a", "gone"}, at); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]memory.Record{"a": a, "b": b, "c": c} {
		if id != "c" {
			want.Uses++
			want.LastUsed = at
		}
		got, err := s.GetMemory(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("record %s after TouchMemory (-want +got):\n%s", id, diff)
		}
	}
	if got := search(t, s, memory.Query{Text: "billing"}); len(got) != 2 {
		t.Errorf("touched records are not found by their text any more: %v", got)
	}
	if err := s.TouchMemory(ctx, nil, at); err != nil {
		t.Errorf("TouchMemory of no records: %v", err)
	}
	if err := s.TouchMemory(ctx, make([]string, 10001), at); err == nil || !strings.Contains(err.Error(), "10001") {
		t.Errorf("TouchMemory of 10,001 IDs = %v, want an error", err)
	}
}

func TestMemoryStats(t *testing.T) {
	s := openMemory(t)
	ctx := context.Background()
	st, err := s.MemoryStats(ctx)
	if err != nil || len(st.Records) != 0 || st.Bytes != 0 {
		t.Fatalf("MemoryStats of an empty store = %+v, %v", st, err)
	}
	rs := filterRecords()
	rs[0].Summary, rs[0].OneLine = "ü summary", "东 line"
	putAll(t, s, rs...)
	want := memory.Stats{Records: map[string]int{}}
	for _, r := range rs {
		want.Records[r.Layer]++
		want.Bytes += int64(len(r.Text) + len(r.Summary) + len(r.OneLine))
	}
	if st, err = s.MemoryStats(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Fatalf("MemoryStats (-want +got):\n%s", diff)
	}
}

func TestMemoryReopen(t *testing.T) {
	schema := freshSchema(t)
	s := open(t, schema)
	rs := filterRecords()
	putAll(t, s, rs...)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, schema)
	if got := search(t, s, memory.Query{Text: "billing", MaxLevel: -1}); len(got) != 3 {
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
			putAll(t, s, memRec("a", memory.LayerEpisodic, "billing", 0.5, memBase))
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
		r := memRec(string(rune('a'+i)), memory.LayerEpisodic, "tick", 0.5, at)
		r.LastUsed = at.Add(-3)
		rs = append(rs, r)
	}
	putAll(t, s, rs...)
	for _, want := range rs {
		got, err := s.GetMemory(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("record %s (-put +got):\n%s", want.ID, diff)
		}
	}
	if got := search(t, s, memory.Query{MaxLevel: -1}); !slices.Equal(got, []string{"f", "a", "b", "c", "d", "e"}) {
		t.Errorf("newest first = %v", got)
	}
	q := memory.Query{After: rs[1].Created, Before: rs[0].Created, MaxLevel: -1}
	if got := search(t, s, q); len(got) != 0 {
		t.Errorf("strictly between 1 ns and 999 ns past the second: %v", got)
	}
	q = memory.Query{After: rs[2].Created, Before: rs[0].Created.Add(1), MaxLevel: -1}
	if got := search(t, s, q); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("after the second, before 1000 ns past it: %v, want [a b]", got)
	}
}
