package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/hook"
)

// BenchmarkHookProcess measures what a Claude Code user pays per tool call:
// the whole hook process (start, read the event, decide, answer), run as
// Claude Code runs it. "standalone" is `sentinel hook claude-code`, which
// decides itself and records durably in the data dir's audit log; "thin" is
// `sentinel-hook claude-code --server`, asking a running `sentinel server`;
// "local" is `sentinel-hook claude-code --local`, asking the on-demand
// server it started on its first call (that first call is not counted:
// it is paid once per workspace and idle period). Each runs PreToolUse
// events ("pre") and PostToolUse events carrying a 3 KB command output
// ("post": the scan for credentials and injected instructions, then the
// outcome recorded).
// Report p50/p99 over at least 200 calls:
//
//	go test -run '^$' -bench HookProcess -benchtime 300x ./internal/e2e
func BenchmarkHookProcess(b *testing.B) {
	bin := sentinel(b)
	b.Run("standalone", func(b *testing.B) {
		dir := b.TempDir()
		for _, ev := range []string{"pre", "post"} {
			b.Run(ev, func(b *testing.B) {
				runHooks(b, dir, ev, bin, "hook", "claude-code", "--data-dir", filepath.Join(dir, "data"), "--workspace", dir)
			})
		}
	})
	b.Run("local", func(b *testing.B) {
		dir := b.TempDir()
		data := filepath.Join(dir, "data")
		args := []string{"claude-code", "--local", "--idle-exit", "3s", "--data-dir", data, "--workspace", dir}
		thin := filepath.Join(filepath.Dir(bin), "sentinel-hook")
		// The first call starts the server.
		first := exec.Command(thin, args...)
		first.Stdin = strings.NewReader(fmt.Sprintf(`{"session_id":"s1","transcript_path":"/tmp/t.jsonl","cwd":%q,"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"true"},"tool_use_id":"toolu_first"}`, dir))
		if out, err := first.CombinedOutput(); err != nil {
			b.Fatalf("first call: %v\n%s", err, out)
		}
		for _, ev := range []string{"pre", "post"} {
			b.Run(ev, func(b *testing.B) { runHooks(b, dir, ev, thin, args...) })
		}
		b.Cleanup(func() {
			for deadline := time.Now().Add(30 * time.Second); len(hook.RunningLocalServers(data)) > 0 && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
		})
	})
	b.Run("thin", func(b *testing.B) {
		dir := b.TempDir()
		policy := filepath.Join(dir, "policy.yaml")
		if err := os.WriteFile(policy, []byte("version: 1\nextends: builtin\n"), 0o600); err != nil {
			b.Fatal(err)
		}
		url := startServer(b, bin, filepath.Join(dir, "data"), dir, policy)
		for _, ev := range []string{"pre", "post"} {
			b.Run(ev, func(b *testing.B) {
				runHooks(b, dir, ev, filepath.Join(filepath.Dir(bin), "sentinel-hook"), "claude-code", "--server", url)
			})
		}
	})
}

// runHooks runs the hook command b.N times with events of kind ev ("pre":
// PreToolUse for a mix of Bash commands; "post": PostToolUse with a 3 KB
// output) and reports the process time's quantiles.
func runHooks(b *testing.B, dir, ev, bin string, args ...string) {
	cmds := []string{"git status", "go test ./...", "ls -la", "rm -rf /", "cat README.md", "npm run build"}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		b.Fatal(err)
	}
	output := string(readme[:min(len(readme), 3000)])
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := fmt.Sprintf(`{"session_id":"s1","transcript_path":"/tmp/t.jsonl","cwd":%q,"permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":%q},"tool_use_id":"toolu_%s_%d"}`,
			dir, cmds[i%len(cmds)]+fmt.Sprintf(" # %d", i), ev, i)
		if ev == "post" {
			in = fmt.Sprintf(`{"session_id":"s1","transcript_path":"/tmp/t.jsonl","cwd":%q,"permission_mode":"default","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"cat README.md"},"tool_response":{"stdout":%q,"stderr":"","interrupted":false},"tool_use_id":"toolu_%s_%d"}`,
				dir, fmt.Sprintf("%s\n# %d", output, i), ev, i)
		}
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(in)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Env = append(os.Environ(), "HOME="+dir, "SENTINEL_TOKEN=")
		start := time.Now()
		err := cmd.Run()
		durations = append(durations, time.Since(start))
		if err != nil || ev == "pre" && !strings.Contains(out.String(), `"permissionDecision"`) {
			b.Fatalf("hook run %d: %v\n%s\n%s", i, err, out.String(), errb.String())
		}
	}
	b.StopTimer()
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	q := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}
