package snapshot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// linkSetup makes a workspace and, beside it, a directory it must never
// reach into.
func linkSetup(t *testing.T) (ws, outside string) {
	base := t.TempDir()
	ws, outside = filepath.Join(base, "ws"), filepath.Join(base, "outside")
	write(t, filepath.Join(outside, "secret.txt"), "secret", 0o600)
	write(t, filepath.Join(outside, "victim.txt"), "victim", 0o644)
	write(t, filepath.Join(ws, "f.txt"), "workspace file", 0o644)
	write(t, filepath.Join(ws, "d/in.txt"), "in d", 0o644)
	must(t, os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(ws, "link")))
	must(t, os.Symlink(outside, filepath.Join(ws, "linkdir")))
	return ws, outside
}

func TestSymlinkOutsideRecordedNotFollowed(t *testing.T) {
	s := newStore(t, Options{})
	ws, outside := linkSetup(t)
	snap, err := s.Take(bg, "d_1", ws, []string{"link", "linkdir/secret.txt", "."})
	must(t, err)

	byPath := map[string]File{}
	for _, f := range snap.Files {
		byPath[f.Path] = f
	}
	if f := byPath["link"]; !f.Link || f.Target != filepath.Join(outside, "secret.txt") || f.Stored || f.SHA256 != "" {
		t.Errorf("link recorded as %+v; want a link with its target and no content", f)
	}
	if f := byPath["linkdir"]; !f.Link || f.Target != outside {
		t.Errorf("linkdir recorded as %+v; want a link", f)
	}
	if _, ok := byPath["linkdir/secret.txt"]; ok {
		t.Error("a path through a link was recorded: the link was followed")
	}
	if s.hasObject(sha("secret")) {
		t.Error("the content of a file outside the workspace was copied")
	}

	// Writing through the link changes nothing the snapshot records.
	write(t, filepath.Join(outside, "secret.txt"), "changed outside", 0o600)
	changes, err := s.Diff(bg, snap)
	must(t, err)
	for _, c := range changes {
		if c.Kind != Unchanged {
			t.Errorf("Diff reports %+v after a change outside the workspace", c)
		}
	}
	rep, err := s.Restore(bg, snap, RestoreOptions{})
	must(t, err)
	if len(rep.Restored) != 0 || read(t, filepath.Join(outside, "secret.txt")) != "changed outside" {
		t.Errorf("Restore reached outside the workspace: %+v", rep)
	}
}

func TestRestoreDoesNotWriteThroughLinks(t *testing.T) {
	s := newStore(t, Options{})
	ws, outside := linkSetup(t)
	snap, err := s.Take(bg, "d_1", ws, []string{"."})
	must(t, err)
	before, outsideBefore := tree(t, ws), tree(t, outside)

	// The agent replaces a file and a directory with links out of the
	// workspace, and the link with a file.
	must(t, os.Remove(filepath.Join(ws, "f.txt")))
	must(t, os.Symlink(filepath.Join(outside, "victim.txt"), filepath.Join(ws, "f.txt")))
	must(t, os.RemoveAll(filepath.Join(ws, "d")))
	must(t, os.Symlink(outside, filepath.Join(ws, "d")))
	must(t, os.Remove(filepath.Join(ws, "link")))
	write(t, filepath.Join(ws, "link"), "a file", 0o644)

	changes, err := s.Diff(bg, snap)
	must(t, err)
	kinds := map[string]ChangeKind{}
	for _, c := range changes {
		kinds[c.Path] = c.Kind
	}
	want := map[string]ChangeKind{".": Unchanged, "d": TypeChanged, "d/in.txt": Deleted, "f.txt": TypeChanged,
		"link": TypeChanged, "linkdir": Unchanged}
	if d := cmp.Diff(want, kinds); d != "" {
		t.Errorf("Diff (-want +got):\n%s", d)
	}

	_, err = s.Restore(bg, snap, RestoreOptions{})
	must(t, err)
	if d := cmp.Diff(outsideBefore, tree(t, outside)); d != "" {
		t.Errorf("Restore wrote outside the workspace (-before +after):\n%s", d)
	}
	if d := cmp.Diff(before, tree(t, ws)); d != "" {
		t.Errorf("workspace after Restore (-before +after):\n%s", d)
	}
}

// TestRestoreRefusesLinkedParent: a path named inside a directory that
// becomes a link is not written through the link, even when that
// directory was only on the way (never walked).
func TestRestoreRefusesLinkedParent(t *testing.T) {
	s := newStore(t, Options{})
	ws, outside := linkSetup(t)
	snap, err := s.Take(bg, "d_1", ws, []string{"d/in.txt"})
	must(t, err)
	if got := snap.Files[0]; got.Path != "d" || !got.Dir || !got.Partial {
		t.Fatalf("first file = %+v; want d, a directory on the way, partial", got)
	}
	must(t, os.RemoveAll(filepath.Join(ws, "d")))
	must(t, os.Symlink(outside, filepath.Join(ws, "d")))
	write(t, filepath.Join(outside, "in.txt"), "outside", 0o644)

	_, err = s.Restore(bg, snap, RestoreOptions{})
	must(t, err)
	if got := read(t, filepath.Join(outside, "in.txt")); got != "outside" {
		t.Errorf("outside/in.txt = %q; Restore wrote through the link", got)
	}
	if got := read(t, filepath.Join(ws, "d/in.txt")); got != "in d" {
		t.Errorf("d/in.txt = %q", got)
	}
	if fi, err := os.Lstat(filepath.Join(ws, "d")); err != nil || !fi.IsDir() {
		t.Errorf("d is not a directory again: %v", err)
	}
}

// TestRestoreHardLinkedFile: a file the agent replaced with a hard link
// to a file elsewhere (same content, other mode) is rewritten, not
// chmod-ed in place, which would change the other file too.
func TestRestoreHardLinkedFile(t *testing.T) {
	s := newStore(t, Options{})
	ws, outside := linkSetup(t)
	snap, err := s.Take(bg, "d_1", ws, []string{"f.txt"})
	must(t, err)
	other := filepath.Join(outside, "same.txt")
	write(t, other, "workspace file", 0o600)
	must(t, os.Remove(filepath.Join(ws, "f.txt")))
	must(t, os.Link(other, filepath.Join(ws, "f.txt")))

	_, err = s.Restore(bg, snap, RestoreOptions{})
	must(t, err)
	if got := tree(t, outside)["same.txt"]; !strings.HasPrefix(got, "file 0600") {
		t.Errorf("the hard-linked file outside is now %s; Restore changed it", got)
	}
	if got := tree(t, ws)["f.txt"]; !strings.HasPrefix(got, "file 0644") {
		t.Errorf("f.txt is %s; want mode 0644", got)
	}
}
