package escape

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// outsideNet is a second network namespace joined to the host by a veth
// pair: a host that a sandbox sharing the host's network could reach, but
// that is not on loopback. Its /30 comes from 198.18.0.0/15, the range set
// aside for benchmarking interconnects, so nothing it carries can be taken
// for, or reach, a real network.
type outsideNet struct {
	name   string // under /run/netns
	hostIf string
	hostIP netip.Addr
	nsIP   netip.Addr
}

// newOutsideNet creates the namespace for slot id (0 ≤ id < 1<<15).
func newOutsideNet(ctx context.Context, id uint32) (*outsideNet, error) {
	base := uint32(198)<<24 | uint32(18)<<16 | (id%(1<<15))*4
	n := &outsideNet{
		name:   fmt.Sprintf("sentinel-escape-%d-%04x", os.Getpid(), id),
		hostIf: fmt.Sprintf("esch%04x", id),
		hostIP: addrFrom(base + 1),
		nsIP:   addrFrom(base + 2),
	}
	peer := fmt.Sprintf("escn%04x", id)
	steps := [][]string{
		{"netns", "add", n.name},
		{"link", "add", n.hostIf, "type", "veth", "peer", "name", peer, "netns", n.name},
		{"addr", "add", n.hostIP.String() + "/30", "dev", n.hostIf},
		{"link", "set", n.hostIf, "up"},
		{"-n", n.name, "addr", "add", n.nsIP.String() + "/30", "dev", peer},
		{"-n", n.name, "link", "set", peer, "up"},
		{"-n", n.name, "link", "set", "lo", "up"},
	}
	for _, args := range steps {
		if err := ip(ctx, args...); err != nil {
			return nil, errors.Join(err, n.close())
		}
	}
	return n, nil
}

func addrFrom(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func ip(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// close removes the host end of the veth pair and the namespace. The
// kernel tears a deleted namespace's devices down asynchronously, so the
// host end is deleted explicitly for its name to be free at once.
func (n *outsideNet) close() error {
	ctx := context.Background()
	var errs []error
	if _, err := net.InterfaceByName(n.hostIf); err == nil {
		errs = append(errs, ip(ctx, "link", "del", n.hostIf))
	}
	if _, err := os.Stat("/run/netns/" + n.name); err == nil {
		errs = append(errs, ip(ctx, "netns", "del", n.name))
	}
	return errors.Join(errs...)
}

// sweepStaleNamespaces deletes the outside namespaces of test processes
// that died without tearing them down (killed, or out of time). Deleting a
// namespace also destroys its veth pair.
func sweepStaleNamespaces(ctx context.Context) error {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return nil // no namespaces at all
	}
	var errs []error
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "sentinel-escape-")
		if !ok {
			continue
		}
		pid, _, ok := strings.Cut(rest, "-")
		if !ok {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue // its test process is still running
		}
		errs = append(errs, ip(ctx, "netns", "del", e.Name()))
	}
	return errors.Join(errs...)
}

// do runs fn on an OS thread switched into the namespace. Sockets fn
// creates stay in the namespace for their whole life. If the thread cannot
// be switched back it stays locked, and the runtime discards it when the
// goroutine ends, so no other goroutine ever runs in the wrong namespace.
func (n *outsideNet) do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + n.name)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter %s: %w", n.name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("leave %s: %w", n.name, err))
			return // the thread stays locked and dies with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
