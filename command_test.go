package sentinel_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel"
)

func TestMain(m *testing.M) {
	sentinel.SandboxMain()
	os.Exit(m.Run())
}

func TestExecuteSandboxedCommand(t *testing.T) {
	ws, home := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "id_rsa"), []byte("KEY-MARKER"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	g, err := sentinel.New(sentinel.Options{Workspace: ws, Home: home, DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	ctx := context.Background()
	script := "echo built > artifact.txt; cat " + filepath.Join(home, ".ssh", "id_rsa") + " 2>&1; exit 0"
	call := sentinel.Call{Tool: "Bash", Args: map[string]any{"command": "sh -c 'echo built > artifact.txt'"}}
	d, res, err := g.Execute(ctx, call, g.Command([]string{"/bin/sh", "-c", script}, sentinel.CommandOptions{}))
	if err != nil || d.Action != sentinel.Allow {
		t.Fatalf("Execute: %v %v", d.Action, err)
	}
	if strings.Contains(res.Output, "KEY-MARKER") || !strings.Contains(res.Output, "No such file") {
		t.Errorf("the sandboxed command's output %q: the key must read as missing", res.Output)
	}
	if b, err := os.ReadFile(filepath.Join(ws, "artifact.txt")); err != nil || string(b) != "built\n" {
		t.Errorf("workspace file %q, %v", b, err)
	}
	// A failing command: its output and an *ExitError.
	_, res, err = g.Execute(ctx, call, g.Command([]string{"/bin/sh", "-c", "echo oops; exit 3"}, sentinel.CommandOptions{}))
	var ee *sentinel.ExitError
	if !errors.As(err, &ee) || ee.Code != 3 || !strings.Contains(res.Output, "oops") {
		t.Errorf("failing command: %v, output %q", err, res.Output)
	}
	// Output beyond MaxOutput is dropped, and said so.
	_, res, _ = g.Execute(ctx, call, g.Command([]string{"/bin/sh", "-c", "head -c 5000 /dev/zero | tr '\\0' x"}, sentinel.CommandOptions{MaxOutput: 100}))
	if !strings.HasPrefix(res.Output, strings.Repeat("x", 100)) || !strings.Contains(res.Output, "4900 more bytes of output dropped") {
		t.Errorf("capped output: %q", res.Output)
	}
	// Bad options are errors before anything runs.
	for _, opts := range []sentinel.CommandOptions{{Profile: "nope"}, {Mode: "sometimes"}} {
		if _, _, err := g.Execute(ctx, call, g.Command([]string{"true"}, opts)); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
	_, res, err = g.Execute(ctx, call, g.Command([]string{"touch", "x"}, sentinel.CommandOptions{Mode: "dry-run"}))
	if err != nil || !strings.Contains(res.Output, "dry run") {
		t.Errorf("dry run: %v %q", err, res.Output)
	}
	if _, err := os.Stat(filepath.Join(ws, "x")); err == nil {
		t.Error("the dry run ran the command")
	}
}
