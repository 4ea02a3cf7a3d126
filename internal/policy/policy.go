// Package policy is Sentinel's policy file: the YAML model, Parse (decode
// with line numbers, unknown fields are errors), Validate (pure, reports
// every problem at once), the built-in recommended policy embedded in the
// binary, the importer for the seed's guard-rules.json, and Compile, which
// turns a valid policy into prepared gates.
//
// Parse and Validate never touch the file system or the network; Compile
// only prepares (regexes, globs, CEL programs, JSON Schemas) and does not
// evaluate anything.
package policy

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sentinel-agent/sentinel/internal/yamlpos"

	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/request"
	"github.com/sentinel-agent/sentinel/internal/sandbox/profile"
)

// Version is the only policy file version this build understands.
const Version = 1

// MaxFileSize bounds a policy file.
const MaxFileSize = 4 << 20

// Policy is the policy file model.
type Policy struct {
	Version     int    `yaml:"version" json:"version"`
	Name        string `yaml:"name,omitempty" json:"name,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Extends "builtin" layers this file over the built-in recommended
	// policy: lists are appended, maps and scalars override.
	Extends  string    `yaml:"extends,omitempty" json:"extends,omitempty"`
	Defaults Defaults  `yaml:"defaults,omitempty" json:"defaults"`
	Risk     Risk      `yaml:"risk,omitempty" json:"risk"`
	Paths    Paths     `yaml:"paths,omitempty" json:"paths"`
	Command  Command   `yaml:"command,omitempty" json:"command"`
	Egress   Egress    `yaml:"egress,omitempty" json:"egress"`
	Sandbox  Sandbox   `yaml:"sandbox,omitempty" json:"sandbox"`
	Taint    Taint     `yaml:"taint,omitempty" json:"taint"`
	Tools    []Tool    `yaml:"tools,omitempty" json:"tools,omitempty"`
	Rules    []Rule    `yaml:"rules,omitempty" json:"rules,omitempty"`
	source   string    // file name for messages
	lines    lineIndex // yaml path → line, for messages
}

// Defaults are the kernel's fall-back actions.
type Defaults struct {
	// UnknownTool is the action for a tool no adapter or declaration knows.
	UnknownTool string `yaml:"unknown_tool,omitempty" json:"unknown_tool,omitempty"`
	// Unparseable is the action for a shell command that cannot be parsed.
	Unparseable string `yaml:"unparseable,omitempty" json:"unparseable,omitempty"`
	// Unresolved is the least action for a command with parts that could
	// not be resolved statically.
	Unresolved string `yaml:"unresolved,omitempty" json:"unresolved,omitempty"`
	// MaxArgBytes bounds the JSON size of a call's arguments.
	MaxArgBytes int `yaml:"max_arg_bytes,omitempty" json:"max_arg_bytes,omitempty"`
	// Timeout bounds one decision, as a Go duration ("50ms").
	Timeout string `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Risk configures the risk gate.
type Risk struct {
	Thresholds *Thresholds `yaml:"thresholds,omitempty" json:"thresholds,omitempty"`
}

// Thresholds are the risk score cut-offs.
type Thresholds struct {
	Auto   float64 `yaml:"auto" json:"auto"`
	Notify float64 `yaml:"notify" json:"notify"`
	Deny   float64 `yaml:"deny" json:"deny"`
}

// Paths configures the path gate.
type Paths struct {
	Sensitive           []string          `yaml:"sensitive,omitempty" json:"sensitive,omitempty"`
	SensitiveExceptions []string          `yaml:"sensitive_exceptions,omitempty" json:"sensitive_exceptions,omitempty"`
	Protected           []string          `yaml:"protected,omitempty" json:"protected,omitempty"`
	WriteScope          []string          `yaml:"write_scope,omitempty" json:"write_scope,omitempty"`
	Actions             map[string]string `yaml:"actions,omitempty" json:"actions,omitempty"`
}

// PathActionKeys are the keys of paths.actions.
var PathActionKeys = []string{"outside_write", "system_write", "sensitive_read", "sensitive_write", "protected", "dynamic_write"}

// Command configures the command gate.
type Command struct {
	// Actions overrides a finding's default action by code.
	Actions map[string]string `yaml:"actions,omitempty" json:"actions,omitempty"`
	// Disabled lists finding codes that produce no reason.
	Disabled []string `yaml:"disabled,omitempty" json:"disabled,omitempty"`
}

// Egress configures the egress gate.
type Egress struct {
	Allow          []string          `yaml:"allow,omitempty" json:"allow,omitempty"`
	Deny           []string          `yaml:"deny,omitempty" json:"deny,omitempty"`
	Default        string            `yaml:"default,omitempty" json:"default,omitempty"`
	BlockPrivate   *bool             `yaml:"block_private,omitempty" json:"block_private,omitempty"`
	AllowedSchemes []string          `yaml:"allowed_schemes,omitempty" json:"allowed_schemes,omitempty"`
	Actions        map[string]string `yaml:"actions,omitempty" json:"actions,omitempty"`
}

// Taint configures the rule of two across a session's calls.
type Taint struct {
	// Action is what a call with an external effect gets in a session
	// that saw untrusted content and read sensitive data: confirm (the
	// default), deny, notify, or allow to turn the rule off.
	Action string `yaml:"action,omitempty" json:"action,omitempty"`
}

// Sandbox holds the sandbox profiles by name.
type Sandbox struct {
	Profiles map[string]profile.Profile `yaml:"profiles,omitempty" json:"profiles,omitempty"`
}

// SandboxProfile returns the named profile: the policy's, with what it
// leaves unset taken from the built-in default, or the built-in default
// itself for "default" (or "") when the policy does not replace it.
func (p *Policy) SandboxProfile(name string) (profile.Profile, error) {
	if name == "" {
		name = profile.DefaultName
	}
	if pr, ok := p.Sandbox.Profiles[name]; ok {
		return pr.WithDefaults(), nil
	}
	if name == profile.DefaultName {
		return profile.Default(), nil
	}
	names := []string{profile.DefaultName}
	for n := range p.Sandbox.Profiles {
		if n != profile.DefaultName {
			names = append(names, n)
		}
	}
	sort.Strings(names[1:])
	return profile.Profile{}, fmt.Errorf("no sandbox profile %q in the policy; known: %s", name, strings.Join(names, ", "))
}

// validProfileName is a sandbox profile's name: lower case letters,
// digits, '-' and '_'.
var validProfileName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// EgressActionKeys are the keys of egress.actions.
var EgressActionKeys = []string{"private", "metadata", "listen", "send_unknown", "secret"}

// Tool declares a tool: its kind (for custom tools) and its schema checks.
type Tool struct {
	Tool              string              `yaml:"tool" json:"tool"`
	Kind              string              `yaml:"kind,omitempty" json:"kind,omitempty"`
	Required          []string            `yaml:"required,omitempty" json:"required,omitempty"`
	Types             map[string]string   `yaml:"types,omitempty" json:"types,omitempty"`
	AllowedValues     map[string][]any    `yaml:"allowed_values,omitempty" json:"allowed_values,omitempty"`
	Min               map[string]float64  `yaml:"min,omitempty" json:"min,omitempty"`
	Max               map[string]float64  `yaml:"max,omitempty" json:"max,omitempty"`
	MinLength         map[string]int      `yaml:"min_length,omitempty" json:"min_length,omitempty"`
	MaxLength         map[string]int      `yaml:"max_length,omitempty" json:"max_length,omitempty"`
	Patterns          map[string]string   `yaml:"patterns,omitempty" json:"patterns,omitempty"`
	PathScope         []string            `yaml:"path_scope,omitempty" json:"path_scope,omitempty"`
	PathAllow         map[string][]string `yaml:"path_allow,omitempty" json:"path_allow,omitempty"`
	PathDeny          map[string][]string `yaml:"path_deny,omitempty" json:"path_deny,omitempty"`
	DependsOn         map[string][]string `yaml:"depends_on,omitempty" json:"depends_on,omitempty"`
	MutuallyExclusive [][]string          `yaml:"mutually_exclusive,omitempty" json:"mutually_exclusive,omitempty"`
	MaxSize           map[string]int      `yaml:"max_size,omitempty" json:"max_size,omitempty"`
	Secrets           []string            `yaml:"secrets,omitempty" json:"secrets,omitempty"`
	// JSONSchema is a JSON Schema for the whole arguments object, written
	// inline as YAML or JSON.
	JSONSchema any    `yaml:"json_schema,omitempty" json:"json_schema,omitempty"`
	Action     string `yaml:"action,omitempty" json:"action,omitempty"`
}

// Rule is a user rule: a CEL expression with an action, a reason and
// examples it must and must not match.
type Rule struct {
	ID          string    `yaml:"id" json:"id"`
	Description string    `yaml:"description,omitempty" json:"description,omitempty"`
	When        string    `yaml:"when" json:"when"`
	Action      string    `yaml:"action" json:"action"`
	Reason      string    `yaml:"reason" json:"reason"`
	Alternative string    `yaml:"alternative,omitempty" json:"alternative,omitempty"`
	Match       []Example `yaml:"match,omitempty" json:"match,omitempty"`
	NotMatch    []Example `yaml:"not_match,omitempty" json:"not_match,omitempty"`
}

// Example is a call used to test a rule.
type Example struct {
	Tool string         `yaml:"tool" json:"tool"`
	Args map[string]any `yaml:"args" json:"args"`
}

// Problem is one thing wrong with a policy file.
type Problem struct {
	File    string
	Line    int
	Path    string // "rules[2].when"
	Message string
}

func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is a list of problems; it is an error.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "\n")
}

//go:embed builtin.yaml
var builtinYAML []byte

// BuiltinSource returns the built-in recommended policy as YAML.
func BuiltinSource() []byte { return bytes.Clone(builtinYAML) }

// Builtin parses the built-in recommended policy. It panics only if the
// embedded file is broken, which the tests rule out.
func Builtin() *Policy {
	p, err := Parse("builtin.yaml", builtinYAML)
	if err != nil {
		panic("policy: built-in policy does not parse: " + err.Error())
	}
	return p
}

// Load reads a policy file: YAML (.yaml, .yml), or the seed's
// guard-rules.json (a JSON file whose top level has "dangerous",
// "warning", "sensitiveFiles", "protectedFiles" or "schema").
func Load(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read policy %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("policy %s is larger than %d bytes", path, MaxFileSize)
	}
	if IsSeedRules(data) {
		return ParseSeedRules(filepath.Base(path), data)
	}
	return Parse(filepath.Base(path), data)
}

// Parse decodes a YAML policy, resolves "extends: builtin", and validates
// it. Every problem is reported, with file:line where the YAML gives one.
func Parse(name string, data []byte) (*Policy, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: policy is larger than %d bytes", name, MaxFileSize)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{{File: name, Message: "not valid YAML: " + cleanYAMLErr(err)}}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, Problems{{File: name, Message: "the policy file is empty; start it with \"version: 1\""}}
	}
	p := &Policy{source: name, lines: indexLines(&root)}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		return nil, yamlProblems(name, err)
	}
	if p.Extends != "" {
		if p.Extends != "builtin" {
			return nil, Problems{{File: name, Line: p.lines["extends"], Path: "extends", Message: fmt.Sprintf("unknown base %q; the only base is \"builtin\"", p.Extends)}}
		}
		p = merge(Builtin(), p)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+): (.*)`)

func yamlProblems(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var ps Problems
		for _, e := range te.Errors {
			line := 0
			msg := e
			if m := yamlLineRE.FindStringSubmatch(e); m != nil {
				fmt.Sscanf(m[1], "%d", &line)
				msg = m[2]
			}
			if strings.Contains(msg, "not found in type") {
				field := strings.TrimPrefix(msg, "field ")
				field = field[:strings.Index(field, " not found")]
				msg = fmt.Sprintf("unknown field %q; check the spelling against api/policy.schema.json", field)
			}
			ps = append(ps, Problem{File: name, Line: line, Message: msg})
		}
		return ps
	}
	return Problems{{File: name, Message: cleanYAMLErr(err)}}
}

func cleanYAMLErr(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// lineIndex maps dotted YAML paths ("rules[1].when") to line numbers.
type lineIndex = yamlpos.Lines

func indexLines(root *yaml.Node) lineIndex { return yamlpos.Index(root, 32) }

func (p *Policy) problem(path, format string, args ...any) Problem {
	line := 0
	if p.lines != nil {
		// Walk up the path until a line is known.
		for q := path; q != ""; {
			if l, ok := p.lines[q]; ok {
				line = l
				break
			}
			i := strings.LastIndexAny(q, ".[")
			if i < 0 {
				break
			}
			q = q[:i]
		}
	}
	return Problem{File: p.source, Line: line, Path: path, Message: fmt.Sprintf(format, args...)}
}

var ruleIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// Validate checks the policy without changing it and returns every problem
// it finds (as Problems), or nil. It does not compile expressions or
// patterns; Compile does, and reports their errors the same way.
func (p *Policy) Validate() error {
	var ps Problems
	add := func(path, format string, args ...any) { ps = append(ps, p.problem(path, format, args...)) }
	if p.Version != Version {
		if p.Version == 0 {
			add("version", "missing \"version: %d\" at the top of the policy", Version)
		} else {
			add("version", "unsupported version %d; this build reads version %d", p.Version, Version)
		}
	}
	checkAction := func(path, s string) {
		if s == "" {
			return
		}
		if _, err := decision.ParseAction(s); err != nil {
			add(path, "%v", err)
		}
	}
	checkAction("defaults.unknown_tool", p.Defaults.UnknownTool)
	checkAction("defaults.unparseable", p.Defaults.Unparseable)
	checkAction("defaults.unresolved", p.Defaults.Unresolved)
	if p.Defaults.MaxArgBytes < 0 {
		add("defaults.max_arg_bytes", "must not be negative")
	}
	if p.Defaults.Timeout != "" {
		if _, err := parseDuration(p.Defaults.Timeout); err != nil {
			add("defaults.timeout", "%v", err)
		}
	}
	if t := p.Risk.Thresholds; t != nil {
		if !(t.Auto >= 0 && t.Auto <= t.Notify && t.Notify <= t.Deny) {
			add("risk.thresholds", "thresholds must satisfy 0 ≤ auto ≤ notify ≤ deny, got auto=%g notify=%g deny=%g", t.Auto, t.Notify, t.Deny)
		}
	}
	checkKeys := func(path string, m map[string]string, keys []string) {
		for _, k := range sortedKeys(m) {
			if !contains(keys, k) {
				add(path+"."+k, "unknown key %q (want one of %s)", k, strings.Join(keys, ", "))
				continue
			}
			checkAction(path+"."+k, m[k])
		}
	}
	checkKeys("paths.actions", p.Paths.Actions, PathActionKeys)
	checkKeys("egress.actions", p.Egress.Actions, EgressActionKeys)
	for _, k := range sortedKeys(p.Command.Actions) {
		if !strings.HasPrefix(k, "command.") {
			add("command.actions."+k, "finding codes start with \"command.\"")
		}
		checkAction("command.actions."+k, p.Command.Actions[k])
	}
	checkAction("egress.default", p.Egress.Default)
	checkAction("taint.action", p.Taint.Action)
	for _, name := range sortedKeys(p.Sandbox.Profiles) {
		path := "sandbox.profiles." + name
		if !validProfileName.MatchString(name) {
			add(path, "profile name %q: use lower case letters, digits, '-' and '_'", name)
			continue
		}
		// Resolved against stand-in paths: what is checked here is the
		// profile's shape; its paths are checked again when it runs.
		if _, err := p.Sandbox.Profiles[name].Resolve(name, profile.Vars{Workspace: "/workspace", Home: "/home/user", DataDir: "/data"}); err != nil {
			for _, e := range strings.Split(err.Error(), "\n") {
				add(path, "%s", e)
			}
		}
	}
	seenTool := map[string]bool{}
	for i, t := range p.Tools {
		path := fmt.Sprintf("tools[%d]", i)
		if t.Tool == "" {
			add(path+".tool", "a tool declaration needs a \"tool\" name (\"*\" for every tool)")
		} else if seenTool[t.Tool] {
			add(path+".tool", "tool %q is declared twice; merge the two declarations", t.Tool)
		}
		seenTool[t.Tool] = true
		if t.Kind != "" {
			if _, err := request.ParseKind(t.Kind); err != nil {
				add(path+".kind", "%v", err)
			}
		}
		checkAction(path+".action", t.Action)
	}
	seenRule := map[string]bool{}
	for i, r := range p.Rules {
		path := fmt.Sprintf("rules[%d]", i)
		switch {
		case r.ID == "":
			add(path+".id", "a rule needs an id")
		case !ruleIDRE.MatchString(r.ID):
			add(path+".id", "rule id %q must be lower-case letters, digits, '.', '_' or '-'", r.ID)
		case seenRule[r.ID]:
			add(path+".id", "rule id %q is used twice", r.ID)
		}
		seenRule[r.ID] = true
		if strings.TrimSpace(r.When) == "" {
			add(path+".when", "rule %q needs a \"when\" expression", r.ID)
		}
		if r.Action == "" {
			add(path+".action", "rule %q needs an action (allow, notify, confirm or deny)", r.ID)
		}
		checkAction(path+".action", r.Action)
		if strings.TrimSpace(r.Reason) == "" {
			add(path+".reason", "rule %q needs a reason the agent can act on", r.ID)
		}
		for j, ex := range append(append([]Example{}, r.Match...), r.NotMatch...) {
			if ex.Tool == "" {
				which, k := "match", j
				if j >= len(r.Match) {
					which, k = "not_match", j-len(r.Match)
				}
				add(fmt.Sprintf("%s.%s[%d].tool", path, which, k), "an example needs a tool name")
			}
		}
	}
	if len(ps) > 0 {
		return ps
	}
	return nil
}

// Revision is a short content hash of the policy's meaning (its canonical
// JSON form, so that comments and formatting do not change it).
func (p *Policy) Revision() string {
	b, err := json.Marshal(p)
	if err != nil {
		// Everything in Policy is JSON-encodable; a failure here would be
		// a bug, and a revision that cannot match any other is the safe
		// answer.
		return "sha256:invalid"
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// Source returns the file name the policy was read from.
func (p *Policy) Source() string { return p.source }

// merge layers over on base: lists append, maps and set scalars override.
func merge(base, over *Policy) *Policy {
	out := *base
	out.source, out.lines = over.source, over.lines
	out.Version = over.Version
	out.Extends = ""
	if over.Name != "" {
		out.Name = over.Name
	}
	if over.Description != "" {
		out.Description = over.Description
	}
	str := func(dst *string, s string) {
		if s != "" {
			*dst = s
		}
	}
	str(&out.Defaults.UnknownTool, over.Defaults.UnknownTool)
	str(&out.Defaults.Unparseable, over.Defaults.Unparseable)
	str(&out.Defaults.Unresolved, over.Defaults.Unresolved)
	str(&out.Defaults.Timeout, over.Defaults.Timeout)
	if over.Defaults.MaxArgBytes != 0 {
		out.Defaults.MaxArgBytes = over.Defaults.MaxArgBytes
	}
	if over.Risk.Thresholds != nil {
		out.Risk.Thresholds = over.Risk.Thresholds
	}
	out.Paths.Sensitive = cat(base.Paths.Sensitive, over.Paths.Sensitive)
	out.Paths.SensitiveExceptions = cat(base.Paths.SensitiveExceptions, over.Paths.SensitiveExceptions)
	out.Paths.Protected = cat(base.Paths.Protected, over.Paths.Protected)
	out.Paths.WriteScope = cat(base.Paths.WriteScope, over.Paths.WriteScope)
	out.Paths.Actions = mergeMap(base.Paths.Actions, over.Paths.Actions)
	out.Command.Actions = mergeMap(base.Command.Actions, over.Command.Actions)
	out.Command.Disabled = cat(base.Command.Disabled, over.Command.Disabled)
	out.Egress.Allow = cat(base.Egress.Allow, over.Egress.Allow)
	out.Egress.Deny = cat(base.Egress.Deny, over.Egress.Deny)
	str(&out.Egress.Default, over.Egress.Default)
	if over.Egress.BlockPrivate != nil {
		out.Egress.BlockPrivate = over.Egress.BlockPrivate
	}
	if len(over.Egress.AllowedSchemes) > 0 {
		out.Egress.AllowedSchemes = over.Egress.AllowedSchemes
	}
	out.Egress.Actions = mergeMap(base.Egress.Actions, over.Egress.Actions)
	str(&out.Taint.Action, over.Taint.Action)
	if len(over.Sandbox.Profiles) > 0 {
		out.Sandbox.Profiles = map[string]profile.Profile{}
		for k, v := range base.Sandbox.Profiles {
			out.Sandbox.Profiles[k] = v
		}
		for k, v := range over.Sandbox.Profiles {
			out.Sandbox.Profiles[k] = v
		}
	}
	// A tool declared in both: the overlay's declaration replaces the base's.
	out.Tools = nil
	overTools := map[string]bool{}
	for _, t := range over.Tools {
		overTools[t.Tool] = true
	}
	for _, t := range base.Tools {
		if !overTools[t.Tool] {
			out.Tools = append(out.Tools, t)
		}
	}
	out.Tools = append(out.Tools, over.Tools...)
	out.Rules = nil
	overRules := map[string]bool{}
	for _, r := range over.Rules {
		overRules[r.ID] = true
	}
	for _, r := range base.Rules {
		if !overRules[r.ID] {
			out.Rules = append(out.Rules, r)
		}
	}
	out.Rules = append(out.Rules, over.Rules...)
	return &out
}

func cat(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	return append(append([]string{}, a...), b...)
}

func mergeMap(a, b map[string]string) map[string]string {
	if len(b) == 0 {
		return a
	}
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
