package evaluator

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

func TestPreScore(t *testing.T) {
	tests := []struct {
		name    string
		action  decision.Action
		risk    float64
		reasons []string
		want    float64
	}{
		{"clean allow", decision.Allow, 0, nil, 100},
		{"notify with some risk", decision.Notify, 0.5, nil, 100 - 5 - 1.25},
		{"confirm with a schema problem", decision.Confirm, 2, []string{"schema.type"}, 100 - 15 - 20 - 5},
		{"deny, risk capped at 8", decision.Deny, 9, []string{"command.recursive_delete_root"}, 100 - 40 - 20},
		{"schema problems capped at 4", decision.Allow, 0, []string{"schema.a", "schema.b", "schema.c", "schema.d", "schema.e"}, 40},
		{"only schema.* reasons count", decision.Allow, 0, []string{"path.sensitive", "schemas.x", "schema"}, 100},
		{"floor at 0", decision.Deny, 8, []string{"schema.a", "schema.b", "schema.c", "schema.d"}, 0},
	}
	for _, tt := range tests {
		e := dec(now, "a", "s", "exec", tt.action, tt.risk, tt.reasons...)
		if got := preScore(&e); !near(got, tt.want) {
			t.Errorf("%s: pre = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRuntimeScore(t *testing.T) {
	tests := []struct {
		name   string
		e      Event
		median int64
		want   float64
	}{
		{"clean run", Event{ExecStatus: ExecOK}, 0, 100},
		{"two retries", Event{ExecStatus: ExecOK, Retries: 2}, 0, 80},
		{"retries capped at 5", Event{ExecStatus: ExecOK, Retries: 9}, 0, 50},
		{"error", Event{ExecStatus: ExecError}, 0, 70},
		{"timeout status", Event{ExecStatus: ExecTimeout}, 0, 60},
		{"timed out flag", Event{ExecStatus: ExecOK, TimedOut: true}, 0, 60},
		{"a timeout is not also an error", Event{ExecStatus: ExecError, TimedOut: true}, 0, 60},
		{"self-corrected error after a retry", Event{ExecStatus: ExecError, Retries: 1, SelfCorrected: true}, 0, 50},
		{"twice the median is not slow", Event{ExecStatus: ExecOK, DurationMS: 256}, 128, 100},
		{"four times the median", Event{ExecStatus: ExecOK, DurationMS: 512}, 128, 90},
		{"slowness capped at 20", Event{ExecStatus: ExecOK, DurationMS: 2048}, 128, 80},
		{"no history, no slowness", Event{ExecStatus: ExecOK, DurationMS: 100_000}, 0, 100},
		{"floor at 0", Event{ExecStatus: ExecTimeout, Retries: 5, SelfCorrected: true, DurationMS: 1 << 20}, 1, 0},
	}
	for _, tt := range tests {
		if got := runtimeScore(&tt.e, tt.median); !near(got, tt.want) {
			t.Errorf("%s: runtime = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Three times the median: 10·(log2 3 − 1).
	if got, want := slowPenalty(384, 128), 10*(math.Log2(3)-1); !near(got, want) {
		t.Errorf("slowPenalty(384, 128) = %v, want %v", got, want)
	}
}

func TestPostScore(t *testing.T) {
	tests := []struct {
		name   string
		e      Event
		want   float64
		scored bool
	}{
		{"nothing measured", Event{ExecStatus: ExecOK}, 0, false},
		{"pass", Event{Verify: VerifyPass}, 100, true},
		{"warn", Event{Verify: VerifyWarn}, 50, true},
		{"fail", Event{Verify: VerifyFail}, 0, true},
		{"pass but rejected", Event{Verify: VerifyPass, UserAccepted: ptr(false)}, 200.0 / 3, true},
		{"fail, accepted and used", Event{Verify: VerifyFail, UserAccepted: ptr(true), ResultUsed: ptr(true)}, 50, true},
		{"edited only", Event{UserEdited: ptr(true)}, 50, true},
		{"not edited only", Event{UserEdited: ptr(false)}, 100, true},
		{"all four", Event{Verify: VerifyPass, UserAccepted: ptr(true), UserEdited: ptr(true), ResultUsed: ptr(true)}, 90, true},
		{"result unused", Event{ResultUsed: ptr(false)}, 0, true},
	}
	for _, tt := range tests {
		got, ok := postScore(&tt.e)
		if ok != tt.scored || !near(got, tt.want) {
			t.Errorf("%s: post = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.scored)
		}
	}
}

func TestOverall(t *testing.T) {
	m := func(v float64) Score { return Score{Value: v, N: 1} }
	tests := []struct {
		name string
		b    Breakdown
		want Score
	}{
		{"all measured", Breakdown{m(80), m(60), m(40), m(100)}, Score{Value: 0.25*80 + 0.25*60 + 0.3*40 + 0.2*100, N: 4}},
		{"post and satisfaction only", Breakdown{PostExec: m(40), Satisfaction: m(100)}, Score{Value: (0.3*40 + 0.2*100) / 0.5, N: 2}},
		{"one phase is itself", Breakdown{Runtime: Score{Value: 73, N: 9}}, Score{Value: 73, N: 9}},
		{"nothing measured", Breakdown{}, Score{}},
	}
	for _, tt := range tests {
		got := tt.b.Overall()
		if got.N != tt.want.N || !near(got.Value, tt.want.Value) {
			t.Errorf("%s: overall = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if s := (Score{Value: 72.5, N: 3}).String(); s != "73/100" {
		t.Errorf("String = %q, want 73/100", s)
	}
	if s := (Score{}).String(); s != "n/a" {
		t.Errorf("unmeasured String = %q, want n/a", s)
	}
}

// TestSatisfaction checks the decay weights and the minute boundaries
// of the windows.
func TestSatisfaction(t *testing.T) {
	tests := []struct {
		name   string
		events []Event
		want   Score
	}{
		{"one approval now", []Event{fb(ago(10*time.Minute), "a", "s", UserExplicitApproval)}, Score{Value: 50 + 62.5*0.6, N: 1}},
		{"the seed's four negatives", []Event{
			fb(now, "a", "s1", UserDeletedCode), fb(now, "a", "s1", UserModifiedOutput),
			fb(now, "a", "s1", UserModifiedOutput), fb(now, "a", "s1", UserModifiedOutput),
		}, Score{Value: 50 + 62.5*(-2.3/4), N: 4}},
		{"an hour counts once, a day half", []Event{
			fb(ago(30*time.Minute), "a", "s", UserDeletedCode), fb(ago(2*time.Hour), "a", "s", UserSharedOutput),
		}, Score{Value: 50 + 62.5*(-0.8+0.5*0.8)/1.5, N: 2}},
		{"59 minutes is the last hour, 60 is not", []Event{
			fb(ago(59*time.Minute), "a", "s", UserSharedOutput), fb(ago(60*time.Minute), "a", "s", UserDeletedCode),
		}, Score{Value: 50 + 62.5*(0.8-0.5*0.8)/1.5, N: 2}},
		{"1439 minutes is the last day, 1440 is not", []Event{
			fb(ago(1439*time.Minute), "a", "s", UserSharedOutput), fb(ago(1440*time.Minute), "a", "s", UserDeletedCode),
		}, Score{Value: 50 + 62.5*(0.5*0.8-0.25*0.8)/0.75, N: 2}},
		{"older than a week is gone", []Event{
			fb(ago(7*24*time.Hour), "a", "s", UserDeletedCode), fb(ago(7*24*time.Hour-time.Minute), "a", "s", UserUsedResult),
		}, Score{Value: 50 + 62.5*0.7, N: 1}},
		{"nothing recent", []Event{fb(ago(8*24*time.Hour), "a", "s", UserSharedOutput)}, Score{}},
	}
	for _, tt := range tests {
		got := ProfileOf(tt.events, Options{Now: now}).All.Breakdown.Satisfaction
		if got.N != tt.want.N || !near(got.Value, tt.want.Value) {
			t.Errorf("%s: satisfaction = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestPreExecContextUse(t *testing.T) {
	e1 := dec(now, "a", "s", "exec", decision.Allow, 0)
	e1.ContextUsed = ptr(true)
	e2 := dec(now, "a", "s", "exec", decision.Allow, 0)
	e2.ContextUsed = ptr(false)
	e3 := dec(now, "a", "s", "exec", decision.Deny, 0) // context not measured
	got := ProfileOf([]Event{e1, e2, e3}, Options{}).All.Breakdown.PreExec
	want := 0.85*(100+100+60)/3.0 + 0.15*50
	if got.N != 3 || !near(got.Value, want) {
		t.Errorf("pre-exec = %+v, want %v over 3", got, want)
	}
}

// TestRuntimeAgainstOwnMedian: a call is slow against its own agent's
// history, not another's.
func TestRuntimeAgainstOwnMedian(t *testing.T) {
	var events []Event
	add := func(agent string, d int64) {
		e := out(ago(time.Duration(100-len(events))*time.Minute), agent, "s-"+agent, ExecOK, "")
		e.DurationMS = d
		events = append(events, e)
	}
	for range 5 {
		add("fast", 16)
		add("slow", 128)
	}
	add("slow", 512)  // 4× its median 128: −10
	add("fast", 128)  // 8× its median 16: −20
	add("fast", 0)    // unmeasured duration: no penalty
	add("other", 512) // no history: no penalty
	p := ProfileOf(events, Options{Now: now})
	for _, c := range []struct {
		agent string
		want  Score
	}{
		{"slow", Score{Value: (500 + 90) / 6.0, N: 6}},
		{"fast", Score{Value: (600 + 80) / 7.0, N: 7}},
		{"other", Score{Value: 100, N: 1}},
	} {
		if got := findAgent(p, c.agent).Breakdown.Runtime; got.N != c.want.N || !near(got.Value, c.want.Value) {
			t.Errorf("%s: runtime = %+v, want %+v", c.agent, got, c.want)
		}
	}
}

func TestDurationBins(t *testing.T) {
	for b := range durBin(durMaxMS) + 1 {
		lo := durLower(b)
		if durBin(lo) != b {
			t.Fatalf("bin %d: lower bound %d falls in bin %d", b, lo, durBin(lo))
		}
		if b > 0 && durLower(b-1) >= lo {
			t.Fatalf("bins %d and %d are not increasing", b-1, b)
		}
		if next := durLower(b + 1); lo >= 16 && next-lo > lo/8 {
			t.Fatalf("bin %d [%d, %d) is wider than 1/8 of its lower bound", b, lo, next)
		}
	}
	for _, c := range []struct{ d, lower int64 }{{0, 0}, {7, 7}, {15, 15}, {16, 16}, {17, 16}, {51, 48}, {100, 96}, {1000, 960}, {-5, 0}, {1 << 40, 15 << 27}} {
		if got := durLower(durBin(c.d)); got != c.lower {
			t.Errorf("duration %d: bin lower bound %d, want %d", c.d, got, c.lower)
		}
	}
}

// TestDurationMedian compares the running median with the exact lower
// median of the same values, binned.
func TestDurationMedian(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h durations
	var all []int64
	for i := range 2000 {
		d := int64(math.Exp(rng.NormFloat64()*2 + 5))
		if i%300 == 299 {
			d = 0 // a burst of the smallest bin moves the median down
		}
		h.add(d)
		all = append(all, d)
		sorted := slices.Clone(all)
		slices.Sort(sorted)
		exact := sorted[(len(sorted)+1)/2-1]
		want := durLower(durBin(exact))
		if len(all) < rtMinHistory {
			want = 0
		}
		if got := h.median(); got != want {
			t.Fatalf("after %d durations: median %d, want %d (exact %d)", len(all), got, want, exact)
		}
	}
}
