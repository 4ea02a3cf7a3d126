package escape

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// hardGrace is how long past a case's wall limit the harness waits before
// cancelling the runner's context, for runners that do not enforce it.
const hardGrace = 30 * time.Second

// outcome is one cell of the table: one case under one runner.
type outcome struct {
	Escaped bool
	Detail  string
	Err     error
	Result  Result
}

// runCase runs c under r in env and judges it.
func runCase(ctx context.Context, r Runner, env Env, c Case) outcome {
	lim := c.limits()
	ctx, cancel := context.WithTimeout(ctx, lim.WallTime+hardGrace)
	defer cancel()
	// Scripts use paths relative to the workspace; make that hold whatever
	// directory a runner starts in.
	script := "cd " + sq(env.Workspace) + " || exit 97\n" + c.Script(env)
	res, err := r.Run(ctx, env, lim, script)
	if err != nil {
		return outcome{Err: err, Result: res, Detail: "could not run: " + err.Error()}
	}
	escaped, detail := c.Escaped(env, res)
	return outcome{Escaped: escaped, Detail: detail, Result: res}
}

// table collects outcomes by case and runner and renders them.
type table struct {
	runners []string
	cases   []Case
	cells   map[[2]string]outcome // {case, runner}
}

func newTable(cs []Case, runnerNames []string) *table {
	return &table{runners: runnerNames, cases: cs, cells: map[[2]string]outcome{}}
}

func (t *table) set(caseName, runner string, o outcome) { t.cells[[2]string{caseName, runner}] = o }

// verdict is the word a cell shows. Escapes and broken baselines are bold,
// so that what needs attention stands out.
func verdict(c Case, o outcome, ok bool) string {
	switch {
	case !ok:
		return "not run"
	case o.Err != nil:
		return "**error**"
	case c.Layer == LayerBaseline && o.Escaped:
		return "works"
	case c.Layer == LayerBaseline:
		return "**refused**"
	case o.Escaped:
		return "**escaped**"
	default:
		return "blocked"
	}
}

// markdown renders the matrix, a count of blocked attacks per runner, and
// what each cell saw.
func (t *table) markdown() string {
	var b strings.Builder
	b.WriteString("| case | layer |")
	for _, r := range t.runners {
		b.WriteString(" " + r + " |")
	}
	b.WriteString("\n| --- | --- |" + strings.Repeat(" --- |", len(t.runners)) + "\n")
	blocked := make([]int, len(t.runners))
	attacks := 0
	for _, c := range t.cases {
		if c.Layer != LayerBaseline {
			attacks++
		}
		fmt.Fprintf(&b, "| %s | %s |", c.Name, c.Layer)
		for i, r := range t.runners {
			o, ok := t.cells[[2]string{c.Name, r}]
			if ok && o.Err == nil && !o.Escaped && c.Layer != LayerBaseline {
				blocked[i]++
			}
			b.WriteString(" " + verdict(c, o, ok) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("| **attacks blocked** | |")
	for i := range t.runners {
		fmt.Fprintf(&b, " %d of %d |", blocked[i], attacks)
	}
	b.WriteString("\n\n")
	for _, c := range t.cases {
		for _, r := range t.runners {
			o, ok := t.cells[[2]string{c.Name, r}]
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "- `%s` under %s: %s — %s\n", c.Name, r, strings.Trim(verdict(c, o, ok), "*"), oneLine(o.Detail))
		}
	}
	return b.String()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
