package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/kernel"
)

func runExplain(e *env, args []string) int {
	d, code := setupDecide(e, "explain", args)
	if d == nil {
		return code
	}
	dec, tr := d.k.Explain(e.ctx, d.raw)
	if *d.g.format == "json" {
		writeJSON(e.stdout, explainJSON(dec, tr))
	} else {
		writeExplainText(e.stdout, dec, tr)
	}
	return exitFor(dec.Action)
}

type gateJSON struct {
	Gate    string               `json:"gate"`
	Action  string               `json:"action"`
	Reasons []reasonJSON         `json:"reasons"`
	Notes   []string             `json:"notes,omitempty"`
	Risk    *decision.Dimensions `json:"risk,omitempty"`
	Error   string               `json:"error,omitempty"`
}

type reasonJSON struct {
	Gate        string `json:"gate"`
	Code        string `json:"code"`
	Action      string `json:"action"`
	Message     string `json:"message"`
	Detail      string `json:"detail,omitempty"`
	Alternative string `json:"alternative,omitempty"`
}

func reasonsJSON(rs []decision.Reason) []reasonJSON {
	out := make([]reasonJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, reasonJSON{r.Gate, r.Code, r.Action.String(), r.Message, r.Detail, r.Alternative})
	}
	return out
}

func explainJSON(dec decision.Decision, tr *kernel.Trace) any {
	out := map[string]any{"decision": dec, "reasons": reasonsJSON(dec.Reasons)}
	if tr == nil {
		return out
	}
	out["env"] = map[string]string{"workspace": tr.Env.Workspace, "cwd": tr.Env.Cwd, "home": tr.Env.Home}
	if tr.Call != nil {
		out["call"] = tr.Call
	}
	if tr.Analysis != nil {
		out["analysis"] = tr.Analysis
	}
	var gates []gateJSON
	for _, r := range tr.Results {
		g := gateJSON{Gate: r.Gate, Action: r.Verdict.Action.String(), Reasons: reasonsJSON(r.Verdict.Reasons), Notes: r.Verdict.Notes, Risk: r.Verdict.Risk}
		if r.Err != nil {
			g.Error = r.Err.Error()
		}
		gates = append(gates, g)
	}
	out["gates"] = gates
	return out
}

func writeExplainText(w io.Writer, dec decision.Decision, tr *kernel.Trace) {
	if tr != nil && tr.Call != nil {
		c := tr.Call
		fmt.Fprintf(w, "call       %s → kind %s", c.Tool, c.Kind)
		if c.Wrapped != "" {
			fmt.Fprintf(w, " (inside %s)", c.Wrapped)
		}
		fmt.Fprintln(w)
		keys := make([]string, 0, len(c.Args))
		for k := range c.Args {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-9s%s\n", k+":", short(fmt.Sprint(c.Args[k]), 200))
		}
		fmt.Fprintf(w, "workspace  %s\ncwd        %s\n", tr.Env.Workspace, tr.Env.Cwd)
	}
	if tr != nil && tr.Analysis != nil {
		writeAnalysis(w, tr.Analysis)
	}
	if tr != nil {
		fmt.Fprintln(w, "gates")
		for _, r := range tr.Results {
			fmt.Fprintf(w, "  %-8s %s\n", r.Gate, r.Verdict.Action)
			for _, rs := range r.Verdict.Reasons {
				fmt.Fprintf(w, "           %-7s %s: %s\n", rs.Action, rs.Code, rs.Message)
				if rs.Detail != "" && rs.Detail != rs.Message {
					fmt.Fprintf(w, "                   detail: %s\n", short(rs.Detail, 300))
				}
				if rs.Alternative != "" {
					fmt.Fprintf(w, "                   instead: %s\n", rs.Alternative)
				}
			}
			for _, n := range r.Verdict.Notes {
				fmt.Fprintf(w, "           · %s\n", short(n, 300))
			}
			if r.Err != nil {
				fmt.Fprintf(w, "           error: %s\n", short(r.Err.Error(), 300))
			}
		}
	}
	for _, r := range dec.Reasons {
		if r.Gate == "kernel" {
			fmt.Fprintf(w, "kernel     %s %s: %s\n", r.Action, r.Code, r.Message)
		}
	}
	fmt.Fprintf(w, "decision   %s (strictest wins: deny > confirm > notify > allow)\n", strings.ToUpper(dec.Action.String()))
	fmt.Fprintf(w, "risk       %.2f\nid         %s\npolicy     %s\n", dec.Risk.Score, dec.DecisionID, dec.PolicyRevision)
}

func writeAnalysis(w io.Writer, a *analysis.Analysis) {
	if a.ParseError != "" {
		fmt.Fprintf(w, "parse      error: %s\n", a.ParseError)
	}
	if len(a.Commands) > 0 {
		fmt.Fprintf(w, "commands   %d\n", len(a.Commands))
		for _, c := range a.Commands {
			var tags []string
			if c.Privileged {
				tags = append(tags, "root")
			}
			if len(c.Wrappers) > 0 {
				tags = append(tags, "via "+strings.Join(c.Wrappers, ", "))
			}
			if c.Via != "" {
				tags = append(tags, c.Via)
			}
			if c.Dynamic {
				tags = append(tags, "dynamic")
			}
			t := ""
			if len(tags) > 0 {
				t = "  [" + strings.Join(tags, "; ") + "]"
			}
			fmt.Fprintf(w, "  %s%s %s%s\n", strings.Repeat("  ", c.Depth), c.Name, short(strings.Join(c.Args, " "), 160), t)
		}
	}
	for _, p := range a.Paths {
		var tags []string
		if p.Recursive {
			tags = append(tags, "recursive")
		}
		if p.Privileged {
			tags = append(tags, "root")
		}
		if p.Dynamic {
			tags = append(tags, "dynamic")
		}
		fmt.Fprintf(w, "path       %-6s %s %s\n", p.Op, p.Path, strings.Join(tags, " "))
	}
	for _, d := range a.Dests {
		var tags []string
		if d.Sends {
			tags = append(tags, "sends "+d.Data)
		}
		if d.Listens {
			tags = append(tags, "listens")
		}
		fmt.Fprintf(w, "network    %s (host %s) %s\n", d.Raw, d.Host, strings.Join(tags, " "))
	}
	for _, u := range a.Unresolved {
		fmt.Fprintf(w, "unresolved %s\n", u)
	}
	for _, f := range a.Findings {
		fmt.Fprintf(w, "finding    %s (%s): %s\n", f.Code, f.Action, f.Message)
	}
}

func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
