//go:build !linux || !amd64

package seccomp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
)

// errUnsupported is returned everywhere the filters cannot be built.
var errUnsupported = fmt.Errorf("seccomp: filters are written for linux/amd64, not %s/%s: %w",
	runtime.GOOS, runtime.GOARCH, errors.ErrUnsupported)

// Install refuses: this build has no filter for the platform.
func Install(Policy) error { return errUnsupported }

// InstallTrace refuses: this build has no filter for the platform.
func InstallTrace() (int, error) { return -1, errUnsupported }

// Supervise refuses: this build has no filter for the platform.
func Supervise(context.Context, int, Options, func(Event)) (Summary, error) {
	return Summary{}, errUnsupported
}

// SendFD refuses: fds are passed only to and from the supervisor.
func SendFD(*net.UnixConn, int) error { return errUnsupported }

// RecvFD refuses: fds are passed only to and from the supervisor.
func RecvFD(*net.UnixConn) (int, error) { return -1, errUnsupported }
