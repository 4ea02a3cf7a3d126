package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// devices are bound from the host's /dev into the sandbox's.
var devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// buildRoot makes the sandbox's file system at cfg.Root and pivots into
// it. It runs in init, inside the new mount namespace: nothing it does
// is seen by the host.
//
//   - the host's / bound read-only (nosuid, nodev), recursively;
//   - a private tmpfs /tmp, and a tmpfs /dev with the usual devices;
//   - the writable paths bound read-write on top;
//   - hidden paths covered by empty read-only ones (a tmpfs for a
//     directory, /dev/null for a file);
//   - a /proc of the sandbox's own PID namespace, /proc/sys read-only;
//   - the host's socket directory at sockDir.
func buildRoot(cfg *initConfig) error {
	root := cfg.Root
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	if err := unix.Mount("/", root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("binding /: %w", err)
	}
	if err := unix.MountSetattr(unix.AT_FDCWD, root, unix.AT_RECURSIVE,
		&unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}); err != nil {
		return fmt.Errorf("making / read-only: %w", err)
	}
	at := func(p string) string { return filepath.Join(root, p) }

	tmpOpts := "mode=1777"
	if cfg.TmpSize > 0 {
		tmpOpts += ",size=" + strconv.FormatInt(cfg.TmpSize, 10)
	}
	if err := unix.Mount("tmpfs", at("/tmp"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, tmpOpts); err != nil {
		return fmt.Errorf("private /tmp: %w", err)
	}
	if err := buildDev(at("/dev")); err != nil {
		return err
	}

	// Shallow paths first, so that a deeper one lands on top.
	writable := slices.Clone(cfg.Writable)
	slices.SortFunc(writable, func(a, b string) int { return strings.Count(a, "/") - strings.Count(b, "/") })
	for _, w := range writable {
		target := at(w)
		if err := ensureDir(target); err != nil {
			return fmt.Errorf("writable %s: %w", w, err)
		}
		if err := unix.Mount(w, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("writable %s: %w", w, err)
		}
		if err := unix.MountSetattr(unix.AT_FDCWD, target, unix.AT_RECURSIVE,
			&unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}); err != nil {
			return fmt.Errorf("writable %s: %w", w, err)
		}
	}
	hidden := slices.Clone(cfg.Hidden)
	slices.SortFunc(hidden, func(a, b string) int { return strings.Count(a, "/") - strings.Count(b, "/") })
	for _, h := range hidden {
		if err := hide(root, h); err != nil {
			return fmt.Errorf("hiding %s: %w", h, err)
		}
	}
	if err := unix.Mount("proc", at("/proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting /proc: %w", err)
	}
	if err := bindReadOnly(at("/proc/sys"), at("/proc/sys")); err != nil {
		return fmt.Errorf("/proc/sys: %w", err)
	}
	if cfg.HostSocks != "" {
		target := at(sockDir)
		if err := os.MkdirAll(target, 0o700); err != nil {
			return fmt.Errorf("socket directory: %w", err)
		}
		if err := unix.Mount(cfg.HostSocks, target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("socket directory: %w", err)
		}
	}
	// The tmpfs /dev was writable to build it; now it is not.
	if err := unix.Mount("", at("/dev"), "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID, ""); err != nil {
		return fmt.Errorf("/dev read-only: %w", err)
	}

	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("entering the new root: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the old root: %w", err)
	}
	return unix.Chdir("/")
}

// buildDev mounts a small /dev: the usual device nodes bound from the
// host, the standard links, and an empty shm.
func buildDev(dev string) error {
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=755,size=65536"); err != nil {
		return fmt.Errorf("/dev: %w", err)
	}
	for _, d := range devices {
		target := filepath.Join(dev, d)
		f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o666)
		if err != nil {
			return fmt.Errorf("/dev/%s: %w", d, err)
		}
		f.Close()
		if err := unix.Mount("/dev/"+d, target, "", unix.MS_BIND, ""); err != nil {
			if d == "tty" { // no terminal on the host side: no /dev/tty
				_ = os.Remove(target)
				continue
			}
			return fmt.Errorf("/dev/%s: %w", d, err)
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx"} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return fmt.Errorf("/dev/%s: %w", name, err)
		}
	}
	for _, d := range []string{"shm", "pts"} {
		if err := os.Mkdir(filepath.Join(dev, d), 0o755); err != nil {
			return fmt.Errorf("/dev/%s: %w", d, err)
		}
	}
	return nil
}

// hide covers rel (a path inside the new root) with an empty read-only
// directory or file. A symbolic link is followed one step, inside the
// new root.
func hide(root, rel string) error {
	path := filepath.Join(root, rel)
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // nothing to hide
	}
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(path)
		if err != nil {
			return err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(rel), target)
		}
		path = filepath.Join(root, target)
		if st, err = os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
	}
	if st.IsDir() {
		return unix.Mount("tmpfs", path, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_RDONLY, "mode=700,size=4096")
	}
	return bindReadOnly("/dev/null", path)
}

// bindReadOnly binds src onto target and makes the bind read-only.
func bindReadOnly(src, target string) error {
	if err := unix.Mount(src, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	return unix.MountSetattr(unix.AT_FDCWD, target, unix.AT_RECURSIVE,
		&unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV})
}

// ensureDir makes a mount point that a tmpfs (such as /tmp) covered.
func ensureDir(path string) error {
	if st, err := os.Stat(path); err == nil {
		if !st.IsDir() {
			return errors.New("not a directory")
		}
		return nil
	}
	return os.MkdirAll(path, 0o755)
}
