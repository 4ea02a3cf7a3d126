package snapshot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// workspace builds the workspace of the main scenario.
func scenarioWorkspace(t *testing.T) string {
	ws := t.TempDir()
	write(t, filepath.Join(ws, "a.txt"), "alpha\n", 0o644)
	write(t, filepath.Join(ws, "tool.sh"), "#!/bin/sh\necho hi\n", 0o755)
	chmod(t, filepath.Join(ws, "tool.sh"), 0o4755)
	mkdir(t, filepath.Join(ws, "dir"), 0o755)
	write(t, filepath.Join(ws, "dir/b.txt"), "bravo", 0o640)
	mkdir(t, filepath.Join(ws, "dir/sub"), 0o700)
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	write(t, filepath.Join(ws, "dir/sub/c.bin"), string(bin), 0o644)
	write(t, filepath.Join(ws, "ro/keep.txt"), "keep", 0o444)
	chmod(t, filepath.Join(ws, "ro"), 0o555)
	must(t, os.Symlink("a.txt", filepath.Join(ws, "link")))
	mkdir(t, filepath.Join(ws, "empty"), 0o750)
	return ws
}

var scenarioPaths = []string{"a.txt", "tool.sh", "dir", "ro", "link", "empty", "new.txt", "gen/out/x.txt", "gen/y.txt"}

// agentChanges is what a call does to the scenario workspace.
func agentChanges(t *testing.T, ws string) {
	p := func(s string) string { return filepath.Join(ws, s) }
	write(t, p("a.txt"), "ALPHA changed\n", 0o644)
	chmod(t, p("tool.sh"), 0o755)
	chmod(t, p("dir/b.txt"), 0o600)
	must(t, os.Remove(p("dir/sub/c.bin")))
	write(t, p("dir/new1.txt"), "new", 0o644)
	write(t, p("dir/newdir/deep.txt"), "deep", 0o644)
	write(t, p("new.txt"), "created", 0o644)
	write(t, p("gen/out/x.txt"), "x", 0o644)
	write(t, p("gen/other.txt"), "other", 0o644)
	must(t, os.Remove(p("link")))
	write(t, p("link"), "not a link any more", 0o644)
	must(t, os.Remove(p("empty")))
	write(t, p("empty"), "a file now", 0o644)
	chmod(t, p("ro"), 0o755)
	write(t, p("ro/added.txt"), "added", 0o644)
}

func TestTakeDiffRestore(t *testing.T) {
	s := newStore(t, Options{})
	ws := scenarioWorkspace(t)
	before := tree(t, ws)
	snap, err := s.Take(bg, "d_1", ws, scenarioPaths)
	must(t, err)

	var gotPaths []string
	for _, f := range snap.Files {
		gotPaths = append(gotPaths, f.Path)
	}
	wantPaths := []string{"a.txt", "dir", "dir/b.txt", "dir/sub", "dir/sub/c.bin", "empty", "gen", "gen/out",
		"gen/out/x.txt", "gen/y.txt", "link", "new.txt", "ro", "ro/keep.txt", "tool.sh"}
	if d := cmp.Diff(wantPaths, gotPaths); d != "" {
		t.Fatalf("recorded paths (-want +got):\n%s", d)
	}

	agentChanges(t, ws)
	changes, err := s.Diff(bg, snap)
	must(t, err)
	want := []Change{
		{"a.txt", Modified, "content (14 bytes, was 6)"},
		{"dir", Unchanged, ""},
		{"dir/b.txt", Modified, "mode 0600, was 0640"},
		{"dir/new1.txt", Created, "file"},
		{"dir/newdir", Created, "directory"},
		{"dir/newdir/deep.txt", Created, "file"},
		{"dir/sub", Unchanged, ""},
		{"dir/sub/c.bin", Deleted, "was a file"},
		{"empty", TypeChanged, "was a directory, now a file"},
		{"gen", Created, "directory"},
		{"gen/other.txt", Created, "file"},
		{"gen/out", Created, "directory"},
		{"gen/out/x.txt", Created, "file"},
		{"gen/y.txt", Unchanged, ""},
		{"link", TypeChanged, "was a symlink, now a file"},
		{"new.txt", Created, "file"},
		{"ro", Modified, "mode 0755, was 0555"},
		{"ro/added.txt", Created, "file"},
		{"ro/keep.txt", Unchanged, ""},
		{"tool.sh", Modified, "mode 0755, was 4755"},
	}
	if d := cmp.Diff(want, changes); d != "" {
		t.Fatalf("Diff (-want +got):\n%s", d)
	}

	rep, err := s.Restore(bg, snap, RestoreOptions{})
	if err != nil {
		t.Fatalf("Restore: %v\n%+v", err, rep.Failed)
	}
	if d := cmp.Diff(before, tree(t, ws)); d != "" {
		t.Fatalf("workspace after Restore (-before +after):\n%s", d)
	}
	wantRestored := map[string]ChangeKind{
		"a.txt": Modified, "dir/b.txt": Modified, "dir/new1.txt": Created, "dir/newdir": Created,
		"dir/sub/c.bin": Deleted, "empty": TypeChanged, "gen": Created, "link": TypeChanged,
		"new.txt": Created, "ro": Modified, "ro/added.txt": Created, "tool.sh": Modified,
	}
	gotRestored := map[string]ChangeKind{}
	for _, o := range rep.Restored {
		gotRestored[o.Path] = o.Change
	}
	if d := cmp.Diff(wantRestored, gotRestored); d != "" {
		t.Errorf("Report.Restored (-want +got):\n%s", d)
	}
	if rep.Unchanged != 6 || len(rep.Failed) != 0 {
		t.Errorf("Unchanged = %d, Failed = %v; want 6 and none", rep.Unchanged, rep.Failed)
	}

	// Once restored, there is nothing left to do.
	changes, err = s.Diff(bg, snap)
	must(t, err)
	for _, c := range changes {
		if c.Kind != Unchanged {
			t.Errorf("after Restore: %+v", c)
		}
	}
	rep, err = s.Restore(bg, snap, RestoreOptions{})
	must(t, err)
	if len(rep.Restored) != 0 || rep.Unchanged != len(snap.Files) {
		t.Errorf("second Restore did %+v", rep)
	}
}

func TestRestoreDryRunChangesNothing(t *testing.T) {
	s := newStore(t, Options{})
	ws := scenarioWorkspace(t)
	snap, err := s.Take(bg, "d_1", ws, scenarioPaths)
	must(t, err)
	agentChanges(t, ws)
	changed := tree(t, ws)

	dry, err := s.Restore(bg, snap, RestoreOptions{DryRun: true})
	must(t, err)
	if d := cmp.Diff(changed, tree(t, ws)); d != "" {
		t.Fatalf("a dry run changed the workspace (-before +after):\n%s", d)
	}
	real, err := s.Restore(bg, snap, RestoreOptions{})
	must(t, err)
	paths := func(os []Outcome) (out []string) {
		for _, o := range os {
			out = append(out, o.Path+" "+string(o.Change))
		}
		return out
	}
	if d := cmp.Diff(paths(real.Restored), paths(dry.Restored)); d != "" {
		t.Errorf("the dry run does not announce what the restore does (-real +dry):\n%s", d)
	}
	for _, o := range dry.Restored {
		if !strings.HasPrefix(o.Action, "would ") {
			t.Errorf("dry-run action %q does not say \"would\"", o.Action)
		}
	}
}

func TestRestoreRecreatesDeletedTree(t *testing.T) {
	s := newStore(t, Options{})
	ws := scenarioWorkspace(t)
	before := tree(t, ws)
	snap, err := s.Take(bg, "d_1", ws, []string{"."})
	must(t, err)
	must(t, os.RemoveAll(filepath.Join(ws, "dir")))
	chmod(t, filepath.Join(ws, "ro"), 0o755)
	must(t, os.RemoveAll(filepath.Join(ws, "ro")))
	must(t, os.Symlink("/etc", filepath.Join(ws, "ro")))
	write(t, filepath.Join(ws, "stray.txt"), "stray", 0o644)

	for _, dry := range []bool{true, false} {
		rep, err := s.Restore(bg, snap, RestoreOptions{DryRun: dry})
		if err != nil {
			t.Fatalf("Restore(dry run %v): %v", dry, err)
		}
		got := map[string]string{}
		for _, o := range rep.Restored {
			got[o.Path] = string(o.Change)
		}
		want := map[string]string{
			"dir": "deleted", "dir/b.txt": "deleted", "dir/sub": "deleted", "dir/sub/c.bin": "deleted",
			"ro": "type_changed", "ro/keep.txt": "deleted", "stray.txt": "created",
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("dry run %v: Restored (-want +got):\n%s", dry, d)
		}
	}
	if d := cmp.Diff(before, tree(t, ws)); d != "" {
		t.Fatalf("workspace after Restore (-before +after):\n%s", d)
	}
}

func TestRestoreOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to another owner")
	}
	s := newStore(t, Options{})
	ws := t.TempDir()
	p := filepath.Join(ws, "owned.txt")
	write(t, p, "mine", 0o644)
	must(t, os.Lchown(p, 1000, 1001))
	must(t, os.Mkdir(filepath.Join(ws, "d"), 0o755))
	must(t, os.Lchown(filepath.Join(ws, "d"), 1002, 1002))
	before := tree(t, ws)
	snap, err := s.Take(bg, "d_1", ws, []string{"owned.txt", "d", "gone.txt"})
	must(t, err)

	must(t, os.Lchown(p, 0, 0))
	must(t, os.Remove(filepath.Join(ws, "d")))
	changes, err := s.Diff(bg, snap)
	must(t, err)
	if changes[2].Path != "owned.txt" || changes[2].Detail != "owner 0:0, was 1000:1001" {
		t.Errorf("Diff = %+v; want the owner change of owned.txt", changes)
	}
	_, err = s.Restore(bg, snap, RestoreOptions{})
	must(t, err)
	if d := cmp.Diff(before, tree(t, ws)); d != "" {
		t.Fatalf("workspace after Restore (-before +after):\n%s", d)
	}
}

func TestRestoreRefusesCorruptObject(t *testing.T) {
	s := newStore(t, Options{})
	ws := t.TempDir()
	write(t, filepath.Join(ws, "f.txt"), "original", 0o644)
	write(t, filepath.Join(ws, "g.txt"), "other", 0o644)
	snap, err := s.Take(bg, "d_1", ws, []string{"f.txt", "g.txt"})
	must(t, err)
	must(t, os.WriteFile(s.objectPath(sha("original")), []byte("tampered"), 0o600))
	write(t, filepath.Join(ws, "f.txt"), "agent", 0o644)
	write(t, filepath.Join(ws, "g.txt"), "agent", 0o644)

	rep, err := s.Restore(bg, snap, RestoreOptions{})
	if !errors.Is(err, ErrIncomplete) || Code(err) != "snapshot.incomplete" {
		t.Fatalf("Restore error = %v; want ErrIncomplete", err)
	}
	if len(rep.Failed) != 1 || rep.Failed[0].Path != "f.txt" || !strings.Contains(rep.Failed[0].Action, "not what the snapshot recorded") {
		t.Errorf("Failed = %+v; want f.txt refused for its content", rep.Failed)
	}
	if got := read(t, filepath.Join(ws, "f.txt")); got != "agent" {
		t.Errorf("f.txt = %q; a corrupt object must not be written", got)
	}
	if got := read(t, filepath.Join(ws, "g.txt")); got != "other" {
		t.Errorf("g.txt = %q; the rest is restored all the same", got)
	}
	if entries, _ := filepath.Glob(filepath.Join(ws, ".sentinel-restore-*")); len(entries) != 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestRestoreCancelled(t *testing.T) {
	s := newStore(t, Options{})
	ws := t.TempDir()
	write(t, filepath.Join(ws, "f.txt"), "original", 0o644)
	snap, err := s.Take(bg, "d_1", ws, []string{"f.txt"})
	must(t, err)
	write(t, filepath.Join(ws, "f.txt"), "agent", 0o644)
	ctx, cancel := contextWithCancel()
	cancel()
	_, err = s.Restore(ctx, snap, RestoreOptions{})
	if err == nil {
		t.Fatal("Restore with an ended context succeeded")
	}
	if got := read(t, filepath.Join(ws, "f.txt")); got != "agent" {
		t.Errorf("f.txt = %q; nothing may be written once the context has ended", got)
	}
}
