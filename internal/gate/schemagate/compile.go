package schemagate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// compiledRule is a Rule prepared for evaluation: regexes, globs, allowed
// values and the JSON Schema are built once, and per-field checks are
// gathered in field-name order so that reasons come out in a stable order.
type compiledRule struct {
	index     int
	tool      string
	action    decision.Action
	required  []string
	fields    []fieldSpec
	dependsOn []dependency
	exclusive [][]string
	secrets   []string
	schema    *jsonschema.Schema
}

type fieldSpec struct {
	name   string
	typ    string
	enum   []any // canonical values; nil when unconstrained
	min    float64
	max    float64
	minLen int
	maxLen int
	// has* say which of the bounds above are set.
	hasMin, hasMax, hasMinLen, hasMaxLen bool
	pattern                              *regexp.Regexp
	maxSize                              int // 0 when unconstrained
	scope                                bool
	allow                                []glob
	deny                                 []glob
}

func (f *fieldSpec) hasPathChecks() bool {
	return f.scope || len(f.allow) > 0 || len(f.deny) > 0
}

type dependency struct {
	field    string
	requires []string
}

// problems collects every mistake in a Config so that Compile can report
// them all at once.
type problems struct{ errs []error }

func (p *problems) add(r *Rule, i int, field, format string, args ...any) {
	where := fmt.Sprintf("schema rule %d (tool %q)", i+1, r.Tool)
	if field != "" {
		where += fmt.Sprintf(", field %q", field)
	}
	p.errs = append(p.errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
}

// Compile prepares every rule of cfg: regexes, globs, allowed values and
// JSON Schemas are checked and compiled here, once, and never at decision
// time. It reports all problems at once, each naming the rule, its tool and
// the field, and saying how to fix it.
func Compile(cfg Config) (*Gate, error) {
	var p problems
	g := &Gate{byTool: map[string]*ruleSet{}}
	var compiled []*compiledRule
	for i := range cfg.Rules {
		r := cfg.Rules[i].clone()
		g.rules = append(g.rules, r)
		if cr := compileRule(&r, i, &p); cr != nil {
			compiled = append(compiled, cr)
		}
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	// Each named tool gets its own rules plus the "*" rules, in policy
	// order, so that a call costs one map lookup.
	var wild []*compiledRule
	for _, cr := range compiled {
		if cr.tool == "*" {
			wild = append(wild, cr)
		}
	}
	g.wildcard = newRuleSet(wild)
	for _, cr := range compiled {
		if cr.tool == "*" || g.byTool[cr.tool] != nil {
			continue
		}
		var rs []*compiledRule
		for _, c := range compiled {
			if c.tool == cr.tool || c.tool == "*" {
				rs = append(rs, c)
			}
		}
		g.byTool[cr.tool] = newRuleSet(rs)
	}
	return g, nil
}

func newRuleSet(rules []*compiledRule) *ruleSet {
	rs := &ruleSet{rules: rules}
	for _, r := range rules {
		for _, s := range r.secrets {
			if !slices.Contains(rs.secrets, s) {
				rs.secrets = append(rs.secrets, s)
			}
		}
	}
	sort.Strings(rs.secrets)
	return rs
}

func compileRule(r *Rule, i int, p *problems) *compiledRule {
	before := len(p.errs)
	if strings.TrimSpace(r.Tool) == "" {
		p.add(r, i, "", `tool is empty; name the host tool ("write_file") or use "*" for every tool`)
	}
	if r.Action < decision.Allow || r.Action > decision.Deny {
		p.add(r, i, "", "action %d is not an action; use notify, confirm or deny", int(r.Action))
	}
	cr := &compiledRule{index: i, tool: r.Tool, action: r.Action}
	if cr.action == decision.Allow {
		cr.action = decision.Deny
	}

	specs := map[string]*fieldSpec{}
	spec := func(name string) *fieldSpec {
		s, ok := specs[name]
		if !ok {
			s = &fieldSpec{name: name}
			specs[name] = s
		}
		return s
	}
	checkName := func(what, name string) bool {
		if strings.TrimSpace(name) == "" {
			p.add(r, i, "", "%s names an empty field; remove it or write the argument's name", what)
			return false
		}
		return true
	}

	for _, f := range r.Required {
		if checkName("required", f) && !slices.Contains(cr.required, f) {
			cr.required = append(cr.required, f)
		}
	}
	for _, f := range sortedKeys(r.Types) {
		if !checkName("types", f) {
			continue
		}
		t := r.Types[f]
		if !slices.Contains(typeNames, t) {
			p.add(r, i, f, "unknown type %q; use one of %s", t, strings.Join(typeNames, ", "))
			continue
		}
		spec(f).typ = t
	}
	for _, f := range sortedKeys(r.AllowedValues) {
		if !checkName("allowed_values", f) {
			continue
		}
		vals := r.AllowedValues[f]
		if len(vals) == 0 {
			p.add(r, i, f, "allowed_values is empty, so no value could pass; list the allowed values or remove the entry")
			continue
		}
		enum := make([]any, 0, len(vals))
		for _, v := range vals {
			c, err := canonical(v, 0)
			if err != nil {
				p.add(r, i, f, "allowed value %s: %v; use strings, numbers, booleans, null, arrays or objects", preview(v), err)
				continue
			}
			enum = append(enum, c)
		}
		spec(f).enum = enum
	}
	for _, f := range sortedKeys(r.Min) {
		if checkName("min", f) {
			s := spec(f)
			s.min, s.hasMin = r.Min[f], true
		}
	}
	for _, f := range sortedKeys(r.Max) {
		if checkName("max", f) {
			s := spec(f)
			s.max, s.hasMax = r.Max[f], true
		}
	}
	for _, f := range sortedKeys(r.MinLength) {
		if checkName("min_length", f) {
			s := spec(f)
			s.minLen, s.hasMinLen = r.MinLength[f], true
		}
	}
	for _, f := range sortedKeys(r.MaxLength) {
		if checkName("max_length", f) {
			s := spec(f)
			s.maxLen, s.hasMaxLen = r.MaxLength[f], true
		}
	}
	for _, f := range sortedKeys(r.Patterns) {
		if !checkName("patterns", f) {
			continue
		}
		re, err := regexp.Compile(r.Patterns[f])
		if err != nil {
			p.add(r, i, f, "pattern %q does not compile: %v; write it in RE2 syntax (no look-around or back-references)", r.Patterns[f], err)
			continue
		}
		spec(f).pattern = re
	}
	for _, f := range r.PathScope {
		if checkName("path_scope", f) {
			spec(f).scope = true
		}
	}
	compileGlobs := func(what string, m map[string][]string, set func(*fieldSpec, []glob)) {
		for _, f := range sortedKeys(m) {
			if !checkName(what, f) {
				continue
			}
			var gs []glob
			for _, src := range m[f] {
				gl := newGlob(src)
				if !gl.valid() {
					p.add(r, i, f, "%s glob %q is not a valid pattern; check for an empty pattern, unclosed [ or { and stray \\", what, src)
					continue
				}
				gs = append(gs, gl)
			}
			set(spec(f), gs)
		}
	}
	compileGlobs("path_allow", r.PathAllow, func(s *fieldSpec, gs []glob) { s.allow = gs })
	compileGlobs("path_deny", r.PathDeny, func(s *fieldSpec, gs []glob) { s.deny = gs })
	for _, f := range sortedKeys(r.MaxSize) {
		if !checkName("max_size", f) {
			continue
		}
		if r.MaxSize[f] <= 0 {
			p.add(r, i, f, "max_size %d must be a positive number of bytes", r.MaxSize[f])
			continue
		}
		spec(f).maxSize = r.MaxSize[f]
	}
	for _, f := range r.Secrets {
		if checkName("secrets", f) && !slices.Contains(cr.secrets, f) {
			cr.secrets = append(cr.secrets, f)
		}
	}
	for _, f := range sortedKeys(r.DependsOn) {
		if !checkName("depends_on", f) {
			continue
		}
		var req []string
		for _, d := range r.DependsOn[f] {
			if checkName("depends_on", d) && d != f && !slices.Contains(req, d) {
				req = append(req, d)
			}
		}
		if len(req) == 0 {
			p.add(r, i, f, "depends_on lists no other field; name the fields it requires or remove the entry")
			continue
		}
		cr.dependsOn = append(cr.dependsOn, dependency{field: f, requires: req})
	}
	for gi, group := range r.MutuallyExclusive {
		var g []string
		for _, f := range group {
			if checkName("mutually_exclusive", f) && !slices.Contains(g, f) {
				g = append(g, f)
			}
		}
		if len(g) < 2 {
			p.add(r, i, "", "mutually_exclusive group %d has fewer than two distinct fields; list at least two", gi+1)
			continue
		}
		cr.exclusive = append(cr.exclusive, g)
	}

	// Bounds that contradict each other would refuse every call.
	for _, f := range sortedKeys(specs) {
		s := specs[f]
		if (s.hasMin && math.IsNaN(s.min)) || (s.hasMax && math.IsNaN(s.max)) {
			p.add(r, i, f, "min or max is not a number")
		}
		if s.hasMin && s.hasMax && s.min > s.max {
			p.add(r, i, f, "min %s is greater than max %s; swap them", fmtNum(s.min), fmtNum(s.max))
		}
		if (s.hasMinLen && s.minLen < 0) || (s.hasMaxLen && s.maxLen < 0) {
			p.add(r, i, f, "min_length and max_length must not be negative")
		}
		if s.hasMinLen && s.hasMaxLen && s.minLen > s.maxLen {
			p.add(r, i, f, "min_length %d is greater than max_length %d; swap them", s.minLen, s.maxLen)
		}
		cr.fields = append(cr.fields, *s)
	}

	if sch := bytes.TrimSpace(r.JSONSchema); len(sch) > 0 && !bytes.Equal(sch, []byte("null")) {
		s, err := compileSchema(sch, i)
		if err != nil {
			p.add(r, i, "", "json_schema does not compile: %s; fix the schema (draft 2020-12 unless \"$schema\" says otherwise, no external $ref)", oneLine(err.Error()))
		}
		cr.schema = s
	}
	if len(p.errs) > before {
		return nil
	}
	return cr
}

// noLoader refuses every external reference: a policy must be
// self-contained, and the gate does no I/O.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external schemas are not loaded (%s); inline the definition under $defs", url)
}

func compileSchema(raw []byte, i int) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	loc := fmt.Sprintf("sentinel:///schema/rule-%d.json", i+1)
	if err := c.AddResource(loc, doc); err != nil {
		return nil, err
	}
	return c.Compile(loc)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func fmtNum(f float64) string {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Sprint(f)
	}
	return string(b)
}
