package inject

import (
	"regexp"
	"strings"
	"testing"
)

// ruleHits returns the ids of the rules that match text after
// normalisation.
func ruleHits(t *testing.T, text string) map[string]bool {
	t.Helper()
	rs, err := compiledRules()
	if err != nil {
		t.Fatal(err)
	}
	var n normalizer
	var m matcher
	nt := normalize(text, &n)
	rs.find(nt.text, nt.wide, &m, maxHits)
	got := map[string]bool{}
	for _, x := range m.matches {
		got[rs.rules[x.rule].id] = true
	}
	return got
}

// TestRuleExamples checks every rule against the examples it carries: it
// must match each of match and none of noMatch.
func TestRuleExamples(t *testing.T) {
	rs, err := compiledRules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.rules {
		if len(r.src.match) == 0 || len(r.src.noMatch) == 0 {
			t.Errorf("%s: a rule needs examples it must match and must not match", r.id)
		}
		for _, ex := range r.src.match {
			if !ruleHits(t, ex)[r.id] {
				t.Errorf("%s: does not match %q (normalised %q)", r.id, ex, normalizeString(ex))
			}
		}
		for _, ex := range r.src.noMatch {
			if ruleHits(t, ex)[r.id] {
				t.Errorf("%s: matches %q, which it must not", r.id, ex)
			}
		}
	}
}

// TestRulesAreLowerCase checks that patterns and anchors are written for
// the normalised text, which has no upper-case letters.
func TestRulesAreLowerCase(t *testing.T) {
	// Escapes such as \S, \W, \D, \A, \B stand for classes, not letters.
	escapes := regexp.MustCompile(`\\[A-Za-z]`)
	for _, p := range packs() {
		for _, r := range p.rules {
			stripped := escapes.ReplaceAllString(r.pattern+r.after, "")
			if stripped != strings.ToLower(stripped) {
				t.Errorf("%s.%s: pattern has upper-case letters; the text it runs on is lower case", p.lang, r.name)
			}
			if strings.ContainsRune(r.pattern+r.after, 'ё') {
				t.Errorf("%s.%s: pattern has ё, which the normaliser folds to е", p.lang, r.name)
			}
		}
	}
}

// TestEveryLanguageHasEveryCategory checks that each language pack covers
// the categories the issue asks for.
func TestEveryLanguageHasEveryCategory(t *testing.T) {
	want := []string{CatOverride, CatRole, CatTool, CatSecret, CatExfil, CatFraming, CatOutput}
	for _, p := range packs() {
		if p.lang == "any" || p.lang == "code" {
			continue
		}
		have := map[string]bool{}
		for _, r := range p.rules {
			have[r.category] = true
		}
		if p.lang == "en" {
			have[CatRole] = true // the role rules are language-neutral (rulesAny)
		}
		for _, c := range want {
			if !have[c] {
				t.Errorf("pack %s has no %s rule", p.lang, c)
			}
		}
	}
}

func TestCompileRejectsBadRules(t *testing.T) {
	bad := []pack{{"xx", []rule{
		{name: "a", category: CatOverride, weight: 0, anchors: []string{"a"}, pattern: "a"},
		{name: "b", category: CatOverride, weight: 0.5, pattern: "b"},
		{name: "c", category: CatOverride, weight: 0.5, anchors: []string{"C"}, pattern: "c"},
		{name: "d", category: CatOverride, weight: 0.5, anchors: []string{"d"}, pattern: "(d"},
		{name: "d", category: CatOverride, weight: 0.5, anchors: []string{"d"}, pattern: "d"},
	}}}
	_, err := compile(bad)
	if err == nil {
		t.Fatal("compile accepted bad rules")
	}
	for _, want := range []string{"xx.a: weight", "xx.b: no anchors", `xx.c: anchor "C"`, "xx.d: pattern", "xx.d: duplicate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not report %q", err, want)
		}
	}
}

func TestSpaceClass(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a b", `a\sb`},
		{"[a b]", "[a b]"},
		{`\ a`, `\ a`},
		{`[\] ] c`, `[\] ]\sc`},
	} {
		if got := spaceClass(c.in); got != c.want {
			t.Errorf("spaceClass(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func normalizeString(s string) string {
	var n normalizer
	return string(normalize(s, &n).text)
}
