package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// newStore opens a store in a fresh directory; git is off unless opts
// says otherwise.
func newStore(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.GitPath == "" {
		opts.NoGit = true
	}
	s, err := Open(filepath.Join(t.TempDir(), "store"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func write(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	chmod(t, path, uint32(mode.Perm()))
}

// chmod sets all of perm, setuid and sticky bits included.
func chmod(t testing.TB, path string, perm uint32) {
	t.Helper()
	if err := syscall.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t testing.TB, path string, perm uint32) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	chmod(t, path, perm)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func read(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// tree describes every entry below dir without following links: type,
// mode with setuid and sticky bits, owner, and content or target. Paths
// under skip are left out.
func tree(t testing.TB, dir string, skip ...string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		for _, s := range skip {
			if rel == s {
				return filepath.SkipDir
			}
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		desc := fmt.Sprintf("%04o %d:%d", st.Mode&0o7777, st.Uid, st.Gid)
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc = "link -> " + target
		case info.IsDir():
			desc = "dir " + desc
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc = fmt.Sprintf("file %s %q", desc, b)
		}
		m[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// objectCount is how many objects the store holds.
func objectCount(t testing.TB, s *Store) int {
	t.Helper()
	sizes, err := s.scanObjects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(sizes)
}

// checkStore verifies that every snapshot loads and every object it
// references is present with the content its name says.
func checkStore(t testing.TB, s *Store) (snapshots int) {
	t.Helper()
	entries, err := os.ReadDir(s.path("snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		snap, err := s.Load(id)
		if err != nil {
			t.Errorf("Load: %v", err)
			continue
		}
		snapshots++
		for _, f := range snap.Files {
			if !f.Stored {
				continue
			}
			b, err := os.ReadFile(s.objectPath(f.SHA256))
			if err != nil {
				t.Errorf("snapshot %s, %s: %v", snap.ID, f.Path, err)
			} else if sha(string(b)) != f.SHA256 {
				t.Errorf("snapshot %s, %s: object %s holds other content", snap.ID, f.Path, f.SHA256)
			}
		}
	}
	return snapshots
}

// fakeClock is a clock tests move by hand.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

// gitRepo makes a git repository in dir with one commit of files.
func gitRepo(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	for name, content := range files {
		write(t, filepath.Join(dir, name), content, 0o644)
	}
	runGit(t, dir, "init", "-q", "-b", "main")
	runGit(t, dir, "add", "-A")
	runGit(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first")
}

func runGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

var bg = context.Background()

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
