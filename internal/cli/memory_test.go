package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMemoryCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + data
	md := filepath.Join(t.TempDir(), "MEMORY.md")
	if err := os.WriteFile(md, []byte("# MEMORY\n\n## Preferences\n- language: Go\n- editor: vim\n\n## Rules\n- run go vet before committing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run{args: []string{"memory", "import", md, dd}, code: ExitOK}.do(t)
	// Importing the same file again adds nothing.
	out, _ := run{args: []string{"memory", "show", dd, "--limit", "100"}, code: ExitOK, stdout: []string{"language: Go", "run go vet"}}.do(t)
	n := strings.Count(out, "\n")
	run{args: []string{"memory", "import", md, dd}, code: ExitOK}.do(t)
	out2, _ := run{args: []string{"memory", "show", dd, "--limit", "100"}, code: ExitOK}.do(t)
	if strings.Count(out2, "\n") != n {
		t.Errorf("re-import changed the memory:\n%s\n---\n%s", out, out2)
	}
	run{args: []string{"memory", "search", "vet", dd}, code: ExitOK, stdout: []string{"run go vet"}}.do(t)
	run{args: []string{"memory", "context", dd}, code: ExitOK, stdout: []string{"Go"}}.do(t)
	run{args: []string{"memory", "export", "--format", "markdown", dd}, code: ExitOK, stdout: []string{"language"}}.do(t)
	id := strings.Fields(strings.Split(strings.TrimSpace(out), "\n")[0])[0]
	run{args: []string{"memory", "forget", id, dd}, code: ExitOK, stdout: []string{"forgot " + id}}.do(t)
	run{args: []string{"memory", "forget", id, dd}, code: ExitError}.do(t)
	run{args: []string{"memory", "dream", dd}, code: ExitError, stderr: []string{"unknown subcommand"}}.do(t)
	run{args: []string{"memory", "context", "--budget", "0", dd}, code: ExitError, stderr: []string{"--budget"}}.do(t)
}
