package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/sharedpolicy"
	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
)

// lockedBuffer is an output stream the server goroutine writes while the
// test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var listening = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// TestServerCommand runs `sentinel server` in process: it serves, decides
// and records, and on cancellation (SIGTERM's effect) drains, flushes the
// audit log and signs its shutdown checkpoint, so the chain verifies.
func TestServerCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	srv := serve(t, "--data-dir", data, "--workspace", dir)
	base := srv.base
	resp, err := http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/health: %d", resp.StatusCode)
	}
	for cmd, want := range map[string]string{"git status": `"action":"allow"`, "rm -rf /": `"action":"deny"`} {
		resp, err := http.Post(base+"/v1/check", "application/json", strings.NewReader(`{"tool":"Bash","args":{"command":"`+cmd+`"}}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), want) {
			t.Errorf("check %q: %s, want %s", cmd, body, want)
		}
	}
	if code := srv.stop(); code != ExitOK {
		t.Fatalf("the server exited with %d:\n%s\n%s", code, srv.out.String(), srv.errb.String())
	}
	if !strings.Contains(srv.out.String(), "sentinel server stopped") {
		t.Errorf("no stop message:\n%s", srv.out.String())
	}
	// Both decisions are in the chain, which verifies with its shutdown
	// checkpoint.
	run{args: []string{"audit", "verify", "--data-dir", data}, code: ExitOK, stdout: []string{"2 events"}}.do(t)
	if !strings.Contains(srv.errb.String(), `"route":"check"`) {
		t.Errorf("the request log lacks the check requests:\n%s", srv.errb.String())
	}
}

func TestServerRefusals(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	run{args: []string{"server", "--addr", "0.0.0.0:0", "--data-dir", data, "--workspace", dir}, code: ExitError,
		stderr: []string{"refusing to listen on 0.0.0.0:0 without authentication"}}.do(t)
	run{args: []string{"server", "--addr", "127.0.0.1:0", "--token", "short", "--data-dir", data, "--workspace", dir}, code: ExitError,
		stderr: []string{"the token is too weak"}}.do(t)
	run{args: []string{"server", "--audit-mode", "sometimes", "--data-dir", data}, code: ExitError,
		stderr: []string{"--audit-mode \"sometimes\""}}.do(t)
	run{args: []string{"server", "--debug-addr", "0.0.0.0:6060", "--addr", "127.0.0.1:0", "--data-dir", data, "--workspace", dir}, code: ExitError,
		stderr: []string{"not a loopback address"}}.do(t)
}

func TestDoctor(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	out, _ := run{args: []string{"doctor", "--data-dir", data}, code: ExitOK,
		stdout: []string{"ok    policy: the built-in policy", "is private (mode 0700)", "reachable, 0 events", "bind address 127.0.0.1:3300 is loopback", "0 problems"}}.do(t)
	if !strings.Contains(out, "warn  auth: off") {
		t.Errorf("doctor does not warn that auth is off:\n%s", out)
	}
	// Open permissions and a public bind without auth are problems.
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	run{args: []string{"doctor", "--data-dir", data, "--addr", "0.0.0.0:3300"}, code: ExitError,
		stdout: []string{"FAIL  data dir", "chmod 0700", "FAIL  bind address 0.0.0.0:3300 is not loopback and there is no authentication"}}.do(t)
	// A broken policy is a problem.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nbogus: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run{args: []string{"doctor", "--data-dir", data, "--policy", bad}, code: ExitError, stdout: []string{"FAIL  policy " + bad}}.do(t)
}

// served is a `sentinel server` running in process.
type served struct {
	base      string
	out, errb *lockedBuffer
	// stop cancels the server's context (SIGTERM's effect) and returns
	// its exit code; the test's end stops it too.
	stop func() int
}

// serve runs `sentinel server` in process with args and waits until it
// listens.
func serve(t *testing.T, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{out: &lockedBuffer{}, errb: &lockedBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, append([]string{"server", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), s.out, s.errb)
	}()
	code, stopped := 0, false
	s.stop = func() int {
		if !stopped {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Error("the server did not stop after its context ended")
				code = -1
			}
			stopped = true
		}
		return code
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := listening.FindStringSubmatch(s.out.String()); m != nil {
			s.base = m[1]
			return s
		}
		select {
		case code := <-done:
			t.Fatalf("the server exited with %d before listening:\n%s\n%s", code, s.out.String(), s.errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start:\n%s\n%s", s.out.String(), s.errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServerSharedPolicy: with --shared-policy the server decides with the
// newest policy revision in its store, not the policy it was started with.
func TestServerSharedPolicy(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(data, "audit.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := []byte("version: 1\nextends: builtin\nrules:\n  - id: no-status\n    when: \"call.kind == 'exec' && call.args.command.contains('git status')\"\n    action: deny\n    reason: not today\n")
	err = st.AppendPolicy(context.Background(), sharedpolicy.Revision{Seq: 1, Hash: sharedpolicy.Hash(src), Source: src, By: "ops", At: time.Now()})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	check := func(base string) string {
		resp, err := http.Post(base+"/v1/check", "application/json", strings.NewReader(`{"tool":"Bash","args":{"command":"git status"}}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if got := check(serve(t, "--data-dir", data, "--workspace", dir, "--shared-policy").base); !strings.Contains(got, `"action":"deny"`) || !strings.Contains(got, "no-status") {
		t.Errorf("git status with the shared policy: %s, want the stored rule's deny", got)
	}
	if got := check(serve(t, "--data-dir", data, "--workspace", dir).base); !strings.Contains(got, `"action":"allow"`) {
		t.Errorf("git status without --shared-policy: %s, want the built-in policy's allow", got)
	}
}

// TestServerSharedSessions: with --shared-sessions a session's flags go to
// the store, where another replica reads them.
func TestServerSharedSessions(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	base := serve(t, "--data-dir", data, "--workspace", dir, "--shared-sessions").base
	resp, err := http.Post(base+"/v1/check", "application/json",
		strings.NewReader(`{"tool":"WebFetch","session":"s-web","args":{"url":"https://docs.example.com/page","prompt":"summarise"}}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"action":"allow"`) {
		t.Fatalf("the fetch: %s", body)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(data, "audit.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srcs, err := st.SessionFlags(context.Background(), "s-web")
	if err != nil || len(srcs) != 1 || srcs[0].Flag != "untrusted" || srcs[0].Tool != "WebFetch" {
		t.Errorf("the store holds %+v, %v; want the fetch's untrusted flag", srcs, err)
	}
}
