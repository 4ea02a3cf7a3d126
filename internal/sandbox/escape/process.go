package escape

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// markerPrefix starts the marker process's argv[0]; the probe's ptrace
// subcommand knows it too.
const markerPrefix = "sentinel-marker-"

// Marker is a process on the host that a sandboxed script must be unable
// to see, trace or signal: `sleep` whose argv[0] and environment each hold
// a secret.
type Marker struct {
	PID  int
	cmd  *exec.Cmd
	done chan struct{}
}

func startMarker(argvSecret, envSecret string) (*Marker, error) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(sleep, "3600")
	cmd.Args[0] = markerPrefix + argvSecret
	cmd.Env = []string{"SENTINEL_MARKER=" + envSecret}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	m := &Marker{PID: cmd.Process.Pid, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(m.done)
	}()
	return m, nil
}

// DiedWithin reports whether the marker exits within d. A signal sent
// during the run may still be in flight when the run ends, hence the wait.
func (m *Marker) DiedWithin(d time.Duration) bool {
	select {
	case <-m.done:
		return true
	case <-time.After(d):
		return false
	}
}

func (m *Marker) stop() {
	_ = m.cmd.Process.Kill()
	<-m.done
}

// tagVar is the environment variable that marks every process of a run.
const tagVar = "SENTINEL_ESCAPE_TAG"

// taggedProcesses lists the host processes whose environment carries
// tagVar=tag or whose argv[0] starts with tag. Zombies and processes that
// are exiting show neither, so only live ones are found.
func taggedProcesses(tag string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	envNeedle := []byte(tagVar + "=" + tag + "\x00")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		if cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil && bytes.HasPrefix(cmdline, []byte(tag)) {
			pids = append(pids, pid)
			continue
		}
		if env, err := os.ReadFile(filepath.Join(dir, "environ")); err == nil && bytes.Contains(append(env, 0), envNeedle) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// leftovers waits up to d for the tagged processes to go (the runner's
// kill may still be taking effect) and returns those still alive.
func leftovers(tag string, d time.Duration) []int {
	deadline := time.Now().Add(d)
	for {
		pids := taggedProcesses(tag)
		if len(pids) == 0 || time.Now().After(deadline) {
			return pids
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killTagged kills every tagged process, repeating while new ones appear
// (a dying parent's children), a bounded number of times.
func killTagged(tag string) error {
	for range 20 {
		pids := taggedProcesses(tag)
		if len(pids) == 0 {
			return nil
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pids := taggedProcesses(tag); len(pids) > 0 {
		slices.Sort(pids)
		return errors.New("tagged processes survive SIGKILL: " + formatPIDs(pids))
	}
	return nil
}

func formatPIDs(pids []int) string {
	var b []byte
	for i, p := range pids {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(p), 10)
	}
	return string(b)
}
