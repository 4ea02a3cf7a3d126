package gate

import (
	"context"
	"errors"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

type fixed struct {
	name string
	v    Verdict
	err  error
	pan  bool
}

func (f fixed) Name() string { return f.name }
func (f fixed) Check(ctx context.Context, in *Input) (Verdict, error) {
	if f.pan {
		panic("boom")
	}
	return f.v, f.err
}

func verdict(a decision.Action, code string) Verdict {
	var v Verdict
	v.Add(decision.Reason{Gate: "g", Code: code, Action: a, Message: code})
	return v
}

func TestChainStrictestWins(t *testing.T) {
	c := Chain{
		fixed{name: "a", v: verdict(decision.Notify, "a.n")},
		fixed{name: "b", v: verdict(decision.Deny, "b.d")},
		fixed{name: "c", v: verdict(decision.Confirm, "c.c")},
	}
	got, reasons, results := c.Run(context.Background(), &Input{})
	if got != decision.Deny {
		t.Errorf("action = %s, want deny", got)
	}
	if len(reasons) != 3 || len(results) != 3 {
		t.Errorf("got %d reasons and %d results, want 3 and 3: every gate runs", len(reasons), len(results))
	}
}

func TestChainFailsClosed(t *testing.T) {
	tests := []struct {
		name string
		g    Gate
	}{
		{"error", fixed{name: "e", err: errors.New("cannot read")}},
		{"panic", fixed{name: "p", pan: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reasons, results := Chain{fixed{name: "ok"}, tt.g}.Run(context.Background(), &Input{})
			if got != decision.Deny {
				t.Fatalf("action = %s, want deny", got)
			}
			if len(reasons) != 1 || reasons[0].Code != CodeGateError || reasons[0].Gate != tt.g.Name() {
				t.Fatalf("reasons = %+v, want one %s from %s", reasons, CodeGateError, tt.g.Name())
			}
			if results[1].Err == nil {
				t.Error("the result does not carry the error")
			}
		})
	}
}

func TestChainStopsOnCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, reasons, results := Chain{fixed{name: "a"}}.Run(ctx, &Input{})
	if got != decision.Deny || len(results) != 0 || reasons[0].Code != "kernel.timeout" {
		t.Fatalf("got %s %+v with %d results, want deny kernel.timeout before any gate", got, reasons, len(results))
	}
}

func TestPriorIsVisibleToLaterGates(t *testing.T) {
	var seen int
	probe := probeGate{f: func(in *Input) { seen = len(in.Prior) }}
	Chain{fixed{name: "a"}, fixed{name: "b"}, probe}.Run(context.Background(), &Input{})
	if seen != 2 {
		t.Fatalf("the third gate saw %d prior results, want 2", seen)
	}
}

type probeGate struct{ f func(*Input) }

func (probeGate) Name() string { return "probe" }
func (p probeGate) Check(ctx context.Context, in *Input) (Verdict, error) {
	p.f(in)
	return Verdict{}, nil
}
