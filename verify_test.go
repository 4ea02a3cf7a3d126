package sentinel_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
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

func TestExecuteVerifiesAClaimedPush(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	base := t.TempDir()
	remote := filepath.Join(base, "remote.git")
	ws := filepath.Join(base, "ws")
	git := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git(base, "init", "-q", "--bare", "-b", "main", remote)
	git(base, "clone", "-q", remote, ws)
	if err := os.WriteFile(filepath.Join(ws, "a.txt"), []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	git(ws, "add", "a.txt")
	git(ws, "commit", "-q", "-m", "a")
	git(ws, "push", "-q", "origin", "main")
	if err := os.WriteFile(filepath.Join(ws, "b.txt"), []byte("b"), 0o600); err != nil {
		t.Fatal(err)
	}
	git(ws, "add", "b.txt")
	git(ws, "commit", "-q", "-m", "b")

	g, err := sentinel.New(sentinel.Options{Workspace: ws, Home: "/home/dev", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	push := sentinel.Call{Tool: "Bash", Args: map[string]any{"command": "git push origin main"}}
	// The agent says it pushed; it did not.
	_, res, err := g.Execute(context.Background(), push, func(context.Context) (sentinel.Result, error) {
		return sentinel.Result{Output: "pushed"}, nil
	})
	if !errors.Is(err, sentinel.ErrVerifyFailed) || res.Verify != "fail" {
		t.Fatalf("a claimed push that did not happen: %q %v %v", res.Verify, res.Checks, err)
	}
	// It pushes for real: verified.
	_, res, err = g.Execute(context.Background(), push, func(ctx context.Context) (sentinel.Result, error) {
		cmd := exec.CommandContext(ctx, "git", "push", "-q", "origin", "main")
		cmd.Dir = ws
		out, err := cmd.CombinedOutput()
		return sentinel.Result{Output: string(out)}, err
	})
	if err != nil || res.Verify != "pass" {
		t.Errorf("a real push: %q %v %v", res.Verify, res.Checks, err)
	}
}
