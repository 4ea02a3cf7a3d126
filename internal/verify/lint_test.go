package verify

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	goodGo = "package demo\n\nimport \"fmt\"\n\n// Hello greets.\nfunc Hello(name string) string {\n\treturn fmt.Sprintf(\"hello %s\", name)\n}\n"
	// Valid Go that gofmt would rewrite.
	unformattedGo = "package demo\nimport \"fmt\"\nfunc Hello(name string) string {\n        return fmt.Sprintf(\"hello %s\",name)\n}\n"
	// Formatted Go that go vet rejects: a Printf verb with no argument.
	vetBadGo = "package demo\n\nimport \"fmt\"\n\n// Hello greets.\nfunc Hello() string {\n\treturn fmt.Sprintf(\"hello %s\")\n}\n"
	// Formatted Go that does not compile.
	brokenGo = "package demo\n\n// Hello greets.\nfunc Hello() string {\n\treturn 42\n}\n"
)

func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed", name)
	}
}

// goModule writes a one-package module holding file content as demo.go.
func goModule(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), "module example.com/demo\n\ngo 1.22\n")
	write(t, filepath.Join(dir, "demo", "demo.go"), content)
	return dir
}

func TestGoLintAndTypecheck(t *testing.T) {
	needTool(t, "gofmt")
	needTool(t, "go")
	tests := []struct {
		name           string
		src            string
		lint, typeck   Status
		lintCode, tcCo string
		lintHas, tcHas string
	}{
		{"clean code passes both", goodGo, Pass, Pass, "", "", "gofmt passed", "go vet passed"},
		{"unformatted code is a lint warning with the diff", unformattedGo, Warn, Pass, "lint.finding", "", "+\treturn fmt.Sprintf(\"hello %s\", name)", "go vet passed"},
		{"vet finding fails the type check", vetBadGo, Pass, Fail, "", "typecheck.finding", "gofmt passed", "Sprintf format %s reads arg #1, but call has 0 args"},
		{"code that does not compile fails", brokenGo, Pass, Fail, "", "typecheck.finding", "gofmt passed", "cannot use 42"},
		{"outside a module go vet does not apply", brokenGo, Pass, Skip, "", "typecheck.not_applicable", "gofmt passed", "go vet: skipped, no go.mod in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := goModule(t, tt.src)
			if strings.HasPrefix(tt.name, "outside") {
				if err := os.Remove(filepath.Join(dir, "go.mod")); err != nil {
					t.Fatal(err)
				}
			}
			r := Run(context.Background(), Claim{Created: []string{"demo/demo.go"}}, nil, Options{Workdir: dir})
			assertCheck(t, r, CheckLint, tt.lint, tt.lintCode, tt.lintHas)
			assertCheck(t, r, CheckTypecheck, tt.typeck, tt.tcCo, tt.tcHas)
		})
	}
}

func TestLintCommands(t *testing.T) {
	needTool(t, "sh")
	tests := []struct {
		name      string
		files     []string
		tool      Command
		timeout   time.Duration
		status    Status
		code      string
		reasonHas string
	}{
		{"linter not installed is skip, never pass", []string{"a.go"}, Command{Argv: []string{"sentinel-no-such-linter", "{file}"}}, 0, Skip, "lint.not_installed", "sentinel-no-such-linter is not installed"},
		{"non-zero exit is a finding", []string{"a.go"}, Command{Name: "picky", Argv: []string{"sh", "-c", "echo \"$0: too long\"; exit 1", "{file}"}}, 0, Warn, "lint.finding", "a.go: too long"},
		{"finding with no output names the exit status", []string{"a.go"}, Command{Argv: []string{"sh", "-c", "exit 3"}}, 0, Warn, "lint.finding", "exit status 3"},
		{"output is fine unless declared a finding", []string{"a.go"}, Command{Name: "chatty", Argv: []string{"sh", "-c", "echo all good"}}, 0, Pass, "", "chatty passed"},
		{"output declared a finding", []string{"a.go"}, Command{Argv: []string{"sh", "-c", "echo \"$0\"", "{file}"}, OutputIsFinding: true}, 0, Warn, "lint.finding", "a.go"},
		{"severity raises a finding to fail", []string{"a.go"}, Command{Argv: []string{"sh", "-c", "exit 1"}, Severity: Fail}, 0, Fail, "lint.finding", "exit status 1"},
		{"a linter that hangs fails closed", []string{"a.go"}, Command{Name: "slow", Argv: []string{"sh", "-c", "sleep 60 & wait"}}, 200 * time.Millisecond, Fail, "lint.error", "slow on "},
		{"extensions match in any case", []string{"A.GO"}, Command{Argv: []string{"sh", "-c", "exit 1"}}, 0, Warn, "lint.finding", "exit status 1"},
		{"no linter for the file kind", []string{"notes.md"}, Command{Argv: []string{"sh", "-c", "exit 1"}}, 0, Skip, "lint.no_tool", "no linter is configured"},
		{"missing file is not linted", []string{"-"}, Command{Argv: []string{"sh", "-c", "exit 1"}}, 0, Skip, "lint.missing_file", "not checked"},
		{"requires a missing config", []string{"a.go"}, Command{Name: "proj", Argv: []string{"sh", "-c", "exit 1"}, Requires: "proj.toml"}, 0, Skip, "lint.not_applicable", "proj: skipped"},
		{"runs in the file's directory", []string{"sub/a.go"}, Command{Argv: []string{"sh", "-c", "test \"$(pwd)\" = \"$0\" || { pwd; exit 1; }", "{dir}"}, Dir: "{dir}"}, 0, Pass, "", "passed"},
		{"environment is added", []string{"a.go"}, Command{Argv: []string{"sh", "-c", "test \"$VERIFY_X\" = yes"}, Env: []string{"VERIFY_X=yes"}}, 0, Pass, "", "passed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var claim Claim
			for _, f := range tt.files {
				if f != "-" {
					write(t, filepath.Join(dir, f), "x\n")
				}
				claim.Created = append(claim.Created, f)
			}
			o := offline(dir)
			o.Timeout = tt.timeout
			o.Linters = map[string][]Command{".go": {tt.tool}, ".-": {tt.tool}}
			if tt.files[0] == "-" {
				o.Linters = map[string][]Command{".go": {tt.tool}}
				claim.Created = []string{"gone.go"}
			}
			r := Run(context.Background(), claim, nil, o)
			assertCheck(t, r, CheckLint, tt.status, tt.code, tt.reasonHas)
		})
	}
}

// A command naming {file} runs per file, one naming {dir} per directory,
// and one naming neither once.
func TestInvocationsAreDeduplicated(t *testing.T) {
	needTool(t, "sh")
	tests := []struct {
		name, arg string
		want      int
	}{{"per file", "{file}", 3}, {"per directory", "{dir}", 2}, {"once", "project", 1}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			count := filepath.Join(t.TempDir(), "count")
			files := []string{"a/1.go", "a/2.go", "b/3.go"}
			for _, f := range files {
				write(t, filepath.Join(dir, f), "x")
			}
			o := offline(dir)
			o.Linters = map[string][]Command{".go": {{Argv: []string{"sh", "-c", `echo "$1" >> "$0"`, count, tt.arg}}}}
			r := Run(context.Background(), Claim{Modified: files}, nil, o)
			assertCheck(t, r, CheckLint, Pass, "", "passed")
			data, err := os.ReadFile(count)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(string(data), "\n"); got != tt.want {
				t.Errorf("ran %d times, want %d:\n%s", got, tt.want, data)
			}
		})
	}
}

// The output kept of a command is bounded.
func TestCommandOutputIsBounded(t *testing.T) {
	needTool(t, "sh")
	res, err := runCommand(context.Background(), time.Minute, 100, t.TempDir(), nil, []string{"sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.output, strings.Repeat("x", 100)+"\n… (99900 more bytes)") {
		t.Errorf("output %q…, want 100 bytes and a count of the rest", clip(res.output, 200))
	}
}

// A binary found only through "." in PATH is never run: it could be one
// the agent planted in the working directory.
func TestBinaryInCurrentDirectoryIsNotRun(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "planted-linter"), "#!/bin/sh\nexit 0\n")
	if err := os.Chmod(filepath.Join(dir, "planted-linter"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", ".")
	t.Chdir(dir)
	_, err := runCommand(context.Background(), time.Minute, 100, dir, nil, []string{"planted-linter"})
	if err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("got %v, want not installed", err)
	}
}

// tsc from e2e-hosts (the typescript package next to the pinned Node)
// type-checks a project with a tsconfig.json.
func TestTypecheckTypeScript(t *testing.T) {
	node := os.Getenv("SENTINEL_E2E_NODE")
	tsc := filepath.Join(filepath.Dir(node), "tsc")
	if _, err := os.Stat(tsc); node == "" || err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("SENTINEL_E2E_NODE=%q has no tsc beside it: .ci/run installs e2e-hosts", node)
		}
		t.Skip("set SENTINEL_E2E_NODE to e2e-hosts/node_modules/.bin/node to type-check TypeScript with the tsc beside it")
	}
	typecheckers := map[string][]Command{".ts": {{
		Name: "tsc", Argv: []string{tsc, "--noEmit", "--pretty", "false"}, Requires: "tsconfig.json",
		Env: []string{"PATH=" + filepath.Dir(node) + string(os.PathListSeparator) + os.Getenv("PATH")},
	}}}
	tests := []struct {
		name      string
		src       string
		tsconfig  bool
		status    Status
		code      string
		reasonHas string
	}{
		{"well typed", "export const n: number = 1;\n", true, Pass, "", "tsc passed"},
		{"type error", "export const n: number = \"one\";\n", true, Fail, "typecheck.finding", "TS2322"},
		{"no tsconfig", "export const n: number = \"one\";\n", false, Skip, "typecheck.not_applicable", "no tsconfig.json in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "src", "n.ts"), tt.src)
			if tt.tsconfig {
				write(t, filepath.Join(dir, "tsconfig.json"), `{"compilerOptions": {"strict": true, "noEmit": true}, "include": ["src"]}`)
			}
			o := offline(dir)
			o.Typecheckers = typecheckers
			r := Run(context.Background(), Claim{Created: []string{"src/n.ts"}}, nil, o)
			assertCheck(t, r, CheckTypecheck, tt.status, tt.code, tt.reasonHas)
		})
	}
}
