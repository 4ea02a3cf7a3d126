//go:build linux && amd64

package seccomp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The process tests re-execute the test binary. With SECCOMP_TEST_CHILD
// set, TestMain runs that child instead of the tests: it installs a
// filter and then tries things, printing one "name result" line each.
const childEnv = "SECCOMP_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		child, ok := children[mode]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown child %q\n", mode)
			os.Exit(2)
		}
		if err := child(); err != nil {
			fmt.Fprintf(os.Stderr, "child %s: %v\n", mode, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var children = map[string]func() error{
	"deny":        denyChild,
	"trace":       traceChild,
	"adversarial": adversarialChild,
	"late":        lateChild,
	"dial":        dialChild,
	"openloop":    openLoopChild,
}

// result names what a call returned: "ok" or the errno's name.
func result(err error) string {
	if err == nil {
		return "ok"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	return "error: " + err.Error()
}

func rawResult(errno syscall.Errno) string {
	if errno == 0 {
		return "ok"
	}
	return unix.ErrnoName(errno)
}

// listenerConn is the test's end of the socket the child sends its
// listener fd over: fd 3 in the child.
func listenerConn() (*net.UnixConn, error) {
	c, err := net.FileConn(os.NewFile(3, "seccomp-test-socket"))
	if err != nil {
		return nil, err
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil, fmt.Errorf("fd 3 is a %T", c)
	}
	return uc, nil
}

// installTraceAndSend is the helper side of the tracer: load the filter,
// pass the listener up, close this copy.
func installTraceAndSend() (*net.UnixConn, error) {
	conn, err := listenerConn()
	if err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	fd, err := InstallTrace()
	if err != nil {
		return nil, err
	}
	if err := SendFD(conn, fd); err != nil {
		return nil, err
	}
	unix.Close(fd)
	return conn, nil
}

// traceChild installs the trace filter and execs SECCOMP_TEST_EXEC.
func traceChild() error {
	var argv []string
	if err := json.Unmarshal([]byte(os.Getenv("SECCOMP_TEST_EXEC")), &argv); err != nil {
		return err
	}
	conn, err := installTraceAndSend()
	if err != nil {
		return err
	}
	conn.Close()
	return syscall.Exec(argv[0], argv, os.Environ())
}

// dialChild connects to SECCOMP_TEST_ADDR and says hello.
func dialChild() error {
	c, err := net.Dial("tcp", os.Getenv("SECCOMP_TEST_ADDR"))
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte("hello"))
	return err
}

// startChild starts the test binary as child mode with env added, fd 3 being
// the other end of the returned connection (nil when sock is false).
func startChild(t testing.TB, ctx context.Context, mode string, sock bool, env ...string) (*exec.Cmd, *net.UnixConn, *bytes.Buffer) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{childEnv + "=" + mode}, env...)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = 5 * time.Second
	var conn *net.UnixConn
	if sock {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		theirs := os.NewFile(uintptr(fds[1]), "child end")
		conn = unixConn(t, fds[0])
		cmd.ExtraFiles = []*os.File{theirs}
		defer theirs.Close()
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, conn, &out
}

// parseResults reads the child's "name result" lines.
func parseResults(out string) map[string]string {
	got := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if name, res, ok := strings.Cut(line, " "); ok {
			got[name] = res
		}
	}
	return got
}

// listen starts a TCP listener on loopback that records what each
// connection sends.
func listen(t testing.TB) (addr string, got <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan string, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				var buf [64]byte
				n, _ := c.Read(buf[:])
				ch <- string(buf[:n])
			}()
		}
	}()
	return ln.Addr().String(), ch
}

// unixConn wraps a socket fd, taking it over.
func unixConn(t testing.TB, fd int) *net.UnixConn {
	t.Helper()
	f := os.NewFile(uintptr(fd), "socket")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.UnixConn)
}
