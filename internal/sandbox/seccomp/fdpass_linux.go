//go:build linux && amd64

package seccomp

import (
	"errors"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// SendFD sends fd over conn with SCM_RIGHTS, with one byte of data (a
// stream socket carries no control message without data). The caller
// keeps its copy and should close it once sent.
func SendFD(conn *net.UnixConn, fd int) error {
	if fd < 0 {
		return fmt.Errorf("seccomp: SendFD: %d is not a file descriptor", fd)
	}
	n, oobn, err := conn.WriteMsgUnix([]byte{'F'}, unix.UnixRights(fd), nil)
	if err != nil {
		return fmt.Errorf("seccomp: sending fd %d: %w", fd, err)
	}
	if n != 1 || oobn == 0 {
		return fmt.Errorf("seccomp: sending fd %d: short write", fd)
	}
	return nil
}

// RecvFD receives one fd sent by SendFD. It is close-on-exec. Anything
// but exactly one fd is an error, and every fd that did arrive is closed.
func RecvFD(conn *net.UnixConn) (int, error) {
	buf := make([]byte, 1)
	// Room for a few fds, so that a sender passing more is caught
	// rather than silently cut (MSG_CTRUNC).
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, flags, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return -1, fmt.Errorf("seccomp: receiving an fd: %w", err)
	}
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return -1, fmt.Errorf("seccomp: receiving an fd: parsing the control message: %w", err)
		}
		for _, m := range msgs {
			got, err := unix.ParseUnixRights(&m)
			if err == nil {
				fds = append(fds, got...)
			}
		}
	}
	switch {
	case n == 0 && len(fds) == 0:
		return -1, errors.New("seccomp: receiving an fd: the peer closed the connection without sending one")
	case len(fds) != 1 || flags&unix.MSG_CTRUNC != 0:
		for _, fd := range fds {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("seccomp: receiving an fd: got %d fds (control data truncated: %v); want exactly 1", len(fds), flags&unix.MSG_CTRUNC != 0)
	}
	return fds[0], nil
}
