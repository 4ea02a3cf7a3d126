package inject

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// match is one rule's match in a normalised text.
type match struct {
	rule       int32
	start, end int
}

// occurrence is a literal found in the text.
type occurrence struct {
	lit   int32
	start int
}

// matcher holds the scratch space of one scan's rule matching.
type matcher struct {
	occ     []occurrence
	tried   []int // rule → last start tried, or -1
	doneTo  []int // rule → end of its last match
	matches []match
	// needAt[i] lists where need i ends.
	needAt [][]int
	bt     backtracker
}

// find runs the rules over s and appends their matches to m.matches.
// wide tells whether s holds bytes beyond ASCII.
func (rs *ruleSet) find(s []byte, wide bool, m *matcher, maxMatches int) {
	m.occ = m.occ[:0]
	if len(m.needAt) < len(rs.need) {
		m.needAt = make([][]int, len(rs.need))
	}
	for i := range m.needAt {
		m.needAt[i] = m.needAt[i][:0]
	}
	nlit := int32(len(rs.literal))
	add := func(id int32, end int) {
		if id >= nlit {
			m.needAt[id-nlit] = append(m.needAt[id-nlit], end)
			return
		}
		m.occ = append(m.occ, occurrence{id, end - len(rs.literal[id])})
	}
	rs.ascii.scan(s, add)
	if wide {
		rs.wide.scan(s, add)
		// Each pass reports in order; the rules expect one order.
		slices.SortStableFunc(m.occ, func(a, b occurrence) int { return a.start - b.start })
	}
	if len(m.occ) == 0 {
		return
	}
	if len(m.tried) < len(rs.rules) {
		m.tried = make([]int, len(rs.rules))
		m.doneTo = make([]int, len(rs.rules))
	}

	for i := range rs.rules {
		m.tried[i], m.doneTo[i] = -1, 0
	}
	// Occurrences come in order of their end; starts are near enough to
	// that order for the per-rule "last tried" test to skip repeats.
	for _, o := range m.occ {
		for _, ri := range rs.starts[o.lit] {
			r := &rs.rules[ri]
			switch {
			case r.tail != nil:
				rs.attemptAfter(s, m, ri, o, maxMatches)
			case r.line:
				if ls, ok := lineStartWithin(s, o.start, r.back); ok {
					rs.attempt(s, m, ri, ls, maxMatches)
				}
			case r.back > 0:
				for p := max(0, o.start-r.back); p <= o.start; p++ {
					if p == o.start || wordStart(s, p) {
						rs.attempt(s, m, ri, p, maxMatches)
					}
				}
			default:
				rs.attempt(s, m, ri, o.start, maxMatches)
			}
		}
	}
}

// attempt tries rule ri anchored at p.
func (rs *ruleSet) attempt(s []byte, m *matcher, ri int32, p, maxMatches int) {
	r := &rs.rules[ri]
	if m.tried[ri] == p || p < m.doneTo[ri] || len(m.matches) >= maxMatches {
		return
	}
	m.tried[ri] = p
	if r.word && p > 0 && isASCIIWord(s[p]) && isWordByte(s[p-1]) {
		return
	}
	if r.lead && !atLead(s, p) {
		return
	}
	end := min(len(s), p+r.reach)
	for end < len(s) && !utf8.RuneStart(s[end]) {
		end++
	}
	if len(r.needs) > 0 && !rs.needed(s, m, r.needs, p, end) {
		return
	}
	var e int
	var ok bool
	if p == 0 {
		_, e, ok = r.first.find(&m.bt, s[:end])
	} else {
		_, sz := utf8.DecodeLastRune(s[:p])
		_, e, ok = r.prev.find(&m.bt, s[p-sz:end])
		e -= sz
	}
	if !ok || e <= 0 {
		return
	}
	rs.record(s, m, ri, p, p+e, end)
}

// record adds a match of rule ri from p to e, once its then part (if
// any) is found before limit.
func (rs *ruleSet) record(s []byte, m *matcher, ri int32, p, e, limit int) {
	r := &rs.rules[ri]
	if r.then != nil {
		if r.thenWithin > 0 {
			limit = min(limit, e+r.thenWithin)
		}
		w := s[e:limit]
		stop := "\n"
		if r.sentence {
			stop = ".!?\n"
		}
		if k := bytes.IndexAny(w, stop); k >= 0 {
			w = w[:k]
		}
		_, te, ok := r.then.find(&m.bt, w)
		if !ok {
			return
		}
		e += te
	}
	m.doneTo[ri] = e
	m.matches = append(m.matches, match{ri, p, e})
}

// attemptAfter tries an after rule at an anchor occurrence.
func (rs *ruleSet) attemptAfter(s []byte, m *matcher, ri int32, o occurrence, maxMatches int) {
	r := &rs.rules[ri]
	p := o.start
	lit := rs.literal[o.lit]
	if m.tried[ri] == p || p < m.doneTo[ri] || len(m.matches) >= maxMatches {
		return
	}
	m.tried[ri] = p
	if r.word && isASCIIWord(lit[0]) && p > 0 && isWordByte(s[p-1]) {
		return
	}
	if r.lead && !atLead(s, p) {
		return
	}
	end := min(len(s), p+r.reach)
	for end < len(s) && !utf8.RuneStart(s[end]) {
		end++
	}
	if len(r.needs) > 0 && !rs.needed(s, m, r.needs, p, end) {
		return
	}
	e := p + len(lit)
	_, sz := utf8.DecodeLastRune(s[:e])
	_, te, ok := r.tail.find(&m.bt, s[e-sz:end])
	if !ok {
		return
	}
	rs.record(s, m, ri, p, e-sz+te, end)
}

// needed reports whether one of the needs lies within s[from:to].
func (rs *ruleSet) needed(s []byte, m *matcher, needs []int32, from, to int) bool {
	for _, id := range needs {
		at := m.needAt[id]
		i, _ := slices.BinarySearch(at, from+len(rs.need[id]))
		if i < len(at) && at[i] <= to {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lineStartWithin returns where the line holding s[p] starts, when that
// is at most back bytes before p.
func lineStartWithin(s []byte, p, back int) (int, bool) {
	from := max(0, p-back-1)
	if i := bytes.LastIndexByte(s[from:p], '\n'); i >= 0 {
		return from + i + 1, true
	}
	return 0, from == 0
}

// wordStart reports whether a word starts at s[p].
func wordStart(s []byte, p int) bool {
	return p < len(s) && isWordByte(s[p]) && (p == 0 || !isWordByte(s[p-1]))
}

func isASCIIWord(c byte) bool { return isASCIIAlnum(c) || c == '_' }

// isWordByte is \b's notion of a word character, plus the bytes of
// non-ASCII letters.
func isWordByte(c byte) bool {
	return isASCIIAlnum(c) || c == '_' || c >= utf8.RuneSelf
}

// leadWords are the words after which an order starts ("please send…",
// "then delete…"); leadMarks the characters before one (". Send…").
var leadWords = []string{"please", "kindly", "now", "also", "then", "and", "first", "finally", "next", "instead", "always",
	"simply", "just", "immediately", "todo", "task", "note", "you must", "you should", "you need to", "you have to",
	"you will", "can you", "could you", "would you", "will you", "make sure to", "be sure to", "remember to",
	"don't forget to", "do not forget to", "go ahead and", "proceed to", "silently", "quietly", "secretly", "from now on"}

const leadMarks = ".!?:;>\"'(]*#\n-"

// atLead reports whether an order can start at s[p]: at the start of the
// text, after a sentence or list mark (and a space), or after a lead word
// (and a comma).
func atLead(s []byte, p int) bool {
	before := s[:p]
	if len(before) > 0 && (before[len(before)-1] == ' ' || before[len(before)-1] == '\n') {
		if before[len(before)-1] == '\n' {
			return true
		}
		before = before[:len(before)-1]
	}
	if len(before) == 0 {
		return true
	}
	if strings.IndexByte(leadMarks, before[len(before)-1]) >= 0 {
		return true
	}
	before = bytes.TrimSuffix(before, []byte{','})
	if len(before) == 0 {
		return false
	}
	for _, w := range leadByLast()[before[len(before)-1]] {
		if bytes.HasSuffix(before, w) && (len(before) == len(w) || !isWordByte(before[len(before)-len(w)-1])) {
			return true
		}
	}
	return false
}

// leadByLast indexes leadWords by their last byte, so that atLead
// compares only the few that can match.
var leadByLast = sync.OnceValue(func() *[256][][]byte {
	var t [256][][]byte
	for _, w := range leadWords {
		t[w[len(w)-1]] = append(t[w[len(w)-1]], []byte(w))
	}
	return &t
})
