package hook

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// CodeServerStart is the refusal when the on-demand server did not start.
const CodeServerStart = "hook.server_start_failed"

// DefaultIdleExit is how long an on-demand server waits for the next
// call before it stops.
const DefaultIdleExit = 30 * time.Minute

// LocalConfig says where RunLocal finds, or starts, the Sentinel server
// that decides for this data dir, workspace and policy.
type LocalConfig struct {
	// DataDir holds the audit store, the key and the run/ directory with
	// the servers' sockets and logs.
	DataDir string
	// Workspace is the workspace the server judges paths against; empty
	// means $CLAUDE_PROJECT_DIR, else the event's cwd.
	Workspace string
	// Policy is the policy file; empty means the built-in policy.
	Policy string
	// Sentinel is the sentinel binary that is started as the server.
	Sentinel string
	// Timeout bounds the whole hook call, start-up included.
	Timeout time.Duration
	// IdleExit is how long the started server waits for a call before
	// it stops; zero means DefaultIdleExit.
	IdleExit time.Duration
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// RunLocal answers one hook event as RunRemote does, asking a Sentinel
// server on a Unix socket in the data dir: one server per workspace,
// policy and sentinel binary, started on the first call and stopped
// after IdleExit without calls. Each call then costs a small process
// and one local request instead of compiling the policy and opening the
// store. A server that cannot be started or reached is a refusal.
func RunLocal(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, cfg LocalConfig) int {
	l, err := newLocal(cfg)
	if err != nil {
		return Refuse(stderr, err)
	}
	return Run(ctx, stdin, stdout, stderr, l.timeout, l)
}

type local struct {
	cfg     LocalConfig
	timeout time.Duration
	binary  string // identity of the sentinel binary: path, size, time
}

var _ Backend = (*local)(nil)

func newLocal(cfg LocalConfig) (*local, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.IdleExit == 0 {
		cfg.IdleExit = DefaultIdleExit
	}
	timeout := cfg.Timeout
	switch {
	case timeout == 0:
		timeout = DefaultTimeout
	case timeout < 0 || timeout > MaxTimeout:
		return nil, Errorf(CodeUsage, "timeout %s: use a duration between 1ms and %s", timeout, MaxTimeout)
	}
	if cfg.DataDir == "" {
		return nil, Errorf(CodeUsage, "no data dir: set --data-dir or SENTINEL_HOME")
	}
	var err error
	if cfg.DataDir, err = filepath.Abs(cfg.DataDir); err != nil {
		return nil, Errorf(CodeUsage, "data dir: %v", err)
	}
	if cfg.Policy != "" {
		if cfg.Policy, err = filepath.Abs(cfg.Policy); err != nil {
			return nil, Errorf(CodeUsage, "policy: %v", err)
		}
	}
	st, err := os.Stat(cfg.Sentinel)
	if err != nil || !st.Mode().IsRegular() {
		return nil, Errorf(CodeServerStart, "the sentinel binary %q is not there (%v); install it next to sentinel-hook or pass --sentinel", cfg.Sentinel, err)
	}
	id := fmt.Sprintf("%s\x00%d\x00%d", cfg.Sentinel, st.Size(), st.ModTime().UnixNano())
	return &local{cfg: cfg, timeout: timeout, binary: id}, nil
}

// workspace picks the event's workspace: the configured one,
// $CLAUDE_PROJECT_DIR, the event's cwd, the current directory.
func (l *local) workspace(in Input) (string, error) {
	ws := l.cfg.Workspace
	if ws == "" {
		ws = l.cfg.Getenv("CLAUDE_PROJECT_DIR")
	}
	if ws == "" {
		ws = in.Cwd
	}
	if ws == "" {
		var err error
		if ws, err = os.Getwd(); err != nil {
			return "", Errorf(CodeUsage, "no workspace: %v", err)
		}
	}
	ws, err := filepath.Abs(ws)
	if err != nil {
		return "", Errorf(CodeUsage, "workspace: %v", err)
	}
	return filepath.Clean(ws), nil
}

// socketFor names the socket of the server for ws: the same workspace,
// policy and binary share a server; an upgraded binary gets a new one
// (the old one stops when idle).
func (l *local) socketFor(ws string) string {
	h := sha256.Sum256([]byte(ws + "\x00" + l.cfg.Policy + "\x00" + l.binary))
	return filepath.Join(l.cfg.DataDir, "run", hex.EncodeToString(h[:8])+".sock")
}

func (l *local) remote(ctx context.Context, in Input) (*remote, error) {
	ws, err := l.workspace(in)
	if err != nil {
		return nil, err
	}
	sock := l.socketFor(ws)
	if len(sock) > 107 {
		return nil, Errorf(CodeUsage, "the socket path %s is longer than a Unix socket allows; use a shorter data dir (SENTINEL_HOME)", sock)
	}
	if err := l.ensure(ctx, sock, ws); err != nil {
		return nil, err
	}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}
	c := &http.Client{Timeout: l.timeout, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &remote{base: "http://sentinel", timeout: l.timeout, client: c, where: "unix:" + sock}, nil
}

func (l *local) Check(ctx context.Context, in Input) (Verdict, error) {
	r, err := l.remote(ctx, in)
	if err != nil {
		return Verdict{}, err
	}
	return r.Check(ctx, in)
}

func (l *local) Outcome(ctx context.Context, in Input, rep Report) error {
	r, err := l.remote(ctx, in)
	if err != nil {
		return err
	}
	return r.Outcome(ctx, in, rep)
}

var _ ScanningBackend = (*local)(nil)

// ScanOutcome implements ScanningBackend through the workspace's server.
func (l *local) ScanOutcome(ctx context.Context, in Input) (Report, error) {
	r, err := l.remote(ctx, in)
	if err != nil {
		return Report{}, err
	}
	return r.ScanOutcome(ctx, in)
}

// ensure makes sure a server answers on sock, starting one if none does.
func (l *local) ensure(ctx context.Context, sock, ws string) error {
	if c, err := net.Dial("unix", sock); err == nil {
		c.Close()
		return nil
	}
	logPath := strings.TrimSuffix(sock, ".sock") + ".log"
	exited, err := l.start(sock, ws, logPath)
	if err != nil {
		return err
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return Errorf(CodeTimeout, "the Sentinel server started on %s did not answer within %s; its log: %s", sock, l.timeout, logPath)
		case err := <-exited:
			// It lost the race to another server starting on the same
			// socket (that one holds the lock): wait for that one.
			// Otherwise it failed: say why.
			exited = nil
			if !lockHeld(sock + ".lock") {
				return Errorf(CodeServerStart, "the Sentinel server for %s did not start (%v): %s (log: %s)", ws, err, lastLine(logPath), logPath)
			}
		case <-tick.C:
		}
	}
}

// start runs `sentinel server` on sock in its own session, so that it
// outlives this hook; it reports on exited when it ends.
func (l *local) start(sock, ws, logPath string) (<-chan error, error) {
	if err := os.MkdirAll(filepath.Dir(sock), 0o700); err != nil {
		return nil, Errorf(CodeServerStart, "creating %s: %v", filepath.Dir(sock), err)
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, Errorf(CodeServerStart, "opening the server log: %v", err)
	}
	defer logf.Close()
	// Approvals stay with Claude Code's own prompt, as in the standalone
	// hook; each decision is durable before it is answered.
	args := []string{"server", "--socket", sock, "--data-dir", l.cfg.DataDir, "--workspace", ws,
		"--no-approvals", "--audit-mode", "sync", "--idle-exit", l.cfg.IdleExit.String(), "--log-format", "text"}
	if l.cfg.Policy != "" {
		args = append(args, "--policy", l.cfg.Policy)
	}
	cmd := exec.Command(l.cfg.Sentinel, args...)
	cmd.Dir = ws
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// A token in the environment would turn on the server's
	// authentication, which the socket's permissions make unneeded.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "SENTINEL_TOKEN" && k != "AGENTOS_TOKEN" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, Errorf(CodeServerStart, "starting %s: %v", l.cfg.Sentinel, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return exited, nil
}

// lockHeld reports whether a server holds the lock file at path.
func lockHeld(path string) bool {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// lastLine returns the last non-empty line of the file at path (at most
// its last 4 KB are read).
func lastLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "no log"
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 4096 {
		_, _ = f.Seek(-4096, io.SeekEnd)
	}
	data, _ := io.ReadAll(io.LimitReader(f, 4096))
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			last = t
		}
	}
	return clean(last, 300)
}

// RunningLocalServers lists the sockets in dataDir's run/ directory whose
// on-demand server is running (holds its lock).
func RunningLocalServers(dataDir string) []string {
	locks, _ := filepath.Glob(filepath.Join(dataDir, "run", "*.sock.lock"))
	var socks []string
	for _, l := range locks {
		if lockHeld(l) {
			socks = append(socks, strings.TrimSuffix(l, ".lock"))
		}
	}
	return socks
}
