package evaluator

import (
	"strings"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

func FuzzParseSignal(f *testing.F) {
	for _, s := range Signals() {
		f.Add(string(s))
	}
	for _, s := range []string{"", " USER_SHARED_OUTPUT ", "user_", "user_deleted_code\x00", "ünïcode", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSignal(in)
		if err != nil {
			if s != "" || len(err.Error()) > 4*maxQuotedInput+300 { // %q may spell a byte as \xff
				t.Fatalf("ParseSignal(%q) = %q, %d-byte error", in, s, len(err.Error()))
			}
			return
		}
		if !s.Valid() || s.Strength() == 0 || !strings.EqualFold(strings.TrimSpace(in), string(s)) {
			t.Fatalf("ParseSignal(%q) = %q (strength %v)", in, s, s.Strength())
		}
		if again, err := ParseSignal(string(s)); err != nil || again != s {
			t.Fatalf("%q does not parse back: %q, %v", s, again, err)
		}
	})
}

// FuzzIngest feeds arbitrary events, two at a time, to an Aggregator, a
// Baseline and the report: nothing panics, what is accepted is counted,
// and every score stays within 0..100.
func FuzzIngest(f *testing.F) {
	f.Add(int64(1_772_452_800), "decision", "agent", "s1", "exec", 3, 9.5, "schema.required,path.sensitive", "", int64(0), 0, "", "", "", int64(60))
	f.Add(int64(1_772_452_800), "outcome", "agent", "s1", "", 0, 0.0, "", "timeout", int64(5000), 3, "FAIL", "", "tft", int64(-3600))
	f.Add(int64(-1), "feedback", "", "", "", 0, 0.0, "", "", int64(0), 0, "", "user_deleted_code", "", int64(1<<40))
	f.Add(int64(0), "feedback", "a", "b", "c", -1, -1.0, ",,", "ok", int64(-1), -1, "pass", "user_happy", "xyz", int64(0))
	f.Fuzz(func(t *testing.T, unix int64, kind, agent, session, tool string, action int, risk float64, reasons, exec string,
		dur int64, retries int, verify, signal, flags string, second int64) {
		e := Event{
			Time: time.Unix(unix, 0), Kind: Kind(kind), Agent: agent, Session: session, Tool: tool,
			Action: decision.Action(action), Risk: risk, ExecStatus: ExecStatus(exec), DurationMS: dur, Retries: retries,
			Verify: VerifyStatus(verify), Signal: Signal(signal),
		}
		if reasons != "" {
			e.Reasons = strings.Split(reasons, ",")
		}
		flag := func(i int) *bool {
			if i >= len(flags) || flags[i] == '-' {
				return nil
			}
			b := flags[i] == 't'
			return &b
		}
		e.UserAccepted, e.UserEdited, e.ResultUsed, e.ContextUsed = flag(0), flag(1), flag(2), flag(3)
		e.SelfCorrected, e.TimedOut = len(flags) > 4 && flags[4] == 't', len(flags) > 5 && flags[5] == 't'
		e2 := e
		e2.Time = e.Time.Add(time.Duration(second) * time.Second)

		a := newAggregator(Options{MaxAgents: 2, MaxSessions: 2})
		accepted := int64(0)
		for _, ev := range []Event{e, e2} {
			err := a.Ingest(ev)
			if (err == nil) != (ev.Validate() == nil) {
				t.Fatalf("Ingest and Validate disagree on %+v: %v", ev, err)
			}
			if err == nil {
				accepted++
			}
		}
		for _, p := range []Profile{a.Profile(time.Time{}), a.Profile(e.Time), ProfileOf([]Event{e2, e}, Options{})} {
			if p.All.Counts.Events != accepted || p.Rejected != 2-accepted {
				t.Fatalf("counted %d events and %d rejected, want %d accepted", p.All.Counts.Events, p.Rejected, accepted)
			}
			for _, s := range append(append([]Summary{p.All}, p.Agents...), p.Sessions...) {
				b := s.Breakdown
				for _, sc := range []Score{s.Overall, b.PreExec, b.Runtime, b.PostExec, b.Satisfaction} {
					if !(sc.Value >= 0 && sc.Value <= 100) {
						t.Fatalf("score out of range: %+v in %+v", sc, s)
					}
				}
			}
			if r := Report(p); !strings.HasPrefix(r, "=== Sentinel Status Report ===\n") {
				t.Fatalf("report:\n%s", r)
			}
		}
		var base Baseline
		base.Agent = agent
		base.Add(e)
		base.Add(e2)
		_ = Drift(base, base)
	})
}
