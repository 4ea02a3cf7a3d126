//go:build linux && amd64

package seccomp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Supervise answers the trace filter's notifications on the listener fd
// until every process under the filter is gone (it returns a nil error)
// or ctx ends (it returns ctx's error). For each call it decodes the
// arguments, checks the call is still pending, passes the event to emit
// and lets the call continue. emit runs on Supervise's goroutine while
// the traced call waits, so it must be quick and must not block.
//
// Supervise owns fd and closes it before returning. Once it is closed
// the kernel fails any traced call with ENOSYS, so no call ever waits on
// a supervisor that has stopped; ending ctx early therefore breaks the
// traced run, and is meant for ending it. A call Supervise cannot decode
// is continued all the same, with Event.Incomplete saying what was
// missing. Other errors are bad options and failures of the listener
// itself.
func Supervise(ctx context.Context, fd int, opts Options, emit func(Event)) (Summary, error) {
	defer unix.Close(fd)
	var sum Summary
	if opts.MaxEvents < 0 {
		return sum, fmt.Errorf("seccomp: Options.MaxEvents is %d; use 0 for the default (%d) or a positive bound", opts.MaxEvents, DefaultMaxEvents)
	}
	if opts.MaxEvents == 0 {
		opts.MaxEvents = DefaultMaxEvents
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if emit == nil {
		return sum, errors.New("seccomp: Supervise needs an emit function")
	}

	// The pipe wakes poll when ctx ends; writing to an *os.File after
	// Close is a harmless error, so the AfterFunc may race with return.
	wakeR, wakeW, err := os.Pipe()
	if err != nil {
		return sum, fmt.Errorf("seccomp: supervisor wake-up pipe: %w", err)
	}
	defer wakeR.Close()
	defer wakeW.Close()
	stop := context.AfterFunc(ctx, func() { wakeW.Write([]byte{0}) })
	defer stop()

	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(wakeR.Fd()), Events: unix.POLLIN}}
	var n notif
	for {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		fds[0].Revents, fds[1].Revents = 0, 0
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return sum, fmt.Errorf("seccomp: polling the listener: %w", err)
		}
		if fds[1].Revents != 0 {
			return sum, ctx.Err()
		}
		ev := fds[0].Revents
		switch {
		case ev&unix.POLLIN != 0:
			// Pending calls come before a hang-up.
		case ev&unix.POLLHUP != 0:
			return sum, nil // no process uses the filter any more
		case ev&(unix.POLLERR|unix.POLLNVAL) != 0:
			return sum, fmt.Errorf("seccomp: listener fd %d reports poll events %#x", fd, ev)
		default:
			continue
		}
		switch err := recvNotif(fd, &n); err {
		case nil:
		case unix.ENOENT, unix.EINTR:
			// ENOENT: the caller was killed between poll and receive.
			continue
		default:
			return sum, fmt.Errorf("seccomp: receiving a notification: %w", err)
		}
		sum.Notifications++
		e := Event{Time: opts.Now()}
		decodeNotif(&n, &e)
		// What was read is only known to be the caller's if the call is
		// still pending now: a dead caller's pid may have been reused.
		if !notifValid(fd, n.ID) {
			sum.Vanished++
			continue
		}
		if sum.Emitted < opts.MaxEvents {
			emit(e)
			sum.Emitted++
		} else {
			sum.Truncated = true
		}
		if err := sendContinue(fd, n.ID); err != nil {
			return sum, fmt.Errorf("seccomp: continuing a traced call: %w", err)
		}
	}
}
