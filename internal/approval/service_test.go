package approval_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sentinel-agent/sentinel/internal/approval"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
)

// clock is a fake clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// openStore opens a SQLite store at path, closed when t ends.
func openStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// service returns a Service on a fresh SQLite store with the clock c.
func service(t *testing.T, c *clock, opts approval.Options) (*approval.Service, *sqlite.Store) {
	t.Helper()
	st := openStore(t, filepath.Join(t.TempDir(), "sentinel.db"))
	opts.Now = c.Now
	return approval.New(st, opts), st
}

func hash(t *testing.T, session string, args map[string]any) string {
	t.Helper()
	h, err := approval.CallHash("exec", session, "agent", args)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func req(t *testing.T, command string) approval.Request {
	return approval.Request{DecisionID: "d_1", CallHash: hash(t, "s1", map[string]any{"command": command}),
		Tool: "exec", Session: "s1", Agent: "agent", Summary: "exec: " + command, Shape: "exec: git push",
		Reasons: []decision.Reason{{Gate: "command", Code: "command.push", Message: "pushes"}}, Risk: 1.5}
}

func request(t *testing.T, s *approval.Service, r approval.Request) approval.Approval {
	t.Helper()
	a, err := s.Request(context.Background(), r)
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	return a
}

func vote(who string, approve bool) approval.Vote {
	return approval.Vote{Approver: who, Approve: approve}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) || approval.Code(err) != approval.Code(want) {
		t.Fatalf("%s: error %v (code %q), want %v (code %q)", what, err, approval.Code(err), want, approval.Code(want))
	}
}

func TestRequest(t *testing.T) {
	c := newClock()
	s, _ := service(t, c, approval.Options{})
	a := request(t, s, req(t, "git push"))
	if !approval.ValidID(a.ID) || a.Status != approval.Pending || a.Required != 1 || a.Version != 1 ||
		!a.CreatedAt.Equal(c.Now()) || !a.ExpiresAt.Equal(c.Now().Add(approval.DefaultTTL)) {
		t.Fatalf("Request = %+v", a)
	}
	c.Advance(time.Minute)
	if again := request(t, s, req(t, "git push")); again.ID != a.ID {
		t.Fatalf("a retried call opened %s; want the pending %s", again.ID, a.ID)
	}
	other := request(t, s, req(t, "git push --tags"))
	if other.ID == a.ID {
		t.Fatal("another call got the same approval")
	}

	// The policy now calls the same call critical: the pending approval
	// becomes critical rather than letting one approver through.
	crit := req(t, "git push")
	crit.Critical = true
	up := request(t, s, crit)
	if up.ID != a.ID || !up.Critical || up.Required != 2 {
		t.Fatalf("a critical request for a pending call = %+v; want %s made critical", up, a.ID)
	}
	if _, err := s.Decide(context.Background(), a.ID, vote("alice", false), 0); err != nil {
		t.Fatal(err)
	}
	if fresh := request(t, s, req(t, "git push")); fresh.ID == a.ID || fresh.Status != approval.Pending {
		t.Fatalf("after a denial the call opened %+v; want a new pending approval", fresh)
	}

	// An expired pending approval is marked and replaced.
	old := request(t, s, req(t, "make deploy"))
	c.Advance(approval.DefaultTTL)
	if fresh := request(t, s, req(t, "make deploy")); fresh.ID == old.ID {
		t.Fatal("an expired approval was handed out again")
	}
	if got, _ := s.Get(context.Background(), old.ID); got.Status != approval.Expired {
		t.Fatalf("the replaced approval is %s, want expired", got.Status)
	}
}

func TestRequestBounds(t *testing.T) {
	c := newClock()
	s, _ := service(t, c, approval.Options{})
	long := req(t, "x")
	long.Summary = strings.Repeat("é", 3000) // 6000 bytes
	for range 40 {
		long.Reasons = append(long.Reasons, decision.Reason{Gate: "g", Code: "c", Message: strings.Repeat("m", 5000)})
	}
	a := request(t, s, long)
	if len(a.Summary) > 4096 || !utf8.ValidString(a.Summary) || !strings.HasSuffix(a.Summary, "…") {
		t.Errorf("summary kept as %d bytes (valid UTF-8: %t)", len(a.Summary), utf8.ValidString(a.Summary))
	}
	if len(a.Reasons) != 32 || len(a.Reasons[1].Message) > 1024 {
		t.Errorf("kept %d reasons, the second %d bytes long", len(a.Reasons), len(a.Reasons[1].Message))
	}
	for name, mod := range map[string]func(*approval.Request){
		"no tool":         func(r *approval.Request) { r.Tool = "" },
		"bad call hash":   func(r *approval.Request) { r.CallHash = "1234" },
		"long session":    func(r *approval.Request) { r.Session = strings.Repeat("s", 300) },
		"control in tool": func(r *approval.Request) { r.Tool = "ex\nec" },
		"long shape":      func(r *approval.Request) { r.Shape = strings.Repeat("x", 2000) },
		"negative risk":   func(r *approval.Request) { r.Risk = -1 },
	} {
		r := req(t, name)
		mod(&r)
		_, err := s.Request(context.Background(), r)
		wantErr(t, name, err, approval.ErrInvalid)
	}
}

func TestRequestMaxPending(t *testing.T) {
	c := newClock()
	s, _ := service(t, c, approval.Options{MaxPending: 2})
	request(t, s, req(t, "a"))
	request(t, s, req(t, "b"))
	_, err := s.Request(context.Background(), req(t, "c"))
	wantErr(t, "a third pending approval", err, approval.ErrTooMany)
	// A retry of a pending call is no new approval.
	request(t, s, req(t, "a"))
	c.Advance(approval.DefaultTTL + time.Second)
	request(t, s, req(t, "c")) // the two expired ones were marked and make room
	if n, err := s.CountPending(context.Background()); err != nil || n != 1 {
		t.Fatalf("CountPending = %d, %v; want 1", n, err)
	}
}

func TestDecide(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := service(t, c, approval.Options{})

	a := request(t, s, req(t, "approve me"))
	got, err := s.Decide(ctx, a.ID, approval.Vote{Approver: "  alice ", Approve: true, Reason: "fine", Time: time.Unix(1, 0)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != approval.Approved || got.Version != 2 || got.DecidedAt == nil || !got.DecidedAt.Equal(c.Now()) ||
		len(got.Votes) != 1 || got.Votes[0].Approver != "alice" || !got.Votes[0].Time.Equal(c.Now()) {
		t.Fatalf("after one approval: %+v", got)
	}
	got, err = s.Decide(ctx, a.ID, vote("bob", false), 0)
	wantErr(t, "a vote on an approved approval", err, approval.ErrDecided)
	if got.Status != approval.Approved {
		t.Fatalf("ErrDecided came with %+v; want the approval as it stands", got)
	}

	d := request(t, s, req(t, "deny me"))
	if got, err := s.Decide(ctx, d.ID, vote("bob", false), 0); err != nil || got.Status != approval.Denied {
		t.Fatalf("a deny = %+v, %v", got, err)
	}

	crit := req(t, "critical")
	crit.Critical = true
	k := request(t, s, crit)
	if got, err := s.Decide(ctx, k.ID, vote("Alice", true), 0); err != nil || got.Status != approval.Pending {
		t.Fatalf("the first of two approvers = %+v, %v; want still pending", got, err)
	}
	_, err = s.Decide(ctx, k.ID, vote("alice", true), 0)
	wantErr(t, "the same approver in other case", err, approval.ErrSameApprover)
	if got, err := s.Decide(ctx, k.ID, vote("carol", true), 0); err != nil || got.Status != approval.Approved || len(got.Votes) != 2 {
		t.Fatalf("the second approver = %+v, %v; want approved with two votes", got, err)
	}

	// A deny after one approval of two denies.
	k2 := request(t, s, approval.Request{CallHash: hash(t, "s1", map[string]any{"n": 2}), Tool: "exec", Session: "s1", Critical: true})
	if _, err := s.Decide(ctx, k2.ID, vote("alice", true), 0); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Decide(ctx, k2.ID, vote("bob", false), 0); err != nil || got.Status != approval.Denied {
		t.Fatalf("a deny after one approval = %+v, %v", got, err)
	}

	_, err = s.Decide(ctx, "ap_ffffffffffffffffffff", vote("alice", true), 0)
	wantErr(t, "an unknown approval", err, approval.ErrNotFound)
	p := request(t, s, req(t, "bad votes"))
	for name, v := range map[string]approval.Vote{
		"no approver":        vote(" ", true),
		"long approver":      vote(strings.Repeat("a", 201), true),
		"control characters": vote("ali\x1bce", true),
		"long reason":        {Approver: "alice", Approve: true, Reason: strings.Repeat("r", 2001)},
		"reason not UTF-8":   {Approver: "alice", Approve: true, Reason: "\xff"},
	} {
		_, err := s.Decide(ctx, p.ID, v, 0)
		wantErr(t, name, err, approval.ErrInvalid)
	}
	if got, _ := s.Get(ctx, p.ID); got.Status != approval.Pending || got.Version != 1 {
		t.Fatalf("refused votes changed the approval: %+v", got)
	}
}

func TestExpiry(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := service(t, c, approval.Options{TTL: time.Minute})
	a := request(t, s, req(t, "late"))
	c.Advance(time.Minute) // exactly at ExpiresAt counts as expired

	_, err := s.Authorize(ctx, a.ID, a.CallHash)
	wantErr(t, "Authorize on an expired pending approval", err, approval.ErrExpired)
	got, err := s.Decide(ctx, a.ID, vote("alice", true), 0)
	wantErr(t, "a vote after expiry", err, approval.ErrDecided) // Authorize marked it already
	if got.Status != approval.Expired || got.DecidedAt == nil || !got.DecidedAt.Equal(a.ExpiresAt) {
		t.Fatalf("after expiry: %+v", got)
	}

	b := request(t, s, req(t, "later"))
	c.Advance(2 * time.Minute)
	got, err = s.Decide(ctx, b.ID, vote("alice", true), 0)
	wantErr(t, "the first vote after expiry", err, approval.ErrExpired)
	if got.Status != approval.Expired || len(got.Votes) != 0 {
		t.Fatalf("an expired approval took a vote: %+v", got)
	}
	if w, err := s.Wait(ctx, b.ID); err != nil || w.Status != approval.Expired {
		t.Fatalf("Wait on an expired approval = %+v, %v", w, err)
	}

	// Approved in time, presented too late: still refused.
	d := request(t, s, req(t, "approved late"))
	if _, err := s.Decide(ctx, d.ID, vote("alice", true), 0); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	_, err = s.Authorize(ctx, d.ID, d.CallHash)
	wantErr(t, "Authorize on an approval past its expiry", err, approval.ErrExpired)

	e := request(t, s, req(t, "sweep"))
	c.Advance(time.Hour)
	if n, err := s.ExpireDue(ctx); err != nil || n != 1 {
		t.Fatalf("ExpireDue = %d, %v; want 1", n, err)
	}
	if got, _ := s.Get(ctx, e.ID); got.Status != approval.Expired {
		t.Fatalf("after ExpireDue: %s", got.Status)
	}
}

func TestAuthorize(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := service(t, c, approval.Options{})
	a := request(t, s, req(t, "git push"))
	_, err := s.Authorize(ctx, a.ID, a.CallHash)
	wantErr(t, "a pending approval", err, approval.ErrPending)
	if _, err := s.Decide(ctx, a.ID, vote("alice", true), 0); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]string{
		"other arguments": hash(t, "s1", map[string]any{"command": "git push --force"}),
		"other session":   hash(t, "s2", map[string]any{"command": "git push"}),
		"empty":           "",
	} {
		_, err := s.Authorize(ctx, a.ID, h)
		wantErr(t, name, err, approval.ErrMismatch)
	}
	got, err := s.Authorize(ctx, a.ID, a.CallHash)
	if err != nil || !got.Used || got.Version != 3 {
		t.Fatalf("Authorize = %+v, %v; want used at version 3", got, err)
	}
	_, err = s.Authorize(ctx, a.ID, a.CallHash)
	wantErr(t, "a second Authorize", err, approval.ErrUsed)

	d := request(t, s, req(t, "rm"))
	if _, err := s.Decide(ctx, d.ID, vote("bob", false), 0); err != nil {
		t.Fatal(err)
	}
	_, err = s.Authorize(ctx, d.ID, d.CallHash)
	wantErr(t, "a denied approval", err, approval.ErrDenied)
	_, err = s.Authorize(ctx, "ap_00000000000000000000", d.CallHash)
	wantErr(t, "an unknown approval", err, approval.ErrNotFound)
}

// waiting blocks until a Wait on id is blocked on s, or a minute has
// passed (then the Wait is broken, and the test reports it).
func waiting(s *approval.Service, id string) {
	deadline := time.Now().Add(time.Minute)
	for approval.Waiters(s, id) == 0 && time.Now().Before(deadline) {
		runtime.Gosched()
	}
}

func TestWaitWakesOnLocalDecision(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newClock()
	// Polling once an hour: only the wake-up can end the Wait in time.
	s, _ := service(t, c, approval.Options{Poll: time.Hour, TTL: 2 * time.Hour})
	a := request(t, s, req(t, "git push"))
	type result struct {
		a   approval.Approval
		err error
	}
	done := make(chan result, 1)
	go func() {
		got, err := s.Wait(ctx, a.ID)
		done <- result{got, err}
	}()
	waiting(s, a.ID)
	if _, err := s.Decide(ctx, a.ID, vote("alice", true), 0); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.a.Status != approval.Approved {
		t.Fatalf("Wait = %+v, %v; want the approval", r.a, r.err)
	}
	if n := approval.Waiters(s, a.ID); n != 0 {
		t.Fatalf("%d waiters left behind", n)
	}
}

func TestWaitSeesOtherReplica(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newClock()
	path := filepath.Join(t.TempDir(), "sentinel.db")
	r1 := approval.New(openStore(t, path), approval.Options{Now: c.Now, Poll: 5 * time.Millisecond})
	r2 := approval.New(openStore(t, path), approval.Options{Now: c.Now})
	a := request(t, r1, req(t, "git push"))
	done := make(chan approval.Approval, 1)
	go func() {
		got, err := r1.Wait(ctx, a.ID)
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
		done <- got
	}()
	waiting(r1, a.ID)
	if _, err := r2.Decide(ctx, a.ID, vote("bob", false), 0); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got.Status != approval.Denied {
		t.Fatalf("Wait = %+v; want the denial made on the other replica", got)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	c := newClock()
	s, _ := service(t, c, approval.Options{Poll: time.Millisecond})
	a := request(t, s, req(t, "git push"))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waiting(s, a.ID)
		cancel()
	}()
	got, err := s.Wait(ctx, a.ID)
	if !errors.Is(err, context.Canceled) || got.ID != a.ID || got.Status != approval.Pending {
		t.Fatalf("Wait after cancel = %+v, %v; want the pending approval and context.Canceled", got, err)
	}
	_, err = s.Wait(context.Background(), "ap_00000000000000000000")
	wantErr(t, "Wait on an unknown approval", err, approval.ErrNotFound)
}

func TestGrants(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := service(t, c, approval.Options{MaxGrant: time.Hour})
	a := request(t, s, req(t, "git push origin main"))
	if _, ok, _ := s.Granted(ctx, "s1", "exec", "exec: git push"); ok {
		t.Fatal("a grant before anyone granted")
	}
	_, err := s.Decide(ctx, a.ID, vote("alice", false), time.Hour)
	wantErr(t, "a deny with a grant", err, approval.ErrInvalid)
	_, err = s.Decide(ctx, a.ID, vote("alice", true), -time.Hour)
	wantErr(t, "a negative grant", err, approval.ErrInvalid)
	if _, err := s.Decide(ctx, a.ID, vote("alice", true), 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	g, ok, err := s.Granted(ctx, "s1", "exec", "exec: git push")
	if err != nil || !ok || g.CreatedBy != "alice" || g.ApprovalID != a.ID || !g.ExpiresAt.Equal(c.Now().Add(time.Hour)) {
		t.Fatalf("Granted = %+v, %v, %v; want alice's grant capped at an hour", g, ok, err)
	}
	for _, q := range [][3]string{{"s2", "exec", "exec: git push"}, {"s1", "shell", "exec: git push"}, {"s1", "exec", "exec: git pull"}, {"s1", "exec", ""}} {
		if _, ok, err := s.Granted(ctx, q[0], q[1], q[2]); ok || err != nil {
			t.Errorf("Granted(%q) = %v, %v; want none", q, ok, err)
		}
	}
	c.Advance(time.Hour)
	if _, ok, _ := s.Granted(ctx, "s1", "exec", "exec: git push"); ok {
		t.Fatal("a grant outlived its expiry")
	}

	// What cannot be granted is refused before the vote counts.
	crit := req(t, "critical")
	crit.Critical = true
	noShape := req(t, "no shape")
	noShape.Shape = ""
	for name, r := range map[string]approval.Request{"critical": crit, "no shape": noShape} {
		a := request(t, s, r)
		_, err := s.Decide(ctx, a.ID, vote("alice", true), time.Hour)
		wantErr(t, name, err, approval.ErrInvalid)
		if got, _ := s.Get(ctx, a.ID); len(got.Votes) != 0 {
			t.Errorf("%s: the refused vote was recorded", name)
		}
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := service(t, c, approval.Options{TTL: time.Minute})
	var made []approval.Approval
	for i := range 3 {
		made = append(made, request(t, s, req(t, fmt.Sprint("cmd ", i))))
		c.Advance(20 * time.Second)
	}
	// Now made[0] has expired; the others have not.
	got, err := s.List(ctx, approval.ListFilter{Status: approval.Pending})
	if err != nil || len(got) != 2 || got[0].ID != made[2].ID || got[1].ID != made[1].ID {
		t.Fatalf("pending = %v, %v; want the two unexpired, newest first", got, err)
	}
	all, err := s.List(ctx, approval.ListFilter{})
	if err != nil || len(all) != 3 || all[2].ID != made[0].ID || all[2].Status != approval.Expired {
		t.Fatalf("all = %+v, %v; want the oldest marked expired", all, err)
	}
}

func TestCode(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("disk on fire"), ""},
		{context.Canceled, ""},
		{approval.ErrNotFound, "approval.not_found"},
		{fmt.Errorf("sqlite: x: %w", approval.ErrConflict), "approval.conflict"},
		{fmt.Errorf("a: %w", fmt.Errorf("b: %w", approval.ErrDecided)), "approval.decided"},
		{approval.ErrExpired, "approval.expired"},
		{approval.ErrSameApprover, "approval.same_approver"},
		{approval.ErrMismatch, "approval.mismatch"},
		{approval.ErrPending, "approval.pending"},
		{approval.ErrDenied, "approval.denied"},
		{approval.ErrUsed, "approval.used"},
		{approval.ErrInvalid, "approval.invalid"},
		{approval.ErrTooMany, "approval.too_many"},
	} {
		if got := approval.Code(tt.err); got != tt.want {
			t.Errorf("Code(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
