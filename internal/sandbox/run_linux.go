package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sentinel-agent/sentinel/internal/sandbox/egress"
	"github.com/sentinel-agent/sentinel/internal/sandbox/profile"
)

// maxTraceEvents bounds the events a run's trace keeps.
const maxTraceEvents = 10000

// runSandboxed is the parent's side: prepare the host end (scratch
// directory, egress proxy or port bridges, cgroup), start init in new
// namespaces, hand it the configuration, collect its reports, and kill
// it at the wall time.
func runSandboxed(ctx context.Context, spec Spec, path string, env []string, res *Result) (*Result, error) {
	p := spec.Profile
	if !mainCalled.Load() {
		return nil, errors.New("sandbox: this program does not call sandbox.Main (sentinel.SandboxMain) first in main, so the sandbox cannot start its stages")
	}
	scratch, err := os.MkdirTemp("", "sentinel-sandbox-")
	if err != nil {
		return nil, fmt.Errorf("sandbox: scratch directory: %w", err)
	}
	defer os.RemoveAll(scratch)
	root := filepath.Join(scratch, "root")
	socks := filepath.Join(scratch, "socks")
	for _, d := range []string{root, socks} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, fmt.Errorf("sandbox: scratch directory: %w", err)
		}
	}
	cfg := initConfig{Argv: spec.Argv, Path: path, Dir: spec.Dir, Env: env, Root: root,
		Writable: p.Writable, ReadOnly: p.ReadOnly, Hidden: p.Hidden, TmpSize: p.TmpSize, Network: p.Network,
		Deny: p.SeccompDeny, Allow: p.SeccompAllow, Trace: spec.Trace, BestEffort: p.BestEffort,
		Limits: execLimits{CPUSeconds: uint64((p.CPU + time.Second - 1) / time.Second), FileSize: uint64(p.FileSize),
			OpenFiles: uint64(p.OpenFiles)}}

	var egressMu sync.Mutex
	hostEnd, err := startHostEnd(p, socks, &cfg, func(a EgressAttempt) {
		egressMu.Lock()
		if len(res.Egress) < maxTraceEvents {
			res.Egress = append(res.Egress, a)
		}
		egressMu.Unlock()
		if spec.Egress != nil {
			spec.Egress(a)
		}
	})
	if err != nil {
		return nil, err
	}
	defer hostEnd.Close()

	cg, cgLayers := newCgroup(p.Memory, p.Processes)
	defer cg.remove()
	// Without a cgroup, rlimits bound what they can: the address space
	// (coarser than memory: it counts mappings never touched) and, for
	// a user other than root, the user's processes (all of them, inside
	// the sandbox and out). The kernel does not apply RLIMIT_NPROC to
	// root, so root without a pids cgroup has no process limit.
	if cg.memDir == "" {
		cfg.Limits.Memory = uint64(p.Memory)
		cgLayers[0] = Layer{Name: "memory limit", Enforced: true,
			Detail: fmt.Sprintf("RLIMIT_AS %d MiB (no cgroup: %s)", p.Memory>>20, cgLayers[0].Detail)}
	}
	if cg.pidsDir == "" {
		cfg.Limits.Processes = uint64(p.Processes)
		if os.Getuid() != 0 {
			cgLayers[1] = Layer{Name: "process limit", Enforced: true,
				Detail: fmt.Sprintf("RLIMIT_NPROC %d, counting all of this user's processes (no cgroup: %s)", p.Processes, cgLayers[1].Detail)}
		}
	}
	res.Layers = append(res.Layers, cgLayers...)
	for _, l := range cgLayers {
		if !l.Enforced && !p.BestEffort {
			return nil, fmt.Errorf("sandbox: %s is not available on this machine (%s); run as a user who may create cgroups, or set best_effort in profile %q", l.Name, l.Detail, p.Name)
		}
	}

	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		cfgR.Close()
		cfgW.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	defer repR.Close()
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"sentinel-sandbox"}
	cmd.Env = []string{stageEnv + "=" + stageInit}
	cmd.ExtraFiles = []*os.File{cfgR, repW}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWNET |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
		Pdeathsig:                  syscall.SIGKILL,
	}
	start := time.Now()
	err = cmd.Start()
	cfgR.Close()
	repW.Close()
	if err != nil {
		cfgW.Close()
		return nil, fmt.Errorf("sandbox: starting the sandbox's namespaces: %w (user namespaces may be disabled on this machine; see sentinel doctor)", err)
	}
	// Every process of the run is in the cgroup from its first step.
	if err := cg.add(cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		cfgW.Close()
		return nil, fmt.Errorf("sandbox: cgroup: %w", err)
	}
	werr := json.NewEncoder(cfgW).Encode(cfg)
	cfgW.Close()
	if werr != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("sandbox: configuring init: %w", werr)
	}

	// Reports come until init exits; the wall time kills init, and with
	// it its PID namespace.
	var (
		exitCode  *int
		signal    int
		setupErr  string
		notFound  bool
		tr        = &Trace{}
		nEvents   int
		timedOut  bool
		reportErr error
	)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(repR)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var r report
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				reportErr = fmt.Errorf("init's report is not JSON: %v", err)
				continue
			}
			switch {
			case r.Layer != nil:
				res.Layers = append(res.Layers, *r.Layer)
			case r.Event != nil:
				nEvents++
				if nEvents > maxTraceEvents {
					tr.Truncated = true
					continue
				}
				tr.add(*r.Event)
			case r.Error != "":
				setupErr, notFound = r.Error, r.NotFound
			case r.Exit != nil:
				exitCode, signal = r.Exit, r.Signal
			}
			if r.Truncated {
				tr.Truncated = true
			}
		}
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	timer := time.NewTimer(p.Wall)
	defer timer.Stop()
	var werr2 error
	select {
	case werr2 = <-waited:
	case <-timer.C:
		timedOut = true
		_ = cmd.Process.Kill()
		werr2 = <-waited
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		werr2 = <-waited
	}
	<-readDone
	res.Duration = time.Since(start)
	cg.killAll()
	if spec.Trace {
		res.Trace = tr
	}
	switch {
	case setupErr != "" && notFound:
		return nil, fmt.Errorf("sandbox: %s: %w", setupErr, ErrNotFound)
	case setupErr != "":
		return nil, fmt.Errorf("sandbox: %s", setupErr)
	case reportErr != nil:
		return nil, fmt.Errorf("sandbox: %w", reportErr)
	}
	for _, l := range res.Layers {
		if !l.Enforced {
			res.BestEffort = true
		}
	}
	switch {
	case timedOut:
		res.Killed, res.ExitCode, res.Signal = "timeout", 128+int(syscall.SIGKILL), "killed"
	case ctx.Err() != nil:
		res.Killed, res.ExitCode, res.Signal = "cancelled", 128+int(syscall.SIGKILL), "killed"
	case exitCode != nil:
		res.ExitCode = *exitCode
		if signal != 0 {
			res.Signal = syscall.Signal(signal).String()
			res.ExitCode = 128 + signal
			switch {
			case cg.oomKilled():
				res.Killed = "memory"
			case syscall.Signal(signal) == syscall.SIGXCPU:
				res.Killed = "cpu"
			}
		}
	default:
		return nil, fmt.Errorf("sandbox: init ended without a result (%v)", werr2)
	}
	return res, nil
}

// add files an event under what it tells.
func (t *Trace) add(e traceEvent) {
	switch {
	case len(e.Exec) > 0:
		t.Executed = append(t.Executed, e.Exec)
	case e.Addr != "":
		t.Connected = appendNew(t.Connected, e.Addr)
	case strings.HasPrefix(e.Syscall, "unlink") || e.Syscall == "rmdir":
		t.Removed = appendNew(t.Removed, e.Path)
	case e.Write && e.Path != "":
		t.Written = appendNew(t.Written, e.Path)
	case e.Path != "":
		t.Opened = appendNew(t.Opened, e.Path)
	}
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// hostEnd is what runs on the host for a sandbox's network: the egress
// proxy or the loopback port bridges, each on a Unix socket in socks.
type hostEnd struct {
	closers []func()
}

func (h *hostEnd) Close() {
	for _, c := range h.closers {
		c()
	}
}

// startHostEnd starts what the profile's network needs and fills in
// cfg's forwards and proxy variables.
func startHostEnd(p *profile.Resolved, socks string, cfg *initConfig, log func(EgressAttempt)) (*hostEnd, error) {
	h := &hostEnd{}
	cfg.HostSocks = socks
	cfg.Forward = map[int]string{}
	switch p.Network {
	case profile.NetworkAllowlist:
		var rules []egress.Rule
		for _, a := range p.Allow {
			r, err := egress.ParseRule(a)
			if err != nil {
				return nil, fmt.Errorf("sandbox: profile %q: allow %q: %w", p.Name, a, err)
			}
			rules = append(rules, r)
		}
		px, err := egress.New(egress.Options{Allow: rules, AllowPrivate: p.AllowPrivate, Log: func(a egress.Attempt) {
			log(EgressAttempt{Time: a.Time, Method: a.Method, Host: a.Host, Port: a.Port, Allowed: a.Allowed, Code: a.Code, Reason: a.Reason})
		}})
		if err != nil {
			return nil, fmt.Errorf("sandbox: egress proxy: %w", err)
		}
		ln, err := net.Listen("unix", filepath.Join(socks, "egress.sock"))
		if err != nil {
			return nil, fmt.Errorf("sandbox: egress proxy: %w", err)
		}
		go func() { _ = px.Serve(ln) }()
		h.closers = append(h.closers, func() { px.Close(); ln.Close() })
		cfg.Forward[proxyPort] = "egress.sock"
		proxy := "http://127.0.0.1:" + strconv.Itoa(proxyPort)
		for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"} {
			cfg.Env = setEnv(cfg.Env, k, proxy)
		}
		cfg.Env = setEnv(cfg.Env, "NO_PROXY", "localhost,127.0.0.1")
		cfg.Env = setEnv(cfg.Env, "no_proxy", "localhost,127.0.0.1")
	case profile.NetworkLocalhost:
		for _, port := range p.LocalPorts {
			name := "port-" + strconv.Itoa(port) + ".sock"
			ln, err := net.Listen("unix", filepath.Join(socks, name))
			if err != nil {
				h.Close()
				return nil, fmt.Errorf("sandbox: port bridge: %w", err)
			}
			target := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			go forward(ln, func() (net.Conn, error) { return net.DialTimeout("tcp", target, 10*time.Second) })
			h.closers = append(h.closers, func() { ln.Close() })
			cfg.Forward[port] = name
		}
	}
	return h, nil
}

func setEnv(env []string, k, v string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, k+"=") {
			out = append(out, kv)
		}
	}
	return append(out, k+"="+v)
}
