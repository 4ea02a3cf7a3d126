package escape

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestEnvWorldIsObservable checks, from the host, that every part of the
// world records what the cases rely on it to record.
func TestEnvWorldIsObservable(t *testing.T) {
	requireWorld(t)
	e := NewEnv(t)

	for _, l := range []*Listener{e.Denied, e.OutsideListener} {
		c, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatalf("dial %v from the host: %v", l.Addr(), err)
		}
		_ = c.Close()
		deadline := time.Now().Add(5 * time.Second)
		for l.Hits() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if l.Hits() != 1 {
			t.Errorf("%v: %d hits after one connection", l.Addr(), l.Hits())
		}
	}
	if e.Allowed.Hits() != 0 {
		t.Errorf("the allowed listener counted %d hits nobody made", e.Allowed.Hits())
	}

	outside := e.OutsideListener.Addr().Addr()
	if !netip.MustParsePrefix("198.18.0.0/15").Contains(outside) {
		t.Errorf("outside listener on %v, want an address in 198.18.0.0/15", outside)
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr() == outside {
			t.Errorf("%v is an address of the host's own namespace; it must live in the second one", outside)
		}
	}

	for i, server := range []netip.AddrPort{e.DNSLoopback, e.DNSOutside} {
		name := strings.Repeat("x", i+1) + "." + e.ExfilName
		c, err := net.Dial("udp", server.String())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(dnsQuery(1, name))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 512)); err != nil {
			t.Errorf("no answer from %v: %v", server, err)
		}
		_ = c.Close()
		if !e.DNS.Asked(name) {
			t.Errorf("%v: %s not recorded (have %q)", server, name, e.DNS.Names())
		}
	}

	if e.Marker.DiedWithin(10 * time.Millisecond) {
		t.Fatal("the marker process is not running")
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(e.Marker.PID) + "/cmdline")
	if err != nil || !strings.HasPrefix(string(cmdline), markerPrefix+e.Secrets.MarkerArgv) {
		t.Errorf("marker cmdline %q (%v): want it to carry the argv secret", cmdline, err)
	}

	for path, secret := range map[string]string{e.SSHKey: e.Secrets.SSHKey, e.AWSCredentials: e.Secrets.AWS,
		e.DataMarker: e.Secrets.Data, e.OutsideMarker: e.Secrets.Outside} {
		if data, err := os.ReadFile(path); err != nil || !strings.Contains(string(data), secret) {
			t.Errorf("%s does not hold its secret: %v", path, err)
		}
	}
	if target, err := os.Readlink(filepath.Join(e.Workspace, "link-key")); err != nil || target != e.SSHKey {
		t.Errorf("workspace link-key -> %q (%v), want %s", target, err, e.SSHKey)
	}
	fi, err := os.Stat(e.SetuidProbe)
	if err != nil || fi.Mode()&os.ModeSetuid == 0 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("setuid probe %v (%v): want setuid root", fi.Mode(), err)
	}
	if got, want := e.Profile().Hidden, []string{filepath.Join(e.Home, ".ssh"), filepath.Join(e.Home, ".aws"), e.DataDir}; !slices.Equal(got, want) {
		t.Errorf("hidden %q, want %q", got, want)
	}
	if !slices.Contains(e.Environ(), tagVar+"="+e.Tag) {
		t.Error("Environ does not carry the tag")
	}
}

// TestEnvTeardownLeavesNothing checks that tearing an Env down removes
// what a run may leave: a process that left the group, a mount in the
// workspace, the namespace, the listeners and the directory.
func TestEnvTeardownLeavesNothing(t *testing.T) {
	requireWorld(t)
	e, cleanup, err := newEnv(context.Background(), tools)
	if err != nil {
		_ = cleanup()
		t.Fatal(err)
	}
	stray := exec.Command("sleep", "600")
	stray.Env = e.Environ()
	stray.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := stray.Start(); err != nil {
		_ = cleanup()
		t.Fatal(err)
	}
	strayDone := make(chan struct{})
	go func() { _ = stray.Wait(); close(strayDone) }()
	mnt := filepath.Join(e.Workspace, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("escape-test", mnt, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.Outside, "..", "stray-file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	if err := cleanup(); err != nil {
		t.Fatalf("teardown: %v", err)
	}

	select {
	case <-strayDone:
	case <-time.After(5 * time.Second):
		_ = stray.Process.Kill()
		t.Error("a tagged process outside the run's group survived the teardown")
	}
	if !e.Marker.DiedWithin(5 * time.Second) {
		t.Error("the marker survived the teardown")
	}
	if _, err := os.Lstat(e.Root); !os.IsNotExist(err) {
		t.Errorf("%s still there: %v", e.Root, err)
	}
	if _, err := os.Stat("/run/netns/" + e.netns); !os.IsNotExist(err) {
		t.Errorf("namespace %s still there: %v", e.netns, err)
	}
	if c, err := net.DialTimeout("tcp", e.Denied.Addr().String(), time.Second); err == nil {
		_ = c.Close()
		t.Error("the denied listener still accepts")
	}
}

// TestSweepRemovesOnlyDeadRunsNamespaces checks that a namespace left by a
// test process that is gone is removed and that a live one's is kept.
func TestSweepRemovesOnlyDeadRunsNamespaces(t *testing.T) {
	requireWorld(t)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dead := "sentinel-escape-" + strconv.Itoa(gone.Process.Pid) + "-sweep"
	live := "sentinel-escape-" + strconv.Itoa(os.Getpid()) + "-sweep"
	for _, name := range []string{dead, live} {
		if err := ip(ctx, "netns", "add", name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if _, err := os.Stat("/run/netns/" + name); err == nil {
				_ = ip(ctx, "netns", "del", name)
			}
		})
	}
	if err := sweepStaleNamespaces(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/run/netns/" + dead); !os.IsNotExist(err) {
		t.Errorf("the dead run's namespace is still there: %v", err)
	}
	if _, err := os.Stat("/run/netns/" + live); err != nil {
		t.Errorf("the live run's namespace was removed: %v", err)
	}
}
