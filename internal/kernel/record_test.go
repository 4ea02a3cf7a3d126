package kernel

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// recorder keeps events, or fails.
type recorder struct {
	mu   sync.Mutex
	evs  []audit.Event
	fail error
}

func (r *recorder) Record(ctx context.Context, ev audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.evs = append(r.evs, ev)
	return nil
}

func TestEveryDecisionIsRecorded(t *testing.T) {
	rec := &recorder{}
	k := newTestKernel(t, Options{CacheSize: 16, Recorder: rec})
	ctx := context.Background()
	call := request.Raw{Tool: "exec", Session: "s9", Agent: "a9", Args: map[string]any{"command": "cat ~/.ssh/id_rsa"}}
	for i := 0; i < 2; i++ { // the second is served from the cache
		if d := k.Decide(ctx, call); d.Action != decision.Deny {
			t.Fatalf("decision %d: %s", i, d.Action)
		}
	}
	if _, tr := k.Explain(ctx, call); tr == nil {
		t.Fatal("no trace")
	}
	if len(rec.evs) != 2 {
		t.Fatalf("recorded %d events, want 2 (explain records nothing)", len(rec.evs))
	}
	for i, ev := range rec.evs {
		if ev.Kind != "exec" || ev.Session != "s9" || ev.Agent != "a9" || ev.Decision == nil || ev.Decision.Action != "deny" ||
			ev.Analysis == nil || len(ev.Analysis.Commands) == 0 || ev.DecisionID == "" {
			t.Fatalf("event %d is incomplete: %+v", i, ev)
		}
	}
}

func TestUnrecordableDecisionIsDenied(t *testing.T) {
	rec := &recorder{fail: errors.New("database is locked")}
	k := newTestKernel(t, Options{Recorder: rec})
	d := k.Decide(context.Background(), request.Raw{Tool: "exec", Args: map[string]any{"command": "ls"}})
	if d.Action != decision.Deny || d.Reasons[0].Code != CodeAuditUnavailable {
		t.Fatalf("an allow that could not be recorded: %s %v", d.Action, d.Codes())
	}
}
