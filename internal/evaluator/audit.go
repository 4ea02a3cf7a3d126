package evaluator

import (
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// FromAudit maps an audit event to the evaluator's input: decisions,
// outcomes (execution, verification, approval) and feedback. Session
// ends and alerts, and events it cannot read, give false.
func FromAudit(ev *audit.Event) (Event, bool) {
	t, err := time.Parse(time.RFC3339Nano, ev.Time)
	if err != nil {
		return Event{}, false
	}
	e := Event{Time: t, Session: ev.Session, Agent: ev.Agent, Tool: ev.Tool}
	switch ev.Type {
	case audit.TypeDecision:
		if ev.Decision == nil {
			return Event{}, false
		}
		a, err := decision.ParseAction(ev.Decision.Action)
		if err != nil {
			return Event{}, false
		}
		e.Kind, e.Action, e.Risk = KindDecision, a, ev.Decision.Risk.Score
		for i, r := range ev.Decision.Reasons {
			if i == maxReasons {
				break
			}
			e.Reasons = append(e.Reasons, clipReason(r.Code))
		}
	case audit.TypeOutcome:
		e.Kind = KindOutcome
		if x := ev.Execution; x != nil {
			e.ExecStatus, e.DurationMS, e.Retries = ExecStatus(x.Status), x.DurationMS, x.Retries
			e.TimedOut = x.Status == string(ExecTimeout)
		}
		if v := ev.Verify; v != nil {
			e.Verify = VerifyStatus(strings.ToUpper(v.Status))
		}
		if a := ev.Approval; a != nil {
			accepted := a.Status == "approved"
			e.UserAccepted = &accepted
		}
		if e.ExecStatus == "" && e.Verify == "" && e.UserAccepted == nil {
			return Event{}, false
		}
	case audit.TypeFeedback:
		if ev.Feedback == nil {
			return Event{}, false
		}
		s, err := ParseSignal(ev.Feedback.Signal)
		if err != nil {
			return Event{}, false
		}
		e.Kind, e.Signal = KindFeedback, s
	default:
		return Event{}, false
	}
	if e.Validate() != nil {
		return Event{}, false
	}
	return e, true
}

func clipReason(s string) string {
	if len(s) > maxReasonLen {
		return s[:maxReasonLen]
	}
	return s
}
