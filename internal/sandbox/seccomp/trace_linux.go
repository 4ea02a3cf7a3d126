//go:build linux && amd64

package seccomp

import (
	"fmt"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// tracedCalls are the calls that say what a run touched: files opened,
// created, changed or removed, programs executed, addresses reached.
// sendto is traced only when it carries an address (unconnected UDP);
// every other send goes through untouched.
var tracedCalls = []string{
	"open", "openat", "openat2", "creat",
	"execve", "execveat",
	"connect", "bind", "sendto",
	"unlink", "unlinkat", "rmdir",
	"rename", "renameat", "renameat2",
	"mkdir", "mkdirat", "mknod", "mknodat",
	"link", "linkat", "symlink", "symlinkat",
	"truncate",
	"chmod", "fchmodat", "fchmodat2", "chown", "lchown", "fchownat",
}

// compileTrace builds the listener filter. Other ABIs are let through:
// the deny filter kills them, and this filter only observes.
func compileTrace() ([]unix.SockFilter, error) {
	const notify, allow = unix.SECCOMP_RET_USER_NOTIF, unix.SECCOMP_RET_ALLOW
	a := &asm{}
	a.archCheck(allow, allow)
	for _, name := range tracedCalls {
		nr, ok := arch.X86_64.SyscallNames[name]
		if !ok {
			return nil, fmt.Errorf("seccomp: internal error: traced call %s is not in the x86-64 table", name)
		}
		next := a.newLabel()
		a.jeq(uint32(nr), 0, next)
		if name == "sendto" {
			// dest_addr is a pointer: both halves must be zero.
			a.loadArgLo(4)
			notifyIt := a.newLabel()
			a.jeq(0, 0, notifyIt)
			a.loadArgHi(4)
			a.jeq(0, 0, notifyIt)
			a.ret(allow)
			a.bind(notifyIt)
		}
		a.ret(notify)
		a.bind(next)
	}
	a.ret(allow)
	return a.finish()
}

// InstallTrace loads the trace filter on every thread of the calling
// process and returns the listener fd (close-on-exec) for Supervise.
//
// From the moment it returns, every traced call any thread makes waits
// for a supervisor: hand the fd over (SendFD) and close this copy before
// the process opens a file or execs. Being close-on-exec, it never
// reaches the command, which could otherwise continue its own calls. Only one listener filter can exist in a process's
// filter chain, so a second InstallTrace fails with EBUSY.
func InstallTrace() (int, error) {
	prog, err := compileTrace()
	if err != nil {
		return -1, err
	}
	flags := uintptr(unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH)
	fd, err := loadFilter(prog, flags)
	if err != nil {
		return -1, fmt.Errorf("seccomp: loading the trace filter: %w", err)
	}
	// The kernel makes the fd close-on-exec; say so here too, since a
	// listener leaking into the command would let it continue its own
	// calls.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("seccomp: marking the listener close-on-exec: %w", err)
	}
	return fd, nil
}
