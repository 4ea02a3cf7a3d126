package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

func TestBuiltinParsesAndCompiles(t *testing.T) {
	p := Builtin()
	if p.Name != "recommended" || len(p.Rules) == 0 || len(p.Tools) == 0 {
		t.Fatalf("built-in policy looks empty: name=%q rules=%d tools=%d", p.Name, len(p.Rules), len(p.Tools))
	}
	c, err := Compile(p, Options{})
	if err != nil {
		t.Fatalf("Compile(builtin): %v", err)
	}
	if !strings.HasPrefix(c.Revision, "sha256:") || len(c.Revision) != len("sha256:")+16 {
		t.Errorf("revision %q is not sha256:<16 hex>", c.Revision)
	}
}

func TestRevisionIgnoresFormattingButNotMeaning(t *testing.T) {
	a, err := Parse("a.yaml", []byte("version: 1\n# comment\nname: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse("b.yaml", []byte("version: 1\nname:   x   \n\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("c.yaml", []byte("version: 1\nname: y\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Revision() != b.Revision() {
		t.Errorf("formatting changed the revision: %s vs %s", a.Revision(), b.Revision())
	}
	if a.Revision() == c.Revision() {
		t.Errorf("a different name kept the revision %s", a.Revision())
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // every substring must appear
	}{
		{"empty", "", []string{"empty"}},
		{"not yaml", "version: [1", []string{"not valid YAML"}},
		{"missing version", "name: x\n", []string{"missing \"version: 1\""}},
		{"future version", "version: 2\n", []string{"unsupported version 2"}},
		{"unknown field with line", "version: 1\nrulez: []\n", []string{"x.yaml:2", `unknown field "rulez"`}},
		{"nested unknown field", "version: 1\npaths:\n  sensitiv: [a]\n", []string{"x.yaml:3", `unknown field "sensitiv"`}},
		{"bad action", "version: 1\ndefaults:\n  unknown_tool: maybe\n", []string{"x.yaml:3", "defaults.unknown_tool", `unknown action "maybe"`}},
		{"thresholds out of order", "version: 1\nrisk:\n  thresholds: {auto: 2, notify: 1, deny: 8}\n", []string{"risk.thresholds", "auto ≤ notify ≤ deny"}},
		{"bad path action key", "version: 1\npaths:\n  actions: {outside: deny}\n", []string{`unknown key "outside"`}},
		{"bad kind", "version: 1\ntools:\n  - tool: x\n    kind: shell\n", []string{"x.yaml:4", `unknown kind "shell"`}},
		{"all rule problems at once", "version: 1\nrules:\n  - id: Bad ID\n    when: ''\n  - id: ok\n    when: 'true'\n    action: deny\n    reason: r\n  - id: ok\n    when: 'true'\n    action: deny\n    reason: r\n",
			[]string{`rule id "Bad ID" must be lower-case`, `rules[0].when`, `rules[0].action`, `rules[0].reason`, `rule id "ok" is used twice`}},
		{"duplicate tool", "version: 1\ntools:\n  - tool: a\n  - tool: a\n", []string{`tool "a" is declared twice`}},
		{"unknown base", "version: 1\nextends: strict\n", []string{`unknown base "strict"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestCompileProblemsAreReportedTogether(t *testing.T) {
	p, err := Parse("x.yaml", []byte(`version: 1
tools:
  - tool: write_file
    patterns: {path: "([a-z"}
rules:
  - id: broken
    when: "call.kindd == 'exec' &&"
    action: deny
    reason: r
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	_, err = Compile(p, Options{})
	if err == nil {
		t.Fatal("Compile succeeded on a broken regex and a broken CEL expression")
	}
	for _, w := range []string{"tools", "write_file", "rules", "broken"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("compile error %q does not mention %q", err, w)
		}
	}
}

func TestUnknownCommandCodeIsACompileError(t *testing.T) {
	p, err := Parse("x.yaml", []byte("version: 1\ncommand:\n  actions: {command.force_psh: deny}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(p, Options{}); err == nil || !strings.Contains(err.Error(), "command.force_psh") {
		t.Fatalf("err = %v, want the misspelt code named", err)
	}
}

func TestExtendsBuiltin(t *testing.T) {
	p, err := Parse("team.yaml", []byte(`version: 1
extends: builtin
paths:
  sensitive: ["**/*.tfstate"]
  actions: {outside_write: deny}
rules:
  - id: db-write-needs-confirmation
    when: "false"
    action: deny
    reason: replaced
`))
	if err != nil {
		t.Fatal(err)
	}
	b := Builtin()
	if len(p.Tools) != len(b.Tools) {
		t.Errorf("tools: got %d, want the built-in %d", len(p.Tools), len(b.Tools))
	}
	if got := p.Paths.Actions["outside_write"]; got != "deny" {
		t.Errorf("outside_write = %q, want the overlay's deny", got)
	}
	if got := p.Paths.Actions["sensitive_read"]; got != "deny" {
		t.Errorf("sensitive_read = %q, want the built-in's deny kept", got)
	}
	if !contains(p.Paths.Sensitive, "**/*.tfstate") {
		t.Errorf("sensitive list lost the overlay entry: %v", p.Paths.Sensitive)
	}
	if len(p.Rules) != len(b.Rules) {
		t.Errorf("rules: got %d, want %d (same id replaces)", len(p.Rules), len(b.Rules))
	}
	for _, r := range p.Rules {
		if r.ID == "db-write-needs-confirmation" && r.Reason != "replaced" {
			t.Errorf("rule with the same id was not replaced: %+v", r)
		}
	}
}

func TestSeedRulesImport(t *testing.T) {
	p, err := Load(filepath.Join("testdata", "guard-rules.json"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var dangerous, warning int
	for _, r := range p.Rules {
		switch {
		case strings.HasPrefix(r.ID, "seed.dangerous."):
			dangerous++
			if r.Action != "deny" {
				t.Errorf("%s: action %s, want deny", r.ID, r.Action)
			}
		case strings.HasPrefix(r.ID, "seed.warning."):
			warning++
			if r.Action != "confirm" {
				t.Errorf("%s: action %s, want confirm", r.ID, r.Action)
			}
		}
	}
	if dangerous != 3 || warning != 3 {
		t.Errorf("got %d dangerous and %d warning rules, want 3 and 3", dangerous, warning)
	}
	for _, g := range []string{"**/.env", "**/*.key", "**/.git/**", "**/credentials/**"} {
		if !contains(p.Paths.Sensitive, g) {
			t.Errorf("sensitive globs %v lack %q", p.Paths.Sensitive, g)
		}
	}
	var write *Tool
	for i := range p.Tools {
		if p.Tools[i].Tool == "write" {
			write = &p.Tools[i]
		}
	}
	if write == nil || len(write.PathDeny["path"]) != 3 || write.MaxSize["content"] != 1048576 {
		t.Fatalf("seed schema for write not imported: %+v", write)
	}
	if _, err := Compile(p, Options{}); err != nil {
		t.Fatalf("Compile(seed): %v", err)
	}
}

func TestSeedRulesErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "guard-rules.json")
	os.WriteFile(bad, []byte(`{"dangerous": [["(?<=x)rm", "lookbehind"]], "warning": [[]]}`), 0o600)
	_, err := Load(bad)
	if err == nil {
		t.Fatal("a lookbehind regex and an empty pair were accepted")
	}
	for _, w := range []string{"dangerous[0]", "not valid RE2", "warning[0]", "want [regex, description]"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	unknown := filepath.Join(dir, "x.json")
	os.WriteFile(unknown, []byte(`{"dangerous": [], "dangrous": []}`), 0o600)
	if _, err := Load(unknown); err == nil || !strings.Contains(err.Error(), "dangrous") {
		t.Errorf("unknown seed field: err = %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "cannot read policy") {
		t.Errorf("missing file: err = %v", err)
	}
}

// TestPolicySchemaDescribesTheModel validates the built-in policy and the
// example policies against api/policy.schema.json, and checks that a
// misspelt field is rejected by the schema as it is by Parse.
func TestPolicySchemaDescribesTheModel(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(filepath.Join("..", "..", "api", "policy.schema.json"))
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	docs := map[string][]byte{"builtin.yaml": builtinYAML}
	matches, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		docs[m] = b
	}
	for name, b := range docs {
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		j, _ := json.Marshal(v)
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(string(j)))
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s does not validate against the policy schema: %v", name, err)
		}
	}
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"version":1,"rulez":[]}`))
	if sch.Validate(bad) == nil {
		t.Error("schema accepted an unknown top-level field")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(builtinYAML))
	f.Add([]byte("version: 1\nrules:\n  - id: a\n    when: 'true'\n    action: deny\n    reason: r\n"))
	f.Add([]byte("version: 1\nextends: builtin\n"))
	f.Add([]byte("{\"dangerous\":[[\"rm\",\"x\"]]}"))
	f.Add([]byte("version: 1\npaths: {actions: {protected: ask}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		var p *Policy
		var err error
		if IsSeedRules(data) {
			p, err = ParseSeedRules("fuzz.json", data)
		} else {
			p, err = Parse("fuzz.yaml", data)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if p.Version != Version {
			t.Fatalf("accepted version %d", p.Version)
		}
		if p.Validate() != nil {
			t.Fatal("Parse returned a policy that does not validate")
		}
		_ = p.Revision()
	})
}
