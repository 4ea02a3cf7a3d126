package client

import (
	"encoding/json"
	"time"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// Action is what to do with a call; the same type as sentinel.Action.
type Action = decision.Action

// The actions, from the most permissive to the strictest.
const (
	Allow   = decision.Allow
	Notify  = decision.Notify
	Confirm = decision.Confirm
	Deny    = decision.Deny
)

// Reason explains one contribution to a decision; the same type as
// sentinel.Reason.
type Reason = decision.Reason

// Call is a tool call to decide. It has exactly the fields of
// sentinel.Call, so client.Call(c) converts one.
type Call struct {
	Tool    string
	Args    map[string]any
	Session string
	Agent   string
	Cwd     string
}

// Decision is the server's answer to a check: the decision itself (the
// embedded field, the same type as sentinel.Decision) and, for a confirm
// on a server with approvals, the approval it opened or used.
type Decision struct {
	decision.Decision
	Approval *ApprovalRef
}

// MarshalJSON writes the decision as the server sent it, approval
// included (the embedded decision's own method would drop it).
func (d Decision) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(d.Decision)
	if err != nil || d.Approval == nil {
		return b, err
	}
	ab, err := json.Marshal(d.Approval)
	if err != nil {
		return nil, err
	}
	return append(append(append(b[:len(b)-1], `,"approval":`...), ab...), '}'), nil
}

// ApprovalRef is what a check answer says about an approval.
type ApprovalRef struct {
	ID string `json:"id"`
	// Status is empty when the approval sent with the call could not be
	// read; the decision's reasons say why.
	Status    ApprovalStatus `json:"status,omitempty"`
	Required  int            `json:"required,omitempty"`
	ExpiresAt time.Time      `json:"expires_at,omitzero"`
	// Wait is the path WaitApproval polls.
	Wait string `json:"wait,omitempty"`
}

// ApprovalStatus is where an approval stands.
type ApprovalStatus string

// The approval statuses.
const (
	ApprovalPending  ApprovalStatus = "pending"
	ApprovalApproved ApprovalStatus = "approved"
	ApprovalDenied   ApprovalStatus = "denied"
	ApprovalExpired  ApprovalStatus = "expired"
)

func (s ApprovalStatus) known() bool {
	switch s {
	case ApprovalPending, ApprovalApproved, ApprovalDenied, ApprovalExpired:
		return true
	}
	return false
}

// Approval is a confirm decision held for a human, as the server reports
// it.
type Approval struct {
	ID         string   `json:"id"`
	DecisionID string   `json:"decision_id"`
	CallHash   string   `json:"call_hash"`
	Tool       string   `json:"tool"`
	Session    string   `json:"session"`
	Agent      string   `json:"agent"`
	Summary    string   `json:"summary"`
	Reasons    []Reason `json:"reasons"`
	Risk       float64  `json:"risk"`
	Shape      string   `json:"shape,omitempty"`
	// Critical approvals need Required (2) distinct approvers.
	Critical bool           `json:"critical"`
	Required int            `json:"required"`
	Votes    []Vote         `json:"votes"`
	Status   ApprovalStatus `json:"status"`
	// Used is set once the approved approval has authorized its call.
	Used      bool       `json:"used"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	Version   int64      `json:"version"`
}

// Approved reports whether the approval lets its call run (once, through
// CheckWithApproval).
func (a Approval) Approved() bool { return a.Status == ApprovalApproved }

// Vote is one approver's answer.
type Vote struct {
	Approver string    `json:"approver"`
	Approve  bool      `json:"approve"`
	Reason   string    `json:"reason,omitempty"`
	Time     time.Time `json:"time"`
}

// OutcomeStatus is how a decided call ended.
type OutcomeStatus string

// The outcome statuses.
const (
	OutcomeOK      OutcomeStatus = "ok"
	OutcomeError   OutcomeStatus = "error"
	OutcomeTimeout OutcomeStatus = "timeout"
	OutcomeSkipped OutcomeStatus = "skipped"
)

// Outcome is how a decided call ran, for the audit log. The server
// redacts Error and Result and keeps at most 2 KiB of each.
type Outcome struct {
	// DecisionID names the decision (Decision.DecisionID); required.
	DecisionID string
	Tool       string
	Session    string
	Agent      string
	Status     OutcomeStatus
	Duration   time.Duration
	Retries    int
	Error      string
	Result     string
}
