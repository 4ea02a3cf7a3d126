//go:build linux && amd64

package seccomp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// traced runs a trace child and supervises it to the end, returning
// the events, what Supervise returned and the child's output.
func traced(t *testing.T, mode string, opts Options, env ...string) ([]Event, Summary, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd, conn, out := startChild(t, ctx, mode, true, env...)
	fd, err := RecvFD(conn)
	if err != nil {
		cmd.Wait()
		t.Fatalf("receiving the listener: %v\n%s", err, out)
	}
	var (
		mu     sync.Mutex
		events []Event
	)
	type ended struct {
		sum Summary
		err error
	}
	done := make(chan ended, 1)
	go func() {
		sum, err := Supervise(ctx, fd, opts, func(e Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		})
		done <- ended{sum, err}
	}()
	if err := cmd.Wait(); err != nil {
		t.Errorf("child: %v\n%s", err, out)
	}
	end := <-done
	mu.Lock()
	defer mu.Unlock()
	return events, end.sum, out.String(), end.err
}

func findEvent(events []Event, match func(Event) bool) (Event, bool) {
	for _, e := range events {
		if match(e) {
			return e, true
		}
	}
	return Event{}, false
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// counter is an injected clock: second 1, 2, 3, ...
func counter() func() time.Time {
	var mu sync.Mutex
	n := int64(0)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return time.Unix(n, 0)
	}
}

func TestTraceRecordsWhatARunTouched(t *testing.T) {
	dir := t.TempDir()
	src := "/etc/hostname"
	if _, err := os.Stat(src); err != nil {
		src = filepath.Join(dir, "hostname")
		if err := os.WriteFile(src, []byte("host\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr, conns := listen(t)
	script := `cat ` + src + ` > "$SECCOMP_TEST_DIR/x"; ls / > /dev/null; SECCOMP_TEST_CHILD=dial "$SECCOMP_TEST_SELF"; exec /bin/true`
	argv := []string{"/bin/sh", "-c", script}
	events, sum, out, err := traced(t, "trace", Options{Now: counter()},
		"SECCOMP_TEST_EXEC="+mustJSON(t, argv), "SECCOMP_TEST_DIR="+dir, "SECCOMP_TEST_SELF="+os.Args[0],
		"SECCOMP_TEST_ADDR="+addr)
	if err != nil {
		t.Fatalf("Supervise: %v (want nil once the run is over)", err)
	}
	defer func() {
		if t.Failed() || testing.Verbose() {
			for _, e := range events {
				t.Logf("%+v", e)
			}
			t.Logf("summary %+v; child output:\n%s", sum, out)
		}
	}()

	want := []struct {
		what  string
		match func(Event) bool
	}{
		{"execve of /bin/sh with its argv", func(e Event) bool {
			return e.Syscall == "execve" && e.Path == "/bin/sh" && slices.Equal(e.Exec, argv) && !e.Write
		}},
		{"execve of cat with its argv", func(e Event) bool {
			return e.Syscall == "execve" && strings.HasSuffix(e.Path, "/cat") && slices.Equal(e.Exec, []string{"cat", src})
		}},
		{"open of the source for reading", func(e Event) bool {
			return strings.HasPrefix(e.Syscall, "open") && e.Path == src && !e.Write && e.Flags&unix.O_ACCMODE == unix.O_RDONLY
		}},
		{"open of the output for writing", func(e Event) bool {
			return strings.HasPrefix(e.Syscall, "open") && e.Path == filepath.Join(dir, "x") && e.Write &&
				e.Flags&(unix.O_CREAT|unix.O_TRUNC) == unix.O_CREAT|unix.O_TRUNC
		}},
		{"open of / as a directory", func(e Event) bool {
			return strings.HasPrefix(e.Syscall, "open") && e.Path == "/" && e.Flags&unix.O_DIRECTORY != 0 && !e.Write
		}},
		{"connect to the listener", func(e Event) bool { return e.Syscall == "connect" && e.Addr == addr }},
		{"exec of /bin/true", func(e Event) bool {
			return e.Syscall == "execve" && e.Path == "/bin/true" && slices.Equal(e.Exec, []string{"/bin/true"})
		}},
	}
	for _, w := range want {
		if _, ok := findEvent(events, w.match); !ok {
			t.Errorf("no event for %s", w.what)
		}
	}
	for i, e := range events {
		if e.PID <= 0 {
			t.Errorf("event %d has pid %d", i, e.PID)
		}
		if want := time.Unix(int64(i+1), 0); !e.Time.Equal(want) {
			t.Errorf("event %d stamped %v, want %v from the injected clock", i, e.Time, want)
		}
	}
	if sum.Emitted != len(events) || sum.Truncated || sum.Notifications < sum.Emitted {
		t.Errorf("summary %+v for %d events", sum, len(events))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "x")); err != nil || len(b) == 0 {
		t.Errorf("the traced cat wrote %q, %v: traced calls must run", b, err)
	}
	select {
	case msg := <-conns:
		if msg != "hello" {
			t.Errorf("listener got %q", msg)
		}
	case <-time.After(10 * time.Second):
		t.Error("the traced connection never reached the listener")
	}
}

func TestTraceStopsEmittingAtMaxEvents(t *testing.T) {
	dir := t.TempDir()
	argv := []string{"/bin/sh", "-c", `echo hi > "$SECCOMP_TEST_DIR/y"; : > "$SECCOMP_TEST_DIR/z"; exec /bin/true`}
	events, sum, _, err := traced(t, "trace", Options{MaxEvents: 2},
		"SECCOMP_TEST_EXEC="+mustJSON(t, argv), "SECCOMP_TEST_DIR="+dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || sum.Emitted != 2 || !sum.Truncated || sum.Notifications <= 2 {
		t.Errorf("got %d events, summary %+v; want 2 emitted of more, truncated", len(events), sum)
	}
	// Calls past the bound still ran.
	if b, err := os.ReadFile(filepath.Join(dir, "y")); err != nil || string(b) != "hi\n" {
		t.Errorf("y holds %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "z")); err != nil {
		t.Error(err)
	}
}

// adversarialChild passes the supervisor pointers it cannot read and
// strings longer than any bound, then prints what each call returned:
// the calls must have run (and failed in the kernel), not waited.
func adversarialChild() error {
	if _, err := installTraceAndSend(); err != nil {
		return err
	}
	page := unix.Getpagesize()
	mem, err := unix.Mmap(-1, 0, 2*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return err
	}
	base := uintptr(unsafe.Pointer(&mem[0]))
	if _, _, e := unix.Syscall(unix.SYS_MUNMAP, base+uintptr(page), uintptr(page), 0); e != 0 {
		return e
	}
	for i := page - 16; i < page; i++ {
		mem[i] = 'a' // no NUL before the unmapped page
	}
	huge := append([]byte(strings.Repeat("a", 1<<20)), 0)
	args := make([][]byte, 100)
	argPtrs := make([]uintptr, len(args)+1)
	for i := range args {
		args[i] = append([]byte(strings.Repeat("b", 10000)), 0)
		argPtrs[i] = uintptr(unsafe.Pointer(&args[i][0]))
	}
	noFile := []byte("/sentinel-no-such-file\x00")
	sock, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	sin := [16]byte{unix.AF_INET, 0, 0, 9, 127, 0, 0, 1}

	open := func(p uintptr) string {
		_, _, e := unix.Syscall(unix.SYS_OPEN, p, unix.O_RDONLY, 0)
		return rawResult(e)
	}
	fmt.Println("open-null", open(0x10))
	fmt.Println("open-unmapped", open(base+uintptr(page)))
	fmt.Println("open-runs-off", open(base+uintptr(page-16)))
	fmt.Println("open-huge", open(uintptr(unsafe.Pointer(&huge[0]))))
	_, _, e := unix.Syscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(&noFile[0])), uintptr(unsafe.Pointer(&argPtrs[0])), 0)
	fmt.Println("exec-huge-argv", rawResult(e))
	_, _, e = unix.Syscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(&noFile[0])), 0x10, 0)
	fmt.Println("exec-bad-argv", rawResult(e))
	_, _, e = unix.Syscall(unix.SYS_CONNECT, uintptr(sock), 0x10, 16)
	fmt.Println("connect-bad", rawResult(e))
	_, _, e = unix.Syscall(unix.SYS_CONNECT, uintptr(sock), uintptr(unsafe.Pointer(&sin[0])), 1<<20)
	fmt.Println("connect-long", rawResult(e))
	for _, a := range args {
		runtime.KeepAlive(a)
	}
	runtime.KeepAlive(huge)
	runtime.KeepAlive(noFile)
	runtime.KeepAlive(argPtrs)
	runtime.KeepAlive(sin)
	return nil
}

func TestTraceSurvivesHostileArguments(t *testing.T) {
	events, _, out, err := traced(t, "adversarial", Options{})
	if err != nil {
		t.Fatalf("Supervise: %v", err)
	}
	defer func() {
		if t.Failed() {
			for _, e := range events {
				t.Logf("%+v", e)
			}
			t.Logf("child output:\n%s", out)
		}
	}()
	// Each call ran to the kernel's own verdict.
	got := parseResults(out)
	for name, want := range map[string]string{
		"open-null": "EFAULT", "open-unmapped": "EFAULT", "open-runs-off": "EFAULT", "open-huge": "ENAMETOOLONG",
		"exec-huge-argv": "ENOENT", "exec-bad-argv": "ENOENT", "connect-bad": "EFAULT", "connect-long": "EINVAL",
	} {
		if got[name] != want {
			t.Errorf("%s: the call returned %q, want %q", name, got[name], want)
		}
	}
	// Go's runtime opens with openat, so the open(2) events are the
	// child's four, in order.
	var opens []Event
	for _, e := range events {
		if e.Syscall == "open" {
			opens = append(opens, e)
		}
	}
	if len(opens) != 4 {
		t.Fatalf("got %d open events, want 4", len(opens))
	}
	for i, e := range opens[:3] {
		if !strings.Contains(e.Incomplete, "unreadable pointer") {
			t.Errorf("open %d: Incomplete %q, want it to say the pointer was unreadable", i, e.Incomplete)
		}
	}
	if p := opens[2].Path; !strings.HasSuffix(p, "/"+strings.Repeat("a", 16)) {
		t.Errorf("the string that runs off its page came back as %q; want its 16 readable bytes", p)
	}
	huge := opens[3]
	if !strings.HasSuffix(huge.Path, "/"+strings.Repeat("a", MaxPath)) || strings.Contains(huge.Path, strings.Repeat("a", MaxPath+1)) ||
		!strings.Contains(huge.Incomplete, "longer than the bound") {
		t.Errorf("huge path: %d bytes, Incomplete %q; want %d bytes kept and a note", len(huge.Path), huge.Incomplete, MaxPath)
	}
	exec, ok := findEvent(events, func(e Event) bool { return e.Syscall == "execve" && len(e.Exec) > 0 })
	if !ok {
		t.Fatal("no execve event with an argv")
	}
	if len(exec.Exec) != MaxArgs || !strings.Contains(exec.Incomplete, "more than 64") {
		t.Errorf("execve kept %d args, Incomplete %q; want %d and a note", len(exec.Exec), exec.Incomplete, MaxArgs)
	}
	for i, a := range exec.Exec {
		if a != strings.Repeat("b", MaxArgBytes) {
			t.Errorf("argv[%d] kept %d bytes, want %d", i, len(a), MaxArgBytes)
			break
		}
	}
	if _, ok := findEvent(events, func(e Event) bool {
		return e.Syscall == "execve" && e.Path == "/sentinel-no-such-file" && e.Exec == nil && strings.Contains(e.Incomplete, "unreadable pointer")
	}); !ok {
		t.Error("no execve event noting an unreadable argv")
	}
	if _, ok := findEvent(events, func(e Event) bool {
		return e.Syscall == "connect" && e.Addr == "" && strings.Contains(e.Incomplete, "unreadable pointer")
	}); !ok {
		t.Error("no connect event noting an unreadable address")
	}
	if _, ok := findEvent(events, func(e Event) bool { return e.Syscall == "connect" && e.Addr == "127.0.0.1:9" }); !ok {
		t.Error("no connect event for the over-long address, read up to its bound")
	}
}

// lateChild waits for a byte from the test, then opens a file: by then
// the supervisor has stopped.
func lateChild() error {
	conn, err := installTraceAndSend()
	if err != nil {
		return err
	}
	if _, err := conn.Read(make([]byte, 1)); err != nil {
		return err
	}
	_, err = unix.Open("/", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	fmt.Println("open", result(err))
	return nil
}

func TestTracedCallsFailOnceTheSupervisorStops(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd, conn, out := startChild(t, ctx, "late", true)
	fd, err := RecvFD(conn)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := Supervise(sctx, fd, Options{}, func(Event) {})
		done <- err
	}()
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Supervise returned %v, want context.Canceled", err)
	}
	if _, err := conn.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	// Not a hang: the kernel answers for the closed listener.
	if got := parseResults(out.String())["open"]; got != "ENOSYS" {
		t.Errorf("open after the supervisor stopped: %q, want ENOSYS", got)
	}
}

func TestRecvFDRefusesAnythingButOneFD(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A child that sends nothing and exits: the peer closes.
	cmd, conn, _ := startChild(t, ctx, "deny", true, "SECCOMP_TEST_POLICY=none", "SECCOMP_TEST_PROBES=socket-tcp")
	cmd.Wait()
	if fd, err := RecvFD(conn); err == nil || fd != -1 {
		t.Errorf("RecvFD on a closed peer: %d, %v; want an error", fd, err)
	}

	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := unixConn(t, fds[0]), unixConn(t, fds[1])
	// Two fds at once.
	if _, _, err := a.WriteMsgUnix([]byte{'F'}, unix.UnixRights(0, 1), nil); err != nil {
		t.Fatal(err)
	}
	if fd, err := RecvFD(b); err == nil || !strings.Contains(err.Error(), "got 2 fds") {
		t.Errorf("two fds: %d, %v; want an error saying so", fd, err)
	}
	// One, through SendFD.
	if err := SendFD(a, 0); err != nil {
		t.Fatal(err)
	}
	fd, err := RecvFD(b)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("received fd flags %#x, %v; want close-on-exec", flags, err)
	}
}

// openLoopChild opens and closes a file SECCOMP_TEST_N times under the
// filter SECCOMP_TEST_FILTER and prints how long that took.
func openLoopChild() error {
	n, err := strconv.Atoi(os.Getenv("SECCOMP_TEST_N"))
	if err != nil {
		return err
	}
	switch f := os.Getenv("SECCOMP_TEST_FILTER"); f {
	case "none":
	case "deny":
		if err := Install(Policy{}); err != nil {
			return err
		}
	case "deny+trace":
		if err := Install(Policy{}); err != nil {
			return err
		}
		if _, err := installTraceAndSend(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("filter %q", f)
	}
	path := os.Getenv("SECCOMP_TEST_READ")
	start := time.Now()
	for range n {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		unix.Close(fd)
	}
	fmt.Println("elapsed", time.Since(start).Nanoseconds())
	return nil
}

// BenchmarkOpenUnderFilters measures what each filter adds to open(2):
// none, the deny filter alone, and the deny and trace filters with a
// supervisor answering every open. The figure is ns/open as the child
// measured it, so process start-up is left out.
func BenchmarkOpenUnderFilters(b *testing.B) {
	const opens = 10000
	file := filepath.Join(b.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, filter := range []string{"none", "deny", "deny+trace"} {
		b.Run(filter, func(b *testing.B) {
			var total int64
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				cmd, conn, out := startChild(b, ctx, "openloop", filter == "deny+trace",
					"SECCOMP_TEST_FILTER="+filter, "SECCOMP_TEST_N="+strconv.Itoa(opens), "SECCOMP_TEST_READ="+file)
				done := make(chan error, 1)
				if conn != nil {
					fd, err := RecvFD(conn)
					if err != nil {
						b.Fatal(err)
					}
					go func() {
						_, err := Supervise(ctx, fd, Options{MaxEvents: 1}, func(Event) {})
						done <- err
					}()
				} else {
					done <- nil
				}
				if err := cmd.Wait(); err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				if err := <-done; err != nil {
					b.Fatal(err)
				}
				cancel()
				ns, err := strconv.ParseInt(parseResults(out.String())["elapsed"], 10, 64)
				if err != nil {
					b.Fatalf("child output %q", out)
				}
				total += ns
			}
			b.ReportMetric(float64(total)/float64(b.N*opens), "ns/open")
		})
	}
}
