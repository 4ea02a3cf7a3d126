package inject

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Categories of signals. They are stable: callers and tests rely on them.
const (
	CatOverride = "override" // instruction override: "ignore previous instructions"
	CatRole     = "role"     // role spoofing: chat-template tokens, fake system turns and tags
	CatTool     = "tool"     // tool hijacking: send, pay, delete, change settings, run
	CatSecret   = "secret"   // requests for credentials, keys, personal data, the system prompt
	CatExfil    = "exfil"    // sending data out: to an address, a URL, an image link
	CatFraming  = "framing"  // a message addressed to the AI ("important message … to you, the AI")
	CatOutput   = "output"   // orders about the answer itself ("add this to your reply")
	CatCode     = "code"     // code that steals, destroys or opens a shell, offered for inclusion
	CatHidden   = "hidden"   // text hidden from a human reader: invisible characters, hidden HTML
	CatEncoded  = "encoded"  // text smuggled in base64 or hex
	CatInternal = "internal" // the scan itself failed; the verdict is an injection
)

// rule is one signal. Rules are data: each lives in a table of its
// language with the examples it must and must not match, and
// TestRuleExamples runs them all.
//
// A match starts at an anchor: the pattern is tried, anchored, where an
// anchor occurs, so that a rule costs one short attempt per occurrence
// and nothing where its anchors are absent.
type rule struct {
	// name is unique within the language; the rule's id is lang.name.
	name     string
	category string
	// weight is the rule's evidence on its own, in (0, 1]: 0.6 and above
	// makes an injection alone (with the default threshold), 0.35 a
	// suspicious text; weaker rules count only with others nearby.
	weight float64
	// anchors are literals of the normalised text (lower case) where a
	// match starts.
	anchors []string
	// pattern is an RE2 expression over the normalised text (lower case,
	// one space or newline per run of white space), matched from the
	// anchor. A space in it matches either, outside brackets. A leading
	// \b sees the character before the anchor.
	pattern string
	// then, when set, must also be found after the match, within
	// thenWithin bytes (reach when 0) and before the line ends (or, with
	// sentence, the sentence); the match extends to its end. Splitting
	// "order … object" from "… destination" keeps each expression small
	// and fast.
	then       string
	thenWithin int
	sentence   bool
	// after, used instead of pattern, is what must follow the anchor,
	// which then starts at a word boundary: the anchor stands for the
	// head of the pattern, so the expression stays small (RE2 runs small
	// programs on short input with its fast backtracker). A leading \b
	// sees the anchor's last character.
	after string
	// back lets a match start up to back bytes before its anchor, at a
	// word start; lineStart makes it start at the start of the anchor's
	// line (at most back bytes before the anchor).
	back      int
	lineStart bool
	// lead requires the match to start an order: at the start of the text,
	// of a line or a sentence, or after a word such as "please" or "then"
	// (see atLead). English only.
	lead bool
	// needs are literals one of which must occur within reach of the
	// match start: a cheap test before the pattern runs.
	needs []string
	// inWord lets an anchor that starts with an ASCII letter or digit
	// match inside a word; by default it must start one.
	inWord bool
	// reach bounds a match's length (defaultReach when 0).
	reach int
	// match must each be found by the rule; noMatch must not be.
	match, noMatch []string
}

const defaultReach = 240

// pack is one language's rules.
type pack struct {
	lang  string
	rules []rule
}

// packs returns every pattern pack.
func packs() []pack {
	return []pack{
		{"en", rulesEN},
		{"zh", rulesZH},
		{"ja", rulesJA},
		{"es", rulesES},
		{"fr", rulesFR},
		{"de", rulesDE},
		{"ru", rulesRU},
		{"any", rulesAny},
		{"code", rulesCode},
	}
}

// compiledRule is a rule ready to run.
type compiledRule struct {
	id         string
	category   string
	weight     float64
	reach      int
	back       int
	line       bool
	lead       bool
	needs      []int32  // need ids
	word       bool     // an anchor starting with an ASCII letter or digit starts a word
	first      *pattern // the pattern anchored at the start of the text
	prev       *pattern // the same after one character of context
	tail       *pattern // after, after one character of context
	then       *pattern
	thenWithin int
	sentence   bool
	src        *rule
}

// ruleSet is every rule, compiled once, with the automata over their
// anchors and needs (ids from len(literal) on are needs): one for the
// ASCII literals, which every text needs, and one for the others (CJK,
// Cyrillic), which only texts beyond ASCII need.
type ruleSet struct {
	rules   []compiledRule
	ascii   *automaton
	wide    *automaton
	starts  [][]int32 // anchor id → rules it anchors
	literal []string
	need    [][]byte
}

// compiledRules compiles the packs on first use. A pack that does not
// compile is a bug the tests catch; the error is kept for New to return
// and Scan to fail closed on.
var compiledRules = sync.OnceValues(func() (*ruleSet, error) {
	return compile(packs())
})

func compile(ps []pack) (*ruleSet, error) {
	rs := &ruleSet{}
	ids := map[string]int32{}
	needIDs := map[string]int32{}
	lit := func(l string) int32 {
		id, ok := ids[l]
		if !ok {
			id = int32(len(rs.literal))
			ids[l] = id
			rs.literal = append(rs.literal, l)
			rs.starts = append(rs.starts, nil)
		}
		return id
	}
	var errs []string
	seen := map[string]bool{}
	for _, p := range ps {
		for i := range p.rules {
			r := &p.rules[i]
			id := p.lang + "." + r.name
			if seen[id] {
				errs = append(errs, fmt.Sprintf("%s: duplicate rule id", id))
				continue
			}
			seen[id] = true
			if r.weight <= 0 || r.weight > 1 {
				errs = append(errs, fmt.Sprintf("%s: weight %v is outside (0, 1]", id, r.weight))
			}
			if len(r.anchors) == 0 {
				errs = append(errs, fmt.Sprintf("%s: no anchors; give the literals a match starts with", id))
			}
			var first, prev, tail *pattern
			var err error
			switch {
			case (r.pattern == "") == (r.after == ""):
				err = errors.New("give exactly one of pattern and after")
			case r.after != "" && (r.back > 0 || r.lineStart):
				err = errors.New("after matches at the anchor: back and lineStart do not apply")
			case r.after != "":
				tail, err = compilePattern(`^[\s\S](?:` + spaceClass(r.after) + `)`)
			default:
				pat := spaceClass(r.pattern)
				first, err = compilePattern(`^(?:` + pat + `)`)
				if err == nil {
					prev, err = compilePattern(`^[\s\S](?:` + pat + `)`)
				}
			}
			var then *pattern
			if err == nil && r.then != "" {
				then, err = compilePattern(spaceClass(r.then))
			}
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: pattern: %v", id, err))
				continue
			}
			reach := r.reach
			if reach == 0 {
				reach = defaultReach
			}
			idx := int32(len(rs.rules))
			cr := compiledRule{id: id, category: r.category, weight: r.weight, reach: reach, back: r.back,
				line: r.lineStart, lead: r.lead, first: first, prev: prev, tail: tail, then: then, thenWithin: r.thenWithin, sentence: r.sentence, src: r}
			for _, a := range r.anchors {
				if a == "" || a != strings.ToLower(a) {
					errs = append(errs, fmt.Sprintf("%s: anchor %q must be non-empty lower case", id, a))
					continue
				}
				l := lit(a)
				rs.starts[l] = append(rs.starts[l], idx)
			}
			for _, n := range r.needs {
				if n == "" || n != strings.ToLower(n) {
					errs = append(errs, fmt.Sprintf("%s: need %q must be non-empty lower case", id, n))
					continue
				}
				nid, ok := needIDs[n]
				if !ok {
					nid = int32(len(rs.need))
					needIDs[n] = nid
					rs.need = append(rs.need, []byte(n))
				}
				cr.needs = append(cr.needs, nid)
			}
			cr.word = !r.inWord
			rs.rules = append(rs.rules, cr)
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("inject: %d bad rules:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	var narrow, wide []string
	var narrowIDs, wideIDs []int32
	add := func(l string, id int) {
		if isASCII(l) {
			narrow, narrowIDs = append(narrow, l), append(narrowIDs, int32(id))
		} else {
			wide, wideIDs = append(wide, l), append(wideIDs, int32(id))
		}
	}
	for id, l := range rs.literal {
		add(l, id)
	}
	for id, l := range rs.need {
		add(string(l), len(rs.literal)+id)
	}
	var err1, err2 error
	rs.ascii, err1 = newAutomaton(narrow, narrowIDs)
	rs.wide, err2 = newAutomaton(wide, wideIDs)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	return rs, nil
}

// spaceClass rewrites each space outside brackets as \s, so that patterns
// read like the phrases they match.
func spaceClass(p string) string {
	var b strings.Builder
	inClass, esc := false, false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case esc:
			esc = false
		case c == '\\':
			esc = true
		case c == '[':
			inClass = true
		case c == ']':
			inClass = false
		case c == ' ' && !inClass:
			b.WriteString(`\s`)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// alt is the alternation of words, for a pattern built from the same list
// as its anchors. The words must hold no regular-expression syntax.
func alt(words []string) string { return "(?:" + strings.Join(words, "|") + ")" }
