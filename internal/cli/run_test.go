package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunCommand(t *testing.T) {
	ws := t.TempDir()
	data := filepath.Join(t.TempDir(), "data")
	report := filepath.Join(t.TempDir(), "report.json")
	out, _ := run{args: []string{"run", "--workspace", ws, "--data-dir", data, "--trace", "--report", report, "--",
		"/bin/sh", "-c", "echo sandboxed > out.txt; cat out.txt; exit 4"}, code: 4, stdout: []string{"sandboxed"}}.do(t)
	if strings.Count(out, "sandboxed") != 1 {
		t.Errorf("stdout %q", out)
	}
	if b, err := os.ReadFile(filepath.Join(ws, "out.txt")); err != nil || string(b) != "sandboxed\n" {
		t.Errorf("the workspace file: %q, %v", b, err)
	}
	var rep struct {
		Mode     string `json:"mode"`
		ExitCode int    `json:"exit_code"`
		Layers   []struct {
			Name     string `json:"name"`
			Enforced bool   `json:"enforced"`
		} `json:"layers"`
		Trace struct {
			Written []string `json:"written"`
		} `json:"trace"`
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, b)
	}
	if rep.Mode != "sandbox" || rep.ExitCode != 4 || len(rep.Layers) < 6 {
		t.Errorf("report: %+v", rep)
	}
	found := false
	for _, w := range rep.Trace.Written {
		found = found || w == filepath.Join(ws, "out.txt")
	}
	if !found {
		t.Errorf("the trace's written files %v lack out.txt", rep.Trace.Written)
	}

	run{args: []string{"run", "--workspace", ws, "--mode", "dry-run", "--", "ls", "-la"}, code: ExitOK,
		stdout: []string{"would run ls -la", "network:   none", "hidden:"}}.do(t)
	run{args: []string{"run", "--workspace", ws, "--", "no-such-command-here"}, code: ExitRunNotFound,
		stderr: []string{"no-such-command-here", "command not found"}}.do(t)
	run{args: []string{"run", "--workspace", ws, "--profile", "nope", "--", "true"}, code: ExitRunFailed,
		stderr: []string{`no sandbox profile "nope"`, "known: default"}}.do(t)
	run{args: []string{"run", "--workspace", ws, "--mode", "later", "--", "true"}, code: ExitRunFailed, stderr: []string{"--mode"}}.do(t)
	run{args: []string{"run", "--workspace", ws}, code: ExitRunFailed, stderr: []string{"name the command"}}.do(t)
	run{args: []string{"run", "--workspace", filepath.Join(ws, "missing"), "--", "true"}, code: ExitRunFailed, stderr: []string{"not a directory"}}.do(t)
	pol := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(pol, []byte("version: 1\nsandbox:\n  profiles:\n    quick:\n      writable: ['${workspace}']\n      limits: {wall: 1s}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run{args: []string{"run", "--policy", pol, "--profile", "quick", "--workspace", ws, "--", "sleep", "30"}, code: 137,
		stderr: []string{"killed at the profile's wall time (1s)"}}.do(t)
}
