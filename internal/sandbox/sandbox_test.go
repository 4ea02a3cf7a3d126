package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/sandbox/profile"
)

func TestMain(m *testing.M) {
	Main()
	os.Exit(m.Run())
}

// world is a fake home with credentials, a workspace and a data dir.
type world struct {
	home, ws, data, outside string
}

func newWorld(t *testing.T) world {
	t.Helper()
	base := t.TempDir()
	w := world{home: filepath.Join(base, "home"), ws: filepath.Join(base, "ws"), data: filepath.Join(base, "home", ".sentinel"),
		outside: filepath.Join(base, "outside")}
	for _, d := range []string{w.ws, w.data, w.outside, filepath.Join(w.home, ".ssh")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for path, body := range map[string]string{
		filepath.Join(w.home, ".ssh", "id_rsa"): "PRIVATE-KEY-MARKER",
		filepath.Join(w.data, "audit.db"):       "AUDIT-MARKER",
		filepath.Join(w.outside, "keep.txt"):    "OUTSIDE-MARKER",
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w world) profile(t *testing.T, mod func(*profile.Profile)) *profile.Resolved {
	t.Helper()
	p := profile.Default()
	p.Limits.Wall = "20s"
	if mod != nil {
		mod(&p)
	}
	r, err := p.Resolve("test", profile.Vars{Workspace: w.ws, Home: w.home, DataDir: w.data})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func run(t *testing.T, w world, r *profile.Resolved, mode Mode, script string) (*Result, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	res, err := Run(context.Background(), Spec{Argv: []string{"/bin/sh", "-c", script}, Profile: r, Mode: mode,
		Environ: []string{"PATH=/usr/bin:/bin", "HOME=" + w.home, "GITHUB_TOKEN=ghp_" + strings.Repeat("a", 36), "LANG=C"},
		Stdout:  &out, Stderr: &errb, Trace: true})
	if err != nil {
		t.Fatalf("Run(%q): %v", script, err)
	}
	return res, out.String(), errb.String()
}

func needSandbox(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 && os.Getenv("CI") == "" {
		if _, err := os.Stat("/proc/self/ns/user"); err != nil {
			t.Skip("no user namespaces")
		}
	}
}

func TestSandboxRunsAndConfines(t *testing.T) {
	needSandbox(t)
	w := newWorld(t)
	hostTmp := filepath.Join(os.TempDir(), "sentinel-host-marker-"+fmt.Sprint(os.Getpid()))
	if err := os.WriteFile(hostTmp, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(hostTmp)
	script := fmt.Sprintf(`echo hello; pwd
echo made > %[1]s/made.txt && echo ws-write-ok
echo bad > %[2]s/pwned.txt 2>/dev/null || echo outside-write-refused
cat %[3]s/.ssh/id_rsa 2>/dev/null || echo key-hidden
cat %[4]s/audit.db 2>/dev/null || echo data-hidden
test -e %[5]s || echo host-tmp-private
echo private > /tmp/own.txt && echo tmp-write-ok
test -z "$GITHUB_TOKEN" && echo token-kept-out
exit 7`, w.ws, w.outside, w.home, w.data, hostTmp)
	// GITHUB_* is let in by name; the token's value keeps it out.
	r := w.profile(t, func(p *profile.Profile) { p.Env = append(p.Env, "GITHUB_*") })
	res, out, errs := run(t, w, r, Sandboxed, script)
	for _, want := range []string{"hello", w.ws, "ws-write-ok", "outside-write-refused", "key-hidden", "data-hidden", "host-tmp-private", "tmp-write-ok", "token-kept-out"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s\nstderr: %s", want, out, errs)
		}
	}
	for _, bad := range []string{"PRIVATE-KEY-MARKER", "AUDIT-MARKER"} {
		if strings.Contains(out, bad) {
			t.Errorf("the sandbox read %s", bad)
		}
	}
	if res.ExitCode != 7 {
		t.Errorf("exit code %d, want 7", res.ExitCode)
	}
	if _, err := os.Stat(filepath.Join(w.ws, "made.txt")); err != nil {
		t.Errorf("the workspace write did not reach the host: %v", err)
	}
	if _, err := os.Stat(filepath.Join(w.outside, "pwned.txt")); err == nil {
		t.Error("the command wrote outside its writable paths")
	}
	for _, name := range []string{"namespaces", "file system", "network", "landlock", "seccomp", "capabilities", "cgroup memory", "cgroup pids"} {
		found := false
		for _, l := range res.Layers {
			if l.Name == name {
				found = true
				if !l.Enforced {
					t.Errorf("layer %s not enforced: %s", name, l.Detail)
				}
			}
		}
		if !found {
			t.Errorf("no %s layer in %+v", name, res.Layers)
		}
	}
	if strings.Join(res.Dropped, ",") != "GITHUB_TOKEN" {
		t.Errorf("dropped %v, want GITHUB_TOKEN", res.Dropped)
	}
	// The trace saw the shell start and the workspace file written.
	if res.Trace == nil || len(res.Trace.Executed) == 0 || res.Trace.Executed[0][0] != "/bin/sh" {
		t.Errorf("trace executed: %+v", res.Trace)
	}
	if !containsString(res.Trace.Written, filepath.Join(w.ws, "made.txt")) {
		t.Errorf("trace written %v lacks made.txt", res.Trace.Written)
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestSandboxNetworkNone(t *testing.T) {
	needSandbox(t)
	w := newWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hits := make(chan struct{}, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			hits <- struct{}{}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash for /dev/tcp")
	}
	script := fmt.Sprintf(`%s -c 'echo x > /dev/tcp/127.0.0.1/%d' 2>/dev/null && echo connected || echo refused`, bash, port)
	_, out, _ := run(t, w, w.profile(t, nil), Sandboxed, script)
	if !strings.Contains(out, "refused") {
		t.Errorf("network none: %s", out)
	}
	select {
	case <-hits:
		t.Error("the host listener got a connection from the sandbox")
	case <-time.After(100 * time.Millisecond):
	}
}

func TestSandboxAllowlistGoesThroughTheProxy(t *testing.T) {
	needSandbox(t)
	w := newWorld(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash for /dev/tcp")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("upstream-says-hi\n"))
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	r := w.profile(t, func(p *profile.Profile) {
		p.Network = profile.NetworkAllowlist
		p.Allow = []string{fmt.Sprintf("127.0.0.1:%d", port)}
		p.AllowPrivate = true
	})
	connect := func(target string) string {
		return fmt.Sprintf(`%s -c 'exec 3<>/dev/tcp/127.0.0.1/3128; printf "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" >&3; timeout 5 cat <&3'`, bash, target, target)
	}
	script := "echo proxy=$HTTPS_PROXY\n" + connect(fmt.Sprintf("127.0.0.1:%d", port)) + "\necho ---\n" + connect("127.0.0.1:1")
	res, out, errs := run(t, w, r, Sandboxed, script)
	if !strings.Contains(out, "proxy=http://127.0.0.1:3128") {
		t.Errorf("proxy variables not set:\n%s", out)
	}
	allowed, denied, _ := strings.Cut(out, "---")
	if !strings.Contains(allowed, "200") || !strings.Contains(allowed, "upstream-says-hi") {
		t.Errorf("allowed CONNECT:\n%s\nstderr: %s", allowed, errs)
	}
	if !strings.Contains(denied, "403") || strings.Contains(denied, "upstream-says-hi") {
		t.Errorf("denied CONNECT:\n%s", denied)
	}
	var ok, refused int
	for _, a := range res.Egress {
		if a.Allowed {
			ok++
		} else {
			refused++
		}
	}
	if ok != 1 || refused != 1 {
		t.Errorf("egress log %+v; want one allowed, one refused", res.Egress)
	}
}

func TestSandboxKillsAtWallTime(t *testing.T) {
	needSandbox(t)
	w := newWorld(t)
	r := w.profile(t, func(p *profile.Profile) { p.Limits.Wall = "1s" })
	marker := "sentinel-sleeper-" + fmt.Sprint(time.Now().UnixNano())
	start := time.Now()
	res, _, _ := run(t, w, r, Sandboxed, fmt.Sprintf(`(setsid sh -c 'exec -a %s sleep 600' &) ; sleep 600`, marker))
	if res.Killed != "timeout" || time.Since(start) > 15*time.Second {
		t.Errorf("killed %q after %s; want a timeout near 1s", res.Killed, time.Since(start))
	}
	out, _ := exec.Command("pgrep", "-f", marker).Output()
	if len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("processes of the run outlived it: %s", out)
	}
}

func TestDryRunRunsNothing(t *testing.T) {
	w := newWorld(t)
	target := filepath.Join(w.ws, "created")
	res, out, _ := run(t, w, w.profile(t, nil), DryRun, "touch "+target)
	if res.Plan == nil || res.Plan.Path != "/bin/sh" || res.Plan.Network != "none" || out != "" {
		t.Errorf("plan %+v, output %q", res.Plan, out)
	}
	if _, err := os.Stat(target); err == nil {
		t.Error("a dry run ran the command")
	}
}

func TestDirectModeFiltersEnvironment(t *testing.T) {
	w := newWorld(t)
	res, out, _ := run(t, w, w.profile(t, nil), Direct, `echo "lang=$LANG token=$GITHUB_TOKEN"; exit 3`)
	if !strings.Contains(out, "lang=C token=\n") || res.ExitCode != 3 {
		t.Errorf("direct: %q exit %d", out, res.ExitCode)
	}
	if len(res.Layers) != 1 || res.Layers[0].Enforced {
		t.Errorf("direct mode layers %+v; want one, not enforced", res.Layers)
	}
}

func TestRunRefusesBadSpecs(t *testing.T) {
	w := newWorld(t)
	r := w.profile(t, nil)
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Profile: r}, "no command"},
		{Spec{Argv: []string{"true"}}, "no profile"},
		{Spec{Argv: []string{"no-such-command-x"}, Profile: r, Environ: []string{"PATH=/usr/bin:/bin"}}, "not found"},
		{Spec{Argv: []string{"true"}, Profile: r, Mode: "maybe"}, "use direct, sandbox or dry-run"},
		{Spec{Argv: []string{"true"}, Profile: r, Dir: "/nonexistent-dir"}, "not a directory"},
	} {
		_, err := Run(context.Background(), tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v; want %q", tc.spec.Argv, err, tc.want)
		}
	}
	_, err := Run(context.Background(), Spec{Argv: []string{"no-such-command-x"}, Profile: r, Environ: []string{"PATH=/usr/bin"}})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing command: %v; want ErrNotFound", err)
	}
}

func TestSandboxLocalhostPorts(t *testing.T) {
	needSandbox(t)
	w := newWorld(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash for /dev/tcp")
	}
	var ports []int
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_, _ = c.Write([]byte("host-service\n"))
				c.Close()
			}
		}()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	r := w.profile(t, func(p *profile.Profile) {
		p.Network = profile.NetworkLocalhost
		p.LocalPorts = []int{ports[0]}
	})
	script := fmt.Sprintf(`%[1]s -c 'exec 3<>/dev/tcp/127.0.0.1/%[2]d; timeout 5 cat <&3'; echo ---
%[1]s -c 'exec 3<>/dev/tcp/127.0.0.1/%[3]d && echo reached-other-port' 2>/dev/null; echo end`, bash, ports[0], ports[1])
	_, out, errs := run(t, w, r, Sandboxed, script)
	listed, other, _ := strings.Cut(out, "---")
	if !strings.Contains(listed, "host-service") {
		t.Errorf("the listed port is not reachable:\n%s\n%s", out, errs)
	}
	if strings.Contains(other, "reached-other-port") || !strings.Contains(other, "end") {
		t.Errorf("a port the profile does not list was reachable:\n%s", out)
	}
}

func TestSandboxSeccompIsConfigurable(t *testing.T) {
	needSandbox(t)
	w := newWorld(t)
	script := "mkdir made && echo mkdir-ok || echo mkdir-refused"
	_, out, _ := run(t, w, w.profile(t, nil), Sandboxed, script)
	if !strings.Contains(out, "mkdir-ok") {
		t.Fatalf("mkdir under the default filter: %s", out)
	}
	r := w.profile(t, func(p *profile.Profile) { p.Seccomp.Deny = []string{"mkdir", "mkdirat"} })
	_, out, _ = run(t, w, r, Sandboxed, "rmdir made; "+script)
	if !strings.Contains(out, "mkdir-refused") {
		t.Errorf("mkdir with mkdir denied by the profile: %s", out)
	}
	// An unknown system call name in the profile refuses the run.
	r = w.profile(t, func(p *profile.Profile) { p.Seccomp.Deny = []string{"no_such_call"} })
	if _, err := Run(context.Background(), Spec{Argv: []string{"/bin/true"}, Profile: r}); err == nil || !strings.Contains(err.Error(), "no_such_call") {
		t.Errorf("unknown system call: %v", err)
	}
}

func TestSandboxInheritsNoDescriptors(t *testing.T) {
	needSandbox(t)
	w := newWorld(t)
	// A descriptor this process holds without close-on-exec, as a Go
	// program holds what it was started with: a directory outside the
	// workspace, which would be a way out of the new root.
	fd, err := syscall.Open(w.outside, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	_, out, _ := run(t, w, w.profile(t, nil), Sandboxed, fmt.Sprintf("ls /proc/self/fd | tr '\\n' ' '; cat /proc/self/fd/%d/keep.txt 2>/dev/null", fd))
	if strings.TrimSpace(out) != "0 1 2 3" {
		t.Errorf("the command holds descriptors %q; want only 0 1 2 and ls's own 3", out)
	}
}
