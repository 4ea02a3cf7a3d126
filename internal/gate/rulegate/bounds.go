package rulegate

import (
	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"

	"github.com/sentinel-agent/sentinel/internal/gate"
)

// Counting the cost of every operation roughly doubles the time a rule
// takes. CEL can also bound the cost statically: given the largest size of
// every list, map and string in the input, the cost estimator gives the
// most a rule can cost. When, for a bound that every rule stays within the
// limit under, the call's input is no larger, no rule can reach its limit
// and the rules run without counting. Larger inputs (file contents, long
// scripts) take the counted path, so the limit holds for every call.

// bound is a size tier: the most items of any list or map and the most
// bytes of any string (CEL sizes strings in code points, never more than
// bytes).
type bound struct {
	items, bytes uint64
}

// tiers are tried from the largest down; the first one under which every
// rule stays within the limit is the gate's fast bound.
var tiers = [...]bound{{items: 64, bytes: 4096}, {items: 32, bytes: 1024}, {items: 16, bytes: 256}}

// maxValueDepth bounds the nesting of argument values walked by fits; a
// deeper input takes the counted path.
const maxValueDepth = 8

// sizeHints is the cost estimator for a tier. It answers only for values
// read from the input (nodes with a path from a variable): every list and
// map holds at most b.items entries and every string at most b.bytes
// bytes; a dyn value may be either. Values computed by the expression get
// no hint, so the estimator derives them from their operands or, when it
// cannot, treats them as unbounded and the rule is not eligible.
type sizeHints struct{ b bound }

var _ cost.Estimator = sizeHints{}

func (sizeHints) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}

func (h sizeHints) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if len(n.Path()) == 0 || n.Type() == nil {
		return nil
	}
	switch n.Type().Kind() {
	case types.StringKind, types.BytesKind:
		return &cost.SizeEstimate{Max: h.b.bytes}
	case types.ListKind, types.MapKind:
		return &cost.SizeEstimate{Max: h.b.items}
	case types.DynKind, types.AnyKind:
		return &cost.SizeEstimate{Max: max(h.b.items, h.b.bytes)}
	}
	return nil
}

// fastBound returns the largest tier under which every rule's estimated
// cost is within limit, or false if there is none.
func fastBound(env *cel.Env, asts []*cel.Ast, limit uint64) (bound, bool) {
	for _, t := range tiers {
		ok := true
		for _, ast := range asts {
			est, err := env.EstimateCost(ast, sizeHints{t})
			if err != nil || est.Max > limit {
				ok = false
				break
			}
		}
		if ok {
			return t, true
		}
	}
	return bound{}, false
}

// fits reports whether every list, map and string the rules can read from
// in is within b. It must cover every value the activation exposes (a test
// pins the fields of the exposed types); any value of a type it does not
// know makes the input not fit.
func fits(b bound, in *gate.Input) bool {
	s := func(v string) bool { return uint64(len(v)) <= b.bytes }
	n := func(l int) bool { return uint64(l) <= b.items }
	strs := func(vs []string) bool {
		if !n(len(vs)) {
			return false
		}
		for _, v := range vs {
			if !s(v) {
				return false
			}
		}
		return true
	}

	if c := in.Call; c != nil {
		if !s(c.Tool) || !s(string(c.Kind)) || !s(c.Server) || !s(c.Name) || !s(c.Wrapped) ||
			!s(c.Session) || !s(c.Agent) || !s(c.Workspace) || !s(c.Cwd) {
			return false
		}
		// call.args may gain the kind's canonical keys.
		if !n(len(c.Args)+len(kindArgs[c.Kind])) || !fitsValue(b, c.Args, 0) || !fitsValue(b, c.Original, 0) {
			return false
		}
	}
	a := in.Analysis
	if a == nil {
		return true
	}
	if !n(len(a.Commands)) || !n(len(a.Paths)) || !n(len(a.Dests)) || !n(len(a.Findings)) || !strs(a.Unresolved) {
		return false
	}
	for i := range a.Commands {
		c := &a.Commands[i]
		if !s(c.Name) || !s(c.Path) || !s(c.Via) || !strs(c.Args) || !strs(c.Wrappers) {
			return false
		}
	}
	for i := range a.Paths {
		p := &a.Paths[i]
		if !s(p.Path) || !s(string(p.Op)) || !s(p.Command) {
			return false
		}
	}
	for i := range a.Dests {
		d := &a.Dests[i]
		if !s(d.Raw) || !s(d.Scheme) || !s(d.Host) || !s(d.Data) || !s(d.Command) {
			return false
		}
	}
	for i := range a.Findings {
		if !s(a.Findings[i].Code) {
			return false
		}
	}
	return true
}

// fitsValue walks an argument value as JSON decoding and Normalize produce
// them.
func fitsValue(b bound, v any, depth int) bool {
	if depth > maxValueDepth {
		return false
	}
	switch v := v.(type) {
	case nil, bool, float64, int, int64:
		return true
	case string:
		return uint64(len(v)) <= b.bytes
	case []string:
		if uint64(len(v)) > b.items {
			return false
		}
		for _, e := range v {
			if uint64(len(e)) > b.bytes {
				return false
			}
		}
		return true
	case []any:
		if uint64(len(v)) > b.items {
			return false
		}
		for _, e := range v {
			if !fitsValue(b, e, depth+1) {
				return false
			}
		}
		return true
	case map[string]any:
		if uint64(len(v)) > b.items {
			return false
		}
		for k, e := range v {
			if uint64(len(k)) > b.bytes || !fitsValue(b, e, depth+1) {
				return false
			}
		}
		return true
	case map[string]string:
		if uint64(len(v)) > b.items {
			return false
		}
		for k, e := range v {
			if uint64(len(k)) > b.bytes || uint64(len(e)) > b.bytes {
				return false
			}
		}
		return true
	}
	return false
}
