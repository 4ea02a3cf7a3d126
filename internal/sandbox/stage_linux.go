package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/landlock-lsm/go-landlock/landlock"
	"golang.org/x/sys/unix"

	"github.com/sentinel-agent/sentinel/internal/sandbox/profile"
	"github.com/sentinel-agent/sentinel/internal/sandbox/seccomp"
)

// mainCalled is set once Main ran: without it, the re-executed stages
// would run the program's own main instead.
var mainCalled atomic.Bool

// Main runs a sandbox stage when this process was started as one, and
// returns otherwise. Call it first thing in main (and TestMain).
func Main() {
	mainCalled.Store(true)
	switch os.Getenv(stageEnv) {
	case stageInit:
		os.Exit(runInit())
	case stageExec:
		os.Exit(runExec())
	}
}

// reporter writes reports as JSON lines; it is safe for concurrent use.
type reporter struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (r *reporter) send(rep report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.enc.Encode(rep)
}

func (r *reporter) layer(name string, ok bool, detail string) {
	r.send(report{Layer: &Layer{Name: name, Enforced: ok, Detail: detail}})
}

// runInit is PID 1 of the sandbox: it builds the file system and the
// network, starts the exec stage, relays its reports and the trace,
// reaps every process, and reports how the command ended. When it
// returns, the kernel kills what is left in the PID namespace.
func runInit() int {
	cfgFile, repFile := os.NewFile(3, "config"), os.NewFile(4, "report")
	rep := &reporter{enc: json.NewEncoder(repFile)}
	var cfg initConfig
	if err := json.NewDecoder(cfgFile).Decode(&cfg); err != nil {
		rep.send(report{Error: "init: reading the configuration: " + err.Error()})
		return 125
	}
	cfgFile.Close()
	fail := func(err error) int {
		rep.send(report{Error: err.Error()})
		return 125
	}
	if err := buildRoot(&cfg); err != nil {
		return fail(fmt.Errorf("building the sandbox's file system: %w", err))
	}
	rep.layer("namespaces", true, "user, mount, pid, network, ipc, uts")
	rep.layer("file system", true, fmt.Sprintf("/ read-only; writable: %v and a private /tmp; hidden: %d paths", cfg.Writable, len(cfg.Hidden)))
	_ = unix.Sethostname([]byte("sentinel-sandbox"))
	if err := loopbackUp(); err != nil {
		return fail(fmt.Errorf("network: bringing up loopback: %w", err))
	}
	var ports []int
	for port, name := range cfg.Forward {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return fail(fmt.Errorf("network: forwarder on port %d: %w", port, err))
		}
		sock := filepath.Join(sockDir, name)
		go forward(ln, func() (net.Conn, error) { return net.Dial("unix", sock) })
		ports = append(ports, port)
	}
	switch cfg.Network {
	case profile.NetworkNone:
		rep.layer("network", true, "none: a network namespace with only its own loopback")
	case profile.NetworkLocalhost:
		rep.layer("network", true, fmt.Sprintf("localhost: only host loopback ports %v", ports))
	case profile.NetworkAllowlist:
		rep.layer("network", true, fmt.Sprintf("allowlist: only through the egress proxy at 127.0.0.1:%d", proxyPort))
	}

	ecfg := execConfig{Path: cfg.Path, Argv: cfg.Argv, Dir: cfg.Dir, Env: cfg.Env, ReadOnly: cfg.ReadOnly,
		Writable: cfg.Writable, Ports: ports, Limits: cfg.Limits, Deny: cfg.Deny, Allow: cfg.Allow, Trace: cfg.Trace,
		BestEffort: cfg.BestEffort}
	pid, stageRep, traceConn, err := startExec(ecfg)
	if err != nil {
		return fail(err)
	}
	supervised := make(chan struct{})
	if traceConn != nil {
		go func() {
			defer close(supervised)
			defer traceConn.Close()
			fd, err := seccomp.RecvFD(traceConn)
			if err != nil {
				return
			}
			sum, _ := seccomp.Supervise(context.Background(), fd, seccomp.Options{MaxEvents: maxTraceEvents}, func(e seccomp.Event) {
				rep.send(report{Event: &traceEvent{Syscall: e.Syscall, Path: e.Path, Write: e.Write, Addr: e.Addr, Exec: e.Exec}})
			})
			if sum.Truncated {
				rep.send(report{Truncated: true})
			}
		}()
	} else {
		close(supervised)
	}
	// The exec stage's reports end when it execs (the pipe closes on
	// exec) or dies.
	dec := json.NewDecoder(stageRep)
	for {
		var r report
		if err := dec.Decode(&r); err != nil {
			break
		}
		rep.send(r)
	}
	stageRep.Close()
	var status unix.WaitStatus
	for {
		wpid, err := unix.Wait4(-1, &status, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || wpid == pid {
			break
		}
	}
	code, sig := status.ExitStatus(), 0
	if status.Signaled() {
		sig = int(status.Signal())
	}
	rep.send(report{Exit: &code, Signal: sig})
	return 0
}

// startExec starts the exec stage with its configuration on fd 3, its
// report pipe on fd 4 and, when tracing, a socket on fd 5 for the
// seccomp listener.
func startExec(cfg execConfig) (pid int, rep *os.File, trace *net.UnixConn, err error) {
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return 0, nil, nil, err
	}
	defer cfgR.Close()
	repR, repW, err := os.Pipe()
	if err != nil {
		cfgW.Close()
		return 0, nil, nil, err
	}
	defer repW.Close()
	files := []uintptr{0, 1, 2, cfgR.Fd(), repW.Fd()}
	var child *os.File
	if cfg.Trace {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			cfgW.Close()
			repR.Close()
			return 0, nil, nil, err
		}
		child = os.NewFile(uintptr(fds[1]), "trace-child")
		defer child.Close()
		parent := os.NewFile(uintptr(fds[0]), "trace")
		c, err := net.FileConn(parent)
		parent.Close()
		if err != nil {
			cfgW.Close()
			repR.Close()
			return 0, nil, nil, err
		}
		trace = c.(*net.UnixConn)
		files = append(files, child.Fd())
	}
	pid, err = syscall.ForkExec("/proc/self/exe", []string{"sentinel-sandbox-exec"}, &syscall.ProcAttr{
		Dir: cfg.Dir, Env: []string{stageEnv + "=" + stageExec}, Files: files,
		// Its own session: no controlling terminal to push keystrokes into.
		Sys: &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		cfgW.Close()
		repR.Close()
		if trace != nil {
			trace.Close()
		}
		return 0, nil, nil, fmt.Errorf("starting the command's stage: %w", err)
	}
	err = json.NewEncoder(cfgW).Encode(cfg)
	cfgW.Close()
	if err != nil {
		return 0, nil, nil, err
	}
	return pid, repR, trace, nil
}

// runExec is the last stage: limits, Landlock, capabilities, seccomp,
// then exec. Its reports go on fd 4, which closes when exec succeeds.
func runExec() int {
	runtime.LockOSThread()
	unix.CloseOnExec(4)
	rep := &reporter{enc: json.NewEncoder(os.NewFile(4, "report"))}
	var cfg execConfig
	f := os.NewFile(3, "config")
	if err := json.NewDecoder(f).Decode(&cfg); err != nil {
		rep.send(report{Error: "exec stage: reading the configuration: " + err.Error()})
		return 125
	}
	f.Close()
	fail := func(err error) int {
		rep.send(report{Error: err.Error()})
		return 125
	}
	if err := setLimits(cfg.Limits); err != nil {
		return fail(fmt.Errorf("resource limits: %w", err))
	}
	rep.layer("rlimits", true, fmt.Sprintf("cpu %ds, file size %d MiB, open files %d", cfg.Limits.CPUSeconds, cfg.Limits.FileSize>>20, cfg.Limits.OpenFiles))
	if err := applyLandlock(cfg, rep); err != nil {
		return fail(err)
	}
	if err := dropCapabilities(); err != nil {
		return fail(fmt.Errorf("dropping capabilities: %w", err))
	}
	rep.layer("capabilities", true, "none; no_new_privs set")
	pol := seccomp.Policy{Deny: append(seccomp.DefaultDeny(), cfg.Deny...), Allow: cfg.Allow}
	if err := seccomp.Install(pol); err != nil {
		if !cfg.BestEffort {
			return fail(fmt.Errorf("seccomp: %w", err))
		}
		rep.layer("seccomp", false, err.Error())
	} else {
		rep.layer("seccomp", true, fmt.Sprintf("%d system calls denied", len(pol.Deny)-len(cfg.Allow)))
	}
	if cfg.Trace {
		fd, err := seccomp.InstallTrace()
		if err != nil {
			return fail(fmt.Errorf("trace: %w", err))
		}
		conn, err := net.FileConn(os.NewFile(5, "trace"))
		if err != nil {
			return fail(fmt.Errorf("trace: %w", err))
		}
		err = seccomp.SendFD(conn.(*net.UnixConn), fd)
		conn.Close()
		unix.Close(fd)
		if err != nil {
			return fail(fmt.Errorf("trace: %w", err))
		}
		rep.layer("trace", true, "seccomp user notification")
	}
	// Descriptors the host process inherited and passed on (a Go program
	// leaves what it was started with open) must not reach the command: a
	// directory descriptor would be a way out of the new root.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fail(fmt.Errorf("closing inherited descriptors: %w", err))
	}
	err := unix.Exec(cfg.Path, cfg.Argv, cfg.Env)
	rep.send(report{Error: fmt.Sprintf("%s: %v", cfg.Argv[0], err), NotFound: errors.Is(err, unix.ENOENT)})
	return 127
}

// setLimits sets the stage's rlimits, which the command inherits.
func setLimits(l execLimits) error {
	set := func(res int, v uint64) error {
		if v == 0 {
			return nil
		}
		return unix.Setrlimit(res, &unix.Rlimit{Cur: v, Max: v})
	}
	for _, x := range []struct {
		res int
		v   uint64
	}{{unix.RLIMIT_CPU, l.CPUSeconds}, {unix.RLIMIT_FSIZE, l.FileSize}, {unix.RLIMIT_NOFILE, l.OpenFiles},
		{unix.RLIMIT_AS, l.Memory}, {unix.RLIMIT_NPROC, l.Processes}} {
		if err := set(x.res, x.v); err != nil {
			return fmt.Errorf("rlimit %d: %w", x.res, err)
		}
	}
	// No core dumps: they would write the process's memory to the
	// workspace.
	return unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
}

// applyLandlock restricts the file system: read the read-only paths,
// read and write the writable ones, /tmp and /dev; and no signals or
// abstract sockets to processes outside the sandbox.
func applyLandlock(cfg execConfig, rep *reporter) error {
	abi, _ := landlockABI()
	c := landlock.V6
	if cfg.BestEffort {
		c = c.BestEffort()
	}
	ro := append([]string{"/proc", "/dev"}, cfg.ReadOnly...)
	rw := append([]string{"/tmp"}, cfg.Writable...)
	err := c.RestrictPaths(
		landlock.RODirs(ro...).IgnoreIfMissing(),
		landlock.RWDirs(rw...).IgnoreIfMissing(),
		landlock.RWFiles("/dev/null", "/dev/zero", "/dev/full", "/dev/tty").IgnoreIfMissing().WithIoctlDev(),
	)
	if err == nil {
		err = c.RestrictScoped()
	}
	switch {
	case err == nil:
		rep.layer("landlock", abi >= 6, fmt.Sprintf("ABI %d: read %v, write %v and /tmp; signals and abstract sockets scoped", abi, cfg.ReadOnly, cfg.Writable))
		if abi < 6 && !cfg.BestEffort {
			return fmt.Errorf("landlock: this kernel has ABI %d, the sandbox needs 6 (Linux 6.12 or later)", abi)
		}
		return nil
	case cfg.BestEffort:
		rep.layer("landlock", false, err.Error())
		return nil
	}
	return fmt.Errorf("landlock: %w (the kernel may lack Landlock; set best_effort in the profile to run without it)", err)
}

// landlockABI returns the kernel's Landlock ABI version, 0 without it.
func landlockABI() (int, error) {
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, 1) // LANDLOCK_CREATE_RULESET_VERSION
	if errno != 0 {
		return 0, errno
	}
	return int(v), nil
}

// dropCapabilities empties every capability set, the bounding set
// included (uid 0 in the namespace would otherwise regain them on exec),
// and sets no_new_privs, so that setuid binaries gain nothing.
func dropCapabilities() error {
	for c := 0; c <= 63; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			if errors.Is(err, unix.EINVAL) {
				break
			}
			return err
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return err
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return err
	}
	return unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
}

// loopbackUp brings up the namespace's lo.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
