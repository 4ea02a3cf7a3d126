package snapshot

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
)

// benchTakeAndDiff measures what a call that may write pays: a snapshot
// before it (hash, find the content stored already, save the snapshot
// durably) and a diff after it.
func benchTakeAndDiff(b *testing.B, files map[string][]byte) {
	s := newStore(b, Options{})
	ws := b.TempDir()
	var paths []string
	for name, content := range files {
		write(b, filepath.Join(ws, name), string(content), 0o644)
		paths = append(paths, name)
	}
	// Content is copied on first sight only; measure the calls after.
	if _, err := s.Take(bg, "d_warm", ws, paths); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		snap, err := s.Take(bg, fmt.Sprintf("d_%d", i), ws, paths)
		if err != nil {
			b.Fatal(err)
		}
		changes, err := s.Diff(bg, snap)
		if err != nil || len(changes) != len(snap.Files) || len(snap.Files) < len(files) {
			b.Fatalf("Diff: %v, %d changes", err, len(changes))
		}
	}
}

func BenchmarkTakeAndDiff1MB(b *testing.B) {
	content := make([]byte, 1<<20)
	_, _ = rand.Read(content)
	benchTakeAndDiff(b, map[string][]byte{"big.bin": content})
}

func BenchmarkTakeAndDiff100Small(b *testing.B) {
	files := map[string][]byte{}
	for i := range 100 {
		content := make([]byte, 1024)
		_, _ = rand.Read(content)
		files[fmt.Sprintf("src/f%03d.txt", i)] = content
	}
	benchTakeAndDiff(b, files)
}
