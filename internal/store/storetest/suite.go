package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sentinel-agent/sentinel/internal/audit"
)

// Run holds the store that open returns to the acceptance suite.
//
// open must return a store on a fresh, empty database for every new t,
// and the same database again when called a second time with the same t
// (the suite closes the first store before, to check that nothing is
// lost on reopening). open should register the store's Close with
// t.Cleanup; Close must therefore tolerate a second call.
func Run(t *testing.T, open func(t *testing.T) audit.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) audit.Store)
	}{
		{"EmptyStore", testEmpty},
		{"AppendContinuesHead", testAppendContinuesHead},
		{"AppendRefusesBrokenChain", testAppendRefusesBrokenChain},
		{"AppendRefusesInvalidRecords", testAppendRefusesInvalidRecords},
		{"SealError", testSealError},
		{"ScanOrderAndFrom", testScan},
		{"QueryFilters", testQueryFilters},
		{"QueryPaging", testQueryPaging},
		{"QueryLimit", testQueryLimit},
		{"Stats", testStats},
		{"Checkpoints", testCheckpoints},
		{"Prune", testPrune},
		{"PruneIsAtomic", testPruneAtomic},
		{"BodyRoundTrip", testBodyRoundTrip},
		{"Cancellation", testCancellation},
		{"ConcurrentAppends", testConcurrentAppends},
		{"Reopen", testReopen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

func testEmpty(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	ctx := context.Background()
	if h := head(t, s); h != (audit.Head{}) {
		t.Fatalf("Head of an empty store = %+v, want the zero Head", h)
	}
	if got := scan(t, s, 0); len(got) != 0 {
		t.Fatalf("Scan of an empty store returned %d records", len(got))
	}
	got, err := s.Query(ctx, audit.Filter{})
	if err != nil || len(got) != 0 {
		t.Fatalf("Query of an empty store = %d records, %v", len(got), err)
	}
	st, err := s.Stats(ctx, audit.Filter{}, 0)
	if err != nil || st.Total != 0 || st.HighRisk != 0 || len(st.ByAction) != 0 {
		t.Fatalf("Stats of an empty store = %+v, %v", st, err)
	}
	cps, err := s.Checkpoints(ctx, 0)
	if err != nil || len(cps) != 0 {
		t.Fatalf("Checkpoints of an empty store = %v, %v", cps, err)
	}
}

// ev returns a plain decision event at base + i minutes.
func ev(i int) event {
	return event{Type: "decision", Session: "s", Agent: "a", Tool: "shell", Kind: "exec", Action: "allow",
		Risk: 0.25, DecisionID: fmt.Sprintf("d%d", i), Time: base.Add(time.Duration(i) * time.Minute)}
}

func evs(from, n int) []event {
	out := make([]event, n)
	for i := range out {
		out[i] = ev(from + i)
	}
	return out
}

func testAppendContinuesHead(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	first := appendEvents(t, s, evs(0, 3)...)
	if h := head(t, s); h.Seq != 3 || h.Hash != first[2].Hash {
		t.Fatalf("Head after 3 records = %+v, want 3/%s", h, first[2].Hash)
	}
	var seen audit.Head
	var second []audit.Record
	_, err := s.Append(context.Background(), func(h audit.Head) ([]audit.Record, error) {
		seen = h
		return seal(evs(3, 2), &second)(h)
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != (audit.Head{Seq: 3, Hash: first[2].Hash}) {
		t.Fatalf("seal was given head %+v, want the end of the chain 3/%s", seen, first[2].Hash)
	}
	if h := head(t, s); h.Seq != 5 || h.Hash != second[1].Hash {
		t.Fatalf("Head after 5 records = %+v, want 5/%s", h, second[1].Hash)
	}
	all := scan(t, s, 0)
	sameRecords(t, "Scan", all, append(first, second...))
	CheckChain(t, audit.Head{}, all)

	// A seal with nothing to add changes nothing.
	h, err := s.Append(context.Background(), func(audit.Head) ([]audit.Record, error) { return nil, nil })
	if err != nil || h.Seq != 5 || h.Hash != second[1].Hash {
		t.Fatalf("empty Append = %+v, %v; want the unchanged head", h, err)
	}
}

func testAppendRefusesBrokenChain(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	before := appendEvents(t, s, evs(0, 3)...)
	tests := []struct {
		name  string
		spoil func(recs []audit.Record)
	}{
		{"first seq skips one", func(r []audit.Record) { r[0].Seq++ }},
		{"first seq repeats the head", func(r []audit.Record) { r[0].Seq-- }},
		{"first prev hash is not the head's", func(r []audit.Record) { r[0].PrevHash = "forged" }},
		{"seq gap inside the batch", func(r []audit.Record) { r[2].Seq++ }},
		{"seq repeated inside the batch", func(r []audit.Record) { r[2].Seq = r[1].Seq }},
		{"prev hash broken inside the batch", func(r []audit.Record) { r[1].PrevHash = r[0].PrevHash }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(context.Background(), func(h audit.Head) ([]audit.Record, error) {
				recs := records(h, 3, func(i int) event { return ev(10 + i) })
				tt.spoil(recs)
				return recs, nil
			})
			if !errors.Is(err, audit.ErrConflict) {
				t.Fatalf("Append = %v, want ErrConflict", err)
			}
			if h := head(t, s); h.Seq != 3 || h.Hash != before[2].Hash {
				t.Fatalf("Head after a refused Append = %+v, want it unchanged", h)
			}
			sameRecords(t, "Scan after a refused Append", scan(t, s, 0), before)
		})
	}
}

func testAppendRefusesInvalidRecords(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	before := appendEvents(t, s, evs(0, 2)...)
	tests := []struct {
		name  string
		spoil func(r *audit.Record)
	}{
		{"empty body", func(r *audit.Record) { r.Body = nil }},
		{"empty hash", func(r *audit.Record) { r.Hash = "" }},
		{"NaN risk", func(r *audit.Record) { r.Risk = math.NaN() }},
		{"year beyond 9999", func(r *audit.Record) { r.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"NUL byte in a text field", func(r *audit.Record) { r.Session = "a\x00b" }},
		{"invalid UTF-8 in a text field", func(r *audit.Record) { r.Tool = "\xff\xfe" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(context.Background(), func(h audit.Head) ([]audit.Record, error) {
				recs := records(h, 2, func(i int) event { return ev(10 + i) })
				tt.spoil(&recs[1])
				return recs, nil
			})
			if err == nil {
				t.Fatal("Append accepted an invalid record")
			}
			if h := head(t, s); h.Seq != 2 || h.Hash != before[1].Hash {
				t.Fatalf("Head after a refused Append = %+v, want it unchanged", h)
			}
			sameRecords(t, "Scan after a refused Append", scan(t, s, 0), before)
		})
	}
}

func testSealError(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	before := appendEvents(t, s, evs(0, 2)...)
	boom := errors.New("signer unavailable")
	_, err := s.Append(context.Background(), func(audit.Head) ([]audit.Record, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Append = %v, want the seal's error", err)
	}
	if h := head(t, s); h.Seq != 2 || h.Hash != before[1].Hash {
		t.Fatalf("Head after a failed seal = %+v, want it unchanged", h)
	}
	sameRecords(t, "Scan after a failed seal", scan(t, s, 0), before)
	appendEvents(t, s, evs(2, 1)...) // and the chain still takes records
}

func testScan(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	var want []audit.Record
	for _, n := range []int{4, 1, 5} {
		want = append(want, appendEvents(t, s, evs(len(want), n)...)...)
	}
	sameRecords(t, "Scan(0)", scan(t, s, 0), want)
	sameRecords(t, "Scan(1)", scan(t, s, 1), want)
	sameRecords(t, "Scan(4)", scan(t, s, 4), want[3:])
	sameRecords(t, "Scan(10)", scan(t, s, 10), want[9:])
	if got := scan(t, s, 11); len(got) != 0 {
		t.Fatalf("Scan past the head returned %v", seqs(got))
	}

	stop := errors.New("enough")
	calls := 0
	err := s.Scan(context.Background(), 0, func(r audit.Record) error {
		calls++
		// The callback may use the store while Scan runs.
		if _, err := s.Head(context.Background()); err != nil {
			return err
		}
		if r.Seq == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Fatalf("Scan with a callback failing at 3 = %v after %d calls, want its error after 3", err, calls)
	}
}

// dataset returns varied events for the filter and stats tests.
func dataset(n int) []event {
	sessions := []string{"s1", "s2", "s3"}
	agents := []string{"a1", "a2"}
	tools := []string{"shell", "fs.read", "http.get", ""}
	actions := []string{"allow", "deny", "confirm", "notify"}
	verifies := []string{"pass", "warn", "fail"}
	out := make([]event, n)
	for i := range out {
		e := event{
			Type: "decision", DecisionID: fmt.Sprintf("d%02d", i/2),
			Session: sessions[i%3], Agent: agents[(i/2)%2], Tool: tools[i%4], Kind: "k" + tools[i%4],
			Action: actions[(i/3)%4], Risk: float64((i*37)%100) / 100,
			Time: base.Add(time.Duration(i)*time.Minute + time.Duration(i%7)),
		}
		if i%5 == 4 {
			e.Type, e.Action, e.Verify = "outcome", "", verifies[i%3]
		}
		out[i] = e
	}
	return out
}

// match is the model of Filter's selection.
func match(r audit.Record, f audit.Filter) bool {
	return (f.Session == "" || r.Session == f.Session) &&
		(f.Agent == "" || r.Agent == f.Agent) &&
		(f.Tool == "" || r.Tool == f.Tool) &&
		(f.Action == "" || r.Action == f.Action) &&
		(f.Verify == "" || r.Verify == f.Verify) &&
		(!f.HasMinRisk || r.Risk >= f.MinRisk) &&
		(f.Since.IsZero() || !r.Time.Before(f.Since)) &&
		(f.Until.IsZero() || r.Time.Before(f.Until)) &&
		(f.AfterSeq == 0 || r.Seq > f.AfterSeq) &&
		(f.BeforeSeq == 0 || r.Seq < f.BeforeSeq)
}

// model is what Query must return for f over all.
func model(all []audit.Record, f audit.Filter) []audit.Record {
	var out []audit.Record
	for _, r := range all {
		if match(r, f) {
			out = append(out, r)
		}
	}
	if f.Desc {
		slices.Reverse(out)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 10000)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func testQueryFilters(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	all := appendEvents(t, s, dataset(60)...)
	tests := []struct {
		name string
		f    audit.Filter
	}{
		{"none", audit.Filter{}},
		{"session", audit.Filter{Session: "s2"}},
		{"agent", audit.Filter{Agent: "a1"}},
		{"tool", audit.Filter{Tool: "shell"}},
		{"action", audit.Filter{Action: "deny"}},
		{"verify", audit.Filter{Verify: "fail"}},
		{"min risk", audit.Filter{MinRisk: 0.5, HasMinRisk: true}},
		{"min risk zero keeps all", audit.Filter{HasMinRisk: true}},
		{"min risk without HasMinRisk", audit.Filter{MinRisk: 0.5}},
		{"min risk exactly a record's", audit.Filter{MinRisk: all[7].Risk, HasMinRisk: true}},
		{"since a record's time", audit.Filter{Since: all[10].Time}},
		{"until a record's time", audit.Filter{Until: all[20].Time}},
		{"since and until", audit.Filter{Since: all[10].Time, Until: all[20].Time}},
		{"since and until in another zone", audit.Filter{Since: all[10].Time.In(time.FixedZone("X", 5*3600)), Until: all[30].Time.In(time.FixedZone("Y", -7*3600))}},
		{"after seq", audit.Filter{AfterSeq: 30}},
		{"before seq descending", audit.Filter{BeforeSeq: 30, Desc: true}},
		{"before seq ascending", audit.Filter{BeforeSeq: 30}},
		{"descending", audit.Filter{Desc: true}},
		{"limit", audit.Filter{Limit: 5}},
		{"limit descending", audit.Filter{Limit: 5, Desc: true}},
		{"combined", audit.Filter{Session: "s1", Tool: "shell", MinRisk: 0.3, HasMinRisk: true, Since: all[3].Time}},
		{"nothing matches", audit.Filter{Session: "nobody"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Query(context.Background(), tt.f)
			if err != nil {
				t.Fatalf("Query(%+v): %v", tt.f, err)
			}
			want := model(all, tt.f)
			if tt.name != "nothing matches" && len(want) == 0 {
				t.Fatalf("the dataset has no record for %+v; the test would prove nothing", tt.f)
			}
			sameRecords(t, fmt.Sprintf("Query(%+v)", tt.f), got, want)
		})
	}
}

func testQueryPaging(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	all := appendEvents(t, s, dataset(60)...)
	ctx := context.Background()

	var forward []audit.Record
	for after, pages := uint64(0), 0; ; pages++ {
		if pages > 60 {
			t.Fatal("forward paging does not end")
		}
		page, err := s.Query(ctx, audit.Filter{Session: "s1", AfterSeq: after, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		forward = append(forward, page...)
		after = page[len(page)-1].Seq
	}
	sameRecords(t, "pages forward", forward, model(all, audit.Filter{Session: "s1"}))

	var backward []audit.Record
	for before, pages := uint64(0), 0; ; pages++ {
		if pages > 60 {
			t.Fatal("backward paging does not end")
		}
		page, err := s.Query(ctx, audit.Filter{Tool: "fs.read", BeforeSeq: before, Desc: true, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		backward = append(backward, page...)
		before = page[len(page)-1].Seq
	}
	sameRecords(t, "pages backward", backward, model(all, audit.Filter{Tool: "fs.read", Desc: true}))
}

func testQueryLimit(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	const n = 10050
	var all []audit.Record
	if _, err := s.Append(context.Background(), func(h audit.Head) ([]audit.Record, error) {
		all = records(h, n, func(i int) event {
			return event{Type: "decision", Tool: "t", Time: base.Add(time.Duration(i) * time.Second)}
		})
		return all, nil
	}); err != nil {
		t.Fatalf("Append of %d records: %v", n, err)
	}
	for _, f := range []audit.Filter{{}, {Limit: -3}, {Limit: 1}, {Limit: 10000}, {Limit: 10001}, {Limit: math.MaxInt}, {Limit: math.MaxInt, Desc: true}} {
		got, err := s.Query(context.Background(), f)
		if err != nil {
			t.Fatalf("Query(Limit %d): %v", f.Limit, err)
		}
		want := model(all, f)
		if !slices.Equal(seqs(got), seqs(want)) {
			t.Fatalf("Query(Limit %d, Desc %v) returned %d records, want %d (seq %d…)", f.Limit, f.Desc, len(got), len(want), want[0].Seq)
		}
	}
}

// statsModel is what Stats must return for f over all.
func statsModel(all []audit.Record, f audit.Filter, highRisk float64) audit.Stats {
	f.AfterSeq, f.BeforeSeq, f.Limit, f.Desc = 0, 0, 0, false
	st := audit.Stats{ByAction: map[string]int64{}, ByTool: map[string]int64{}}
	for _, r := range all {
		if !match(r, f) {
			continue
		}
		st.Total++
		if r.Action != "" {
			st.ByAction[r.Action]++
		}
		if r.Tool != "" {
			st.ByTool[r.Tool]++
		}
		if r.Verify == "fail" {
			st.Failures++
		}
		if r.Risk >= highRisk {
			st.HighRisk++
		}
	}
	return st
}

func testStats(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	all := appendEvents(t, s, dataset(60)...)
	tests := []struct {
		name     string
		f        audit.Filter
		highRisk float64
	}{
		{"all", audit.Filter{}, 0.7},
		{"threshold zero", audit.Filter{}, 0},
		{"threshold a record's risk", audit.Filter{}, all[5].Risk},
		{"session", audit.Filter{Session: "s2"}, 0.5},
		{"tool", audit.Filter{Tool: "shell"}, 0.5},
		{"verify", audit.Filter{Verify: "fail"}, 0.5},
		{"window", audit.Filter{Since: all[10].Time, Until: all[40].Time}, 0.5},
		{"paging fields ignored", audit.Filter{Agent: "a2", AfterSeq: 50, BeforeSeq: 55, Desc: true, Limit: 1}, 0.5},
		{"nothing", audit.Filter{Action: "nope"}, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Stats(context.Background(), tt.f, tt.highRisk)
			if err != nil {
				t.Fatal(err)
			}
			want := statsModel(all, tt.f, tt.highRisk)
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("Stats(%+v, %v) (-want +got):\n%s", tt.f, tt.highRisk, diff)
			}
		})
	}
}

func checkpoints(t *testing.T, s audit.Store, from uint64) []audit.Checkpoint {
	t.Helper()
	cps, err := s.Checkpoints(context.Background(), from)
	if err != nil {
		t.Fatalf("Checkpoints(%d): %v", from, err)
	}
	return cps
}

func testCheckpoints(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	ctx := context.Background()
	recs := appendEvents(t, s, evs(0, 10)...)
	cp := func(seq uint64, body string) audit.Checkpoint {
		return audit.Checkpoint{Seq: seq, Hash: recs[seq-1].Hash, Body: []byte(body)}
	}
	for _, c := range []audit.Checkpoint{cp(8, "eight"), cp(3, "three"), cp(5, "five")} {
		if err := s.PutCheckpoint(ctx, c); err != nil {
			t.Fatalf("PutCheckpoint(%d): %v", c.Seq, err)
		}
	}
	if diff := cmp.Diff([]audit.Checkpoint{cp(3, "three"), cp(5, "five"), cp(8, "eight")}, checkpoints(t, s, 0)); diff != "" {
		t.Fatalf("Checkpoints(0) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]audit.Checkpoint{cp(5, "five"), cp(8, "eight")}, checkpoints(t, s, 4)); diff != "" {
		t.Fatalf("Checkpoints(4) (-want +got):\n%s", diff)
	}
	if got := checkpoints(t, s, 9); len(got) != 0 {
		t.Fatalf("Checkpoints(9) = %v, want none", got)
	}

	// Same hash: the new body (say, with a second signature) replaces the old.
	if err := s.PutCheckpoint(ctx, cp(5, "five, signed twice")); err != nil {
		t.Fatalf("PutCheckpoint with the same hash: %v", err)
	}
	// Another hash for the same seq contradicts it.
	err := s.PutCheckpoint(ctx, audit.Checkpoint{Seq: 5, Hash: recs[6].Hash, Body: []byte("forged")})
	if !errors.Is(err, audit.ErrConflict) {
		t.Fatalf("PutCheckpoint with another hash = %v, want ErrConflict", err)
	}
	if diff := cmp.Diff([]audit.Checkpoint{cp(3, "three"), cp(5, "five, signed twice"), cp(8, "eight")}, checkpoints(t, s, 0)); diff != "" {
		t.Fatalf("Checkpoints after replace and conflict (-want +got):\n%s", diff)
	}
	if err := s.PutCheckpoint(ctx, audit.Checkpoint{Seq: 9, Hash: recs[8].Hash}); err == nil {
		t.Fatal("PutCheckpoint accepted a checkpoint without a body")
	}
}

func testPrune(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	ctx := context.Background()
	recs := appendEvents(t, s, evs(0, 10)...)
	anchor := func(seq uint64) audit.Checkpoint {
		return audit.Checkpoint{Seq: seq, Hash: recs[seq-1].Hash, Body: fmt.Appendf(nil, "anchor %d", seq)}
	}
	if err := s.PutCheckpoint(ctx, anchor(3)); err != nil {
		t.Fatal(err)
	}
	n, err := s.Prune(ctx, 6, anchor(5))
	if err != nil || n != 5 {
		t.Fatalf("Prune(6) = %d, %v; want 5 records gone", n, err)
	}
	sameRecords(t, "Scan(0) after Prune(6)", scan(t, s, 0), recs[5:])
	if got, err := s.Query(ctx, audit.Filter{}); err != nil || !slices.Equal(seqs(got), seqs(recs[5:])) {
		t.Fatalf("Query after Prune(6) = %v, %v", seqs(got), err)
	}
	if diff := cmp.Diff([]audit.Checkpoint{anchor(3), anchor(5)}, checkpoints(t, s, 0)); diff != "" {
		t.Fatalf("Checkpoints after Prune(6) (-want +got):\n%s", diff)
	}
	if h := head(t, s); h.Seq != 10 || h.Hash != recs[9].Hash {
		t.Fatalf("Head after Prune = %+v, want it unchanged", h)
	}

	refused := []struct {
		name     string
		before   uint64
		anchor   audit.Checkpoint
		conflict bool
	}{
		{"anchor not at before-1", 8, anchor(6), false},
		{"anchor hash is not the record's", 8, audit.Checkpoint{Seq: 7, Hash: recs[3].Hash, Body: []byte("x")}, true},
		{"before beyond the head", 12, audit.Checkpoint{Seq: 11, Hash: "h", Body: []byte("x")}, false},
		{"anchor without body", 8, audit.Checkpoint{Seq: 7, Hash: recs[6].Hash}, false},
	}
	for _, tt := range refused {
		n, err := s.Prune(ctx, tt.before, tt.anchor)
		if err == nil || n != 0 || (tt.conflict && !errors.Is(err, audit.ErrConflict)) {
			t.Fatalf("Prune %s = %d, %v; want it refused (conflict: %v)", tt.name, n, err, tt.conflict)
		}
		sameRecords(t, "Scan after a refused Prune", scan(t, s, 0), recs[5:])
		if got := checkpoints(t, s, 0); len(got) != 2 {
			t.Fatalf("Prune %s stored a checkpoint: %v", tt.name, got)
		}
	}

	// Pruning everything keeps the head, and the chain goes on from it.
	n, err = s.Prune(ctx, 11, anchor(10))
	if err != nil || n != 5 {
		t.Fatalf("Prune(11) = %d, %v; want 5", n, err)
	}
	if got := scan(t, s, 0); len(got) != 0 {
		t.Fatalf("Scan after pruning everything = %v", seqs(got))
	}
	if h := head(t, s); h.Seq != 10 || h.Hash != recs[9].Hash {
		t.Fatalf("Head after pruning everything = %+v, want 10/%s", h, recs[9].Hash)
	}
	more := appendEvents(t, s, evs(10, 2)...)
	CheckChain(t, audit.Head{Seq: 10, Hash: recs[9].Hash}, scan(t, s, 0))
	sameRecords(t, "Scan after appending to a pruned chain", scan(t, s, 0), more)

	// Pruning below what is gone removes nothing.
	if n, err := s.Prune(ctx, 4, anchor(3)); err != nil || n != 0 {
		t.Fatalf("Prune(4) after Prune(11) = %d, %v; want 0, nil", n, err)
	}
}

func testPruneAtomic(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	ctx := context.Background()
	recs := appendEvents(t, s, evs(0, 6)...)
	// A checkpoint for seq 3 that the anchor will contradict.
	if err := s.PutCheckpoint(ctx, audit.Checkpoint{Seq: 3, Hash: "not-the-chain", Body: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	n, err := s.Prune(ctx, 4, audit.Checkpoint{Seq: 3, Hash: recs[2].Hash, Body: []byte("anchor")})
	if !errors.Is(err, audit.ErrConflict) || n != 0 {
		t.Fatalf("Prune whose anchor contradicts a checkpoint = %d, %v; want 0, ErrConflict", n, err)
	}
	sameRecords(t, "Scan after the refused Prune", scan(t, s, 0), recs)
}

func testBodyRoundTrip(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	allBytes := make([]byte, 0, 512)
	for i := range 256 {
		allBytes = append(allBytes, byte(i))
	}
	allBytes = append(allBytes, "\x00\x00 trailing space and NUL \xff\xfe"...)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	in := []event{
		{Type: "decision", Extra: allBytes, Time: base},
		{Type: "decision", Extra: []byte(`{"note":"ünïcödé ✓ 🚀","esc":"\u0000\n"}`), Time: base.In(zone), Session: "sé", Tool: "日本"},
		{Type: "decision", Extra: big, Time: time.Time{}.UTC(), Risk: 1e-300},
		{Type: "decision", Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), Risk: math.Inf(1)},
	}
	want := appendEvents(t, s, in...)
	for i := range want {
		want[i].Time = want[i].Time.UTC()
	}
	got := scan(t, s, 0)
	sameRecords(t, "Scan", got, want)
	CheckChain(t, audit.Head{}, got)
	q, err := s.Query(context.Background(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, "Query", q, want)
}

func testCancellation(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	before := appendEvents(t, s, evs(0, 3)...)
	unchanged := func(what string) {
		t.Helper()
		if h := head(t, s); h.Seq != 3 || h.Hash != before[2].Hash {
			t.Fatalf("%s: Head = %+v, want it unchanged", what, h)
		}
		sameRecords(t, what, scan(t, s, 0), before)
		if got := checkpoints(t, s, 0); len(got) != 0 {
			t.Fatalf("%s: a checkpoint was stored: %v", what, got)
		}
	}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Append(cancelled, seal(evs(3, 2), nil)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context = %v, want context.Canceled", err)
	}
	unchanged("after Append with a cancelled context")

	// The context ends while the seal runs, that is while the chain is locked.
	ctx, cancel := context.WithCancel(context.Background())
	_, err := s.Append(ctx, func(h audit.Head) ([]audit.Record, error) {
		cancel()
		return seal(evs(3, 2), nil)(h)
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Append cancelled during the seal = %v, want context.Canceled", err)
	}
	unchanged("after Append cancelled during the seal")

	cp := audit.Checkpoint{Seq: 2, Hash: before[1].Hash, Body: []byte("cp")}
	if err := s.PutCheckpoint(cancelled, cp); err == nil {
		t.Fatal("PutCheckpoint with a cancelled context succeeded")
	}
	if _, err := s.Prune(cancelled, 3, cp); err == nil {
		t.Fatal("Prune with a cancelled context succeeded")
	}
	unchanged("after PutCheckpoint and Prune with a cancelled context")
	if _, err := s.Head(cancelled); err == nil {
		t.Error("Head with a cancelled context succeeded")
	}
	if err := s.Scan(cancelled, 0, func(audit.Record) error { return nil }); err == nil {
		t.Error("Scan with a cancelled context succeeded")
	}
	if _, err := s.Query(cancelled, audit.Filter{}); err == nil {
		t.Error("Query with a cancelled context succeeded")
	}
	if _, err := s.Stats(cancelled, audit.Filter{}, 0); err == nil {
		t.Error("Stats with a cancelled context succeeded")
	}
	if _, err := s.Checkpoints(cancelled, 0); err == nil {
		t.Error("Checkpoints with a cancelled context succeeded")
	}
	appendEvents(t, s, evs(3, 1)...) // the store still works
}

func testConcurrentAppends(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	const writers, appends = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	total := 0
	for w := range writers {
		for j := range appends {
			total += 1 + j%3
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range appends {
				batch := make([]event, 1+j%3)
				for k := range batch {
					batch[k] = ev(j)
					batch[k].Extra = fmt.Appendf(nil, "w%d-%d-%d", w, j, k)
				}
				if _, err := s.Append(context.Background(), seal(batch, nil)); err != nil {
					errs <- fmt.Errorf("writer %d append %d: %w", w, j, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := scan(t, s, 0)
	if h := head(t, s); h.Seq != uint64(total) || len(got) != total {
		t.Fatalf("after %d concurrent records: head %d, %d records scanned", total, h.Seq, len(got))
	}
	CheckChain(t, audit.Head{}, got)
	seen := map[string]bool{}
	for _, r := range got {
		tag := string(r.Body[len(body(r.Seq, r.PrevHash, ev(0))):])
		if seen[tag] {
			t.Fatalf("record %s appears twice", tag)
		}
		seen[tag] = true
	}
}

func testReopen(t *testing.T, open func(t *testing.T) audit.Store) {
	s := open(t)
	ctx := context.Background()
	recs := appendEvents(t, s, evs(0, 8)...)
	cp := audit.Checkpoint{Seq: 6, Hash: recs[5].Hash, Body: []byte("six")}
	if err := s.PutCheckpoint(ctx, cp); err != nil {
		t.Fatal(err)
	}
	anchor := audit.Checkpoint{Seq: 2, Hash: recs[1].Hash, Body: []byte("two")}
	if _, err := s.Prune(ctx, 3, anchor); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.Head(ctx); err == nil {
		t.Fatal("Head on a closed store succeeded")
	}
	if _, err := s.Append(ctx, seal(evs(8, 1), nil)); err == nil {
		t.Fatal("Append on a closed store succeeded")
	}

	s = open(t)
	if h := head(t, s); h.Seq != 8 || h.Hash != recs[7].Hash {
		t.Fatalf("Head after reopening = %+v, want 8/%s", h, recs[7].Hash)
	}
	sameRecords(t, "Scan after reopening", scan(t, s, 0), recs[2:])
	if diff := cmp.Diff([]audit.Checkpoint{anchor, cp}, checkpoints(t, s, 0)); diff != "" {
		t.Fatalf("Checkpoints after reopening (-want +got):\n%s", diff)
	}
	more := appendEvents(t, s, evs(8, 2)...)
	CheckChain(t, audit.Head{Seq: 2, Hash: recs[1].Hash}, scan(t, s, 0))
	sameRecords(t, "Scan after appending to the reopened store", scan(t, s, 9), more)
}
