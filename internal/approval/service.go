package approval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// Options tune a Service. Zero and negative values take the defaults.
type Options struct {
	// TTL is how long an approval waits for its votes, and then how long
	// an approved one may authorize its call; default 15 minutes.
	TTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Poll is how often Wait re-reads the store to notice decisions made
	// by other replicas; default 200 ms.
	Poll time.Duration
	// MaxGrant caps how long a grant lasts; default 24 hours.
	MaxGrant time.Duration
	// MaxPending is how many approvals may be pending at once before
	// Request refuses with ErrTooMany; default 10,000.
	MaxPending int
	// Rand is the source of IDs; default crypto/rand.Reader.
	Rand io.Reader
}

// Defaults of Options.
const (
	DefaultTTL        = 15 * time.Minute
	DefaultPoll       = 200 * time.Millisecond
	DefaultMaxGrant   = 24 * time.Hour
	DefaultMaxPending = 10000
)

// maxAttempts bounds how often a change is retried after losing a
// compare-and-set to another writer.
const maxAttempts = 5

// maxWaiters bounds the approvals Wait keeps wake-up channels for; waiters
// beyond it still see decisions, by polling.
const maxWaiters = 10000

// maxSweepPages bounds the pages of ExpireDue.
const maxSweepPages = 100

// Request describes a call held for confirmation.
type Request struct {
	DecisionID string
	CallHash   string // CallHash of the exact call
	Tool       string
	Session    string
	Agent      string
	// Summary is what the operator sees, redacted by the caller; it is
	// cut to 4 KiB.
	Summary string
	// Reasons are the decision's reasons: the gate, code and message of
	// the first 32 are kept, cut to size.
	Reasons  []decision.Reason
	Risk     float64
	Shape    string // what a grant would cover; empty: not grantable
	Critical bool   // needs two distinct approvers and cannot be granted
}

// Service runs the approval workflow on a Store. It is safe for
// concurrent use; several Services (one per replica) may share a Store.
type Service struct {
	st         Store
	ttl        time.Duration
	poll       time.Duration
	maxGrant   time.Duration
	maxPending int
	now        func() time.Time
	rand       io.Reader

	mu      sync.Mutex
	waiters map[string]*waiter // by approval ID
}

// waiter wakes the Waits of one approval when this Service changes it.
type waiter struct {
	ch     chan struct{} // closed on a change
	n      int           // Waits holding ch
	parked int           // of those, blocked on it
}

// New returns a Service on st.
func New(st Store, opts Options) *Service {
	s := &Service{st: st, ttl: opts.TTL, poll: opts.Poll, maxGrant: opts.MaxGrant, maxPending: opts.MaxPending,
		now: opts.Now, rand: opts.Rand, waiters: map[string]*waiter{}}
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	if s.poll <= 0 {
		s.poll = DefaultPoll
	}
	if s.maxGrant <= 0 {
		s.maxGrant = DefaultMaxGrant
	}
	if s.maxPending <= 0 {
		s.maxPending = DefaultMaxPending
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s
}

// clock reads the clock without its monotonic reading, in UTC, as a store
// gives times back.
func (s *Service) clock() time.Time { return s.now().Round(0).UTC() }

// newID returns prefix and 20 random hex digits.
func (s *Service) newID(prefix string) (string, error) {
	var b [10]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", fmt.Errorf("approval: making an id: %w", err)
	}
	return prefix + hex.EncodeToString(b[:]), nil
}

// Request returns the pending approval for this exact call if one exists
// and is unexpired, so that an agent retrying does not flood operators,
// else creates one (Required = 2 when Critical). A pending approval for
// the call that is less strict than r is made critical.
func (s *Service) Request(ctx context.Context, r Request) (Approval, error) {
	a := Approval{
		DecisionID: r.DecisionID, CallHash: r.CallHash, Tool: r.Tool, Session: r.Session, Agent: r.Agent,
		Summary: clip(r.Summary, maxSummary), Reasons: clipReasons(r.Reasons), Risk: r.Risk, Shape: r.Shape,
		Critical: r.Critical, Required: required(r.Critical), Votes: []Vote{}, Status: Pending, Version: 1,
	}
	// Bad input is refused before the store is asked anything.
	probe := a
	probe.ID, probe.CreatedAt = "ap_00000000000000000000", s.clock()
	probe.ExpiresAt = probe.CreatedAt.Add(s.ttl)
	if err := probe.Check(); err != nil {
		return Approval{}, err
	}
	for range maxAttempts {
		now := s.clock()
		old, ok, err := s.st.FindPending(ctx, r.CallHash)
		if err != nil {
			return Approval{}, err
		}
		if ok {
			if !now.Before(old.ExpiresAt) {
				if _, err := s.expire(ctx, old); err != nil && !errors.Is(err, ErrConflict) {
					return Approval{}, err
				}
				continue
			}
			if !r.Critical || old.Critical {
				return old, nil
			}
			up := old
			up.Critical, up.Required, up.Version = true, required(true), old.Version+1
			if err := s.st.UpdateApproval(ctx, up); err != nil {
				if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
					continue
				}
				return Approval{}, err
			}
			return up, nil
		}
		if err := s.roomForOne(ctx); err != nil {
			return Approval{}, err
		}
		if a.ID, err = s.newID("ap_"); err != nil {
			return Approval{}, err
		}
		a.CreatedAt, a.ExpiresAt = now, now.Add(s.ttl)
		if err := a.Check(); err != nil {
			return Approval{}, err
		}
		err = s.st.CreateApproval(ctx, a)
		if errors.Is(err, ErrConflict) {
			continue // another replica asked for the same call first
		}
		if err != nil {
			return Approval{}, err
		}
		return a, nil
	}
	return Approval{}, fmt.Errorf("%w: requesting an approval for call %.16s…: other writers kept changing it; try again", ErrConflict, r.CallHash)
}

// roomForOne refuses a new approval while MaxPending are pending, after
// marking the expired ones.
func (s *Service) roomForOne(ctx context.Context) error {
	n, err := s.st.CountPending(ctx)
	if err != nil || n < s.maxPending {
		return err
	}
	if _, err := s.ExpireDue(ctx); err != nil {
		return err
	}
	if n, err = s.st.CountPending(ctx); err != nil || n < s.maxPending {
		return err
	}
	return fmt.Errorf("%w: %d approvals are waiting for operators (at most %d); decide some first", ErrTooMany, n, s.maxPending)
}

// clip cuts s to at most n bytes of valid UTF-8, marking a cut with "…".
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func clipReasons(rs []decision.Reason) []decision.Reason {
	out := make([]decision.Reason, 0, min(len(rs), maxReasons))
	for _, r := range rs[:min(len(rs), maxReasons)] {
		out = append(out, decision.Reason{Gate: clip(r.Gate, maxCode), Code: clip(r.Code, maxCode),
			Message: clip(r.Message, maxMessage)})
	}
	return out
}

// Decide records one approver's vote. A deny denies at once; approvals
// approve once Required distinct approvers (names compared ignoring case)
// have approved. An approval past its ExpiresAt is marked expired and
// ErrExpired returned; one no longer pending is ErrDecided; an approver
// voting twice is ErrSameApprover. With grant > 0 (capped at MaxGrant) the
// approving vote that completes the approval also stores a Grant for its
// (Session, Tool, Shape); a critical approval, or one without a session or
// shape, cannot be granted. The approval is returned as it stands, also
// with ErrDecided and ErrExpired.
func (s *Service) Decide(ctx context.Context, id string, v Vote, grant time.Duration) (Approval, error) {
	var err error
	if v.Approver, err = NormalizeApprover(v.Approver); err != nil {
		return Approval{}, err
	}
	if err := checkText("reason", v.Reason, maxReason, false); err != nil {
		return Approval{}, err
	}
	switch {
	case grant < 0:
		return Approval{}, fmt.Errorf("%w: grant %s is negative", ErrInvalid, grant)
	case grant > 0 && !v.Approve:
		return Approval{}, fmt.Errorf("%w: a deny cannot carry a grant", ErrInvalid)
	}
	grant = min(grant, s.maxGrant)
	for range maxAttempts {
		a, err := s.st.GetApproval(ctx, id)
		if err != nil {
			return Approval{}, err
		}
		now := s.clock()
		if a.Status != Pending {
			return a, fmt.Errorf("%w: approval %s is %s", ErrDecided, id, a.Status)
		}
		if !now.Before(a.ExpiresAt) {
			exp, err := s.expire(ctx, a)
			if errors.Is(err, ErrConflict) {
				continue
			}
			if err != nil {
				return Approval{}, err
			}
			return exp, fmt.Errorf("%w: approval %s expired at %s", ErrExpired, id, a.ExpiresAt.Format(time.RFC3339))
		}
		if grant > 0 {
			if err := grantable(a); err != nil {
				return a, err
			}
		}
		approvers := 0
		for _, old := range a.Votes {
			if sameApprover(old.Approver, v.Approver) {
				return a, fmt.Errorf("%w: %s has already voted on approval %s", ErrSameApprover, old.Approver, id)
			}
			if old.Approve {
				approvers++
			}
		}
		if len(a.Votes) >= maxVotes {
			return a, fmt.Errorf("%w: approval %s holds %d votes already", ErrInvalid, id, len(a.Votes))
		}
		next := a
		v.Time = now
		next.Votes = append(append(make([]Vote, 0, len(a.Votes)+1), a.Votes...), v)
		next.Version++
		switch {
		case !v.Approve:
			next.Status, next.DecidedAt = Denied, &now
		case approvers+1 >= a.Required:
			next.Status, next.DecidedAt = Approved, &now
		}
		if err := next.Check(); err != nil {
			return a, err
		}
		err = s.st.UpdateApproval(ctx, next)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Approval{}, err
		}
		if next.Status != Pending {
			s.notify(id)
		}
		if grant > 0 && next.Status == Approved {
			if err := s.storeGrant(ctx, next, v.Approver, now, grant); err != nil {
				return next, fmt.Errorf("approval %s is approved, but its grant was not stored: %w", id, err)
			}
		}
		return next, nil
	}
	return Approval{}, fmt.Errorf("%w: voting on approval %s: other writers kept changing it; try again", ErrConflict, id)
}

// grantable refuses a grant for a that would widen what operators agreed
// to.
func grantable(a Approval) error {
	switch {
	case a.Critical:
		return fmt.Errorf("%w: approval %s is critical; critical calls are approved one at a time, never granted", ErrInvalid, a.ID)
	case a.Shape == "":
		return fmt.Errorf("%w: approval %s has no shape to grant; approve it without a grant", ErrInvalid, a.ID)
	case a.Session == "":
		return fmt.Errorf("%w: approval %s has no session to grant in; approve it without a grant", ErrInvalid, a.ID)
	}
	return nil
}

func (s *Service) storeGrant(ctx context.Context, a Approval, by string, now time.Time, d time.Duration) error {
	id, err := s.newID("gr_")
	if err != nil {
		return err
	}
	g := Grant{ID: id, Session: a.Session, Tool: a.Tool, Shape: a.Shape, CreatedBy: by, ApprovalID: a.ID,
		CreatedAt: now, ExpiresAt: now.Add(d)}
	if err := g.Check(); err != nil {
		return err
	}
	return s.st.CreateGrant(ctx, g)
}

// expire marks a pending a expired (as of its ExpiresAt) and wakes its
// Waits.
func (s *Service) expire(ctx context.Context, a Approval) (Approval, error) {
	at := a.ExpiresAt
	a.Status, a.DecidedAt, a.Version = Expired, &at, a.Version+1
	if err := s.st.UpdateApproval(ctx, a); err != nil {
		return Approval{}, err
	}
	s.notify(a.ID)
	return a, nil
}

// settle marks a expired if it is pending past its expiry, re-reading it
// when another writer got there first.
func (s *Service) settle(ctx context.Context, a Approval) (Approval, error) {
	for range maxAttempts {
		if a.Status != Pending || s.clock().Before(a.ExpiresAt) {
			return a, nil
		}
		exp, err := s.expire(ctx, a)
		if err == nil {
			return exp, nil
		}
		if !errors.Is(err, ErrConflict) {
			return Approval{}, err
		}
		if a, err = s.st.GetApproval(ctx, a.ID); err != nil {
			return Approval{}, err
		}
	}
	return Approval{}, fmt.Errorf("%w: expiring approval %s: other writers kept changing it; try again", ErrConflict, a.ID)
}

// Get returns the approval, marking it expired first if it is pending past
// its expiry.
func (s *Service) Get(ctx context.Context, id string) (Approval, error) {
	a, err := s.st.GetApproval(ctx, id)
	if err != nil {
		return Approval{}, err
	}
	return s.settle(ctx, a)
}

// List returns the approvals f selects, newest first, marking the expired
// ones on the way (and leaving them out when f asks for pending ones).
func (s *Service) List(ctx context.Context, f ListFilter) ([]Approval, error) {
	as, err := s.st.ListApprovals(ctx, f)
	if err != nil {
		return nil, err
	}
	out := as[:0]
	for _, a := range as {
		if a, err = s.settle(ctx, a); err != nil {
			return nil, err
		}
		if f.Status == "" || a.Status == f.Status {
			out = append(out, a)
		}
	}
	return out, nil
}

// CountPending counts the approvals whose status is pending, including
// expired ones no one has marked yet (ExpireDue marks them).
func (s *Service) CountPending(ctx context.Context) (int, error) { return s.st.CountPending(ctx) }

// ExpireDue marks every pending approval past its expiry as expired and
// returns how many it marked. Request calls it when MaxPending are
// pending; a server may also call it now and then so that lists and
// counts stay current.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	marked := 0
	for range maxSweepPages {
		page, err := s.st.ListApprovals(ctx, ListFilter{Status: Pending, ExpiredBy: s.clock(), Limit: MaxLimit})
		if err != nil {
			return marked, err
		}
		progress := false
		for _, a := range page {
			if a.Status != Pending || s.clock().Before(a.ExpiresAt) {
				continue
			}
			_, err := s.expire(ctx, a)
			switch {
			case err == nil:
				marked++
				progress = true
			case errors.Is(err, ErrConflict):
				progress = true // someone else changed it: it has left the page either way
			default:
				return marked, err
			}
		}
		if len(page) < MaxLimit || !progress {
			break
		}
	}
	return marked, nil
}

// Wait returns once the approval is no longer pending (expiry counts, and
// Wait marks it), or ctx ends, when it returns the approval as last read
// and an error wrapping ctx.Err(). It wakes at once for changes made
// through this Service and polls the store every Poll for those made
// elsewhere.
func (s *Service) Wait(ctx context.Context, id string) (Approval, error) {
	timer := time.NewTimer(s.poll)
	defer timer.Stop()
	var last Approval
	for {
		w := s.subscribe(id)
		a, err := s.Get(ctx, id)
		if err != nil || a.Status != Pending {
			s.release(id, w)
			if err != nil && ctx.Err() != nil {
				return last, fmt.Errorf("waiting for approval %s: %w", id, ctx.Err())
			}
			return a, err
		}
		last = a
		d := s.poll
		if left := a.ExpiresAt.Sub(s.clock()); left < d {
			d = left
		}
		timer.Reset(d)
		s.park(w, 1)
		select {
		case <-w.wake():
		case <-timer.C:
		case <-ctx.Done():
		}
		s.park(w, -1)
		s.release(id, w)
		if ctx.Err() != nil {
			return a, fmt.Errorf("waiting for approval %s: %w", id, ctx.Err())
		}
	}
}

// subscribe returns the waiter that this Service's next change to the
// approval wakes; release it when done. Past maxWaiters it returns nil,
// and the caller relies on polling.
func (s *Service) subscribe(id string) *waiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.waiters[id]
	if !ok {
		if len(s.waiters) >= maxWaiters {
			return nil
		}
		w = &waiter{ch: make(chan struct{})}
		s.waiters[id] = w
	}
	w.n++
	return w
}

func (s *Service) release(id string, w *waiter) {
	if w == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.n--; w.n == 0 && s.waiters[id] == w {
		delete(s.waiters, id)
	}
}

// park counts the Waits blocked on w, for tests to know one is.
func (s *Service) park(w *waiter, delta int) {
	if w == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w.parked += delta
}

// wake returns the channel closed on a change; nil (never ready) for a
// nil waiter.
func (w *waiter) wake() <-chan struct{} {
	if w == nil {
		return nil
	}
	return w.ch
}

// notify wakes the Waits of an approval.
func (s *Service) notify(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.waiters[id]; ok {
		delete(s.waiters, id)
		close(w.ch)
	}
}

// Authorize lets a re-submitted call run on an approval: the approval
// must be for callHash (else ErrMismatch), approved (ErrPending,
// ErrDenied), unexpired (ErrExpired) and unused (ErrUsed). It marks the
// approval used, so that it authorizes its call once.
func (s *Service) Authorize(ctx context.Context, id, callHash string) (Approval, error) {
	for range maxAttempts {
		a, err := s.st.GetApproval(ctx, id)
		if err != nil {
			return Approval{}, err
		}
		if a.CallHash != callHash {
			return Approval{}, fmt.Errorf("%w: approval %s was given for another call", ErrMismatch, id)
		}
		now := s.clock()
		expired := !now.Before(a.ExpiresAt)
		switch {
		case a.Status == Pending && expired:
			if a, err = s.settle(ctx, a); err != nil {
				return Approval{}, err
			}
			return a, fmt.Errorf("%w: approval %s expired at %s before anyone decided", ErrExpired, id, a.ExpiresAt.Format(time.RFC3339))
		case a.Status == Pending:
			return a, fmt.Errorf("%w: approval %s is waiting for %d approver(s)", ErrPending, id, a.Required)
		case a.Status == Denied:
			return a, fmt.Errorf("%w: approval %s was denied", ErrDenied, id)
		case a.Status == Expired || expired:
			return a, fmt.Errorf("%w: approval %s expired at %s", ErrExpired, id, a.ExpiresAt.Format(time.RFC3339))
		case a.Status != Approved:
			return a, fmt.Errorf("%w: approval %s has status %q", ErrInvalid, id, a.Status)
		case a.Used:
			return a, fmt.Errorf("%w: approval %s has authorized its call already", ErrUsed, id)
		}
		used := a
		used.Used, used.Version = true, a.Version+1
		err = s.st.UpdateApproval(ctx, used)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Approval{}, err
		}
		return used, nil
	}
	return Approval{}, fmt.Errorf("%w: authorizing on approval %s: other writers kept changing it; try again", ErrConflict, id)
}

// Granted returns an unexpired grant for calls of shape with tool in
// session, if there is one. Empty arguments never match.
func (s *Service) Granted(ctx context.Context, session, tool, shape string) (Grant, bool, error) {
	for _, f := range []struct {
		name, v string
		max     int
	}{{"session", session, maxName}, {"tool", tool, maxName}, {"shape", shape, maxShape}} {
		if checkName(f.name, f.v, f.max, true) != nil {
			return Grant{}, false, nil // no stored grant can have it
		}
	}
	now := s.clock()
	g, ok, err := s.st.FindGrant(ctx, session, tool, shape, now)
	if err != nil || !ok {
		return Grant{}, false, err
	}
	// The store answered; check the answer rather than trust it.
	if g.Session != session || g.Tool != tool || g.Shape != shape || !now.Before(g.ExpiresAt) {
		return Grant{}, false, nil
	}
	return g, true, nil
}
