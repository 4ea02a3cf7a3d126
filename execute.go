package sentinel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/pipeline"
	"github.com/sentinel-agent/sentinel/internal/redact"
	"github.com/sentinel-agent/sentinel/internal/snapshot"
	"github.com/sentinel-agent/sentinel/internal/verify"
)

// Result is what a guarded function hands back to Execute's caller. Output
// is returned unchanged and also kept in the audit log's outcome event,
// redacted and clipped to 2 KiB: leave it empty to keep a tool's output
// out of the log. New fields may be added.
type Result struct {
	Output string
	// Verify is the verification's status with a data dir ("pass",
	// "warn", "fail"; "" when nothing was verified), Checks its checks
	// ("exists:fail:exists.missing"), and RolledBack whether Execute
	// undid the call's file changes because a high-risk call failed it.
	Verify     string
	Checks     []string
	RolledBack bool
}

var (
	// ErrDenied is wrapped by the error Execute returns for a call the
	// policy denies; the message carries the decision's reasons.
	ErrDenied = errors.New("sentinel: the call is denied")
	// ErrNeedsApproval is wrapped by the error Execute returns for a
	// confirm decision that no Options.Approve approved.
	ErrNeedsApproval = errors.New("sentinel: the call needs a human's approval")
	// ErrVerifyFailed is joined to Execute's error when the call ran but
	// verification failed: a file it claims to write is not there, a
	// changed file does not parse, a push is not on the remote.
	ErrVerifyFailed = errors.New("sentinel: the call's result failed verification")
	// ErrNotRecorded is joined to Execute's error when the call ran (or
	// was refused by Options.Approve) but the audit log could not record
	// the outcome. The Result is still returned: the call did run, and
	// running it again might do its work twice.
	ErrNotRecorded = errors.New("sentinel: the outcome could not be recorded in the audit log")
)

// Outcome events keep at most this much of an error or an output.
const maxOutcomeText = 2048

// outcomeTimeout bounds recording an outcome. The caller's context may
// already be cancelled (that may be why fn failed), and the outcome is
// still worth writing.
const outcomeTimeout = 10 * time.Second

// Execute decides c and runs fn only when the decision lets it run:
//
//   - allow, notify: fn runs;
//   - confirm: fn runs only when Options.Approve returns true; without
//     Approve, or when it returns false or an error, the error wraps
//     ErrNeedsApproval;
//   - deny, and a call that could not be decided (ErrUndecided): fn does
//     not run; a deny's error wraps ErrDenied and lists the reasons.
//
// When fn ran, its Result and error are returned as they are, and with a
// DataDir the audit log gets an outcome event naming the decision: status
// ok, error or timeout (fn's error wraps context.DeadlineExceeded), the
// duration, fn's error and Result.Output redacted and clipped, and the
// approval when Approve gave one. A refusal by Approve is recorded as an
// approval "denied" with execution "skipped", an error from Approve as
// execution "skipped" with that error. A deny, or a confirm without
// Approve, adds nothing to the decision event already recorded.
//
// A panic in fn is recorded as an error outcome and then re-raised with
// its original value: Execute does not turn a programming error into an
// ordinary failure. A function that exits through runtime.Goexit is
// recorded as an error too.
func (g *Guard) Execute(ctx context.Context, c Call, fn func(context.Context) (Result, error)) (Decision, Result, error) {
	if fn == nil {
		return Decision{Action: Deny}, Result{}, errors.New("sentinel: Execute was given no function to run; pass the tool's function as fn")
	}
	d, tr, err := g.check(ctx, c)
	if err != nil {
		return d, Result{}, err
	}
	var appr *audit.Approval
	switch d.Action {
	case Allow, Notify:
	case Confirm:
		if appr, err = g.askApproval(ctx, c, d); err != nil {
			return d, Result{}, err
		}
	default:
		// Deny, and any action this version does not know.
		return d, Result{}, fmt.Errorf("%w: %s: %s", ErrDenied, c.Tool, reasonList(d))
	}
	var snap *snapshot.Snapshot
	if g.pipe != nil && tr != nil {
		// Without a snapshot the call could not be rolled back: it does
		// not run.
		if snap, err = g.pipe.Pre(ctx, d.DecisionID, g.k.Env().Workspace, tr.Call, tr.Analysis); err != nil {
			rerr := g.recordOutcome(ctx, c, d, appr, &audit.Execution{Status: "skipped", Error: clipRedacted("snapshot failed: " + err.Error())})
			return d, Result{}, errors.Join(fmt.Errorf("sentinel: the snapshot before %s failed, so it did not run: %w", c.Tool, err), rerr)
		}
	}
	res, err := g.run(ctx, c, d, appr, tr, snap, fn)
	return d, res, err
}

// askApproval asks Options.Approve about a confirm. It returns the
// approval to record with the execution, or the refusal.
func (g *Guard) askApproval(ctx context.Context, c Call, d Decision) (*audit.Approval, error) {
	if g.approve == nil {
		return nil, fmt.Errorf("%w: %s: %s (configure Options.Approve to ask someone)", ErrNeedsApproval, c.Tool, reasonList(d))
	}
	ok, err := g.approve(ctx, c, d)
	switch {
	case err != nil:
		rerr := g.recordOutcome(ctx, c, d, nil, &audit.Execution{Status: "skipped", Error: clipRedacted("approval failed: " + err.Error())})
		return nil, errors.Join(fmt.Errorf("%w: asking for approval failed: %w", ErrNeedsApproval, err), rerr)
	case !ok:
		rerr := g.recordOutcome(ctx, c, d, &audit.Approval{Status: "denied", Reason: "refused by Options.Approve"},
			&audit.Execution{Status: "skipped"})
		return nil, errors.Join(fmt.Errorf("%w: %s: the approval was refused", ErrNeedsApproval, c.Tool), rerr)
	}
	return &audit.Approval{Status: "approved", Reason: "approved by Options.Approve"}, nil
}

// run calls fn and records how it ended, also when it panics.
func (g *Guard) run(ctx context.Context, c Call, d Decision, appr *audit.Approval, tr *kernel.Trace, snap *snapshot.Snapshot,
	fn func(context.Context) (Result, error)) (Result, error) {
	start := time.Now()
	returned := false
	defer func() {
		if returned {
			return
		}
		p := recover()
		msg := fmt.Sprintf("panic: %v", p)
		if p == nil {
			msg = "the function exited without returning (runtime.Goexit)"
		}
		_ = g.recordOutcome(ctx, c, d, appr, &audit.Execution{Status: "error", DurationMS: since(start), Error: clipRedacted(msg)})
		if p != nil {
			panic(p)
		}
	}()
	res, err := fn(ctx)
	returned = true
	ex := &audit.Execution{Status: "ok", DurationMS: since(start), Result: clipRedacted(res.Output)}
	if err != nil {
		ex.Status = "error"
		if errors.Is(err, context.DeadlineExceeded) {
			ex.Status = "timeout"
		}
		ex.Error = clipRedacted(err.Error())
	}
	if g.pipe != nil && g.log != nil && tr != nil {
		return g.verify(ctx, c, d, appr, tr, snap, ex, res, err)
	}
	if rerr := g.recordOutcome(ctx, c, d, appr, ex); rerr != nil {
		return res, errors.Join(err, rerr)
	}
	return res, err
}

// verify checks what the call claims against its snapshot, rolls a failed
// high-risk call back, and records the outcome with both.
func (g *Guard) verify(ctx context.Context, c Call, d Decision, appr *audit.Approval, tr *kernel.Trace, snap *snapshot.Snapshot,
	ex *audit.Execution, res Result, err error) (Result, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), verifyTimeout)
	defer cancel()
	ws := g.k.Env().Workspace
	claim := pipeline.ClaimFor(tr.Call, tr.Analysis, ws, res.Output, err == nil, snap)
	ev := audit.Event{Session: c.Session, Agent: c.Agent, Tool: c.Tool, Approval: appr, Execution: ex}
	post, perr := g.pipe.Post(ctx, d, ev, snap, claim)
	res.Verify = string(post.Verify.Status)
	for _, ch := range post.Verify.Checks {
		s := ch.Name + ":" + string(ch.Status)
		if ch.Code != "" {
			s += ":" + ch.Code
		}
		res.Checks = append(res.Checks, s)
	}
	res.RolledBack = post.Rollback != nil && post.RollbackErr == ""
	if perr != nil {
		err = errors.Join(err, fmt.Errorf("%w: decision %s: %w", ErrNotRecorded, d.DecisionID, perr))
	}
	if post.Verify.Status == verify.Fail {
		var why []string
		for _, ch := range post.Verify.Checks {
			if ch.Status == verify.Fail {
				why = append(why, ch.Name+": "+ch.Reason)
			}
		}
		msg := strings.Join(why, "; ")
		if res.RolledBack {
			msg += " (its file changes were rolled back)"
		}
		err = errors.Join(err, fmt.Errorf("%w: %s: %s", ErrVerifyFailed, c.Tool, msg))
	}
	return res, err
}

// verifyTimeout bounds the checks after a call (linters, a registry,
// a remote).
const verifyTimeout = 2 * time.Minute

// recordOutcome appends the outcome event for d when the guard has an
// audit log. Its error wraps ErrNotRecorded.
func (g *Guard) recordOutcome(ctx context.Context, c Call, d Decision, appr *audit.Approval, ex *audit.Execution) error {
	if g.log == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeTimeout)
	defer cancel()
	err := g.log.Record(ctx, audit.Event{Type: audit.TypeOutcome, DecisionID: d.DecisionID, Session: c.Session,
		Agent: c.Agent, Tool: c.Tool, Approval: appr, Execution: ex})
	if err != nil {
		return fmt.Errorf("%w: decision %s: %w", ErrNotRecorded, d.DecisionID, err)
	}
	return nil
}

func since(t time.Time) int64 { return time.Since(t).Milliseconds() }

// reasonList renders the reasons as "code (message); …" for error texts.
func reasonList(d Decision) string {
	if len(d.Reasons) == 0 {
		return "no reason given"
	}
	parts := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		parts[i] = r.Code + " (" + r.Message + ")"
	}
	return strings.Join(parts, "; ")
}

// clipRedacted redacts secrets from s and keeps at most maxOutcomeText
// bytes of it, cut at a character boundary. Only a bounded prefix is
// scanned so that a huge error costs no more than a small one.
func clipRedacted(s string) string {
	s = clip(s, 4*maxOutcomeText)
	s, _ = redact.Text(s)
	return clip(s, maxOutcomeText)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
