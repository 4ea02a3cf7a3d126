package evaluator

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// Kind is what an Event reports.
type Kind string

// The kinds of events.
const (
	// KindDecision is the kernel's decision about a tool call.
	KindDecision Kind = "decision"
	// KindOutcome is what happened after: execution, verification and how
	// the user took the result.
	KindOutcome Kind = "outcome"
	// KindFeedback is one implicit feedback signal.
	KindFeedback Kind = "feedback"
)

// ExecStatus is how a call ran, as the audit log's execution status.
type ExecStatus string

// Execution statuses. The empty status means the outcome says nothing
// about execution.
const (
	ExecOK      ExecStatus = "ok"
	ExecError   ExecStatus = "error"
	ExecTimeout ExecStatus = "timeout"
	// ExecSkipped: the call did not run (denied, dry run); it has no
	// runtime score.
	ExecSkipped ExecStatus = "skipped"
)

// VerifyStatus is what verification concluded.
type VerifyStatus string

// Verification results; the empty status means the call was not verified.
const (
	VerifyPass VerifyStatus = "PASS"
	VerifyWarn VerifyStatus = "WARN"
	VerifyFail VerifyStatus = "FAIL"
)

// Event is what the evaluator needs of one audit record or feedback
// signal. Which fields matter depends on Kind; the others are ignored,
// except that only feedback events may carry a Signal.
type Event struct {
	Time    time.Time `json:"time"`
	Session string    `json:"session,omitempty"`
	Agent   string    `json:"agent,omitempty"`
	Tool    string    `json:"tool,omitempty"`
	Kind    Kind      `json:"kind"`

	// Decision events. Action's zero value is allow: a mapper must set
	// it from the decision, never leave it out.
	Action decision.Action `json:"action"`
	Risk   float64         `json:"risk,omitempty"`
	// Reasons are the decision's reason codes. Those starting with
	// "schema." are the parameter problems pre-exec counts.
	Reasons []string `json:"reasons,omitempty"`
	// ContextUsed says whether the call made use of the context Sentinel
	// injected (memory, preferences), where that can be measured; nil
	// when it cannot.
	ContextUsed *bool `json:"context_used,omitempty"`

	// Outcome events.
	ExecStatus    ExecStatus   `json:"exec_status,omitempty"`
	DurationMS    int64        `json:"duration_ms,omitempty"`
	Retries       int          `json:"retries,omitempty"`
	SelfCorrected bool         `json:"self_corrected,omitempty"`
	TimedOut      bool         `json:"timed_out,omitempty"`
	Verify        VerifyStatus `json:"verify,omitempty"`
	UserAccepted  *bool        `json:"user_accepted,omitempty"`
	UserEdited    *bool        `json:"user_edited,omitempty"`
	ResultUsed    *bool        `json:"result_used,omitempty"`

	// Feedback events: one of the eight signals (see ParseSignal).
	Signal Signal `json:"signal,omitempty"`
}

// Input bounds (see the package doc).
const (
	maxNameLen   = 256
	maxReasons   = 64
	maxReasonLen = 128
	maxRisk      = 1000
	maxRetries   = 1_000_000
)

// Validate reports everything wrong with e at once, or nil. It does not
// change e.
func (e *Event) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if e.Time.IsZero() {
		bad("time is missing (set it from the audit event's time)")
	}
	for _, f := range []struct{ name, v string }{{"agent", e.Agent}, {"session", e.Session}, {"tool", e.Tool}} {
		if len(f.v) > maxNameLen {
			bad("%s is %d bytes long (at most %d)", f.name, len(f.v), maxNameLen)
		}
	}
	switch e.Kind {
	case KindDecision:
		e.validateDecision(bad)
	case KindOutcome:
		e.validateOutcome(bad)
	case KindFeedback:
		if !e.Signal.Valid() {
			bad("unknown feedback signal %s (want one of %s)", quote(string(e.Signal)), signalNames)
		}
	default:
		bad("unknown kind %s (want decision, outcome or feedback)", quote(string(e.Kind)))
	}
	if e.Kind != KindFeedback && e.Signal != "" {
		bad("signal %s set on a %s event (signals belong to feedback events)", quote(string(e.Signal)), quote(string(e.Kind)))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("evaluator: bad %s event (agent %s, session %s): %w",
		quote(string(e.Kind)), quote(e.Agent), quote(e.Session), errors.Join(errs...))
}

func (e *Event) validateDecision(bad func(string, ...any)) {
	if e.Action < decision.Allow || e.Action > decision.Deny {
		bad("action %d is not allow, notify, confirm or deny", int(e.Action))
	}
	if math.IsNaN(e.Risk) || e.Risk < 0 || e.Risk > maxRisk {
		bad("risk %v is outside 0..%d", e.Risk, maxRisk)
	}
	if len(e.Reasons) > maxReasons {
		bad("%d reasons (at most %d)", len(e.Reasons), maxReasons)
	}
	for i, r := range e.Reasons {
		if len(r) > maxReasonLen {
			bad("reason %d is %d bytes long (at most %d)", i, len(r), maxReasonLen)
			break
		}
	}
}

func (e *Event) validateOutcome(bad func(string, ...any)) {
	switch e.ExecStatus {
	case "", ExecOK, ExecError, ExecTimeout, ExecSkipped:
	default:
		bad("exec status %s is not ok, error, timeout or skipped", quote(string(e.ExecStatus)))
	}
	switch e.Verify {
	case "", VerifyPass, VerifyWarn, VerifyFail:
	default:
		bad("verify status %s is not PASS, WARN or FAIL", quote(string(e.Verify)))
	}
	if e.DurationMS < 0 {
		bad("duration %d ms is negative", e.DurationMS)
	}
	if e.Retries < 0 || e.Retries > maxRetries {
		bad("retries %d outside 0..%d", e.Retries, maxRetries)
	}
}

// schemaProblems counts the reason codes that name a parameter problem.
func (e *Event) schemaProblems() int {
	n := 0
	for _, r := range e.Reasons {
		if strings.HasPrefix(r, "schema.") {
			n++
		}
	}
	return n
}

// ran reports whether the outcome is of a call that executed.
func (e *Event) ran() bool {
	switch e.ExecStatus {
	case ExecOK, ExecError, ExecTimeout:
		return true
	}
	return e.TimedOut && e.ExecStatus != ExecSkipped
}

func (e *Event) timedOut() bool { return e.TimedOut || e.ExecStatus == ExecTimeout }
