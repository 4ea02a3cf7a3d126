package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestListenUnix(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	sock := filepath.Join(dir, "s.sock")
	ln, closeLn, err := listenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, sock: 0o600} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, st.Mode().Perm(), err, want)
		}
	}
	// A second server on the same path is refused while the first runs.
	if _, _, err := listenUnix(sock); err == nil || !strings.Contains(err.Error(), "another Sentinel server") {
		t.Errorf("second listener: %v; want another-server refusal", err)
	}
	if ln.Addr().Network() != "unix" {
		t.Errorf("network %s", ln.Addr().Network())
	}
	closeLn()
	// A socket file a dead server left behind is replaced.
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("the stale socket is not there to test with: %v", err)
	}
	_, closeLn, err = listenUnix(sock)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	closeLn()

	// A directory others can enter is refused; so is a path too long.
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := listenUnix(filepath.Join(open, "s.sock")); err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Errorf("socket in a 0755 dir: %v; want a refusal", err)
	}
	if _, _, err := listenUnix(filepath.Join(dir, strings.Repeat("x", 120)+".sock")); err == nil || !strings.Contains(err.Error(), "shorter data dir") {
		t.Errorf("long path: %v; want a refusal", err)
	}
}

func TestServerSocketAndIdleExit(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	sock := filepath.Join(data, "run", "x.sock")
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(context.Background(), []string{"server", "--socket", sock, "--idle-exit", "500ms", "--data-dir", data, "--workspace", dir},
			strings.NewReader(""), &out, &errb)
	}()
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	deadline := time.Now().Add(10 * time.Second)
	var body string
	for {
		resp, err := c.Post("http://sentinel/v1/check", "application/json", strings.NewReader(`{"tool":"Bash","args":{"command":"rm -rf /"}}`))
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer on the socket: %v\n%s\n%s", err, out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(body, `"action":"deny"`) {
		t.Errorf("check over the socket: %s; want a deny", body)
	}
	if !strings.Contains(out.String(), "listening on unix:"+sock) || !strings.Contains(out.String(), "owner-only socket") {
		t.Errorf("start line: %s", out.String())
	}
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("idle exit: code %d\n%s", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the server did not stop after --idle-exit")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket is still there after the server stopped: %v", err)
	}
	run{args: []string{"server", "--socket", sock, "--idle-exit", "soon", "--data-dir", data}, code: ExitError,
		stderr: []string{"--idle-exit \"soon\""}}.do(t)
}
