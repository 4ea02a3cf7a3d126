package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/pipeline"
	"github.com/sentinel-agent/sentinel/internal/request"
)

func TestFeedbackAndStatus(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + data
	// A few decided calls, then four negative signals for the session.
	run{args: []string{"check", "--audit", dd, "Bash", "command=go test ./..."}, code: ExitOK}.do(t)
	run{args: []string{"check", "--audit", dd, "Bash", "command=rm -rf /"}, code: ExitDeny}.do(t)
	for _, s := range []string{"user_deleted_code", "user_interrupted", "user_modified_output", "user_repeated_instruction"} {
		run{args: []string{"feedback", s, "--session", "s1", "--agent", "claude-code", dd}, code: ExitOK, stdout: []string{"recorded " + s}}.do(t)
	}
	run{args: []string{"feedback", "user_smiled", "--session", "s1", dd}, code: ExitError, stderr: []string{"user_explicit_approval"}}.do(t)
	run{args: []string{"feedback", "user_used_result", dd}, code: ExitError, stderr: []string{"--session is required"}}.do(t)
	out, _ := run{args: []string{"status", dd}, code: ExitOK, stdout: []string{"Status Report", "Quality Score"}}.do(t)
	if !strings.Contains(strings.ToLower(out), "satisfaction declining") {
		t.Errorf("four negative signals did not give the declining warning:\n%s", out)
	}
	run{args: []string{"profile", dd, "--session", "s1", "--format", "json"}, code: ExitOK, stdout: []string{`"sessions"`}}.do(t)
	run{args: []string{"status", dd, "--since", "forever"}, code: ExitError, stderr: []string{"--since"}}.do(t)
}

func TestRollbackCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	ws, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(ws, "keep.txt")
	if err := os.WriteFile(f, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := data
	snaps, err := openSnapshots(&storeFlags{dataDir: &dataDir})
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Options{Snapshots: snaps})
	a := &analysis.Analysis{Paths: []analysis.PathRef{{Path: f, Op: analysis.OpDelete, Command: "rm"}}}
	if _, err := p.Pre(context.Background(), "d_cli", ws, &request.ToolCall{Tool: "Bash", Kind: request.KindExec}, a); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f); err != nil {
		t.Fatal(err)
	}
	dd := "--data-dir=" + data
	run{args: []string{"rollback", "d_cli", "--dry-run", dd}, code: ExitOK, stdout: []string{"would restore  keep.txt"}}.do(t)
	if _, err := os.Stat(f); err == nil {
		t.Fatal("the dry run restored the file")
	}
	run{args: []string{"rollback", "d_cli", dd, "--as", "alice"}, code: ExitOK, stdout: []string{"restored  keep.txt", "1 restored, 0 failed"}}.do(t)
	if b, err := os.ReadFile(f); err != nil || string(b) != "precious" {
		t.Errorf("after rollback: %q %v", b, err)
	}
	run{args: []string{"audit", "list", dd}, code: ExitOK, stdout: []string{"outcome"}}.do(t)
	run{args: []string{"rollback", "d_nope", dd}, code: ExitError, stderr: []string{"rollback"}}.do(t)
	run{args: []string{"rollback", dd}, code: ExitError, stderr: []string{"name the decision"}}.do(t)
}
