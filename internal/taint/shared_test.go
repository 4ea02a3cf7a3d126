package taint

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeShared is a Shared in memory that counts reads and can fail.
type fakeShared struct {
	mu    sync.Mutex
	srcs  map[string][]Source
	reads int
	fail  error
}

func (f *fakeShared) SessionFlags(_ context.Context, s string) ([]Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.fail != nil {
		return nil, f.fail
	}
	return append([]Source(nil), f.srcs[s]...), nil
}

func (f *fakeShared) MarkSession(_ context.Context, s string, src Source) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.srcs[s] = append(f.srcs[s], src)
	return nil
}

func (f *fakeShared) EndSession(_ context.Context, s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.srcs, s)
	return f.fail
}

func (f *fakeShared) PruneSessionFlags(context.Context, time.Time) (int64, error) { return 0, nil }

func TestSharedFlags(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	store := &fakeShared{srcs: map[string][]Source{}}
	var errs []error
	a := New(Options{Shared: store, Now: clock, TTL: time.Hour})
	b := New(Options{Shared: store, Now: clock, TTL: time.Hour, OnSharedError: func(err error) { errs = append(errs, err) }})

	a.Mark("s", Source{Flag: Untrusted, Tool: "WebFetch", Reason: "page"})
	if b.State("s").Untrusted {
		t.Fatal("b knew the flag without reading the store")
	}
	if s := b.Current(ctx, "s"); !s.Untrusted || s.Sensitive || len(s.Sources) != 1 || s.Sources[0].Tool != "WebFetch" {
		t.Fatalf("b.Current after a's mark: %+v", s)
	}
	if !b.State("s").Untrusted {
		t.Error("b did not keep what it read")
	}
	// A session with both flags is not read again: flags are only set.
	b.Mark("s", Source{Flag: Sensitive, Tool: "Read", Reason: ".env"})
	reads := store.reads
	if s := b.Current(ctx, "s"); !s.Untrusted || !s.Sensitive || store.reads != reads {
		t.Errorf("a session with both flags: %+v after %d more reads", s, store.reads-reads)
	}
	// Sources older than the flags' life do not count.
	store.srcs["old"] = []Source{{Flag: Untrusted, Tool: "WebFetch", Reason: "long ago", Time: now.Add(-2 * time.Hour)}}
	if s := a.Current(ctx, "old"); s.Untrusted {
		t.Errorf("an expired source counted: %+v", s)
	}
	// A store that cannot be read counts as both flags, and says so.
	store.fail = errors.New("connection refused")
	s := b.Current(ctx, "fresh")
	if !s.Untrusted || !s.Sensitive || len(s.Sources) != 2 || !strings.Contains(s.Sources[0].Reason, "could not be read") {
		t.Errorf("a failing store: %+v, want both flags with the reason", s)
	}
	if len(errs) != 1 {
		t.Errorf("OnSharedError was told %d times, want 1", len(errs))
	}
	if b.State("fresh").Untrusted {
		t.Error("the fail-closed flags were kept as if they were real")
	}
	// A failed write is reported, and the flag is held here all the same.
	b.Mark("w", Source{Flag: Untrusted, Tool: "WebFetch", Reason: "x"})
	if len(errs) != 2 || !b.State("w").Untrusted {
		t.Errorf("a failed write: %d errors, flag %v", len(errs), b.State("w").Untrusted)
	}
	store.fail = nil
	// End forgets the session in the store too.
	a.End("s")
	if s := New(Options{Shared: store, Now: clock}).Current(ctx, "s"); s.Untrusted || s.Sensitive {
		t.Errorf("after End another replica reads %+v", s)
	}
	// Without a store nothing is read.
	if New(Options{}).Shared() {
		t.Error("a tracker without a store says it shares")
	}
}
