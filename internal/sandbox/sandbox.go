// Package sandbox runs a command the way a profile allows: directly,
// in a sandbox, or not at all (dry run, which reports what would run).
//
// The sandbox is built by this binary itself, without helpers: Run
// re-executes the binary as the sandbox's init inside new user, mount,
// PID, network, IPC and UTS namespaces; init builds a read-only view of
// the file system with the profile's writable paths bound in, hidden
// paths replaced by empty ones, a private /tmp, /dev and /proc, pivots
// into it, brings up loopback and the forwarders to the egress proxy,
// then starts the command through a last stage that sets resource
// limits, drops every capability, sets no_new_privs, applies a Landlock
// ruleset and the seccomp filters, and execs. Memory and process counts
// are bounded by a cgroup when one can be made. When init ends, the
// kernel kills whatever the command left in its PID namespace.
//
// Every layer is reported in the Result as enforced or not; a layer the
// machine lacks fails the run unless the profile is best-effort.
//
// Binaries that use Run must call Main first thing in main (and test
// binaries in TestMain): that is where the re-executed stages start.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/redact"
	"github.com/sentinel-agent/sentinel/internal/sandbox/profile"
)

// Mode is how a command runs.
type Mode string

// Modes, as the seed names them.
const (
	// Direct runs the command as a child process with the profile's
	// environment and wall time, and no isolation.
	Direct Mode = "direct"
	// Sandboxed runs it in the sandbox.
	Sandboxed Mode = "sandbox"
	// DryRun runs nothing and reports what would run, and how.
	DryRun Mode = "dry-run"
)

// ParseMode reads a mode's name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Direct, Sandboxed, DryRun:
		return m, nil
	}
	return "", fmt.Errorf("mode %q: use direct, sandbox or dry-run", s)
}

// Spec is one command to run.
type Spec struct {
	// Argv is the command and its arguments; Argv[0] is looked up in
	// PATH (the environment the command gets) when it has no slash.
	Argv []string
	// Dir is the working directory (default: the workspace).
	Dir string
	// Profile is the resolved profile.
	Profile *profile.Resolved
	// Mode is direct, sandbox or dry-run (default sandbox).
	Mode Mode
	// Environ is the environment the profile filters (default
	// os.Environ()).
	Environ []string
	// Stdin, Stdout and Stderr default to nothing, and discarding.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Trace records the files, processes and connections of the run.
	Trace bool
	// Egress receives every egress proxy attempt (allowlist mode).
	Egress func(EgressAttempt)
}

// Layer is one isolation layer and whether it held for this run.
type Layer struct {
	Name     string `json:"name"`
	Enforced bool   `json:"enforced"`
	Detail   string `json:"detail,omitempty"`
}

// Result is how a run ended.
type Result struct {
	Mode     Mode          `json:"mode"`
	Argv     []string      `json:"argv"`
	ExitCode int           `json:"exit_code"`
	Signal   string        `json:"signal,omitempty"`
	Killed   string        `json:"killed,omitempty"` // timeout, memory, cpu
	Duration time.Duration `json:"duration_ns"`
	Layers   []Layer       `json:"layers,omitempty"`
	// Env names the variables the command got (values are not kept);
	// Dropped names those the profile let in but that held a credential.
	Env     []string        `json:"env,omitempty"`
	Dropped []string        `json:"env_dropped,omitempty"`
	Trace   *Trace          `json:"trace,omitempty"`
	Egress  []EgressAttempt `json:"egress,omitempty"`
	// Plan is what a dry run would have done.
	Plan *Plan `json:"plan,omitempty"`
	// BestEffort is set when a layer was missing and the profile let
	// the run go on.
	BestEffort bool `json:"best_effort,omitempty"`
}

// Plan describes a run without running it.
type Plan struct {
	Profile  string   `json:"profile"`
	Path     string   `json:"path"`
	Dir      string   `json:"dir"`
	Writable []string `json:"writable"`
	ReadOnly []string `json:"read_only"`
	Hidden   []string `json:"hidden"`
	Network  string   `json:"network"`
	Allow    []string `json:"allow,omitempty"`
	Limits   string   `json:"limits"`
}

// EgressAttempt is one connection attempt through the egress proxy.
type EgressAttempt struct {
	Time    time.Time `json:"time"`
	Method  string    `json:"method"`
	Host    string    `json:"host"`
	Port    int       `json:"port"`
	Allowed bool      `json:"allowed"`
	Code    string    `json:"code,omitempty"`
	Reason  string    `json:"reason,omitempty"`
}

// Trace is what a sandboxed run touched, as seen by the seccomp tracer.
type Trace struct {
	Opened    []string   `json:"opened,omitempty"`
	Written   []string   `json:"written,omitempty"`
	Executed  [][]string `json:"executed,omitempty"`
	Connected []string   `json:"connected,omitempty"`
	Removed   []string   `json:"removed,omitempty"`
	// Truncated is set when the run made more events than are kept.
	Truncated bool `json:"truncated,omitempty"`
}

// ErrNotFound is a command that is not in the environment's PATH.
var ErrNotFound = errors.New("command not found")

// Run runs spec. An error means the command did not run (or, for a
// dry run, could not have): a bad spec, a missing command, a layer this
// machine lacks. How the command itself ended is in the Result.
func Run(ctx context.Context, spec Spec) (*Result, error) {
	if len(spec.Argv) == 0 || spec.Argv[0] == "" {
		return nil, errors.New("sandbox: no command; give the command and its arguments")
	}
	if spec.Profile == nil {
		return nil, errors.New("sandbox: no profile")
	}
	if spec.Mode == "" {
		spec.Mode = Sandboxed
	}
	if _, err := ParseMode(string(spec.Mode)); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if spec.Environ == nil {
		spec.Environ = os.Environ()
	}
	if spec.Dir == "" && len(spec.Profile.Writable) > 0 {
		spec.Dir = spec.Profile.Writable[0]
	}
	if spec.Dir == "" {
		return nil, errors.New("sandbox: no working directory and no writable path to start in")
	}
	if st, err := os.Stat(spec.Dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("sandbox: the working directory %s is not a directory (%v)", spec.Dir, err)
	}
	for _, w := range spec.Profile.Writable {
		if st, err := os.Stat(w); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("sandbox: profile %q: the writable path %s is missing or not a directory; create it or remove it from the profile", spec.Profile.Name, w)
		}
	}
	env, kept, dropped := filterEnv(spec.Environ, spec.Profile)
	path, err := lookPath(spec.Argv[0], env, spec.Dir)
	if err != nil {
		return nil, err
	}
	res := &Result{Mode: spec.Mode, Argv: spec.Argv, Env: kept, Dropped: dropped}
	switch spec.Mode {
	case DryRun:
		p := spec.Profile
		res.Plan = &Plan{Profile: p.Name, Path: path, Dir: spec.Dir, Writable: append(p.Writable, "/tmp (private)"),
			ReadOnly: p.ReadOnly, Hidden: p.Hidden, Network: p.Network, Allow: p.Allow,
			Limits: fmt.Sprintf("cpu %s, wall %s, memory %d MiB, processes %d, file size %d MiB, open files %d",
				p.CPU, p.Wall, p.Memory>>20, p.Processes, p.FileSize>>20, p.OpenFiles)}
		return res, nil
	case Direct:
		return runDirect(ctx, spec, path, env, res)
	}
	return runSandboxed(ctx, spec, path, env, res)
}

// runDirect runs the command as a plain child with the filtered
// environment, killing its process group at the wall time.
func runDirect(ctx context.Context, spec Spec, path string, env []string, res *Result) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, spec.Profile.Wall)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, spec.Argv[1:]...)
	cmd.Args[0] = spec.Argv[0]
	cmd.Dir, cmd.Env = spec.Dir, env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	setProcessGroup(cmd)
	start := time.Now()
	err := cmd.Run()
	res.Duration = time.Since(start)
	res.Layers = []Layer{{Name: "isolation", Enforced: false, Detail: "direct mode runs the command without a sandbox"}}
	if ctx.Err() == context.DeadlineExceeded {
		res.Killed = "timeout"
	}
	fillExit(res, cmd.ProcessState, err)
	return res, nil
}

// filterEnv keeps the variables the profile names, drops those whose
// value holds a credential, and applies SetEnv. It returns the
// environment and the names kept and dropped.
func filterEnv(environ []string, p *profile.Resolved) (env, kept, dropped []string) {
	allowed := func(name string) bool {
		for _, pat := range p.Env {
			if prefix, ok := strings.CutSuffix(pat, "*"); ok {
				if strings.HasPrefix(name, prefix) {
					return true
				}
			} else if name == pat {
				return true
			}
		}
		return false
	}
	seen := map[string]bool{}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || seen[name] || !allowed(name) {
			continue
		}
		seen[name] = true
		if _, found := redact.Text(val); len(found) > 0 || looksSecretName(name) {
			dropped = append(dropped, name)
			continue
		}
		env = append(env, kv)
		kept = append(kept, name)
	}
	for k, v := range p.SetEnv {
		env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") })
		env = append(env, k+"="+v)
		if !slices.Contains(kept, k) {
			kept = append(kept, k)
		}
	}
	slices.Sort(kept)
	slices.Sort(dropped)
	return env, kept, dropped
}

// looksSecretName catches variables a wildcard let in whose names say
// what they hold.
func looksSecretName(name string) bool {
	n := strings.ToUpper(name)
	for _, w := range []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// lookPath finds argv0 in env's PATH (not Sentinel's own), relative to
// dir for a relative path with a slash.
func lookPath(argv0 string, env []string, dir string) (string, error) {
	if strings.Contains(argv0, "/") {
		p := argv0
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("sandbox: %s: %w (not an executable file)", argv0, ErrNotFound)
		}
		return p, nil
	}
	pathVar := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for _, d := range filepath.SplitList(pathVar) {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		p := filepath.Join(d, argv0)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("sandbox: %s: %w in the sandbox's PATH (%s); give its full path or let PATH in through the profile's env", argv0, ErrNotFound, pathVar)
}

// fillExit sets the exit code and signal from how the process ended.
func fillExit(res *Result, ps *os.ProcessState, err error) {
	if ps == nil {
		res.ExitCode = -1
		if err != nil {
			res.Signal = err.Error()
		}
		return
	}
	res.ExitCode = ps.ExitCode()
	if sig := exitSignal(ps); sig != "" {
		res.Signal = sig
		res.ExitCode = 128 + signalNumber(ps)
	}
}
