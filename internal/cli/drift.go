package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/evaluator"
)

// driftWindow is the recent window checked against the agent's own
// baseline, which is the week before it.
const (
	driftWindow   = 24 * time.Hour
	driftBaseline = 7 * 24 * time.Hour
)

// checkDrift compares each agent's last day with its week before and
// records an alert event for each significant change not already alerted
// in the last day. It returns the alerts recorded.
func checkDrift(ctx context.Context, st audit.Store, rec interface {
	Record(context.Context, audit.Event) error
}, now time.Time) ([]evaluator.Alert, error) {
	evs, err := loadEvaluatorEvents(ctx, st, now.Add(-driftWindow-driftBaseline))
	if err != nil {
		return nil, err
	}
	agents := map[string]bool{}
	for _, e := range evs {
		if e.Agent != "" {
			agents[e.Agent] = true
		}
	}
	// Alerts already raised in the recent window, by agent and code.
	raised := map[string]bool{}
	recs, err := st.Query(ctx, audit.Filter{Since: now.Add(-driftWindow), Limit: 10_000, Desc: true})
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Type == audit.TypeAlert {
			var ev audit.Event
			if json.Unmarshal(r.Body, &ev) == nil && ev.Alert != nil {
				raised[ev.Agent+"\x00"+ev.Alert.Code] = true
			}
		}
	}
	names := make([]string, 0, len(agents))
	for a := range agents {
		names = append(names, a)
	}
	sort.Strings(names)
	var out []evaluator.Alert
	for _, agent := range names {
		base := evaluator.BaselineOf(evs, agent, now.Add(-driftWindow-driftBaseline), now.Add(-driftWindow))
		recent := evaluator.BaselineOf(evs, agent, now.Add(-driftWindow), now.Add(time.Second))
		for _, a := range evaluator.Drift(base, recent) {
			if raised[agent+"\x00"+a.Code] {
				continue
			}
			ev := audit.Event{Type: audit.TypeAlert, Agent: agent, Alert: &audit.Alert{Code: a.Code, Message: a.Message,
				Detail: fmt.Sprintf("%s: %s → %s (%s %.3g, p %.2g)", a.Code, a.From, a.To, a.Test, a.Statistic, a.PValue)}}
			if err := rec.Record(ctx, ev); err != nil {
				return out, err
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// watchDrift runs checkDrift every interval until ctx ends.
func watchDrift(ctx context.Context, st audit.Store, rec interface {
	Record(context.Context, audit.Event) error
}, interval time.Duration, log *slog.Logger) {
	every(ctx, interval, func() {
		alerts, err := checkDrift(ctx, st, rec, time.Now())
		if err != nil && ctx.Err() == nil {
			log.Warn("drift check failed", "error", err.Error())
		}
		for _, a := range alerts {
			log.Warn("agent behaviour drifted", "agent", a.Agent, "code", a.Code, "from", a.From, "to", a.To)
		}
	})
}
