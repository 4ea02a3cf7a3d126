package approval

import (
	"errors"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/redact"
)

// AuditOutcome is the audit event of what a Decide call decided: the
// approval and error it returned. ok is false when the vote decided
// nothing: the approval is still pending, or the vote was not counted
// (ErrDecided, ErrExpired and the other refusals, which leave the
// approval as it stood). An approval decided although Decide failed after
// (a grant that could not be stored) is recorded: the decision stands.
//
// The event names who decided: every approving voter of an approved call,
// the denying voter of a denied one, with the deciding vote's reason,
// redacted.
func AuditOutcome(a Approval, err error) (ev audit.Event, ok bool) {
	if a.ID == "" || errors.Is(err, ErrDecided) || errors.Is(err, ErrExpired) || len(a.Votes) == 0 {
		return audit.Event{}, false
	}
	if a.Status != Approved && a.Status != Denied {
		return audit.Event{}, false
	}
	last := a.Votes[len(a.Votes)-1]
	who := last.Approver
	if a.Status == Approved {
		var names []string
		for _, v := range a.Votes {
			if v.Approve {
				names = append(names, v.Approver)
			}
		}
		who = strings.Join(names, " and ")
	}
	reason, _ := redact.Text(last.Reason)
	return audit.Event{
		Type: audit.TypeOutcome, DecisionID: a.DecisionID, Session: a.Session, Agent: a.Agent, Tool: a.Tool,
		Approval: &audit.Approval{Status: string(a.Status), Approver: who, Reason: reason},
	}, true
}
