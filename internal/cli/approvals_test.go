package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sentinel-agent/sentinel/internal/approval"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
)

// seedApprovals opens three pending approvals in the data dir: a plain
// one, another, and a critical one.
func seedApprovals(t *testing.T, dir string) (plain, other, critical approval.Approval) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "audit.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := approval.New(st, approval.Options{})
	open := func(command string, crit bool) approval.Approval {
		h, err := approval.CallHash("exec", "s1", "agent", map[string]any{"command": command})
		if err != nil {
			t.Fatal(err)
		}
		a, err := svc.Request(ctx, approval.Request{DecisionID: "d_" + strings.ReplaceAll(command, " ", "_"), CallHash: h, Tool: "exec", Session: "s1", Agent: "agent",
			Summary: "exec: " + command, Shape: "exec: git push", Critical: crit})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	return open("git push origin main", false), open("git push origin dev", false), open("git push --force origin main", true)
}

func TestApprovalsCommands(t *testing.T) {
	dir := t.TempDir()
	dd := "--data-dir=" + dir
	a1, a2, a3 := seedApprovals(t, dir)
	t.Setenv("USER", "carol")

	run{args: []string{"approvals", dd}, code: ExitOK, stdout: []string{a1.ID, a2.ID, a3.ID, "pending", "0/2", "git push --force"}}.do(t)
	out, _ := run{args: []string{"approvals", "list", dd, "--format", "json"}, code: ExitOK}.do(t)
	var listed struct {
		Count     int                 `json:"count"`
		Approvals []approval.Approval `json:"approvals"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || listed.Count != 3 || len(listed.Approvals) != 3 || listed.Approvals[0].ID != a3.ID {
		t.Fatalf("approvals list --format json: %v\n%s", err, out)
	}

	run{args: []string{"approvals", "approve", a1.ID, dd, "--as", "alice", "--reason", "release", "--grant", "1h"}, code: ExitOK,
		stdout: []string{"approved " + a1.ID, `granted "exec: git push" in session "s1" for 1h0m0s`}}.do(t)
	run{args: []string{"approvals", "approve", a1.ID, dd, "--as", "bob"}, code: ExitError, stderr: []string{"approval.decided"}}.do(t)
	run{args: []string{"approvals", "deny", a2.ID, dd, "--reason", "not today"}, code: ExitOK, stdout: []string{"denied " + a2.ID}}.do(t)
	run{args: []string{"approvals", "show", a2.ID, dd}, code: ExitOK, stdout: []string{"(denied)", "carol denied", "not today"}}.do(t)

	run{args: []string{"approvals", "approve", a3.ID, dd, "--as", "alice"}, code: ExitOK, stdout: []string{"1 more approver(s) needed"}}.do(t)
	run{args: []string{"approvals", "approve", a3.ID, dd, "--as", "ALICE"}, code: ExitError, stderr: []string{"approval.same_approver"}}.do(t)
	run{args: []string{"approvals", "approve", a3.ID, dd, "--as", "dave", "--grant", "1h"}, code: ExitError, stderr: []string{"approval.invalid", "critical"}}.do(t)
	run{args: []string{"approvals", "approve", a3.ID, dd, "--as", "dave"}, code: ExitOK, stdout: []string{"approved " + a3.ID}}.do(t)

	run{args: []string{"approvals", dd}, code: ExitOK, stdout: []string{"no approvals"}}.do(t)
	run{args: []string{"approvals", "list", dd, "--status", "approved"}, code: ExitOK, stdout: []string{a1.ID, a3.ID, "1/1", "2/2"}}.do(t)
	run{args: []string{"approvals", "list", dd, "--status", "all", "--format", "json"}, code: ExitOK, stdout: []string{`"count":3`}}.do(t)

	// The grant reached the store.
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "audit.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, ok, err := approval.New(st, approval.Options{}).Granted(context.Background(), "s1", "exec", "exec: git push")
	if err != nil || !ok || g.CreatedBy != "alice" || g.ApprovalID != a1.ID {
		t.Fatalf("Granted = %+v, %v, %v; want alice's grant from %s", g, ok, err, a1.ID)
	}

	// Each vote that decided is in the audit log, as the server records
	// it; the refused votes and the first of two needed are not.
	recs, err := st.Query(context.Background(), audit.Filter{})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if r.Type != audit.TypeOutcome {
			continue
		}
		var ev audit.Event
		if err := json.Unmarshal(r.Body, &ev); err != nil || ev.Approval == nil {
			t.Fatalf("outcome %d: %v %s", r.Seq, err, r.Body)
		}
		got = append(got, ev.DecisionID+" "+ev.Approval.Status+" by "+ev.Approval.Approver+": "+ev.Approval.Reason)
	}
	want := []string{
		a1.DecisionID + " approved by alice: release",
		a2.DecisionID + " denied by carol: not today",
		a3.DecisionID + " approved by alice and dave: ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audited votes (-want +got):\n%s", diff)
	}
	run{args: []string{"audit", "verify", dd}, code: ExitOK}.do(t)
}

func TestApprovalsCommandErrors(t *testing.T) {
	dir := t.TempDir()
	dd := "--data-dir=" + dir
	a1, _, _ := seedApprovals(t, dir)
	for _, r := range []run{
		{args: []string{"approvals", "approve", "ap_00000000000000000000", dd, "--as", "x"}, code: ExitError, stderr: []string{"approval.not_found"}},
		{args: []string{"approvals", "show", "nope", dd}, code: ExitError, stderr: []string{"approval.not_found"}},
		{args: []string{"approvals", "approve", dd, "--as", "x"}, code: ExitError, stderr: []string{"name one approval"}},
		{args: []string{"approvals", "deny", a1.ID, dd, "--grant", "1h"}, code: ExitError, stderr: []string{"unknown flag --grant"}},
		{args: []string{"approvals", "approve", a1.ID, dd, "--as", "x", "--grant", "soon"}, code: ExitError, stderr: []string{"--grant"}},
		{args: []string{"approvals", "approve", a1.ID, dd, "--as", "x", "--reason", string(make([]byte, 2001))}, code: ExitError, stderr: []string{"approval.invalid"}},
		{args: []string{"approvals", "list", dd, "--status", "maybe"}, code: ExitError, stderr: []string{"--status"}},
		{args: []string{"approvals", "list", dd, "--limit", "0"}, code: ExitError, stderr: []string{"--limit"}},
		{args: []string{"approvals", "list", dd, "--format", "yaml"}, code: ExitError, stderr: []string{"--format"}},
		{args: []string{"approvals", "frob", dd}, code: ExitError, stderr: []string{"unknown subcommand"}},
		{args: []string{"approvals", "list", "--help"}, code: ExitOK, stdout: []string{"--status"}},
	} {
		r.do(t)
	}
	t.Setenv("USER", "")
	run{args: []string{"approvals", "approve", a1.ID, dd}, code: ExitError, stderr: []string{"--as NAME"}}.do(t)
	run{args: []string{"approvals", "show", a1.ID, dd}, code: ExitOK, stdout: []string{"(pending)"}}.do(t)
}
