package memorytest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sentinel-agent/sentinel/internal/memory"
)

// RunDatabase holds a database store (SQLite, PostgreSQL) to what Run
// leaves to it: records round-trip to the nanosecond, refused IDs,
// records and queries fail with errors naming the problem, the text
// query language's operators and punctuation are plain words, and
// Touch and Stats count exactly. newStore follows Run's contract.
func RunDatabase(t *testing.T, newStore func(t *testing.T) memory.Store) {
	for _, tt := range []struct {
		name string
		fn   func(t *testing.T, s memory.Store)
	}{
		{"RoundTrip", testDBRoundTrip},
		{"NotFound", testDBNotFound},
		{"SearchFilters", testDBSearchFilters},
		{"SearchText", testDBSearchText},
		{"QueryErrors", testDBQueryErrors},
		{"PutErrors", testDBPutErrors},
		{"Touch", testDBTouch},
		{"Stats", testDBStats},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// Base is when the test records are made; nanoseconds are kept so
// that a store truncating them shows.
var Base = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)

// Rec returns a valid record; tests change what they look at.
func Rec(id, layer, text string, importance float64, created time.Time) memory.Record {
	return memory.Record{
		ID: id, Layer: layer, Kind: "note", Scope: "main", Text: text, Importance: importance,
		Source:  memory.Source{Kind: "user", Trusted: true},
		Created: created, Updated: created,
	}
}

func PutAll(t testing.TB, s memory.Store, rs ...memory.Record) {
	t.Helper()
	for _, r := range rs {
		if err := s.PutMemory(context.Background(), r); err != nil {
			t.Fatalf("PutMemory(%s): %v", r.ID, err)
		}
	}
}

func SearchIDs(t testing.TB, s memory.Store, q memory.Query) []string {
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

func testDBRoundTrip(t *testing.T, s memory.Store) {
	ctx := context.Background()
	want := memory.Record{
		ID: "m-1", Layer: memory.LayerSemantic, Kind: "preference", Scope: "channel:slack/peer:u42", Agent: "coder",
		Session: "s-9", Key: "editor", Text: "Prefers «vim» over \"emacs\" — ü, 東京, emoji 🚀\nsecond line",
		Summary: "prefers vim", OneLine: "vim", Level: memory.LevelSummary, Importance: 0.75, Confidence: 0.5,
		Confirmations: 3, Uses: 7,
		Source:   memory.Source{Kind: "tool", Tool: "web.fetch", Trusted: false, Session: "s-8", DecisionID: "d-1"},
		Created:  Base,
		Updated:  Base.Add(time.Nanosecond),
		LastUsed: time.Date(2026, 1, 3, 0, 0, 0, 1, time.FixedZone("CET", 3600)),
	}
	PutAll(t, s, want)
	got, err := s.GetMemory(ctx, "m-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("GetMemory returned another record than was put (-put +got):\n%s", diff)
	}

	// Put again replaces the record, and the index follows the new text.
	want.Text, want.Summary, want.OneLine, want.Uses, want.LastUsed = "switched to helix", "", "", 0, time.Time{}
	PutAll(t, s, want)
	if got, err = s.GetMemory(ctx, "m-1"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("GetMemory after a second put (-put +got):\n%s", diff)
	}
	if got := SearchIDs(t, s, memory.Query{Text: "vim", MaxLevel: -1}); len(got) != 0 {
		t.Errorf("the replaced text is still found: %v", got)
	}
	if got := SearchIDs(t, s, memory.Query{Text: "helix", MaxLevel: -1}); !slices.Equal(got, []string{"m-1"}) {
		t.Errorf("the new text is not found: %v", got)
	}
	if st, err := s.MemoryStats(ctx); err != nil || st.Records[memory.LayerSemantic] != 1 || len(st.Records) != 1 {
		t.Errorf("MemoryStats after an upsert = %+v, %v; want one semantic record", st, err)
	}
}

func testDBNotFound(t *testing.T, s memory.Store) {
	ctx := context.Background()
	PutAll(t, s, Rec("a", memory.LayerEpisodic, "deployed the billing service", 0.5, Base))
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
	if got := SearchIDs(t, s, memory.Query{Text: "billing", MaxLevel: -1}); len(got) != 0 {
		t.Errorf("a deleted record is still found by its text: %v", got)
	}
}

// FilterRecords are the records the filter and ranking tests search.
func FilterRecords() []memory.Record {
	h := time.Hour
	a := Rec("a", memory.LayerEpisodic, "deployed the billing service to staging", 0.9, Base.Add(h))
	a.Kind, a.Agent = "tool_call", "coder"
	b := Rec("b", memory.LayerEpisodic, "ran the billing tests", 0.5, Base.Add(2*h))
	b.Kind, b.Agent, b.Level = "tool_call", "coder", memory.LevelSummary
	c := Rec("c", memory.LayerEpisodic, "alice asked about billing", 0.5, Base.Add(3*h))
	c.Scope, c.Level = "peer:alice", memory.LevelOneLine
	d := Rec("d", memory.LayerSemantic, "prefers vim", 0.7, Base)
	d.Kind, d.Key = "preference", "editor"
	e := Rec("e", memory.LayerSemantic, "the project uses Go", 0.7, Base.Add(h))
	e.Kind, e.Key = "fact", "language"
	f := Rec("f", memory.LayerSemantic, "the database is PostgreSQL", 0.7, Base.Add(h))
	f.Kind, f.Key = "fact", "db"
	return []memory.Record{f, e, d, c, b, a} // put out of order
}

func testDBSearchFilters(t *testing.T, s memory.Store) {
	PutAll(t, s, FilterRecords()...)
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
		{"after is exclusive", memory.Query{After: Base.Add(h), MaxLevel: -1}, []string{"c", "b"}},
		{"after, to the nanosecond", memory.Query{After: Base.Add(h - 1), MaxLevel: -1}, []string{"a", "e", "f", "c", "b"}},
		{"before is exclusive", memory.Query{Before: Base.Add(h), MaxLevel: -1}, []string{"d"}},
		{"before, to the nanosecond", memory.Query{Before: Base.Add(h + 1), MaxLevel: -1}, []string{"a", "e", "f", "d"}},
		{"window", memory.Query{After: Base, Before: Base.Add(3 * h), MaxLevel: -1}, []string{"a", "e", "f", "b"}},
		{"bounds in another zone", memory.Query{After: Base.Add(2*h - 1).In(time.FixedZone("X", -7*3600)), MaxLevel: -1}, []string{"c", "b"}},
		{"before beyond year 9999", memory.Query{Before: time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC), MaxLevel: -1}, []string{"a", "e", "f", "d", "c", "b"}},
		{"before year 0", memory.Query{Before: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), MaxLevel: -1}, []string{}},
		{"after beyond year 9999", memory.Query{After: time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC), MaxLevel: -1}, []string{}},
		{"after year 0", memory.Query{After: time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), MaxLevel: -1}, []string{"a", "e", "f", "d", "c", "b"}},
		{"limit", memory.Query{Limit: 2, MaxLevel: -1}, []string{"a", "e"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := SearchIDs(t, s, tt.q); !slices.Equal(got, tt.want) {
				t.Errorf("SearchMemory = %v, want %v", got, tt.want)
			}
		})
	}
}

func testDBSearchText(t *testing.T, s memory.Store) {
	PutAll(t, s, FilterRecords()...)
	// Relevance first: "invoice" three times in a short text beats once
	// in a long one, whatever the importance; equal texts tie, and the
	// tie goes by importance then recency.
	r1 := Rec("r1", memory.LayerEpisodic, "invoice invoice invoice", 0.1, Base)
	r2 := Rec("r2", memory.LayerEpisodic, "an invoice was mailed to the customer after the quarterly review meeting ended", 1, Base)
	r3 := Rec("r3", memory.LayerEpisodic, "invoice invoice invoice", 0.2, Base)
	r4 := Rec("r4", memory.LayerEpisodic, "invoice invoice invoice", 0.2, Base.Add(time.Nanosecond))
	k := Rec("k", memory.LayerSemantic, "written in tabs", 0.5, Base)
	k.Kind, k.Key = "preference", "indentation"
	sum := Rec("sum", memory.LayerEpisodic, "the whole long story", 0.5, Base)
	sum.Summary, sum.OneLine = "a shorter retelling", "gist only"
	PutAll(t, s, r1, r2, r3, r4, k, sum)
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
			got := SearchIDs(t, s, memory.Query{Text: tt.text, MaxLevel: -1})
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
	if got := SearchIDs(t, s, memory.Query{Text: "invoice", Limit: 2}); !slices.Equal(got, []string{"r4", "r3"}) {
		t.Errorf("text search with limit 2 = %v, want [r4 r3]", got)
	}
	// Filters apply to text searches too.
	if got := SearchIDs(t, s, memory.Query{Text: "billing", Agent: "coder", MaxLevel: 0}); !slices.Equal(got, []string{"a"}) {
		t.Errorf("text and filters = %v, want [a]", got)
	}
}

func testDBQueryErrors(t *testing.T, s memory.Store) {
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

func testDBPutErrors(t *testing.T, s memory.Store) {
	ok := Rec("ok", memory.LayerEpisodic, "fine", 0.5, Base)
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
	if got := SearchIDs(t, s, memory.Query{MaxLevel: -1}); len(got) != 0 {
		t.Fatalf("refused records were stored: %v", got)
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func testDBTouch(t *testing.T, s memory.Store) {
	ctx := context.Background()
	a := Rec("a", memory.LayerEpisodic, "billing run", 0.5, Base)
	a.Uses = 2
	b := Rec("b", memory.LayerEpisodic, "billing again", 0.5, Base)
	c := Rec("c", memory.LayerEpisodic, "untouched", 0.5, Base)
	PutAll(t, s, a, b, c)
	at := Base.Add(time.Hour + 7)
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
	if got := SearchIDs(t, s, memory.Query{Text: "billing"}); len(got) != 2 {
		t.Errorf("touched records are not found by their text any more: %v", got)
	}
	if err := s.TouchMemory(ctx, nil, at); err != nil {
		t.Errorf("TouchMemory of no records: %v", err)
	}
	if err := s.TouchMemory(ctx, make([]string, 10001), at); err == nil || !strings.Contains(err.Error(), "10001") {
		t.Errorf("TouchMemory of 10,001 IDs = %v, want an error", err)
	}
}

func testDBStats(t *testing.T, s memory.Store) {
	ctx := context.Background()
	st, err := s.MemoryStats(ctx)
	if err != nil || len(st.Records) != 0 || st.Bytes != 0 {
		t.Fatalf("MemoryStats of an empty store = %+v, %v", st, err)
	}
	rs := FilterRecords()
	rs[0].Summary, rs[0].OneLine = "ü summary", "东 line"
	PutAll(t, s, rs...)
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
