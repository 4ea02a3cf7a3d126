package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/policy"
	"github.com/sentinel-agent/sentinel/internal/request"
	"github.com/sentinel-agent/sentinel/internal/sharedpolicy"
	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
)

// fileHolder is a holder on a policy file of its own with text src.
func fileHolder(t *testing.T, src string) (*PolicyHolder, *kernel.Kernel, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := kernel.New(p, kernel.Options{Workspace: dir, Home: dir, KeepLastGood: true})
	if err != nil {
		t.Fatal(err)
	}
	return NewPolicyHolder(k, path, []byte(src), p), k, path
}

func decide(k *kernel.Kernel, command string) string {
	return k.Decide(context.Background(), request.Raw{Tool: "Bash", Args: map[string]any{"command": command}}).Action.String()
}

const denyStatus = `version: 1
extends: builtin
rules:
  - id: no-status
    when: "call.kind == 'exec' && call.args.command.contains('git status')"
    action: deny
    reason: not today
    match: [{tool: Bash, args: {command: git status}}]
    not_match: [{tool: Bash, args: {command: ls}}]
`

// TestSharedPolicyFiles: the first holder seeds the store; a second one,
// with another file, comes up with the stored policy and rewrites its
// file; an edit of that file is stored and brought into the first, file
// included; a stored revision that does not load here leaves the policy
// in force and is reported.
func TestSharedPolicyFiles(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "audit.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	h1, k1, path1 := fileHolder(t, "version: 1\nextends: builtin\n")
	if err := h1.Share(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	if r, err := st.LatestPolicy(ctx); err != nil || r.Seq != 1 || r.By != "startup" || string(r.Source) != "version: 1\nextends: builtin\n" {
		t.Fatalf("the first holder seeded %+v, %v", r, err)
	}

	h2, k2, path2 := fileHolder(t, denyStatus)
	if decide(k2, "git status") != "deny" {
		t.Fatal("the second holder's own file does not deny git status")
	}
	if err := h2.Share(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	if decide(k2, "git status") != "allow" || h2.SharedRevision() != 1 {
		t.Errorf("the second holder kept its own file over the stored revision 1 (git status %s)", decide(k2, "git status"))
	}
	if data, _ := os.ReadFile(path2); string(data) != "version: 1\nextends: builtin\n" {
		t.Errorf("the second holder's file was not rewritten to the stored policy:\n%s", data)
	}

	// An edit of the second file is stored and reaches the first.
	if err := os.WriteFile(path2, []byte(denyStatus), 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, err := h2.ReloadFile(); !ok || err != nil {
		t.Fatalf("reloading the edited file: %v %v", ok, err)
	}
	if r, _ := st.LatestPolicy(ctx); r.Seq != 2 || !strings.HasPrefix(r.By, "file ") {
		t.Fatalf("the file edit was stored as %d by %q, want 2 by the file", r.Seq, r.By)
	}
	if changed, err := h1.followOnce(ctx); !changed || err != nil {
		t.Fatalf("following: %v %v", changed, err)
	}
	if decide(k1, "git status") != "deny" {
		t.Error("the first holder did not bring in revision 2")
	}
	if data, _ := os.ReadFile(path1); string(data) != denyStatus {
		t.Errorf("the first holder's file does not follow:\n%s", data)
	}
	// Its file watcher sees its own file rewritten: no new revision.
	if ok, err := h1.ReloadFile(); ok || err != nil {
		t.Errorf("reloading a file the follower wrote: %v %v, want nothing to do", ok, err)
	}

	// A revision that does not load here (a newer version's field, say).
	bad := []byte("version: 1\nfrom_the_future: true\n")
	if err := st.AppendPolicy(ctx, sharedpolicy.Revision{Seq: 3, Hash: sharedpolicy.Hash(bad), Source: bad, By: "newer", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if changed, err := h1.followOnce(ctx); changed || err == nil || !strings.Contains(err.Error(), "revision 3") {
		t.Errorf("following a revision that does not load: %v %v, want an error naming it", changed, err)
	}
	if decide(k1, "git status") != "deny" || h1.SharedRevision() != 2 {
		t.Error("a revision that does not load replaced the policy in force")
	}
	if changed, err := h1.followOnce(ctx); changed || err != nil {
		t.Errorf("the same broken revision is reported again: %v %v", changed, err)
	}
	// Changing the policy here would overwrite what the newer replica
	// stored: it is a conflict.
	_, hash, _ := h1.Current()
	if _, err := h1.Replace(ctx, hash, []byte("version: 1\nextends: builtin\n"), "ops"); !errors.Is(err, ErrBaseHash) {
		t.Errorf("a change on a replica behind the store: %v, want ErrBaseHash", err)
	}
}
