package schemagate

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// fuzzRules exercise every check, "*" rules and a JSON Schema.
var fuzzRules = []Rule{
	writeFileRule,
	{
		Tool:          "mcp__gh__create_issue",
		Required:      []string{"title"},
		Types:         map[string]string{"title": "string", "labels": "array", "priority": "integer", "draft": "boolean", "meta": "object"},
		AllowedValues: map[string][]any{"state": {"open", "closed", 1, []any{"x"}}},
		Min:           map[string]float64{"priority": 1},
		Max:           map[string]float64{"priority": 5},
		MinLength:     map[string]int{"title": 3, "labels": 1},
		MaxLength:     map[string]int{"title": 80, "labels": 3},
		Patterns:      map[string]string{"repo": `^[a-z0-9-]+/[a-z0-9-]+$`, "body": `(?i)fixes #[0-9]+`},
		PathAllow:     map[string][]string{"attach": {"docs/**", "*.png", "/tmp/*", "~/shared/**"}},
		DependsOn:     map[string][]string{"auto_merge": {"base_branch", "repo"}},
		MaxSize:       map[string]int{"body": 64, "meta": 40},
		Secrets:       []string{"token"},
		Action:        decision.Confirm,
		JSONSchema: json.RawMessage(`{"type": "object",
			"properties": {"title": {"type": "string"}, "labels": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}},
				"meta": {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
				"token": {"type": "string", "minLength": 10}},
			"patternProperties": {"^x-": {"type": "boolean"}},
			"dependentRequired": {"auto_merge": ["base_branch"]}}`),
	},
	{
		Tool:              "*",
		PathScope:         []string{"path", "paths"},
		PathDeny:          map[string][]string{"paths": {"**/.ssh/**", "/etc/**"}},
		MutuallyExclusive: [][]string{{"content", "file_path"}, {"a", "b", "c"}},
		Secrets:           []string{"api_key"},
	},
}

var knownCodes = []string{CodeRequired, CodeType, CodeEnum, CodeRange, CodeLength, CodePattern, CodePathScope,
	CodePathAllow, CodePathDeny, CodeDependsOn, CodeMutuallyExclusive, CodeMaxSize, CodeJSONSchema}

func FuzzValidate(f *testing.F) {
	g := mustCompile(f, fuzzRules...)
	seeds := []struct{ tool, args string }{
		{"write_file", `{"path": "src/a.go", "content": "x"}`},
		{"write_file", `{"path": "../.env", "content": 1}`},
		{"mcp__gh__create_issue", `{"title": "Bug", "labels": ["a", "B"], "priority": 9, "state": "merged", "repo": "a/b"}`},
		{"mcp__gh__create_issue", `{"title": "ok title", "auto_merge": true, "meta": {"k": [1]}, "attach": ["docs/x", "~/y"], "token": "s"}`},
		{"Bash", `{"command": "ls", "paths": ["~root/x", "/etc/passwd"], "a": 1, "c": null, "b": ""}`},
		{"x", `{"content": "c", "file_path": "f", "path": "a\u0000b"}`},
		{"mcp__gh__create_issue", `{"title": "\u00e9\u00e9\u00e9", "priority": 1e400, "x-flag": "no"}`},
		{"mcp__gh__create_issue", `{"title": 5, "token": "SECRET-tok", "x-a": 1}`},
		{"write_file", `{"path": "/etc/x", "content": 5, "api_key": ["SECRET", 1]}`},
	}
	for _, s := range seeds {
		f.Add(s.tool, []byte(s.args))
	}
	f.Fuzz(func(t *testing.T, tool string, raw []byte) {
		if len(raw) > 1<<16 {
			return
		}
		var args map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		if len(raw)%2 == 1 {
			dec.UseNumber() // the CLI and some hosts keep numbers as json.Number
		}
		if err := dec.Decode(&args); err != nil {
			return
		}
		env := testEnv
		if strings.HasPrefix(tool, "noenv") {
			env.Workspace, env.Home = "", ""
		}
		res := g.Validate(tool, args, env)
		if res.Pass != (len(res.Errors) == 0) {
			t.Fatalf("Pass = %v with %d errors", res.Pass, len(res.Errors))
		}
		for _, e := range res.Errors {
			if !slices.Contains(knownCodes, e.Code) {
				t.Errorf("unknown code %q", e.Code)
			}
			if e.Message == "" || e.Detail == "" {
				t.Errorf("%s: empty message or detail", e.Code)
			}
			if e.Field == "" && e.Code != CodeJSONSchema {
				t.Errorf("%s: no field", e.Code)
			}
		}
		if again := g.Validate(tool, args, env); !reflect.DeepEqual(res, again) {
			t.Fatalf("not deterministic:\n%+v\n%+v", res, again)
		}
		for _, sf := range res.Redact {
			// A secret value marked SECRET that occurs once in the input
			// must not show up in any message or detail.
			v, _ := json.Marshal(args[sf])
			val := strings.Trim(string(v), `"`)
			if !strings.Contains(val, "SECRET") || bytes.Count(raw, []byte("SECRET")) != 1 || strings.Contains(tool, val) {
				continue
			}
			for _, e := range res.Errors {
				if strings.Contains(e.Message, val) || strings.Contains(e.Detail, val) {
					t.Errorf("%s leaks secret field %q: %q / %q", e.Code, sf, e.Message, e.Detail)
				}
			}
		}
		red := Redact(args, res.Redact)
		for _, s := range res.Redact {
			if red[s] != Redacted {
				t.Errorf("secret field %q not redacted", s)
			}
		}
	})
}
