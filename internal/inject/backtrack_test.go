package inject

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// agree fails when p's backtracker and the standard library answer
// differently for s.
func agree(t *testing.T, name string, p *pattern, b *backtracker, s []byte) {
	t.Helper()
	start, end, ok := p.find(b, s)
	loc := p.re.FindIndex(s)
	switch {
	case ok != (loc != nil):
		t.Fatalf("%s on %q: backtracker found=%v (%d:%d), regexp %v", name, s, ok, start, end, loc)
	case ok && (start != loc[0] || end != loc[1]):
		t.Fatalf("%s on %q: backtracker %d:%d, regexp %v", name, s, start, end, loc)
	}
}

// TestPatternAgreesWithRegexp holds every rule's patterns, run by the
// backtracker, to regexp's answers: on the rule's own examples, tried
// from every position as the matcher tries them, and on the benchmark
// texts from every word start.
func TestPatternAgreesWithRegexp(t *testing.T) {
	rs, err := compiledRules()
	if err != nil {
		t.Fatal(err)
	}
	var n normalizer
	norm := func(s string) []byte { return append([]byte(nil), normalize(s, &n).text...) }
	var bench [][]byte
	for _, s := range []string{benchProse, benchCode, benchInjection} {
		bench = append(bench, norm(s))
	}
	var b backtracker
	tried := 0
	for _, r := range rs.rules {
		var texts [][]byte
		for _, ex := range append(append([]string(nil), r.src.match...), r.src.noMatch...) {
			texts = append(texts, norm(ex))
		}
		for _, p := range []struct {
			name string
			pat  *pattern
		}{{"first", r.first}, {"prev", r.prev}, {"tail", r.tail}, {"then", r.then}} {
			if p.pat == nil {
				continue
			}
			name := r.id + "." + p.name
			try := func(s []byte, i int) {
				agree(t, name, p.pat, &b, s[i:min(len(s), i+r.reach)])
				tried++
			}
			for _, s := range texts {
				for i := 0; i <= len(s); i++ {
					if i == len(s) || utf8.RuneStart(s[i]) {
						try(s, i)
					}
				}
			}
			for _, s := range bench {
				for i := 0; i < len(s); i++ {
					if i == 0 || s[i-1] == ' ' {
						try(s, i)
					}
				}
			}
		}
	}
	if tried < 10000 {
		t.Fatalf("only %d windows tried", tried)
	}
}

// TestPatternBounds: inputs whose bit set would be too large go to the
// standard library, with the same answer.
func TestPatternBounds(t *testing.T) {
	p, err := compilePattern(`(?:a|b)+c\b`)
	if err != nil {
		t.Fatal(err)
	}
	long := []byte(strings.Repeat("ab", maxVisitBits/len(p.inst)) + "c")
	var b backtracker
	agree(t, "long", p, &b, long)
	if cap(b.visited) != 0 {
		t.Fatalf("the backtracker grew its bit set to %d words for an input over the bound", cap(b.visited))
	}
	agree(t, "short", p, &b, []byte("xxababc yy"))
	if cap(b.visited) == 0 {
		t.Fatal("a short input did not use the backtracker")
	}
}

func TestPatternEdges(t *testing.T) {
	var b backtracker
	for _, c := range []struct{ expr, text string }{
		{`^abc`, "abc"},
		{`^abc`, "xabc"},
		{`abc`, "xxabc"},
		{`a*`, ""},
		{`a*?`, "aaa"},
		{`(?:a|ab)(?:c|bcd)`, "abcd"},
		{`\bfoo\b`, "a foo."},
		{`\Bfoo`, "afoo"},
		{`(?m)^x$`, "a\nx\nb"},
		{`$`, "abc"},
		{`[^a]`, "aé"},
		{`é+`, "xéé"},
		{`(?i)straße`, "STRASSE strasse Straße"},
		{`(?i)k`, "\u212a"},
		{`.`, "\n"},
		{`(?s).`, "\n"},
		{`\z`, "ab"},
		{`x\b`, "x\xff"},
		{`[\s\S]b`, "\xffb"},
		{`a^`, "a"},
		{`(a)(b)?`, "ab"},
		{`(?:)`, "abc"},
	} {
		p, err := compilePattern(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		agree(t, c.expr, p, &b, []byte(c.text))
	}
}

func FuzzPatternAgreesWithRegexp(f *testing.F) {
	for _, s := range []struct{ expr, text string }{
		{`^[\s\S](?:(?:s|ing)?\s(?:me\s)?(?:the\s|all\s)?(?:[\w'-]+\s){0,6}?(?:body|contents?|data)\b)`, " the contents of all"},
		{`\b(?:to|at|into|via)\s['"<(\[]*(?:[\w.-]+@[\w-]+\.\w+|https?://)`, "of all emails to mark@x.example and"},
		{`(?i)ign[o0]re\s+(?:all\s+)?previous`, "IGNORE  previous"},
		{`(a+)+$`, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"},
		{`x{2,5}?y|\pL+`, "xxxxy ЖЖ"},
	} {
		f.Add(s.expr, s.text)
	}
	var b backtracker
	f.Fuzz(func(t *testing.T, expr, text string) {
		if len(expr) > 200 || len(text) > 512 {
			return
		}
		if _, err := regexp.Compile(expr); err != nil {
			return
		}
		p, err := compilePattern(expr)
		if err != nil {
			t.Fatalf("%q compiles in regexp but not as a pattern: %v", expr, err)
		}
		agree(t, expr, p, &b, []byte(text))
	})
}
