package escape

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Env is the world one case runs in, made fresh for it by NewEnv and torn
// down when the test ends. Everything a case can reach lives under Root or
// is a listener, a DNS server or the marker process of this Env alone.
type Env struct {
	Root      string // readable, not writable; holds the directories below
	Home      string // HOME for the script
	Workspace string // the one writable directory
	Outside   string // readable, not writable
	DataDir   string // Sentinel's data directory: hidden
	State     string // scratch for runners (settings files); no script needs it

	SSHKey         string // Home/.ssh/id_rsa
	AWSCredentials string // Home/.aws/credentials
	OutsideMarker  string // Outside/marker.txt
	DataMarker     string // DataDir/marker

	// HostTmpName is a file name the private-/tmp case writes; it must not
	// show up in the host's /tmp nor in any directory directly below it.
	HostTmpName string
	// ExfilName is the DNS name the exfiltration case asks for.
	ExfilName string
	// Tag marks every process of a run: runners pass Environ on, so the
	// host can find what a run left behind.
	Tag string

	Secrets Secrets

	Probe       string // the helper program
	SetuidProbe string // its setuid-root copy

	// Allowed is the one host the profile lets a script connect to;
	// Denied is on the same loopback network and allowed by no profile;
	// OutsideListener is in a second network namespace reached over veth.
	Allowed, Denied, OutsideListener *Listener
	// DNS listens on DNSLoopback and on DNSOutside (port 53 both).
	DNS                     *DNSServer
	DNSLoopback, DNSOutside netip.AddrPort

	Marker *Marker

	netns string // the outside namespace's name under /run/netns
}

// Secrets are the unique strings whose appearance in a run's output proves
// that the script read something it must not.
type Secrets struct {
	SSHKey, AWS, Data, Outside string
	MarkerArgv, MarkerEnv      string
}

// Profile is the policy every runner is asked to enforce for an Env, with
// the Limits passed to Run.
type Profile struct {
	// Writable are the only paths a script may write, besides a private
	// /tmp the runner provides (one the host does not see).
	Writable []string
	// Hidden may be neither read nor listed.
	Hidden []string
	// AllowedHosts are the only network destinations; everything else,
	// DNS included, is refused.
	AllowedHosts []netip.AddrPort
}

// Profile returns the policy for this Env.
func (e Env) Profile() Profile {
	return Profile{
		Writable:     []string{e.Workspace},
		Hidden:       []string{filepath.Dir(e.SSHKey), filepath.Dir(e.AWSCredentials), e.DataDir},
		AllowedHosts: []netip.AddrPort{e.Allowed.Addr()},
	}
}

// Environ is the environment a script starts with.
func (e Env) Environ() []string {
	return []string{
		"HOME=" + e.Home,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LANG=C.UTF-8",
		tagVar + "=" + e.Tag,
	}
}

// baseDir is where Envs and tools are made. Not /tmp: a sandbox may
// replace /tmp with a private one, which would hide the Env from its own
// script. SENTINEL_ESCAPE_DIR overrides it.
func baseDir() string {
	if d := os.Getenv("SENTINEL_ESCAPE_DIR"); d != "" {
		return d
	}
	return "/var/tmp"
}

// NewEnv prepares a fresh world and registers its teardown with tb. It
// needs root and the tools built by setupTools.
func NewEnv(tb testing.TB) Env {
	tb.Helper()
	if tools == nil {
		tb.Fatal("escape: helper programs not built; TestMain must call setupTools first")
	}
	e, cleanup, err := newEnv(context.Background(), tools)
	tb.Cleanup(func() {
		if err := cleanup(); err != nil {
			tb.Errorf("escape: tearing down the env: %v", err)
		}
	})
	if err != nil {
		tb.Fatalf("escape: preparing the env: %v", err)
	}
	return e
}

func newEnv(ctx context.Context, ts *toolSet) (e Env, cleanup func() error, err error) {
	var undo []func() error
	cleanup = func() error {
		var errs []error
		for i := len(undo) - 1; i >= 0; i-- {
			errs = append(errs, undo[i]())
		}
		undo = nil
		return errors.Join(errs...)
	}

	e.Tag = "sentinel-escape-" + randomHex(8)
	e.Secrets = Secrets{
		SSHKey:     "SSHKEY-" + randomHex(16),
		AWS:        "AWSSECRET-" + randomHex(16),
		Data:       "DATADIR-" + randomHex(16),
		Outside:    "OUTSIDE-" + randomHex(16),
		MarkerArgv: randomHex(16),
		MarkerEnv:  "MARKERENV-" + randomHex(16),
	}
	e.HostTmpName = e.Tag + "-tmp"
	e.ExfilName = randomHex(12) + ".exfil.test"
	e.Probe, e.SetuidProbe = ts.Probe, ts.SetuidProbe

	// Processes first in, last out: whatever the run left is killed before
	// the directories it may hold open are removed.
	tag := e.Tag
	undo = append(undo, func() error { return killTagged(tag) })

	if err := e.makeFiles(&undo); err != nil {
		return e, cleanup, err
	}
	if err := e.startNetwork(ctx, &undo); err != nil {
		return e, cleanup, err
	}
	m, err := startMarker(e.Secrets.MarkerArgv, e.Secrets.MarkerEnv)
	if err != nil {
		return e, cleanup, fmt.Errorf("start the marker process: %w", err)
	}
	undo = append(undo, func() error { m.stop(); return nil })
	e.Marker = m
	return e, cleanup, nil
}

func (e *Env) makeFiles(undo *[]func() error) error {
	root, err := os.MkdirTemp(baseDir(), "sentinel-escape-env-")
	if err != nil {
		return err
	}
	*undo = append(*undo, func() error { return removeEnvRoot(root) })
	hostTmp := e.HostTmpName
	*undo = append(*undo, func() error { removeHostTmp(hostTmp); return nil })

	e.Root = root
	e.Home = filepath.Join(root, "home")
	e.Workspace = filepath.Join(root, "workspace")
	e.Outside = filepath.Join(root, "outside")
	e.DataDir = filepath.Join(root, "sentinel-data")
	e.State = filepath.Join(root, "state")
	e.SSHKey = filepath.Join(e.Home, ".ssh", "id_rsa")
	e.AWSCredentials = filepath.Join(e.Home, ".aws", "credentials")
	e.OutsideMarker = filepath.Join(e.Outside, "marker.txt")
	e.DataMarker = filepath.Join(e.DataDir, "marker")

	for _, d := range []string{root, e.Home, e.Workspace, e.Outside, e.State, filepath.Join(e.Home, ".aws")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(d, 0o755); err != nil { // MkdirTemp made root 0700
			return err
		}
	}
	for _, d := range []string{filepath.Join(e.Home, ".ssh"), e.DataDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	files := map[string]string{
		e.SSHKey:         "-----BEGIN OPENSSH PRIVATE KEY-----\n" + e.Secrets.SSHKey + "\n-----END OPENSSH PRIVATE KEY-----\n",
		e.AWSCredentials: "[default]\naws_access_key_id = AKIAESCAPESUITE\naws_secret_access_key = " + e.Secrets.AWS + "\n",
		e.OutsideMarker:  e.Secrets.Outside + "\n",
		e.DataMarker:     e.Secrets.Data + "\n",
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return err
		}
	}
	if err := os.Chmod(e.OutsideMarker, 0o644); err != nil {
		return err
	}
	// A checked-out repository may carry links that point out of it.
	if err := os.Symlink(e.Outside, filepath.Join(e.Workspace, "link-outside")); err != nil {
		return err
	}
	return os.Symlink(e.SSHKey, filepath.Join(e.Workspace, "link-key"))
}

// rootEntries are the names NewEnv puts in Root; anything else there was
// written by a script.
var rootEntries = []string{"home", "workspace", "outside", "sentinel-data", "state"}

func (e *Env) startNetwork(ctx context.Context, undo *[]func() error) error {
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	id := uint32(binary.BigEndian.Uint16(idb[:])) % (1 << 15)
	// A /24 of loopback of this Env's own: 127.64-191.x.0.
	lo := func(host byte) string {
		return netip.AddrFrom4([4]byte{127, byte(64 + id>>8), byte(id), host}).String()
	}
	for _, l := range []struct {
		dst  **Listener
		host byte
	}{{&e.Allowed, 2}, {&e.Denied, 3}} {
		ln, err := net.Listen("tcp", net.JoinHostPort(lo(l.host), "0"))
		if err != nil {
			return err
		}
		*l.dst = newListener(ln)
		*undo = append(*undo, (*l.dst).Close)
	}
	e.DNS = &DNSServer{}
	*undo = append(*undo, e.DNS.Close)
	pc, err := net.ListenPacket("udp", net.JoinHostPort(lo(53), "53"))
	if err != nil {
		return err
	}
	e.DNS.serve(pc)
	e.DNSLoopback = pc.LocalAddr().(*net.UDPAddr).AddrPort()

	outside, err := newOutsideNet(ctx, id)
	if err != nil {
		return fmt.Errorf("create the outside network namespace: %w", err)
	}
	*undo = append(*undo, outside.close)
	e.netns = outside.name
	var ln net.Listener
	err = outside.do(func() error {
		var err error
		if ln, err = net.Listen("tcp", net.JoinHostPort(outside.nsIP.String(), "0")); err != nil {
			return err
		}
		if pc, err = net.ListenPacket("udp", net.JoinHostPort(outside.nsIP.String(), "53")); err != nil {
			return errors.Join(err, ln.Close())
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.OutsideListener = newListener(ln)
	*undo = append(*undo, e.OutsideListener.Close)
	e.DNS.serve(pc)
	e.DNSOutside = pc.LocalAddr().(*net.UDPAddr).AddrPort()
	return nil
}

// removeEnvRoot removes an Env's directory, first detaching anything a
// script mounted below it: removing through a mount would delete what the
// mount shows. If a mount cannot be detached the directory is left alone.
func removeEnvRoot(root string) error {
	mounts, err := mountsUnder(root)
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s (left in place, and %s with it): %w", m, root, err)
		}
	}
	return os.RemoveAll(root)
}

// mountsUnder lists the mount points strictly below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		if strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out, sc.Err()
}

// unescapeMountinfo undoes the octal escapes mountinfo uses for spaces,
// tabs, newlines and backslashes.
func unescapeMountinfo(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

// hostTmpCopies lists where a file named name shows up in the host's /tmp
// or one directory below it (where sandboxes put their per-user tmp).
func hostTmpCopies(name string) []string {
	var found []string
	if _, err := os.Lstat(filepath.Join("/tmp", name)); err == nil {
		found = append(found, filepath.Join("/tmp", name))
	}
	below, _ := filepath.Glob(filepath.Join("/tmp", "*", name))
	return append(found, below...)
}

func removeHostTmp(name string) {
	for _, p := range hostTmpCopies(name) {
		_ = os.Remove(p)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// settle is how long the host waits after a run for its effects (a signal
// in flight, a process group being killed) to show.
const settle = 2 * time.Second
