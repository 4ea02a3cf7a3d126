//go:build linux && amd64

package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// openWriteFlags are the open flags that make an open a write.
const openWriteFlags = unix.O_WRONLY | unix.O_RDWR | unix.O_CREAT | unix.O_TRUNC | unix.O_APPEND

// maxSockaddr is sizeof(struct sockaddr_storage).
const maxSockaddr = 128

// decoder turns one notification into an Event.
type decoder struct {
	pid      int
	args     [6]uint64
	mem      *memReader
	problems []string
}

func (d *decoder) note(what string, err error) {
	d.problems = append(d.problems, what+": "+err.Error())
}

// int32Arg is argument i as the kernel reads an int: its low 32 bits.
func (d *decoder) int32Arg(i int) int { return int(int32(d.args[i])) }

// path reads the path at argument i, relative to the directory fd in
// argument dirfd (or the working directory when dirfd is negative).
func (d *decoder) path(dirfd, i int, emptyOK bool) string {
	p, err := d.mem.cstring(d.args[i], MaxPath)
	if err != nil {
		d.note("path", err)
	}
	if p == "" && emptyOK {
		// AT_EMPTY_PATH: the call acts on the directory fd itself.
		if dirfd < 0 {
			return ""
		}
		return d.dir(d.int32Arg(dirfd))
	}
	if strings.HasPrefix(p, "/") || p == "" {
		return p
	}
	fd := unix.AT_FDCWD
	if dirfd >= 0 {
		fd = d.int32Arg(dirfd)
	}
	dir := d.dir(fd)
	if dir == "" {
		return p
	}
	// Joined, not cleaned: "a/../b" resolves through a's target when a
	// is a symlink, so cleaning it could name the wrong file.
	return strings.TrimSuffix(dir, "/") + "/" + p
}

// dir names the directory a relative path starts from: the caller's
// working directory for AT_FDCWD, else what its fd refers to.
func (d *decoder) dir(fd int) string {
	link := "/proc/" + strconv.Itoa(d.pid) + "/cwd"
	if fd != unix.AT_FDCWD {
		if fd < 0 {
			d.note("directory", fmt.Errorf("fd %d is not a file descriptor", fd))
			return ""
		}
		link = "/proc/" + strconv.Itoa(d.pid) + "/fd/" + strconv.Itoa(fd)
	}
	target, err := os.Readlink(link)
	if err != nil {
		d.note("directory", err)
		return ""
	}
	return target
}

// sockaddr reads the address at argument i whose length is argument n.
func (d *decoder) sockaddr(i, n int) string {
	size := min(d.args[n], maxSockaddr)
	if d.args[i] == 0 || size < 2 {
		d.note("address", errBadPointer)
		return ""
	}
	buf := make([]byte, size)
	got, err := d.mem.read(d.args[i], buf)
	if err != nil {
		d.note("address", err)
	}
	s, err := sockaddrString(buf[:got])
	if err != nil {
		d.note("address", err)
	}
	return s
}

// sockaddrString formats a struct sockaddr.
func sockaddrString(b []byte) (string, error) {
	if len(b) < 2 {
		return "", errors.New("shorter than its family field")
	}
	family := binary.LittleEndian.Uint16(b)
	switch family {
	case unix.AF_INET:
		if len(b) < 8 {
			return "", errors.New("short AF_INET address")
		}
		ip := netip.AddrFrom4([4]byte(b[4:8]))
		return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(b[2:4])).String(), nil
	case unix.AF_INET6:
		if len(b) < 24 {
			return "", errors.New("short AF_INET6 address")
		}
		ip := netip.AddrFrom16([16]byte(b[8:24]))
		return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(b[2:4])).String(), nil
	case unix.AF_UNIX:
		p := b[2:]
		if len(p) > 0 && p[0] == 0 {
			// Abstract: the name is every byte the length covers.
			return "@" + string(p[1:]), nil
		}
		if i := strings.IndexByte(string(p), 0); i >= 0 {
			p = p[:i]
		}
		return string(p), nil
	case unix.AF_UNSPEC:
		return "unspec", nil
	}
	return "family " + strconv.Itoa(int(family)), nil
}

// decode fills ev from the call's arguments. It reports false for a call
// it does not know, which compileTrace never sends.
func (d *decoder) decode(ev *Event) bool {
	const cwd = -1 // dirfd index meaning "relative to the working directory"
	a := d.args
	switch ev.Syscall {
	case "open":
		ev.Path, ev.Flags = d.path(cwd, 0, false), d.int32Arg(1)
		ev.Write = ev.Flags&openWriteFlags != 0
	case "openat":
		ev.Path, ev.Flags = d.path(0, 1, false), d.int32Arg(2)
		ev.Write = ev.Flags&openWriteFlags != 0
	case "openat2":
		ev.Path = d.path(0, 1, false)
		// struct open_how starts with the 64-bit flags.
		if a[3] < 8 {
			d.note("open_how", errBadPointer)
		} else if how, err := d.mem.u64(a[2]); err != nil {
			d.note("open_how", err)
		} else {
			ev.Flags = int(how)
			ev.Write = ev.Flags&openWriteFlags != 0
		}
	case "creat":
		ev.Path = d.path(cwd, 0, false)
		ev.Flags, ev.Write = unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, true
	case "execve":
		ev.Path = d.path(cwd, 0, false)
		ev.Exec = d.argv(1)
	case "execveat":
		ev.Flags = d.int32Arg(4)
		ev.Path = d.path(0, 1, ev.Flags&unix.AT_EMPTY_PATH != 0)
		ev.Exec = d.argv(2)
	case "connect", "bind":
		ev.Addr = d.sockaddr(1, 2)
	case "sendto":
		ev.Addr = d.sockaddr(4, 5)
	case "unlink", "rmdir", "mkdir", "mknod", "truncate", "chmod", "chown", "lchown":
		ev.Path, ev.Write = d.path(cwd, 0, false), true
	case "mkdirat", "mknodat", "fchmodat":
		ev.Path, ev.Write = d.path(0, 1, false), true
	case "unlinkat":
		ev.Path, ev.Flags, ev.Write = d.path(0, 1, false), d.int32Arg(2), true
	case "fchmodat2":
		ev.Flags = d.int32Arg(3)
		ev.Path, ev.Write = d.path(0, 1, ev.Flags&unix.AT_EMPTY_PATH != 0), true
	case "fchownat":
		ev.Flags = d.int32Arg(4)
		ev.Path, ev.Write = d.path(0, 1, ev.Flags&unix.AT_EMPTY_PATH != 0), true
	case "rename", "link":
		ev.Path, ev.Target, ev.Write = d.path(cwd, 0, false), d.path(cwd, 1, false), true
	case "renameat", "renameat2", "linkat":
		if ev.Syscall != "renameat" {
			ev.Flags = d.int32Arg(4)
		}
		emptyOK := ev.Syscall == "linkat" && ev.Flags&unix.AT_EMPTY_PATH != 0
		ev.Path, ev.Target, ev.Write = d.path(0, 1, emptyOK), d.path(2, 3, false), true
	case "symlink", "symlinkat":
		// The link's contents are stored as given, never resolved.
		target, err := d.mem.cstring(a[0], MaxPath)
		if err != nil {
			d.note("symlink target", err)
		}
		ev.Target, ev.Write = target, true
		if ev.Syscall == "symlink" {
			ev.Path = d.path(cwd, 1, false)
		} else {
			ev.Path = d.path(1, 2, false)
		}
	default:
		return false
	}
	return true
}

func (d *decoder) argv(i int) []string {
	args, err := d.mem.argv(d.args[i], MaxArgs, MaxArgBytes)
	if err != nil {
		d.note("argv", err)
	}
	return args
}

// decodeNotif builds the event for one notification.
func decodeNotif(n *notif, ev *Event) {
	ev.PID = int(n.PID)
	d := &decoder{pid: int(n.PID), args: n.Data.Args, mem: newMemReader(int(n.PID))}
	defer d.mem.close()
	name, ok := arch.X86_64.SyscallNumbers[int(n.Data.Nr)]
	if n.Data.Arch != auditArchX86_64 || !ok {
		ev.Syscall = fmt.Sprintf("syscall %d (arch %#x)", n.Data.Nr, n.Data.Arch)
		ev.Incomplete = "not a call the trace filter sends"
		return
	}
	ev.Syscall = name
	if !d.decode(ev) {
		d.problems = append(d.problems, "not a call the trace filter sends")
	}
	ev.Incomplete = strings.Join(d.problems, "; ")
}
