package snapshot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBadInput(t *testing.T) {
	s := newStore(t, Options{})
	ws := t.TempDir()
	write(t, filepath.Join(ws, "f"), "f", 0o644)
	outside := t.TempDir()
	tests := []struct {
		name       string
		decision   string
		ws         string
		paths      []string
		code, want string
	}{
		{"no decision", "", ws, []string{"f"}, "snapshot.invalid", "decision id is empty"},
		{"control character", "d\n1", ws, []string{"f"}, "snapshot.invalid", "control character"},
		{"no paths", "d_1", ws, nil, "snapshot.invalid", "no paths"},
		{"relative escape", "d_1", ws, []string{"../x"}, "snapshot.outside_workspace", "not inside the workspace"},
		{"absolute outside", "d_1", ws, []string{outside}, "snapshot.outside_workspace", "not inside the workspace"},
		{"NUL", "d_1", ws, []string{"f\x00"}, "snapshot.invalid", "NUL"},
		{"missing workspace", "d_1", filepath.Join(ws, "nope"), []string{"f"}, "snapshot.invalid", "nope"},
		{"root workspace", "d_1", "/", []string{"etc"}, "snapshot.invalid", "root of the file system"},
		{"store itself", "d_1", filepath.Dir(s.dir), []string{"store"}, "snapshot.invalid", "snapshot store"},
		{"too deep", "d_1", ws, []string{strings.Repeat("d/", maxDepth) + "f"}, "snapshot.invalid", "levels deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Take(bg, tt.decision, tt.ws, tt.paths)
			if Code(err) != tt.code || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Take error = %v; want %s mentioning %q", err, tt.code, tt.want)
			}
		})
	}
	for _, id := range []string{"", "../../etc/passwd", "s_XYZ", "s_" + strings.Repeat("A", 28)} {
		if _, err := s.Load(id); Code(err) != "snapshot.invalid" {
			t.Errorf("Load(%q) error = %v; want snapshot.invalid", id, err)
		}
	}
	if _, err := s.Diff(bg, nil); Code(err) != "snapshot.invalid" {
		t.Errorf("Diff(nil) error = %v", err)
	}
	forged := &Snapshot{ID: "s_x", Workspace: ws, Files: []File{{Path: "../outside", Exists: true, SHA256: sha("")}}}
	if _, err := s.Restore(bg, forged, RestoreOptions{}); Code(err) != "snapshot.invalid" {
		t.Errorf("Restore of a snapshot naming ../outside: error %v; want snapshot.invalid", err)
	}
	if _, err := s.GC(bg, -1); Code(err) != "snapshot.invalid" {
		t.Errorf("GC(-1) error = %v", err)
	}
}

func TestOpenChecks(t *testing.T) {
	dir := t.TempDir()
	public := filepath.Join(dir, "public")
	must(t, os.Mkdir(public, 0o755))
	chmod(t, public, 0o755)
	tests := []struct {
		name string
		dir  string
		opts Options
		want string
	}{
		{"relative", "store", Options{}, "not an absolute path"},
		{"readable by others", public, Options{}, "must be private"},
		{"negative bounds", filepath.Join(dir, "s"), Options{MaxFileSize: -1, MaxFiles: -2, GitTimeout: -1}, "MaxFileSize -1 is negative"},
		{"too many files", filepath.Join(dir, "s"), Options{MaxFiles: maxMaxFiles + 1}, "MaxFiles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.dir, tt.opts)
			if Code(err) != "snapshot.invalid" || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error = %v; want snapshot.invalid mentioning %q", err, tt.want)
			}
		})
	}
	// All problems at once.
	_, err := Open(filepath.Join(dir, "s"), Options{MaxFileSize: -1, MaxFiles: -2, MaxBytes: -3, GitTimeout: -1})
	for _, field := range []string{"MaxFileSize", "MaxFiles", "MaxBytes", "GitTimeout"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Open error = %v; want it to name %s", err, field)
		}
	}
	s, err := Open(filepath.Join(dir, "fresh"), Options{})
	must(t, err)
	for _, sub := range []string{"", "objects", "snapshots", "tmp"} {
		fi, err := os.Stat(filepath.Join(s.dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("%s/%s has mode %v; want 0700", s.dir, sub, fi.Mode().Perm())
		}
	}
}

func TestAbsoluteAndRelativePathsAgree(t *testing.T) {
	s := newStore(t, Options{})
	base := t.TempDir()
	real := filepath.Join(base, "real")
	write(t, filepath.Join(real, "f"), "f", 0o644)
	alias := filepath.Join(base, "alias")
	must(t, os.Symlink(real, alias))

	snap, err := s.Take(bg, "d_1", alias, []string{"f", filepath.Join(alias, "f"), filepath.Join(real, "f"), "./f", "x/../f"})
	must(t, err)
	if snap.Workspace != real || len(snap.Files) != 1 || snap.Files[0].Path != "f" {
		t.Errorf("snapshot = %s %+v; want the resolved workspace and f once", snap.Workspace, snap.Files)
	}
}

func TestTruncated(t *testing.T) {
	s := newStore(t, Options{MaxFiles: 5})
	ws := t.TempDir()
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		write(t, filepath.Join(ws, "dir", name), name, 0o644)
	}
	snap, err := s.Take(bg, "d_1", ws, []string{"dir"})
	must(t, err)
	if !snap.Truncated || len(snap.Files) != 5 || snap.Files[0].Path != "dir" || !snap.Files[0].Partial {
		t.Fatalf("snapshot = truncated %v, %+v; want 5 entries and dir partial", snap.Truncated, snap.Files)
	}
	write(t, filepath.Join(ws, "dir", "new"), "new", 0o644)
	changes, err := s.Diff(bg, snap)
	must(t, err)
	for _, c := range changes {
		if c.Kind != Unchanged {
			t.Errorf("Diff of a partial directory reports %+v", c)
		}
	}
	// Entries the snapshot does not list are left alone.
	_, err = s.Restore(bg, snap, RestoreOptions{})
	must(t, err)
	for _, name := range []string{"e", "f", "g", "new"} {
		if _, err := os.Stat(filepath.Join(ws, "dir", name)); err != nil {
			t.Errorf("Restore removed an entry it did not record: %v", err)
		}
	}
}

func TestStoreInsideWorkspace(t *testing.T) {
	ws := t.TempDir()
	write(t, filepath.Join(ws, "f"), "f", 0o644)
	s, err := Open(filepath.Join(ws, ".sentinel", "snapshots"), Options{NoGit: true})
	must(t, err)
	snap, err := s.Take(bg, "d_1", ws, []string{"."})
	must(t, err)
	for _, f := range snap.Files {
		if strings.HasPrefix(f.Path, ".sentinel/snapshots") {
			t.Errorf("the store was recorded: %s", f.Path)
		}
	}
	second, err := s.Take(bg, "d_2", ws, []string{"."})
	must(t, err)
	changes, err := s.Diff(bg, snap)
	must(t, err)
	for _, c := range changes {
		if c.Kind != Unchanged {
			t.Errorf("Diff reports the store's own changes: %+v", c)
		}
	}
	_, err = s.Restore(bg, snap, RestoreOptions{})
	must(t, err)
	if _, err := s.Load(second.ID); err != nil {
		t.Errorf("Restore damaged the store inside the workspace: %v", err)
	}
}

func FuzzRel(f *testing.F) {
	for _, p := range []string{"a", "../a", "/ws/a", "/ws", "a/../../b", "/ws/../ws/x", ".", "a//b/", "/elsewhere"} {
		f.Add(p)
	}
	w := workspace{given: "/alias", real: "/ws"}
	f.Fuzz(func(t *testing.T, p string) {
		r, err := w.rel(p)
		if err != nil {
			return
		}
		if checkRelPath(r) != nil {
			t.Fatalf("rel(%q) = %q, which is not a clean relative path", p, r)
		}
		abs := filepath.Join(w.real, r)
		if abs != w.real && !strings.HasPrefix(abs, w.real+"/") {
			t.Fatalf("rel(%q) = %q, outside the workspace", p, r)
		}
	})
}

func FuzzDecodeSnapshot(f *testing.F) {
	f.Add([]byte(`{"format":1,"snapshot":{"id":"s_0000000000000000000000000000","decision_id":"d","workspace":"/w","files":[{"path":"a","exists":true,"sha256":"` + strings.Repeat("0", 64) + `"}]}}`))
	f.Add([]byte(`{"format":1,"snapshot":{"id":"s_0000000000000000000000000000","decision_id":"d","workspace":"/w","files":[{"path":"../a"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := decodeSnapshot(data)
		if err != nil {
			return
		}
		for _, file := range snap.Files {
			if checkRelPath(file.Path) != nil || file.validate() != nil {
				t.Fatalf("decoded a snapshot with an invalid file %+v", file)
			}
		}
	})
}
