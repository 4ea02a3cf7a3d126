package rulegate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
)

// Name is the gate's name in reasons.
const Name = "rules"

// CodeEvalError is the reason code for a rule that could not be evaluated
// on a call (cost limit exceeded, an absent key read, a type mismatch).
// The call is denied: a rule that cannot say "no" must not say "yes".
const CodeEvalError = Name + ".eval_error"

// DefaultCostLimit is the evaluation cost limit when Config.CostLimit is 0.
// One unit is roughly one CEL operation; a rule over a few hundred commands
// and paths stays far below it, a nested comprehension over a long list
// does not.
const DefaultCostLimit = 100_000

// maxIDLen bounds a rule id, which ends up in every reason code.
const maxIDLen = 100

// Rule is one user rule.
type Rule struct {
	// ID names the rule in reason codes ("rules.<id>"): required, unique,
	// lower-case letters, digits, '_', '.' and '-'.
	ID          string `json:"id" yaml:"id"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// When is the CEL expression, of type bool, that selects the calls the
	// rule applies to. The package documentation describes the variables.
	When string `json:"when" yaml:"when"`
	// Action is what a match asks for: notify, confirm or deny. A rule
	// cannot allow a call: the strictest gate wins, so "allow" would do
	// nothing and only mislead its author.
	Action decision.Action `json:"action" yaml:"action"`
	// Reason is the sentence the agent sees when the rule matches.
	Reason string `json:"reason" yaml:"reason"`
	// Alternative is a safer way to reach the same goal, shown with the
	// reason.
	Alternative string `json:"alternative,omitempty" yaml:"alternative,omitempty"`
	// Match lists calls the rule must match, NotMatch calls it must not;
	// CheckExamples runs them.
	Match    []Example `json:"match,omitempty" yaml:"match,omitempty"`
	NotMatch []Example `json:"not_match,omitempty" yaml:"not_match,omitempty"`
}

// Example is a call as a host would send it.
type Example struct {
	Tool string         `json:"tool" yaml:"tool"`
	Args map[string]any `json:"args" yaml:"args"`
}

// String renders the example as it appears in problems:
// exec {"command":"git push -f"}.
func (e Example) String() string {
	args := e.Args
	if args == nil {
		args = map[string]any{}
	}
	b, err := json.Marshal(args)
	if err != nil {
		return fmt.Sprintf("%s %v", e.Tool, args)
	}
	return e.Tool + " " + string(b)
}

// Config is the rules section of a policy.
type Config struct {
	Rules []Rule `json:"rules" yaml:"rules"`
	// CostLimit bounds the evaluation cost of each rule on each call;
	// 0 means DefaultCostLimit.
	CostLimit uint64 `json:"cost_limit,omitempty" yaml:"cost_limit,omitempty"`
}

// Gate evaluates compiled rules. It is immutable and safe for concurrent
// use.
type Gate struct {
	rules []compiled
	// all evaluates every rule in one program, returning a list of bools:
	// one evaluation per call instead of one per rule. It is nil when it
	// could not be built; the rules are then evaluated one by one.
	all cel.Program
	// fast is the same joint program without cost counting, for inputs
	// within bound: under it no rule can reach the limit (see bounds.go).
	// It is nil when some rule could exceed the limit even then.
	fast    cel.Program
	bound   bound
	adapter types.Adapter
	// session: some rule reads the session's flags.
	session bool
}

// ReadsSession reports whether some rule reads the session's flags
// (the session variable): a decision then needs them before the rules run.
func (g *Gate) ReadsSession() bool { return g != nil && g.session }

var _ gate.Gate = (*Gate)(nil)

type compiled struct {
	rule   Rule
	prg    cel.Program
	reason decision.Reason
}

// Compile checks every rule and compiles its expression once. It reports
// every problem of every rule at once, as Problems. It does not run the
// examples, since that needs the kernel to build a full input; see
// CheckExamples.
func Compile(cfg Config) (*Gate, error) {
	env, err := newEnv()
	if err != nil {
		return nil, fmt.Errorf("rules: building the expression environment: %w", err)
	}
	limit := cfg.CostLimit
	if limit == 0 {
		limit = DefaultCostLimit
	}
	var probs Problems
	g := &Gate{rules: make([]compiled, 0, len(cfg.Rules))}
	seen := make(map[string]int, len(cfg.Rules))
	asts := make([]*cel.Ast, 0, len(cfg.Rules))
	for i, r := range cfg.Rules {
		add := func(field string, line, col int, format string, args ...any) {
			probs = append(probs, Problem{Rule: r.ID, Index: i, Field: field, Line: line, Column: col,
				Message: field + ": " + fmt.Sprintf(format, args...)})
		}
		switch {
		case r.ID == "":
			add("id", 0, 0, "is required")
		case !validID(r.ID):
			add("id", 0, 0, "%q is not valid (use at most %d lower-case letters, digits, '_', '.' and '-')", r.ID, maxIDLen)
		case CodeEvalError == Name+"."+r.ID:
			add("id", 0, 0, "%q is reserved", r.ID)
		default:
			if j, dup := seen[r.ID]; dup {
				add("id", 0, 0, "rule #%d already uses this id", j+1)
			} else {
				seen[r.ID] = i
			}
		}
		if r.Action != decision.Notify && r.Action != decision.Confirm && r.Action != decision.Deny {
			add("action", 0, 0, "must be notify, confirm or deny, got %s (a rule cannot allow a call)", r.Action)
		}
		if strings.TrimSpace(r.Reason) == "" {
			add("reason", 0, 0, "is required (it is the message the agent sees)")
		}
		for j, ex := range r.Match {
			if strings.TrimSpace(ex.Tool) == "" {
				add("match", 0, 0, "example %d has no tool", j+1)
			}
		}
		for j, ex := range r.NotMatch {
			if strings.TrimSpace(ex.Tool) == "" {
				add("not_match", 0, 0, "example %d has no tool", j+1)
			}
		}

		ast, prg, whenProbs := compileWhen(env, r.When, limit)
		for _, p := range whenProbs {
			add("when", p.Line, p.Column, "%s", p.Message)
		}
		if prg == nil {
			continue
		}
		asts = append(asts, ast)
		for _, ref := range ast.NativeRep().ReferenceMap() {
			g.session = g.session || ref.Name == varSession
		}
		msg := r.Reason
		if r.Alternative != "" {
			msg += " Instead: " + r.Alternative
		}
		detail := "rule " + r.ID
		if r.Description != "" {
			detail += " (" + r.Description + ")"
		}
		g.rules = append(g.rules, compiled{rule: r, prg: prg, reason: decision.Reason{
			Gate: Name, Code: Name + "." + r.ID, Action: r.Action,
			Message: msg, Detail: detail + " matched: " + r.When, Alternative: r.Alternative,
		}})
	}
	if len(probs) > 0 {
		return nil, probs
	}
	g.adapter = env.CELTypeAdapter()
	if joint, all := jointAST(env, cfg.Rules); joint != nil {
		g.all = jointProgram(all, joint, cel.CostLimit(limit))
		if b, ok := fastBound(env, asts, limit); ok {
			g.fast, g.bound = jointProgram(all, joint), b
		}
	}
	return g, nil
}

// jointAST joins the rules into one list expression, checked in an
// environment without the size limits of a single rule. Each rule already
// parsed on its own, so it is balanced and wrapping it in parentheses (on
// lines of their own, in case it ends in a comment) cannot change its
// meaning. It returns nil when the joint expression cannot be built; the
// rules are then evaluated one by one.
//
// The counted joint program gets the limit of a single rule: a rule costs
// the same inside it as alone, so when the joint evaluation stays within
// the limit every rule did, and the results are exactly those of the rules
// one by one. When it does not (a rule errs, or the rules together cost
// more than one may), Check evaluates the rules one by one.
func jointAST(env *cel.Env, rules []Rule) (*cel.Ast, *cel.Env) {
	if len(rules) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString("[")
	for i, r := range rules {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("(\n")
		b.WriteString(r.When)
		b.WriteString("\n)")
	}
	b.WriteString("]")
	all, err := env.Extend(
		cel.ParserExpressionSizeLimit(-1),
		cel.ExpressionNodeLimit(-1),
		cel.ParserRecursionLimit(maxNesting+4),
	)
	if err != nil {
		return nil, nil
	}
	ast, iss := all.Compile(b.String())
	if iss.Err() != nil || !ast.OutputType().IsExactType(types.NewListType(types.BoolType)) {
		return nil, nil
	}
	return ast, all
}

func jointProgram(env *cel.Env, ast *cel.Ast, opts ...cel.ProgramOption) cel.Program {
	opts = append(opts, cel.EvalOptions(cel.OptOptimize), cel.InterruptCheckFrequency(interruptEvery))
	prg, err := env.Program(ast, opts...)
	if err != nil {
		return nil
	}
	return prg
}

func validID(id string) bool {
	if len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return id != ""
}

// compileWhen parses, checks and plans one expression. Problems carry the
// line and column inside the expression.
func compileWhen(env *cel.Env, when string, limit uint64) (*cel.Ast, cel.Program, []Problem) {
	if strings.TrimSpace(when) == "" {
		return nil, nil, []Problem{{Message: "is required"}}
	}
	if len(when) > MaxWhenBytes {
		return nil, nil, []Problem{{Message: fmt.Sprintf("is %d bytes long, the limit is %d", len(when), MaxWhenBytes)}}
	}
	ast, iss := env.Compile(when)
	if iss != nil && iss.Err() != nil {
		src := common.NewTextSource(when)
		errs := iss.Errors()
		sort.SliceStable(errs, func(i, j int) bool {
			li, lj := errs[i].Location, errs[j].Location
			if li.Line() != lj.Line() {
				return li.Line() < lj.Line()
			}
			return li.Column() < lj.Column()
		})
		out := make([]Problem, 0, len(errs))
		for _, e := range errs {
			if e.Location.Line() < 1 {
				// Limits are reported without a position.
				out = append(out, Problem{Message: "ERROR: " + e.Message})
				continue
			}
			out = append(out, Problem{Line: e.Location.Line(), Column: e.Location.Column() + 1,
				Message: e.ToDisplayString(src)})
		}
		return nil, nil, out
	}
	if t := ast.OutputType(); !t.IsExactType(types.BoolType) {
		return nil, nil, []Problem{{Message: fmt.Sprintf("must be a boolean expression, this one is of type %s (compare it, for example x == true)", cel.FormatCELType(t))}}
	}
	prg, err := env.Program(ast,
		cel.EvalOptions(cel.OptOptimize),
		cel.CostLimit(limit),
		cel.InterruptCheckFrequency(interruptEvery),
	)
	if err != nil {
		return nil, nil, []Problem{{Message: err.Error()}}
	}
	return ast, prg, nil
}

// Name implements gate.Gate.
func (g *Gate) Name() string { return Name }

// Check evaluates every rule against the call. Every matching rule adds its
// reason; a rule that cannot be evaluated adds a deny with CodeEvalError
// naming it. Check returns an error only when ctx ends first.
func (g *Gate) Check(ctx context.Context, in *gate.Input) (gate.Verdict, error) {
	var v gate.Verdict
	if in == nil {
		return v, errors.New("rules: no input")
	}
	res, err := g.evalAll(ctx, in)
	if err != nil {
		return v, err
	}
	for i, o := range res {
		r := &g.rules[i]
		switch {
		case o.err != nil:
			v.Add(decision.Reason{
				Gate: Name, Code: CodeEvalError, Action: decision.Deny,
				Message: fmt.Sprintf("the policy rule %q could not be evaluated on this call, so the call is refused", r.rule.ID),
				Detail:  fmt.Sprintf("rule %s: %v", r.rule.ID, o.err),
			})
		case o.matched:
			v.Add(r.reason)
		}
	}
	return v, nil
}

// Eval returns the ids of the rules that match, in policy order. Rules that
// cannot be evaluated are left out and reported, all of them, in err.
func (g *Gate) Eval(in *gate.Input) (matched []string, err error) {
	if in == nil {
		return nil, errors.New("rules: no input")
	}
	res, err := g.evalAll(context.Background(), in)
	if err != nil {
		return nil, err
	}
	var errs []error
	for i, o := range res {
		switch {
		case o.err != nil:
			errs = append(errs, fmt.Errorf("rule %q: %w", g.rules[i].rule.ID, o.err))
		case o.matched:
			matched = append(matched, g.rules[i].rule.ID)
		}
	}
	return matched, errors.Join(errs...)
}

// outcome is one rule's result on one call.
type outcome struct {
	matched bool
	err     error
}

// evalAll evaluates every rule on one activation. A joint program answers
// for all rules at once, uncounted when the input is small enough for no
// rule to reach the limit; if it fails (a rule errs or the limit is
// reached), each rule is evaluated alone, counted, to find out which. The
// error is only for a context that ended.
func (g *Gate) evalAll(ctx context.Context, in *gate.Input) ([]outcome, error) {
	act := newActivation(g.adapter, in)
	res := make([]outcome, len(g.rules))
	joint := g.all
	if g.fast != nil && fits(g.bound, in) {
		// If this fails, a rule erred: counting would not change that.
		joint = g.fast
	}
	if joint != nil {
		out, _, err := joint.ContextEval(ctx, act)
		if err == nil && g.fill(res, out) {
			return res, nil
		}
	}
	for i := range g.rules {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
		ok, err := g.rules[i].eval(ctx, act)
		if err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("rules: evaluating %s: %w", g.rules[i].rule.ID, ctx.Err())
		}
		res[i] = outcome{matched: ok, err: err}
	}
	return res, nil
}

// fill copies the joint program's list of bools into res. It reports false
// if the value is not exactly that, so that the caller falls back to the
// rules one by one instead of trusting it.
func (g *Gate) fill(res []outcome, out ref.Val) bool {
	list, ok := out.(traits.Lister)
	if !ok || list.Size() != types.Int(len(res)) {
		return false
	}
	for i := range res {
		b, ok := list.Get(types.Int(i)).(types.Bool)
		if !ok {
			return false
		}
		res[i].matched = bool(b)
	}
	return true
}

func (r *compiled) eval(ctx context.Context, act *activation) (bool, error) {
	out, _, err := r.prg.ContextEval(ctx, act)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		// The checker proved the type bool; this guards against a value
		// that escaped it (an error or unknown) rather than trusting it.
		return false, fmt.Errorf("the expression gave %s, not a bool", out.Type().TypeName())
	}
	return bool(b), nil
}

// CheckExamples runs every rule's Match and NotMatch examples. build turns
// an example into the full input the kernel would give the gate (the
// normalised call and its analysis). All failures are reported at once, as
// Problems, in the form
//
//	rule "no-force-push": match example 2 (exec {"command":"git push -f"}) did not match
func (g *Gate) CheckExamples(build func(Example) (*gate.Input, error)) error {
	var probs Problems
	for i := range g.rules {
		r := &g.rules[i]
		run := func(field string, exs []Example, want bool) {
			for j, ex := range exs {
				what := fmt.Sprintf("%s example %d (%s)", field, j+1, ex)
				add := func(msg string) {
					probs = append(probs, Problem{Rule: r.rule.ID, Index: i, Field: field, Message: what + " " + msg})
				}
				in, err := build(ex)
				if err != nil {
					add("could not be built: " + err.Error())
					continue
				}
				if in == nil {
					add("could not be built: no input")
					continue
				}
				got, err := r.eval(context.Background(), newActivation(g.adapter, in))
				switch {
				case err != nil:
					add("could not be evaluated: " + err.Error())
				case got && !want:
					add("matched")
				case !got && want:
					add("did not match")
				}
			}
		}
		run("match", r.rule.Match, true)
		run("not_match", r.rule.NotMatch, false)
	}
	if len(probs) > 0 {
		return probs
	}
	return nil
}

// Rules returns a copy of the compiled rules, in policy order.
func (g *Gate) Rules() []Rule {
	out := make([]Rule, len(g.rules))
	for i, r := range g.rules {
		out[i] = r.rule
	}
	return out
}

// Problem is one thing wrong with one rule.
type Problem struct {
	// Rule is the rule's id as written (possibly empty or invalid); Index
	// is its position in Config.Rules, so that a policy loader can point
	// at the file line.
	Rule  string
	Index int
	// Field is the rule field at fault: "id", "when", "action", "reason",
	// "match" or "not_match".
	Field string
	// Line and Column locate a CEL error inside When, both from 1; they
	// are 0 for other problems.
	Line, Column int
	// Message starts with the field and says what is wrong.
	Message string
}

func (p Problem) Error() string {
	if p.Rule == "" {
		return fmt.Sprintf("rule #%d: %s", p.Index+1, p.Message)
	}
	return fmt.Sprintf("rule %q: %s", p.Rule, p.Message)
}

// Problems is every problem found, in policy order. It is the error type
// of Compile and CheckExamples.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "\n")
}
