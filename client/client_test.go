package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel"
	"github.com/sentinel-agent/sentinel/client"
)

func newClient(t *testing.T, url, token string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(url, append([]client.Option{client.WithToken(token)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func execCall(cmd string) client.Call {
	return client.Call{Tool: "exec", Session: "s1", Agent: "agent-1", Args: map[string]any{"command": cmd}}
}

// codeOf returns the code of err, which must be a *client.Error.
func codeOf(t *testing.T, err error) (int, string) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v (%T), want a *client.Error", err, err)
	}
	return ce.Status, ce.Code
}

// assertRefused checks that a failed check still reads as a refusal.
func assertRefused(t *testing.T, d client.Decision, code string) {
	t.Helper()
	if d.Action != client.Deny || !d.Action.Blocks() {
		t.Errorf("action = %s, want deny", d.Action)
	}
	if len(d.Reasons) != 1 || d.Reasons[0].Gate != "client" || d.Reasons[0].Code != code {
		t.Errorf("reasons = %+v, want one client reason %s", d.Reasons, code)
	}
}

func TestCheck(t *testing.T) {
	ts := newTestServer(t)
	c := newClient(t, ts.URL, ts.AgentToken)
	tests := []struct {
		cmd      string
		action   client.Action
		code     string // a reason code the decision must carry; "" for none
		approval bool
	}{
		{cmd: "go test ./...", action: client.Allow},
		{cmd: "rm -rf /", action: client.Deny, code: "command.recursive_delete_root"},
		{cmd: "git push --force origin main", action: client.Confirm, code: "command.force_push", approval: true},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			d, err := c.Check(context.Background(), execCall(tt.cmd))
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.action {
				t.Errorf("action = %s, want %s (%v)", d.Action, tt.action, d.Codes())
			}
			if tt.code != "" && !slices.Contains(d.Codes(), tt.code) {
				t.Errorf("codes = %v, want %s among them", d.Codes(), tt.code)
			}
			if !strings.HasPrefix(d.DecisionID, "d_") || d.PolicyRevision == "" {
				t.Errorf("decision id %q, policy revision %q", d.DecisionID, d.PolicyRevision)
			}
			if got := d.Approval != nil; got != tt.approval {
				t.Fatalf("approval = %+v, want one: %v", d.Approval, tt.approval)
			}
			if tt.approval && (d.Approval.Status != client.ApprovalPending || d.Approval.Wait != "/v1/approvals/"+d.Approval.ID+"/wait") {
				t.Errorf("approval = %+v, want pending with its wait path", d.Approval)
			}
		})
	}
}

// The whole confirm flow: check, wait for the human, check again with
// the approval, exactly once.
func TestApprovalFlow(t *testing.T) {
	ts := newTestServer(t)
	c := newClient(t, ts.URL, ts.AgentToken)
	ctx := context.Background()
	call := execCall("git push --force origin main")
	d, err := c.Check(ctx, call)
	if err != nil || d.Action != client.Confirm || d.Approval == nil {
		t.Fatalf("check: %s %+v %v; want confirm with an approval", d.Action, d.Approval, err)
	}
	id := d.Approval.ID

	got := make(chan client.Approval, 1)
	errc := make(chan error, 1)
	go func() {
		a, err := c.WaitApproval(ctx, id)
		got <- a
		errc <- err
	}()
	if err := ts.approve(id); err != nil {
		t.Fatal(err)
	}
	a, err := <-got, <-errc
	if err != nil || !a.Approved() || a.ID != id || a.DecisionID != d.DecisionID {
		t.Fatalf("wait: %+v, %v; want approval %s approved for %s", a, err, id, d.DecisionID)
	}
	if len(a.Votes) != 1 || !a.Votes[0].Approve || !strings.Contains(a.Votes[0].Approver, "alice") {
		t.Errorf("votes = %+v, want alice's approval", a.Votes)
	}

	d, err = c.CheckWithApproval(ctx, call, id)
	if err != nil || d.Action != client.Allow || d.Codes()[0] != "approval.approved" {
		t.Fatalf("recheck: %s %v %v; want allow by approval.approved", d.Action, d.Codes(), err)
	}
	d, err = c.CheckWithApproval(ctx, call, id)
	if err != nil || d.Action != client.Deny || d.Codes()[0] != "approval.used" {
		t.Errorf("second recheck: %s %v %v; want deny by approval.used", d.Action, d.Codes(), err)
	}
	// An approval answers for its own call only.
	d, err = c.CheckWithApproval(ctx, execCall("git push --force origin release"), id)
	if err != nil || d.Action == client.Allow {
		t.Errorf("other call with the approval: %s %v %v; want no allow", d.Action, d.Codes(), err)
	}
}

func TestWaitApprovalEndsWithContext(t *testing.T) {
	ts := newTestServer(t)
	c := newClient(t, ts.URL, ts.AgentToken)
	d, err := c.Check(context.Background(), execCall("sudo reboot"))
	if err != nil || d.Approval == nil {
		t.Fatalf("check: %+v %v; want an approval", d, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	a, err := c.WaitApproval(ctx, d.Approval.ID)
	if _, code := codeOf(t, err); code != client.CodeTimeout {
		t.Errorf("code = %s, want %s", code, client.CodeTimeout)
	}
	if a.Approved() {
		t.Errorf("an undecided approval reads as approved: %+v", a)
	}
}

func TestOutcome(t *testing.T) {
	ts := newTestServer(t)
	c := newClient(t, ts.URL, ts.AgentToken)
	ctx := context.Background()
	d, err := c.Check(ctx, execCall("go build ./..."))
	if err != nil {
		t.Fatal(err)
	}
	secret := "ghp_" + "Xk2m9Qw4Rt7Yp1Zs8Lv3Nb6Hc5Jd0Fg2Ae4W"
	err = c.Outcome(ctx, client.Outcome{DecisionID: d.DecisionID, Tool: "exec", Session: "s1", Agent: "agent-1",
		Status: client.OutcomeError, Duration: 1500 * time.Millisecond, Retries: 2, Error: "clone failed with token " + secret})
	if err != nil {
		t.Fatal(err)
	}
	evs := ts.events(t, "outcome")
	if len(evs) != 1 {
		t.Fatalf("got %d outcome events, want 1", len(evs))
	}
	e := evs[0]
	if e.DecisionID != d.DecisionID || e.Session != "s1" || e.Tool != "exec" || e.Execution == nil {
		t.Fatalf("outcome event = %+v, want one naming %s", e, d.DecisionID)
	}
	ex := e.Execution
	if ex.Status != "error" || ex.DurationMS != 1500 || ex.Retries != 2 {
		t.Errorf("execution = %+v, want error, 1500 ms, 2 retries", ex)
	}
	if strings.Contains(ex.Error, secret) || !strings.Contains(ex.Error, "[REDACTED:") {
		t.Errorf("recorded error %q keeps the token", ex.Error)
	}
}

func TestServerErrorCodes(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	agent := newClient(t, ts.URL, ts.AgentToken)
	tests := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"no token", func() error {
			_, err := newClient(t, ts.URL, "").Check(ctx, execCall("ls"))
			return err
		}, 401, "auth.missing_token"},
		{"wrong token", func() error {
			_, err := newClient(t, ts.URL, "not-a-token").Check(ctx, execCall("ls"))
			return err
		}, 401, "auth.invalid_token"},
		{"wrong scope", func() error {
			_, err := newClient(t, ts.URL, ts.OperatorToken).Check(ctx, execCall("ls"))
			return err
		}, 403, "auth.forbidden_scope"},
		{"no tool", func() error {
			_, err := agent.Check(ctx, client.Call{Args: map[string]any{"command": "ls"}})
			return err
		}, 400, "request.missing_field"},
		{"outcome without decision", func() error {
			return agent.Outcome(ctx, client.Outcome{Status: client.OutcomeOK})
		}, 400, "request.missing_field"},
		{"outcome with a bad status", func() error {
			return agent.Outcome(ctx, client.Outcome{DecisionID: "d_x", Status: "fine"})
		}, 400, "request.invalid_field"},
		{"unknown approval", func() error {
			_, err := agent.WaitApproval(ctx, "ap_00000000000000000000")
			return err
		}, 404, "approval.not_found"},
		{"malformed approval id", func() error {
			_, err := agent.WaitApproval(ctx, "../audit")
			return err
		}, 0, client.CodeInvalidRequest},
		{"arguments that are not JSON", func() error {
			_, err := agent.Check(ctx, client.Call{Tool: "exec", Args: map[string]any{"command": func() {}}})
			return err
		}, 0, client.CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			status, code := codeOf(t, err)
			if status != tt.status || code != tt.code {
				t.Errorf("got %d %s (%v), want %d %s", status, code, err, tt.status, tt.code)
			}
			if code != client.CodeInvalidRequest && !strings.Contains(err.Error(), "request ") {
				t.Errorf("error %q does not carry the server's request id", err)
			}
		})
	}
	// A failed check is a refusal too.
	d, err := newClient(t, ts.URL, "").Check(ctx, execCall("ls"))
	if err == nil {
		t.Fatal("check without a token succeeded")
	}
	assertRefused(t, d, "auth.missing_token")
}

// fakeServer answers every request with handler.
func fakeServer(t *testing.T, handler http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(handler)
	t.Cleanup(s.Close)
	return s.URL
}

func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func TestCheckFailsClosed(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	refusedURL := closed.URL
	closed.Close()
	release := make(chan struct{})
	hangURL := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	allowURL := fakeServer(t, answer(200, `{"action":"allow","decision_id":"d_1"}`))
	redirect := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, allowURL+"/v1/check", http.StatusTemporaryRedirect)
	})
	tests := []struct {
		name   string
		url    string
		status int
		code   string
	}{
		{"redirect to another server", redirect, 307, client.CodeInvalidResponse},
		{"server error", fakeServer(t, answer(500, `{"error":{"code":"internal","message":"an internal error occurred"}}`)), 500, "internal"},
		{"server error without a body", fakeServer(t, answer(500, `oops`)), 500, client.CodeInvalidResponse},
		{"proxy page", fakeServer(t, answer(502, `<html>Bad Gateway</html>`)), 502, client.CodeInvalidResponse},
		{"garbage", fakeServer(t, answer(200, `<html>hello</html>`)), 200, client.CodeInvalidResponse},
		{"empty answer", fakeServer(t, answer(200, ``)), 200, client.CodeInvalidResponse},
		{"no action", fakeServer(t, answer(200, `{"decision_id":"d_1","reasons":[]}`)), 200, client.CodeInvalidResponse},
		{"null action", fakeServer(t, answer(200, `{"action":null,"decision_id":"d_1"}`)), 200, client.CodeInvalidResponse},
		{"unknown action", fakeServer(t, answer(200, `{"action":"maybe","decision_id":"d_1"}`)), 200, client.CodeInvalidResponse},
		{"no decision id", fakeServer(t, answer(200, `{"action":"allow"}`)), 200, client.CodeInvalidResponse},
		{"trailing data", fakeServer(t, answer(200, `{"action":"allow","decision_id":"d_1"} {"action":"allow"}`)), 200, client.CodeInvalidResponse},
		{"too large", fakeServer(t, answer(200, `{"action":"allow","decision_id":"d_1","policy_revision":"`+strings.Repeat("x", 2<<20)+`"}`)), 200, client.CodeInvalidResponse},
		{"connection refused", refusedURL, 0, client.CodeUnavailable},
		{"timeout", hangURL, 0, client.CodeTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.url, "tok", client.WithTimeout(100*time.Millisecond))
			d, err := c.Check(context.Background(), execCall("ls"))
			status, code := codeOf(t, err)
			if status != tt.status || code != tt.code {
				t.Errorf("got %d %s (%v), want %d %s", status, code, err, tt.status, tt.code)
			}
			assertRefused(t, d, tt.code)
		})
	}
	// The well-formed allow the fakes imitate is accepted, so the cases
	// above fail for what they break, not for their shape.
	c := newClient(t, fakeServer(t, answer(200, `{"action":"allow","decision_id":"d_1","reasons":[],"risk":{"score":0.5}}`)), "tok")
	if d, err := c.Check(context.Background(), execCall("ls")); err != nil || d.Action != client.Allow || d.Risk.Score != 0.5 {
		t.Errorf("well-formed allow: %+v, %v", d, err)
	}
}

func TestCanceledContext(t *testing.T) {
	c := newClient(t, fakeServer(t, answer(200, `{"action":"allow","decision_id":"d_1"}`)), "tok")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := c.Check(ctx, execCall("ls"))
	if _, code := codeOf(t, err); code != client.CodeCanceled {
		t.Errorf("code = %s, want %s", code, client.CodeCanceled)
	}
	assertRefused(t, d, client.CodeCanceled)
}

func TestOutcomeAndWaitFailClosed(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		body string
		call func(*client.Client) error
	}{
		{"outcome not acknowledged", `{}`, func(c *client.Client) error {
			return c.Outcome(ctx, client.Outcome{DecisionID: "d_1", Status: client.OutcomeOK})
		}},
		{"outcome acknowledged as false", `{"recorded":false}`, func(c *client.Client) error {
			return c.Outcome(ctx, client.Outcome{DecisionID: "d_1", Status: client.OutcomeOK})
		}},
		{"wait answers another approval", `{"id":"ap_2","status":"approved"}`, func(c *client.Client) error {
			_, err := c.WaitApproval(ctx, "ap_1")
			return err
		}},
		{"wait answers an unknown status", `{"id":"ap_1","status":"probably"}`, func(c *client.Client) error {
			_, err := c.WaitApproval(ctx, "ap_1")
			return err
		}},
		{"wait answers no status", `{"id":"ap_1"}`, func(c *client.Client) error {
			_, err := c.WaitApproval(ctx, "ap_1")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, fakeServer(t, answer(200, tt.body)), "tok")
			if _, code := codeOf(t, tt.call(c)); code != client.CodeInvalidResponse {
				t.Errorf("code = %s, want %s", code, client.CodeInvalidResponse)
			}
		})
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts []client.Option
		ok   bool
	}{
		{url: "http://127.0.0.1:3300", ok: true},
		{url: "https://sentinel.example.com/prefix/", ok: true},
		{url: "127.0.0.1:3300"},
		{url: "ftp://example.com"},
		{url: "http://"},
		{url: "http://user:pw@example.com"},
		{url: "http://example.com/?x=1"},
		{url: "http://example.com", opts: []client.Option{client.WithToken("has space")}},
		{url: "http://example.com", opts: []client.Option{client.WithToken(strings.Repeat("t", 513))}},
		{url: "http://example.com", opts: []client.Option{client.WithHTTPClient(nil)}},
		{url: "http://example.com", opts: []client.Option{client.WithTimeout(-time.Second)}},
	} {
		_, err := client.New(tc.url, tc.opts...)
		if (err == nil) != tc.ok {
			t.Errorf("New(%q): err = %v, want ok %v", tc.url, err, tc.ok)
		}
	}
}

// A base URL with a path prefix (a reverse proxy) keeps the prefix.
func TestPathPrefix(t *testing.T) {
	var got string
	url := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Path + " " + r.Header.Get("Authorization")
		answer(200, `{"action":"allow","decision_id":"d_1"}`)(w, r)
	})
	c := newClient(t, url+"/sentinel/", "tok")
	if _, err := c.Check(context.Background(), execCall("ls")); err != nil {
		t.Fatal(err)
	}
	if got != "/sentinel/v1/check Bearer tok" {
		t.Errorf("request = %q, want /sentinel/v1/check with the bearer token", got)
	}
}

// The client shares the embedded API's vocabulary: a sentinel.Call
// converts, and the decision is a sentinel.Decision.
func TestSharedTypes(t *testing.T) {
	sc := sentinel.Call{Tool: "exec", Args: map[string]any{"command": "ls"}, Session: "s"}
	cc := client.Call(sc)
	var d client.Decision
	var sd sentinel.Decision = d.Decision
	if cc.Tool != "exec" || cc.Session != "s" || sd.Action != sentinel.Allow || client.Deny != sentinel.Deny {
		t.Errorf("conversion lost fields: %+v", cc)
	}
}
