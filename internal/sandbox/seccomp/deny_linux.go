//go:build linux && amd64

package seccomp

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"syscall"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// Values the argument rules test that x/sys does not name.
const (
	// cloneNamespaces is every CLONE_NEW* flag clone(2) accepts.
	// CLONE_NEWTIME is left out: it overlaps the exit signal byte of
	// clone's flags and only clone3 and unshare take it, both denied.
	cloneNamespaces = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
		unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET
	sockTypeMask      = 0xf        // SOCK_TYPE_MASK: the type without SOCK_NONBLOCK and SOCK_CLOEXEC
	perLinux          = 0x0000     // PER_LINUX
	perLinux32        = 0x0008     // PER_LINUX32, set by linux32 and setarch for 32-bit builds
	personalityQuery  = 0xffffffff // personality(0xffffffff) only reads the persona
	userfaultfdIOCNew = 0xaa00     // USERFAULTFD_IOC_NEW: /dev/userfaultfd's way to make one
)

// rule is one entry a policy can name.
type rule struct {
	sys string
	// match emits a test that jumps to deny when the call's arguments
	// match and falls through when they do not. Nil: every call matches.
	match func(a *asm, deny label)
	// errno overrides the policy's errno.
	errno syscall.Errno
}

// argRules are the "name:rule" entries.
var argRules = map[string]rule{
	"clone:namespace": {sys: "clone", match: func(a *asm, deny label) {
		a.loadArgLo(0) // the kernel reads only the low 32 bits of clone's flags
		a.jset(cloneNamespaces, deny, 0)
	}},
	"socket:packet": {sys: "socket", match: func(a *asm, deny label) {
		a.loadArgLo(0)
		a.jeq(unix.AF_PACKET, deny, 0)
	}},
	"socket:raw": {sys: "socket", match: func(a *asm, deny label) {
		// Netlink sockets are SOCK_RAW by convention; socket:netlink
		// judges those.
		skip := a.newLabel()
		a.loadArgLo(0)
		a.jeq(unix.AF_NETLINK, skip, 0)
		a.loadArgLo(1)
		a.and(sockTypeMask)
		a.jeq(unix.SOCK_RAW, deny, 0)
		a.jeq(unix.SOCK_PACKET, deny, 0)
		a.bind(skip)
	}},
	"socket:netlink": {sys: "socket", match: func(a *asm, deny label) {
		skip := a.newLabel()
		a.loadArgLo(0)
		a.jeq(unix.AF_NETLINK, 0, skip)
		a.loadArgLo(2)
		a.jeq(unix.NETLINK_ROUTE, skip, deny)
		a.bind(skip)
	}},
	"socket:other": {sys: "socket", match: func(a *asm, deny label) {
		// AF_PACKET passes here so that allowing socket:packet is
		// enough to allow it.
		ok := a.newLabel()
		a.loadArgLo(0)
		for _, family := range []uint32{unix.AF_UNIX, unix.AF_INET, unix.AF_INET6, unix.AF_NETLINK} {
			a.jeq(family, ok, 0)
		}
		a.jeq(unix.AF_PACKET, ok, deny)
		a.bind(ok)
	}},
	"personality:nondefault": {sys: "personality", match: func(a *asm, deny label) {
		ok := a.newLabel()
		a.loadArgLo(0)
		a.jeq(perLinux, ok, 0)
		a.jeq(perLinux32, ok, 0)
		a.jeq(personalityQuery, ok, deny)
		a.bind(ok)
	}},
	"ioctl:tiocsti": {sys: "ioctl", match: func(a *asm, deny label) {
		a.loadArgLo(1) // ioctl's request is an unsigned int
		a.jeq(unix.TIOCSTI, deny, 0)
		a.jeq(unix.TIOCLINUX, deny, 0)
	}},
	"ioctl:userfaultfd": {sys: "ioctl", match: func(a *asm, deny label) {
		a.loadArgLo(1)
		a.jeq(userfaultfdIOCNew, deny, 0)
	}},
}

// enosysCalls fail with ENOSYS whatever the policy's errno, so that libc
// takes its fallback path.
var enosysCalls = map[string]bool{"clone3": true}

// lookupRule resolves a policy entry.
func lookupRule(name string) (rule, bool) {
	if r, ok := argRules[name]; ok {
		return r, true
	}
	if strings.Contains(name, ":") {
		return rule{}, false
	}
	if _, ok := arch.X86_64.SyscallNames[name]; !ok {
		return rule{}, false
	}
	r := rule{sys: name}
	if enosysCalls[name] {
		r.errno = unix.ENOSYS
	}
	return r, true
}

// ruleNames lists the "name:rule" entries, for error messages.
func ruleNames() string {
	names := make([]string, 0, len(argRules))
	for n := range argRules {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// resolveDeny applies Allow to Deny and checks every name, reporting all
// problems at once.
func resolveDeny(p Policy) (map[string]rule, error) {
	deny := p.Deny
	if deny == nil {
		deny = DefaultDeny()
	}
	var problems []string
	rules := make(map[string]rule, len(deny))
	var unknown []string
	for _, name := range deny {
		r, ok := lookupRule(name)
		if !ok {
			unknown = append(unknown, fmt.Sprintf("%q", name))
			continue
		}
		rules[name] = r
	}
	if len(unknown) > 0 {
		problems = append(problems, "deny names unknown entries "+strings.Join(unknown, ", "))
	}
	unknown = unknown[:0]
	// Removal is judged against the deny list as given, so the order of
	// Allow entries does not matter.
	listed := maps.Clone(rules)
	var unused []string
	for _, name := range p.Allow {
		if _, ok := lookupRule(name); !ok {
			unknown = append(unknown, fmt.Sprintf("%q", name))
			continue
		}
		removed := false
		for d := range listed {
			if d == name || (!strings.Contains(name, ":") && strings.HasPrefix(d, name+":")) {
				delete(rules, d)
				removed = true
			}
		}
		if !removed {
			unused = append(unused, fmt.Sprintf("%q", name))
		}
	}
	if len(unknown) > 0 {
		problems = append(problems, "allow names unknown entries "+strings.Join(unknown, ", "))
	}
	if len(unused) > 0 {
		problems = append(problems, "allow entries "+strings.Join(unused, ", ")+" remove nothing from the deny list")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("seccomp policy: %s; use x86-64 system call names (as in ausyscall --dump) or one of the rules %s",
			strings.Join(problems, "; "), ruleNames())
	}
	return rules, nil
}

// compileDeny builds the deny filter for p.
func compileDeny(p Policy) ([]unix.SockFilter, error) {
	errno := p.Errno
	if errno == 0 {
		errno = unix.EPERM
	}
	// SECCOMP_RET_DATA holds 16 bits, and the kernel hands back only
	// values below MAX_ERRNO as errors.
	if errno < 1 || errno > 4095 {
		return nil, fmt.Errorf("seccomp policy: errno %d is out of range; use a value from 1 to 4095 such as syscall.EPERM", int(errno))
	}
	rules, err := resolveDeny(p)
	if err != nil {
		return nil, err
	}
	// Group the rules by system call so each call is tested once.
	bySys := map[int][]string{}
	for name, r := range rules {
		nr := arch.X86_64.SyscallNames[r.sys]
		bySys[nr] = append(bySys[nr], name)
	}
	nrs := make([]int, 0, len(bySys))
	for nr := range bySys {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)

	a := &asm{}
	a.archCheck(unix.SECCOMP_RET_KILL_PROCESS, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS))
	for _, nr := range nrs {
		names := bySys[nr]
		slices.Sort(names) // a stable program for a given policy
		next := a.newLabel()
		a.jeq(uint32(nr), 0, next)
		// Every path out of this block returns, so the accumulator
		// may be reloaded with arguments; only "next" needs the number.
		if r, ok := unconditional(rules, names); ok {
			a.ret(denyAction(r, errno))
		} else {
			deny := a.newLabel()
			for _, n := range names {
				rules[n].match(a, deny)
			}
			a.ret(unix.SECCOMP_RET_ALLOW)
			a.bind(deny)
			a.ret(unix.SECCOMP_RET_ERRNO | uint32(errno))
		}
		a.bind(next)
	}
	a.ret(unix.SECCOMP_RET_ALLOW)
	return a.finish()
}

// unconditional returns the entry among names that denies every call,
// if there is one: it makes the argument rules moot.
func unconditional(rules map[string]rule, names []string) (rule, bool) {
	for _, n := range names {
		if r := rules[n]; r.match == nil {
			return r, true
		}
	}
	return rule{}, false
}

func denyAction(r rule, errno syscall.Errno) uint32 {
	if r.errno != 0 {
		errno = r.errno
	}
	return unix.SECCOMP_RET_ERRNO | uint32(errno)
}

// Install sets no_new_privs and loads the deny filter for p on every
// thread of the calling process (SECCOMP_FILTER_FLAG_TSYNC). Threads
// started later inherit it, as does whatever the process execs. An
// error means no filter was loaded: the caller must not go on to run the
// command. Unknown names in p are an error that names them.
func Install(p Policy) error {
	prog, err := compileDeny(p)
	if err != nil {
		return err
	}
	if _, err := loadFilter(prog, unix.SECCOMP_FILTER_FLAG_TSYNC); err != nil {
		return fmt.Errorf("seccomp: loading the deny filter: %w", err)
	}
	return nil
}
