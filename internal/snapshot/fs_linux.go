package snapshot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// nodeOf turns what fstat says into a node.
func nodeOf(st *unix.Stat_t) node {
	n := node{
		perm: st.Mode & 0o7777, size: st.Size, dev: st.Dev, ino: st.Ino,
		nlink: uint64(st.Nlink), uid: st.Uid, gid: st.Gid,
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		n.kind = kindFile
	case unix.S_IFDIR:
		n.kind = kindDir
	case unix.S_IFLNK:
		n.kind = kindLink
	default:
		n.kind = kindSpecial
	}
	return n
}

// dirFD is an open directory. Its methods take one path component, never
// a path, and never follow a symbolic link, so nothing reached through a
// dirFD can lie outside the directory it was opened from.
type dirFD struct {
	fd   int
	path string // for messages only
}

// openWorkspace opens an absolute directory path one component at a time
// from "/" without following links. Take records workspaces with their
// links resolved, so a link on the way now means something replaced a
// directory since, and the workspace is refused rather than followed.
func openWorkspace(path string) (*dirFD, error) {
	fd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/", Err: err}
	}
	d := &dirFD{fd: fd, path: "/"}
	for _, c := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if c == "" {
			continue
		}
		sub, err := d.openDir(c)
		d.close()
		if err != nil {
			if isNotDir(err) {
				return nil, fmt.Errorf("snapshot: workspace %s: %s is no longer a directory (a link or a file); it is not followed", path, joinOS(d.path, c))
			}
			return nil, fmt.Errorf("snapshot: workspace %s: %w", path, err)
		}
		d = sub
	}
	d.path = path
	return d, nil
}

// isNotDir reports an open that met a link or a file where a directory
// was expected.
func isNotDir(err error) bool { return errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) }

func (d *dirFD) close() { _ = unix.Close(d.fd) }

func (d *dirFD) pathErr(op, name string, err error) error {
	return &os.PathError{Op: op, Path: joinOS(d.path, name), Err: err}
}

// stat describes the entry name without following it; a missing entry is
// a node of kindAbsent, not an error.
func (d *dirFD) stat(name string) (node, error) {
	var st unix.Stat_t
	err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return node{}, nil
	}
	if err != nil {
		return node{}, d.pathErr("lstat", name, err)
	}
	return nodeOf(&st), nil
}

// self describes the directory itself.
func (d *dirFD) self() (node, error) {
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil {
		return node{}, &os.PathError{Op: "fstat", Path: d.path, Err: err}
	}
	return nodeOf(&st), nil
}

// openDir opens the subdirectory name; a link there fails with ELOOP.
func (d *dirFD) openDir(name string) (*dirFD, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, d.pathErr("open", name, err)
	}
	return &dirFD{fd: fd, path: joinOS(d.path, name)}, nil
}

// openFile opens the regular file name for reading and describes it. It
// refuses anything else, including a link, and does not block on a FIFO
// put there since the entry was listed.
func (d *dirFD) openFile(name string) (*os.File, node, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, node{}, d.pathErr("open", name, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		_ = unix.Close(fd)
		return nil, node{}, d.pathErr("fstat", name, err)
	}
	n := nodeOf(&st)
	if n.kind != kindFile {
		_ = unix.Close(fd)
		return nil, node{}, d.pathErr("open", name, errNotRegular)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		_ = unix.Close(fd)
		return nil, node{}, d.pathErr("open", name, err)
	}
	return os.NewFile(uintptr(fd), joinOS(d.path, name)), n, nil
}

// names lists the directory's entries, at most max of them; more reports
// that there were others.
func (d *dirFD) names(max int) (names []string, more bool, err error) {
	// A fresh open file description, so that listing twice starts twice
	// from the beginning.
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false, &os.PathError{Op: "open", Path: d.path, Err: err}
	}
	f := os.NewFile(uintptr(fd), d.path)
	defer f.Close()
	for {
		batch, err := f.Readdirnames(256)
		names = append(names, batch...)
		if len(names) > max {
			return names[:max], true, nil
		}
		if err == io.EOF {
			return names, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
}

func (d *dirFD) readlink(name string) (string, error) {
	buf := make([]byte, maxPathLen+1)
	n, err := unix.Readlinkat(d.fd, name, buf)
	if err != nil {
		return "", d.pathErr("readlink", name, err)
	}
	if n > maxPathLen {
		return "", d.pathErr("readlink", name, errors.New("link target longer than 4096 bytes"))
	}
	return string(buf[:n]), nil
}

// tempName is a name for a file Restore writes before renaming it into
// place; the prefix says whose it is if a crash leaves one behind.
func tempName() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails on Linux
	return ".sentinel-restore-" + hex.EncodeToString(b[:])
}

// createTemp creates a new private file beside the entries of d.
func (d *dirFD) createTemp() (*os.File, string, error) {
	for range 8 {
		name := tempName()
		fd, err := unix.Openat(d.fd, name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return nil, "", d.pathErr("create", name, err)
		}
		return os.NewFile(uintptr(fd), joinOS(d.path, name)), name, nil
	}
	return nil, "", d.pathErr("create", ".sentinel-restore-*", unix.EEXIST)
}

// symlinkTemp creates a new link to target beside the entries of d.
func (d *dirFD) symlinkTemp(target string) (string, error) {
	for range 8 {
		name := tempName()
		err := unix.Symlinkat(target, d.fd, name)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return "", d.pathErr("symlink", name, err)
		}
		return name, nil
	}
	return "", d.pathErr("symlink", ".sentinel-restore-*", unix.EEXIST)
}

// rename replaces the entry to with from; it never follows either.
func (d *dirFD) rename(from, to string) error {
	if err := unix.Renameat(d.fd, from, d.fd, to); err != nil {
		return d.pathErr("rename", to, err)
	}
	return nil
}

// remove unlinks one entry: an empty directory when dir is set.
func (d *dirFD) remove(name string, dir bool) error {
	flags := 0
	if dir {
		flags = unix.AT_REMOVEDIR
	}
	if err := unix.Unlinkat(d.fd, name, flags); err != nil && !errors.Is(err, unix.ENOENT) {
		return d.pathErr("remove", name, err)
	}
	return nil
}

func (d *dirFD) mkdir(name string, perm uint32) error {
	if err := unix.Mkdirat(d.fd, name, perm); err != nil {
		return d.pathErr("mkdir", name, err)
	}
	return nil
}

// chmod sets the mode of the directory itself.
func (d *dirFD) chmod(perm uint32) error {
	if err := unix.Fchmod(d.fd, perm); err != nil {
		return &os.PathError{Op: "chmod", Path: d.path, Err: err}
	}
	return nil
}

// lchown sets the owner of the entry name, of a link itself if it is one.
func (d *dirFD) lchown(name string, uid, gid uint32) error {
	if err := unix.Fchownat(d.fd, name, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return d.pathErr("chown", name, err)
	}
	return nil
}

func (d *dirFD) sync() error {
	if err := unix.Fsync(d.fd); err != nil {
		return &os.PathError{Op: "fsync", Path: d.path, Err: err}
	}
	return nil
}

// fileChown sets the owner of an open file.
func fileChown(f *os.File, uid, gid uint32) error { return f.Chown(int(uid), int(gid)) }

// canChown reports whether this process may give files to other owners.
func canChown() bool { return unix.Geteuid() == 0 }

// statPath describes a path of the store's own, following links.
func statPath(path string) (node, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return node{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return nodeOf(&st), nil
}

// lockFile takes the store's lock: shared for Take and Restore, exclusive
// for GC. flock locks belong to open file descriptions, so two goroutines
// of one process exclude each other just as two processes do. Waiting
// polls, so that the context can end it.
func lockFile(ctx context.Context, path string, exclusive bool) (unlock func(), err error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	wait := time.Millisecond
	for {
		err := unix.Flock(fd, how|unix.LOCK_NB)
		if err == nil {
			return func() { _ = unix.Close(fd) }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			_ = unix.Close(fd)
			return nil, &os.PathError{Op: "flock", Path: path, Err: err}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			_ = unix.Close(fd)
			return nil, fmt.Errorf("snapshot: waiting for the store lock %s: %w", path, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// chown sets the owner of the directory itself.
func (d *dirFD) chown(uid, gid uint32) error {
	if err := unix.Fchown(d.fd, int(uid), int(gid)); err != nil {
		return &os.PathError{Op: "chown", Path: d.path, Err: err}
	}
	return nil
}

// fileChmod sets all of perm on an open file: os.File.Chmod would drop
// the setuid, setgid and sticky bits, which os.FileMode spells otherwise.
func fileChmod(f *os.File, perm uint32) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var cerr error
	if err := rc.Control(func(fd uintptr) { cerr = unix.Fchmod(int(fd), perm) }); err != nil {
		return err
	}
	if cerr != nil {
		return &os.PathError{Op: "chmod", Path: f.Name(), Err: cerr}
	}
	return nil
}
