package evaluator_test

import (
	"fmt"
	"time"

	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/evaluator"
)

func ExampleParseSignal() {
	s, err := evaluator.ParseSignal("user_explicit_approval")
	fmt.Println(s, s.Strength(), err)
	_, err = evaluator.ParseSignal("thumbs_up")
	fmt.Println(err != nil)
	// Output:
	// user_explicit_approval 0.6 <nil>
	// true
}

// The seed's feedback example: the user deleted the agent's code, then
// modified its output three times.
func ExampleProfileOf() {
	t := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	var events []evaluator.Event
	for _, s := range []evaluator.Signal{evaluator.UserDeletedCode, evaluator.UserModifiedOutput,
		evaluator.UserModifiedOutput, evaluator.UserModifiedOutput} {
		events = append(events, evaluator.Event{Time: t, Agent: "coder", Session: "s1", Kind: evaluator.KindFeedback, Signal: s})
	}
	p := evaluator.ProfileOf(events, evaluator.Options{})
	fmt.Println("satisfaction:", p.All.Breakdown.Satisfaction)
	for _, w := range p.All.Warnings {
		fmt.Println(w.Code+":", w.Message)
	}
	// Output:
	// satisfaction: 14/100
	// satisfaction.declining: User satisfaction declining — 4 negative signals in last 24h (average -0.57); review recent sessions
}

func ExampleDrift() {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	split := start.Add(24 * time.Hour)
	var events []evaluator.Event
	call := func(at time.Time, deny bool) {
		a := decision.Allow
		if deny {
			a = decision.Deny
		}
		events = append(events, evaluator.Event{Time: at, Agent: "coder", Tool: "exec", Kind: evaluator.KindDecision, Action: a, Risk: 0.5})
	}
	for i := range 1000 { // the reference day: 2% denied
		call(start.Add(time.Duration(i)*time.Minute), i%50 == 0)
	}
	for i := range 500 { // since: 20% denied
		call(split.Add(time.Duration(i)*time.Minute), i%5 == 0)
	}
	base := evaluator.BaselineOf(events, "coder", start, split)
	recent := evaluator.BaselineOf(events, "coder", split, time.Time{})
	for _, a := range evaluator.Drift(base, recent) {
		fmt.Println(a.Code+":", a.Message)
	}
	// Output:
	// drift.deny_rate: deny rate rose from 2.0% (n=1000) to 20.0% (n=500): z=12.11, p=<1e-12
}
