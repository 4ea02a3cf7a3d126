package evaluator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// now is where the test profiles end.
var now = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return now.Add(-d) }

func dec(t time.Time, agent, session, tool string, a decision.Action, risk float64, reasons ...string) Event {
	return Event{Time: t, Agent: agent, Session: session, Tool: tool, Kind: KindDecision, Action: a, Risk: risk, Reasons: reasons}
}

func out(t time.Time, agent, session string, st ExecStatus, v VerifyStatus) Event {
	return Event{Time: t, Agent: agent, Session: session, Kind: KindOutcome, ExecStatus: st, Verify: v}
}

func fb(t time.Time, agent, session string, s Signal) Event {
	return Event{Time: t, Agent: agent, Session: session, Kind: KindFeedback, Signal: s}
}

func ptr(b bool) *bool { return &b }

// near compares scores to a precision far finer than the report shows.
func near(got, want float64) bool { return math.Abs(got-want) < 1e-9 }

func findAgent(p Profile, name string) Summary {
	for _, s := range p.Agents {
		if s.Name == name {
			return s
		}
	}
	return Summary{}
}

func findSession(p Profile, name string) Summary {
	for _, s := range p.Sessions {
		if s.Name == name {
			return s
		}
	}
	return Summary{}
}

func codes(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

func hasCode(fs []Finding, code string) (Finding, bool) {
	for _, f := range fs {
		if f.Code == code {
			return f, true
		}
	}
	return Finding{}, false
}

// genEvents generates n realistic events over the 7 days before now, in
// time order, from seed: five agents with forty sessions each, calls
// decided (mostly allowed), most run and verified, one in ten followed by
// a feedback signal.
func genEvents(n int, seed uint64) []Event {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	tools := []struct {
		name   string
		weight float64
		median float64 // ms
	}{{"exec", 0.40, 400}, {"read_file", 0.30, 15}, {"write_file", 0.20, 30}, {"http_request", 0.07, 250}, {"delete_file", 0.03, 10}}
	signals := []Signal{UserUsedResult, UserImmediateContinue, UserExplicitApproval, UserSharedOutput,
		UserModifiedOutput, UserRepeatedInstruction, UserInterrupted, UserDeletedCode}
	signalWeights := []float64{0.3, 0.25, 0.1, 0.05, 0.12, 0.08, 0.06, 0.04}
	pick := func(weights []float64) int {
		x := rng.Float64()
		for i, w := range weights {
			if x < w {
				return i
			}
			x -= w
		}
		return len(weights) - 1
	}
	toolWeights := make([]float64, len(tools))
	for i, t := range tools {
		toolWeights[i] = t.weight
	}
	span := 7 * 24 * time.Hour
	step := span / time.Duration(n)
	t := now.Add(-span)
	events := make([]Event, 0, n)
	for len(events) < n {
		t = t.Add(step * 2)
		agent := fmt.Sprintf("agent-%d", rng.IntN(5))
		session := fmt.Sprintf("%s-s%02d", agent, rng.IntN(40))
		tool := tools[pick(toolWeights)]
		action := decision.Action(pick([]float64{0.85, 0.07, 0.05, 0.03}))
		risk := math.Round(math.Min(18, math.Exp(rng.NormFloat64()*0.8-1))*100) / 100
		if action == decision.Deny {
			risk = math.Round((8+rng.Float64()*4)*100) / 100
		}
		var reasons []string
		if rng.Float64() < 0.05 {
			reasons = append(reasons, "schema.required")
		}
		events = append(events, Event{Time: t, Agent: agent, Session: session, Tool: tool.name, Kind: KindDecision,
			Action: action, Risk: risk, Reasons: reasons})
		if action == decision.Deny || len(events) == n {
			continue
		}
		o := Event{Time: t.Add(step / 2), Agent: agent, Session: session, Tool: tool.name, Kind: KindOutcome,
			ExecStatus: []ExecStatus{ExecOK, ExecError, ExecTimeout}[pick([]float64{0.92, 0.06, 0.02})],
			DurationMS: int64(tool.median * math.Exp(rng.NormFloat64()*0.7)),
			Verify:     []VerifyStatus{VerifyPass, VerifyWarn, VerifyFail, ""}[pick([]float64{0.8, 0.08, 0.04, 0.08})],
		}
		if rng.Float64() < 0.1 {
			o.Retries = 1 + rng.IntN(3)
			o.SelfCorrected = rng.Float64() < 0.5
		}
		if rng.Float64() < 0.5 {
			o.UserAccepted = ptr(rng.Float64() < 0.9)
			o.ResultUsed = ptr(rng.Float64() < 0.8)
		}
		events = append(events, o)
		if rng.Float64() < 0.1 && len(events) < n {
			events = append(events, fb(t.Add(step), agent, session, signals[pick(signalWeights)]))
		}
	}
	return events
}
