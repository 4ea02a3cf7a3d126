package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// evalCase is one labelled call.
type evalCase struct {
	ID       string         `json:"id"`
	Tool     string         `json:"tool"`
	Args     map[string]any `json:"args"`
	Expect   string         `json:"expect"`
	Category string         `json:"category"`
	// Source and other provenance fields are allowed and ignored.
	Source string `json:"source,omitempty"`

	expect decision.Action
	file   string
	line   int
}

// EvalReport is the JSON output of sentinel eval.
type EvalReport struct {
	Cases          int                     `json:"cases"`
	BlockedRecall  float64                 `json:"blocked_recall"`
	FalseBlockRate float64                 `json:"false_block_rate"`
	ExactAccuracy  float64                 `json:"exact_accuracy"`
	ByCategory     map[string]*CategoryRow `json:"by_category"`
	// ByExpect counts cases by their expected action, so that recall on
	// "deny" rows can be told from recall on "confirm" rows.
	ByExpect   map[string]*CategoryRow `json:"by_expect"`
	Mismatches []Mismatch              `json:"mismatches"`
	// Counts behind the rates, so a reader can check them.
	ExpectBlocked int    `json:"expect_blocked"`
	Blocked       int    `json:"blocked"`
	ExpectAllow   int    `json:"expect_allow"`
	FalseBlocked  int    `json:"false_blocked"`
	Exact         int    `json:"exact"`
	Policy        string `json:"policy_revision"`
}

// CategoryRow counts one category.
type CategoryRow struct {
	Cases   int `json:"cases"`
	Blocked int `json:"blocked"`
}

// Mismatch is a case whose action differs from the expectation.
type Mismatch struct {
	ID     string   `json:"id"`
	Expect string   `json:"expect"`
	Got    string   `json:"got"`
	Codes  []string `json:"codes"`
}

func runEval(e *env, args []string) int {
	f := newFlags("eval")
	g := addGuardFlags(f, "workspace relative paths resolve against (default: a fresh empty temporary directory)")
	maxMis := f.String("max-mismatches", "25", "mismatches listed in text output (JSON lists all)")
	list := f.Bool("list", "in text output, also list every case with its decision and deciding reason")
	kind := f.String("kind", "calls", "calls (tool calls against the policy), secrets or injection (labelled texts: {\"id\",\"text\",\"label\",\"category\"})")
	pos, err := f.parse(args)
	if err == errHelp {
		fmt.Fprintln(e.stdout, "usage: sentinel eval [--kind calls|secrets|injection] [flags] FILE.jsonl ...")
		f.usage(e.stdout)
		return ExitOK
	}
	if err != nil {
		return fail(e, "eval: %v", err)
	}
	if err := g.checkFormat(); err != nil {
		return fail(e, "eval: %v", err)
	}
	if *kind != "calls" {
		if len(pos) == 0 {
			return fail(e, "eval: name at least one JSONL file of {\"id\",\"text\",\"label\",\"category\"} lines")
		}
		n := 25
		fmt.Sscanf(*maxMis, "%d", &n)
		return runTextEval(e, *kind, *g.format, pos, n)
	}
	if len(pos) == 0 {
		return fail(e, "eval: name at least one JSONL file of {\"id\",\"tool\",\"args\",\"expect\",\"category\"} lines")
	}
	var cases []evalCase
	for _, name := range pos {
		cs, err := readCases(name)
		if err != nil {
			return fail(e, "eval: %v", err)
		}
		cases = append(cases, cs...)
	}
	ws := *g.workspace
	if ws == "" {
		ws, err = os.MkdirTemp("", "sentinel-eval-")
		if err != nil {
			return fail(e, "eval: %v", err)
		}
		defer os.RemoveAll(ws)
	}
	k, err := newKernel(*g.policy, ws, 0)
	if err != nil {
		return fail(e, "eval: %v", err)
	}
	rep, got := evaluateAll(e, k, cases)
	if *g.format == "text" && *list {
		writeCaseList(e.stdout, cases, got)
	}
	if *g.format == "json" {
		writeJSON(e.stdout, rep)
		return ExitOK
	}
	n := 25
	fmt.Sscanf(*maxMis, "%d", &n)
	writeEvalMarkdown(e.stdout, rep, pos, n)
	return ExitOK
}

func readCases(name string) ([]evalCase, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []evalCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || b[0] == '#' {
			continue
		}
		var c evalCase
		dec := json.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("%s:%d: invalid JSON: %v", name, line, err)
		}
		if c.Tool == "" {
			return nil, fmt.Errorf("%s:%d: \"tool\" is missing", name, line)
		}
		a, err := decision.ParseAction(c.Expect)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: \"expect\": %v", name, line, err)
		}
		if c.ID == "" {
			c.ID = fmt.Sprintf("%s:%d", name, line)
		}
		c.expect, c.file, c.line = a, name, line
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %v", name, line+1, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no cases", name)
	}
	return out, nil
}

func evaluate(e *env, k *kernel.Kernel, cases []evalCase) *EvalReport {
	rep, _ := evaluateAll(e, k, cases)
	return rep
}

// writeCaseList prints one line per case: what was expected, what was
// decided, and the reason that decided it.
func writeCaseList(w io.Writer, cases []evalCase, got []decision.Decision) {
	fmt.Fprintf(w, "| id | tool | expect | got | deciding reason |\n|---|---|---|---|---|\n")
	for i, c := range cases {
		d := got[i]
		why := ""
		if len(d.Reasons) > 0 {
			why = "`" + d.Reasons[0].Code + "` " + d.Reasons[0].Message
		}
		mark := ""
		if g := d.Action; g != c.expect && !(g == decision.Notify && c.expect == decision.Allow) {
			mark = " ✗"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s%s | %s |\n", c.ID, c.Tool, c.expect, d.Action, mark, strings.ReplaceAll(why, "|", "\\|"))
	}
	fmt.Fprintln(w)
}

func evaluateAll(e *env, k *kernel.Kernel, cases []evalCase) (*EvalReport, []decision.Decision) {
	got := make([]decision.Decision, len(cases))
	prog := newProgress(e.stderr, len(cases))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c := cases[i]
				got[i] = k.Decide(e.ctx, request.Raw{Tool: c.Tool, Args: c.Args})
				prog.tick()
			}
		}()
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()
	prog.done()

	rep := &EvalReport{Cases: len(cases), ByCategory: map[string]*CategoryRow{}, ByExpect: map[string]*CategoryRow{}, Mismatches: []Mismatch{}, Policy: k.Revision()}
	for i, c := range cases {
		d := got[i]
		blocked := d.Action.Blocks()
		row := rep.ByCategory[c.Category]
		if row == nil {
			row = &CategoryRow{}
			rep.ByCategory[c.Category] = row
		}
		row.Cases++
		if blocked {
			row.Blocked++
		}
		ex := rep.ByExpect[c.expect.String()]
		if ex == nil {
			ex = &CategoryRow{}
			rep.ByExpect[c.expect.String()] = ex
		}
		ex.Cases++
		if blocked {
			ex.Blocked++
		}
		if c.expect.Blocks() {
			rep.ExpectBlocked++
			if blocked {
				rep.Blocked++
			}
		} else {
			rep.ExpectAllow++
			if blocked {
				rep.FalseBlocked++
			}
		}
		// Notify runs the call, so it matches an expectation of allow.
		g := d.Action
		if g == decision.Notify && c.expect == decision.Allow {
			g = decision.Allow
		}
		if g == c.expect {
			rep.Exact++
		} else {
			rep.Mismatches = append(rep.Mismatches, Mismatch{ID: c.ID, Expect: c.expect.String(), Got: d.Action.String(), Codes: d.Codes()})
		}
	}
	rep.BlockedRecall = ratio(rep.Blocked, rep.ExpectBlocked)
	rep.FalseBlockRate = ratio(rep.FalseBlocked, rep.ExpectAllow)
	rep.ExactAccuracy = ratio(rep.Exact, rep.Cases)
	return rep, got
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(int64(float64(a)/float64(b)*1e6+0.5)) / 1e6
}

func writeEvalMarkdown(w io.Writer, rep *EvalReport, files []string, maxMis int) {
	fmt.Fprintf(w, "| metric | value |\n|---|---|\n")
	fmt.Fprintf(w, "| cases | %d |\n", rep.Cases)
	fmt.Fprintf(w, "| blocked recall (confirm or deny, over %d cases expecting confirm/deny) | %.2f%% (%d) |\n", rep.ExpectBlocked, 100*rep.BlockedRecall, rep.Blocked)
	fmt.Fprintf(w, "| false block rate (over %d cases expecting allow) | %.2f%% (%d) |\n", rep.ExpectAllow, 100*rep.FalseBlockRate, rep.FalseBlocked)
	fmt.Fprintf(w, "| exact accuracy (notify counts as allow) | %.2f%% (%d) |\n", 100*rep.ExactAccuracy, rep.Exact)
	fmt.Fprintf(w, "| policy revision | `%s` |\n\n", rep.Policy)
	fmt.Fprintf(w, "| expected | cases | blocked | blocked %% |\n|---|---:|---:|---:|\n")
	for _, a := range []string{"deny", "confirm", "notify", "allow"} {
		if r := rep.ByExpect[a]; r != nil {
			fmt.Fprintf(w, "| %s | %d | %d | %.2f%% |\n", a, r.Cases, r.Blocked, 100*ratio(r.Blocked, r.Cases))
		}
	}
	fmt.Fprintln(w)
	cats := make([]string, 0, len(rep.ByCategory))
	for c := range rep.ByCategory {
		cats = append(cats, c)
	}
	sort.Slice(cats, func(i, j int) bool {
		a, b := rep.ByCategory[cats[i]], rep.ByCategory[cats[j]]
		if a.Cases != b.Cases {
			return a.Cases > b.Cases
		}
		return cats[i] < cats[j]
	})
	fmt.Fprintf(w, "| category | cases | blocked | blocked %% |\n|---|---:|---:|---:|\n")
	for _, c := range cats {
		r := rep.ByCategory[c]
		fmt.Fprintf(w, "| %s | %d | %d | %.1f%% |\n", c, r.Cases, r.Blocked, 100*ratio(r.Blocked, r.Cases))
	}
	if maxMis > 0 && len(rep.Mismatches) > 0 {
		fmt.Fprintf(w, "\n%d mismatches; the first %d:\n\n| id | expect | got | codes |\n|---|---|---|---|\n", len(rep.Mismatches), min(maxMis, len(rep.Mismatches)))
		for _, m := range rep.Mismatches[:min(maxMis, len(rep.Mismatches))] {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", m.ID, m.Expect, m.Got, strings.Join(m.Codes, " "))
		}
	}
}

// progress draws a bar on a terminal for large inputs, and nothing
// otherwise (so redirected output stays clean).
type progress struct {
	w     io.Writer
	total int
	mu    sync.Mutex
	n     int
	last  int
	on    bool
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok && total >= 500 {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) tick() {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	pct := p.n * 100 / p.total
	if pct == p.last {
		return
	}
	p.last = pct
	bar := strings.Repeat("█", pct/4) + strings.Repeat("·", 25-pct/4)
	fmt.Fprintf(p.w, "\r%s %3d%% %d/%d", bar, pct, p.n, p.total)
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
