package client_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPythonExample runs examples/python/sentinel_check.py against the
// real server, when python3 is installed.
func TestPythonExample(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	script, err := filepath.Abs(filepath.Join("..", "examples", "python", "sentinel_check.py"))
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t)
	tests := []struct {
		name  string
		args  []string
		token string
		stdin string
		exit  int
		out   []string // in stdout, or in stderr for exit 1
	}{
		{name: "allowed", args: []string{"exec", "command=go test ./..."}, token: ts.AgentToken, exit: 0,
			out: []string{"ALLOW  risk", "decision d_"}},
		{name: "denied", args: []string{"exec", "command=rm -rf /"}, token: ts.AgentToken, exit: 2,
			out: []string{"DENY  risk", "command.recursive_delete_root", "decision d_"}},
		{name: "confirm", args: []string{"--stdin"}, stdin: `{"tool":"exec","args":{"command":"git push --force origin main"}}`,
			token: ts.AgentToken, exit: 3, out: []string{"CONFIRM", "command.force_push", "approval ap_", "pending"}},
		{name: "no token", args: []string{"exec", "command=ls"}, exit: 1, out: []string{"HTTP 401 auth.missing_token"}},
		{name: "bad argument", args: []string{"exec", "command"}, token: ts.AgentToken, exit: 1, out: []string{"not key=value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(py, append([]string{script}, tt.args...)...)
			cmd.Env = append(os.Environ(), "SENTINEL_URL="+ts.URL, "SENTINEL_TOKEN="+tt.token, "SENTINEL_SESSION=py-1")
			cmd.Stdin = strings.NewReader(tt.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.exit {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.exit, stdout.String(), stderr.String())
			}
			got := stdout.String()
			if tt.exit == 1 {
				got = stderr.String()
			}
			for _, want := range tt.out {
				if !strings.Contains(got, want) {
					t.Errorf("output lacks %q:\n%s", want, got)
				}
			}
		})
	}
	// The script sent the session: the denied call's decision carries it.
	found := false
	for _, e := range ts.events(t, "decision") {
		found = found || e.Session == "py-1" && e.Decision.Action == "deny"
	}
	if !found {
		t.Errorf("no denied decision in session py-1 in the audit log")
	}
}

// An unreachable server is exit 1, never an allow.
func TestPythonExampleUnreachable(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	ts, err := startServer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	url := ts.URL
	ts.Close()
	cmd := exec.Command(py, filepath.Join("..", "examples", "python", "sentinel_check.py"), "exec", "command=ls")
	cmd.Env = append(os.Environ(), "SENTINEL_URL="+url)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "no answer from") {
		t.Errorf("err %v, output %s; want exit 1 saying there was no answer", err, out)
	}
}
