// Package gate defines what a gate is, the Input every gate reads, and the
// ordered Chain the kernel runs. Each gate lives in its own sub-package.
//
// A gate returns a Verdict: a "no" is a value, not an error. An error means
// the gate could not decide, and the chain turns it (and any panic) into a
// deny with the code "kernel.gate_error": Sentinel fails closed.
//
// Gate packages are pure: they must not import net/http, database/sql, the
// store, the server or audit (layout_test.go at the module root checks it).
package gate

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// Env describes the world a call is judged in. It is filled by the kernel
// from its configuration, never from the call itself.
type Env struct {
	// Workspace is the absolute, symlink-resolved workspace root.
	Workspace string
	// Home is the user's home directory, for "~".
	Home string
	// Cwd is the absolute directory relative paths resolve against
	// (the call's cwd inside the workspace, else the workspace).
	Cwd string
	// Resolved is set when Workspace and Home are already absolute and
	// free of symlinks (the kernel resolves them once at start), so gates
	// need not resolve them again for every call.
	Resolved bool
}

// Input is what every gate reads. Gates must treat it as read-only.
type Input struct {
	Call     *request.ToolCall
	Analysis *analysis.Analysis
	Env      Env
	// Prior holds the verdicts of the gates that already ran, in order;
	// the risk gate reads them.
	Prior []Result
	// Session holds the session's taint flags (untrusted, sensitive)
	// for rules; nil when the call has no session.
	Session map[string]bool
	// Trace asks gates for their explain notes; without it they may skip
	// building them, which keeps the hot path free of formatting.
	Trace bool
	// memo lets gates share work derived from this one call (the path
	// gate's classification of each path, which the risk gate reuses).
	// Keys are unexported types owned by the package that stores them.
	// It lives and dies with the Input, so nothing in it can go stale; a
	// few entries at most, so a slice beats a map.
	memo []memoEntry
}

type memoEntry struct{ key, val any }

// Remember stores a per-call value under key.
func (in *Input) Remember(key, v any) {
	for i := range in.memo {
		if in.memo[i].key == key {
			in.memo[i].val = v
			return
		}
	}
	in.memo = append(in.memo, memoEntry{key, v})
}

// Recall returns the per-call value stored under key, or nil.
func (in *Input) Recall(key any) any {
	if in == nil {
		return nil
	}
	for i := range in.memo {
		if in.memo[i].key == key {
			return in.memo[i].val
		}
	}
	return nil
}

// Verdict is one gate's answer.
type Verdict struct {
	Action  decision.Action
	Reasons []decision.Reason
	// Risk, when set, is this gate's view of the risk dimensions (for
	// example the path gate raising sensitivity for a key file).
	Risk *decision.Dimensions
	// Notes are operator-facing observations for explain ("parsed 3
	// commands", "path resolves to /etc/passwd").
	Notes []string
}

// Add appends a reason and raises the verdict's action to it.
func (v *Verdict) Add(r decision.Reason) {
	v.Action = decision.Stricter(v.Action, r.Action)
	v.Reasons = append(v.Reasons, r)
}

// Gate judges a call.
type Gate interface {
	// Name is the gate's short name as it appears in reasons ("path").
	Name() string
	Check(ctx context.Context, in *Input) (Verdict, error)
}

// Result is one gate's verdict in a chain run.
type Result struct {
	Gate    string
	Verdict Verdict
	Err     error
}

// CodeGateError is the reason code for a gate that failed to decide.
const CodeGateError = "kernel.gate_error"

// Chain is an ordered list of gates.
type Chain []Gate

// Run runs every gate in order (a later gate may still add reasons after an
// earlier deny, so that explain shows everything) and returns the strictest
// action, all reasons, and each gate's result. A gate error or panic is a
// deny. Run stops early only when ctx is done, and then denies.
func (c Chain) Run(ctx context.Context, in *Input) (decision.Action, []decision.Reason, []Result) {
	action := decision.Allow
	var reasons []decision.Reason
	results := make([]Result, 0, len(c))
	for _, g := range c {
		if err := ctx.Err(); err != nil {
			r := decision.Reason{Gate: "kernel", Code: "kernel.timeout", Action: decision.Deny,
				Message: "the decision did not finish in time", Detail: err.Error()}
			return decision.Deny, append(reasons, r), results
		}
		res := runOne(ctx, g, in)
		results = append(results, res)
		in.Prior = results // the same backing array: later gates see every earlier result
		action = decision.Stricter(action, res.Verdict.Action)
		reasons = append(reasons, res.Verdict.Reasons...)
	}
	return action, reasons, results
}

func runOne(ctx context.Context, g Gate, in *Input) (res Result) {
	res.Gate = g.Name()
	defer func() {
		if p := recover(); p != nil {
			res.Err = fmt.Errorf("gate %s panicked: %v\n%s", g.Name(), p, debug.Stack())
			res.Verdict = failVerdict(g.Name(), res.Err)
		}
	}()
	v, err := g.Check(ctx, in)
	if err != nil {
		res.Err = err
		res.Verdict = failVerdict(g.Name(), err)
		return res
	}
	res.Verdict = v
	return res
}

func failVerdict(name string, err error) Verdict {
	var v Verdict
	v.Add(decision.Reason{
		Gate: name, Code: CodeGateError, Action: decision.Deny,
		Message: "an internal error stopped the " + name + " gate from deciding; the call is refused",
		Detail:  err.Error(),
	})
	return v
}
