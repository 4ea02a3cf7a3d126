package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/sandbox/profile"
)

// Check is one thing Probe tried inside a throwaway sandbox.
type Check struct {
	Layer    string
	Enforced bool
	Detail   string
}

// Probe says which layers this machine really enforces: it runs small
// forbidden things in a throwaway sandbox with the default profile and
// reports whether each was stopped. Configured is not enforced: a layer
// counts only when the attempt failed.
func Probe(ctx context.Context) []Check {
	base, err := os.MkdirTemp("", "sentinel-probe-")
	if err != nil {
		return []Check{{Layer: "sandbox", Detail: "no scratch directory: " + err.Error()}}
	}
	defer os.RemoveAll(base)
	home, ws, outside := filepath.Join(base, "home"), filepath.Join(base, "ws"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(home, ".ssh"), ws, outside} {
		_ = os.MkdirAll(d, 0o700)
	}
	_ = os.WriteFile(filepath.Join(home, ".ssh", "id_rsa"), []byte("probe-secret"), 0o600)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return []Check{{Layer: "sandbox", Detail: "no loopback listener: " + err.Error()}}
	}
	defer ln.Close()
	hit := make(chan struct{}, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case hit <- struct{}{}:
			default:
			}
			c.Close()
		}
	}()
	p := profile.Default()
	p.Limits.Wall = "20s"
	p.BestEffort = true // report what is missing instead of refusing
	r, err := p.Resolve("probe", profile.Vars{Workspace: ws, Home: home, DataDir: filepath.Join(base, "data")})
	if err != nil {
		return []Check{{Layer: "sandbox", Detail: err.Error()}}
	}
	port := ln.Addr().(*net.TCPAddr).Port
	// Each line prints what it managed; silence means refused.
	script := fmt.Sprintf(`touch %[1]s/escaped 2>/dev/null && echo WROTE-OUTSIDE
cat %[2]s/.ssh/id_rsa 2>/dev/null
unshare -U true 2>/dev/null && echo UNSHARED
(exec 3<>/dev/tcp/127.0.0.1/%[3]d) 2>/dev/null && echo CONNECTED
grep -q '^CapEff:[[:space:]]*0*$' /proc/self/status || echo HAS-CAPS
grep -q '^NoNewPrivs:[[:space:]]*1' /proc/self/status || echo NEW-PRIVS
test "$(ls /proc | grep -c '^[0-9]')" -lt 10 || echo SEES-HOST-PIDS
echo done`, outside, home, port)
	var out bytes.Buffer
	shell := "/bin/sh"
	if _, err := os.Stat("/bin/bash"); err == nil {
		shell = "/bin/bash" // for /dev/tcp
	}
	res, err := Run(ctx, Spec{Argv: []string{shell, "-c", script}, Profile: r, Environ: []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin"},
		Stdout: &out, Stderr: &bytes.Buffer{}})
	if err != nil {
		return []Check{{Layer: "sandbox", Detail: "a sandbox could not start: " + err.Error()}}
	}
	o := out.String()
	connected := strings.Contains(o, "CONNECTED")
	select {
	case <-hit:
		connected = true
	case <-time.After(50 * time.Millisecond):
	}
	checks := []Check{
		{"namespaces", strings.Contains(o, "done") && !strings.Contains(o, "SEES-HOST-PIDS"), "own PID namespace: host processes invisible"},
		{"read-only file system", !strings.Contains(o, "WROTE-OUTSIDE"), "a write outside the workspace fails"},
		{"hidden credentials", !strings.Contains(o, "probe-secret"), "~/.ssh/id_rsa reads as missing"},
		{"network none", !connected, "a host loopback listener is unreachable"},
		{"seccomp", !strings.Contains(o, "UNSHARED"), "unshare(CLONE_NEWUSER) fails"},
		{"capabilities", !strings.Contains(o, "HAS-CAPS") && !strings.Contains(o, "NEW-PRIVS"), "no effective capabilities, no_new_privs set"},
	}
	for _, l := range res.Layers {
		switch l.Name {
		case "landlock", "cgroup memory", "cgroup pids":
			checks = append(checks, Check{l.Name, l.Enforced, l.Detail})
		}
	}
	return checks
}
