package inject

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The prompt-injection corpus: AgentDojo attacks, BIPIA attacks and
// contexts, benign developer text. Each directory's README says where the
// rows come from. SENTINEL_PI_CORPUS overrides the location.
const defaultCorpus = "/work/shared/corpus/prompt_injection"

var showCorpus = flag.Bool("corpus.show", false, "print the missed injections and the flagged benign rows")

type corpusRow struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Label    string `json:"label"`
	Category string `json:"category"`
	Source   string `json:"source"`
}

func loadCorpus(t *testing.T) []corpusRow {
	t.Helper()
	dir := os.Getenv("SENTINEL_PI_CORPUS")
	if dir == "" {
		dir = defaultCorpus
	}
	files := []string{"agentdojo/agentdojo_injections.jsonl", "bipia/bipia.jsonl", "benign_dev_text/benign_dev_text.jsonl"}
	var rows []corpusRow
	for _, f := range files {
		fh, err := os.Open(filepath.Join(dir, f))
		if os.IsNotExist(err) {
			t.Skipf("corpus not found at %s (set SENTINEL_PI_CORPUS)", dir)
		}
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var r corpusRow
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			rows = append(rows, r)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return rows
}

// bipiaKind sorts BIPIA's text attacks the way its paper does:
// task-irrelevant (a question or task of its own, which data may well
// contain: "Recommend a good book"), task-relevant (an order about how to
// write the answer: "Reply in reverse") and targeted (an order to put
// something into the answer: an ad, a scam link). The last two address
// the reader's answer; a pattern guard should catch them, and cannot be
// expected to catch the first. Language Translation is task-irrelevant in
// the train set ("Translate … to French") and task-relevant in the test
// set ("Translate your response into Spanish").
func bipiaKind(category, split string) string {
	name := category[strings.IndexByte(category, '/')+1:]
	switch name {
	case "Information Retrieval", "Content Creation", "Learning and Tutoring", "Programming Help",
		"Task Automation", "Business Intelligence", "Conversational Agent", "Research Assistance", "Sentiment Analysis":
		return "task-irrelevant"
	case "Language Translation":
		if split == "train" {
			return "task-irrelevant"
		}
		return "task-relevant"
	case "Alphanumeric Substitution", "Homophonic Substitution", "Misspelling Intentionally", "Anagramming", "Space Removal & Grouping",
		"Substitution Ciphers", "Base Encoding", "Reverse Text", "Emoji Substitution":
		return "task-relevant"
	}
	return "targeted"
}

func split(source string) string {
	switch {
	case strings.Contains(source, "_train.json"):
		return "train"
	case strings.Contains(source, "_test.json"):
		return "test"
	}
	return ""
}

// tally counts a group's rows and how many the scanner flagged.
type tally struct {
	n, injection, flagged int
}

func (c tally) rate(k int) float64 {
	if c.n == 0 {
		return 0
	}
	return float64(k) / float64(c.n)
}

func (c tally) String() string {
	return fmt.Sprintf("%4d rows  injection %5.1f%%  flagged %5.1f%%", c.n, 100*c.rate(c.injection), 100*c.rate(c.flagged))
}

// TestCorpus measures recall per attack category and false positives per
// benign category, prints them, and fails when a figure falls below the
// floor it reached when the floors were set. "Injection" is the verdict at
// the default threshold; "flagged" counts suspicious too.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus run skipped in -short mode")
	}
	rows := loadCorpus(t)
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]*tally{}
	add := func(group string, r Result) {
		g := groups[group]
		if g == nil {
			g = &tally{}
			groups[group] = g
		}
		g.n++
		if r.Verdict == VerdictInjection {
			g.injection++
		}
		if r.Verdict != VerdictClean {
			g.flagged++
		}
	}
	for _, row := range rows {
		res := s.Scan(row.Text)
		sp := split(row.Source)
		kind := strings.SplitN(row.Category, "/", 2)[0]
		var keys []string
		switch {
		case row.Label == "benign":
			keys = []string{row.Category}
			if strings.HasPrefix(row.ID, "bipia") {
				keys = append(keys, "benign/bipia (all)")
			} else {
				keys = append(keys, "benign/dev_text (all)")
			}
		case kind == "agentdojo":
			keys = []string{row.Category, "agentdojo (all)"}
		case kind == "bipia-code-attack" || kind == "bipia-code-embedded":
			keys = []string{row.Category + " [" + sp + "]", kind + " (all) [" + sp + "]", "bipia code, raw+embedded [" + sp + "]"}
		case kind == "bipia-base64-attack":
			k := "code"
			if !strings.Contains(row.Source, "code_attack") {
				k = bipiaKind(row.Category, sp)
			}
			keys = []string{row.Category + " [" + sp + "]", "bipia-base64 " + k + " [" + sp + "]"}
			if k != "task-irrelevant" {
				keys = append(keys, "bipia-base64 instruction-style+code ["+sp+"]")
			}
		default: // bipia-text-attack, bipia-email-embedded
			k := bipiaKind(row.Category, sp)
			keys = []string{row.Category + " [" + sp + "]", kind + " " + k + " [" + sp + "]"}
			if k != "task-irrelevant" {
				keys = append(keys, "bipia text instruction-style, raw+email ["+sp+"]")
			}
		}
		for _, k := range keys {
			add(k, res)
		}
		if *showCorpus {
			miss := row.Label == "injection" && res.Verdict != VerdictInjection
			fp := row.Label == "benign" && res.Verdict != VerdictClean
			if miss || fp {
				var rules []string
				for _, sp := range res.Spans {
					rules = append(rules, fmt.Sprintf("%s(%.2f)%q", sp.Rule, sp.Weight, sp.Text))
				}
				t.Logf("%s %s %s %.2f %s\n    %q\n    %s", map[bool]string{true: "MISS", false: "FP"}[miss], row.Category, row.ID, res.Score, res.Verdict,
					clip(row.Text), strings.Join(rules, " "))
			}
		}
	}
	var names []string
	for k := range groups {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t.Logf("%-90s %s", k, groups[k])
	}

	// Floors: the figures reached when they were set, rounded down; the
	// false-positive ceilings are what was reached (none), plus half a
	// percent. A change that worsens one fails here; move them when a
	// change improves them. The text test halves of BIPIA are held out:
	// those rules were designed on the train halves and on AgentDojo. The
	// code test half is not: code rules (destructive's network and boot
	// cases, flood, encrypt_files, net_block, intercept, boot_tamper,
	// persistence_keys) were written after reading its misses, each for
	// an ATT&CK technique rather than a row, so its figure overstates
	// what unseen code attacks would give (docs/content-safety.md).
	recall := map[string]float64{
		"agentdojo (all)":                                 0.95,
		"agentdojo/important_instructions":                1,
		"agentdojo/important_instructions_no_names":       1,
		"agentdojo/ignore_previous":                       1,
		"agentdojo/injecagent":                            1,
		"agentdojo/system_message":                        1,
		"agentdojo/direct":                                0.73,
		"bipia code, raw+embedded [train]":                0.96,
		"bipia code, raw+embedded [test]":                 0.92,
		"bipia text instruction-style, raw+email [train]": 0.96,
		"bipia text instruction-style, raw+email [test]":  0.94,
		"bipia-base64 instruction-style+code [train]":     0.98,
		"bipia-base64 instruction-style+code [test]":      0.98,
	}
	fpr := map[string]float64{
		"benign/bipia (all)":    0.005,
		"benign/dev_text (all)": 0.005,
		"benign/email":          0.02,
		"benign/code-qa-answer": 0.02,
		"benign/table":          0.005,
		"benign/readme":         0.02,
		"benign/commit-message": 0.02,
		"benign/source-code":    0.02,
	}
	for k, floor := range recall {
		g := groups[k]
		if g == nil {
			t.Errorf("no rows in %s", k)
			continue
		}
		if got := g.rate(g.injection); got < floor {
			t.Errorf("recall of %s is %.3f, below its floor %.3f", k, got, floor)
		}
	}
	for k, ceiling := range fpr {
		g := groups[k]
		if g == nil {
			t.Errorf("no rows in %s", k)
			continue
		}
		if got := g.rate(g.injection); got > ceiling {
			t.Errorf("false-positive rate of %s is %.3f, above its ceiling %.3f", k, got, ceiling)
		}
		if got := g.rate(g.flagged); got > 2*ceiling {
			t.Errorf("%s: %.3f flagged (suspicious or worse), above %.3f", k, got, 2*ceiling)
		}
	}
}

// TestHeldOutText scans the Markdown, text and Go files under the
// directories in SENTINEL_PI_HELDOUT (colon-separated; for example
// $(go env GOROOT)/src and the module cache), cut into chunks of about
// 2 KB, and reports how many are flagged: a false-positive figure on text
// the rules were not written against. Skipped when the variable is unset.
func TestHeldOutText(t *testing.T) {
	dirs := os.Getenv("SENTINEL_PI_HELDOUT")
	if dirs == "" {
		t.Skip("SENTINEL_PI_HELDOUT not set")
	}
	const maxChunks = 200000
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var n, inj, flagged int
	for _, dir := range filepath.SplitList(dirs) {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || n >= maxChunks {
				return nil
			}
			switch filepath.Ext(path) {
			case ".md", ".txt", ".go":
			default:
				return nil
			}
			if strings.Contains(path, "testdata") {
				return nil // test inputs include attacks on purpose
			}
			b, err := os.ReadFile(path)
			if err != nil || len(b) > 1<<20 {
				return nil
			}
			for _, chunk := range chunks(string(b), 2000) {
				n++
				r := s.Scan(chunk)
				if r.Verdict == VerdictInjection {
					inj++
				}
				if r.Verdict != VerdictClean {
					flagged++
					if *showCorpus {
						var rules []string
						for _, sp := range r.Spans {
							rules = append(rules, fmt.Sprintf("%s(%.2f)%q", sp.Rule, sp.Weight, sp.Text))
						}
						t.Logf("FLAG %s %.2f %s", path, r.Score, strings.Join(rules, " "))
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("held-out text: %d chunks, injection %d (%.3f%%), flagged %d (%.3f%%)", n, inj, 100*float64(inj)/float64(max(n, 1)), flagged, 100*float64(flagged)/float64(max(n, 1)))
}

// chunks cuts s at line ends into pieces of about size bytes.
func chunks(s string, size int) []string {
	var out []string
	for len(s) > 0 {
		if len(s) <= size {
			out = append(out, s)
			break
		}
		k := strings.LastIndexByte(s[:size], '\n')
		if k <= 0 {
			k = size
		}
		out = append(out, s[:k])
		s = s[k:]
	}
	return out
}
