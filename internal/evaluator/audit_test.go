package evaluator

import (
	"testing"

	"github.com/sentinel-agent/sentinel/internal/audit"
)

func TestFromAudit(t *testing.T) {
	ts := "2026-11-21T10:00:00.000000000Z"
	for _, tc := range []struct {
		name string
		ev   audit.Event
		ok   bool
		kind Kind
	}{
		{"decision", audit.Event{Time: ts, Type: audit.TypeDecision, Tool: "Bash", Decision: &audit.Decision{Action: "deny", Risk: audit.Risk{Score: 9},
			Reasons: []audit.Reason{{Code: "command.recursive_delete_root"}}}}, true, KindDecision},
		{"decision without a verdict", audit.Event{Time: ts, Type: audit.TypeDecision}, false, ""},
		{"outcome", audit.Event{Time: ts, Type: audit.TypeOutcome, Execution: &audit.Execution{Status: "timeout", DurationMS: 30000}}, true, KindOutcome},
		{"verify only", audit.Event{Time: ts, Type: audit.TypeOutcome, Verify: &audit.Verify{Status: "fail"}}, true, KindOutcome},
		{"empty outcome", audit.Event{Time: ts, Type: audit.TypeOutcome}, false, ""},
		{"feedback", audit.Event{Time: ts, Type: audit.TypeFeedback, Feedback: &audit.Feedback{Signal: "user_deleted_code"}}, true, KindFeedback},
		{"unknown signal", audit.Event{Time: ts, Type: audit.TypeFeedback, Feedback: &audit.Feedback{Signal: "user_smiled"}}, false, ""},
		{"session end", audit.Event{Time: ts, Type: audit.TypeSession}, false, ""},
		{"bad time", audit.Event{Time: "yesterday", Type: audit.TypeDecision, Decision: &audit.Decision{Action: "allow"}}, false, ""},
	} {
		e, ok := FromAudit(&tc.ev)
		if ok != tc.ok || ok && e.Kind != tc.kind {
			t.Errorf("%s: %v %+v", tc.name, ok, e)
		}
	}
	e, _ := FromAudit(&audit.Event{Time: ts, Type: audit.TypeOutcome, Execution: &audit.Execution{Status: "timeout"}, Verify: &audit.Verify{Status: "warn"}})
	if !e.TimedOut || e.Verify != VerifyWarn {
		t.Errorf("outcome fields: %+v", e)
	}
	e, _ = FromAudit(&audit.Event{Time: ts, Type: audit.TypeDecision, Decision: &audit.Decision{Action: "deny", Risk: audit.Risk{Score: 9}}})
	if e.Action.String() != "deny" || e.Risk != 9 {
		t.Errorf("decision fields: %+v", e)
	}
}
