package snapshot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sentinel-agent/sentinel/internal/snapshot"
)

// Before a call that may write, take a snapshot; after it, see what
// changed; to undo it, restore.
func Example() {
	base, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(base)
	ws := filepath.Join(base, "project")
	_ = os.MkdirAll(filepath.Join(ws, "src"), 0o755)
	_ = os.WriteFile(filepath.Join(ws, "src/main.go"), []byte("package main\n"), 0o644)

	store, err := snapshot.Open(filepath.Join(base, "snapshots"), snapshot.Options{NoGit: true})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	snap, err := store.Take(ctx, "d_0001", ws, []string{"src"})
	if err != nil {
		panic(err)
	}

	// The call rewrites one file and adds another.
	_ = os.WriteFile(filepath.Join(ws, "src/main.go"), []byte("package oops\n"), 0o644)
	_ = os.WriteFile(filepath.Join(ws, "src/extra.go"), []byte("package main\n"), 0o644)

	changes, _ := store.Diff(ctx, snap)
	for _, c := range changes {
		fmt.Println(c.Kind, c.Path)
	}
	rep, err := store.Restore(ctx, snap, snapshot.RestoreOptions{})
	if err != nil {
		panic(err)
	}
	for _, o := range rep.Restored {
		fmt.Println(o.Path+":", o.Action)
	}
	b, _ := os.ReadFile(filepath.Join(ws, "src/main.go"))
	fmt.Printf("%q\n", b)
	// Output:
	// unchanged src
	// created src/extra.go
	// modified src/main.go
	// src/extra.go: deleted the file created since
	// src/main.go: wrote the recorded content, from the snapshot store
	// "package main\n"
}
