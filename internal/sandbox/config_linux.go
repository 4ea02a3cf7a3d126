package sandbox

import (
	"os"
	"os/exec"
	"syscall"
)

// stageEnv names the stage a re-executed binary is to run.
const stageEnv = "SENTINEL_SANDBOX_STAGE"

// Stages.
const (
	stageInit = "init"
	stageExec = "exec"
)

// Fixed places inside the sandbox.
const (
	// sockDir holds the sockets of the egress proxy and the port
	// bridges, bound in from the host.
	sockDir = "/tmp/.sentinel"
	// proxyPort is where the egress forwarder listens inside.
	proxyPort = 3128
)

// initConfig is what the parent tells init, as JSON on fd 3.
type initConfig struct {
	Argv       []string          `json:"argv"`
	Path       string            `json:"path"`
	Dir        string            `json:"dir"`
	Env        []string          `json:"env"`
	Root       string            `json:"root"`
	Writable   []string          `json:"writable"`
	ReadOnly   []string          `json:"read_only"`
	Hidden     []string          `json:"hidden"`
	TmpSize    int64             `json:"tmp_size"`
	Network    string            `json:"network"`
	HostSocks  string            `json:"host_socks,omitempty"`
	Forward    map[int]string    `json:"forward,omitempty"` // inside loopback port → socket name in sockDir
	Limits     execLimits        `json:"limits"`
	Deny       []string          `json:"seccomp_deny,omitempty"`
	Allow      []string          `json:"seccomp_allow,omitempty"`
	Trace      bool              `json:"trace"`
	BestEffort bool              `json:"best_effort"`
	Extra      map[string]string `json:"-"`
}

// execLimits are the resource limits the exec stage sets; memory and
// processes only when no cgroup bounds them.
type execLimits struct {
	CPUSeconds uint64 `json:"cpu_seconds"`
	FileSize   uint64 `json:"file_size"`
	OpenFiles  uint64 `json:"open_files"`
	Memory     uint64 `json:"memory,omitempty"`
	Processes  uint64 `json:"processes,omitempty"`
}

// execConfig is what init tells the exec stage, as JSON on fd 3.
type execConfig struct {
	Path       string     `json:"path"`
	Argv       []string   `json:"argv"`
	Dir        string     `json:"dir"`
	Env        []string   `json:"env"`
	ReadOnly   []string   `json:"read_only"`
	Writable   []string   `json:"writable"`
	Ports      []int      `json:"ports,omitempty"`
	Limits     execLimits `json:"limits"`
	Deny       []string   `json:"seccomp_deny,omitempty"`
	Allow      []string   `json:"seccomp_allow,omitempty"`
	Trace      bool       `json:"trace"`
	BestEffort bool       `json:"best_effort"`
}

// report is one line a stage sends up: a layer, a trace event, an
// error that stopped the run, or the command's end.
type report struct {
	Layer *Layer      `json:"layer,omitempty"`
	Event *traceEvent `json:"event,omitempty"`
	Error string      `json:"error,omitempty"`
	// NotFound marks an Error that is a missing command.
	NotFound  bool `json:"not_found,omitempty"`
	Exit      *int `json:"exit,omitempty"`
	Signal    int  `json:"signal,omitempty"`
	Truncated bool `json:"truncated,omitempty"`
}

// traceEvent is a traced system call, as init passes it up.
type traceEvent struct {
	Syscall string   `json:"syscall"`
	Path    string   `json:"path,omitempty"`
	Write   bool     `json:"write,omitempty"`
	Addr    string   `json:"addr,omitempty"`
	Exec    []string `json:"exec,omitempty"`
}

func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

func exitSignal(ps *os.ProcessState) string {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal().String()
	}
	return ""
}

func signalNumber(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return int(ws.Signal())
	}
	return 0
}
