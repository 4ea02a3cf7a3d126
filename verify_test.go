package sentinel_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sentinel-agent/sentinel"
)

func TestExecuteVerifiesAndRollsBack(t *testing.T) {
	ws, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	// Every failed verification rolls back, whatever the risk.
	g, err := sentinel.New(sentinel.Options{Workspace: ws, Home: "/home/dev", DataDir: data, RollbackRisk: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// The agent claims it wrote a file and did not.
	report := filepath.Join(ws, "report.md")
	_, res, err := g.Execute(ctx, sentinel.Call{Tool: "Write", Args: map[string]any{"file_path": report, "content": "# done"}},
		func(context.Context) (sentinel.Result, error) { return sentinel.Result{Output: "wrote report.md"}, nil })
	if !errors.Is(err, sentinel.ErrVerifyFailed) || res.Verify != "fail" {
		t.Fatalf("a write that did not happen: verify %q, err %v", res.Verify, err)
	}

	// An edit that breaks a JSON file fails verification and is undone.
	cfg := filepath.Join(ws, "config.json")
	before := []byte("{\"replicas\": 3}\n")
	if err := os.WriteFile(cfg, before, 0o644); err != nil {
		t.Fatal(err)
	}
	edit := sentinel.Call{Tool: "Edit", Args: map[string]any{"file_path": cfg, "old_string": "3}", "new_string": "3,,}"}}
	_, res, err = g.Execute(ctx, edit, func(context.Context) (sentinel.Result, error) {
		return sentinel.Result{Output: "edited"}, os.WriteFile(cfg, []byte("{\"replicas\": 3,,}\n"), 0o644)
	})
	if !errors.Is(err, sentinel.ErrVerifyFailed) || !res.RolledBack {
		t.Fatalf("a broken edit: verify %q rolled back %v err %v (%v)", res.Verify, res.RolledBack, err, res.Checks)
	}
	if got, _ := os.ReadFile(cfg); !bytes.Equal(got, before) {
		t.Errorf("after the rollback the file is %q, want %q", got, before)
	}

	// A good edit passes and stays.
	_, res, err = g.Execute(ctx, edit, func(context.Context) (sentinel.Result, error) {
		return sentinel.Result{Output: "edited"}, os.WriteFile(cfg, []byte("{\"replicas\": 4}\n"), 0o644)
	})
	if err != nil || res.Verify == "fail" || res.RolledBack {
		t.Errorf("a good edit: %q %v %v", res.Verify, res.RolledBack, err)
	}
	if got, _ := os.ReadFile(cfg); string(got) != "{\"replicas\": 4}\n" {
		t.Errorf("the good edit was undone: %q", got)
	}
	if err := g.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
