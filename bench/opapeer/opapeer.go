// Package opapeer is the peer engine of Sentinel's benchmarks: the seed's
// deterministic guard rules (see package baseline) written as a Rego policy
// and evaluated by the Open Policy Agent library in process.
//
// The policy is compiled once by New (rego.PrepareForEval) and every call is
// only an evaluation, which is how OPA is meant to be embedded, so the
// comparison with Sentinel is fair. The package exists for measurement: it
// must never be imported by Sentinel's main module, which stays free of OPA.
package opapeer

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/sentinel-agent/sentinel/bench/baseline"
)

//go:embed seed.rego
var source string

// Source returns the Rego policy the peer evaluates.
func Source() string { return source }

// query is the single rule the peer asks for.
const query = "data.sentinel.bench.seed.result"

// Peer is a prepared Rego query over one rule set. It is safe for
// concurrent use.
type Peer struct {
	pq rego.PreparedEvalQuery
}

// New compiles the policy with the rules as its data document. The rules'
// regexes are checked here: a Rego builtin given an invalid regex would
// otherwise fail at evaluation time.
func New(ctx context.Context, rules baseline.Rules) (*Peer, error) {
	var errs []error
	for _, l := range []struct {
		name string
		ps   []baseline.Pattern
	}{{"dangerous", rules.Dangerous}, {"warning", rules.Warning}} {
		for i, p := range l.ps {
			if _, err := regexp.Compile(p.Regex); err != nil {
				errs = append(errs, fmt.Errorf("%s[%d] %q: %w", l.name, i, p.Regex, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("opapeer: %w", err)
	}
	data, err := asData(rules)
	if err != nil {
		return nil, fmt.Errorf("opapeer: %w", err)
	}
	pq, err := rego.New(
		rego.Query(query),
		rego.Module("seed.rego", source),
		rego.Data(map[string]any{"seed": data}),
		// A failing builtin must surface as an error, not as an undefined
		// rule that silently allows.
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("opapeer: preparing the policy: %w", err)
	}
	return &Peer{pq: pq}, nil
}

// asData turns the rules into the plain JSON shape Rego reads.
func asData(r baseline.Rules) (map[string]any, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// Result is the policy's answer: the decision and the descriptions of every
// rule that contributed to it, sorted.
type Result struct {
	Decision baseline.Decision
	Reasons  []string
}

// Input builds the policy input for a call, extracting the command and the
// path exactly as the baseline does.
func Input(tool string, args map[string]any) map[string]any {
	return map[string]any{
		"tool":    tool,
		"command": baseline.StringArg(args, "command"),
		"path":    baseline.PathArg(args),
	}
}

// Check evaluates the prepared policy for one call.
func (p *Peer) Check(ctx context.Context, tool string, args map[string]any) (Result, error) {
	rs, err := p.pq.Eval(ctx, rego.EvalInput(Input(tool, args)))
	if err != nil {
		return Result{}, fmt.Errorf("opapeer: %w", err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Result{}, fmt.Errorf("opapeer: the policy returned %d results, want 1", len(rs))
	}
	obj, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return Result{}, fmt.Errorf("opapeer: result is %T, want an object", rs[0].Expressions[0].Value)
	}
	d, _ := obj["decision"].(string)
	var out Result
	switch dec := baseline.Decision(d); dec {
	case baseline.Allow, baseline.Confirm, baseline.Deny:
		out.Decision = dec
	default:
		return Result{}, fmt.Errorf("opapeer: unknown decision %q", d)
	}
	raw, _ := obj["reasons"].([]any)
	for _, r := range raw {
		if s, ok := r.(string); ok {
			out.Reasons = append(out.Reasons, s)
		}
	}
	return out, nil
}
