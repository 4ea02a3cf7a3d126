package schemagate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"go.yaml.in/yaml/v3"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		rule Rule
		want []string // substrings of the single error
	}{
		{"bad regex", Rule{Tool: "search", Patterns: map[string]string{"q": "(a"}},
			[]string{`schema rule 1 (tool "search"), field "q"`, `pattern "(a" does not compile`, "RE2"}},
		{"look-ahead is not RE2", Rule{Tool: "search", Patterns: map[string]string{"q": "(?=a)"}},
			[]string{`field "q"`, "does not compile"}},
		{"bad deny glob", Rule{Tool: "write", PathDeny: map[string][]string{"path": {"[a-"}}},
			[]string{`schema rule 1 (tool "write"), field "path"`, `path_deny glob "[a-" is not a valid pattern`}},
		{"empty allow glob", Rule{Tool: "write", PathAllow: map[string][]string{"path": {""}}},
			[]string{`field "path"`, `path_allow glob ""`}},
		{"unknown type name", Rule{Tool: "t", Types: map[string]string{"n": "int"}},
			[]string{`field "n"`, `unknown type "int"`, "string, number, integer, boolean, object, array"}},
		{"schema is not JSON", Rule{Tool: "mcp__a__b", JSONSchema: json.RawMessage(`{"type":`)},
			[]string{`schema rule 1 (tool "mcp__a__b")`, "json_schema does not compile", "not valid JSON"}},
		{"schema is not a schema", Rule{Tool: "mcp__a__b", JSONSchema: json.RawMessage(`{"type": "strin"}`)},
			[]string{`(tool "mcp__a__b")`, "json_schema does not compile"}},
		{"schema pattern is not RE2", Rule{Tool: "t", JSONSchema: json.RawMessage(`{"properties": {"a": {"pattern": "(?<=x)"}}}`)},
			[]string{"json_schema does not compile"}},
		{"external reference", Rule{Tool: "t", JSONSchema: json.RawMessage(`{"$ref": "https://example.com/s.json"}`)},
			[]string{"json_schema does not compile", "external schemas are not loaded"}},
		{"file reference", Rule{Tool: "t", JSONSchema: json.RawMessage(`{"$ref": "file:///etc/passwd"}`)},
			[]string{"external schemas are not loaded"}},
		{"empty tool", Rule{Required: []string{"a"}},
			[]string{`schema rule 1 (tool "")`, `use "*" for every tool`}},
		{"empty field name", Rule{Tool: "t", Required: []string{""}},
			[]string{"required names an empty field"}},
		{"min above max", Rule{Tool: "t", Min: map[string]float64{"n": 5}, Max: map[string]float64{"n": 1}},
			[]string{`field "n"`, "min 5 is greater than max 1"}},
		{"negative length", Rule{Tool: "t", MinLength: map[string]int{"s": -1}},
			[]string{`field "s"`, "must not be negative"}},
		{"min length above max length", Rule{Tool: "t", MinLength: map[string]int{"s": 4}, MaxLength: map[string]int{"s": 2}},
			[]string{`field "s"`, "min_length 4 is greater than max_length 2"}},
		{"zero max size", Rule{Tool: "t", MaxSize: map[string]int{"content": 0}},
			[]string{`field "content"`, "max_size 0 must be a positive number of bytes"}},
		{"empty allowed values", Rule{Tool: "t", AllowedValues: map[string][]any{"mode": {}}},
			[]string{`field "mode"`, "allowed_values is empty"}},
		{"allowed value not JSON", Rule{Tool: "t", AllowedValues: map[string][]any{"mode": {make(chan int)}}},
			[]string{`field "mode"`, "is not a JSON value"}},
		{"depends on nothing", Rule{Tool: "t", DependsOn: map[string][]string{"a": {"a"}}},
			[]string{`field "a"`, "depends_on lists no other field"}},
		{"exclusive group of one", Rule{Tool: "t", MutuallyExclusive: [][]string{{"a", "a"}}},
			[]string{"mutually_exclusive group 1 has fewer than two distinct fields"}},
		{"action out of range", Rule{Tool: "t", Action: decision.Action(9)},
			[]string{"action 9 is not an action"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Compile(Config{Rules: []Rule{tc.rule}})
			if err == nil {
				t.Fatalf("Compile succeeded (%v), want an error", g)
			}
			if g != nil {
				t.Error("Compile returned a gate along with an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if n := len(unjoin(err)); n != 1 {
				t.Errorf("got %d problems, want 1: %v", n, err)
			}
		})
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestCompileReportsAllProblems(t *testing.T) {
	cfg := Config{Rules: []Rule{
		{Tool: "ok", Required: []string{"a"}},
		{Tool: "write", Patterns: map[string]string{"path": "[", "name": "("}, Types: map[string]string{"size": "float"}},
		{Tool: "mcp__gh__x", JSONSchema: json.RawMessage(`nope`), PathDeny: map[string][]string{"file": {"a/[b"}}},
	}}
	_, err := Compile(cfg)
	if err == nil {
		t.Fatal("want errors")
	}
	var lines []string
	for _, e := range unjoin(err) {
		// keep the part that names the rule and field
		where, _, _ := strings.Cut(e.Error(), ": ")
		lines = append(lines, where)
	}
	want := []string{
		`schema rule 2 (tool "write"), field "size"`,
		`schema rule 2 (tool "write"), field "name"`,
		`schema rule 2 (tool "write"), field "path"`,
		`schema rule 3 (tool "mcp__gh__x"), field "file"`,
		`schema rule 3 (tool "mcp__gh__x")`,
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("problems (-want +got):\n%s\nfull error:\n%v", diff, err)
	}
}

func TestDefaultActionIsDeny(t *testing.T) {
	for _, tc := range []struct {
		action decision.Action
		want   decision.Action
	}{
		{decision.Allow, decision.Deny}, // zero value: the seed rejects
		{decision.Notify, decision.Notify},
		{decision.Confirm, decision.Confirm},
		{decision.Deny, decision.Deny},
	} {
		g := mustCompile(t, Rule{Tool: "t", Required: []string{"a"}, Action: tc.action})
		res := g.Validate("t", nil, testEnv)
		if len(res.Errors) != 1 || res.Errors[0].Action != tc.want {
			t.Errorf("rule action %v: got %+v, want one error with action %v", tc.action, res.Errors, tc.want)
		}
	}
}

func TestJSONSchemaNullIsNone(t *testing.T) {
	var r Rule
	if err := json.Unmarshal([]byte(`{"tool": "t", "json_schema": null}`), &r); err != nil {
		t.Fatal(err)
	}
	g := mustCompile(t, r)
	if res := g.Validate("t", map[string]any{"x": 1}, testEnv); !res.Pass {
		t.Errorf("null schema rejected a call: %+v", res.Errors)
	}
}

func TestRuleFromJSON(t *testing.T) {
	src := `{"rules": [{
		"tool": "write",
		"required": ["path", "content"],
		"path_deny": {"path": [".env", "*.key", ".git/**"]},
		"max_size": {"content": 1048576},
		"secrets": ["content"],
		"allowed_values": {"mode": ["a", 1]},
		"action": "confirm",
		"json_schema": {"type": "object", "properties": {"path": {"type": "string"}}}
	}]}`
	var cfg Config
	dec := json.NewDecoder(strings.NewReader(src))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	g := mustCompile(t, cfg.Rules...)
	res := g.Validate("write", map[string]any{"path": "x.key", "content": "c", "mode": 1}, testEnv)
	if diff := cmp.Diff([]string{"path:schema.path_deny"}, got(res)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if res.Errors[0].Action != decision.Confirm {
		t.Errorf("action = %v, want confirm", res.Errors[0].Action)
	}
}

func TestRuleFromYAML(t *testing.T) {
	src := `
rules:
  - tool: mcp__gh__create_issue
    required: [title]
    types: {title: string}
    min: {priority: 1}
    max: {priority: 5}
    allowed_values: {state: [open, closed]}
    path_deny: {path: [".env"]}
    action: confirm
    json_schema:
      type: object
      properties:
        title: {type: string, maxLength: 5}
        200: {type: string}
      additionalProperties: false
  - tool: raw
    json_schema: '{"required": ["a"]}'
`
	var cfg Config
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	g := mustCompile(t, cfg.Rules...)
	res := g.Validate("mcp__gh__create_issue", map[string]any{"title": "too long", "state": "merged", "extra": 1}, testEnv)
	want := []string{"state:schema.enum", "extra:schema.json_schema", "state:schema.json_schema", "title:schema.json_schema"}
	if diff := cmp.Diff(want, got(res)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if res.Errors[0].Action != decision.Confirm {
		t.Errorf("action = %v, want confirm", res.Errors[0].Action)
	}
	if res := g.Validate("mcp__gh__create_issue", map[string]any{"title": "ok", "200": "numeric key"}, testEnv); !res.Pass {
		t.Errorf("numeric YAML key lost: %+v", res.Errors)
	}
	if diff := cmp.Diff([]string{"a:schema.json_schema"}, got(g.Validate("raw", nil, testEnv))); diff != "" {
		t.Errorf("schema given as a JSON string (-want +got):\n%s", diff)
	}

	// And back: json_schema is written as YAML, not as bytes.
	out, err := yaml.Marshal(cfg.Rules[1])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("json_schema:\n    required:\n        - a\ntool: raw\n", string(out)); diff != "" {
		t.Errorf("MarshalYAML (-want +got):\n%s", diff)
	}
}

func TestRuleFromYAMLErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown field", "tool: t\npathDeny: [x]\n", `unknown field "pathDeny"`},
		{"not a mapping", "- a\n", "must be a mapping"},
		{"bad action", "tool: t\naction: maybe\n", `unknown action "maybe"`},
		{"schema string not JSON", "tool: t\njson_schema: 'nope'\n", "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Rule
			err := yaml.Unmarshal([]byte(tc.src), &r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestErrorsAreJoined(t *testing.T) {
	_, err := Compile(Config{Rules: []Rule{{Tool: ""}, {Tool: "x", Types: map[string]string{"a": "b"}}}})
	if len(unjoin(err)) != 2 {
		t.Fatalf("want 2 joined problems, got %v", err)
	}
	if !errors.Is(err, unjoin(err)[0]) {
		t.Error("joined error does not wrap its parts")
	}
}
