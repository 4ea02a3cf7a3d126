package mcpguard

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/mcpguard/pin"
)

// countingPins is a pin.Store holding one approved hash per tool, counting
// its reads.
type countingPins struct {
	approved map[string]string
	reads    int
	fail     bool
}

func (c *countingPins) GetPin(_ context.Context, server, tool string) (pin.Pin, error) {
	c.reads++
	if c.fail {
		return pin.Pin{}, errors.New("store down")
	}
	return pin.Pin{Server: server, Tool: tool, Approved: c.approved[tool]}, nil
}
func (c *countingPins) ListPins(context.Context, pin.Filter) ([]pin.Pin, error) { return nil, nil }
func (c *countingPins) CreatePin(context.Context, pin.Pin) error                { return nil }
func (c *countingPins) UpdatePin(context.Context, pin.Pin) error                { return nil }

func TestApprovedPinIsRememberedBriefly(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	st := &countingPins{approved: map[string]string{"echo": "h1"}}
	p := &Proxy{opts: Options{Name: "up", Pins: st, Now: func() time.Time { return now }}}
	ctx := context.Background()
	get := func(want string) string {
		t.Helper()
		got, err := p.approvedPin(ctx, "echo", want)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	first, second := get("h1"), get("h1")
	if first != "h1" || second != "h1" || st.reads != 1 {
		t.Fatalf("two calls within the TTL read the store %d times, want once", st.reads)
	}
	// A listing with another hash is never answered from memory.
	if got := get("h2"); got != "h1" || st.reads != 2 {
		t.Errorf("changed listing: approved %q after %d reads; want the store's h1 on a new read", got, st.reads)
	}
	// The mismatch dropped the remembered match: the next call reads.
	get("h1")
	if st.reads != 3 {
		t.Errorf("after a mismatch: %d reads, want 3", st.reads)
	}
	// Past the TTL the store is read again, and what it says now counts.
	now = now.Add(pinTTL)
	st.approved["echo"] = "h3"
	if got := get("h1"); got != "h3" || st.reads != 4 {
		t.Errorf("after the TTL: approved %q after %d reads; want h3 on a fresh read", got, st.reads)
	}
	// An unapproved pin is not remembered, and a store error is returned.
	st.approved["echo"] = ""
	now = now.Add(pinTTL)
	get("h3")
	get("h3")
	if st.reads != 6 {
		t.Errorf("unapproved pin: %d reads, want a read per call", st.reads)
	}
	st.fail = true
	if _, err := p.approvedPin(ctx, "echo", "h3"); err == nil {
		t.Error("a failing store gave no error")
	}
	// A clock that went backwards does not make a read look fresh.
	st.fail = false
	st.approved["echo"] = "h4"
	get("h4")
	now = now.Add(-time.Hour)
	n := st.reads
	get("h4")
	if st.reads != n+1 {
		t.Errorf("clock moved back: %d reads, want a fresh read", st.reads-n)
	}
}
