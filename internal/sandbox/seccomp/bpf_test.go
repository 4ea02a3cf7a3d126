//go:build linux && amd64

package seccomp

import (
	"encoding/binary"
	"strings"
	"testing"
	"unsafe"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// call is a system call as a filter sees it.
type call struct {
	name string
	arch uint32 // 0 means x86-64
	x32  bool
	args [6]uint64
}

// run interprets prog on c the way the kernel would, for the
// instructions this package emits, and returns the filter's verdict.
func run(t *testing.T, prog []unix.SockFilter, c call) uint32 {
	t.Helper()
	nr, ok := arch.X86_64.SyscallNames[c.name]
	if !ok {
		t.Fatalf("no system call %q", c.name)
	}
	if c.x32 {
		nr |= x32Bit
	}
	if c.arch == 0 {
		c.arch = auditArchX86_64
	}
	var data [64]byte
	binary.LittleEndian.PutUint32(data[offNr:], uint32(nr))
	binary.LittleEndian.PutUint32(data[offArch:], c.arch)
	for i, a := range c.args {
		binary.LittleEndian.PutUint64(data[offArgs+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if in.K%4 != 0 || in.K+4 > 64 {
				t.Fatalf("pc %d: load at %d", pc, in.K)
			}
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			acc &= in.K
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			pc += jumpBy(acc == in.K, in)
		case unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K:
			pc += jumpBy(acc >= in.K, in)
		case unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			pc += jumpBy(acc&in.K != 0, in)
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		default:
			t.Fatalf("pc %d: instruction %#x the interpreter does not know", pc, in.Code)
		}
	}
	t.Fatalf("program ran off its end")
	return 0
}

func jumpBy(cond bool, in unix.SockFilter) int {
	if cond {
		return int(in.Jt)
	}
	return int(in.Jf)
}

const (
	allow  = unix.SECCOMP_RET_ALLOW
	kill   = unix.SECCOMP_RET_KILL_PROCESS
	notify = unix.SECCOMP_RET_USER_NOTIF
	eperm  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	enosys = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	eacces = unix.SECCOMP_RET_ERRNO | uint32(unix.EACCES)
	hi     = 1 << 32 // set in the half of a register the kernel ignores for ints

	addrNoRandomize = 0x0040000 // ADDR_NO_RANDOMIZE
	readImpliesExec = 0x0400000 // READ_IMPLIES_EXEC
)

func sock(domain, typ, proto uint64) [6]uint64 { return [6]uint64{domain, typ, proto} }

func TestDenyFilterVerdicts(t *testing.T) {
	type check struct {
		c    call
		want uint32
	}
	defaults := []check{
		{call{name: "read"}, allow},
		{call{name: "openat"}, allow},
		{call{name: "ptrace"}, eperm},
		{call{name: "process_vm_readv"}, eperm},
		{call{name: "mount"}, eperm},
		{call{name: "fsopen"}, eperm},
		{call{name: "unshare"}, eperm},
		{call{name: "setns"}, eperm},
		{call{name: "bpf"}, eperm},
		{call{name: "io_uring_setup"}, eperm},
		{call{name: "open_by_handle_at"}, eperm},
		{call{name: "clone3"}, enosys},
		// Other ABIs: i386 through int 0x80 is killed, x32 gets ENOSYS,
		// even for calls the x86-64 table allows.
		{call{name: "read", arch: 0x40000003}, kill},
		{call{name: "read", x32: true}, enosys},
		{call{name: "ptrace", x32: true}, enosys},

		{call{name: "clone", args: [6]uint64{unix.CLONE_VM | unix.CLONE_VFORK | uint64(unix.SIGCHLD)}}, allow},
		{call{name: "clone", args: [6]uint64{unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD}}, allow},
		{call{name: "clone", args: [6]uint64{unix.CLONE_NEWUSER}}, eperm},
		{call{name: "clone", args: [6]uint64{unix.CLONE_NEWNET | unix.CLONE_VM}}, eperm},
		{call{name: "clone", args: [6]uint64{unix.CLONE_NEWPID | uint64(unix.SIGCHLD)}}, eperm},
		{call{name: "clone", args: [6]uint64{unix.CLONE_NEWCGROUP | hi}}, eperm},
		{call{name: "clone", args: [6]uint64{hi}}, allow},

		{call{name: "socket", args: sock(unix.AF_INET, unix.SOCK_STREAM, 0)}, allow},
		{call{name: "socket", args: sock(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)}, allow},
		{call{name: "socket", args: sock(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)}, allow}, // unprivileged ping
		{call{name: "socket", args: sock(unix.AF_UNIX, unix.SOCK_SEQPACKET, 0)}, allow},
		{call{name: "socket", args: sock(unix.AF_PACKET, unix.SOCK_DGRAM, 0)}, eperm},
		{call{name: "socket", args: sock(unix.AF_PACKET|hi, unix.SOCK_DGRAM, 0)}, eperm},
		{call{name: "socket", args: sock(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)}, eperm},
		{call{name: "socket", args: sock(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)}, eperm},
		{call{name: "socket", args: sock(unix.AF_INET, unix.SOCK_PACKET, 0)}, eperm},
		{call{name: "socket", args: sock(unix.AF_INET, unix.SOCK_RAW|hi, 0)}, eperm},
		{call{name: "socket", args: sock(unix.AF_UNIX, unix.SOCK_RAW, 0)}, eperm},
		{call{name: "socket", args: sock(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)}, allow},
		{call{name: "socket", args: sock(unix.AF_NETLINK, unix.SOCK_DGRAM, unix.NETLINK_ROUTE|hi)}, allow},
		{call{name: "socket", args: sock(unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_NETFILTER)}, eperm},
		{call{name: "socket", args: sock(unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_AUDIT)}, eperm},
		{call{name: "socket", args: sock(unix.AF_ALG, unix.SOCK_SEQPACKET, 0)}, eperm},
		{call{name: "socket", args: sock(unix.AF_VSOCK, unix.SOCK_STREAM, 0)}, eperm},
		{call{name: "socket", args: sock(unix.AF_INET|hi, unix.SOCK_STREAM, 0)}, allow},

		{call{name: "personality", args: [6]uint64{0xffffffff}}, allow},
		{call{name: "personality", args: [6]uint64{perLinux}}, allow},
		{call{name: "personality", args: [6]uint64{perLinux32}}, allow},
		{call{name: "personality", args: [6]uint64{addrNoRandomize}}, eperm},
		{call{name: "personality", args: [6]uint64{readImpliesExec}}, eperm},

		{call{name: "ioctl", args: [6]uint64{0, unix.TCGETS}}, allow},
		{call{name: "ioctl", args: [6]uint64{0, unix.TIOCSTI}}, eperm},
		{call{name: "ioctl", args: [6]uint64{0, unix.TIOCSTI | hi}}, eperm},
		{call{name: "ioctl", args: [6]uint64{0, unix.TIOCLINUX}}, eperm},
		{call{name: "ioctl", args: [6]uint64{3, userfaultfdIOCNew}}, eperm},
	}
	tests := []struct {
		name   string
		policy Policy
		checks []check
	}{
		{"default", Policy{}, defaults},
		{"errno", Policy{Errno: unix.EACCES}, []check{
			{call{name: "ptrace"}, eacces},
			{call{name: "socket", args: sock(unix.AF_PACKET, unix.SOCK_RAW, 0)}, eacces},
			{call{name: "clone3"}, enosys}, // libc's fallback needs ENOSYS whatever the errno
			{call{name: "read"}, allow},
		}},
		{"allow a name", Policy{Allow: []string{"ptrace", "clone3"}}, []check{
			{call{name: "ptrace"}, allow},
			{call{name: "clone3"}, allow},
			{call{name: "process_vm_readv"}, eperm},
		}},
		{"allow every rule of a call", Policy{Allow: []string{"socket"}}, []check{
			{call{name: "socket", args: sock(unix.AF_PACKET, unix.SOCK_RAW, 0)}, allow},
			{call{name: "socket", args: sock(unix.AF_ALG, unix.SOCK_SEQPACKET, 0)}, allow},
			{call{name: "clone", args: [6]uint64{unix.CLONE_NEWUSER}}, eperm},
		}},
		{"allow one rule", Policy{Allow: []string{"socket:packet"}}, []check{
			{call{name: "socket", args: sock(unix.AF_PACKET, unix.SOCK_DGRAM, 0)}, allow},
			{call{name: "socket", args: sock(unix.AF_PACKET, unix.SOCK_RAW, 0)}, eperm}, // still raw
			{call{name: "socket", args: sock(unix.AF_INET, unix.SOCK_RAW, 0)}, eperm},
			{call{name: "socket", args: sock(unix.AF_ALG, unix.SOCK_SEQPACKET, 0)}, eperm},
		}},
		{"empty deny list", Policy{Deny: []string{}}, []check{
			{call{name: "ptrace"}, allow},
			{call{name: "socket", args: sock(unix.AF_PACKET, unix.SOCK_RAW, 0)}, allow},
			{call{name: "read", arch: 0x40000003}, kill},
			{call{name: "read", x32: true}, enosys},
		}},
		{"a whole call beats its rules", Policy{Deny: []string{"socket", "socket:raw"}}, []check{
			{call{name: "socket", args: sock(unix.AF_INET, unix.SOCK_STREAM, 0)}, eperm},
			{call{name: "ptrace"}, allow},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog, err := compileDeny(tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range tt.checks {
				if got := run(t, prog, ch.c); got != ch.want {
					t.Errorf("%s arch %#x x32 %v args %#x: got %#x, want %#x", ch.c.name, ch.c.arch, ch.c.x32, ch.c.args[:3], got, ch.want)
				}
			}
		})
	}
}

func TestDenyEveryDefaultEntry(t *testing.T) {
	prog, err := compileDeny(Policy{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range DefaultDeny() {
		if strings.Contains(name, ":") {
			continue // argument rules are checked above
		}
		want := uint32(eperm)
		if name == "clone3" {
			want = enosys
		}
		if got := run(t, prog, call{name: name}); got != want {
			t.Errorf("%s: got %#x, want %#x", name, got, want)
		}
	}
}

func TestPolicyErrors(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		want   []string // each must appear in the error
	}{
		{"unknown deny names", Policy{Deny: []string{"ptrace", "no_such_call", "socket:bogus", "ptrace:attach"}},
			[]string{`"no_such_call"`, `"socket:bogus"`, `"ptrace:attach"`, "socket:raw"}},
		{"unknown allow name", Policy{Allow: []string{"ptrace", "ptrase"}}, []string{`allow names unknown entries "ptrase"`}},
		{"allow that removes nothing", Policy{Allow: []string{"read"}}, []string{`"read" remove nothing`}},
		{"allow of a rule under a whole call", Policy{Deny: []string{"socket"}, Allow: []string{"socket:raw"}}, []string{`"socket:raw" remove nothing`}},
		{"errno too large", Policy{Errno: 5000}, []string{"errno 5000", "1 to 4095"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileDeny(tt.policy)
			if err == nil {
				t.Fatal("compiled; want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

func TestDefaultDenyIsACopy(t *testing.T) {
	a := DefaultDeny()
	a[0] = "changed"
	if b := DefaultDeny(); b[0] == "changed" {
		t.Fatal("DefaultDeny returned shared storage")
	}
}

func TestTraceFilterVerdicts(t *testing.T) {
	prog, err := compileTrace()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range tracedCalls {
		c := call{name: name}
		if name == "sendto" {
			c.args[4] = 0x7ffe0000
		}
		if got := run(t, prog, c); got != notify {
			t.Errorf("%s: got %#x, want USER_NOTIF", name, got)
		}
	}
	for _, ch := range []struct {
		c    call
		want uint32
	}{
		{call{name: "read"}, allow},
		{call{name: "close"}, allow},
		{call{name: "sendto"}, allow}, // a connected socket's send: no address
		{call{name: "sendto", args: [6]uint64{4: hi}}, notify},
		{call{name: "openat", arch: 0x40000003}, allow}, // the deny filter kills these
		{call{name: "openat", x32: true}, allow},
	} {
		if got := run(t, prog, ch.c); got != ch.want {
			t.Errorf("%s arch %#x args %#x: got %#x, want %#x", ch.c.name, ch.c.arch, ch.c.args, got, ch.want)
		}
	}
}

func TestEveryTracedCallDecodes(t *testing.T) {
	for _, name := range tracedCalls {
		d := &decoder{pid: 0, mem: newMemReader(0)}
		ev := Event{Syscall: name}
		if !d.decode(&ev) {
			t.Errorf("%s is traced but has no decoder", name)
		}
	}
}

func TestNotifStructSizes(t *testing.T) {
	if got := unsafe.Sizeof(notif{}); got != sizeNotif {
		t.Errorf("struct seccomp_notif is %d bytes here, %d in the kernel's ioctl number", got, sizeNotif)
	}
	if got := unsafe.Sizeof(notifResp{}); got != sizeNotifResp {
		t.Errorf("struct seccomp_notif_resp is %d bytes here, %d in the kernel's ioctl number", got, sizeNotifResp)
	}
	if got := (unix.SECCOMP_IOCTL_NOTIF_RECV >> 16) & 0x3fff; got != sizeNotif {
		t.Errorf("NOTIF_RECV encodes %d bytes", got)
	}
	if got := (unix.SECCOMP_IOCTL_NOTIF_SEND >> 16) & 0x3fff; got != sizeNotifResp {
		t.Errorf("NOTIF_SEND encodes %d bytes", got)
	}
}

func BenchmarkCompileDeny(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := compileDeny(Policy{}); err != nil {
			b.Fatal(err)
		}
	}
}
