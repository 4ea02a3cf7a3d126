package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/audit"
	sentinelhook "github.com/sentinel-agent/sentinel/internal/hook"
	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
)

// claude returns the Claude Code binary .ci/run installed, or skips (fails
// under CI).
func claude(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SENTINEL_E2E_CLAUDE"); p != "" {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("SENTINEL_E2E_CLAUDE is not set: .ci/run installs Claude Code from npm and names its binary there")
	}
	t.Skip("set SENTINEL_E2E_CLAUDE to the claude binary (npm @anthropic-ai/claude-code) to run the Claude Code end-to-end test")
	return ""
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// sentinel builds the sentinel binary once per test run.
func sentinel(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sentinel-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sentinel")
		// The thin hook client goes next to it, where hook install looks.
		out, err := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
			"github.com/sentinel-agent/sentinel/cmd/sentinel", "github.com/sentinel-agent/sentinel/cmd/sentinel-hook").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building sentinel: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// ccResult is what `claude -p --output-format json` prints.
type ccResult struct {
	Result            string `json:"result"`
	IsError           bool   `json:"is_error"`
	PermissionDenials []struct {
		ToolName  string         `json:"tool_name"`
		ToolUseID string         `json:"tool_use_id"`
		ToolInput map[string]any `json:"tool_input"`
	} `json:"permission_denials"`
}

// TestClaudeCodeHook runs the real Claude Code against a fake Messages API
// with Sentinel registered as its PreToolUse/PostToolUse hook: a dangerous
// Bash call is denied and does not run, a benign one runs, and both
// decisions are in Sentinel's audit log. It runs with the hook deciding
// in its own process and with sentinel-hook --local asking the
// on-demand server it starts.
func TestClaudeCodeHook(t *testing.T) {
	for _, mode := range []string{"in-process", "local"} {
		t.Run(mode, func(t *testing.T) { testClaudeCodeHook(t, mode) })
	}
}

func testClaudeCodeHook(t *testing.T, mode string) {
	cc := claude(t)
	bin := sentinel(t)
	home, ws := t.TempDir(), t.TempDir()
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(home, ".ssh", "id_ed25519")
	if err := os.WriteFile(key, []byte("not a real key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hook := bin + " hook claude-code --data-dir " + data + " --workspace " + ws
	if mode == "local" {
		hook = filepath.Join(filepath.Dir(bin), "sentinel-hook") + " claude-code --local --idle-exit 2s --data-dir " + data + " --workspace " + ws
		t.Cleanup(func() {
			deadline := time.Now().Add(30 * time.Second)
			for len(sentinelhook.RunningLocalServers(data)) > 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if socks := sentinelhook.RunningLocalServers(data); len(socks) > 0 {
				t.Errorf("the on-demand server did not stop after its idle exit: %v", socks)
			}
		})
	}
	settings := map[string]any{"hooks": map[string]any{
		"PreToolUse":  []any{map[string]any{"matcher": "*", "hooks": []any{map[string]any{"type": "command", "command": hook, "timeout": 30}}}},
		"PostToolUse": []any{map[string]any{"matcher": "*", "hooks": []any{map[string]any{"type": "command", "command": hook, "timeout": 30}}}},
	}}
	sb, _ := json.Marshal(settings)
	if err := os.MkdirAll(filepath.Join(home, ".claude"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".claude", "settings.json"), sb, 0o600); err != nil {
		t.Fatal(err)
	}
	api := newFakeAnthropic(t)
	api.plan("E2E-DANGEROUS", "rm -rf ~/.ssh")
	api.plan("E2E-BENIGN", "touch ran.txt")

	run := func(prompt string) ccResult {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, cc, "-p", prompt, "--output-format", "json")
		cmd.Dir = ws
		cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "ANTHROPIC_BASE_URL=" + api.srv.URL,
			"ANTHROPIC_API_KEY=sk-ant-e2e-fake", "DISABLE_TELEMETRY=1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
			"DISABLE_AUTOUPDATER=1", "TMPDIR=" + os.TempDir()}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("claude -p %q: %v\nstdout: %s\nstderr: %s", prompt, err, stdout.String(), stderr.String())
		}
		var res ccResult
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
			t.Fatalf("claude's output is not JSON: %v\n%s", err, stdout.String())
		}
		return res
	}

	res := run("E2E-DANGEROUS: clean up the ssh directory")
	if len(res.PermissionDenials) != 1 || res.PermissionDenials[0].ToolName != "Bash" ||
		res.PermissionDenials[0].ToolInput["command"] != "rm -rf ~/.ssh" {
		t.Fatalf("the dangerous call is not among the permission denials: %+v", res.PermissionDenials)
	}
	if _, err := os.Stat(key); err != nil {
		t.Fatalf("the file the denied call would have deleted is gone: %v", err)
	}

	res = run("E2E-BENIGN: make the marker file")
	if len(res.PermissionDenials) != 0 {
		t.Fatalf("the benign call was denied: %+v", res.PermissionDenials)
	}
	if _, err := os.Stat(filepath.Join(ws, "ran.txt")); err != nil {
		t.Fatalf("the benign call did not run: %v", err)
	}

	st, err := sqlite.Open(context.Background(), filepath.Join(data, "audit.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Query(context.Background(), audit.Filter{Tool: "Bash", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		if r.Type == audit.TypeDecision {
			actions = append(actions, r.Action)
		}
	}
	sort.Strings(actions)
	if mode == "local" && len(sentinelhook.RunningLocalServers(data)) != 1 {
		t.Errorf("on-demand servers %v; want the one the first call started", sentinelhook.RunningLocalServers(data))
	}
	if strings.Join(actions, ",") != "allow,deny" {
		t.Fatalf("the audit log holds Bash decisions %v, want one allow and one deny", actions)
	}
	rep, err := audit.VerifyStore(context.Background(), st)
	if err != nil || !rep.OK() {
		t.Fatalf("the audit chain does not verify: %v %v", err, rep.Problem)
	}
}
