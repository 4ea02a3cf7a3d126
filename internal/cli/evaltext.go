package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/inject"
	"github.com/sentinel-agent/sentinel/internal/redact"
)

// textCase is one labelled text of a secrets or injection corpus.
type textCase struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Label    string `json:"label"`
	Category string `json:"category"`
}

// textKinds are the detectors `eval --kind` and `scan --kind` know: the
// positive and negative labels of their corpora, and what they find.
var textKinds = map[string]struct {
	positive, negative string
	detect             func(string) []string
}{
	"secrets":   {"secret", "no_secret", detectSecrets},
	"injection": {"injection", "benign", detectInjection},
}

// detectSecrets returns the rule ids of the credentials in s.
func detectSecrets(s string) []string {
	_, fs := redact.Text(s)
	var out []string
	for _, f := range fs {
		out = appendUnique(out, f.Rule)
	}
	return out
}

// detectInjection returns the categories of a text judged an injection.
func detectInjection(s string) []string {
	r := inject.Scan(s)
	if r.Verdict != inject.VerdictInjection {
		return nil
	}
	if len(r.Categories) == 0 {
		return []string{"injection"}
	}
	return r.Categories
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// textReport is `eval --kind secrets|injection`'s answer.
type textReport struct {
	Cases             int                      `json:"cases"`
	Recall            float64                  `json:"recall"`
	FalsePositiveRate float64                  `json:"false_positive_rate"`
	ByCategory        map[string]*textCategory `json:"by_category"`
	Mismatches        []textMismatch           `json:"mismatches"`
}

type textCategory struct {
	Cases             int      `json:"cases"`
	Positives         int      `json:"positives"`
	Detected          int      `json:"detected"`
	Recall            *float64 `json:"recall,omitempty"`
	FalsePositives    int      `json:"false_positives"`
	FalsePositiveRate *float64 `json:"false_positive_rate,omitempty"`
}

type textMismatch struct {
	ID       string   `json:"id"`
	Label    string   `json:"label"`
	Category string   `json:"category,omitempty"`
	Found    []string `json:"found,omitempty"`
}

// maxTextCase bounds one line of a text corpus.
const maxTextCase = 4 << 20

func readTextCases(name, positive, negative string) ([]textCase, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []textCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxTextCase)
	line := 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c textCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("%s:%d: %v; want {\"id\",\"text\",\"label\",\"category\"}", name, line, err)
		}
		if c.Label != positive && c.Label != negative {
			return nil, fmt.Errorf("%s:%d: label %q; this kind uses %q and %q", name, line, c.Label, positive, negative)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v (a line longer than %d bytes?)", name, err, maxTextCase)
	}
	return out, nil
}

// evalText measures a detector on labelled texts.
func evalText(cases []textCase, positive string, detect func(string) []string) textReport {
	rep := textReport{Cases: len(cases), ByCategory: map[string]*textCategory{}, Mismatches: []textMismatch{}}
	var pos, tp, neg, fp int
	for _, c := range cases {
		found := detect(c.Text)
		hit := len(found) > 0
		cat := rep.ByCategory[c.Category]
		if cat == nil {
			cat = &textCategory{}
			rep.ByCategory[c.Category] = cat
		}
		cat.Cases++
		if c.Label == positive {
			pos++
			cat.Positives++
			if hit {
				tp++
				cat.Detected++
			}
		} else {
			neg++
			if hit {
				fp++
				cat.FalsePositives++
			}
		}
		if hit != (c.Label == positive) {
			rep.Mismatches = append(rep.Mismatches, textMismatch{ID: c.ID, Label: c.Label, Category: c.Category, Found: found})
		}
	}
	rep.Recall, rep.FalsePositiveRate = ratio(tp, pos), ratio(fp, neg)
	for _, cat := range rep.ByCategory {
		if cat.Positives > 0 {
			r := ratio(cat.Detected, cat.Positives)
			cat.Recall = &r
		}
		if n := cat.Cases - cat.Positives; n > 0 {
			r := ratio(cat.FalsePositives, n)
			cat.FalsePositiveRate = &r
		}
	}
	return rep
}

// runTextEval is `sentinel eval --kind secrets|injection`.
func runTextEval(e *env, kind, format string, files []string, maxMis int) int {
	k, ok := textKinds[kind]
	if !ok {
		return fail(e, "eval: --kind %q: use calls, secrets or injection", kind)
	}
	var cases []textCase
	for _, name := range files {
		cs, err := readTextCases(name, k.positive, k.negative)
		if err != nil {
			return fail(e, "eval: %v", err)
		}
		cases = append(cases, cs...)
	}
	rep := evalText(cases, k.positive, k.detect)
	if format == "json" {
		writeJSON(e.stdout, rep)
		return ExitOK
	}
	writeTextEval(e.stdout, kind, rep, maxMis)
	return ExitOK
}

func writeTextEval(w io.Writer, kind string, rep textReport, maxMis int) {
	fmt.Fprintf(w, "%s: %d cases, recall %.1f%%, false positives %.1f%%\n\n", kind, rep.Cases, 100*rep.Recall, 100*rep.FalsePositiveRate)
	fmt.Fprintln(w, "| category | cases | recall | false positives |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	cats := make([]string, 0, len(rep.ByCategory))
	for c := range rep.ByCategory {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	for _, name := range cats {
		c := rep.ByCategory[name]
		r, f := "", ""
		if c.Recall != nil {
			r = fmt.Sprintf("%.1f%% (%d/%d)", 100**c.Recall, c.Detected, c.Positives)
		}
		if c.FalsePositiveRate != nil {
			f = fmt.Sprintf("%.1f%% (%d/%d)", 100**c.FalsePositiveRate, c.FalsePositives, c.Cases-c.Positives)
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s |\n", name, c.Cases, r, f)
	}
	if len(rep.Mismatches) > 0 {
		fmt.Fprintf(w, "\n%d mismatches", len(rep.Mismatches))
		if len(rep.Mismatches) > maxMis {
			fmt.Fprintf(w, " (first %d; --format json lists all)", maxMis)
		}
		fmt.Fprintln(w, ":")
		for i, m := range rep.Mismatches {
			if i == maxMis {
				break
			}
			fmt.Fprintf(w, "  %s  %s  %s  %s\n", m.ID, m.Label, m.Category, strings.Join(m.Found, ","))
		}
	}
}
