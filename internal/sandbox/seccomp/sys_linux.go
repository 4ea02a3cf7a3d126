//go:build linux && amd64

package seccomp

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// loadFilter sets no_new_privs on the calling thread and loads prog with
// flags. With SECCOMP_FILTER_FLAG_TSYNC the kernel copies the filter and
// no_new_privs to every other thread of the process. It returns what
// seccomp(2) returned: the listener fd for SECCOMP_FILTER_FLAG_NEW_LISTENER.
func loadFilter(prog []unix.SockFilter, flags uintptr) (int, error) {
	// prctl and seccomp must run on the same thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return -1, fmt.Errorf("setting no_new_privs: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		switch errno {
		case unix.EINVAL:
			return -1, fmt.Errorf("seccomp(SET_MODE_FILTER): %w (the kernel lacks seccomp filters or a flag this package needs)", errno)
		case unix.ESRCH:
			return -1, fmt.Errorf("seccomp(SET_MODE_FILTER): %w (another thread of this process has a different seccomp filter)", errno)
		case unix.EBUSY:
			return -1, fmt.Errorf("seccomp(SET_MODE_FILTER): %w (a listener filter is already installed; there can be one)", errno)
		}
		return -1, fmt.Errorf("seccomp(SET_MODE_FILTER): %w", errno)
	}
	if flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER == 0 && r != 0 {
		// TSYNC without TSYNC_ESRCH reports a thread it could not
		// synchronise by its id.
		return -1, fmt.Errorf("seccomp(SET_MODE_FILTER): thread %d could not take the filter (it has a different seccomp filter)", r)
	}
	return int(r), nil
}

// seccompData is struct seccomp_data.
type seccompData struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

// notif is struct seccomp_notif.
type notif struct {
	ID    uint64
	PID   uint32
	Flags uint32
	Data  seccompData
}

// notifResp is struct seccomp_notif_resp.
type notifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// SECCOMP_IOCTL_NOTIF_RECV and _SEND encode the struct sizes above.
const (
	sizeNotif     = 80
	sizeNotifResp = 24
)

func ioctlPtr(fd int, req uint, p unsafe.Pointer) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(p))
	if errno != 0 {
		return errno
	}
	return nil
}

// recvNotif waits for the next notification; the caller polls first.
// The kernel insists the struct is zeroed.
func recvNotif(fd int, n *notif) error {
	*n = notif{}
	return ioctlPtr(fd, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(n))
}

// notifValid reports whether notification id is still pending: its
// caller is alive and still in the call.
func notifValid(fd int, id uint64) bool {
	return ioctlPtr(fd, unix.SECCOMP_IOCTL_NOTIF_ID_VALID, unsafe.Pointer(&id)) == nil
}

// sendContinue lets the call run as if no filter had stopped it.
// ENOENT (the caller is gone) is not an error.
func sendContinue(fd int, id uint64) error {
	resp := notifResp{ID: id, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	err := ioctlPtr(fd, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp))
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	return err
}
