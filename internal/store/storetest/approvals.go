package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sentinel-agent/sentinel/internal/approval"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// RunApprovals holds the store that open returns to the acceptance suite
// of approval.Store.
//
// open must return a store on a fresh, empty database for every new t,
// and, when called again with the same t, another handle on the same
// database with its own connections, as a second replica would have. open
// should register the store's Close with t.Cleanup.
func RunApprovals(t *testing.T, open func(t *testing.T) approval.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) approval.Store)
	}{
		{"RoundTrip", testApprovalRoundTrip},
		{"CreateRefuses", testApprovalCreateRefuses},
		{"ListAndCount", testApprovalList},
		{"FindPending", testFindPending},
		{"CompareAndSet", testApprovalCAS},
		{"Grants", testGrants},
		{"ConcurrentRequests", testConcurrentRequests},
		{"ConcurrentDecide", testConcurrentDecide},
		{"ConcurrentDecideCritical", testConcurrentDecideCritical},
		{"WaitAcrossReplicas", testWaitAcrossReplicas},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// apBase is the creation time of the suite's approvals; nanoseconds are
// kept so that a store truncating them shows.
var apBase = time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC)

// apID returns the i-th approval ID.
func apID(i int) string { return fmt.Sprintf("ap_%020x", i) }

// callHash returns a distinct call hash for key.
func callHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// pending returns a valid pending approval, created i minutes after
// apBase in session "s<i%2>".
func pending(i int) approval.Approval {
	created := apBase.Add(time.Duration(i) * time.Minute)
	return approval.Approval{
		ID: apID(i), DecisionID: fmt.Sprintf("d_%d", i), CallHash: callHash(fmt.Sprint("call ", i)),
		Tool: "exec", Session: fmt.Sprintf("s%d", i%2), Agent: "agent-ü",
		Summary: fmt.Sprintf("exec: git push origin main #%d — «quoted» \"text\"\n", i),
		Reasons: []decision.Reason{{Gate: "command", Code: "command.force_push", Message: "pushes over history"}},
		Risk:    2.25, Shape: "exec: git push", Required: 1, Votes: []approval.Vote{}, Status: approval.Pending,
		CreatedAt: created, ExpiresAt: created.Add(15 * time.Minute), Version: 1,
	}
}

// next returns a with status st decided at its creation plus a minute,
// its version bumped.
func next(a approval.Approval, st approval.Status) approval.Approval {
	at := a.CreatedAt.Add(time.Minute)
	a.Votes = append(slices.Clone(a.Votes), approval.Vote{Approver: "ops", Approve: st == approval.Approved, Reason: "ok", Time: at})
	a.Status, a.DecidedAt, a.Version = st, &at, a.Version+1
	return a
}

func create(t *testing.T, s approval.Store, as ...approval.Approval) {
	t.Helper()
	for _, a := range as {
		if err := s.CreateApproval(context.Background(), a); err != nil {
			t.Fatalf("CreateApproval(%s): %v", a.ID, err)
		}
	}
}

func update(t *testing.T, s approval.Store, a approval.Approval) {
	t.Helper()
	if err := s.UpdateApproval(context.Background(), a); err != nil {
		t.Fatalf("UpdateApproval(%s, version %d): %v", a.ID, a.Version, err)
	}
}

func get(t *testing.T, s approval.Store, id string) approval.Approval {
	t.Helper()
	a, err := s.GetApproval(context.Background(), id)
	if err != nil {
		t.Fatalf("GetApproval(%s): %v", id, err)
	}
	return a
}

func testApprovalRoundTrip(t *testing.T, open func(t *testing.T) approval.Store) {
	s := open(t)
	ctx := context.Background()
	a := pending(1)
	a.Critical, a.Required = true, 2
	a.Reasons = append(a.Reasons, decision.Reason{Gate: "risk", Code: "risk.high", Message: strings.Repeat("x", 900)})
	create(t, s, a)
	if diff := cmp.Diff(a, get(t, s, a.ID)); diff != "" {
		t.Fatalf("GetApproval returned another approval than was created (-created +got):\n%s", diff)
	}

	b := a
	b.Votes = []approval.Vote{{Approver: "first", Approve: true, Reason: "looks fine", Time: a.CreatedAt.Add(time.Second)}}
	b.Version = 2
	update(t, s, b)
	c := next(b, approval.Approved)
	update(t, s, c)
	if diff := cmp.Diff(c, get(t, s, a.ID)); diff != "" {
		t.Fatalf("GetApproval after two updates (-want +got):\n%s", diff)
	}

	for _, id := range []string{apID(99), "ap_nope", "", "x' OR '1'='1"} {
		if _, err := s.GetApproval(ctx, id); !errors.Is(err, approval.ErrNotFound) || approval.Code(err) != "approval.not_found" {
			t.Errorf("GetApproval(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func testApprovalCreateRefuses(t *testing.T, open func(t *testing.T) approval.Store) {
	s := open(t)
	ctx := context.Background()
	a := pending(1)
	create(t, s, a)
	again := pending(3)
	again.ID = a.ID
	if err := s.CreateApproval(ctx, again); !errors.Is(err, approval.ErrConflict) {
		t.Errorf("CreateApproval of an existing ID = %v, want ErrConflict", err)
	}
	bad := []struct {
		name string
		mod  func(*approval.Approval)
	}{
		{"version 2", func(a *approval.Approval) { a.Version = 2 }},
		{"decided", func(a *approval.Approval) { *a = next(*a, approval.Approved); a.Version = 1 }},
		{"bad hash", func(a *approval.Approval) { a.CallHash = "abc" }},
		{"bad id", func(a *approval.Approval) { a.ID = "ap_1" }},
		{"no tool", func(a *approval.Approval) { a.Tool = "" }},
		{"long summary", func(a *approval.Approval) { a.Summary = strings.Repeat("s", 5000) }},
		{"not utf-8", func(a *approval.Approval) { a.Summary = "\xff" }},
		{"critical with one approver", func(a *approval.Approval) { a.Critical = true }},
		{"expires before created", func(a *approval.Approval) { a.ExpiresAt = a.CreatedAt }},
		{"control in session", func(a *approval.Approval) { a.Session = "s\x00" }},
	}
	for i, tt := range bad {
		c := pending(10 + i)
		tt.mod(&c)
		err := s.CreateApproval(ctx, c)
		if !errors.Is(err, approval.ErrInvalid) {
			t.Errorf("%s: CreateApproval = %v, want ErrInvalid", tt.name, err)
		}
		if c.ID == apID(10+i) {
			if _, err := s.GetApproval(ctx, c.ID); !errors.Is(err, approval.ErrNotFound) {
				t.Errorf("%s: the refused approval was stored (GetApproval: %v)", tt.name, err)
			}
		}
	}
}

// listModel is what ListApprovals must return for f.
func listModel(all []approval.Approval, f approval.ListFilter) []approval.Approval {
	var out []approval.Approval
	for _, a := range all {
		if (f.Status == "" || a.Status == f.Status) && (f.Session == "" || a.Session == f.Session) &&
			(f.ExpiredBy.IsZero() || !a.ExpiresAt.After(f.ExpiredBy)) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b approval.Approval) int { return b.CreatedAt.Compare(a.CreatedAt) })
	limit := f.Limit
	if limit == 0 {
		limit = approval.DefaultLimit
	}
	return out[:min(len(out), limit, approval.MaxLimit)]
}

func testApprovalList(t *testing.T, open func(t *testing.T) approval.Store) {
	s := open(t)
	ctx := context.Background()
	var all []approval.Approval
	for i := range 12 {
		a := pending(i)
		create(t, s, a)
		switch i % 4 {
		case 1:
			a = next(a, approval.Approved)
			update(t, s, a)
		case 2:
			a = next(a, approval.Denied)
			update(t, s, a)
		case 3:
			a = next(a, approval.Expired)
			update(t, s, a)
		}
		all = append(all, a)
	}
	filters := []approval.ListFilter{
		{},
		{Status: approval.Pending},
		{Status: approval.Approved},
		{Session: "s1"},
		{Session: "s0", Status: approval.Pending},
		{Session: "nobody"},
		{ExpiredBy: apBase.Add(20 * time.Minute)},
		{ExpiredBy: apBase.Add(20 * time.Minute), Status: approval.Pending},
		{Limit: 3},
		{Limit: 5000},
		{Status: approval.Denied, Limit: 1},
	}
	for _, f := range filters {
		got, err := s.ListApprovals(ctx, f)
		if err != nil {
			t.Fatalf("ListApprovals(%+v): %v", f, err)
		}
		if diff := cmp.Diff(listModel(all, f), got); diff != "" {
			t.Errorf("ListApprovals(%+v) (-want +got):\n%s", f, diff)
		}
	}
	for _, f := range []approval.ListFilter{{Limit: -1}, {Status: "maybe"}, {Session: "a\nb"}} {
		if _, err := s.ListApprovals(ctx, f); !errors.Is(err, approval.ErrInvalid) {
			t.Errorf("ListApprovals(%+v) = %v, want ErrInvalid", f, err)
		}
	}
	n, err := s.CountPending(ctx)
	if want := len(listModel(all, approval.ListFilter{Status: approval.Pending})); err != nil || n != want {
		t.Errorf("CountPending = %d, %v; want %d", n, err, want)
	}
}

func testFindPending(t *testing.T, open func(t *testing.T) approval.Store) {
	s := open(t)
	ctx := context.Background()
	a := pending(1)
	if _, ok, err := s.FindPending(ctx, a.CallHash); ok || err != nil {
		t.Fatalf("FindPending on an empty store = %v, %v", ok, err)
	}
	create(t, s, a, pending(2))
	got, ok, err := s.FindPending(ctx, a.CallHash)
	if err != nil || !ok || got.ID != a.ID {
		t.Fatalf("FindPending = %s, %v, %v; want %s", got.ID, ok, err, a.ID)
	}
	// A second pending approval for the same call is refused.
	dup := pending(3)
	dup.CallHash = a.CallHash
	if err := s.CreateApproval(ctx, dup); !errors.Is(err, approval.ErrConflict) {
		t.Fatalf("a second pending approval for one call: CreateApproval = %v, want ErrConflict", err)
	}
	// Once decided, the call may be asked about again.
	update(t, s, next(a, approval.Denied))
	if _, ok, err := s.FindPending(ctx, a.CallHash); ok || err != nil {
		t.Fatalf("FindPending after the approval was denied = %v, %v; want none", ok, err)
	}
	create(t, s, dup)
	got, ok, err = s.FindPending(ctx, a.CallHash)
	if err != nil || !ok || got.ID != dup.ID {
		t.Fatalf("FindPending after a new request = %s, %v, %v; want %s", got.ID, ok, err, dup.ID)
	}
	for _, h := range []string{"", "zz", strings.ToUpper(a.CallHash)} {
		if _, ok, err := s.FindPending(ctx, h); ok || err != nil {
			t.Errorf("FindPending(%q) = %v, %v; want none", h, ok, err)
		}
	}
}

func testApprovalCAS(t *testing.T, open func(t *testing.T) approval.Store) {
	s := open(t)
	ctx := context.Background()
	a := pending(1)
	create(t, s, a)
	v2 := next(a, approval.Approved)
	update(t, s, v2)

	stale := next(a, approval.Denied) // also version 2, from version 1
	if err := s.UpdateApproval(ctx, stale); !errors.Is(err, approval.ErrConflict) || approval.Code(err) != "approval.conflict" {
		t.Errorf("a stale update = %v, want ErrConflict", err)
	}
	ahead := v2
	ahead.Version = 4
	if err := s.UpdateApproval(ctx, ahead); !errors.Is(err, approval.ErrConflict) {
		t.Errorf("an update skipping a version = %v, want ErrConflict", err)
	}
	missing := next(pending(7), approval.Approved)
	if err := s.UpdateApproval(ctx, missing); !errors.Is(err, approval.ErrNotFound) {
		t.Errorf("an update of a missing approval = %v, want ErrNotFound", err)
	}
	for _, tt := range []struct {
		name string
		mod  func(*approval.Approval)
	}{
		{"another call", func(a *approval.Approval) { a.CallHash = callHash("other") }},
		{"another session", func(a *approval.Approval) { a.Session = "elsewhere" }},
		{"a later expiry", func(a *approval.Approval) { a.ExpiresAt = a.ExpiresAt.Add(time.Hour) }},
		{"version 1", func(a *approval.Approval) { a.Version = 1 }},
		{"used while denied", func(a *approval.Approval) { a.Status, a.Used = approval.Denied, true }},
	} {
		u := v2
		u.Used, u.Version = true, 3
		tt.mod(&u)
		if err := s.UpdateApproval(ctx, u); !errors.Is(err, approval.ErrInvalid) {
			t.Errorf("an update to %s = %v, want ErrInvalid", tt.name, err)
		}
	}
	if diff := cmp.Diff(v2, get(t, s, a.ID)); diff != "" {
		t.Fatalf("refused updates changed the approval (-want +got):\n%s", diff)
	}
	v3 := v2
	v3.Used, v3.Version = true, 3
	update(t, s, v3)
	if got := get(t, s, a.ID); !got.Used || got.Version != 3 {
		t.Fatalf("after the update from version 2: %+v", got)
	}
}

func testGrants(t *testing.T, open func(t *testing.T) approval.Store) {
	s := open(t)
	ctx := context.Background()
	g := approval.Grant{ID: "gr_00000000000000000001", Session: "s1", Tool: "exec", Shape: "exec: git push",
		CreatedBy: "alice", ApprovalID: apID(1), CreatedAt: apBase, ExpiresAt: apBase.Add(time.Hour)}
	if err := s.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	find := func(session, tool, shape string, now time.Time) (approval.Grant, bool) {
		t.Helper()
		got, ok, err := s.FindGrant(ctx, session, tool, shape, now)
		if err != nil {
			t.Fatalf("FindGrant(%s, %s, %s, %s): %v", session, tool, shape, now, err)
		}
		return got, ok
	}
	if got, ok := find("s1", "exec", "exec: git push", apBase.Add(time.Minute)); !ok || !cmp.Equal(got, g) {
		t.Fatalf("FindGrant within the grant = %+v, %v; want %+v", got, ok, g)
	}
	for _, q := range []struct {
		session, tool, shape string
		now                  time.Time
	}{
		{"s2", "exec", "exec: git push", apBase.Add(time.Minute)},
		{"s1", "shell", "exec: git push", apBase.Add(time.Minute)},
		{"s1", "exec", "exec: git push --force", apBase.Add(time.Minute)},
		{"s1", "exec", "exec: git", apBase.Add(time.Minute)},
		{"s1", "exec", "exec: git push", apBase.Add(time.Hour)}, // at its expiry
		{"s1", "exec", "exec: git push", apBase.Add(2 * time.Hour)},
	} {
		if got, ok := find(q.session, q.tool, q.shape, q.now); ok {
			t.Errorf("FindGrant(%q, %q, %q, %s) = %+v; want none", q.session, q.tool, q.shape, q.now.Format(time.RFC3339Nano), got)
		}
	}
	if _, ok := find("s1", "exec", "exec: git push", apBase.Add(time.Hour-time.Microsecond)); !ok {
		t.Errorf("FindGrant a microsecond before the grant expires found none")
	}

	// A later grant for the same shape extends it.
	g2 := g
	g2.ID, g2.CreatedAt, g2.ExpiresAt = "gr_00000000000000000002", apBase.Add(30*time.Minute), apBase.Add(3*time.Hour)
	if err := s.CreateGrant(ctx, g2); err != nil {
		t.Fatal(err)
	}
	if got, ok := find("s1", "exec", "exec: git push", apBase.Add(2*time.Hour)); !ok || got.ID != g2.ID {
		t.Errorf("FindGrant after the first grant ended = %+v, %v; want %s", got, ok, g2.ID)
	}
	if got, ok := find("s1", "exec", "exec: git push", apBase.Add(time.Minute)); !ok || (got.ID != g.ID && got.ID != g2.ID) {
		t.Errorf("FindGrant while both grants hold = %+v, %v", got, ok)
	}

	if err := s.CreateGrant(ctx, g); !errors.Is(err, approval.ErrConflict) {
		t.Errorf("CreateGrant of an existing ID = %v, want ErrConflict", err)
	}
	for _, mod := range []func(*approval.Grant){
		func(g *approval.Grant) { g.Shape = "" },
		func(g *approval.Grant) { g.ExpiresAt = g.CreatedAt },
		func(g *approval.Grant) { g.ApprovalID = "x" },
		func(g *approval.Grant) { g.CreatedBy = "" },
	} {
		bad := g
		bad.ID = "gr_00000000000000000009"
		mod(&bad)
		if err := s.CreateGrant(ctx, bad); !errors.Is(err, approval.ErrInvalid) {
			t.Errorf("CreateGrant(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

// replicas returns two Services on two handles of one database, with a
// clock stopped a minute after apBase.
func replicas(t *testing.T, open func(t *testing.T) approval.Store, poll time.Duration) (*approval.Service, *approval.Service, approval.Store) {
	now := func() time.Time { return apBase.Add(time.Minute) }
	s1 := open(t)
	s2 := open(t)
	return approval.New(s1, approval.Options{Now: now, Poll: poll}), approval.New(s2, approval.Options{Now: now, Poll: poll}), s1
}

func request(i int, critical bool) approval.Request {
	return approval.Request{DecisionID: fmt.Sprintf("d_%d", i), CallHash: callHash(fmt.Sprint("call ", i)),
		Tool: "exec", Session: "s", Agent: "a", Summary: "exec: git push", Shape: "exec: git push", Critical: critical}
}

const racers = 16

// race runs fn(i) for i in [0, racers) at once and returns their errors.
func race(fn func(i int) error) []error {
	errs := make([]error, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func testConcurrentRequests(t *testing.T, open func(t *testing.T) approval.Store) {
	r1, r2, st := replicas(t, open, time.Second)
	got := make([]string, racers)
	errs := race(func(i int) error {
		svc := []*approval.Service{r1, r2}[i%2]
		a, err := svc.Request(context.Background(), request(1, false))
		got[i] = a.ID
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Request %d: %v", i, err)
		}
		if got[i] != got[0] {
			t.Fatalf("Requests for one call opened approvals %s and %s; want one", got[0], got[i])
		}
	}
	if n, err := st.CountPending(context.Background()); err != nil || n != 1 {
		t.Fatalf("CountPending = %d, %v; want 1", n, err)
	}
}

func testConcurrentDecide(t *testing.T, open func(t *testing.T) approval.Store) {
	r1, r2, st := replicas(t, open, time.Second)
	ctx := context.Background()
	a, err := r1.Request(ctx, request(1, false))
	if err != nil {
		t.Fatal(err)
	}
	errs := race(func(i int) error {
		svc := []*approval.Service{r1, r2}[i%2]
		_, err := svc.Decide(ctx, a.ID, approval.Vote{Approver: fmt.Sprint("op", i), Approve: i%3 != 0}, 0)
		return err
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("votes %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, approval.ErrDecided):
			t.Fatalf("vote %d: %v; want success or ErrDecided", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no vote won")
	}
	final := get(t, st, a.ID)
	wantStatus := approval.Approved
	if winner%3 == 0 {
		wantStatus = approval.Denied
	}
	if final.Status != wantStatus || len(final.Votes) != 1 || final.Votes[0].Approver != fmt.Sprint("op", winner) || final.Version != 2 {
		t.Fatalf("after the race: %+v; want only op%d's vote, %s, at version 2", final, winner, wantStatus)
	}
	if wantStatus == approval.Approved {
		authorizeOnce(t, r1, r2, final)
	}
}

// authorizeOnce checks that an approved approval authorizes its call
// exactly once, whichever replica is asked.
func authorizeOnce(t *testing.T, r1, r2 *approval.Service, a approval.Approval) {
	t.Helper()
	errs := race(func(i int) error {
		_, err := []*approval.Service{r1, r2}[i%2].Authorize(context.Background(), a.ID, a.CallHash)
		return err
	})
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, approval.ErrUsed):
			t.Errorf("Authorize %d: %v; want success or ErrUsed", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d Authorize calls succeeded; want exactly 1", ok)
	}
}

func testConcurrentDecideCritical(t *testing.T, open func(t *testing.T) approval.Store) {
	r1, r2, st := replicas(t, open, time.Second)
	ctx := context.Background()
	a, err := r1.Request(ctx, request(1, true))
	if err != nil {
		t.Fatal(err)
	}
	if a.Required != 2 {
		t.Fatalf("a critical approval requires %d approvers, want 2", a.Required)
	}
	// Eight approvers, each voting twice, the second time in other case.
	errs := race(func(i int) error {
		name := fmt.Sprint("op", i/2)
		if i%2 == 1 {
			name = strings.ToUpper(name)
		}
		_, err := []*approval.Service{r1, r2}[i%2].Decide(ctx, a.ID, approval.Vote{Approver: name, Approve: true}, 0)
		return err
	})
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, approval.ErrDecided) && !errors.Is(err, approval.ErrSameApprover):
			t.Fatalf("vote %d: %v; want success, ErrDecided or ErrSameApprover", i, err)
		}
	}
	final := get(t, st, a.ID)
	if ok != 2 || final.Status != approval.Approved || len(final.Votes) != 2 ||
		strings.EqualFold(final.Votes[0].Approver, final.Votes[1].Approver) || final.Version != 3 {
		t.Fatalf("%d votes succeeded; final %+v; want two votes by distinct approvers and approved at version 3", ok, final)
	}
	authorizeOnce(t, r1, r2, final)
}

func testWaitAcrossReplicas(t *testing.T, open func(t *testing.T) approval.Store) {
	r1, r2, _ := replicas(t, open, 5*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := r1.Request(ctx, request(1, false))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan approval.Approval)
	go func() {
		got, err := r1.Wait(ctx, a.ID)
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
		done <- got
	}()
	if _, err := r2.Decide(ctx, a.ID, approval.Vote{Approver: "bob", Approve: false, Reason: "not now"}, 0); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if got.Status != approval.Denied || len(got.Votes) != 1 || got.Votes[0].Reason != "not now" {
		t.Fatalf("Wait returned %+v; want the denial made on the other replica", got)
	}
}
