package memorytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sentinel-agent/sentinel/internal/memory"
)

// Run runs the acceptance suite against the stores newStore opens. Each
// call of newStore must return a store on a fresh, empty database; it
// should register the store's cleanup with t.Cleanup.
//
// The test that checks the 10,000-record cap on Limit writes 10,050
// records; it is skipped under -short.
func Run(t *testing.T, newStore func(t *testing.T) memory.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s memory.Store)
	}{
		{"Empty", testEmpty},
		{"RoundTrip", testRoundTrip},
		{"PutReplaces", testPutReplaces},
		{"Delete", testDelete},
		{"Filters", testFilters},
		{"MaxLevel", testMaxLevel},
		{"TimeBounds", testTimeBounds},
		{"OrderWithoutText", testOrder},
		{"Limit", testLimit},
		{"LimitCap", testLimitCap},
		{"TextAllWords", testTextAllWords},
		{"TextCaseAndPunctuation", testTextCasePunctuation},
		{"TextWithFilters", testTextWithFilters},
		{"TextLimit", testTextLimit},
		{"Touch", testTouch},
		{"Stats", testStats},
		{"Concurrency", testConcurrency},
		{"EndedContext", testEndedContext},
		{"Batch", testBatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// base is the suite's clock; every time is a whole second so that stores
// keeping microseconds (PostgreSQL) or seconds round-trip it exactly.
var base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }

// rec is a plain episodic record; i makes its ID, importance and times
// distinct, so that the expected order is never a tie.
func rec(i int) memory.Record {
	return memory.Record{
		ID:         fmt.Sprintf("r%05d", i),
		Layer:      memory.LayerEpisodic,
		Kind:       "decision",
		Scope:      "main",
		Agent:      "agent-a",
		Session:    "s1",
		Text:       fmt.Sprintf("record number %d about the release", i),
		Level:      memory.LevelFull,
		Importance: float64(i%97) / 100,
		Source:     memory.Source{Kind: "agent", Trusted: true},
		Created:    at(i),
		Updated:    at(i),
	}
}

var timeEqual = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func put(t *testing.T, s memory.Store, rs ...memory.Record) {
	t.Helper()
	for _, r := range rs {
		if err := s.PutMemory(context.Background(), r); err != nil {
			t.Fatalf("PutMemory(%s): %v", r.ID, err)
		}
	}
}

func get(t *testing.T, s memory.Store, id string) memory.Record {
	t.Helper()
	r, err := s.GetMemory(context.Background(), id)
	if err != nil {
		t.Fatalf("GetMemory(%s): %v", id, err)
	}
	return r
}

func search(t *testing.T, s memory.Store, q memory.Query) []memory.Record {
	t.Helper()
	rs, err := s.SearchMemory(context.Background(), q)
	if err != nil {
		t.Fatalf("SearchMemory(%+v): %v", q, err)
	}
	return rs
}

func ids(rs []memory.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func sortedIDs(rs []memory.Record) []string {
	out := ids(rs)
	slices.Sort(out)
	return out
}

// order sorts rs as a store must without Text: importance, then newest.
func order(rs []memory.Record) []memory.Record {
	out := slices.Clone(rs)
	slices.SortStableFunc(out, func(a, b memory.Record) int {
		if a.Importance != b.Importance {
			if a.Importance > b.Importance {
				return -1
			}
			return 1
		}
		return b.Created.Compare(a.Created)
	})
	return out
}

func testEmpty(t *testing.T, s memory.Store) {
	ctx := context.Background()
	if _, err := s.GetMemory(ctx, "nope"); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("GetMemory of a missing record: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteMemory(ctx, "nope"); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("DeleteMemory of a missing record: err = %v, want ErrNotFound", err)
	}
	if got := search(t, s, memory.Query{MaxLevel: -1}); len(got) != 0 {
		t.Errorf("SearchMemory of an empty store = %v", ids(got))
	}
	if got := search(t, s, memory.Query{Text: "release", MaxLevel: -1}); len(got) != 0 {
		t.Errorf("text search of an empty store = %v", ids(got))
	}
	st, err := s.MemoryStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes != 0 || st.Records[memory.LayerEpisodic] != 0 || st.Records[memory.LayerSemantic] != 0 {
		t.Errorf("MemoryStats of an empty store = %+v", st)
	}
}

func testRoundTrip(t *testing.T, s memory.Store) {
	full := memory.Record{
		ID:            "rt-1",
		Layer:         memory.LayerSemantic,
		Kind:          "rule",
		Scope:         "channel:telegram/peer:42",
		Agent:         "agent-a",
		Session:       "sess-9",
		Key:           "changelog",
		Text:          "Update CHANGELOG.md before npm publish — 发布前更新 CHANGELOG\nsecond line\t\"quoted\" 'single' %_\\",
		Summary:       "Update CHANGELOG.md before publish.",
		OneLine:       "CHANGELOG before publish",
		Level:         memory.LevelFull,
		Importance:    0.8125,
		Confidence:    0.65,
		Confirmations: 3,
		Uses:          7,
		Source:        memory.Source{Kind: "tool", Tool: "web_fetch", Trusted: false, Session: "sess-9", DecisionID: "dec-1"},
		Created:       at(1),
		Updated:       at(2),
		LastUsed:      at(3),
	}
	bare := memory.Record{
		ID: "rt-2", Layer: memory.LayerEpisodic, Kind: "error", Scope: "main",
		Text: strings.Repeat("long text with many words ", 800), Level: memory.LevelOneLine,
		Source: memory.Source{Kind: "user", Trusted: true}, Created: at(4), Updated: at(4),
	}
	put(t, s, full, bare)
	for _, want := range []memory.Record{full, bare} {
		got := get(t, s, want.ID)
		if diff := cmp.Diff(want, got, timeEqual); diff != "" {
			t.Errorf("GetMemory(%s) differs from what was put (-want +got):\n%s", want.ID, diff)
		}
	}
	if got := get(t, s, "rt-2"); !got.LastUsed.IsZero() {
		t.Errorf("a zero LastUsed came back as %v", got.LastUsed)
	}
	got := search(t, s, memory.Query{Key: "changelog", MaxLevel: -1})
	if len(got) != 1 {
		t.Fatalf("search by key = %v, want [rt-1]", ids(got))
	}
	if diff := cmp.Diff(full, got[0], timeEqual); diff != "" {
		t.Errorf("SearchMemory returned a different record (-want +got):\n%s", diff)
	}
}

func testPutReplaces(t *testing.T, s memory.Store) {
	first := rec(1)
	first.Summary, first.OneLine, first.Uses, first.LastUsed = "a summary", "a gist", 4, at(9)
	put(t, s, first)
	second := memory.Record{
		ID: first.ID, Layer: memory.LayerSemantic, Kind: "fact", Scope: "peer:7",
		Text: "replacement text about grafana", Importance: 0.3,
		Source: memory.Source{Kind: "user", Trusted: true}, Created: at(5), Updated: at(6),
	}
	put(t, s, second)
	if diff := cmp.Diff(second, get(t, s, first.ID), timeEqual); diff != "" {
		t.Errorf("PutMemory did not replace the whole record (-want +got):\n%s", diff)
	}
	if got := search(t, s, memory.Query{MaxLevel: -1}); !slices.Equal(ids(got), []string{first.ID}) {
		t.Errorf("after a replacement the store holds %v, want one record", ids(got))
	}
	if got := search(t, s, memory.Query{Text: "release", MaxLevel: -1}); len(got) != 0 {
		t.Errorf("the replaced text is still found: %v", ids(got))
	}
	if got := search(t, s, memory.Query{Text: "grafana", MaxLevel: -1}); len(got) != 1 {
		t.Errorf("the new text is not found: %v", ids(got))
	}
	st, err := s.MemoryStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Records[memory.LayerEpisodic] != 0 || st.Records[memory.LayerSemantic] != 1 || st.Bytes != int64(len(second.Text)) {
		t.Errorf("MemoryStats after a replacement = %+v, want 1 semantic record of %d bytes", st, len(second.Text))
	}
}

func testDelete(t *testing.T, s memory.Store) {
	ctx := context.Background()
	put(t, s, rec(1), rec(2))
	if err := s.DeleteMemory(ctx, rec(1).ID); err != nil {
		t.Fatalf("DeleteMemory: %v", err)
	}
	if _, err := s.GetMemory(ctx, rec(1).ID); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("GetMemory after DeleteMemory: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteMemory(ctx, rec(1).ID); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("second DeleteMemory: err = %v, want ErrNotFound", err)
	}
	if got := search(t, s, memory.Query{Text: "release", MaxLevel: -1}); !slices.Equal(ids(got), []string{rec(2).ID}) {
		t.Errorf("after deleting %s the search returns %v", rec(1).ID, ids(got))
	}
	if got := get(t, s, rec(2).ID); got.Text != rec(2).Text {
		t.Errorf("the other record changed: %+v", got)
	}
}

// corpus is a set of records that differ in every filtered field.
func corpus() []memory.Record {
	layers := []string{memory.LayerEpisodic, memory.LayerSemantic}
	kinds := []string{"decision", "fact", "rule"}
	scopes := []string{"main", "peer:a", "peer:ab", "channel:c/peer:a"}
	agents := []string{"agent-a", "agent-b"}
	keys := []string{"", "language", "lang"}
	var out []memory.Record
	for i := range 72 {
		r := rec(i + 1)
		r.Layer = layers[i%2]
		r.Kind = kinds[i%3]
		r.Scope = scopes[i%4]
		r.Agent = agents[(i/4)%2]
		r.Key = keys[(i/3)%3]
		r.Level = i % 3
		r.Importance = float64((i*37)%72) / 72
		out = append(out, r)
	}
	return out
}

func filter(rs []memory.Record, keep func(memory.Record) bool) []memory.Record {
	var out []memory.Record
	for _, r := range rs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func testFilters(t *testing.T, s memory.Store) {
	all := corpus()
	put(t, s, all...)
	tests := []struct {
		name string
		q    memory.Query
		keep func(memory.Record) bool
	}{
		{"none", memory.Query{}, func(r memory.Record) bool { return true }},
		{"layer", memory.Query{Layer: memory.LayerSemantic}, func(r memory.Record) bool { return r.Layer == memory.LayerSemantic }},
		{"kind", memory.Query{Kind: "rule"}, func(r memory.Record) bool { return r.Kind == "rule" }},
		{"scope is exact", memory.Query{Scope: "peer:a"}, func(r memory.Record) bool { return r.Scope == "peer:a" }},
		{"agent", memory.Query{Agent: "agent-b"}, func(r memory.Record) bool { return r.Agent == "agent-b" }},
		{"key is exact", memory.Query{Key: "lang"}, func(r memory.Record) bool { return r.Key == "lang" }},
		{"all at once", memory.Query{Layer: memory.LayerEpisodic, Kind: "decision", Scope: "main", Agent: "agent-a"},
			func(r memory.Record) bool {
				return r.Layer == memory.LayerEpisodic && r.Kind == "decision" && r.Scope == "main" && r.Agent == "agent-a"
			}},
		{"kind and key", memory.Query{Kind: "fact", Key: "language"}, func(r memory.Record) bool { return r.Kind == "fact" && r.Key == "language" }},
		{"no match", memory.Query{Kind: "glossary"}, func(r memory.Record) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.MaxLevel, q.Limit = -1, 1000
			got := search(t, s, q)
			want := order(filter(all, tt.keep))
			if diff := cmp.Diff(ids(want), ids(got)); diff != "" {
				t.Errorf("SearchMemory(%+v) (-want +got):\n%s", q, diff)
			}
		})
	}
}

func testMaxLevel(t *testing.T, s memory.Store) {
	all := corpus()
	put(t, s, all...)
	for _, max := range []int{-1, memory.LevelFull, memory.LevelSummary, memory.LevelOneLine} {
		got := search(t, s, memory.Query{MaxLevel: max, Limit: 1000})
		want := order(filter(all, func(r memory.Record) bool { return max < 0 || r.Level <= max }))
		if diff := cmp.Diff(ids(want), ids(got)); diff != "" {
			t.Errorf("MaxLevel %d (-want +got):\n%s", max, diff)
		}
	}
	// The zero Query is MaxLevel 0: full records only.
	for _, r := range search(t, s, memory.Query{Limit: 1000}) {
		if r.Level != memory.LevelFull {
			t.Errorf("the zero Query returned %s at level %d", r.ID, r.Level)
		}
	}
}

func testTimeBounds(t *testing.T, s memory.Store) {
	all := corpus()
	put(t, s, all...)
	tests := []struct {
		name          string
		after, before time.Time
		keep          func(memory.Record) bool
	}{
		{"after is strict", at(10), time.Time{}, func(r memory.Record) bool { return r.Created.After(at(10)) }},
		{"before is strict", time.Time{}, at(10), func(r memory.Record) bool { return r.Created.Before(at(10)) }},
		{"window", at(20), at(30), func(r memory.Record) bool { return r.Created.After(at(20)) && r.Created.Before(at(30)) }},
		{"empty window", at(20), at(21), func(r memory.Record) bool { return false }},
		{"other time zone", at(40).In(time.FixedZone("X", 5*3600)), time.Time{}, func(r memory.Record) bool { return r.Created.After(at(40)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := search(t, s, memory.Query{After: tt.after, Before: tt.before, MaxLevel: -1, Limit: 1000})
			want := order(filter(all, tt.keep))
			if diff := cmp.Diff(ids(want), ids(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func testOrder(t *testing.T, s memory.Store) {
	// Equal importance: the newer first; higher importance beats newer.
	rs := []memory.Record{rec(1), rec(2), rec(3), rec(4)}
	rs[0].Importance, rs[1].Importance, rs[2].Importance, rs[3].Importance = 0.5, 0.5, 0.9, 0.1
	put(t, s, rs...)
	got := search(t, s, memory.Query{MaxLevel: -1})
	want := []string{rs[2].ID, rs[1].ID, rs[0].ID, rs[3].ID}
	if diff := cmp.Diff(want, ids(got)); diff != "" {
		t.Errorf("order without text (-want +got):\n%s", diff)
	}
}

func testLimit(t *testing.T, s memory.Store) {
	var all []memory.Record
	for i := range 120 {
		all = append(all, rec(i+1))
	}
	put(t, s, all...)
	if got := search(t, s, memory.Query{MaxLevel: -1}); len(got) != 100 {
		t.Errorf("Limit 0 returned %d records, want 100", len(got))
	}
	got := search(t, s, memory.Query{MaxLevel: -1, Limit: 5})
	if diff := cmp.Diff(ids(order(all)[:5]), ids(got)); diff != "" {
		t.Errorf("Limit 5 must keep the first five of the order (-want +got):\n%s", diff)
	}
}

func testLimitCap(t *testing.T, s memory.Store) {
	if testing.Short() {
		t.Skip("writes 10,050 records")
	}
	for i := range 10050 {
		r := rec(i + 1)
		r.Text = "x"
		put(t, s, r)
	}
	if got := search(t, s, memory.Query{MaxLevel: -1, Limit: 20000}); len(got) != 10000 {
		t.Errorf("Limit 20000 returned %d records, want the cap of 10000", len(got))
	}
}

// textCorpus has records whose words overlap in known ways. Words are
// chosen so that no English stemmer or stop-word list changes the answer.
func textCorpus() []memory.Record {
	texts := []string{
		"Deploy the kubernetes cluster with terraform",
		"deploy postgres replica",
		"Grafana dashboard for postgres latency",
		"nginx configuration reload",
		"terraform kubernetes deploy pipeline nightly",
		"unrelated note about lunch",
	}
	var out []memory.Record
	for i, text := range texts {
		r := rec(i + 1)
		r.Text = text
		r.Layer = []string{memory.LayerEpisodic, memory.LayerSemantic}[i%2]
		out = append(out, r)
	}
	return out
}

// containsAll reports whether text has every query word, the model the
// suite checks stores against (exact words suffice for its corpus).
func containsAll(text string, words ...string) bool {
	have := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		have[w] = true
	}
	for _, w := range words {
		if !have[w] {
			return false
		}
	}
	return true
}

func testTextAllWords(t *testing.T, s memory.Store) {
	all := textCorpus()
	put(t, s, all...)
	for _, q := range [][]string{
		{"nginx"},                // the only matching record is returned, whatever the ranking
		{"deploy"},               // three records
		{"deploy", "kubernetes"}, // all words must match: not "deploy postgres replica"
		{"postgres", "latency"},
		{"kubernetes", "lunch"}, // no record has both
		{"zeppelin"},            // no record at all
	} {
		got := search(t, s, memory.Query{Text: strings.Join(q, " "), MaxLevel: -1})
		want := filter(all, func(r memory.Record) bool { return containsAll(r.Text, q...) })
		if diff := cmp.Diff(sortedIDs(want), sortedIDs(got)); diff != "" {
			t.Errorf("Text %q (-want +got):\n%s", strings.Join(q, " "), diff)
		}
	}
}

func testTextCasePunctuation(t *testing.T, s memory.Store) {
	all := textCorpus()
	put(t, s, all...)
	want := sortedIDs(filter(all, func(r memory.Record) bool { return containsAll(r.Text, "deploy", "kubernetes") }))
	for _, text := range []string{
		"KUBERNETES Deploy",
		"kubernetes, deploy!",
		`deploy* "kubernetes`,
		"(kubernetes) -deploy:",
	} {
		got, err := s.SearchMemory(context.Background(), memory.Query{Text: text, MaxLevel: -1})
		if err != nil {
			t.Errorf("Text %q: %v (punctuation must not be query syntax)", text, err)
			continue
		}
		if diff := cmp.Diff(want, sortedIDs(got)); diff != "" {
			t.Errorf("Text %q (-want +got):\n%s", text, diff)
		}
	}
}

func testTextWithFilters(t *testing.T, s memory.Store) {
	all := textCorpus()
	all[4].Scope = "peer:a"
	all[2].Level = memory.LevelOneLine
	put(t, s, all...)
	tests := []struct {
		q    memory.Query
		want []string
	}{
		{memory.Query{Text: "deploy", Layer: memory.LayerEpisodic, MaxLevel: -1}, []string{all[0].ID, all[4].ID}},
		{memory.Query{Text: "deploy", Scope: "main", MaxLevel: -1}, []string{all[0].ID, all[1].ID}},
		{memory.Query{Text: "postgres", MaxLevel: memory.LevelFull}, []string{all[1].ID}},
		{memory.Query{Text: "deploy", After: all[0].Created, MaxLevel: -1}, []string{all[1].ID, all[4].ID}},
	}
	for _, tt := range tests {
		got := search(t, s, tt.q)
		slices.Sort(tt.want)
		if diff := cmp.Diff(tt.want, sortedIDs(got)); diff != "" {
			t.Errorf("SearchMemory(%+v) (-want +got):\n%s", tt.q, diff)
		}
	}
}

func testTextLimit(t *testing.T, s memory.Store) {
	var all []memory.Record
	for i := range 30 {
		r := rec(i + 1)
		r.Text = fmt.Sprintf("rollback drill number %d", i)
		all = append(all, r)
	}
	put(t, s, all...)
	got := search(t, s, memory.Query{Text: "rollback drill", MaxLevel: -1, Limit: 7})
	if len(got) != 7 {
		t.Fatalf("text search with Limit 7 returned %d records", len(got))
	}
	seen := map[string]bool{}
	for _, r := range got {
		if seen[r.ID] || !containsAll(r.Text, "rollback", "drill") {
			t.Errorf("text search returned %s twice or without the words: %q", r.ID, r.Text)
		}
		seen[r.ID] = true
	}
}

func testTouch(t *testing.T, s memory.Store) {
	ctx := context.Background()
	a, b, c := rec(1), rec(2), rec(3)
	b.Uses, b.LastUsed = 5, at(1)
	put(t, s, a, b, c)
	t1, t2 := at(100), at(200)
	if err := s.TouchMemory(ctx, []string{a.ID, b.ID}, t1); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchMemory(ctx, []string{a.ID}, t2); err != nil {
		t.Fatal(err)
	}
	wantA, wantB := a, b
	wantA.Uses, wantA.LastUsed = 2, t2
	wantB.Uses, wantB.LastUsed = 6, t1
	for _, want := range []memory.Record{wantA, wantB, c} {
		if diff := cmp.Diff(want, get(t, s, want.ID), timeEqual); diff != "" {
			t.Errorf("after TouchMemory, %s (-want +got):\n%s", want.ID, diff)
		}
	}
	if err := s.TouchMemory(ctx, nil, t2); err != nil {
		t.Errorf("TouchMemory of no records: %v", err)
	}
	if got := get(t, s, c.ID); got.Uses != 0 || !got.LastUsed.IsZero() {
		t.Errorf("an untouched record changed: %+v", got)
	}
}

func testStats(t *testing.T, s memory.Store) {
	ctx := context.Background()
	all := corpus()
	for i := range all {
		all[i].Summary = strings.Repeat("s", i%5)
		all[i].OneLine = strings.Repeat("o", i%3)
	}
	put(t, s, all...)
	if err := s.DeleteMemory(ctx, all[0].ID); err != nil {
		t.Fatal(err)
	}
	live := all[1:]
	want := memory.Stats{Records: map[string]int{}}
	for _, r := range live {
		want.Records[r.Layer]++
		want.Bytes += int64(len(r.Text) + len(r.Summary) + len(r.OneLine))
	}
	got, err := s.MemoryStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bytes != want.Bytes {
		t.Errorf("Bytes = %d, want %d", got.Bytes, want.Bytes)
	}
	for _, layer := range []string{memory.LayerEpisodic, memory.LayerSemantic} {
		if got.Records[layer] != want.Records[layer] {
			t.Errorf("Records[%s] = %d, want %d", layer, got.Records[layer], want.Records[layer])
		}
	}
}

func testConcurrency(t *testing.T, s memory.Store) {
	ctx := context.Background()
	shared := rec(0)
	put(t, s, shared)
	const workers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*3)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				r := rec(1 + w*each + i)
				r.Text = fmt.Sprintf("worker%d wrote item %d", w, i)
				if err := s.PutMemory(ctx, r); err != nil {
					errs <- err
				}
				if err := s.TouchMemory(ctx, []string{shared.ID}, at(i)); err != nil {
					errs <- err
				}
				if _, err := s.SearchMemory(ctx, memory.Query{Text: "wrote item", MaxLevel: -1, Limit: 10}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call: %v", err)
	}
	if got := get(t, s, shared.ID).Uses; got != workers*each {
		t.Errorf("Uses after %d concurrent touches = %d: TouchMemory is not atomic", workers*each, got)
	}
	st, err := s.MemoryStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Records[memory.LayerEpisodic]; got != workers*each+1 {
		t.Errorf("%d records after concurrent puts, want %d", got, workers*each+1)
	}
	for w := range workers {
		got := search(t, s, memory.Query{Text: fmt.Sprintf("worker%d", w), MaxLevel: -1, Limit: 1000})
		if len(got) != each {
			t.Errorf("worker%d's records found: %d, want %d", w, len(got), each)
		}
	}
}

func testEndedContext(t *testing.T, s memory.Store) {
	put(t, s, rec(1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.PutMemory(ctx, rec(2)); err == nil {
		t.Error("PutMemory with an ended context succeeded")
	}
	if _, err := s.GetMemory(context.Background(), rec(2).ID); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("PutMemory with an ended context stored the record (GetMemory err = %v)", err)
	}
	if _, err := s.GetMemory(ctx, rec(1).ID); err == nil {
		t.Error("GetMemory with an ended context succeeded")
	}
	if err := s.DeleteMemory(ctx, rec(1).ID); err == nil {
		t.Error("DeleteMemory with an ended context succeeded")
	}
	if _, err := s.SearchMemory(ctx, memory.Query{MaxLevel: -1}); err == nil {
		t.Error("SearchMemory with an ended context succeeded")
	}
	if err := s.TouchMemory(ctx, []string{rec(1).ID}, at(50)); err == nil {
		t.Error("TouchMemory with an ended context succeeded")
	}
	if _, err := s.MemoryStats(ctx); err == nil {
		t.Error("MemoryStats with an ended context succeeded")
	}
	got := get(t, s, rec(1).ID)
	if got.Uses != 0 || got.Text != rec(1).Text {
		t.Errorf("calls with an ended context changed the record: %+v", got)
	}
}

// testBatch holds a store that answers several searches at once
// (memory.BatchSearcher) to SearchMemory's answers, query by query,
// including queries no record can match and full-text ones; a store
// without it is skipped.
func testBatch(t *testing.T, s memory.Store) {
	bs, ok := s.(memory.BatchSearcher)
	if !ok {
		t.Skip("the store does not answer searches in batches")
	}
	put(t, s, corpus()...)
	put(t, s, textCorpus()...)
	qs := []memory.Query{
		{MaxLevel: -1, Limit: 1000},
		{Layer: memory.LayerSemantic, Kind: "rule", Scope: "main", MaxLevel: -1, Limit: 5},
		{Layer: memory.LayerEpisodic, Agent: "agent-b", MaxLevel: 1, Limit: 100, After: at(10)},
		{Kind: "glossary", MaxLevel: -1},          // matches nothing
		{Kind: "bad\x00kind", MaxLevel: -1},       // no record can hold it
		{Text: "deploy", MaxLevel: -1, Limit: 20}, // full text
		{Text: "!!!", MaxLevel: -1},               // no words
		{Scope: "peer:a", MaxLevel: -1, Before: at(30)},
	}
	got, err := bs.SearchMemories(context.Background(), qs)
	if err != nil {
		t.Fatalf("SearchMemories: %v", err)
	}
	if len(got) != len(qs) {
		t.Fatalf("SearchMemories answered %d of %d queries", len(got), len(qs))
	}
	for i, q := range qs {
		want := search(t, s, q)
		if diff := cmp.Diff(ids(want), ids(got[i])); diff != "" {
			t.Errorf("query %d %+v: batch differs from SearchMemory (-want +got):\n%s", i, q, diff)
		}
	}
	if _, err := bs.SearchMemories(context.Background(), []memory.Query{{Limit: -1}}); err == nil {
		t.Error("a batch with an invalid query was answered")
	}
	if _, err := bs.SearchMemories(context.Background(), make([]memory.Query, memory.MaxBatch+1)); err == nil {
		t.Errorf("a batch of %d queries was answered; at most %d are allowed", memory.MaxBatch+1, memory.MaxBatch)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := bs.SearchMemories(ctx, qs); !errors.Is(err, context.Canceled) {
		t.Errorf("a batch with an ended context: %v, want context.Canceled", err)
	}
}
