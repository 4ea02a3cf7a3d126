package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/request"
	"github.com/sentinel-agent/sentinel/internal/snapshot"
	"github.com/sentinel-agent/sentinel/internal/verify"
)

type memRecorder struct {
	mu  sync.Mutex
	evs []audit.Event
}

func (m *memRecorder) Record(_ context.Context, ev audit.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.evs = append(m.evs, ev)
	return nil
}

func newPipeline(t *testing.T) (*Pipeline, *memRecorder, string) {
	t.Helper()
	st, err := snapshot.Open(filepath.Join(t.TempDir(), "snapshots"), snapshot.Options{NoGit: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := &memRecorder{}
	ws, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Snapshots: st, Recorder: rec}), rec, ws
}

func TestAtRisk(t *testing.T) {
	ws := "/w"
	c := &request.ToolCall{Tool: "Write", Kind: request.KindFileWrite, Args: map[string]any{"path": "a.txt"}}
	a := &analysis.Analysis{Paths: []analysis.PathRef{{Path: "/w/b", Op: analysis.OpDelete}, {Path: "/w/c", Op: analysis.OpRead},
		{Path: "/w/*.log", Op: analysis.OpDelete}, {Path: "/w/d", Op: analysis.OpWrite, Dynamic: true}, {Path: "e", Op: analysis.OpChmod}}}
	got := AtRisk(c, a, ws)
	if strings.Join(got, ",") != "/w/a.txt,/w/b,/w/e" {
		t.Errorf("AtRisk = %v", got)
	}
}

// The seed's hallucination: the agent says it wrote a file, and did not.
func TestClaimedWriteThatDidNotHappenFails(t *testing.T) {
	p, rec, ws := newPipeline(t)
	ctx := context.Background()
	c := &request.ToolCall{Tool: "Write", Kind: request.KindFileWrite, Args: map[string]any{"path": filepath.Join(ws, "report.md")}}
	d := decision.Decision{DecisionID: "d_write", Action: decision.Allow}
	snap, err := p.Pre(ctx, d.DecisionID, ws, c, nil)
	if err != nil || snap == nil {
		t.Fatalf("Pre: %v %v", snap, err)
	}
	// The tool "ran" and wrote nothing.
	res, err := p.Post(ctx, d, audit.Event{Tool: "Write"}, snap, ClaimFor(c, nil, ws, "", true, snap))
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := res.Verify.Check("exists")
	if res.Verify.Status != verify.Fail || ch.Status != verify.Fail {
		t.Errorf("verify %s, exists %+v; want FAIL", res.Verify.Status, ch)
	}
	if len(rec.evs) != 1 || rec.evs[0].Verify == nil || rec.evs[0].Verify.Status != "fail" || rec.evs[0].DecisionID != "d_write" {
		t.Errorf("audit: %+v", rec.evs)
	}
	if res.Rollback != nil {
		t.Error("a low-risk call was rolled back")
	}
	// The same claim when the file was written passes.
	if err := os.WriteFile(filepath.Join(ws, "report.md"), []byte("# ok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, _ = p.Post(ctx, d, audit.Event{}, snap, ClaimFor(c, nil, ws, "", true, snap))
	if res.Verify.Status == verify.Fail {
		t.Errorf("after the write: %+v", res.Verify)
	}
}

// A high-risk call that fails verification is rolled back, byte for byte.
func TestFailedHighRiskCallRollsBack(t *testing.T) {
	p, rec, ws := newPipeline(t)
	ctx := context.Background()
	cfg := filepath.Join(ws, "config.json")
	before := []byte("{\n  \"replicas\": 3\n}\n")
	if err := os.WriteFile(cfg, before, 0o640); err != nil {
		t.Fatal(err)
	}
	c := &request.ToolCall{Tool: "Edit", Kind: request.KindFileWrite, Args: map[string]any{"path": cfg}}
	d := decision.Decision{DecisionID: "d_edit", Action: decision.Confirm, Risk: decision.Risk{Score: 8}}
	snap, err := p.Pre(ctx, d.DecisionID, ws, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The edit breaks the file.
	if err := os.WriteFile(cfg, []byte("{\n  \"replicas\": 3,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := p.Post(ctx, d, audit.Event{Tool: "Edit"}, snap, ClaimFor(c, nil, ws, "", true, snap))
	if err != nil {
		t.Fatal(err)
	}
	if res.Verify.Status != verify.Fail || res.Rollback == nil || len(res.Rollback.Restored) == 0 {
		t.Fatalf("verify %s rollback %+v", res.Verify.Status, res.Rollback)
	}
	got, err := os.ReadFile(cfg)
	if err != nil || !bytes.Equal(got, before) {
		t.Errorf("after rollback: %q, %v; want the original bytes", got, err)
	}
	if st, _ := os.Stat(cfg); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v after rollback, want 0640", st.Mode().Perm())
	}
	if ev := rec.evs[len(rec.evs)-1]; ev.Rollback == nil || ev.Rollback.Status != "done" || !slices.Contains(ev.Rollback.Files, "config.json") {
		t.Errorf("the audit event lacks the rollback: %+v", ev.Rollback)
	}
}

func TestManualRollback(t *testing.T) {
	p, rec, ws := newPipeline(t)
	ctx := context.Background()
	f := filepath.Join(ws, "notes.txt")
	if err := os.WriteFile(f, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &request.ToolCall{Tool: "Bash", Kind: request.KindExec}
	a := &analysis.Analysis{Paths: []analysis.PathRef{{Path: f, Op: analysis.OpDelete, Command: "rm"}}}
	if _, err := p.Pre(ctx, "d_rm", ws, c, a); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f); err != nil {
		t.Fatal(err)
	}
	rep, err := p.Rollback(ctx, "d_rm", true, "alice")
	if err != nil || len(rep.Restored) != 1 || len(rec.evs) != 0 {
		t.Fatalf("dry run: %+v %v (%d events)", rep, err, len(rec.evs))
	}
	if _, err := os.Stat(f); err == nil {
		t.Fatal("the dry run restored the file")
	}
	if _, err := p.Rollback(ctx, "d_rm", false, "alice"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(f); err != nil || string(b) != "keep me" {
		t.Errorf("after rollback: %q %v", b, err)
	}
	if len(rec.evs) != 1 || rec.evs[0].Rollback == nil || rec.evs[0].Agent != "alice" {
		t.Errorf("audit: %+v", rec.evs)
	}
	if _, err := p.Rollback(ctx, "d_unknown", false, "alice"); err == nil || !strings.Contains(err.Error(), "rollback") {
		t.Errorf("unknown decision: %v", err)
	}
}

func TestClaimFor(t *testing.T) {
	ws := "/w"
	read := &request.ToolCall{Tool: "Read", Kind: request.KindFileRead}
	if cl := ClaimFor(read, nil, ws, "", true, nil); !cl.ExpectResult {
		t.Errorf("a read expects output: %+v", cl)
	}
	del := &request.ToolCall{Tool: "delete_file", Kind: request.KindFileDelete, Args: map[string]any{"path": "x"}}
	if cl := ClaimFor(del, nil, ws, "", true, nil); len(cl.Deleted) != 1 || cl.Deleted[0] != "/w/x" {
		t.Errorf("delete: %+v", cl)
	}
	rm := &request.ToolCall{Tool: "Bash", Kind: request.KindExec}
	a := &analysis.Analysis{Paths: []analysis.PathRef{{Path: "/w/y", Op: analysis.OpDelete, Command: "rm"}}}
	if cl := ClaimFor(rm, a, ws, "", true, nil); len(cl.Deleted) != 1 {
		t.Errorf("rm that succeeded: %+v", cl)
	}
	if cl := ClaimFor(rm, a, ws, "", false, nil); len(cl.Deleted) != 0 {
		t.Errorf("rm that failed claims nothing: %+v", cl)
	}
}

func TestClaimForPushAndPublish(t *testing.T) {
	ws := t.TempDir()
	if err := os.WriteFile(filepath.Join(ws, "package.json"), []byte(`{"name":"@acme/tool","version":"1.2.3"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	exec := &request.ToolCall{Tool: "Bash", Kind: request.KindExec}
	cmd := func(name string, args ...string) *analysis.Analysis {
		return &analysis.Analysis{Commands: []analysis.Command{{Name: name, Args: args}}}
	}
	cl := ClaimFor(exec, cmd("git", "push", "-u", "origin", "feature/x"), ws, "", true, nil)
	if cl.Push == nil || cl.Push.Remote != "origin" || cl.Push.Branch != "feature/x" || cl.Push.Dir != ws {
		t.Errorf("git push: %+v", cl.Push)
	}
	if cl := ClaimFor(exec, cmd("git", "push"), ws, "", true, nil); cl.Push == nil || cl.Push.Remote != "" {
		t.Errorf("bare git push: %+v", cl.Push)
	}
	for _, args := range [][]string{{"push", "origin", "a:b"}, {"push", "--tags"}, {"push", "origin", "--delete", "x"}} {
		if cl := ClaimFor(exec, cmd("git", args...), ws, "", true, nil); cl.Push != nil {
			t.Errorf("git %v claims %+v; refspecs, tags and deletions are not checked", args, cl.Push)
		}
	}
	if cl := ClaimFor(exec, cmd("git", "push"), ws, "", false, nil); cl.Push != nil {
		t.Error("a push that failed claims a push")
	}
	cl = ClaimFor(exec, cmd("npm", "publish", "--registry", "http://127.0.0.1:4873"), ws, "", true, nil)
	if cl.Publish == nil || cl.Publish.Package != "@acme/tool" || cl.Publish.Version != "1.2.3" || cl.Publish.Registry != "http://127.0.0.1:4873" {
		t.Errorf("npm publish: %+v", cl.Publish)
	}
	if cl := ClaimFor(exec, cmd("npm", "publish", "pkg.tgz"), ws, "", true, nil); cl.Publish != nil {
		t.Errorf("a tarball publish: %+v", cl.Publish)
	}
}
