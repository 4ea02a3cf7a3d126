package redact

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The secrets corpus (../shared/corpus/secrets from the module root) holds
// the examples gitleaks ships with its rules: secret rows that must be
// redacted and no_secret rows that should not be. TestCorpus reports recall
// and false positives and fails when they fall below the measured floors.
// Set REDACT_CORPUS_VERBOSE=1 to list every miss and false positive.

type corpusRow struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Label    string `json:"label"`
	Category string `json:"category"`
}

func loadSecrets(t *testing.T, name string) []corpusRow {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "corpus", "secrets", name)
	f, err := os.Open(p)
	if err != nil {
		t.Skipf("corpus %s not available: %v", name, err)
	}
	defer f.Close()
	var rows []corpusRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		var r corpusRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rows
}

// looseCategories are the no_secret groups that hold realistic keys
// gitleaks allowlists (public Google keys), curl user:password lines and
// generic assignments; a redactor that errs on the side of redaction
// reasonably flags some of them, so they are reported apart.
var looseCategories = map[string]bool{"generic-api-key": true, "gcp-api-key": true, "curl-auth-user": true, "curl-auth-header": true}

type corpusScore struct {
	secrets, found       int
	clean, flagged       int // no_secret rows outside the loose groups
	looseClean, looseHit int // no_secret rows in them
	misses, fps          []string
}

func scoreCorpus(rows []corpusRow) corpusScore {
	var s corpusScore
	for _, r := range rows {
		_, fs := Text(r.Text)
		switch r.Label {
		case "secret":
			s.secrets++
			if len(fs) > 0 {
				s.found++
			} else {
				s.misses = append(s.misses, r.Category+": "+clip(r.Text))
			}
		case "no_secret":
			if looseCategories[r.Category] {
				s.looseClean++
				if len(fs) > 0 {
					s.looseHit++
				}
			} else {
				s.clean++
				if len(fs) > 0 {
					s.flagged++
				}
			}
			if len(fs) > 0 {
				ids := make([]string, len(fs))
				for i, f := range fs {
					ids[i] = f.Rule
				}
				s.fps = append(s.fps, r.Category+" <- "+strings.Join(ids, ",")+": "+clip(r.Text))
			}
		}
	}
	sort.Strings(s.misses)
	sort.Strings(s.fps)
	return s
}

func clip(s string) string {
	s = strings.ReplaceAll(s, "\n", `\n`)
	if len(s) > 110 {
		return s[:110] + "…"
	}
	return s
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func TestCorpus(t *testing.T) {
	verbose := os.Getenv("REDACT_CORPUS_VERBOSE") != ""
	// Floors are the measured figures, so that one more miss or false
	// positive fails; raise them when the rules improve.
	for _, c := range []struct {
		file                       string
		minRecall                  float64
		maxFP, maxStrict, maxLoose float64
	}{
		// Measured: recall 98.4% (301/306); false positives 1.9% (6/317)
		// on all no_secret rows, 2.6% (5/195) outside and 0.8% (1/122)
		// inside the generic/gcp/curl groups. The issue asks for recall
		// of at least 98% and at most 2% false positives.
		{"gitleaks_rule_examples.jsonl", 98, 2, 3, 1.5},
		// Measured: recall 98.4% (254/258); false positives 18.2% (6/33):
		// random values assigned to *Token variables and telegram_api_token
		// with a malformed token, which the generic rule flags; 0/4 loose.
		// These tokens are generated from gitleaks' own patterns, so
		// recall here is a coverage check rather than an independent
		// measurement.
		{"gitleaks_rule_examples_synthetic.jsonl", 98, 19, 21, 0},
	} {
		rows := loadSecrets(t, c.file)
		s := scoreCorpus(rows)
		recall := pct(s.found, s.secrets)
		all := pct(s.flagged+s.looseHit, s.clean+s.looseClean)
		strict := pct(s.flagged, s.clean)
		loose := pct(s.looseHit, s.looseClean)
		t.Logf("%s: recall %.1f%% (%d/%d secret rows); false positives %.1f%% (%d/%d no_secret rows): %.1f%% (%d/%d) outside and %.1f%% (%d/%d) inside the generic/gcp/curl groups",
			c.file, recall, s.found, s.secrets, all, s.flagged+s.looseHit, s.clean+s.looseClean,
			strict, s.flagged, s.clean, loose, s.looseHit, s.looseClean)
		if verbose {
			for _, m := range s.misses {
				t.Logf("  miss %s", m)
			}
			for _, f := range s.fps {
				t.Logf("  fp   %s", f)
			}
		}
		if recall < c.minRecall {
			t.Errorf("%s: recall %.1f%% fell below %.1f%%", c.file, recall, c.minRecall)
		}
		if all > c.maxFP {
			t.Errorf("%s: false positives %.1f%% rose above %.1f%%", c.file, all, c.maxFP)
		}
		if strict > c.maxStrict {
			t.Errorf("%s: false positives outside the generic/gcp/curl groups %.1f%% rose above %.1f%%", c.file, strict, c.maxStrict)
		}
		if loose > c.maxLoose {
			t.Errorf("%s: false positives on generic/gcp/curl rows %.1f%% rose above %.1f%%", c.file, loose, c.maxLoose)
		}
	}
}
