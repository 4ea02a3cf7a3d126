//go:build linux && amd64

package seccomp

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// probes are what the deny child tries. Each is chosen so that it fails
// harmlessly, with a different errno, when no filter stops it: a mount
// of a file system type that does not exist, clone flags the kernel
// rejects as a combination, and so on. The errno then says which of the
// two refused.
var probes = map[string]func() string{
	// ESRCH without a filter: there is no such process.
	"ptrace-nopid": func() string {
		_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_ATTACH, 0x7ffffff0, 0, 0, 0, 0)
		return rawResult(e)
	},
	"ptrace-traceme": func() string {
		_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0, 0, 0, 0)
		return rawResult(e)
	},
	// ENODEV without a filter.
	"mount": func() string {
		return result(unix.Mount("none", os.TempDir(), "sentinel-no-such-fs", 0, ""))
	},
	// ENOENT without a filter.
	"umount": func() string { return result(unix.Unmount("/sentinel-no-such-dir", 0)) },
	// EINVAL without a filter: a multithreaded process cannot enter a
	// new user namespace.
	"unshare-user": func() string { return result(unix.Unshare(unix.CLONE_NEWUSER)) },
	// EINVAL without a filter: the kernel refuses CLONE_FS with a new
	// user or mount namespace.
	"clone-newuser": func() string { return rawClone(unix.CLONE_NEWUSER | unix.CLONE_FS) },
	"clone-newns":   func() string { return rawClone(unix.CLONE_NEWNS | unix.CLONE_FS) },
	"clone-newuser-high": func() string {
		return rawClone(unix.CLONE_NEWUSER | unix.CLONE_FS | 1<<32)
	},
	// EINVAL without a filter: a zero-sized struct clone_args.
	"clone3": func() string {
		_, _, e := unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
		return rawResult(e)
	},
	"socket-packet": func() string {
		return socketResult(unix.AF_PACKET, unix.SOCK_RAW, 0x0300) // htons(ETH_P_ALL)
	},
	"socket-packet-high": func() string { return socketResult(unix.AF_PACKET|1<<32, unix.SOCK_DGRAM, 0) },
	"socket-raw":         func() string { return socketResult(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP) },
	"socket-raw-cloexec": func() string {
		return socketResult(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
	},
	"socket-netlink-route": func() string {
		return socketResult(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	},
	"socket-netlink-netfilter": func() string { return socketResult(unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_NETFILTER) },
	"socket-alg":               func() string { return socketResult(unix.AF_ALG, unix.SOCK_SEQPACKET, 0) },
	"socket-tcp":               func() string { return socketResult(unix.AF_INET, unix.SOCK_STREAM, 0) },
	"personality-query": func() string {
		_, _, e := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
		return rawResult(e)
	},
	"personality-norandom": func() string {
		_, _, e := unix.Syscall(unix.SYS_PERSONALITY, addrNoRandomize, 0, 0)
		return rawResult(e)
	},
	// ENOTTY without a filter: stdin is /dev/null (exec.Cmd's default).
	"tiocsti": func() string {
		c := byte('x')
		_, _, e := unix.Syscall(unix.SYS_IOCTL, 0, unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
		return rawResult(e)
	},
	// EINVAL without a filter: no such command.
	"bpf": func() string {
		_, _, e := unix.Syscall(unix.SYS_BPF, 0xffff, 0, 0)
		return rawResult(e)
	},
	// EFAULT without a filter.
	"io_uring": func() string {
		_, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, 1, 0, 0)
		return rawResult(e)
	},
	// EINVAL without a filter: unknown flags.
	"userfaultfd": func() string {
		_, _, e := unix.Syscall(unix.SYS_USERFAULTFD, 0x7fff0000, 0, 0)
		return rawResult(e)
	},

	// Ordinary work.
	"read-file": func() string {
		b, err := os.ReadFile(os.Getenv("SECCOMP_TEST_READ"))
		if err == nil && string(b) != "contents" {
			return fmt.Sprintf("read %q", b)
		}
		return result(err)
	},
	"write-file": func() string {
		return result(os.WriteFile(filepath.Join(os.Getenv("SECCOMP_TEST_DIR"), "written"), []byte("x"), 0o600))
	},
	"exec-true": func() string { return result(exec.Command("/bin/true").Run()) },
	// dash forks with clone: the background job and the wait must work.
	"fork-sh": func() string {
		out, err := exec.Command("/bin/sh", "-c", "echo child & wait; echo parent").Output()
		if err == nil && string(out) != "child\nparent\n" {
			return fmt.Sprintf("output %q", out)
		}
		return result(err)
	},
	// glibc's pthread_create tries clone3 first and falls back to clone
	// on ENOSYS; a Python thread shows the fallback works.
	"thread-python": func() string {
		py := os.Getenv("SECCOMP_TEST_PYTHON")
		if py == "" {
			return "skipped"
		}
		out, err := exec.Command(py, "-c", "import threading\nr=[]\nt=threading.Thread(target=lambda: r.append(1))\nt.start(); t.join(); print(len(r))").Output()
		if err == nil && string(out) != "1\n" {
			return fmt.Sprintf("output %q", out)
		}
		return result(err)
	},
	// The 32-bit ABI through int 0x80 (getpid there) must not reach
	// the kernel at all: the filter kills the process.
	"i386": func() string {
		py := os.Getenv("SECCOMP_TEST_PYTHON")
		if py == "" {
			return "skipped"
		}
		return runInt80(py)
	},
	"tcp-connect": func() string {
		c, err := net.DialTimeout("tcp", os.Getenv("SECCOMP_TEST_ADDR"), 10*time.Second)
		if err != nil {
			return result(err)
		}
		defer c.Close()
		_, err = c.Write([]byte("deny-child"))
		return result(err)
	},
}

// int80 runs "mov eax, 20; int 0x80; ret" from Python, which has no
// compiler to ask for and can call into machine code.
const int80 = `import ctypes, mmap
m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
m.write(bytes([0xb8, 0x14, 0, 0, 0, 0xcd, 0x80, 0xc3]))
f = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))
print("pid", f())
`

// runInt80 returns "ok" when the 32-bit call returned, else how the
// Python process ended.
func runInt80(python string) string {
	out, err := exec.Command(python, "-c", int80).Output()
	if err != nil {
		return err.Error()
	}
	if !strings.HasPrefix(string(out), "pid ") {
		return fmt.Sprintf("output %q", out)
	}
	return "ok"
}

func rawClone(flags uintptr) string {
	// Raw, and with flags the kernel refuses, so that nothing is ever
	// cloned from a Go process behind the runtime's back.
	_, _, e := unix.RawSyscall6(unix.SYS_CLONE, flags, 0, 0, 0, 0, 0)
	return rawResult(e)
}

func socketResult(domain, typ, proto uint64) string {
	fd, _, e := unix.RawSyscall(unix.SYS_SOCKET, uintptr(domain), uintptr(typ), uintptr(proto))
	if e == 0 {
		unix.Close(int(fd))
	}
	return rawResult(e)
}

// denyChild installs SECCOMP_TEST_POLICY (unless it is "none") and runs
// SECCOMP_TEST_PROBES.
func denyChild() error {
	if js := os.Getenv("SECCOMP_TEST_POLICY"); js != "none" {
		var p Policy
		if err := json.Unmarshal([]byte(js), &p); err != nil {
			return err
		}
		runtime.LockOSThread()
		// On an error the probes still run: they show nothing was
		// installed.
		fmt.Println("install", result(Install(p)))
	}
	for _, name := range strings.Split(os.Getenv("SECCOMP_TEST_PROBES"), ",") {
		probe, ok := probes[name]
		if !ok {
			return fmt.Errorf("no probe %q", name)
		}
		fmt.Println(name, probe())
	}
	return nil
}

func TestDenyInRealProcesses(t *testing.T) {
	dir := t.TempDir()
	readable := filepath.Join(dir, "readable")
	if err := os.WriteFile(readable, []byte("contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	python, _ := exec.LookPath("python3")
	pythonWant, i386Want := "ok", "signal: bad system call"
	if python == "" {
		pythonWant, i386Want = "skipped", "skipped"
	} else if got := runInt80(python); got != "ok" {
		// No 32-bit emulation in this kernel: nothing to refuse.
		t.Logf("int 0x80 without a filter: %s; not checking the i386 probe", got)
		i386Want = ""
	}
	// Without a filter the probes fail with errnos of their own, or
	// succeed: that is what makes the filtered results mean something.
	unfiltered := map[string]string{
		"ptrace-nopid": "ESRCH", "mount": "ENODEV", "umount": "ENOENT", "unshare-user": "EINVAL",
		"clone-newuser": "EINVAL", "clone-newns": "EINVAL", "clone-newuser-high": "EINVAL", "clone3": "EINVAL",
		"socket-packet": "ok", "socket-raw": "ok", "personality-norandom": "ok",
		"tiocsti": "ENOTTY", "bpf": "EINVAL", "io_uring": "EFAULT", "userfaultfd": "EINVAL",
	}
	denied := map[string]string{
		"install": "ok", "ptrace-nopid": "EPERM", "ptrace-traceme": "EPERM", "mount": "EPERM", "umount": "EPERM",
		"unshare-user": "EPERM", "clone-newuser": "EPERM", "clone-newns": "EPERM", "clone-newuser-high": "EPERM",
		"clone3": "ENOSYS", "socket-packet": "EPERM", "socket-packet-high": "EPERM", "socket-raw": "EPERM",
		"socket-raw-cloexec": "EPERM", "socket-netlink-netfilter": "EPERM", "socket-alg": "EPERM",
		"personality-norandom": "EPERM", "tiocsti": "EPERM", "bpf": "EPERM", "io_uring": "EPERM", "userfaultfd": "EPERM",
		// and ordinary work still works
		"socket-netlink-route": "ok", "socket-tcp": "ok", "personality-query": "ok", "read-file": "ok",
		"write-file": "ok", "exec-true": "ok", "fork-sh": "ok", "thread-python": pythonWant, "tcp-connect": "ok",
	}
	if i386Want != "" {
		denied["i386"] = i386Want
	}
	tests := []struct {
		name   string
		policy string
		want   map[string]string
	}{
		{"no filter", "none", unfiltered},
		{"default policy", "{}", denied},
		{"allow removes calls", `{"Allow":["ptrace","socket:raw"],"Errno":13}`, map[string]string{
			"install": "ok", "ptrace-nopid": "ESRCH", "socket-raw": "ok", "socket-packet": "EACCES", "mount": "EACCES",
			"clone3": "ENOSYS",
		}},
		{"unknown names are refused", `{"Deny":["ptrace","no_such_call"]}`, map[string]string{
			"install":      `error: seccomp policy: deny names unknown entries "no_such_call"`,
			"ptrace-nopid": "ESRCH", // nothing was installed
		}},
	}
	addr, conns := listen(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var names []string
			for n := range tt.want {
				if n != "install" {
					names = append(names, n)
				}
			}
			cmd, _, out := startChild(t, ctx, "deny", false,
				"SECCOMP_TEST_POLICY="+tt.policy, "SECCOMP_TEST_PROBES="+strings.Join(names, ","),
				"SECCOMP_TEST_READ="+readable, "SECCOMP_TEST_DIR="+dir, "SECCOMP_TEST_ADDR="+addr,
				"SECCOMP_TEST_PYTHON="+python)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			got := parseResults(out.String())
			for name, want := range tt.want {
				g := got[name]
				if name == "install" && tt.policy != "none" {
					if !strings.HasPrefix(g, want) {
						t.Errorf("install: got %q, want it to start with %q", g, want)
					}
					continue
				}
				if g != want {
					t.Errorf("%s: got %q, want %q", name, g, want)
				}
			}
			if t.Failed() {
				t.Logf("child output:\n%s", out)
			}
		})
	}
	// The filtered child's connection reached the listener.
	select {
	case msg := <-conns:
		if msg != "deny-child" {
			t.Errorf("listener got %q", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the connection the child reported never reached the listener")
	}
}
