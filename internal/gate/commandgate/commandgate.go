// Package commandgate is Sentinel's command gate. For an exec call it
// turns what the shell analyser found (internal/shell fills
// gate.Input.Analysis) into reasons with stable codes: each finding
// becomes a reason with its default action or the policy's override, an
// unparseable line is refused, and a line with parts that could not be
// resolved statically is at least noticed.
//
// The gate only reads the analysis; it never parses, executes or touches
// the file system or network itself, and it fails closed: an exec call
// that arrives without an analysis is an error, which the chain turns
// into a deny.
package commandgate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/request"
	"github.com/sentinel-agent/sentinel/internal/shell"
)

// Name is the gate's name in reasons.
const Name = "command"

// Codes the gate adds on top of the analyser's findings.
const (
	// CodeUnparseable is given when the line could not be parsed.
	CodeUnparseable = "command.unparseable"
	// CodeUnresolved is given when parts of the line could not be resolved
	// statically and no finding fired.
	CodeUnresolved = "command.unresolved"
)

// Config is the gate's policy.
type Config struct {
	// Actions overrides a finding's default action per code
	// ("command.force_push": deny).
	Actions map[string]decision.Action
	// Disabled lists codes that produce no reason at all.
	Disabled map[string]bool
	// Unparseable is the action for a line that could not be parsed; the
	// zero value means Deny.
	Unparseable decision.Action
	// Unresolved is the action when Analysis.Unresolved is non-empty and
	// nothing else fired; the zero value means Notify. Disable
	// command.unresolved to turn it off.
	Unresolved decision.Action
}

// KnownCodes returns every code the gate can emit, sorted.
func KnownCodes() []string {
	codes := []string{CodeUnparseable, CodeUnresolved}
	for _, c := range shell.Codes() {
		codes = append(codes, c.Code)
	}
	sort.Strings(codes)
	return codes
}

// Validate reports every problem with the configuration at once: unknown
// codes (usually typos that would silently disable nothing) and actions
// out of range. It does not modify the configuration.
func (c Config) Validate() error {
	known := map[string]bool{}
	for _, k := range KnownCodes() {
		known[k] = true
	}
	var errs []error
	for _, code := range sortedKeys(c.Actions) {
		if !known[code] {
			errs = append(errs, fmt.Errorf("actions: unknown code %q", code))
		}
		if a := c.Actions[code]; a < decision.Allow || a > decision.Deny {
			errs = append(errs, fmt.Errorf("actions: %q has an invalid action %d", code, int(a)))
		}
	}
	for _, code := range sortedKeys(c.Disabled) {
		if !known[code] {
			errs = append(errs, fmt.Errorf("disabled: unknown code %q", code))
		}
	}
	for name, a := range map[string]decision.Action{"unparseable": c.Unparseable, "unresolved": c.Unresolved} {
		if a < decision.Allow || a > decision.Deny {
			errs = append(errs, fmt.Errorf("%s: invalid action %d", name, int(a)))
		}
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Gate is the command gate. It is immutable after New and safe for
// concurrent use.
type Gate struct {
	actions     map[string]decision.Action
	disabled    map[string]bool
	unparseable decision.Action
	unresolved  decision.Action
}

var _ gate.Gate = (*Gate)(nil)

// New prepares a gate from cfg. The maps are copied, so later changes to
// cfg do not affect the gate.
func New(cfg Config) *Gate {
	g := &Gate{
		actions:     make(map[string]decision.Action, len(cfg.Actions)),
		disabled:    make(map[string]bool, len(cfg.Disabled)),
		unparseable: cfg.Unparseable,
		unresolved:  cfg.Unresolved,
	}
	for k, v := range cfg.Actions {
		g.actions[k] = v
	}
	for k, v := range cfg.Disabled {
		if v {
			g.disabled[k] = true
		}
	}
	if g.unparseable == decision.Allow {
		g.unparseable = decision.Deny
	}
	if g.unresolved == decision.Allow {
		g.unresolved = decision.Notify
	}
	return g
}

// Name implements gate.Gate.
func (g *Gate) Name() string { return Name }

// alternatives are safer ways to reach the goal, shown with the reason,
// where the finding's own message (which ends with what to do) does not
// already say them: the agent reads both, and one hint said twice costs
// tokens and reads as two.
var alternatives = map[string]string{
	shell.CodeForcePush:           "push to a new branch and open a pull request",
	shell.CodePrivilegeEscalation: "ask an operator to run it",
}

// Check implements gate.Gate.
func (g *Gate) Check(ctx context.Context, in *gate.Input) (gate.Verdict, error) {
	var v gate.Verdict
	if err := ctx.Err(); err != nil {
		return v, err
	}
	if in == nil || in.Call == nil {
		return v, errors.New("command gate: no call to judge")
	}
	if in.Call.Kind != request.KindExec {
		// A tool of another kind is judged here only by a shell command it
		// carries (an MCP "run" tool's command argument), and only when
		// that parses: its argument may be some other language.
		if a := in.Analysis; a == nil || len(a.Commands) == 0 || a.ParseError != "" {
			return v, nil
		}
	}
	a := in.Analysis
	if a == nil {
		return v, errors.New("command gate: the exec call has no shell analysis")
	}
	if a.ParseError != "" {
		if !g.disabled[CodeUnparseable] {
			v.Add(decision.Reason{
				Gate: Name, Code: CodeUnparseable, Action: g.unparseable,
				Message:     "the command could not be parsed as shell; fix the syntax and try again",
				Detail:      a.ParseError,
				Alternative: "quote special characters and close every quote and bracket",
			})
		}
		v.Notes = append(v.Notes, "unparseable: "+a.ParseError)
		return v, nil
	}
	var risk *decision.Dimensions
	for _, f := range a.Findings {
		if g.disabled[f.Code] {
			continue
		}
		act := f.Action
		if o, ok := g.actions[f.Code]; ok {
			act = o
		}
		v.Add(decision.Reason{
			Gate: Name, Code: f.Code, Action: act,
			Message: f.Message, Detail: f.Detail,
			Alternative: alternatives[f.Code],
		})
		// Only a finding that itself asks (confirm) or refuses speaks for
		// the risk score: a notice, native or made milder by the policy,
		// must not come back through the score as a question the finding
		// chose not to ask.
		if act >= decision.Confirm {
			risk = combine(risk, f.Risk)
		}
	}
	if len(v.Reasons) == 0 && len(a.Unresolved) > 0 && !g.disabled[CodeUnresolved] {
		v.Add(decision.Reason{
			Gate: Name, Code: CodeUnresolved, Action: g.unresolved,
			Message: "parts of the command are only known at run time",
			Detail:  strings.Join(a.Unresolved, "; "),
		})
	}
	v.Risk = risk
	if in.Trace {
		v.Notes = append(v.Notes, Summary(a))
	}
	return v, nil
}

// combine folds a finding's risk into the running one: the largest
// impact, sensitivity and error rate, the smallest reversibility.
func combine(acc, d *decision.Dimensions) *decision.Dimensions {
	if d == nil {
		return acc
	}
	if acc == nil {
		c := *d
		return &c
	}
	acc.Impact = max(acc.Impact, d.Impact)
	acc.Sensitivity = max(acc.Sensitivity, d.Sensitivity)
	acc.ErrorRate = max(acc.ErrorRate, d.ErrorRate)
	acc.Reversibility = min(acc.Reversibility, d.Reversibility)
	return acc
}

// Summary is a one-line description of a parsed command line for
// `sentinel explain`: the programs it runs, how deep, what it touches.
func Summary(a *analysis.Analysis) string {
	if a == nil {
		return "no analysis"
	}
	var b strings.Builder
	n := len(a.Commands)
	fmt.Fprintf(&b, "parsed %d command", n)
	if n != 1 {
		b.WriteByte('s')
	}
	if n > 0 {
		b.WriteString(": ")
		const maxNames = 8
		for i, c := range a.Commands {
			if i == maxNames {
				fmt.Fprintf(&b, " …+%d", n-maxNames)
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Name)
			var marks []string
			if c.Privileged {
				marks = append(marks, "root")
			}
			if c.Via != "" {
				marks = append(marks, "via "+c.Via)
			}
			if c.Dynamic {
				marks = append(marks, "dynamic")
			}
			if len(marks) > 0 {
				b.WriteString(" (" + strings.Join(marks, ", ") + ")")
			}
		}
	}
	if len(a.Paths) > 0 {
		fmt.Fprintf(&b, "; %d path", len(a.Paths))
		if len(a.Paths) != 1 {
			b.WriteByte('s')
		}
	}
	if len(a.Dests) > 0 {
		fmt.Fprintf(&b, "; %d destination", len(a.Dests))
		if len(a.Dests) != 1 {
			b.WriteByte('s')
		}
	}
	if a.ReadsEnv {
		b.WriteString("; reads the environment")
	}
	if len(a.Unresolved) > 0 {
		fmt.Fprintf(&b, "; %d unresolved", len(a.Unresolved))
	}
	return b.String()
}
