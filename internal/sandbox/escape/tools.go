package escape

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// toolSet holds the helper programs the cases run inside the sandbox.
type toolSet struct {
	Dir string
	// Probe is the multi-call helper built from testdata/probe.
	Probe string
	// SetuidProbe is a copy of Probe owned by root with mode 4755.
	SetuidProbe string
}

// tools is set once by setupTools, before any Env is made.
var tools *toolSet

// setupTools builds the helpers from srcDir (a main package, normally
// testdata/probe) into a new directory under base and makes them the ones
// every Env uses. The directory must be readable by sandboxed processes and
// on a file system that honours setuid, so it is never under /tmp, which a
// sandbox may replace with its own. The returned function removes it.
func setupTools(ctx context.Context, base, srcDir string) (cleanup func(), err error) {
	dir, err := os.MkdirTemp(base, "sentinel-escape-tools-")
	if err != nil {
		return nil, err
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	t := &toolSet{Dir: dir, Probe: filepath.Join(dir, "probe"), SetuidProbe: filepath.Join(dir, "probe-setuid")}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", t.Probe, ".")
	build.Dir = srcDir
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the probe in %s: %w\n%s", srcDir, err, out)
	}
	if err := copyFile(t.SetuidProbe, t.Probe); err != nil {
		return nil, err
	}
	// Chmod after the copy: a write would clear the setuid bit.
	if err := os.Chown(t.SetuidProbe, 0, 0); err != nil {
		return nil, err
	}
	if err := os.Chmod(t.SetuidProbe, 0o755|os.ModeSetuid); err != nil {
		return nil, err
	}
	tools = t
	return cleanup, nil
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}
