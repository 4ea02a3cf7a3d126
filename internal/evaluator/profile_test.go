package evaluator

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

func TestProfileEmpty(t *testing.T) {
	p := ProfileOf(nil, Options{})
	if p.All.Overall.Measured() || p.All.Breakdown != (Breakdown{}) || p.All.Counts != (Counts{}) {
		t.Errorf("empty profile has scores or counts: %+v", p.All)
	}
	if len(p.Agents) != 0 || len(p.Sessions) != 0 || len(p.All.Warnings) != 0 || len(p.All.Strengths) != 0 || p.Rejected != 0 {
		t.Errorf("empty profile has entries: %+v", p)
	}
	if !p.Now.IsZero() {
		t.Errorf("empty profile has a time: %v", p.Now)
	}
	r := Report(p)
	for _, want := range []string{"As of: no events", "Quality Score: n/a", "Total Operations: 0 (0 in last 24h)", "Pre-Exec: n/a",
		"Total: 0 | Failures: 0 | High-Risk: 0", "--- Warnings ---\n- none", "--- Strengths ---\n- none"} {
		if !strings.Contains(r, want) {
			t.Errorf("empty report lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "--- Agents ---") {
		t.Errorf("empty report lists agents:\n%s", r)
	}
}

// TestSatisfactionDeclining is the seed's example: one deleted code and
// three modified outputs in a session warn that satisfaction declines.
func TestSatisfactionDeclining(t *testing.T) {
	seed := []Event{
		fb(now, "coder", "s1", UserDeletedCode),
		fb(now, "coder", "s1", UserModifiedOutput),
		fb(now, "coder", "s1", UserModifiedOutput),
		fb(now, "coder", "s1", UserModifiedOutput),
	}
	p := ProfileOf(seed, Options{})
	f, ok := hasCode(p.All.Warnings, "satisfaction.declining")
	if want := "User satisfaction declining — 4 negative signals in last 24h (average -0.57); review recent sessions"; !ok || f.Message != want {
		t.Errorf("warnings = %+v, want %q", p.All.Warnings, want)
	}
	if f, ok := hasCode(findSession(p, "s1").Warnings, "satisfaction.declining"); !ok || !strings.HasSuffix(f.Message, "review this session") {
		t.Errorf("session warnings = %+v", findSession(p, "s1").Warnings)
	}
	if _, ok := hasCode(findAgent(p, "coder").Warnings, "satisfaction.declining"); !ok {
		t.Errorf("agent warnings = %+v", findAgent(p, "coder").Warnings)
	}
	if c := p.All.Counts; c.Signals != 4 || c.NegativeSignals != 4 || c.PositiveSignals != 0 {
		t.Errorf("counts = %+v", c)
	}

	notDeclining := map[string][]Event{
		"two negatives": seed[:2],
		"positives outweigh half the negatives": append(slices.Clone(seed),
			fb(now, "coder", "s1", UserSharedOutput), fb(now, "coder", "s1", UserUsedResult)),
		"negatives older than a day": {
			fb(ago(25*time.Hour), "coder", "s1", UserDeletedCode), fb(ago(25*time.Hour), "coder", "s1", UserDeletedCode),
			fb(ago(25*time.Hour), "coder", "s1", UserDeletedCode), fb(now, "coder", "s1", UserDeletedCode),
		},
	}
	for name, events := range notDeclining {
		p := ProfileOf(events, Options{})
		if _, ok := hasCode(p.All.Warnings, "satisfaction.declining"); ok {
			t.Errorf("%s: warned %+v", name, p.All.Warnings)
		}
	}
}

// goodAgent is n decided, run, verified and accepted calls and n/7 happy
// signals over the last day.
func goodAgent(n int) []Event {
	var events []Event
	for i := range n {
		at := ago(time.Duration(n-i) * time.Minute)
		events = append(events, dec(at, "good", "g1", "read_file", decision.Allow, 0))
		o := out(at, "good", "g1", ExecOK, VerifyPass)
		o.UserAccepted = ptr(true)
		events = append(events, o)
		if i%7 == 0 {
			events = append(events, fb(at, "good", "g1", UserUsedResult))
		}
	}
	return events
}

func TestStrengths(t *testing.T) {
	p := ProfileOf(goodAgent(20), Options{})
	want := []string{"runtime.reliable", "feedback.positive", "params.clean", "verify.clean"}
	if got := codes(p.All.Strengths); !slices.Equal(got, want) {
		t.Errorf("strengths = %v, want %v", got, want)
	}
	if f, _ := hasCode(p.All.Strengths, "runtime.reliable"); f.Message != "Excellent execution reliability (runtime 100/100 over 20 runs)" {
		t.Errorf("message = %q", f.Message)
	}
	if len(p.All.Warnings) != 0 {
		t.Errorf("warnings = %+v", p.All.Warnings)
	}
	// One short of every minimum: no strength.
	if got := codes(ProfileOf(goodAgent(19), Options{}).All.Strengths); len(got) > 1 || len(got) == 1 && got[0] != "feedback.positive" {
		t.Errorf("19 calls: strengths = %v, want at most feedback.positive", got)
	}
	// A timeout among twenty runs is more than 2% failures.
	events := goodAgent(20)
	events[1].ExecStatus = ExecTimeout
	if _, ok := hasCode(ProfileOf(events, Options{}).All.Strengths, "runtime.reliable"); ok {
		t.Error("a 5% timeout rate is called reliable")
	}
	// Declining feedback is not a strength whatever the average.
	// Eight interruptions now (4.8) outweigh twice the day's three used
	// results (4.2), while a hundred old shares keep the average high.
	events = goodAgent(20)
	for range 8 {
		events = append(events, fb(now, "good", "g1", UserInterrupted))
	}
	for range 100 {
		events = append(events, fb(ago(3*24*time.Hour), "good", "g1", UserSharedOutput))
	}
	p = ProfileOf(events, Options{Now: now})
	if !slices.Contains(codes(p.All.Warnings), "satisfaction.declining") || slices.Contains(codes(p.All.Strengths), "feedback.positive") ||
		p.All.Breakdown.Satisfaction.Value < 75 {
		t.Errorf("declining: warnings %v, strengths %v, satisfaction %v", codes(p.All.Warnings), codes(p.All.Strengths), p.All.Breakdown.Satisfaction)
	}
}

func TestWarnings(t *testing.T) {
	calls := func(n int, f func(i int, d, o *Event)) []Event {
		var events []Event
		for i := range n {
			d := dec(ago(time.Duration(i)*time.Minute), "a", "s", "exec", decision.Allow, 0)
			o := out(ago(time.Duration(i)*time.Minute), "a", "s", ExecOK, VerifyPass)
			f(i, &d, &o)
			events = append(events, d, o)
		}
		return events
	}
	tests := []struct {
		name   string
		events []Event
		want   []string
	}{
		{"clean", calls(10, func(int, *Event, *Event) {}), nil},
		{"two denied in ten", calls(10, func(i int, d, _ *Event) {
			if i < 2 {
				d.Action = decision.Deny
			}
		}), []string{"decisions.deny_rate"}},
		{"one denied in ten", calls(10, func(i int, d, _ *Event) {
			if i < 1 {
				d.Action = decision.Deny
			}
		}), nil},
		{"nine calls all denied", calls(9, func(_ int, d, _ *Event) { d.Action = decision.Deny }), nil},
		{"an error and a timeout in ten runs", calls(10, func(i int, _, o *Event) {
			o.ExecStatus = []ExecStatus{ExecError, ExecTimeout, ExecOK}[min(i, 2)]
		}), []string{"runtime.failures"}},
		{"schema problems in two of ten", calls(10, func(i int, d, _ *Event) {
			if i < 2 {
				d.Reasons = []string{"schema.required"}
			}
		}), []string{"params.schema"}},
		{"a verify failure", calls(10, func(i int, _, o *Event) {
			if i == 3 {
				o.Verify = VerifyFail
			}
		}), []string{"verify.failures"}},
		{"failures older than a day", calls(10, func(i int, d, o *Event) {
			d.Time, o.Time = d.Time.Add(-24*time.Hour), o.Time.Add(-24*time.Hour)
			d.Action, o.Verify = decision.Deny, VerifyFail
		}), nil},
	}
	for _, tt := range tests {
		p := ProfileOf(tt.events, Options{Now: now})
		if got := codes(p.All.Warnings); !slices.Equal(got, append([]string{}, tt.want...)) {
			t.Errorf("%s: warnings %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestVerifyFailuresNameTheSession(t *testing.T) {
	events := []Event{
		out(ago(time.Hour), "a", "s9", ExecOK, VerifyFail),
		out(ago(time.Hour), "a", "s3", ExecOK, VerifyFail),
		out(ago(time.Hour), "a", "s3", ExecOK, VerifyFail),
		out(ago(time.Hour), "b", "s5", ExecOK, VerifyFail),
		out(ago(time.Hour), "b", "s4", ExecOK, VerifyFail),
		out(ago(time.Hour), "b", "", ExecOK, VerifyFail),
		out(ago(30*time.Hour), "a", "old", ExecOK, VerifyFail),
	}
	p := ProfileOf(events, Options{Now: now})
	for _, c := range []struct {
		s    Summary
		want string
	}{
		{p.All, "6 verify failures in last 24h — review session s3 (and 3 more)"},
		{findAgent(p, "a"), "3 verify failures in last 24h — review session s3 (and 1 more)"},
		{findAgent(p, "b"), "3 verify failures in last 24h — review session s4 (and 1 more)"},
		{findSession(p, "s3"), "2 verify failures in last 24h"},
	} {
		if f, ok := hasCode(c.s.Warnings, "verify.failures"); !ok || f.Message != c.want {
			t.Errorf("%s %q: %+v, want %q", c.s.Scope, c.s.Name, c.s.Warnings, c.want)
		}
	}
	if p.All.Counts.Failures != 7 {
		t.Errorf("failures = %d, want 7 (all time)", p.All.Counts.Failures)
	}
}

func TestTrend(t *testing.T) {
	var events []Event
	for i := range 10 {
		events = append(events,
			dec(ago(30*time.Hour+time.Duration(i)*time.Minute), "a", "s", "exec", decision.Allow, 0),
			dec(ago(time.Duration(i)*time.Minute), "a", "s", "exec", decision.Confirm, 2)) // 100 − 20 − 5
	}
	p := ProfileOf(events, Options{Now: now})
	tr := p.All.Trend
	if tr.Window != 24*time.Hour || tr.Current.Overall != (Score{Value: 75, N: 10}) || tr.Previous.Overall != (Score{Value: 100, N: 10}) ||
		tr.Current.Events != 10 || tr.Previous.Events != 10 {
		t.Errorf("trend = %+v", tr)
	}
	if d, ok := tr.Delta(); !ok || d != -25 {
		t.Errorf("delta = %v, %v", d, ok)
	}
	want := "Quality dropping: 75/100 in the last 24h, down from 100/100 the 24h before"
	if f, ok := hasCode(p.All.Warnings, "quality.dropping"); !ok || f.Message != want {
		t.Errorf("warnings = %+v, want %q", p.All.Warnings, want)
	}
	if r := Report(p); !strings.Contains(r, "Trend: down 25 (last 24h 75/100, the 24h before 100/100)") {
		t.Errorf("report:\n%s", r)
	}
	// A shorter window moves the comparison: with 6 hours, the earlier
	// calls fall outside both windows.
	p = ProfileOf(events, Options{Now: now, TrendWindow: 6 * time.Hour})
	if tr := p.All.Trend; tr.Previous.Overall.Measured() || tr.Current.Overall.N != 10 {
		t.Errorf("6h trend = %+v", tr)
	}
	if r := Report(p); !strings.Contains(r, "Trend: n/a (needs events in both of the last two 6h windows)") {
		t.Errorf("report:\n%s", r)
	}
}

func TestRejectedEvents(t *testing.T) {
	events := []Event{
		dec(now, "a", "s", "exec", decision.Allow, 0),
		fb(now, "a", "s", "user_was_happy"),
		{Time: now, Kind: "decission"},
		out(now, "a", "s", ExecOK, VerifyPass),
	}
	p := ProfileOf(events, Options{})
	if p.Rejected != 2 || p.All.Counts.Events != 2 {
		t.Errorf("rejected %d, counted %d; want 2 and 2", p.Rejected, p.All.Counts.Events)
	}
	f, ok := hasCode(p.All.Warnings, "input.rejected")
	if !ok || !strings.HasPrefix(f.Message, "2 malformed events skipped — first: ") || !strings.Contains(f.Message, `unknown feedback signal "user_was_happy"`) {
		t.Errorf("warnings = %+v", p.All.Warnings)
	}
}

func TestEventValidate(t *testing.T) {
	long := strings.Repeat("x", 257)
	bad := []struct {
		e    Event
		want string
	}{
		{Event{Kind: KindDecision}, "time is missing"},
		{Event{Time: now, Kind: "vote"}, `unknown kind "vote"`},
		{Event{Time: now, Kind: KindFeedback, Signal: "user_bored"}, `unknown feedback signal "user_bored" (want one of user_deleted_code,`},
		{Event{Time: now, Kind: KindFeedback}, `unknown feedback signal ""`},
		{Event{Time: now, Kind: KindFeedback, Signal: "USER_USED_RESULT"}, "unknown feedback signal"},
		{Event{Time: now, Kind: KindOutcome, Signal: UserUsedResult}, "signals belong to feedback events"},
		{Event{Time: now, Kind: KindDecision, Action: 4}, "action 4 is not allow, notify, confirm or deny"},
		{Event{Time: now, Kind: KindDecision, Risk: -1}, "risk -1 is outside 0..1000"},
		{Event{Time: now, Kind: KindDecision, Risk: 1e9}, "risk 1e+09 is outside"},
		{Event{Time: now, Kind: KindDecision, Reasons: make([]string, 65)}, "65 reasons (at most 64)"},
		{Event{Time: now, Kind: KindDecision, Reasons: []string{long}}, "reason 0 is 257 bytes long"},
		{Event{Time: now, Kind: KindDecision, Agent: long}, "agent is 257 bytes long (at most 256)"},
		{Event{Time: now, Kind: KindOutcome, ExecStatus: "crashed"}, `exec status "crashed" is not ok, error, timeout or skipped`},
		{Event{Time: now, Kind: KindOutcome, Verify: "pass"}, `verify status "pass" is not PASS, WARN or FAIL`},
		{Event{Time: now, Kind: KindOutcome, DurationMS: -1}, "duration -1 ms is negative"},
		{Event{Time: now, Kind: KindOutcome, Retries: -2}, "retries -2 outside"},
	}
	for _, b := range bad {
		err := b.e.Validate()
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: error %v, want it to contain %q", b.e, err, b.want)
		}
	}
	// All problems at once, with the event named.
	err := (&Event{Kind: KindOutcome, Agent: "bot", Session: "s7", ExecStatus: "x", Verify: "y"}).Validate()
	for _, want := range []string{`bad "outcome" event (agent "bot", session "s7")`, "time is missing", "exec status", "verify status"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	good := []Event{
		dec(now, "a", "s", "exec", decision.Deny, 1000, "schema.required"),
		out(now, "", "", "", ""),
		{Time: now, Kind: KindOutcome, ExecStatus: ExecSkipped, DurationMS: 5, Retries: 3, TimedOut: true, UserEdited: ptr(true)},
		fb(now, "a", "s", UserRepeatedInstruction),
	}
	for _, e := range good {
		if err := e.Validate(); err != nil {
			t.Errorf("%+v: %v", e, err)
		}
	}
}

// TestAggregatorMatchesProfileOf: ingesting one event at a time, in time
// order, ends in exactly the profile ProfileOf computes.
func TestAggregatorMatchesProfileOf(t *testing.T) {
	events := genEvents(5000, 7)
	a, err := NewAggregator(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		if err := a.Ingest(e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	got := a.Profile(time.Time{})
	want := ProfileOf(events, Options{})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("streamed profile differs from ProfileOf:\n%s\n---\n%s", Report(got), Report(want))
	}
	if got.All.Counts.Events != 5000 || len(got.Agents) != 5 || len(got.Sessions) != 200 {
		t.Errorf("counts %+v, %d agents, %d sessions", got.All.Counts, len(got.Agents), len(got.Sessions))
	}
	// ProfileOf sorts by time: shuffled input gives the same profile.
	shuffled := slices.Clone(events)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	if !reflect.DeepEqual(ProfileOf(shuffled, Options{}), want) {
		t.Error("ProfileOf depends on the order of its input")
	}
}

// TestAggregatorOutOfOrder: late events land in their own minute.
func TestAggregatorOutOfOrder(t *testing.T) {
	a, _ := NewAggregator(Options{})
	for _, e := range []Event{
		dec(now, "a", "s", "exec", decision.Allow, 0),
		dec(ago(2*time.Hour), "a", "s", "exec", decision.Deny, 0),
		dec(ago(30*time.Hour), "a", "s", "exec", decision.Deny, 0),
		dec(ago(2*time.Hour), "a", "s", "exec", decision.Deny, 0),
		dec(ago(20*24*time.Hour), "a", "s", "exec", decision.Deny, 0), // beyond retention: totals only
	} {
		if err := a.Ingest(e); err != nil {
			t.Fatal(err)
		}
	}
	p := a.Profile(now)
	if c := p.All.Counts; c.Operations != 5 || c.Last24h != 3 || c.Denied != 4 {
		t.Errorf("counts = %+v", c)
	}
	if tr := p.All.Trend; tr.Current.Events != 3 || tr.Previous.Events != 1 {
		t.Errorf("trend = %+v", tr)
	}
	if got := minutesOf(a.all); !slices.Equal(got, []int64{minuteOf(ago(30 * time.Hour)), minuteOf(ago(2 * time.Hour)), minuteOf(now)}) {
		t.Errorf("buckets = %v", got)
	}
	// A week later, the old minutes are swept.
	if err := a.Ingest(dec(now.Add(8*24*time.Hour), "a", "s", "exec", decision.Allow, 0)); err != nil {
		t.Fatal(err)
	}
	p = a.Profile(time.Time{})
	if got := minutesOf(a.all); len(got) != 1 || p.All.Counts.Operations != 6 || p.All.Counts.Last24h != 1 {
		t.Errorf("after a week: buckets %v, counts %+v", got, p.All.Counts)
	}
}

func minutesOf(k *key) []int64 {
	var m []int64
	for _, b := range k.minutes {
		m = append(m, b.minute)
	}
	return m
}

func TestAggregatorBounds(t *testing.T) {
	a, err := NewAggregator(Options{MaxSessions: 2, MaxAgents: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range []string{"s1", "s2", "s1", "s3"} {
		if err := a.Ingest(dec(ago(time.Duration(10-i)*time.Minute), "bot"+s, s, "exec", decision.Allow, 0)); err != nil {
			t.Fatal(err)
		}
	}
	p := a.Profile(now)
	var names []string
	for _, s := range p.Sessions {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"s1", "s3"}) || len(p.Agents) != 1 || p.Agents[0].Name != "bots3" {
		t.Errorf("sessions %v, agents %+v", names, p.Agents)
	}
	if p.All.Counts.Operations != 4 {
		t.Errorf("operations = %d, want 4", p.All.Counts.Operations)
	}
	want := "Profiles dropped to stay within limits: 3 agents (max 1), 1 session (max 2); the totals still count their events"
	if f, ok := hasCode(p.All.Warnings, "input.evicted"); !ok || f.Message != want {
		t.Errorf("warnings = %+v", p.All.Warnings)
	}
}

func TestOptions(t *testing.T) {
	bad := []struct {
		o    Options
		want string
	}{
		{Options{TrendWindow: time.Minute}, "trend window 1m0s must be whole minutes between 1h0m0s and 168h0m0s"},
		{Options{TrendWindow: 90*time.Minute + time.Second}, "trend window"},
		{Options{TrendWindow: 8 * 24 * time.Hour}, "trend window"},
		{Options{HighRisk: -1}, "high-risk threshold -1"},
		{Options{MaxAgents: -1}, "max agents -1"},
		{Options{MaxSessions: 2_000_000}, "max sessions 2000000"},
	}
	for _, b := range bad {
		if err := b.o.Validate(); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: %v, want %q", b.o, err, b.want)
		}
		if _, err := NewAggregator(b.o); err == nil {
			t.Errorf("NewAggregator(%+v) accepted", b.o)
		}
	}
	// ProfileOf falls back to the defaults and says so.
	p := ProfileOf([]Event{dec(now, "a", "s", "exec", decision.Allow, 6)}, Options{TrendWindow: time.Second, HighRisk: -3})
	if f, ok := hasCode(p.All.Warnings, "input.options"); !ok || !strings.HasSuffix(f.Message, "— defaults used") {
		t.Errorf("warnings = %+v", p.All.Warnings)
	}
	if p.TrendWindow != 24*time.Hour || p.All.Counts.HighRisk != 1 {
		t.Errorf("defaults not used: window %v, high-risk %d", p.TrendWindow, p.All.Counts.HighRisk)
	}
	// The high-risk threshold is inclusive and configurable.
	p = ProfileOf([]Event{dec(now, "a", "s", "exec", decision.Allow, 6), dec(now, "a", "s", "exec", decision.Allow, 7)}, Options{HighRisk: 7})
	if p.All.Counts.HighRisk != 1 {
		t.Errorf("high-risk = %d, want 1", p.All.Counts.HighRisk)
	}
}

// TestAggregatorConcurrent: ingesting from several goroutines while
// reading profiles loses nothing (run with -race).
func TestAggregatorConcurrent(t *testing.T) {
	events := genEvents(4000, 9)
	a, _ := NewAggregator(Options{})
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := w; i < len(events); i += 4 {
				if err := a.Ingest(events[i]); err != nil {
					t.Error(err)
				}
				if i%500 == 0 {
					a.Profile(time.Time{})
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	p := a.Profile(time.Time{})
	want := ProfileOf(events, Options{}).All.Counts
	if p.All.Counts != want {
		t.Errorf("counts %+v, want %+v", p.All.Counts, want)
	}
}

func TestFailMarksBounded(t *testing.T) {
	a, _ := NewAggregator(Options{})
	for i := range maxFailMarks + 5000 {
		e := out(now.Add(time.Duration(i)*time.Second), "a", fmt.Sprint("s", i%3), ExecOK, VerifyFail)
		if err := a.Ingest(e); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(a.all.fails); n > maxFailMarks {
		t.Errorf("%d failure marks kept, want at most %d", n, maxFailMarks)
	}
	if p := a.Profile(time.Time{}); p.All.Counts.Failures != maxFailMarks+5000 {
		t.Errorf("failures = %d", p.All.Counts.Failures)
	}
}
