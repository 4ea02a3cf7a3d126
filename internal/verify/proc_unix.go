//go:build unix

package verify

import (
	"os/exec"
	"syscall"
)

// openNonblock keeps an open of a named pipe from waiting for a writer.
const openNonblock = syscall.O_NONBLOCK

// killGroup makes a timed-out command take its children with it: go vet
// and tsc start helpers that would otherwise outlive the deadline.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
