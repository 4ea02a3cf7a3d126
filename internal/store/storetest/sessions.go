package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sentinel-agent/sentinel/internal/taint"
)

// RunSessionFlags holds the store that open returns to the acceptance
// suite of taint.Shared. open follows RunApprovals' contract: a fresh
// database for every new t, another handle on the same database when
// called again with the same t.
func RunSessionFlags(t *testing.T, open func(t *testing.T) taint.Shared) {
	ctx := context.Background()
	base := time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC)
	src := func(f taint.Flag, i int) taint.Source {
		return taint.Source{Flag: f, Tool: "WebFetch", DecisionID: fmt.Sprintf("d_%d", i), Reason: fmt.Sprintf("reason %d", i),
			Time: base.Add(time.Duration(i) * time.Second)}
	}
	t.Run("RoundTrip", func(t *testing.T) {
		a, b := open(t), open(t) // two replicas
		want := []taint.Source{src(taint.Untrusted, 1), src(taint.Sensitive, 2), src(taint.Sensitive, 3)}
		for i, s := range want {
			if err := []taint.Shared{a, b}[i%2].MarkSession(ctx, "s1", s); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.MarkSession(ctx, "s2", src(taint.Untrusted, 9)); err != nil {
			t.Fatal(err)
		}
		got, err := b.SessionFlags(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("SessionFlags(s1) (-want +got):\n%s", diff)
		}
		if got, err := a.SessionFlags(ctx, "nobody"); err != nil || len(got) != 0 {
			t.Errorf("SessionFlags of an unknown session: %v %v", got, err)
		}
		// End forgets one session only.
		if err := b.EndSession(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := a.SessionFlags(ctx, "s1"); len(got) != 0 {
			t.Errorf("an ended session still has %d sources", len(got))
		}
		if got, _ := a.SessionFlags(ctx, "s2"); len(got) != 1 {
			t.Errorf("ending s1 touched s2: %d sources", len(got))
		}
	})
	t.Run("BoundsAndPrune", func(t *testing.T) {
		s := open(t)
		for i := range taint.MaxSharedSources + 8 {
			if err := s.MarkSession(ctx, "busy", src(taint.Untrusted, i)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.SessionFlags(ctx, "busy")
		if err != nil || len(got) != taint.MaxSharedSources || got[0].DecisionID != "d_0" {
			t.Fatalf("SessionFlags returned %d sources (first %v), %v; want the oldest %d", len(got), got[0], err, taint.MaxSharedSources)
		}
		n, err := s.PruneSessionFlags(ctx, base.Add(10*time.Second))
		if err != nil || n != 10 {
			t.Fatalf("PruneSessionFlags: %d %v, want 10", n, err)
		}
		if got, _ := s.SessionFlags(ctx, "busy"); len(got) != taint.MaxSharedSources-2 || got[0].DecisionID != "d_10" {
			t.Errorf("after pruning %d sources are left, the oldest %v; want %d from d_10", len(got), got[0], taint.MaxSharedSources-2)
		}
		for _, bad := range []string{"", strings.Repeat("x", taint.MaxSessionBytes+1)} {
			if err := s.MarkSession(ctx, bad, src(taint.Untrusted, 1)); err == nil {
				t.Errorf("a session id of %d bytes was stored", len(bad))
			}
			if _, err := s.SessionFlags(ctx, bad); err == nil {
				t.Errorf("a session id of %d bytes was read", len(bad))
			}
		}
	})
}
