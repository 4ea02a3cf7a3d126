package verify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExists(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(t *testing.T, dir string) (Claim, Before)
		status    Status
		code      string
		reasonHas string
	}{
		{"not claimed", func(*testing.T, string) (Claim, Before) { return Claim{}, nil }, Skip, "exists.not_claimed", "nothing"},
		{"created file is there", func(t *testing.T, dir string) (Claim, Before) {
			write(t, filepath.Join(dir, "new.go"), "package x\n")
			return Claim{Created: []string{"new.go"}}, nil
		}, Pass, "", "1 created path(s) exist"},
		{"claimed but never written", func(*testing.T, string) (Claim, Before) {
			return Claim{Created: []string{"ghost.txt"}}, nil
		}, Fail, "exists.missing", "ghost.txt: claimed created, but there is no such file"},
		{"absolute path outside workdir", func(t *testing.T, dir string) (Claim, Before) {
			other := t.TempDir()
			return Claim{Created: []string{filepath.Join(other, "gone")}}, nil
		}, Fail, "exists.missing", "gone"},
		{"one of two missing", func(t *testing.T, dir string) (Claim, Before) {
			write(t, filepath.Join(dir, "a"), "a")
			return Claim{Created: []string{"a", "b"}}, nil
		}, Fail, "exists.missing", "/b: claimed created"},
		{"directory counts as created", func(t *testing.T, dir string) (Claim, Before) {
			if err := os.Mkdir(filepath.Join(dir, "pkg"), 0o755); err != nil {
				t.Fatal(err)
			}
			return Claim{Created: []string{"pkg"}}, nil
		}, Pass, "", "exist"},
		{"there before with the same content", func(t *testing.T, dir string) (Claim, Before) {
			p := write(t, filepath.Join(dir, "same.txt"), "old")
			return Claim{Created: []string{"same.txt"}}, record(t, p)
		}, Warn, "exists.unchanged", "there before the call with the same content"},
		{"overwritten with new content", func(t *testing.T, dir string) (Claim, Before) {
			p := write(t, filepath.Join(dir, "over.txt"), "old")
			b := record(t, p)
			write(t, p, "new")
			return Claim{Created: []string{"over.txt"}}, b
		}, Pass, "", "exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c, b := tt.setup(t, dir)
			r := Run(context.Background(), c, b, offline(dir))
			assertCheck(t, r, CheckExists, tt.status, tt.code, tt.reasonHas)
		})
	}
}

func TestChanged(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(t *testing.T, dir string) (Claim, Before, Options)
		status    Status
		code      string
		reasonHas string
	}{
		{"modified file differs", func(t *testing.T, dir string) (Claim, Before, Options) {
			p := write(t, filepath.Join(dir, "main.go"), "package main\n")
			b := record(t, p)
			write(t, p, "package main\n\nfunc main() {}\n")
			return Claim{Modified: []string{"main.go"}}, b, offline(dir)
		}, Pass, "", "1 modified path(s) differ"},
		{"claimed modified, content identical", func(t *testing.T, dir string) (Claim, Before, Options) {
			p := write(t, filepath.Join(dir, "main.go"), "package main\n")
			b := record(t, p)
			write(t, p, "package main\n") // rewritten, same bytes
			return Claim{Modified: []string{"main.go"}}, b, offline(dir)
		}, Fail, "changed.unchanged", "content is the same as before the call"},
		{"snapshot hash in upper case still compares", func(t *testing.T, dir string) (Claim, Before, Options) {
			p := write(t, filepath.Join(dir, "x"), "same")
			b := record(t, p)
			b[p] = state{exists: true, sum: strings.ToUpper(b[p].sum)}
			return Claim{Modified: []string{"x"}}, b, offline(dir)
		}, Fail, "changed.unchanged", "same"},
		{"modified file was removed", func(t *testing.T, dir string) (Claim, Before, Options) {
			p := write(t, filepath.Join(dir, "main.go"), "x")
			b := record(t, p)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			return Claim{Modified: []string{"main.go"}}, b, offline(dir)
		}, Fail, "changed.missing", "no such file"},
		{"modified file is new since the snapshot", func(t *testing.T, dir string) (Claim, Before, Options) {
			p := filepath.Join(dir, "new.txt")
			b := record(t, p)
			write(t, p, "hello")
			return Claim{Modified: []string{"new.txt"}}, b, offline(dir)
		}, Pass, "", "differ"},
		{"no snapshot at all", func(t *testing.T, dir string) (Claim, Before, Options) {
			write(t, filepath.Join(dir, "a"), "x")
			return Claim{Modified: []string{"a"}}, nil, offline(dir)
		}, Warn, "changed.no_snapshot", "no snapshot was taken"},
		{"path not in the snapshot", func(t *testing.T, dir string) (Claim, Before, Options) {
			write(t, filepath.Join(dir, "a"), "x")
			return Claim{Modified: []string{"a"}}, snapshot{}, offline(dir)
		}, Warn, "changed.not_snapshotted", "did not record it"},
		{"a directory is not compared", func(t *testing.T, dir string) (Claim, Before, Options) {
			if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
				t.Fatal(err)
			}
			return Claim{Modified: []string{"d"}}, snapshot{}, offline(dir)
		}, Warn, "changed.not_file", "is a directory"},
		{"a symbolic link is not followed", func(t *testing.T, dir string) (Claim, Before, Options) {
			target := write(t, filepath.Join(dir, "real.txt"), "x")
			if err := os.Symlink(target, filepath.Join(dir, "link.txt")); err != nil {
				t.Fatal(err)
			}
			return Claim{Modified: []string{"link.txt"}}, snapshot{}, offline(dir)
		}, Warn, "changed.not_file", "is a symbolic link"},
		{"a file too large to hash fails closed", func(t *testing.T, dir string) (Claim, Before, Options) {
			p := write(t, filepath.Join(dir, "big"), "0123456789")
			b := snapshot{p: {exists: true, sum: "00"}}
			o := offline(dir)
			o.MaxFileBytes = 4
			return Claim{Modified: []string{"big"}}, b, o
		}, Fail, "changed.unreadable", "larger than the limit"},
		{"deleted file is gone", func(t *testing.T, dir string) (Claim, Before, Options) {
			p := write(t, filepath.Join(dir, "old.log"), "x")
			b := record(t, p)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			return Claim{Deleted: []string{"old.log"}}, b, offline(dir)
		}, Pass, "", "1 deleted path(s) are gone"},
		{"claimed deleted, still there", func(t *testing.T, dir string) (Claim, Before, Options) {
			write(t, filepath.Join(dir, "old.log"), "x")
			return Claim{Deleted: []string{"old.log"}}, nil, offline(dir)
		}, Fail, "changed.still_there", "old.log: claimed deleted, but it is still there"},
		{"a dangling symlink is still there", func(t *testing.T, dir string) (Claim, Before, Options) {
			if err := os.Symlink("/nonexistent/target", filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			return Claim{Deleted: []string{"link"}}, nil, offline(dir)
		}, Fail, "changed.still_there", "link"},
		{"deleted something that never existed", func(t *testing.T, dir string) (Claim, Before, Options) {
			p := filepath.Join(dir, "never")
			return Claim{Deleted: []string{"never"}}, record(t, p), offline(dir)
		}, Warn, "changed.never_existed", "did not exist before the call either"},
		{"unchanged outranks the missing snapshot", func(t *testing.T, dir string) (Claim, Before, Options) {
			p := write(t, filepath.Join(dir, "a"), "x")
			write(t, filepath.Join(dir, "b"), "y")
			return Claim{Modified: []string{"b", "a"}}, record(t, p), offline(dir)
		}, Fail, "changed.unchanged", "did not record it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c, b, o := tt.setup(t, dir)
			r := Run(context.Background(), c, b, o)
			assertCheck(t, r, CheckChanged, tt.status, tt.code, tt.reasonHas)
		})
	}
}

func TestHashFileMatchesSnapshotFormat(t *testing.T) {
	dir := t.TempDir()
	p := write(t, filepath.Join(dir, "f"), "abc")
	got, err := hashFile(p, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	// SHA-256("abc") from FIPS 180-2, appendix B.1.
	if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("hashFile = %s, want %s", got, want)
	}
}
