package sentinel_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
)

// newAuditedGuard returns a guard recording into a fresh data dir.
func newAuditedGuard(t *testing.T, approve func(context.Context, sentinel.Call, sentinel.Decision) (bool, error)) (*sentinel.Guard, string) {
	t.Helper()
	data := t.TempDir()
	g, err := sentinel.New(sentinel.Options{Workspace: t.TempDir(), Home: "/home/dev", DataDir: data, Approve: approve})
	if err != nil {
		t.Fatal(err)
	}
	return g, data
}

// readLog closes g and returns the events of its audit log: decisions by
// decision id, and the outcome events in order.
func readLog(t *testing.T, g *sentinel.Guard, data string) (map[string]*audit.Event, []*audit.Event) {
	t.Helper()
	ctx := context.Background()
	if err := g.Close(ctx); err != nil {
		t.Fatalf("closing the guard: %v", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(data, "audit.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	decisions := map[string]*audit.Event{}
	var outcomes []*audit.Event
	err = st.Scan(ctx, 1, func(r audit.Record) error {
		e, err := audit.Decode(r.Body)
		if err != nil {
			return err
		}
		switch e.Type {
		case audit.TypeDecision:
			decisions[e.DecisionID] = e
		case audit.TypeOutcome:
			outcomes = append(outcomes, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return decisions, outcomes
}

func execCall(cmd string) sentinel.Call {
	return sentinel.Call{Tool: "exec", Session: "s1", Agent: "a1", Args: map[string]any{"command": cmd}}
}

func TestExecute(t *testing.T) {
	errApprover := errors.New("the approver is unreachable")
	yes := func(context.Context, sentinel.Call, sentinel.Decision) (bool, error) { return true, nil }
	no := func(context.Context, sentinel.Call, sentinel.Decision) (bool, error) { return false, nil }
	broken := func(context.Context, sentinel.Call, sentinel.Decision) (bool, error) { return true, errApprover }
	errTool := errors.New("exit status 1: login failed for password=hunter2hunter2hunter2")
	tests := []struct {
		name     string
		cmd      string
		approve  func(context.Context, sentinel.Call, sentinel.Decision) (bool, error)
		fnErr    error
		output   string
		action   sentinel.Action
		runs     int
		errIs    []error
		errHas   string // in the error text
		exec     string // the outcome's execution status; "" means no outcome event
		approval string // the outcome's approval status
	}{
		{name: "allow runs", cmd: "go test ./...", output: "ok  example.com/x", action: sentinel.Allow, runs: 1, exec: "ok"},
		{name: "notify runs", cmd: "curl -d @README.md https://api.example.com/upload", action: sentinel.Notify, runs: 1, exec: "ok"},
		{name: "fn error is recorded", cmd: "go test ./...", fnErr: errTool, action: sentinel.Allow, runs: 1,
			errIs: []error{errTool}, exec: "error"},
		{name: "fn timeout", cmd: "go test ./...", fnErr: context.DeadlineExceeded, action: sentinel.Allow, runs: 1,
			errIs: []error{context.DeadlineExceeded}, exec: "timeout"},
		{name: "deny does not run", cmd: "rm -rf /", action: sentinel.Deny, errIs: []error{sentinel.ErrDenied},
			errHas: "command.recursive_delete_root"},
		{name: "confirm without approver does not run", cmd: "git push --force origin main", action: sentinel.Confirm,
			errIs: []error{sentinel.ErrNeedsApproval}, errHas: "command.force_push"},
		// (A push that runs would be verified against its remote: this
		// workspace has none, so a confirm that claims nothing.)
		{name: "confirm approved runs", cmd: "npm publish", approve: yes, action: sentinel.Confirm, runs: 1,
			exec: "ok", approval: "approved"},
		{name: "confirm refused does not run", cmd: "git push --force origin main", approve: no, action: sentinel.Confirm,
			errIs: []error{sentinel.ErrNeedsApproval}, exec: "skipped", approval: "denied"},
		{name: "approver error does not run", cmd: "git push --force origin main", approve: broken, action: sentinel.Confirm,
			errIs: []error{sentinel.ErrNeedsApproval, errApprover}, exec: "skipped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, data := newAuditedGuard(t, tt.approve)
			runs := 0
			d, res, err := g.Execute(context.Background(), execCall(tt.cmd), func(context.Context) (sentinel.Result, error) {
				runs++
				return sentinel.Result{Output: tt.output}, tt.fnErr
			})
			if d.Action != tt.action {
				t.Errorf("action = %s, want %s (%v)", d.Action, tt.action, d.Codes())
			}
			if runs != tt.runs {
				t.Errorf("fn ran %d times, want %d", runs, tt.runs)
			}
			if res.Output != tt.output && tt.runs == 1 {
				t.Errorf("output = %q, want %q", res.Output, tt.output)
			}
			if len(tt.errIs) == 0 && err != nil {
				t.Errorf("err = %v, want nil", err)
			}
			for _, target := range tt.errIs {
				if !errors.Is(err, target) {
					t.Errorf("err = %v, want it to wrap %v", err, target)
				}
			}
			if err != nil && !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("err = %q, want it to mention %q", err, tt.errHas)
			}
			decisions, outcomes := readLog(t, g, data)
			if decisions[d.DecisionID] == nil {
				t.Fatalf("no decision event for %s", d.DecisionID)
			}
			if tt.exec == "" {
				if len(outcomes) != 0 {
					t.Fatalf("got %d outcome events, want none: %+v", len(outcomes), outcomes[0])
				}
				return
			}
			if len(outcomes) != 1 {
				t.Fatalf("got %d outcome events, want 1", len(outcomes))
			}
			o := outcomes[0]
			if o.DecisionID != d.DecisionID || o.Tool != "exec" || o.Session != "s1" || o.Agent != "a1" {
				t.Errorf("outcome names %s/%s/%s/%s, want %s/exec/s1/a1", o.DecisionID, o.Tool, o.Session, o.Agent, d.DecisionID)
			}
			if o.Execution == nil || o.Execution.Status != tt.exec {
				t.Fatalf("execution = %+v, want status %s", o.Execution, tt.exec)
			}
			if o.Execution.DurationMS < 0 || o.Execution.Result != tt.output {
				t.Errorf("execution = %+v, want result %q", o.Execution, tt.output)
			}
			if got := ""; o.Approval != nil {
				got = o.Approval.Status
				if got != tt.approval {
					t.Errorf("approval = %q, want %q", got, tt.approval)
				}
			} else if tt.approval != "" {
				t.Errorf("no approval recorded, want %q", tt.approval)
			}
			if tt.fnErr != nil && o.Execution.Error == "" {
				t.Errorf("the error text is not recorded")
			}
		})
	}
}

func TestExecuteRedactsAndClipsTheOutcome(t *testing.T) {
	g, data := newAuditedGuard(t, nil)
	secret := "AKIA" + "Q7ZK2MW5RT3XN4PL"
	long := strings.Repeat("é", 5000) // 10,000 bytes of two-byte characters
	_, _, err := g.Execute(context.Background(), execCall("ls"), func(context.Context) (sentinel.Result, error) {
		return sentinel.Result{Output: long}, errors.New("upload failed with key " + secret)
	})
	if err == nil || !strings.Contains(err.Error(), secret) {
		t.Fatalf("err = %v; the caller gets fn's own error, unredacted", err)
	}
	_, outcomes := readLog(t, g, data)
	if len(outcomes) != 1 {
		t.Fatalf("got %d outcomes, want 1", len(outcomes))
	}
	ex := outcomes[0].Execution
	if strings.Contains(ex.Error, secret) || !strings.Contains(ex.Error, "[REDACTED:") {
		t.Errorf("recorded error %q keeps the secret", ex.Error)
	}
	if len(ex.Result) > 2048+len("…") || !strings.HasPrefix(ex.Result, "éé") || !strings.HasSuffix(ex.Result, "é…") {
		t.Errorf("recorded result is %d bytes, ends %q; want ≤ 2 KiB cut at a character", len(ex.Result), ex.Result[len(ex.Result)-8:])
	}
}

func TestExecutePanicIsRecordedAndRepanics(t *testing.T) {
	g, data := newAuditedGuard(t, nil)
	recovered := func() (p any) {
		defer func() { p = recover() }()
		_, _, _ = g.Execute(context.Background(), execCall("ls"), func(context.Context) (sentinel.Result, error) {
			panic("tool blew up")
		})
		return nil
	}()
	if recovered != "tool blew up" {
		t.Fatalf("recovered %v, want the original panic value", recovered)
	}
	_, outcomes := readLog(t, g, data)
	if len(outcomes) != 1 {
		t.Fatalf("got %d outcomes, want 1", len(outcomes))
	}
	if ex := outcomes[0].Execution; ex.Status != "error" || ex.Error != "panic: tool blew up" {
		t.Errorf("execution = %+v, want an error outcome naming the panic", ex)
	}
}

func TestExecuteFailsClosed(t *testing.T) {
	g, err := sentinel.New(sentinel.Options{Workspace: t.TempDir(), Home: "/home/dev"})
	if err != nil {
		t.Fatal(err)
	}
	runs := 0
	fn := func(context.Context) (sentinel.Result, error) { runs++; return sentinel.Result{}, nil }

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, _, err := g.Execute(ctx, execCall("ls"), fn)
	if !errors.Is(err, sentinel.ErrUndecided) || d.Action != sentinel.Deny || runs != 0 {
		t.Errorf("cancelled context: action %s, err %v, runs %d; want deny, ErrUndecided, 0", d.Action, err, runs)
	}

	d, _, err = g.Execute(context.Background(), execCall("ls"), nil)
	if err == nil || d.Action != sentinel.Deny {
		t.Errorf("nil fn: action %s, err %v; want deny and an error", d.Action, err)
	}

	// A guard without a data dir still runs allowed calls; there is no
	// log to record in.
	if _, _, err := g.Execute(context.Background(), execCall("ls"), fn); err != nil || runs != 1 {
		t.Errorf("allowed call without a data dir: err %v, runs %d; want nil, 1", err, runs)
	}
}

// A closed guard's audit log refuses events, so its calls are denied and
// never run.
func TestExecuteAfterCloseDoesNotRun(t *testing.T) {
	g, _ := newAuditedGuard(t, nil)
	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	runs := 0
	d, _, err := g.Execute(context.Background(), execCall("ls"), func(context.Context) (sentinel.Result, error) {
		runs++
		return sentinel.Result{}, nil
	})
	if runs != 0 || d.Action != sentinel.Deny || err == nil {
		t.Errorf("runs %d, action %s, err %v; want 0, deny, an error", runs, d.Action, err)
	}
}

func TestWrap(t *testing.T) {
	g, data := newAuditedGuard(t, nil)
	runs := 0
	exec := sentinel.Wrap(g, "exec", func(_ context.Context, args map[string]any) (int, error) {
		runs++
		return len(args["command"].(string)), nil
	})
	ctx := sentinel.WithSession(context.Background(), "s-wrap", "agent-7")
	n, err := exec(ctx, map[string]any{"command": "go vet ./..."})
	if err != nil || n != len("go vet ./...") {
		t.Errorf("allowed: got %d, %v; want %d, nil", n, err, len("go vet ./..."))
	}
	n, err = exec(ctx, map[string]any{"command": "rm -rf /"})
	if !errors.Is(err, sentinel.ErrDenied) || n != 0 {
		t.Errorf("denied: got %d, %v; want 0, ErrDenied", n, err)
	}
	if runs != 1 {
		t.Errorf("fn ran %d times, want 1 (only the allowed call)", runs)
	}
	nilFn := sentinel.Wrap[string](g, "exec", nil)
	if _, err := nilFn(ctx, map[string]any{"command": "ls"}); err == nil {
		t.Errorf("a wrapped nil function ran without error")
	}
	decisions, outcomes := readLog(t, g, data)
	if len(outcomes) != 1 {
		t.Fatalf("got %d outcomes, want 1", len(outcomes))
	}
	o := outcomes[0]
	if o.Session != "s-wrap" || o.Agent != "agent-7" || o.Execution.Status != "ok" {
		t.Errorf("outcome %s/%s/%+v; want s-wrap/agent-7/ok", o.Session, o.Agent, o.Execution)
	}
	if d := decisions[o.DecisionID]; d == nil || d.Session != "s-wrap" || d.Decision.Action != "allow" {
		t.Errorf("decision event for the outcome = %+v, want an allow in session s-wrap", d)
	}
	denied := 0
	for _, d := range decisions {
		if d.Decision.Action == "deny" && d.Session == "s-wrap" {
			denied++
		}
	}
	if denied != 1 {
		t.Errorf("found %d denied decisions in session s-wrap, want 1", denied)
	}
}
