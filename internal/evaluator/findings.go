package evaluator

import (
	"cmp"
	"fmt"
	"time"
)

// Thresholds of the warnings and strengths (see the package doc).
const (
	warnMinDecisions     = 10
	warnMinRuns          = 10
	warnRate             = 0.2
	warnMinNegative      = 3
	warnNegativeMass     = 2
	warnMinTrendEvents   = 10
	warnQualityDrop      = 10
	strongMinRuns        = 20
	strongRuntime        = 90
	strongMaxFailureRate = 0.02
	strongMinSignals     = 3
	strongSatisfaction   = 75
	strongMinDecisions   = 20
	strongPreExec        = 90
	strongMinVerified    = 20
)

// warnings are what needs a look in the last 24 hours (day) and the
// trend.
func warnings(scope Scope, day *tally, dayFails map[string]int64, tr Trend) []Finding {
	out := []Finding{}
	if n := day.verifyFails; n > 0 {
		msg := fmt.Sprintf("%s in last 24h", plural(n, "verify failure"))
		if s, more := worstSession(dayFails); s != "" && scope != ScopeSession {
			msg += " — review session " + s
			if more > 0 {
				msg += fmt.Sprintf(" (and %d more)", more)
			}
		}
		out = append(out, Finding{Code: "verify.failures", Message: msg})
	}
	if declining(day) {
		review := "review recent sessions"
		if scope == ScopeSession {
			review = "review this session"
		}
		out = append(out, Finding{Code: "satisfaction.declining", Message: fmt.Sprintf(
			"User satisfaction declining — %s in last 24h (average %.2f); %s",
			plural(day.negative, "negative signal"), day.negSum/float64(day.negative), review)})
	}
	if day.decisions >= warnMinDecisions && rate(day.denied, day.decisions) >= warnRate {
		out = append(out, Finding{Code: "decisions.deny_rate", Message: fmt.Sprintf(
			"High deny rate: %d of %d calls denied in last 24h (%.0f%%)", day.denied, day.decisions, 100*rate(day.denied, day.decisions))})
	}
	if failed := day.errors + day.timeouts; day.ran >= warnMinRuns && rate(failed, day.ran) >= warnRate {
		out = append(out, Finding{Code: "runtime.failures", Message: fmt.Sprintf(
			"Execution failures: %d of %d runs failed or timed out in last 24h", failed, day.ran)})
	}
	if day.decisions >= warnMinDecisions && rate(day.schemaCalls, day.decisions) >= warnRate {
		out = append(out, Finding{Code: "params.schema", Message: fmt.Sprintf(
			"Parameter problems: %d of %d calls failed schema checks in last 24h", day.schemaCalls, day.decisions)})
	}
	if d, ok := tr.Delta(); ok && d <= -warnQualityDrop &&
		tr.Current.Events >= warnMinTrendEvents && tr.Previous.Events >= warnMinTrendEvents {
		w := window(tr.Window)
		out = append(out, Finding{Code: "quality.dropping", Message: fmt.Sprintf(
			"Quality dropping: %s in the last %s, down from %s the %s before",
			tr.Current.Overall, w, tr.Previous.Overall, w)})
	}
	return out
}

// declining: recent negative signals dominate.
func declining(day *tally) bool {
	return day.negative >= warnMinNegative && -day.negSum >= warnNegativeMass*day.posSum
}

// strengths are what has gone well over everything ingested.
func strengths(total *tally, b Breakdown, day *tally) []Finding {
	out := []Finding{}
	if total.ran >= strongMinRuns && b.Runtime.Value >= strongRuntime &&
		rate(total.errors+total.timeouts, total.ran) <= strongMaxFailureRate {
		out = append(out, Finding{Code: "runtime.reliable", Message: fmt.Sprintf(
			"Excellent execution reliability (runtime %s over %d runs)", b.Runtime, total.ran)})
	}
	if s := b.Satisfaction; s.N >= strongMinSignals && s.Value >= strongSatisfaction && !declining(day) {
		out = append(out, Finding{Code: "feedback.positive", Message: fmt.Sprintf(
			"Strong positive user feedback (satisfaction %s from %s)", s, plural(s.N, "signal"))})
	}
	if total.decisions >= strongMinDecisions && total.schemaCalls == 0 && b.PreExec.Value >= strongPreExec {
		out = append(out, Finding{Code: "params.clean", Message: fmt.Sprintf(
			"Well-formed calls: no schema problem in %d calls", total.decisions)})
	}
	if total.verified >= strongMinVerified && total.verifyFails == 0 {
		out = append(out, Finding{Code: "verify.clean", Message: fmt.Sprintf(
			"Verified results hold: %d checks, no failure", total.verified)})
	}
	return out
}

// inputFindings say what the profile could not use.
func (a *Aggregator) inputFindings() []Finding {
	var out []Finding
	if a.rejected > 0 {
		out = append(out, Finding{Code: "input.rejected", Message: fmt.Sprintf(
			"%s skipped — first: %s", plural(a.rejected, "malformed event"), a.firstReject)})
	}
	if a.agents.evicted > 0 || a.sessions.evicted > 0 {
		out = append(out, Finding{Code: "input.evicted", Message: fmt.Sprintf(
			"Profiles dropped to stay within limits: %s (max %d), %s (max %d); the totals still count their events",
			plural(a.agents.evicted, "agent"), a.agents.max, plural(a.sessions.evicted, "session"), a.sessions.max)})
	}
	return out
}

// worstSession is the session with the most failures (the first by name
// on a tie) and how many other sessions had failures.
func worstSession(fails map[string]int64) (name string, others int) {
	var best int64
	for s, n := range fails {
		if n > best || n == best && cmp.Less(s, name) {
			name, best = s, n
		}
	}
	if name == "" {
		return "", 0
	}
	return name, len(fails) - 1
}

func rate(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// window renders a trend window: "24h", "90m".
func window(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}
