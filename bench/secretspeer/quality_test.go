package secretspeer

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// engines returns both detectors, building gitleaks' once per process.
func engines(tb testing.TB) []Engine {
	tb.Helper()
	g, err := gitleaks()
	if err != nil {
		tb.Fatal(err)
	}
	return []Engine{Sentinel(), g}
}

var gitleaks = sync.OnceValues(Gitleaks)

// TestEnginesWired checks that both detectors run: each finds a GitHub
// token and nothing in a clean shell session.
func TestEnginesWired(t *testing.T) {
	// A classic token: ghp_, 30 random characters and their CRC32 check
	// digits (not a real token).
	token := "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8" + "024xXH"
	for _, e := range engines(t) {
		if got := e.Count("export GITHUB_TOKEN=" + token + "\n"); got != 1 {
			t.Errorf("%s: %d findings in a line with one GitHub token, want 1", e.Name, got)
		}
		if got := e.Count(cleanText); got != 0 {
			t.Errorf("%s: %d findings in the clean text, want 0", e.Name, got)
		}
	}
}

// TestSentinelKeywordText: the keyword-dense text holds references and
// placeholders only, which Sentinel must leave alone.
func TestSentinelKeywordText(t *testing.T) {
	if got := Sentinel().Count(keywordText); got != 0 {
		t.Errorf("sentinel: %d findings in the keyword text, want 0", got)
	}
}

// looseCategories are the no_secret groups with realistic keys gitleaks
// allowlists (public Google keys), curl user:password lines and generic
// assignments; they are reported apart, as internal/redact does.
var looseCategories = map[string]bool{"generic-api-key": true, "gcp-api-key": true, "curl-auth-user": true, "curl-auth-header": true}

// score is one engine's result on one corpus file.
type score struct {
	secrets, found      int
	clean, flagged      int // all no_secret rows
	loose, looseFlagged int // the loose subset of them
}

func (s score) recall() float64 { return pct(s.found, s.secrets) }
func (s score) fp() float64     { return pct(s.flagged, s.clean) }

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func measure(e Engine, rows []row) score {
	var s score
	for _, r := range rows {
		hit := e.Count(r.Text) > 0
		switch r.Label {
		case "secret":
			s.secrets++
			if hit {
				s.found++
			}
		case "no_secret":
			s.clean++
			if hit {
				s.flagged++
			}
			if looseCategories[r.Category] {
				s.loose++
				if hit {
					s.looseFlagged++
				}
			}
		}
	}
	return s
}

// TestQuality reports the recall and false-positive rate of both engines
// on the secrets corpus and the share of developer documents each flags,
// and holds Sentinel to the figures the issue asks for on the literal
// examples: recall at least 98%, false positives at most 2%.
func TestQuality(t *testing.T) {
	lit, synth, benign := load(t, secretsFile), load(t, synthFile), load(t, benignFile)
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-9s %-10s %18s %26s %24s\n", "engine", "file", "recall", "false positives (all)", "generic/gcp/curl")
	for _, e := range engines(t) {
		for _, f := range []struct {
			name string
			rows []row
		}{{"literal", lit}, {"synthetic", synth}} {
			s := measure(e, f.rows)
			fmt.Fprintf(&table, "%-9s %-10s %7.1f%% (%3d/%3d) %14.1f%% (%3d/%3d) %12.1f%% (%3d/%3d)\n",
				e.Name, f.name, s.recall(), s.found, s.secrets, s.fp(), s.flagged, s.clean,
				pct(s.looseFlagged, s.loose), s.looseFlagged, s.loose)
			if e.Name == "sentinel" && f.name == "literal" {
				if s.recall() < 98 {
					t.Errorf("sentinel recall %.1f%% is below 98%%", s.recall())
				}
				if s.fp() > 2 {
					t.Errorf("sentinel false positives %.1f%% are above 2%%", s.fp())
				}
			}
			if e.Name == "gitleaks" && f.name == "literal" && s.recall() < 90 {
				t.Errorf("gitleaks recall %.1f%% on its own examples: is the detector wired right?", s.recall())
			}
		}
		flagged := 0
		for _, r := range benign {
			if e.Count(r.Text) > 0 {
				flagged++
			}
		}
		fmt.Fprintf(&table, "%-9s %-10s %d of %d developer documents flagged (%.1f%%)\n", e.Name, "benign", flagged, len(benign), pct(flagged, len(benign)))
	}
	t.Log(table.String())
}
