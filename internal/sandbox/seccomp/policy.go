package seccomp

import (
	"syscall"
	"time"
)

// DefaultDeny returns the system calls a sandboxed command may not make.
// An entry is a system call name, denied whatever its arguments, or
// "name:rule", denied only when its arguments match the rule:
//
//	clone:namespace        clone with any CLONE_NEW* flag
//	socket:packet          AF_PACKET sockets (sniffing, forging frames)
//	socket:raw             SOCK_RAW and SOCK_PACKET sockets outside netlink
//	socket:netlink         netlink sockets other than NETLINK_ROUTE
//	socket:other           families other than unix, inet, inet6, netlink, packet
//	personality:nondefault personas other than PER_LINUX, PER_LINUX32 and the query
//	ioctl:tiocsti          TIOCSTI and TIOCLINUX (typing into a terminal)
//	ioctl:userfaultfd      USERFAULTFD_IOC_NEW on /dev/userfaultfd
//
// clone3 fails with ENOSYS rather than the policy's errno: its flags are
// in memory the filter cannot read, and ENOSYS is what makes libc fall
// back to clone, whose flags it can.
//
// The list returned is a fresh copy the caller may change.
func DefaultDeny() []string {
	return []string{
		// Reaching into other processes: the way around every
		// per-process restriction, and to other processes' secrets.
		// pidfd_getfd takes another process's file descriptors and
		// process_madvise acts on its memory.
		"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "process_madvise",

		// Changing the mount table or the root, old and new mount API:
		// the sandbox's view of the file system is fixed before exec.
		"mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "open_tree_attr",
		"fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr",

		// Making or entering namespaces: a new user namespace hands an
		// unprivileged process capabilities over kernel code written
		// for root, the source of many privilege escalations.
		"unshare", "setns", "clone:namespace", "clone3",

		// Replacing or extending the kernel, and powering off.
		"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",

		// Kernel attack surface with a record of exploits and no use
		// for an agent's command. userfaultfd (and its device's ioctl)
		// also lets a process stall a kernel reader, the trace
		// supervisor included; io_uring does file and network work the
		// seccomp filters never see; modify_ldt and uselib are legacy
		// interfaces kept for old binaries.
		"bpf", "perf_event_open", "userfaultfd", "ioctl:userfaultfd",
		"io_uring_setup", "io_uring_enter", "io_uring_register",
		"keyctl", "add_key", "request_key", "modify_ldt", "uselib",

		// Hardware, system-wide state and the kernel log (which leaks
		// kernel addresses).
		"iopl", "ioperm", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "lookup_dcookie",
		"syslog", "settimeofday", "clock_settime", "clock_adjtime",

		// File handles open files by inode, past path-based checks
		// such as Landlock's.
		"open_by_handle_at", "name_to_handle_at",

		// Personas that turn off address space randomisation or make
		// data executable, for this process and what it execs.
		"personality:nondefault",

		// Sockets below the transport layer, and families with a large
		// kernel surface and no use here. NETLINK_ROUTE stays: libc's
		// getaddrinfo and interface listing need it; changing routes or
		// links needs CAP_NET_ADMIN, which the sandbox drops.
		"socket:packet", "socket:raw", "socket:netlink", "socket:other",

		// Pushing input into the terminal the sandbox was started from:
		// a way to run commands outside it.
		"ioctl:tiocsti",
	}
}

// Policy is what the deny filter refuses.
type Policy struct {
	// Deny lists system calls and rules, as DefaultDeny describes. Nil
	// means DefaultDeny(); an empty, non-nil list denies nothing (the
	// filter then only refuses other ABIs).
	Deny []string
	// Allow removes entries from Deny: a name removes that name and
	// every "name:rule" entry, "name:rule" removes just that rule. An
	// entry that removes nothing is an error, since it is most likely a
	// mistake.
	Allow []string
	// Errno is what a denied call returns; zero means EPERM.
	Errno syscall.Errno
}

// Event is one traced system call.
type Event struct {
	Time time.Time
	// PID is the calling thread's id in the supervisor's PID namespace.
	PID     int
	Syscall string
	// Path is the file the call names, made absolute against the
	// caller's working directory or directory fd when it was relative.
	// For rename and link it is the old name; for symlink, the link.
	Path string
	// Target is the new name for rename and link, and the contents of
	// the link for symlink (not resolved).
	Target string
	// Flags are the call's flags argument: open flags for the open
	// family, AT_* flags for the *at calls, 0 when the call has none.
	Flags int
	// Write is set for calls that change the file system: opens with
	// O_WRONLY, O_RDWR, O_CREAT, O_TRUNC or O_APPEND, and every create,
	// remove, rename, link, truncate and metadata change.
	Write bool
	// Addr is the address of connect, bind and sendto: ip:port,
	// [ip6]:port, a unix socket path, or @name for an abstract one.
	Addr string
	// Exec is execve's argv, at most MaxArgs arguments of at most
	// MaxArgBytes bytes each. The environment is never read.
	Exec []string
	// Incomplete says why part of the call could not be read (a bad
	// pointer, a string longer than the bound, a target that is gone);
	// empty when the event is whole.
	Incomplete string
}

// Bounds on what the supervisor reads from a traced process for one call.
const (
	// MaxPath is PATH_MAX: the kernel refuses longer paths.
	MaxPath = 4096
	// MaxArgs is how many argv entries of an exec are kept.
	MaxArgs = 64
	// MaxArgBytes is how much of each argv entry is kept.
	MaxArgBytes = 4096
	// DefaultMaxEvents is Options.MaxEvents when it is zero.
	DefaultMaxEvents = 100000
)

// Options tune Supervise.
type Options struct {
	// MaxEvents is how many events are emitted; later calls still run
	// but are only counted. Zero means DefaultMaxEvents.
	MaxEvents int
	// Now stamps events; nil means time.Now.
	Now func() time.Time
}

// Summary is what Supervise saw.
type Summary struct {
	// Notifications counts the traced calls received.
	Notifications int
	// Emitted counts the events passed to emit.
	Emitted int
	// Truncated is set when MaxEvents was reached and events were dropped.
	Truncated bool
	// Vanished counts calls whose caller was gone (killed, or its call
	// interrupted) before the supervisor had read them: not emitted,
	// since what was read may belong to another process.
	Vanished int
}
