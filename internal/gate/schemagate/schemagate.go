// Package schemagate is Sentinel's schema gate: it checks the arguments of a
// tool call, as the host sent them, against the tool's declared schema. It
// implements the seed's twelve Schema Gate checks (required, types,
// allowed values, numeric ranges, lengths, patterns, workspace scope, path
// allow and deny globs, conditional requirements, mutually exclusive
// fields, maximum sizes and secret fields) and, for tools that declare one
// (MCP tools do), a JSON Schema for the whole arguments object.
//
// Everything is compiled once by Compile; a check only evaluates, with work
// bounded by the size of the call. Violations are reasons in the verdict,
// never errors. Secret fields never cause a rejection: they are reported so
// that logs and the audit trail redact them.
//
// The gate must never do I/O: no network, no storage, not even the file
// system (path checks are lexical; symbolic links are the path gate's
// business), and JSON Schemas may not reference external documents.
package schemagate

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
)

// Name is the gate's name in reasons.
const Name = "schema"

// Reason codes, stable for clients and tests.
const (
	CodeRequired          = "schema.required"
	CodeType              = "schema.type"
	CodeEnum              = "schema.enum"
	CodeRange             = "schema.range"
	CodeLength            = "schema.length"
	CodePattern           = "schema.pattern"
	CodePathScope         = "schema.path_scope"
	CodePathAllow         = "schema.path_allow"
	CodePathDeny          = "schema.path_deny"
	CodeDependsOn         = "schema.depends_on"
	CodeMutuallyExclusive = "schema.mutually_exclusive"
	CodeMaxSize           = "schema.max_size"
	CodeJSONSchema        = "schema.json_schema"
)

// Gate is a compiled set of schema rules. It is safe for concurrent use.
type Gate struct {
	rules    []Rule
	byTool   map[string]*ruleSet
	wildcard *ruleSet
}

// ruleSet is every rule that applies to one tool, in policy order, with
// the union of their secret fields.
type ruleSet struct {
	rules   []*compiledRule
	secrets []string
}

var _ gate.Gate = (*Gate)(nil)

// Result is the outcome of Validate, the seed's `sentinel validate`.
type Result struct {
	// Pass is true when no rule was violated.
	Pass   bool         `json:"pass"`
	Errors []FieldError `json:"errors,omitempty"`
	// Redact lists the secret fields present in the arguments, sorted:
	// their values must not reach logs or the audit trail.
	Redact []string `json:"redact,omitempty"`
}

// FieldError is one violation.
type FieldError struct {
	// Field is the argument concerned: "" for the arguments as a whole,
	// "a,b" for a mutually exclusive group, "a.0.b" for a nested value
	// reported by a JSON Schema.
	Field string `json:"field"`
	Code  string `json:"code"`
	// Message is short and safe to show to the agent.
	Message string `json:"message"`
	// Action is what the violated rule asks for.
	Action decision.Action `json:"-"`
	// Detail is for operators: the rule, and the value unless it is secret.
	Detail string `json:"-"`
}

// Name returns "schema".
func (g *Gate) Name() string { return Name }

// Rules returns a copy of the rules the gate was compiled from.
func (g *Gate) Rules() []Rule {
	out := make([]Rule, len(g.rules))
	for i, r := range g.rules {
		out[i] = r.clone()
	}
	return out
}

// SecretFields returns the fields of tool whose values must be redacted,
// sorted, from its own rules and the "*" rules.
func (g *Gate) SecretFields(tool string) []string {
	return slices.Clone(g.set(tool).secrets)
}

func (g *Gate) set(tool string) *ruleSet {
	if rs, ok := g.byTool[tool]; ok {
		return rs
	}
	return g.wildcard
}

// Check judges a call's original arguments (in.Call.Original, or
// in.Call.Args when the host sent none) against the rules for the host
// tool name in.Call.Tool and the "*" rules.
func (g *Gate) Check(_ context.Context, in *gate.Input) (gate.Verdict, error) {
	var v gate.Verdict
	if in == nil || in.Call == nil {
		return v, errors.New("schema gate: the input carries no call")
	}
	args := in.Call.Original
	if args == nil {
		args = in.Call.Args
	}
	res := g.Validate(in.Call.Tool, args, in.Env)
	for _, e := range res.Errors {
		v.Add(decision.Reason{Gate: Name, Code: e.Code, Message: e.Message, Action: e.Action, Detail: e.Detail})
	}
	if len(res.Redact) > 0 {
		v.Notes = append(v.Notes, "secret fields to redact in logs: "+strings.Join(res.Redact, ", "))
	}
	return v, nil
}

// Validate checks args against the rules for tool and the "*" rules. env
// is used to resolve path fields.
func (g *Gate) Validate(tool string, args map[string]any, env gate.Env) Result {
	rs := g.set(tool)
	if rs == nil { // a Gate not made by Compile has no rules
		return Result{Pass: true}
	}
	c := checker{tool: displayTool(tool), env: env, secrets: rs.secrets}
	for _, r := range rs.rules {
		c.rule = r
		c.run(args)
	}
	for _, s := range rs.secrets {
		if _, ok := args[s]; ok {
			c.res.Redact = append(c.res.Redact, s)
		}
	}
	c.res.Pass = len(c.res.Errors) == 0
	return c.res
}

// displayTool is the tool name as messages show it: "*" rules see any
// name a caller passes, and a name with control characters or of great
// length must not shape the text an agent reads.
func displayTool(tool string) string {
	if len(tool) <= 128 {
		clean := true
		for _, r := range tool {
			if !unicode.IsPrint(r) || r == ' ' {
				clean = false
				break
			}
		}
		if clean && tool != "" {
			return tool
		}
	}
	return strconv.Quote(truncate(tool, 128))
}

// checker evaluates the rules for one call.
type checker struct {
	tool    string
	env     gate.Env
	secrets []string
	rule    *compiledRule
	res     Result
}

func (c *checker) add(field, code, msg, detail string) {
	c.res.Errors = append(c.res.Errors, FieldError{
		Field: field, Code: code, Message: msg, Action: c.rule.action,
		Detail: fmt.Sprintf("schema rule %d (tool %q): %s", c.rule.index+1, c.rule.tool, detail),
	})
}

// value renders a field's value for operators, unless it is secret.
func (c *checker) value(field string, v any) string {
	if slices.Contains(c.secrets, field) {
		return "value redacted (secret field)"
	}
	return "value " + preview(v)
}

func (c *checker) pathDetail(field, abs string) string {
	if slices.Contains(c.secrets, field) {
		return "path redacted (secret field)"
	}
	return "resolves to " + abs
}

func (c *checker) run(args map[string]any) {
	r := c.rule
	for _, f := range r.required {
		if v, ok := args[f]; !ok || v == nil {
			c.add(f, CodeRequired, fmt.Sprintf("field %q is required for %s; add it", f, c.tool), "field is absent or null")
		}
	}
	for i := range r.fields {
		s := &r.fields[i]
		if v := args[s.name]; v != nil {
			c.field(s, v)
		}
	}
	for _, d := range r.dependsOn {
		if !truthy(args[d.field]) {
			continue
		}
		for _, q := range d.requires {
			if v, ok := args[q]; !ok || v == nil {
				c.add(q, CodeDependsOn,
					fmt.Sprintf("field %q is required for %s when %q is set; add it or unset %q", q, c.tool, d.field, d.field),
					fmt.Sprintf("%q is set, %q is absent or null", d.field, q))
			}
		}
	}
	for _, group := range r.exclusive {
		n := 0
		for _, f := range group {
			if args[f] != nil {
				n++
			}
		}
		if n < 2 {
			continue
		}
		present := make([]string, 0, n)
		for _, f := range group {
			if args[f] != nil {
				present = append(present, f)
			}
		}
		c.add(strings.Join(present, ","), CodeMutuallyExclusive,
			fmt.Sprintf("fields %s of %s cannot be used together; send only one of them", quoteList(present), c.tool),
			"exclusive group "+quoteList(group))
	}
	if r.schema != nil {
		c.jsonSchema(args)
	}
}

func (c *checker) field(s *fieldSpec, v any) {
	name := s.name
	if s.typ != "" && !hasType(v, s.typ) {
		got := kindName(kindOf(v))
		if s.typ == "integer" && kindOf(v) == kindNumber {
			got = "a number with a fraction"
		}
		c.add(name, CodeType,
			fmt.Sprintf("field %q of %s must be %s, got %s", name, c.tool, typeArticle(s.typ), got),
			c.value(name, v))
		return // the value checks below would only repeat the problem
	}
	if s.enum != nil && !inEnum(v, s.enum) {
		c.add(name, CodeEnum,
			fmt.Sprintf("field %q of %s must be one of %s", name, c.tool, valueList(s.enum)),
			c.value(name, v))
	}
	if s.hasMin || s.hasMax {
		n, ok := toNumber(v)
		switch {
		case !ok:
			c.add(name, CodeRange,
				fmt.Sprintf("field %q of %s must be a number %s, got %s", name, c.tool, bounds(s), kindName(kindOf(v))),
				c.value(name, v))
		case (s.hasMin && n < s.min) || (s.hasMax && n > s.max):
			c.add(name, CodeRange,
				fmt.Sprintf("field %q of %s must be %s", name, c.tool, bounds(s)),
				c.value(name, v))
		}
	}
	if s.hasMinLen || s.hasMaxLen {
		n, ok := lengthOf(v)
		unit := "characters"
		if kindOf(v) == kindArray {
			unit = "elements"
		}
		switch {
		case !ok:
			c.add(name, CodeLength,
				fmt.Sprintf("field %q of %s must be a string or an array with %s, got %s", name, c.tool, lengthBounds(s, "characters or elements"), kindName(kindOf(v))),
				c.value(name, v))
		case (s.hasMinLen && n < s.minLen) || (s.hasMaxLen && n > s.maxLen):
			c.add(name, CodeLength,
				fmt.Sprintf("field %q of %s must have %s, it has %d", name, c.tool, lengthBounds(s, unit), n),
				c.value(name, v))
		}
	}
	if s.pattern != nil {
		t, ok := patternText(v)
		if !ok || !s.pattern.MatchString(t) {
			got := ""
			if !ok {
				got = ", got " + kindName(kindOf(v))
			}
			c.add(name, CodePattern,
				fmt.Sprintf("field %q of %s must match the pattern %q%s", name, c.tool, s.pattern.String(), got),
				c.value(name, v))
		}
	}
	if s.maxSize > 0 {
		n, ok := sizeOf(v)
		switch {
		case !ok:
			c.add(name, CodeMaxSize,
				fmt.Sprintf("field %q of %s cannot be measured: it is not a JSON value", name, c.tool),
				fmt.Sprintf("Go type %T", v))
		case n > s.maxSize:
			c.add(name, CodeMaxSize,
				fmt.Sprintf("field %q of %s is %d bytes, the limit is %d; send less", name, c.tool, n, s.maxSize),
				fmt.Sprintf("%d bytes", n))
		}
	}
	if s.hasPathChecks() {
		c.paths(s, v)
	}
}

// paths runs the path checks of a field on each path it carries, reporting
// at most one violation per check and field.
func (c *checker) paths(s *fieldSpec, v any) {
	name := s.name
	firstCode := CodePathAllow
	switch {
	case s.scope:
		firstCode = CodePathScope
	case len(s.deny) > 0:
		firstCode = CodePathDeny
	}
	var doneScope, doneDeny, doneAllow, doneProblem bool
	ok := forEachPath(v, func(raw string) {
		r, problem := resolvePath(raw, c.env)
		if problem != "" {
			if !doneProblem {
				doneProblem = true
				c.add(name, firstCode,
					fmt.Sprintf("field %q of %s %s", name, c.tool, problem),
					c.value(name, raw))
			}
			return
		}
		if s.scope && !doneScope {
			switch {
			case c.env.Workspace == "":
				doneScope = true
				c.add(name, CodePathScope,
					fmt.Sprintf("field %q of %s must stay inside the workspace, but no workspace is configured", name, c.tool),
					c.pathDetail(name, r.abs))
			case !r.inside:
				doneScope = true
				c.add(name, CodePathScope,
					fmt.Sprintf("field %q of %s must stay inside the workspace; use a path under it", name, c.tool),
					c.pathDetail(name, r.abs)+", outside the workspace "+c.env.Workspace)
			}
		}
		if !doneDeny {
			for _, gl := range s.deny {
				if gl.match(r, c.env) {
					doneDeny = true
					c.add(name, CodePathDeny,
						fmt.Sprintf("field %q of %s names a protected file (matches %q); choose another path", name, c.tool, gl.src),
						c.pathDetail(name, r.abs))
					break
				}
			}
		}
		if len(s.allow) > 0 && !doneAllow {
			for _, gl := range s.allow {
				if gl.match(r, c.env) {
					return
				}
			}
			doneAllow = true
			c.add(name, CodePathAllow,
				fmt.Sprintf("field %q of %s must match one of %s", name, c.tool, globList(s.allow)),
				c.pathDetail(name, r.abs))
		}
	})
	if !ok {
		c.add(name, firstCode,
			fmt.Sprintf("field %q of %s must be a path or a list of at most %d paths, got %s", name, c.tool, maxPathValues, kindName(kindOf(v))),
			c.value(name, v))
	}
}

func (c *checker) jsonSchema(args map[string]any) {
	var root any = args
	if args == nil {
		root = map[string]any{}
	}
	v, _, err := jsonValue(root, 0)
	if err != nil {
		c.add("", CodeJSONSchema,
			fmt.Sprintf("arguments of %s cannot be checked against its schema: %v", c.tool, err), err.Error())
		return
	}
	err = validateSchema(c.rule.schema, v)
	if err == nil {
		return
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		c.add("", CodeJSONSchema,
			fmt.Sprintf("arguments of %s could not be checked against its schema", c.tool), err.Error())
		return
	}
	errs := c.schemaErrors(ve)
	sort.Slice(errs, func(i, j int) bool {
		if errs[i].Field != errs[j].Field {
			return errs[i].Field < errs[j].Field
		}
		return errs[i].Message < errs[j].Message
	})
	if len(errs) > maxSchemaErrors {
		errs = errs[:maxSchemaErrors]
	}
	for _, e := range errs {
		c.add(e.Field, CodeJSONSchema, e.Message, e.Detail)
	}
}

// validateSchema runs the validator, turning a panic in it into an error:
// the gate then refuses the call instead of crashing the chain's caller.
func validateSchema(s *jsonschema.Schema, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("JSON Schema validator failed: %v", p)
		}
	}()
	return s.Validate(v)
}

// schemaErrors flattens a validation error into one entry per failing
// keyword (the leaves of the error tree).
func (c *checker) schemaErrors(root *jsonschema.ValidationError) []FieldError {
	var out []FieldError
	stack := []*jsonschema.ValidationError{root}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if len(e.Causes) > 0 {
			stack = append(stack, e.Causes...)
			continue
		}
		detail := "JSON Schema keyword " + e.SchemaURL + "/" + strings.Join(e.ErrorKind.KeywordPath(), "/")
		switch k := e.ErrorKind.(type) {
		case *kind.Required:
			for _, m := range k.Missing {
				f := joinLoc(e.InstanceLocation, m)
				out = append(out, FieldError{Field: f, Detail: detail,
					Message: fmt.Sprintf("field %q is required by the schema of %s; add it", f, c.tool)})
			}
			continue
		case *kind.AdditionalProperties:
			for _, p := range k.Properties {
				f := joinLoc(e.InstanceLocation, p)
				out = append(out, FieldError{Field: f, Detail: detail,
					Message: fmt.Sprintf("field %q is not allowed by the schema of %s; remove it", f, c.tool)})
			}
			continue
		}
		f := joinLoc(e.InstanceLocation, "")
		msg := leafMessage(e)
		if len(e.InstanceLocation) > 0 && slices.Contains(c.secrets, e.InstanceLocation[0]) {
			// Some keyword messages quote the value; a secret's must not
			// reach the agent or the audit trail.
			msg = "the value does not satisfy the schema (secret field, details redacted)"
		}
		where := ""
		if f != "" {
			where = fmt.Sprintf(" at %q", f)
		}
		out = append(out, FieldError{Field: f, Detail: detail,
			Message: fmt.Sprintf("arguments of %s do not match its schema%s: %s", c.tool, where, msg)})
	}
	return out
}

func leafMessage(e *jsonschema.ValidationError) string {
	o := e.BasicOutput()
	if o == nil || o.Error == nil {
		return "invalid value"
	}
	return truncate(oneLine(o.Error.String()), 200)
}

func joinLoc(loc []string, last string) string {
	parts := loc
	if last != "" {
		parts = append(slices.Clip(loc), last)
	}
	return strings.Join(parts, ".")
}

func inEnum(v any, enum []any) bool {
	switch kindOf(v) {
	case kindNumber:
		n, _ := toNumber(v)
		for _, e := range enum {
			if f, ok := e.(float64); ok && f == n {
				return true
			}
		}
	case kindString:
		s, ok := v.(string)
		if !ok {
			return false
		}
		for _, e := range enum {
			if t, ok := e.(string); ok && t == s {
				return true
			}
		}
	case kindBool:
		b := v.(bool)
		for _, e := range enum {
			if t, ok := e.(bool); ok && t == b {
				return true
			}
		}
	case kindArray, kindObject:
		cv, err := canonical(v, 0)
		if err != nil {
			return false
		}
		for _, e := range enum {
			if reflect.DeepEqual(cv, e) {
				return true
			}
		}
	}
	return false
}

func typeArticle(t string) string {
	switch t {
	case "integer", "object", "array":
		return "an " + t
	}
	return "a " + t
}

func bounds(s *fieldSpec) string {
	switch {
	case s.hasMin && s.hasMax:
		return fmt.Sprintf("between %s and %s", fmtNum(s.min), fmtNum(s.max))
	case s.hasMin:
		return "at least " + fmtNum(s.min)
	}
	return "at most " + fmtNum(s.max)
}

func lengthBounds(s *fieldSpec, unit string) string {
	switch {
	case s.hasMinLen && s.hasMaxLen:
		return fmt.Sprintf("between %d and %d %s", s.minLen, s.maxLen, unit)
	case s.hasMinLen:
		return fmt.Sprintf("at least %d %s", s.minLen, unit)
	}
	return fmt.Sprintf("at most %d %s", s.maxLen, unit)
}

// listMax bounds the items a message lists.
const listMax = 8

func quoteList(xs []string) string {
	var b strings.Builder
	for i, x := range xs {
		if i == listMax {
			fmt.Fprintf(&b, " and %d more", len(xs)-listMax)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", x)
	}
	return b.String()
}

func valueList(vals []any) string {
	xs := make([]string, len(vals))
	for i, v := range vals {
		xs[i] = preview(v)
	}
	if len(xs) > listMax {
		return strings.Join(xs[:listMax], ", ") + fmt.Sprintf(" and %d more", len(xs)-listMax)
	}
	return strings.Join(xs, ", ")
}

func globList(gs []glob) string {
	xs := make([]string, len(gs))
	for i, g := range gs {
		xs[i] = g.src
	}
	return quoteList(xs)
}
