package snapshot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLargeFileHashedNotStored(t *testing.T) {
	s := newStore(t, Options{MaxFileSize: 1024})
	ws := t.TempDir()
	big := strings.Repeat("0123456789abcdef", 256) // 4 KiB
	write(t, filepath.Join(ws, "big.bin"), big, 0o644)
	write(t, filepath.Join(ws, "small.txt"), "small", 0o644)
	snap, err := s.Take(bg, "d_1", ws, []string{"big.bin", "small.txt"})
	must(t, err)

	f := snap.Files[0]
	if f.Path != "big.bin" || f.Stored || f.SHA256 != sha(big) || f.Size != 4096 || !strings.Contains(f.Note, "MaxFileSize") {
		t.Errorf("big.bin recorded as %+v; want hashed, not stored, with a note", f)
	}
	if s.hasObject(sha(big)) {
		t.Error("the large file was copied into the store")
	}
	if snap.Bytes != int64(len("small")) {
		t.Errorf("Bytes = %d; want only the small file's %d", snap.Bytes, len("small"))
	}

	// The hash still tells a change.
	write(t, filepath.Join(ws, "big.bin"), strings.ToUpper(big), 0o644)
	write(t, filepath.Join(ws, "small.txt"), "SMALL", 0o644)
	changes, err := s.Diff(bg, snap)
	must(t, err)
	if changes[0].Kind != Modified {
		t.Errorf("Diff of big.bin = %+v; want modified", changes[0])
	}
	rep, err := s.Restore(bg, snap, RestoreOptions{})
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Restore error = %v; want ErrIncomplete", err)
	}
	if len(rep.Failed) != 1 || rep.Failed[0].Path != "big.bin" || !strings.Contains(rep.Failed[0].Action, "was not kept") {
		t.Errorf("Failed = %+v; want big.bin, not kept", rep.Failed)
	}
	if len(rep.Restored) != 1 || read(t, filepath.Join(ws, "small.txt")) != "small" {
		t.Errorf("Restored = %+v; the small file must be restored all the same", rep.Restored)
	}
}

func TestLargeFileFromGit(t *testing.T) {
	big := strings.Repeat("committed content ", 200)
	ws := t.TempDir()
	gitRepo(t, ws, map[string]string{"big.bin": big, "src/main.go": "package main\n"})
	s := newStore(t, Options{MaxFileSize: 1024, GitPath: "git"})

	_, err := s.Take(bg, "d_1", filepath.Join(ws, "src"), []string{"../big.bin"})
	if Code(err) != "snapshot.outside_workspace" {
		t.Fatalf("Take of ../big.bin from src: %v; want snapshot.outside_workspace", err)
	}
	snap, err := s.Take(bg, "d_1", ws, []string{"big.bin"})
	must(t, err)
	head := runGit(t, ws, "rev-parse", "HEAD")
	want := Git{Root: ws, Head: head, Branch: "main"}
	if snap.Git == nil || *snap.Git != want {
		t.Fatalf("Git = %+v; want %+v", snap.Git, want)
	}
	if snap.Files[0].Stored {
		t.Fatal("big.bin was stored; the test needs it too large")
	}

	write(t, filepath.Join(ws, "big.bin"), "agent wrote this", 0o644)
	runGit(t, ws, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-am", "agent")
	rep, err := s.Restore(bg, snap, RestoreOptions{})
	if err != nil {
		t.Fatalf("Restore: %v %+v", err, rep.Failed)
	}
	if got := read(t, filepath.Join(ws, "big.bin")); got != big {
		t.Errorf("big.bin = %.40q…; want the content of the snapshot's commit", got)
	}
	if len(rep.Restored) != 1 || !strings.Contains(rep.Restored[0].Action, "git commit "+head[:12]) {
		t.Errorf("Restored = %+v; want big.bin from git", rep.Restored)
	}
}

func TestLargeDirtyFileNotFromGit(t *testing.T) {
	ws := t.TempDir()
	gitRepo(t, ws, map[string]string{"big.bin": strings.Repeat("committed ", 300)})
	s := newStore(t, Options{MaxFileSize: 1024, GitPath: "git"})
	// Changed since the commit: git does not hold what the snapshot saw.
	dirty := strings.Repeat("uncommitted ", 300)
	write(t, filepath.Join(ws, "big.bin"), dirty, 0o644)
	snap, err := s.Take(bg, "d_1", ws, []string{"big.bin"})
	must(t, err)
	if snap.Git == nil || !snap.Git.Dirty {
		t.Fatalf("Git = %+v; want dirty", snap.Git)
	}
	write(t, filepath.Join(ws, "big.bin"), "agent", 0o644)
	rep, err := s.Restore(bg, snap, RestoreOptions{})
	if !errors.Is(err, ErrIncomplete) || len(rep.Failed) != 1 {
		t.Fatalf("Restore = %+v, %v; want big.bin refused", rep, err)
	}
	if got := read(t, filepath.Join(ws, "big.bin")); got != "agent" {
		t.Errorf("big.bin = %q; content git gives with another hash must not be written", got)
	}
}

func TestGitState(t *testing.T) {
	repo := t.TempDir()
	gitRepo(t, repo, map[string]string{"a.txt": "a"})
	plain := t.TempDir()
	write(t, filepath.Join(plain, "a.txt"), "a", 0o644)
	write(t, filepath.Join(repo, "untracked.txt"), "u", 0o644)

	tests := []struct {
		name string
		opts Options
		ws   string
		want *Git
	}{
		{"repo, dirty", Options{GitPath: "git"}, repo, &Git{Root: repo, Head: runGit(t, repo, "rev-parse", "HEAD"), Branch: "main", Dirty: true}},
		{"not a repo", Options{GitPath: "git"}, plain, nil},
		{"no git binary", Options{GitPath: filepath.Join(plain, "no-such-git")}, repo, nil},
		{"git off", Options{NoGit: true}, repo, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(filepath.Join(t.TempDir(), "store"), tt.opts)
			must(t, err)
			snap, err := s.Take(bg, "d_1", tt.ws, []string{"a.txt"})
			must(t, err)
			switch {
			case tt.want == nil && snap.Git != nil:
				t.Errorf("Git = %+v; want none", snap.Git)
			case tt.want != nil && (snap.Git == nil || *snap.Git != *tt.want):
				t.Errorf("Git = %+v; want %+v", snap.Git, tt.want)
			}
		})
	}
}

// TestGitStatusNotRunWithRepoFilters: a repository's own config can name
// a filter driver, a command git status runs; the agent can write that
// config, so status is not run there and the state is taken as dirty.
func TestGitStatusNotRunWithRepoFilters(t *testing.T) {
	base := t.TempDir()
	repo := filepath.Join(base, "repo")
	gitRepo(t, repo, map[string]string{"a.txt": "a"})
	marker := filepath.Join(base, "filter-ran")
	include := filepath.Join(base, "included.cfg")
	write(t, include, "[filter \"evil\"]\n\tclean = touch "+marker+"; cat\n", 0o644)
	runGit(t, repo, "config", "include.path", include)
	write(t, filepath.Join(repo, ".gitattributes"), "* filter=evil\n", 0o644)
	later := time.Now().Add(time.Hour)
	must(t, os.Chtimes(filepath.Join(repo, "a.txt"), later, later))

	s, err := Open(filepath.Join(base, "store"), Options{GitPath: "git"})
	must(t, err)
	snap, err := s.Take(bg, "d_1", repo, []string{"a.txt"})
	must(t, err)
	if snap.Git == nil || !snap.Git.Dirty || !strings.Contains(snap.Git.Note, "filter.evil.clean") {
		t.Errorf("Git = %+v; want dirty, with a note naming the filter", snap.Git)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("taking a snapshot ran the repository's filter command")
	}
}

// TestGitStateLeavesIndexAlone: git status refreshes a stale index and
// writes it back unless told not to; a snapshot must not change the
// repository it records.
func TestGitStateLeavesIndexAlone(t *testing.T) {
	repo := t.TempDir()
	gitRepo(t, repo, map[string]string{"a.txt": "a"})
	// Same content, new mtime: the index entry is stale.
	later := time.Now().Add(time.Hour)
	must(t, os.Chtimes(filepath.Join(repo, "a.txt"), later, later))
	index := filepath.Join(repo, ".git/index")
	before, err := os.ReadFile(index)
	must(t, err)
	s, err := Open(filepath.Join(t.TempDir(), "store"), Options{GitPath: "git"})
	must(t, err)
	snap, err := s.Take(bg, "d_1", repo, []string{"a.txt"})
	must(t, err)
	if snap.Git == nil || snap.Git.Dirty {
		t.Errorf("Git = %+v; want a clean repository", snap.Git)
	}
	after, err := os.ReadFile(index)
	must(t, err)
	if string(before) != string(after) {
		t.Error("taking a snapshot rewrote the git index")
	}
}

func TestDedup(t *testing.T) {
	s := newStore(t, Options{})
	ws := t.TempDir()
	write(t, filepath.Join(ws, "one.txt"), "same content", 0o644)
	write(t, filepath.Join(ws, "two.txt"), "same content", 0o600)
	write(t, filepath.Join(ws, "three.txt"), "other content", 0o644)
	for i := range 3 {
		_, err := s.Take(bg, "d_"+string(rune('a'+i)), ws, []string{"."})
		must(t, err)
	}
	if n := objectCount(t, s); n != 2 {
		t.Errorf("%d objects for two distinct contents in three snapshots; want 2", n)
	}
	if n := checkStore(t, s); n != 3 {
		t.Errorf("%d snapshots; want 3", n)
	}
}

func TestLoadAndByDecision(t *testing.T) {
	s := newStore(t, Options{})
	ws := t.TempDir()
	write(t, filepath.Join(ws, "f"), "1", 0o644)
	first, err := s.Take(bg, "d_1", ws, []string{"f"})
	must(t, err)
	write(t, filepath.Join(ws, "f"), "2", 0o644)
	second, err := s.Take(bg, "d_1", ws, []string{"f"})
	must(t, err)
	other, err := s.Take(bg, "d_2", ws, []string{"f"})
	must(t, err)

	got, err := s.Load(first.ID)
	must(t, err)
	if got.ID != first.ID || got.Files[0].SHA256 != sha("1") || !got.Time.Equal(first.Time) {
		t.Errorf("Load(first) = %+v", got)
	}
	got, err = s.ByDecision("d_1")
	must(t, err)
	if got.ID != second.ID {
		t.Errorf("ByDecision(d_1) = %s; want the latest, %s", got.ID, second.ID)
	}
	got, err = s.ByDecision("d_2")
	must(t, err)
	if got.ID != other.ID {
		t.Errorf("ByDecision(d_2) = %s; want %s", got.ID, other.ID)
	}
	if _, err := s.ByDecision("d_3"); Code(err) != "snapshot.not_found" {
		t.Errorf("ByDecision(d_3) error = %v; want snapshot.not_found", err)
	}
	missing := "s_" + strings.Repeat("0", 28)
	if _, err := s.Load(missing); Code(err) != "snapshot.not_found" || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(missing) error = %v; want snapshot.not_found naming the id", err)
	}

	// A snapshot file that does not parse is reported as corrupt.
	must(t, os.WriteFile(s.path("snapshots", other.ID+".json"), []byte(`{"format":1,"snapshot":{"id":"`+other.ID+`","decision_id":"d_2","workspace":"/w","files":[{"path":"../x","exists":false}]}}`), 0o600))
	if _, err := s.Load(other.ID); Code(err) != "snapshot.corrupt" {
		t.Errorf("Load(tampered) error = %v; want snapshot.corrupt", err)
	}
}

func TestGCDropsOldAndUnreferenced(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	s := newStore(t, Options{Now: clock.Now})
	ws := t.TempDir()
	write(t, filepath.Join(ws, "f"), "old content", 0o644)
	write(t, filepath.Join(ws, "shared"), "in both", 0o644)
	old, err := s.Take(bg, "d_old", ws, []string{"f", "shared"})
	must(t, err)
	clock.now = clock.now.Add(time.Hour)
	write(t, filepath.Join(ws, "f"), "new content", 0o644)
	recent, err := s.Take(bg, "d_new", ws, []string{"f", "shared"})
	must(t, err)
	// An object no snapshot references, and a temporary file a crashed
	// writer left behind.
	orphan, err := s.writeObject(bg, strings.NewReader("orphan"))
	must(t, err)
	must(t, os.WriteFile(s.path("tmp", "obj-crashed"), []byte("partial"), 0o600))

	rep, err := s.GC(bg, 30*time.Minute)
	must(t, err)
	want := GCReport{DroppedSnapshots: 1, KeptSnapshots: 1, RemovedObjects: 2,
		FreedBytes: int64(len("old content") + len("orphan")), KeptBytes: int64(len("new content") + len("in both")), RemovedTemp: 1}
	if rep != want {
		t.Errorf("GC = %+v; want %+v", rep, want)
	}
	if _, err := s.Load(old.ID); Code(err) != "snapshot.not_found" {
		t.Errorf("Load(old) error = %v; want snapshot.not_found", err)
	}
	if _, err := s.ByDecision("d_old"); Code(err) != "snapshot.not_found" {
		t.Errorf("ByDecision(d_old) error = %v; want snapshot.not_found", err)
	}
	if _, err := os.Lstat(s.path("snapshots", decisionKey("d_old")+latestSuffix)); err == nil {
		t.Error("the link of the dropped snapshot's decision is left behind")
	}
	if s.hasObject(sha("old content")) || s.hasObject(orphan.sum) {
		t.Error("unreferenced objects kept")
	}
	if !s.hasObject(sha("in both")) || !s.hasObject(sha("new content")) {
		t.Error("objects of the kept snapshot removed")
	}
	if _, err := s.ByDecision("d_new"); err != nil {
		t.Errorf("ByDecision(d_new): %v", err)
	}
	write(t, filepath.Join(ws, "f"), "agent", 0o644)
	if _, err := s.Restore(bg, recent, RestoreOptions{}); err != nil {
		t.Errorf("Restore after GC: %v", err)
	}
}

func TestGCMaxBytes(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	s := newStore(t, Options{Now: clock.Now, MaxBytes: 2500})
	ws := t.TempDir()
	var ids []string
	for i := range 4 {
		write(t, filepath.Join(ws, "f"), strings.Repeat(string(rune('a'+i)), 1000), 0o644)
		snap, err := s.Take(bg, "d_"+string(rune('a'+i)), ws, []string{"f"})
		must(t, err)
		ids = append(ids, snap.ID)
		clock.now = clock.now.Add(time.Minute)
	}
	rep, err := s.GC(bg, 0)
	must(t, err)
	if rep.DroppedSnapshots != 2 || rep.KeptSnapshots != 2 || rep.KeptBytes != 2000 || rep.FreedBytes != 2000 {
		t.Errorf("GC = %+v; want the two oldest dropped and 2000 bytes kept", rep)
	}
	for i, id := range ids {
		_, err := s.Load(id)
		if kept := err == nil; kept != (i >= 2) {
			t.Errorf("snapshot %d: Load error %v; want only the two newest kept", i, err)
		}
	}
	if n := objectCount(t, s); n != 2 {
		t.Errorf("%d objects left; want 2", n)
	}
}

func TestGCStopsOnUnreadableSnapshot(t *testing.T) {
	s := newStore(t, Options{})
	ws := t.TempDir()
	write(t, filepath.Join(ws, "f"), "content", 0o644)
	snap, err := s.Take(bg, "d_1", ws, []string{"f"})
	must(t, err)
	bad := "s_" + strings.Repeat("1", 28)
	must(t, os.WriteFile(s.path("snapshots", bad+".json"), []byte("{not json"), 0o600))
	orphan, err := s.writeObject(bg, strings.NewReader("orphan"))
	must(t, err)
	_, err = s.GC(bg, time.Nanosecond)
	if Code(err) != "snapshot.corrupt" || !strings.Contains(err.Error(), bad) {
		t.Fatalf("GC error = %v; want snapshot.corrupt naming the file", err)
	}
	if !s.hasObject(orphan.sum) || !s.hasObject(snap.Files[0].SHA256) {
		t.Error("GC removed objects although it could not read every snapshot")
	}
}
