package hook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Exit codes of a hook process. Exit 2 is the only failure Claude Code
// does not ignore: it blocks the call and shows stderr to the model. Any
// other non-zero code would let the call run.
const (
	ExitAnswered = 0
	ExitRefused  = 2
)

// Error codes of a hook call's refusals, besides those of ParseInput.
const (
	CodeUsage         = "hook.usage"
	CodeTimeout       = "hook.timeout"
	CodeInternal      = "hook.internal"
	CodeUnreachable   = "hook.server_unreachable"
	CodeServerError   = "hook.server_error"
	CodeServerInvalid = "hook.server_answer_invalid"
)

// Agent is the agent name the hook's calls carry.
const Agent = "claude-code"

const (
	// DefaultTimeout is the hook call's deadline when none is given.
	DefaultTimeout = 5 * time.Second
	// MaxTimeout keeps the hook's deadline inside the timeout its
	// settings entry asks Claude Code for.
	MaxTimeout = (HookTimeout - 5) * time.Second
	// grace is how long past the deadline Run waits for the backend to
	// notice it before refusing anyway: an answer after Claude Code's own
	// timeout would let the call run.
	grace = 2 * time.Second
)

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ParseTimeout reads a --timeout value: a Go duration between 1ms and
// MaxTimeout.
func ParseTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Millisecond || d > MaxTimeout {
		return 0, Errorf(CodeUsage, "--timeout %q: use a duration between 1ms and %s", s, MaxTimeout)
	}
	return d, nil
}

// DecisionID is the decision id that ties a PreToolUse decision to its
// PostToolUse outcome in the audit log: the outcome comes from a separate
// process that only knows Claude Code's tool_use_id. Empty for an empty id.
func DecisionID(toolUseID string) string {
	if toolUseID == "" {
		return ""
	}
	return "tool_use:" + toolUseID
}

// Backend decides calls and records outcomes for Run: the kernel and the
// audit log in process, or a Sentinel server.
type Backend interface {
	// Check decides a PreToolUse event's call.
	Check(ctx context.Context, in Input) (Verdict, error)
	// Outcome records that a PostToolUse event's call ran, with what the
	// scan of its output found.
	Outcome(ctx context.Context, in Input, rep Report) error
}

// ScanningBackend is a Backend that scans a PostToolUse event's output
// itself while it records the outcome (a server: its scanner is compiled
// once, not in every hook process). ScanOutcome returns what the scan
// found, or errNotSent when nothing was recorded and the hook is to scan
// and call Outcome itself (an output too large to send, a server from
// before the field).
type ScanningBackend interface {
	Backend
	ScanOutcome(ctx context.Context, in Input) (Report, error)
}

// errNotSent is ScanOutcome's "scan here": nothing was recorded.
var errNotSent = errors.New("hook: the output was not sent")

// Refuse writes err to stderr as a refusal with its code (hook.internal
// for an error without one) and returns ExitRefused.
func Refuse(stderr io.Writer, err error) int {
	code := CodeInternal
	var he *Error
	if errors.As(err, &he) {
		code, err = he.Code, errors.New(he.Message)
	}
	fmt.Fprintf(stderr, "sentinel: %s: %v (Sentinel refuses what it cannot decide)\n", code, err)
	return ExitRefused
}

// Run answers one hook event: it reads the event from stdin, asks b when
// the event needs a decision or a record, and writes the answer to
// stdout. It returns ExitAnswered, or ExitRefused with the reason on
// stderr for anything it could not answer: unreadable input, a backend
// error or panic, or no answer within timeout, even when stdin is never
// closed or b ignores its context.
func Run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, timeout time.Duration, b Backend) int {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		out Output
		// note is shown even when the call is refused.
		note string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: Errorf(CodeInternal, "internal error: %v", p)}
			}
		}()
		out, note, err := answer(ctx, stdin, b)
		done <- result{out, note, err}
	}()
	watchdog := time.NewTimer(timeout + grace)
	defer watchdog.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			if r.note != "" {
				fmt.Fprintln(stderr, r.note)
			}
			return Refuse(stderr, r.err)
		}
		if _, err := stdout.Write(r.out.Encode()); err != nil {
			return Refuse(stderr, Errorf(CodeInternal, "writing the answer: %v", err))
		}
		return ExitAnswered
	case <-watchdog.C:
		return Refuse(stderr, Errorf(CodeTimeout, "no answer within %s", timeout))
	}
}

// answer reads the event and answers it. note is text for the model that
// must reach it even if the call is refused (exit 2 drops stdout).
func answer(ctx context.Context, stdin io.Reader, b Backend) (out Output, note string, err error) {
	data, err := io.ReadAll(io.LimitReader(stdin, MaxInput+1))
	if err != nil {
		return Output{}, "", Errorf(CodeInternal, "reading stdin: %v", err)
	}
	in, err := ParseInput(data)
	if err != nil {
		return Output{}, "", err
	}
	switch in.HookEventName {
	case EventPreToolUse:
		v, err := b.Check(ctx, in)
		if err != nil {
			return Output{}, "", err
		}
		return PreToolUseOutput(v), "", nil
	case EventPostToolUse:
		var rep Report
		err := errNotSent
		if sb, ok := b.(ScanningBackend); ok {
			rep, err = sb.ScanOutcome(ctx, in)
		}
		switch {
		case errors.Is(err, errNotSent):
			rep = ScanJSON(in.ToolResponse)
			err = b.Outcome(ctx, in, rep)
		case err != nil:
			// The outcome may not be recorded: the warning still reaches
			// the agent, from the hook's own scan.
			rep = ScanJSON(in.ToolResponse)
		}
		warn := rep.ToolWarning(in.ToolName)
		if err != nil {
			return Output{}, warn, err
		}
		if warn == "" {
			return Output{}, "", nil
		}
		return Output{HookSpecificOutput: &SpecificOutput{HookEventName: EventPostToolUse, AdditionalContext: warn}}, "", nil
	case EventUserPromptSubmit:
		warn := ScanText(in.Prompt).PromptWarning()
		if warn == "" {
			return Output{}, "", nil
		}
		return Output{HookSpecificOutput: &SpecificOutput{HookEventName: EventUserPromptSubmit, AdditionalContext: warn}}, "", nil
	}
	return Output{}, "", nil
}
