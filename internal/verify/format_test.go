package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestNonEmpty(t *testing.T) {
	tests := []struct {
		name   string
		claim  Claim
		status Status
		code   string
	}{
		{"no result expected", Claim{Result: ""}, Skip, "non_empty.not_claimed"},
		{"result present", Claim{ExpectResult: true, Result: "3 files changed"}, Pass, ""},
		{"result empty", Claim{ExpectResult: true}, Warn, "non_empty.empty"},
		{"result only white space", Claim{ExpectResult: true, Result: " \n\t\r\n"}, Warn, "non_empty.empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(context.Background(), tt.claim, nil, offline(t.TempDir()))
			assertCheck(t, r, CheckNonEmpty, tt.status, tt.code, "")
		})
	}
}

func TestFormat(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 0, "a"; i < 12; i++ {
		name := string(rune('b' + i))
		laughs += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 8) + "*" + prev + "]\n"
		prev = name
	}
	tests := []struct {
		name      string
		files     map[string]string
		claim     Claim
		maxFile   int64
		status    Status
		code      string
		reasonHas string
	}{
		{"nothing to parse", nil, Claim{Result: "{"}, 0, Skip, "format.not_claimed", ""},
		{"valid JSON result", nil, Claim{Result: `{"ok": true, "n": [1, 2]}`, ResultFormat: "json"}, 0, Pass, "", "1 document(s) parse"},
		{"JSON format name is case-insensitive", nil, Claim{Result: `[]`, ResultFormat: " JSON "}, 0, Pass, "", "parse"},
		{"invalid JSON result names line and column", nil, Claim{Result: "{\n  \"a\": 1,\n  \"b\": }\n", ResultFormat: "json"}, 0, Fail, "format.invalid_result", "line 3, column 8"},
		{"two JSON values are not one document", nil, Claim{Result: `{} {}`, ResultFormat: "json"}, 0, Fail, "format.invalid_result", "not valid JSON"},
		{"empty result is not JSON", nil, Claim{Result: "", ResultFormat: "json"}, 0, Fail, "format.invalid_result", "not valid JSON"},
		{"valid YAML result", nil, Claim{Result: "a: 1\nb: [x, y]\n---\nc: d\n", ResultFormat: "yaml"}, 0, Pass, "", "parse"},
		{"invalid YAML result", nil, Claim{Result: "a: [1, 2\nb: c\n", ResultFormat: "yml"}, 0, Fail, "format.invalid_result", "not valid YAML"},
		{"YAML duplicate key", nil, Claim{Result: "a: 1\na: 2\n", ResultFormat: "yaml"}, 0, Fail, "format.invalid_result", "already defined"},
		{"YAML alias bomb", nil, Claim{Result: laughs, ResultFormat: "yaml"}, 0, Fail, "format.invalid_result", "excessive aliasing"},
		{"result too large to parse", nil, Claim{Result: `["0123456789"]`, ResultFormat: "json"}, 8, Fail, "format.too_large", "MaxFileBytes"},
		{"claimed JSON file valid", map[string]string{"package.json": `{"name": "x"}`}, Claim{Created: []string{"package.json"}}, 0, Pass, "", "1 document(s)"},
		{"claimed JSON file invalid", map[string]string{"cfg/app.json": "{\"a\": 1,}"}, Claim{Modified: []string{"cfg/app.json"}}, 0, Fail, "format.invalid_file", "app.json: not valid JSON: line 1, column 9"},
		{"empty JSON file is invalid", map[string]string{"e.json": ""}, Claim{Created: []string{"e.json"}}, 0, Fail, "format.invalid_file", "e.json"},
		{"tsconfig with comments and trailing commas", map[string]string{"tsconfig.json": "{\n  // strict mode\n  \"compilerOptions\": {\"strict\": true, /* here */},\n}\n"}, Claim{Created: []string{"tsconfig.json"}}, 0, Pass, "", "parse"},
		{"vscode settings with comments", map[string]string{".vscode/settings.json": "{ // x\n \"a\": \"http://b\" }"}, Claim{Created: []string{".vscode/settings.json"}}, 0, Pass, "", "parse"},
		{"tsconfig still has to be JSON", map[string]string{"tsconfig.json": "{ compilerOptions: 1 }"}, Claim{Created: []string{"tsconfig.json"}}, 0, Fail, "format.invalid_file", "not valid JSON"},
		{"claimed YAML file invalid", map[string]string{"ci.yml": "jobs:\n  - a\n b: c\n"}, Claim{Created: []string{"ci.yml"}}, 0, Fail, "format.invalid_file", "ci.yml: not valid YAML"},
		{"empty YAML file is valid", map[string]string{"e.yaml": ""}, Claim{Created: []string{"e.yaml"}}, 0, Pass, "", "parse"},
		{"LintFiles replace created and modified", map[string]string{"bad.json": "{", "good.json": "{}"}, Claim{Created: []string{"bad.json"}, LintFiles: []string{"good.json"}}, 0, Pass, "", "1 document(s)"},
		{"missing claimed file is skipped here", nil, Claim{Created: []string{"gone.yaml"}}, 0, Skip, "format.missing_file", "gone.yaml"},
		{"file too large to parse", map[string]string{"big.json": `["0123456789"]`}, Claim{Created: []string{"big.json"}}, 8, Fail, "format.too_large", "big.json"},
		{"other extensions are not parsed", map[string]string{"notes.md": "{"}, Claim{Created: []string{"notes.md"}}, 0, Skip, "format.not_claimed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				write(t, filepath.Join(dir, name), content)
			}
			o := offline(dir)
			o.MaxFileBytes = tt.maxFile
			r := Run(context.Background(), tt.claim, nil, o)
			assertCheck(t, r, CheckFormat, tt.status, tt.code, tt.reasonHas)
		})
	}
}

// A file both created and modified (or named twice) is parsed once.
func TestFilesAreCheckedOnce(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "bad.json"), "{")
	claim := Claim{Created: []string{"bad.json"}, Modified: []string{filepath.Join(dir, "bad.json"), "./bad.json"}}
	r := Run(context.Background(), claim, nil, offline(dir))
	c := mustCheck(t, r, CheckFormat)
	if c.Status != Fail || strings.Count(c.Reason, "bad.json") != 1 {
		t.Errorf("got %s %q, want one failure for bad.json", c.Status, c.Reason)
	}
}

func TestStripJSONC(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": 1}`, `{"a": 1}`},
		{"{\"a\": 1, // c\n}", "{\"a\": 1      \n}"},
		{`{"a": "// not a comment", "b": "/* nor this */"}`, `{"a": "// not a comment", "b": "/* nor this */"}`},
		{`[1, 2, /* c */ ]`, `[1, 2          ]`},
		{`{"a": "q\"//"}`, `{"a": "q\"//"}`},
		{"[1 /* a\nb */]", "[1     \n    ]"},
		{`[1, /* open`, `[1, /* open`},
	}
	for _, tt := range tests {
		if got := string(stripJSONC([]byte(tt.in))); got != tt.want {
			t.Errorf("stripJSONC(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzStripJSONC checks that stripping keeps every byte position (so that
// error positions match the file) and leaves strict JSON untouched.
func FuzzStripJSONC(f *testing.F) {
	for _, s := range []string{`{"a": [1, 2,], // x` + "\n}", `"\\"`, `/* */`, `{"a":"/*"}`, `[,]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := stripJSONC(in)
		if len(out) != len(in) {
			t.Fatalf("length %d, want %d", len(out), len(in))
		}
		if bytes.Count(out, []byte("\n")) != bytes.Count(in, []byte("\n")) {
			t.Fatalf("newlines changed")
		}
		if json.Valid(in) && !bytes.Equal(out, in) {
			t.Fatalf("strict JSON changed: %q -> %q", in, out)
		}
	})
}

func TestPosition(t *testing.T) {
	data := []byte("ab\ncd\n")
	for _, tt := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {1, 1, 1}, {2, 1, 2}, {4, 2, 1}, {5, 2, 2}, {99, 3, 1}} {
		if l, c := position(data, tt.off); l != tt.line || c != tt.col {
			t.Errorf("position(%d) = %d:%d, want %d:%d", tt.off, l, c, tt.line, tt.col)
		}
	}
}
