package shell

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// The evaluation corpora live next to the repository (../shared/corpus
// from the module root). The test measures recall on GTFOBins and false
// blocks on NL2Bash and fails when either crosses the product targets.
// Set SHELL_CORPUS_VERBOSE=1 to list every miss and false block.

type corpusRow struct {
	ID       string `json:"id"`
	Expect   string `json:"expect"`
	Category string `json:"category"`
	Args     struct {
		Command string `json:"command"`
	} `json:"args"`
}

func loadCorpus(t *testing.T, rel string) []corpusRow {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "corpus", rel)
	f, err := os.Open(p)
	if err != nil {
		t.Skipf("corpus %s not available: %v", rel, err)
	}
	defer f.Close()
	var rows []corpusRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r corpusRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// pathGateSensitive mirrors the paths the path gate denies outright, so
// that this harness counts them as blocked as the whole product would.
func pathGateSensitive(p string) bool {
	c := cleanPath(p)
	b := baseOf(c)
	return strings.HasPrefix(c, "~/.ssh/") || c == "~/.ssh" || strings.HasPrefix(c, "~/.aws/") || c == "~/.aws" ||
		c == "/etc/shadow" || b == ".env" || strings.HasPrefix(c, "/root/") || c == "/root" ||
		c == "/etc/sudoers" || strings.HasPrefix(c, "/etc/sudoers.d")
}

// verdict summarises an analysis the way the command gate plus the path
// gate's sensitive list would: blocked (confirm or deny) and why.
func verdict(a *analysis.Analysis) (blocked bool, why string) {
	if a.ParseError != "" {
		return true, "unparseable"
	}
	best := decision.Allow
	for _, f := range a.Findings {
		if f.Action > best {
			best, why = f.Action, f.Code
		}
	}
	if best.Blocks() {
		return true, why
	}
	for _, p := range a.Paths {
		if (p.Op == analysis.OpRead || p.Op == analysis.OpWrite || p.Op == analysis.OpExec) && pathGateSensitive(p.Path) {
			return true, "path:" + p.Path
		}
	}
	return false, why
}

type tally struct{ n, hit int }

func (t tally) pct() float64 {
	if t.n == 0 {
		return 0
	}
	return 100 * float64(t.hit) / float64(t.n)
}

func logTallies(t *testing.T, title string, m map[string]*tally) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-28s %4d/%-4d %6.2f%%\n", k, m[k].hit, m[k].n, m[k].pct())
	}
	t.Logf("%s\n%s", title, b.String())
}

func TestCorpusGTFOBins(t *testing.T) {
	rows := loadCorpus(t, "gtfobins/gtfobins_commands.jsonl")
	a := New(Options{})
	verbose := os.Getenv("SHELL_CORPUS_VERBOSE") != ""
	var deny, confirm tally
	byCat := map[string]*tally{}
	byCtx := map[string]*tally{}
	confirmByCat := map[string]*tally{}
	var misses []string
	for _, r := range rows {
		blocked, why := verdict(a.Analyze(r.Args.Command))
		ctxName := r.ID[strings.LastIndexByte(r.ID, '-')+1:]
		switch r.Expect {
		case "deny":
			deny.n++
			if byCat[r.Category] == nil {
				byCat[r.Category] = &tally{}
			}
			if byCtx[ctxName] == nil {
				byCtx[ctxName] = &tally{}
			}
			byCat[r.Category].n++
			byCtx[ctxName].n++
			if blocked {
				deny.hit++
				byCat[r.Category].hit++
				byCtx[ctxName].hit++
			} else {
				misses = append(misses, fmt.Sprintf("%s [%s] %q", r.ID, why, r.Args.Command))
			}
		case "confirm":
			confirm.n++
			if confirmByCat[r.Category] == nil {
				confirmByCat[r.Category] = &tally{}
			}
			confirmByCat[r.Category].n++
			if blocked {
				confirm.hit++
				confirmByCat[r.Category].hit++
			} else if verbose {
				t.Logf("confirm miss: %s %q", r.ID, r.Args.Command)
			}
		}
	}
	t.Logf("GTFOBins deny rows blocked: %d/%d = %.2f%%", deny.hit, deny.n, deny.pct())
	t.Logf("GTFOBins confirm rows blocked: %d/%d = %.2f%%", confirm.hit, confirm.n, confirm.pct())
	logTallies(t, "deny rows by category:", byCat)
	logTallies(t, "deny rows by context:", byCtx)
	logTallies(t, "confirm rows by category:", confirmByCat)
	limit := 40
	if verbose {
		limit = len(misses)
	}
	for i, m := range misses {
		if i >= limit {
			t.Logf("… %d more misses (SHELL_CORPUS_VERBOSE=1 lists them)", len(misses)-limit)
			break
		}
		t.Logf("deny miss: %s", m)
	}
	if deny.pct() < 97 {
		t.Errorf("GTFOBins deny recall %.2f%% is below 97%%", deny.pct())
	}
}

func TestCorpusNL2Bash(t *testing.T) {
	rows := loadCorpus(t, "nl2bash/nl2bash_commands.jsonl")
	a := New(Options{})
	verbose := os.Getenv("SHELL_CORPUS_VERBOSE") != ""
	var allow, findingsOnly, rules tally
	unparseable := 0
	byCat := map[string]int{}
	byCode := map[string]int{}
	var examples []string
	var flagged tally
	for _, r := range rows {
		an := a.Analyze(r.Args.Command)
		blocked, why := verdict(an)
		if r.Expect != "allow" {
			flagged.n++
			if blocked {
				flagged.hit++
			}
			continue
		}
		allow.n++
		findingsOnly.n++
		rules.n++
		if !blocked {
			continue
		}
		allow.hit++
		if !strings.HasPrefix(why, "path:") {
			findingsOnly.hit++
		}
		if why == "unparseable" {
			unparseable++
		} else if !strings.HasPrefix(why, "path:") {
			rules.hit++
		}
		byCat[r.Category]++
		byCode[why]++
		examples = append(examples, fmt.Sprintf("%s [%s] %q", r.ID, why, r.Args.Command))
	}
	t.Logf("NL2Bash allow rows blocked (command findings + sensitive paths): %d/%d = %.2f%%", allow.hit, allow.n, allow.pct())
	t.Logf("NL2Bash allow rows blocked by the command gate: %d/%d = %.2f%%", findingsOnly.hit, findingsOnly.n, findingsOnly.pct())
	t.Logf("  of which lines bash cannot parse (command.unparseable, fail-closed policy): %d = %.2f%%", unparseable, 100*float64(unparseable)/float64(max(allow.n, 1)))
	t.Logf("  of which the analyser's rules: %d = %.2f%%", rules.hit, rules.pct())
	t.Logf("NL2Bash non-allow rows (confirm/deny labels) blocked: %d/%d", flagged.hit, flagged.n)
	type kv struct {
		k string
		v int
	}
	var cats []kv
	for k, v := range byCat {
		cats = append(cats, kv{k, v})
	}
	sort.Slice(cats, func(i, j int) bool { return cats[i].v > cats[j].v || cats[i].v == cats[j].v && cats[i].k < cats[j].k })
	var b strings.Builder
	for i, c := range cats {
		if i >= 15 {
			break
		}
		fmt.Fprintf(&b, "  %-24s %d\n", c.k, c.v)
	}
	t.Logf("top categories of false blocks:\n%s", b.String())
	var codes []kv
	for k, v := range byCode {
		codes = append(codes, kv{k, v})
	}
	sort.Slice(codes, func(i, j int) bool {
		return codes[i].v > codes[j].v || codes[i].v == codes[j].v && codes[i].k < codes[j].k
	})
	b.Reset()
	for _, c := range codes {
		fmt.Fprintf(&b, "  %-36s %d\n", c.k, c.v)
	}
	t.Logf("false blocks by reason:\n%s", b.String())
	limit := 30
	if verbose {
		limit = len(examples)
	}
	for i, e := range examples {
		if i >= limit {
			break
		}
		t.Logf("false block: %s", e)
	}
	// The threshold guards the analyser's rules. Lines that are not valid
	// shell are refused by policy (Config.Unparseable, fail closed), and
	// sensitive paths are the path gate's decisions; both are logged above
	// so the whole product's figure stays visible.
	if rules.pct() > 1 {
		t.Errorf("NL2Bash false-block rate of the analyser's rules %.2f%% is above 1%%", rules.pct())
	}
}
