package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/auth"
	"github.com/sentinel-agent/sentinel/internal/policy"
	"github.com/sentinel-agent/sentinel/internal/sandbox"
)

// doctor collects findings: ok, warn or fail, each with what to do.
type doctor struct {
	e     *env
	fails int
	warns int
}

func (d *doctor) ok(format string, args ...any) {
	fmt.Fprintf(d.e.stdout, "ok    %s\n", fmt.Sprintf(format, args...))
}

func (d *doctor) warn(format string, args ...any) {
	d.warns++
	fmt.Fprintf(d.e.stdout, "warn  %s\n", fmt.Sprintf(format, args...))
}

func (d *doctor) fail(format string, args ...any) {
	d.fails++
	fmt.Fprintf(d.e.stdout, "FAIL  %s\n", fmt.Sprintf(format, args...))
}

// runDoctor checks what `sentinel server` would run with: the same flags.
func runDoctor(e *env, args []string) int {
	f := newFlags("doctor")
	sf := addServerFlags(f)
	if _, err := f.parse(args); err == errHelp {
		fmt.Fprintln(e.stdout, "usage: sentinel doctor [the flags of sentinel server]")
		f.usage(e.stdout)
		return ExitOK
	} else if err != nil {
		return fail(e, "doctor: %v", err)
	}
	d := &doctor{e: e}

	// Policy.
	if *sf.policy == "" {
		d.ok("policy: the built-in policy (%s)", policy.Builtin().Revision())
	} else if p, err := policy.Load(*sf.policy); err != nil {
		d.fail("policy %s does not load: %v", *sf.policy, err)
	} else if _, err := policy.Compile(p, policy.Options{TempDir: os.TempDir()}); err != nil {
		d.fail("policy %s does not compile: %v", *sf.policy, err)
	} else {
		d.ok("policy %s (%s)", *sf.policy, p.Revision())
	}

	// Data dir and its files.
	dir, err := sf.store.dir()
	if err != nil {
		d.fail("data dir: %v", err)
	} else {
		d.checkPrivate(dir, true, "data dir")
		for _, name := range []string{"audit.db", audit.KeyFileName, "clients.yaml"} {
			if p := filepath.Join(dir, name); fileExists(p) {
				d.checkPrivate(p, false, name)
			}
		}
	}

	// Store.
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if st, err := sf.store.open(ctx, false); err != nil {
		d.fail("store: cannot open: %v", err)
	} else {
		if h, err := st.Head(ctx); err != nil {
			d.fail("store %s: does not answer: %v", storeName(st), err)
		} else {
			d.ok("store %s: reachable, %d events in the chain", storeName(st), h.Seq)
		}
		st.Close()
	}

	// Auth and bind address.
	var authOn bool
	if dir != "" {
		cfg, path, err := sf.authConfig(dir)
		switch {
		case err != nil:
			d.fail("auth: %v", err)
		default:
			a, err := auth.New(cfg)
			if err != nil {
				d.fail("auth: %v", err)
				break
			}
			authOn = a.Enabled()
			switch {
			case path != "":
				d.ok("auth: %d clients from %s", len(cfg.Clients), path)
			case authOn:
				d.ok("auth: single-token mode, the token is strong enough")
			default:
				d.warn("auth: off; every local process can decide, approve and change the policy (make clients with \"sentinel token new\")")
			}
		}
	}
	switch {
	case isLoopback(*sf.addr):
		d.ok("bind address %s is loopback", *sf.addr)
	case !authOn:
		d.fail("bind address %s is not loopback and there is no authentication; the server will refuse to start", *sf.addr)
	default:
		d.warn("bind address %s is not loopback: put a TLS proxy in front (deploy/nginx.conf) and list it in trusted_proxies", *sf.addr)
	}

	// Sandbox: tried, not assumed.
	for _, c := range sandbox.Probe(e.ctx) {
		if c.Enforced {
			d.ok("sandbox: %s enforced (%s)", c.Layer, c.Detail)
		} else {
			d.warn("sandbox: %s is NOT enforced on this machine (%s); sentinel run refuses profiles that need it unless they are best_effort", c.Layer, c.Detail)
		}
	}

	fmt.Fprintf(e.stdout, "%d problems, %d warnings\n", d.fails, d.warns)
	if d.fails > 0 {
		return ExitError
	}
	return ExitOK
}

// checkPrivate fails a file or directory others can read or that belongs
// to another user.
func (d *doctor) checkPrivate(path string, isDir bool, what string) {
	fi, err := os.Stat(path)
	if err != nil {
		if isDir && os.IsNotExist(err) {
			d.warn("%s %s does not exist yet; the server creates it (mode 0700)", what, path)
			return
		}
		d.fail("%s %s: %v", what, path, err)
		return
	}
	if isDir != fi.IsDir() {
		d.fail("%s %s is not a %s", what, path, map[bool]string{true: "directory", false: "file"}[isDir])
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		d.fail("%s %s belongs to uid %d, not to the user running Sentinel (%d)", what, path, st.Uid, os.Getuid())
		return
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		want := "0600"
		if isDir {
			want = "0700"
		}
		d.fail("%s %s has mode %04o; others can read it: chmod %s %s", what, path, perm, want, path)
		return
	}
	d.ok("%s %s is private (mode %04o)", what, path, fi.Mode().Perm())
}
