package approval

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// Status is where an approval stands. Only a pending approval changes
// status, and only once.
type Status string

// The statuses.
const (
	Pending  Status = "pending"
	Approved Status = "approved"
	Denied   Status = "denied"
	Expired  Status = "expired"
)

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	switch s {
	case Pending, Approved, Denied, Expired:
		return true
	}
	return false
}

// Vote is one approver's answer.
type Vote struct {
	Approver string    `json:"approver"`
	Approve  bool      `json:"approve"`
	Reason   string    `json:"reason,omitempty"`
	Time     time.Time `json:"time"`
}

// Approval is a tool call held for a human. It is bound to one call by
// CallHash and changes only through a compare-and-set on Version.
type Approval struct {
	ID         string            `json:"id"`
	DecisionID string            `json:"decision_id"`
	CallHash   string            `json:"call_hash"`
	Tool       string            `json:"tool"`
	Session    string            `json:"session"`
	Agent      string            `json:"agent"`
	Summary    string            `json:"summary"` // redacted by the caller
	Reasons    []decision.Reason `json:"reasons"`
	Risk       float64           `json:"risk"`
	// Shape is what a grant would cover, e.g. "exec: git push"; empty
	// means the call cannot be granted.
	Shape    string `json:"shape,omitempty"`
	Critical bool   `json:"critical"`
	Required int    `json:"required"` // distinct approvers needed: 1, or 2 when Critical
	Votes    []Vote `json:"votes"`
	Status   Status `json:"status"`
	// Used is set when the approved approval has authorized its call,
	// which it does once.
	Used      bool       `json:"used"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	// Version is 1 when created and bumped by every change; stores update
	// an approval only from the version before.
	Version int64 `json:"version"`
}

// Grant lets calls of one shape in one session run without asking until
// ExpiresAt.
type Grant struct {
	ID         string    `json:"id"`
	Session    string    `json:"session"`
	Tool       string    `json:"tool"`
	Shape      string    `json:"shape"`
	CreatedBy  string    `json:"created_by"`
	ApprovalID string    `json:"approval_id"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// ListFilter selects approvals. Zero fields select everything.
type ListFilter struct {
	Status  Status
	Session string
	// ExpiredBy, when set, keeps approvals whose ExpiresAt is at or
	// before it.
	ExpiredBy time.Time
	// Limit caps the result; 0 means DefaultLimit, and stores cap it at
	// MaxLimit.
	Limit int
}

// List limits.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Normalize checks f and returns it with its limit resolved.
func (f ListFilter) Normalize() (ListFilter, error) {
	if f.Status != "" && !f.Status.Valid() {
		return f, fmt.Errorf("%w: status %.40q is not pending, approved, denied or expired", ErrInvalid, f.Status)
	}
	if err := checkName("session", f.Session, maxName, false); err != nil {
		return f, err
	}
	if f.Limit < 0 {
		return f, fmt.Errorf("%w: limit %d is negative; use 0 for the default or up to %d", ErrInvalid, f.Limit, MaxLimit)
	}
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	f.Limit = min(f.Limit, MaxLimit)
	return f, nil
}

// Store keeps approvals and grants. Every method may be called from any
// number of goroutines and processes sharing the same database.
type Store interface {
	// CreateApproval stores a new approval (Version 1). An existing ID,
	// or a second pending approval for the same CallHash, is ErrConflict.
	CreateApproval(ctx context.Context, a Approval) error
	// GetApproval returns the approval or ErrNotFound.
	GetApproval(ctx context.Context, id string) (Approval, error)
	// FindPending returns the pending approval for the call, if any.
	FindPending(ctx context.Context, callHash string) (Approval, bool, error)
	// ListApprovals returns the approvals f selects, newest first.
	ListApprovals(ctx context.Context, f ListFilter) ([]Approval, error)
	// CountPending counts the approvals whose status is pending, expired
	// ones not yet marked included.
	CountPending(ctx context.Context) (int, error)
	// UpdateApproval stores a if the stored version is a.Version-1, else
	// returns ErrConflict (ErrNotFound if there is no such approval).
	UpdateApproval(ctx context.Context, a Approval) error
	// CreateGrant stores a new grant.
	CreateGrant(ctx context.Context, g Grant) error
	// FindGrant returns a grant for (session, tool, shape) that is valid
	// at now (now before its ExpiresAt), if any.
	FindGrant(ctx context.Context, session, tool, shape string, now time.Time) (Grant, bool, error)
}

// Input bounds, in bytes.
const (
	maxName     = 256  // tool, session, agent, decision ID
	maxApprover = 200  // an approver's name
	maxReason   = 2000 // a vote's reason
	maxSummary  = 4096 // what the operator sees
	maxShape    = 1024
	maxReasons  = 32   // decision reasons kept per approval
	maxCode     = 128  // a reason's gate and code
	maxMessage  = 1024 // a reason's message
	maxVotes    = 16   // votes per approval; deciding ends voting well before
)

// idLen is the length of approval and grant IDs: a 3-byte prefix and 20
// hex digits.
const idLen = 3 + 20

// validID reports whether id is prefix followed by 20 lower-case hex
// digits.
func validID(id, prefix string) bool {
	if len(id) != idLen || !strings.HasPrefix(id, prefix) {
		return false
	}
	return isLowerHex(id[len(prefix):])
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ValidID reports whether id has the form of an approval ID ("ap_" and 20
// hex digits), so that callers can refuse junk before a store lookup.
func ValidID(id string) bool { return validID(id, "ap_") }

// checkText bounds s and requires valid UTF-8 (JSON would silently replace
// invalid bytes, changing the value between write and read).
func checkText(field, s string, maxLen int, required bool) error {
	switch {
	case required && s == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalid, field)
	case len(s) > maxLen:
		return fmt.Errorf("%w: %s is %d bytes; at most %d are allowed", ErrInvalid, field, len(s), maxLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, field)
	}
	return nil
}

// checkName is checkText for identifiers, which also may not hold control
// characters.
func checkName(field, s string, maxLen int, required bool) error {
	if err := checkText(field, s, maxLen, required); err != nil {
		return err
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return fmt.Errorf("%w: %s holds a control character at byte %d", ErrInvalid, field, i)
	}
	return nil
}

// NormalizeApprover trims an approver's name and checks it. Names compare
// case-insensitively, so that "Alice" and "alice" count as one approver.
func NormalizeApprover(name string) (string, error) {
	name = strings.TrimSpace(name)
	if err := checkName("approver", name, maxApprover, true); err != nil {
		return "", err
	}
	return name, nil
}

func sameApprover(a, b string) bool { return strings.EqualFold(a, b) }

// Check reports what makes a unfit to store; stores call it before every
// write. It never changes a.
func (a Approval) Check() error {
	if !ValidID(a.ID) {
		return fmt.Errorf("%w: id %.40q is not \"ap_\" and 20 hex digits", ErrInvalid, a.ID)
	}
	where := func(err error) error { return fmt.Errorf("approval %s: %w", a.ID, err) }
	if !ValidCallHash(a.CallHash) {
		return where(fmt.Errorf("%w: call hash %.80q is not 64 lower-case hex digits", ErrInvalid, a.CallHash))
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{{"decision id", a.DecisionID, false}, {"tool", a.Tool, true}, {"session", a.Session, false}, {"agent", a.Agent, false}} {
		if err := checkName(f.name, f.v, maxName, f.required); err != nil {
			return where(err)
		}
	}
	if err := checkText("summary", a.Summary, maxSummary, false); err != nil {
		return where(err)
	}
	if err := checkName("shape", a.Shape, maxShape, false); err != nil {
		return where(err)
	}
	if len(a.Reasons) > maxReasons {
		return where(fmt.Errorf("%w: %d reasons; at most %d are kept", ErrInvalid, len(a.Reasons), maxReasons))
	}
	for i, r := range a.Reasons {
		for _, f := range []struct {
			name, v string
			max     int
		}{{"gate", r.Gate, maxCode}, {"code", r.Code, maxCode}, {"message", r.Message, maxMessage}} {
			if err := checkText(fmt.Sprintf("reason %d %s", i, f.name), f.v, f.max, false); err != nil {
				return where(err)
			}
		}
	}
	if math.IsNaN(a.Risk) || math.IsInf(a.Risk, 0) || a.Risk < 0 {
		return where(fmt.Errorf("%w: risk %v is not a finite non-negative number", ErrInvalid, a.Risk))
	}
	if want := required(a.Critical); a.Required != want {
		return where(fmt.Errorf("%w: required is %d; a critical=%t approval needs %d approvers", ErrInvalid, a.Required, a.Critical, want))
	}
	if len(a.Votes) > maxVotes {
		return where(fmt.Errorf("%w: %d votes; at most %d are kept", ErrInvalid, len(a.Votes), maxVotes))
	}
	for i, v := range a.Votes {
		if err := checkName(fmt.Sprintf("vote %d approver", i), v.Approver, maxApprover, true); err != nil {
			return where(err)
		}
		if err := checkText(fmt.Sprintf("vote %d reason", i), v.Reason, maxReason, false); err != nil {
			return where(err)
		}
	}
	if !a.Status.Valid() {
		return where(fmt.Errorf("%w: status %.40q is not pending, approved, denied or expired", ErrInvalid, a.Status))
	}
	if a.Used && a.Status != Approved {
		return where(fmt.Errorf("%w: a %s approval cannot be used", ErrInvalid, a.Status))
	}
	switch {
	case a.Status == Pending && a.DecidedAt != nil:
		return where(fmt.Errorf("%w: a pending approval has a decision time", ErrInvalid))
	case a.Status != Pending && a.DecidedAt == nil:
		return where(fmt.Errorf("%w: a %s approval has no decision time", ErrInvalid, a.Status))
	}
	if err := checkSpan(a.CreatedAt, a.ExpiresAt); err != nil {
		return where(err)
	}
	times := []time.Time{}
	if a.DecidedAt != nil {
		times = append(times, *a.DecidedAt)
	}
	for _, v := range a.Votes {
		times = append(times, v.Time)
	}
	for _, t := range times {
		if err := checkTime(t); err != nil {
			return where(err)
		}
	}
	if a.Version < 1 {
		return where(fmt.Errorf("%w: version %d; versions start at 1", ErrInvalid, a.Version))
	}
	return nil
}

// Check reports what makes g unfit to store.
func (g Grant) Check() error {
	if !validID(g.ID, "gr_") {
		return fmt.Errorf("%w: grant id %.40q is not \"gr_\" and 20 hex digits", ErrInvalid, g.ID)
	}
	where := func(err error) error { return fmt.Errorf("grant %s: %w", g.ID, err) }
	for _, f := range []struct {
		name, v string
		max     int
	}{{"session", g.Session, maxName}, {"tool", g.Tool, maxName}, {"shape", g.Shape, maxShape}, {"created by", g.CreatedBy, maxApprover}} {
		if err := checkName(f.name, f.v, f.max, true); err != nil {
			return where(err)
		}
	}
	if !ValidID(g.ApprovalID) {
		return where(fmt.Errorf("%w: approval id %.40q is not \"ap_\" and 20 hex digits", ErrInvalid, g.ApprovalID))
	}
	if err := checkSpan(g.CreatedAt, g.ExpiresAt); err != nil {
		return where(err)
	}
	return nil
}

// checkTime refuses times JSON and the stores cannot keep: years outside
// 0001–9999.
func checkTime(t time.Time) error {
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return fmt.Errorf("%w: time %s is outside the years 0001 to 9999", ErrInvalid, t.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkSpan checks a creation time and an expiry after it.
func checkSpan(created, expires time.Time) error {
	if err := checkTime(created); err != nil {
		return err
	}
	if err := checkTime(expires); err != nil {
		return err
	}
	if !expires.After(created) {
		return fmt.Errorf("%w: expiry %s is not after creation %s", ErrInvalid, expires.UTC().Format(time.RFC3339Nano), created.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// required is the number of distinct approvers an approval needs.
func required(critical bool) int {
	if critical {
		return 2
	}
	return 1
}

// ValidCallHash reports whether h has the form CallHash returns.
func ValidCallHash(h string) bool { return len(h) == 64 && isLowerHex(h) }
