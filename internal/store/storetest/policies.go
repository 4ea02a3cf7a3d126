package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sentinel-agent/sentinel/internal/sharedpolicy"
)

// RunPolicies holds the store that open returns to the acceptance suite of
// sharedpolicy.Store. open follows RunApprovals' contract: a fresh
// database for every new t, another handle on the same database when
// called again with the same t.
func RunPolicies(t *testing.T, open func(t *testing.T) sharedpolicy.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) sharedpolicy.Store)
	}{
		{"RoundTrip", testPolicyRoundTrip},
		{"CompareAndSet", testPolicyCAS},
		{"Refuses", testPolicyRefuses},
		{"ConcurrentAppend", testPolicyConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// revision returns revision seq with a text of its own; its time keeps
// nanoseconds, so that a store keeping more than microseconds, or fewer,
// shows.
func revision(seq int64) sharedpolicy.Revision {
	src := []byte(fmt.Sprintf("version: 1\n# revision %d\nrules: []\n", seq))
	return sharedpolicy.Revision{Seq: seq, Hash: sharedpolicy.Hash(src), Source: src, By: "ops@example",
		At: time.Date(2026, 11, 21, 16, 0, int(seq), 123456789, time.UTC)}
}

func latest(t *testing.T, s sharedpolicy.Store) sharedpolicy.Revision {
	t.Helper()
	r, err := s.LatestPolicy(context.Background())
	if err != nil {
		t.Fatalf("LatestPolicy: %v", err)
	}
	return r
}

func testPolicyRoundTrip(t *testing.T, open func(t *testing.T) sharedpolicy.Store) {
	ctx := context.Background()
	s := open(t)
	if _, err := s.LatestPolicy(ctx); !errors.Is(err, sharedpolicy.ErrNotFound) {
		t.Fatalf("LatestPolicy of an empty store: %v, want ErrNotFound", err)
	}
	for seq := int64(1); seq <= 3; seq++ {
		if err := s.AppendPolicy(ctx, revision(seq)); err != nil {
			t.Fatalf("AppendPolicy(%d): %v", seq, err)
		}
	}
	want := revision(3)
	want.At = want.At.Truncate(time.Microsecond) // PostgreSQL keeps microseconds
	got := latest(t, open(t))                    // another handle on the same database
	got.At = got.At.Truncate(time.Microsecond)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LatestPolicy (-want +got):\n%s", diff)
	}
}

func testPolicyCAS(t *testing.T, open func(t *testing.T) sharedpolicy.Store) {
	ctx := context.Background()
	s := open(t)
	for _, seq := range []int64{2, 0} {
		if err := s.AppendPolicy(ctx, revision(seq)); err == nil {
			t.Errorf("AppendPolicy(%d) into an empty store succeeded", seq)
		}
	}
	if err := s.AppendPolicy(ctx, revision(1)); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []int64{1, 3} {
		if err := s.AppendPolicy(ctx, revision(seq)); !errors.Is(err, sharedpolicy.ErrConflict) {
			t.Errorf("AppendPolicy(%d) after 1: %v, want ErrConflict", seq, err)
		}
	}
	if got := latest(t, s); got.Seq != 1 {
		t.Errorf("after refused appends the newest is %d, want 1", got.Seq)
	}
}

func testPolicyRefuses(t *testing.T, open func(t *testing.T) sharedpolicy.Store) {
	ctx := context.Background()
	s := open(t)
	bad := []func(r *sharedpolicy.Revision){
		func(r *sharedpolicy.Revision) { r.Hash = sharedpolicy.Hash([]byte("other")) },
		func(r *sharedpolicy.Revision) { r.Source, r.Hash = nil, sharedpolicy.Hash(nil) },
		func(r *sharedpolicy.Revision) { r.By = "" },
		func(r *sharedpolicy.Revision) { r.At = time.Time{} },
		func(r *sharedpolicy.Revision) { r.Seq = -1 },
	}
	for i, change := range bad {
		r := revision(1)
		change(&r)
		if err := s.AppendPolicy(ctx, r); !errors.Is(err, sharedpolicy.ErrInvalid) {
			t.Errorf("bad revision %d: %v, want ErrInvalid", i, err)
		}
	}
	if _, err := s.LatestPolicy(ctx); !errors.Is(err, sharedpolicy.ErrNotFound) {
		t.Errorf("a refused revision was stored: %v", err)
	}
}

// testPolicyConcurrent: eight writers (on handles of their own, as
// replicas are) append the same next revision; one wins.
func testPolicyConcurrent(t *testing.T, open func(t *testing.T) sharedpolicy.Store) {
	ctx := context.Background()
	s := open(t)
	if err := s.AppendPolicy(ctx, revision(1)); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	handles := make([]sharedpolicy.Store, writers)
	for i := range handles {
		handles[i] = open(t)
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	start := make(chan struct{})
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := revision(2)
			r.By = fmt.Sprintf("replica-%d", i)
			errs[i] = handles[i].AppendPolicy(ctx, r)
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, sharedpolicy.ErrConflict):
			t.Errorf("writer %d: %v, want success or ErrConflict", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers appended revision 2, want exactly 1", won)
	}
	if got := latest(t, s); got.Seq != 2 {
		t.Errorf("newest is %d, want 2", got.Seq)
	}
}
