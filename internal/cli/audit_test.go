package cli

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestAuditCommands drives the audit log end to end through the command
// line: decisions recorded with check --audit, listed, counted, exported,
// verified (store and file), tampered with, pruned, and the key rotated.
func TestAuditCommands(t *testing.T) {
	dir := t.TempDir()
	ws := t.TempDir()
	dd := "--data-dir=" + dir
	token := "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"
	calls := []run{
		{args: []string{"check", "--audit", dd, "--workspace", ws, "exec", "command=go test ./..."}, code: ExitOK},
		{args: []string{"check", "--audit", dd, "--workspace", ws, "exec", "command=rm -rf /"}, code: ExitDeny},
		{args: []string{"check", "--audit", dd, "--workspace", ws, "exec", "command=curl -H 'Authorization: token " + token + "' https://api.example.com"}, code: ExitOK},
		{args: []string{"check", "--audit", dd, "--workspace", ws, "write_file", "path=notes.md", "content=hello"}, code: ExitOK},
	}
	for _, c := range calls {
		c.do(t)
	}
	out, _ := run{args: []string{"audit", dd, "--limit", "10", "--format", "json"}, code: ExitOK}.do(t)
	var listed struct {
		Count  int               `json:"count"`
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || listed.Count != 4 {
		t.Fatalf("audit list: %v %s", err, out)
	}
	if strings.Contains(out, token) {
		t.Fatal("the token reached the audit log")
	}
	run{args: []string{"audit", "list", dd, "--action", "deny"}, code: ExitOK, stdout: []string{"deny", "command.recursive_delete_root"}}.do(t)
	run{args: []string{"audit", "list", dd, "--action", "maybe"}, code: ExitError, stderr: []string{"--action"}}.do(t)
	out, _ = run{args: []string{"stats", dd, "--format", "json"}, code: ExitOK}.do(t)
	var st struct {
		Total    int            `json:"total"`
		ByAction map[string]int `json:"by_action"`
		HighRisk int            `json:"high_risk"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Total != 4 || st.ByAction["deny"] != 1 || st.HighRisk != 1 {
		t.Fatalf("stats: %v %s", err, out)
	}
	run{args: []string{"audit", "verify", dd}, code: ExitOK, stdout: []string{"intact: 4 events"}}.do(t)

	// An export verifies on its own with the public key.
	exp := filepath.Join(t.TempDir(), "audit.jsonl")
	pub := filepath.Join(t.TempDir(), "audit.pub")
	run{args: []string{"audit", "export", dd, "--output", exp}, code: ExitOK}.do(t)
	out, _ = run{args: []string{"audit", "public-key", dd}, code: ExitOK}.do(t)
	if err := os.WriteFile(pub, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	run{args: []string{"audit", "verify", "--file", exp, "--public-key", pub}, code: ExitOK, stdout: []string{"intact"}}.do(t)
	data, _ := os.ReadFile(exp)
	bad := strings.Replace(string(data), "go test ./...", "go test ./..,", 1)
	if bad == string(data) {
		t.Fatal("the export does not contain the first command")
	}
	if err := os.WriteFile(exp, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	run{args: []string{"audit", "verify", "--file", exp, "--public-key", pub}, code: ExitBroken, stdout: []string{"BROKEN", "event #1", "changed"}}.do(t)

	// Tampering with the database is caught, naming the event.
	db, err := sql.Open("sqlite", filepath.Join(dir, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	// First a query column: the denied rm -rf / made to look allowed to
	// "audit list --action deny", its body untouched.
	res, err := db.Exec(`UPDATE events SET action = 'allow' WHERE seq = 2 AND action = 'deny'`)
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("setting event 2's action column: %v (%d rows)", err, n)
	}
	run{args: []string{"audit", "verify", dd}, code: ExitBroken, stdout: []string{"BROKEN", "event #2", `action column says "allow"`}}.do(t)
	if _, err := db.Exec(`UPDATE events SET action = 'deny' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	run{args: []string{"audit", "verify", dd}, code: ExitOK, stdout: []string{"intact"}}.do(t)
	if _, err := db.Exec(`UPDATE events SET body = replace(body, 'rm -rf /', 'rm -rf .') WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	run{args: []string{"audit", "verify", dd, "--format", "json"}, code: ExitBroken, stdout: []string{`"kind":"changed"`, `"seq":2`}}.do(t)

	// An export stripped of its checkpoints is refused by default once its
	// unsigned run is longer than --max-unsigned.
	var kept []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.Contains(l, `"type":"checkpoint"`) {
			kept = append(kept, l)
		}
	}
	stripped := filepath.Join(t.TempDir(), "stripped.jsonl")
	_ = os.WriteFile(stripped, []byte(strings.Join(kept, "\n")+"\n"), 0o600)
	run{args: []string{"audit", "verify", "--file", stripped, "--public-key", pub, "--max-unsigned", "3"}, code: ExitBroken,
		stdout: []string{"unsigned", "4 events"}}.do(t)
	run{args: []string{"audit", "verify", "--file", stripped, "--public-key", pub, "--max-unsigned", "x"}, code: ExitError}.do(t)
}

func TestAuditPruneAndRotate(t *testing.T) {
	dir := t.TempDir()
	ws := t.TempDir()
	dd := "--data-dir=" + dir
	for i := 0; i < 6; i++ {
		run{args: []string{"check", "--audit", dd, "--workspace", ws, "exec", "command=echo " + strings.Repeat("x", i)}, code: ExitOK}.do(t)
	}
	run{args: []string{"audit", "rotate-key", dd}, code: ExitOK, stdout: []string{"rotated"}}.do(t)
	run{args: []string{"check", "--audit", dd, "--workspace", ws, "exec", "command=ls"}, code: ExitOK}.do(t)
	old, _ := filepath.Glob(filepath.Join(dir, "audit.key.*.old"))
	if len(old) != 1 {
		t.Fatalf("the old key was not kept: %v", old)
	}
	// Trusting the old key, the chain verifies across the rotation.
	pub := filepath.Join(t.TempDir(), "old.pub")
	oldKey := filepath.Join(t.TempDir(), "old.key")
	b, _ := os.ReadFile(old[0])
	_ = os.WriteFile(oldKey, b, 0o600)
	out, _ := run{args: []string{"audit", "public-key", "--key", oldKey}, code: ExitOK}.do(t)
	_ = os.WriteFile(pub, []byte(out), 0o600)
	exp := filepath.Join(t.TempDir(), "a.jsonl")
	run{args: []string{"audit", "export", dd, "--output", exp}, code: ExitOK}.do(t)
	run{args: []string{"audit", "verify", "--file", exp, "--public-key", pub}, code: ExitOK, stdout: []string{"intact: 7 events"}}.do(t)

	run{args: []string{"audit", "prune", dd}, code: ExitError, stderr: []string{"say what to prune"}}.do(t)
	run{args: []string{"audit", "prune", dd, "--max-events", "3"}, code: ExitOK, stdout: []string{"pruned 4 events"}}.do(t)
	run{args: []string{"audit", "verify", dd}, code: ExitOK, stdout: []string{"intact: 3 events (#5 to #7)"}}.do(t)
}

func TestAuditFailsClosed(t *testing.T) {
	// A data dir that cannot be created: check refuses to decide rather
	// than run unrecorded.
	f := filepath.Join(t.TempDir(), "file")
	_ = os.WriteFile(f, []byte("x"), 0o600)
	run{args: []string{"check", "--audit", "--data-dir", filepath.Join(f, "sub"), "exec", "command=ls"}, code: ExitError,
		stderr: []string{"audit log cannot be opened"}}.do(t)
	// A key others can read is refused.
	dir := t.TempDir()
	run{args: []string{"check", "--audit", "--data-dir", dir, "exec", "command=ls"}, code: ExitOK}.do(t)
	_ = os.Chmod(filepath.Join(dir, "audit.key"), 0o644)
	run{args: []string{"check", "--audit", "--data-dir", dir, "exec", "command=ls"}, code: ExitError, stderr: []string{"chmod 600"}}.do(t)
}

func TestDataDirImpliesAudit(t *testing.T) {
	dir := t.TempDir()
	run{args: []string{"check", "--data-dir", dir, "--workspace", t.TempDir(), "exec", "command=ls"}, code: ExitOK}.do(t)
	run{args: []string{"audit", "verify", "--data-dir", dir}, code: ExitOK, stdout: []string{"intact: 1 event (#1 to #1), 1 checkpoint"}}.do(t)
}
