package evaluator

import (
	"fmt"
	"strings"
	"time"
)

// reportMaxAgents bounds the agents listed in a report.
const reportMaxAgents = 20

// Report renders the text status report of the seed (the Quality Score
// with its trend, the Breakdown, the Audit figures, Warnings and
// Strengths), followed by one line per agent.
func Report(p Profile) string {
	var b strings.Builder
	s := &p.All
	b.WriteString("=== Sentinel Status Report ===\n")
	if p.Now.IsZero() {
		b.WriteString("As of: no events\n")
	} else {
		fmt.Fprintf(&b, "As of: %s\n", p.Now.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "\nQuality Score: %s\n", s.Overall)
	fmt.Fprintf(&b, "Trend: %s\n", trendText(s.Trend))
	fmt.Fprintf(&b, "Total Operations: %d (%d in last 24h)\n", s.Counts.Operations, s.Counts.Last24h)

	b.WriteString("\n--- Breakdown ---\n")
	fmt.Fprintf(&b, "Pre-Exec: %s\n", s.Breakdown.PreExec)
	fmt.Fprintf(&b, "Runtime: %s\n", s.Breakdown.Runtime)
	fmt.Fprintf(&b, "Post-Exec: %s\n", s.Breakdown.PostExec)
	fmt.Fprintf(&b, "Satisfaction: %s\n", s.Breakdown.Satisfaction)

	b.WriteString("\n--- Audit ---\n")
	fmt.Fprintf(&b, "Total: %d | Failures: %d | High-Risk: %d\n", s.Counts.Operations, s.Counts.Failures, s.Counts.HighRisk)
	fmt.Fprintf(&b, "Denied: %d | Confirmed: %d | Runs: %d | Errors: %d | Timeouts: %d | Signals: %d\n",
		s.Counts.Denied, s.Counts.Confirmed, s.Counts.Runs, s.Counts.ExecErrors, s.Counts.Timeouts, s.Counts.Signals)

	b.WriteString("\n--- Warnings ---\n")
	writeFindings(&b, s.Warnings)
	b.WriteString("\n--- Strengths ---\n")
	writeFindings(&b, s.Strengths)

	if len(p.Agents) > 0 {
		b.WriteString("\n--- Agents ---\n")
		for i, a := range p.Agents {
			if i == reportMaxAgents {
				fmt.Fprintf(&b, "- … and %d more\n", len(p.Agents)-reportMaxAgents)
				break
			}
			fmt.Fprintf(&b, "- %s: %s | %s | %s | %s\n", agentName(a.Name), a.Overall, plural(a.Counts.Operations, "operation"),
				plural(int64(len(a.Warnings)), "warning"), plural(int64(len(a.Strengths)), "strength"))
		}
	}
	return b.String()
}

func writeFindings(b *strings.Builder, fs []Finding) {
	if len(fs) == 0 {
		b.WriteString("- none\n")
	}
	for _, f := range fs {
		fmt.Fprintf(b, "- %s\n", f.Message)
	}
}

// trendText says how the last window's overall score compares with the
// window before.
func trendText(t Trend) string {
	w := window(t.Window)
	if _, ok := t.Delta(); !ok {
		return fmt.Sprintf("n/a (needs events in both of the last two %s windows)", w)
	}
	dir := "steady"
	// The rounded scores shown, so that the text adds up.
	switch r := t.Current.Overall.Rounded() - t.Previous.Overall.Rounded(); {
	case r > 0:
		dir = fmt.Sprintf("up %d", r)
	case r < 0:
		dir = fmt.Sprintf("down %d", -r)
	}
	return fmt.Sprintf("%s (last %s %s, the %s before %s)", dir, w, t.Current.Overall, w, t.Previous.Overall)
}

func agentName(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return s
}
