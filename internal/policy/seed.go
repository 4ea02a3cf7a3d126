package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (write e.g. \"50ms\" or \"2s\")", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("timeout must be positive, got %s", s)
	}
	return d, nil
}

// seedRules is the seed's guard-rules.json.
type seedRules struct {
	Dangerous      [][]string       `json:"dangerous"`
	Warning        [][]string       `json:"warning"`
	SensitiveFiles []string         `json:"sensitiveFiles"`
	ProtectedFiles []string         `json:"protectedFiles"`
	Schema         []seedSchemaRule `json:"schema"`
}

type seedSchemaRule struct {
	Tool              string              `json:"tool"`
	Required          []string            `json:"required"`
	Types             map[string]string   `json:"types"`
	AllowedValues     map[string][]any    `json:"allowedValues"`
	Min               map[string]float64  `json:"min"`
	Max               map[string]float64  `json:"max"`
	MinLength         map[string]int      `json:"minLength"`
	MaxLength         map[string]int      `json:"maxLength"`
	Patterns          map[string]string   `json:"patterns"`
	PathScope         json.RawMessage     `json:"pathScope"`
	PathAllow         json.RawMessage     `json:"pathAllow"`
	PathDeny          json.RawMessage     `json:"pathDeny"`
	DependsOn         map[string][]string `json:"dependsOn"`
	MutuallyExclusive [][]string          `json:"mutuallyExclusive"`
	MaxSize           map[string]int      `json:"maxSize"`
	Secrets           []string            `json:"secrets"`
	Forbidden         []string            `json:"forbidden"`
}

// IsSeedRules reports whether data looks like the seed's guard-rules.json.
func IsSeedRules(data []byte) bool {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(t, &top) != nil {
		return false
	}
	if _, ok := top["version"]; ok {
		return false
	}
	for _, k := range []string{"dangerous", "warning", "sensitiveFiles", "protectedFiles", "schema"} {
		if _, ok := top[k]; ok {
			return true
		}
	}
	return false
}

// ParseSeedRules converts the seed's guard-rules.json into a policy layered
// over the built-in one: "dangerous" regexes become deny rules over the
// command, "warning" regexes confirm rules, "sensitiveFiles" globs become
// sensitive paths, "protectedFiles" protected paths, and "schema" entries
// tool declarations. The seed's regexes are JavaScript; they are checked
// as RE2 when the policy compiles, and a pattern RE2 cannot express is
// reported with its index.
func ParseSeedRules(name string, data []byte) (*Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s seedRules
	if err := dec.Decode(&s); err != nil {
		return nil, Problems{{File: name, Message: "not a valid guard-rules.json: " + err.Error()}}
	}
	over := &Policy{Version: Version, Name: "seed guard-rules (" + name + ")"}
	var ps Problems
	addRegexRules := func(list [][]string, kind, action string) {
		for i, pair := range list {
			path := fmt.Sprintf("%s[%d]", kind, i)
			if len(pair) == 0 || len(pair) > 2 {
				ps = append(ps, Problem{File: name, Path: path, Message: "want [regex, description]"})
				continue
			}
			re := pair[0]
			if _, err := regexp.Compile(re); err != nil {
				ps = append(ps, Problem{File: name, Path: path, Message: fmt.Sprintf("regex %q is not valid RE2: %v", re, err)})
				continue
			}
			desc := re
			if len(pair) == 2 && pair[1] != "" {
				desc = pair[1]
			}
			over.Rules = append(over.Rules, Rule{
				ID:     fmt.Sprintf("seed.%s.%d", kind, i),
				When:   "call.kind == \"exec\" && command.matches(" + strconv.Quote(re) + ")",
				Action: action,
				Reason: desc,
			})
		}
	}
	addRegexRules(s.Dangerous, "dangerous", "deny")
	addRegexRules(s.Warning, "warning", "confirm")
	for _, g := range s.SensitiveFiles {
		over.Paths.Sensitive = append(over.Paths.Sensitive, seedGlob(g))
	}
	for _, g := range s.ProtectedFiles {
		over.Paths.Protected = append(over.Paths.Protected, seedGlob(g))
	}
	for i, r := range s.Schema {
		path := fmt.Sprintf("schema[%d]", i)
		t := Tool{
			Tool: r.Tool, Required: r.Required, Types: r.Types, AllowedValues: r.AllowedValues,
			Min: r.Min, Max: r.Max, MinLength: r.MinLength, MaxLength: r.MaxLength, Patterns: r.Patterns,
			DependsOn: r.DependsOn, MutuallyExclusive: r.MutuallyExclusive, MaxSize: r.MaxSize, Secrets: r.Secrets,
		}
		var err error
		if t.PathScope, err = seedFieldList(r.PathScope, "path"); err != nil {
			ps = append(ps, Problem{File: name, Path: path + ".pathScope", Message: err.Error()})
		}
		if t.PathAllow, err = seedGlobMap(r.PathAllow); err != nil {
			ps = append(ps, Problem{File: name, Path: path + ".pathAllow", Message: err.Error()})
		}
		if t.PathDeny, err = seedGlobMap(r.PathDeny); err != nil {
			ps = append(ps, Problem{File: name, Path: path + ".pathDeny", Message: err.Error()})
		}
		over.Tools = append(over.Tools, t)
	}
	if len(ps) > 0 {
		return nil, ps
	}
	p := merge(Builtin(), over)
	p.source = name
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// seedGlob turns the seed's file patterns, which match a base name
// anywhere (".env", "*.key") or a path from the workspace root
// (".git/**"), into globs over workspace-relative paths.
func seedGlob(g string) string {
	if strings.HasPrefix(g, "/") || strings.HasPrefix(g, "~") || strings.HasPrefix(g, "**/") {
		return g
	}
	return "**/" + g
}

// seedFieldList accepts true (the "path" field), a field name, or a list.
func seedFieldList(raw json.RawMessage, def string) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		if b {
			return []string{def}, nil
		}
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}, nil
	}
	var l []string
	if json.Unmarshal(raw, &l) == nil {
		return l, nil
	}
	return nil, fmt.Errorf("want true, a field name or a list of field names")
}

// seedGlobMap accepts a list (applied to "path") or a field → list map.
func seedGlobMap(raw json.RawMessage) (map[string][]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var l []string
	if json.Unmarshal(raw, &l) == nil {
		return map[string][]string{"path": l}, nil
	}
	var m map[string][]string
	if json.Unmarshal(raw, &m) == nil {
		return m, nil
	}
	return nil, fmt.Errorf("want a list of globs or an object of field → globs")
}
