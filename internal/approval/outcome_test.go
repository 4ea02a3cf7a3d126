package approval

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/audit"
)

func TestAuditOutcome(t *testing.T) {
	base := Approval{ID: "ap_1", DecisionID: "d_1", Tool: "exec", Session: "s1", Agent: "a1"}
	with := func(st Status, votes ...Vote) Approval {
		a := base
		a.Status, a.Votes = st, votes
		return a
	}
	alice := Vote{Approver: "alice", Approve: true, Reason: "release"}
	bob := Vote{Approver: "bob", Approve: true}
	carol := Vote{Approver: "carol", Reason: "key AKIAQ3EGRTWZ7KHN5SXL in the command"}
	tests := []struct {
		name string
		a    Approval
		err  error
		want string // "" when nothing is recorded
	}{
		{"approved", with(Approved, alice), nil, "approved by alice: release"},
		{"approved by two", with(Approved, alice, bob), nil, "approved by alice and bob: "},
		{"denied after an approving vote", with(Denied, alice, carol), nil, "denied by carol: key [REDACTED:aws-access-key] in the command"},
		{"grant not stored: the decision stands", with(Approved, alice), errors.New("approval ap_1 is approved, but its grant was not stored"), "approved by alice: release"},
		{"still pending", with(Pending, alice), nil, ""},
		{"already decided", with(Denied, carol), fmt.Errorf("%w: approval ap_1 is denied", ErrDecided), ""},
		{"expired", with(Expired), fmt.Errorf("%w: approval ap_1 expired", ErrExpired), ""},
		{"refused before reading", Approval{}, ErrNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok := AuditOutcome(tt.a, tt.err)
			if ok != (tt.want != "") {
				t.Fatalf("recorded = %v, want %v", ok, tt.want != "")
			}
			if !ok {
				return
			}
			got := ev.Approval.Status + " by " + ev.Approval.Approver + ": " + ev.Approval.Reason
			if got != tt.want {
				t.Errorf("event says %q, want %q", got, tt.want)
			}
			if ev.Type != audit.TypeOutcome || ev.DecisionID != "d_1" || ev.Session != "s1" || ev.Agent != "a1" || ev.Tool != "exec" {
				t.Errorf("event %+v does not name the decided call", ev)
			}
			if strings.Contains(ev.Approval.Reason, "AKIA") {
				t.Errorf("the reason kept a credential: %q", ev.Approval.Reason)
			}
		})
	}
}
