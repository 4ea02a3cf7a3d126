package cli

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
)

func TestCheckDrift(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "audit.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	clock := now.Add(-8 * 24 * time.Hour)
	key, err := audit.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(ctx, st, audit.Options{Mode: audit.Sync, Key: key, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	decide := func(agent, action string) {
		t.Helper()
		if err := l.Record(ctx, audit.Event{Type: audit.TypeDecision, Agent: agent, Session: "s", Tool: "Bash",
			Decision: &audit.Decision{Action: action, Risk: audit.Risk{Score: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	// A week at a 2% deny rate for both agents.
	for i := range 700 {
		clock = now.Add(-8*24*time.Hour + time.Duration(i)*14*time.Minute)
		action := "allow"
		if i%50 == 0 {
			action = "deny"
		}
		decide("steady", action)
		decide("drifting", action)
	}
	// The last day: "drifting" is denied a quarter of the time.
	for i := range 200 {
		clock = now.Add(-20*time.Hour + time.Duration(i)*5*time.Minute)
		decide("steady", map[bool]string{true: "deny", false: "allow"}[i%50 == 0])
		decide("drifting", map[bool]string{true: "deny", false: "allow"}[i%4 == 0])
	}
	clock = now
	alerts, err := checkDrift(ctx, st, l, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) == 0 {
		t.Fatal("no alert for a deny rate from 2% to 25%")
	}
	for _, a := range alerts {
		if a.Agent != "drifting" {
			t.Errorf("alert for %s: %+v", a.Agent, a)
		}
	}
	recs, err := st.Query(ctx, audit.Filter{Agent: "drifting", Since: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Type == audit.TypeAlert {
			n++
		}
	}
	if n != len(alerts) {
		t.Errorf("%d alert events in the audit log, want %d", n, len(alerts))
	}
	// Checked again, the same drift is not alerted twice.
	again, err := checkDrift(ctx, st, l, now)
	if err != nil || len(again) != 0 {
		t.Errorf("second check: %v %v", again, err)
	}
}
