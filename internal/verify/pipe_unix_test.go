//go:build unix

package verify

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
)

// A named pipe planted where a file was claimed must not stall
// verification: opening it for reading would wait for a writer forever.
func TestNamedPipeDoesNotBlock(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "data.json")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	b := snapshot{p: {exists: true, sum: "00"}}
	r := Run(context.Background(), Claim{Created: []string{"data.json"}, Modified: []string{"data.json"}}, b, offline(dir))
	assertCheck(t, r, CheckFormat, Fail, "format.unreadable", "is a named pipe, not a regular file")
	assertCheck(t, r, CheckChanged, Warn, "changed.not_file", "named pipe")
	assertCheck(t, r, CheckExists, Pass, "", "exist")
}
