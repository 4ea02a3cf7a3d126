package redact

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
)

// Finding is one redacted secret: the rule that identified it and the byte
// range [Start, End) it covered in the input. It never holds the secret.
type Finding struct {
	Rule       string
	Start, End int
}

const (
	placeholderPrefix = "[REDACTED:"
	placeholderSuffix = "]"
)

// placeholder is the text that replaces a secret found by rule id.
func placeholder(id string) string {
	return placeholderPrefix + id + placeholderSuffix
}

// Text returns s with every detected secret replaced by
// [REDACTED:<rule-id>], and the findings in input order. Findings never
// overlap; where two rules cover overlapping bytes the union is redacted once
// under the more specific rule. Text is deterministic and idempotent.
func Text(s string) (string, []Finding) {
	return builtinSet().text(s)
}

// maxRounds bounds the passes text makes. A placeholder can change what
// its neighbours look like (a word boundary appears where a token ended),
// so the output is scanned again until nothing new is found; real inputs
// settle after one or two passes.
const maxRounds = 4

func (rs *ruleSet) text(s string) (string, []Finding) {
	fs := rs.find(s)
	if len(fs) == 0 {
		return s, nil
	}
	out := apply(s, fs)
	for round := 1; round < maxRounds; round++ {
		more := rs.find(out)
		if len(more) == 0 {
			break
		}
		// New findings never overlap a placeholder, so each lies in text
		// copied unchanged from s; map it back to input offsets.
		fs = mergeFindings(fs, toInput(fs, more))
		out = apply(s, fs)
	}
	return out, fs
}

// toInput maps findings on apply(s, fs) back to offsets in s.
func toInput(fs, more []Finding) []Finding {
	mapped := make([]Finding, 0, len(more))
	shift, j := 0, 0 // shift: input offset minus output offset so far
	for _, f := range more {
		// Placeholders that start before f in the output shift it.
		for j < len(fs) && fs[j].Start-shift < f.Start {
			shift += (fs[j].End - fs[j].Start) - len(placeholder(fs[j].Rule))
			j++
		}
		mapped = append(mapped, Finding{Rule: f.Rule, Start: f.Start + shift, End: f.End + shift})
	}
	return mapped
}

// mergeFindings merges two ordered, mutually disjoint finding lists.
func mergeFindings(a, b []Finding) []Finding {
	out := make([]Finding, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].Start < b[0].Start {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// apply replaces each finding's range with its placeholder.
func apply(s string, fs []Finding) string {
	var b strings.Builder
	b.Grow(len(s) + 16*len(fs))
	last := 0
	for _, f := range fs {
		b.WriteString(s[last:f.Start])
		b.WriteString(placeholder(f.Rule))
		last = f.End
	}
	b.WriteString(s[last:])
	return b.String()
}

// builtinSet compiles the built-in rules once. A compile error is a defect
// in rules.go that the package tests catch, so it panics like
// regexp.MustCompile rather than failing every call.
var builtinSet = sync.OnceValue(func() *ruleSet {
	rs, err := compile(builtinRules())
	if err != nil {
		panic(err)
	}
	return rs
})

// compiled is a rule prepared for matching. Its regular expressions are
// compiled when the rule's keywords first occur in a text: a process that
// redacts once (a hook) would otherwise pay for compiling every rule's three
// expressions, about 15 ms, to use a few. compile has already parsed the
// pattern, so the deferred compilation cannot fail on its syntax.
type compiled struct {
	*rule
	once sync.Once
	rx   *ruleRegexps
	// deferTo are token prefixes of format rules (lower case): this rule
	// leaves a secret that starts with one to that rule, which knows the
	// format (xoxp-1234 is a malformed Slack token, not a password).
	deferTo []string
	back    [256]bool
	// runBytes is rule.run as a set.
	runBytes [256]bool
	window   int
	// prefix is the literal an anchored match must start with; checking
	// it first skips attempts at keywords of the wrong case.
	prefix string
}

// ruleRegexps are a rule's compiled expressions.
type ruleRegexps struct {
	scanRe *regexp.Regexp // the pattern, unanchored
	re     *regexp.Regexp // ^(?:pattern), for an attempt at the start of the input
	reCtx  *regexp.Regexp // ^[\s\S](?:pattern), run from one byte before the start so \b sees its left neighbour
}

// regexps returns the rule's expressions, compiling them on first use.
func (c *compiled) regexps() *ruleRegexps {
	c.once.Do(func() { c.rx = mustRegexps(c.pattern) })
	return c.rx
}

func mustRegexps(pattern string) *ruleRegexps {
	rx, err := compileRegexps(pattern)
	if err != nil {
		panic(err) // compile parsed the pattern; TestBuiltinRegexpsCompile compiles them all
	}
	return rx
}

func compileRegexps(pattern string) (*ruleRegexps, error) {
	var rx ruleRegexps
	var err error
	if rx.scanRe, err = regexp.Compile(pattern); err != nil {
		return nil, err
	}
	if rx.re, err = regexp.Compile(`^(?:` + pattern + `)`); err != nil {
		return nil, err
	}
	if rx.reCtx, err = regexp.Compile(`^[\s\S](?:` + pattern + `)`); err != nil {
		return nil, err
	}
	return &rx, nil
}

// An anchored attempt reads a window of the input (the regexp package's
// backtracker clears state in proportion to its input, so a short window
// is cheaper).
// A rule whose match length is bounded gets a window that fits its longest
// match; others get rule.window or defaultWindow. A match that reaches the
// window's end is retried with the window doubled, so long tokens are not
// cut short; since matched text is not searched again, the retries cost at
// most twice the matched length.
const defaultWindow = 512

// Anchored attempts each read up to a window, so a keyword repeated every
// few bytes could multiply the work. A rule whose attempts could read more
// than maxAmplification times the input (and more than minAttempts
// windows) scans the input once with its unanchored pattern instead, which
// RE2 runs in linear time.
const (
	maxAmplification = 16
	minAttempts      = 64
)

// ruleSet is an immutable, compiled set of rules; it is safe for concurrent
// use.
type ruleSet struct {
	rules []*compiled
	pre   *prefilter
	ids   map[string]bool // rule ids and SecretField: the placeholders it writes
}

var idPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// compile validates and prepares rules. It reports every problem at once.
func compile(rules []rule) (*ruleSet, error) {
	rs := &ruleSet{ids: map[string]bool{SecretField: true}}
	var errs []string
	seen := map[string]bool{}
	var kws [][]string
	for i := range rules {
		r := &rules[i]
		if !idPattern.MatchString(r.id) {
			errs = append(errs, fmt.Sprintf("rule %d: id %q must be lower-case words joined by '-'", i, r.id))
		}
		if seen[r.id] {
			errs = append(errs, fmt.Sprintf("rule %q: duplicate id; give each credential type one rule", r.id))
		}
		seen[r.id] = true
		rs.ids[r.id] = true
		if len(r.keywords) == 0 {
			errs = append(errs, fmt.Sprintf("rule %q: no keywords; every rule needs a literal that locates or gates it", r.id))
		}
		for _, k := range r.keywords {
			if len(k) < 2 || k != strings.ToLower(k) {
				errs = append(errs, fmt.Sprintf("rule %q: keyword %q must be lower-case and at least 2 bytes", r.id, k))
			}
		}
		c := &compiled{rule: r}
		parsed, err := syntax.Parse(r.pattern, syntax.Perl)
		if err != nil {
			errs = append(errs, fmt.Sprintf("rule %q: pattern does not compile: %v", r.id, err))
			continue
		}
		c.window = windowFor(r, parsed)
		c.prefix = literalPrefix(parsed.Simplify())
		for i := 0; i < len(r.back); i++ {
			c.back[r.back[i]] = true
		}
		for i := 0; i < len(r.run); i++ {
			c.runBytes[r.run[i]] = true
		}
		kws = append(kws, r.keywords)
		rs.rules = append(rs.rules, c)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("redact: invalid rules:\n  %s", strings.Join(errs, "\n  "))
	}
	rs.pre = newPrefilter(kws)
	rs.deferrals()
	return rs, nil
}

// deferrals gives the generic rules (rank 2) the token prefixes they
// leave to format rules: the keywords of rank-0 rules of five bytes or
// more that hold a separator (xoxp-, sk-ant-, glpat-). Shorter ones (ghp_,
// key-, api-) also start ordinary values.
func (rs *ruleSet) deferrals() {
	var prefixes []string
	for _, c := range rs.rules {
		if c.rank != 0 {
			continue
		}
		for _, k := range c.keywords {
			if len(k) >= 5 && strings.ContainsAny(k, "_-.") {
				prefixes = append(prefixes, k)
			}
		}
	}
	for _, c := range rs.rules {
		if c.rank >= 2 {
			c.deferTo = prefixes
		}
	}
}

// candidate is one accepted match before overlaps are resolved.
type candidate struct {
	start, end int
	rule       int
}

// find returns the merged, ordered findings for s.
func (rs *ruleSet) find(s string) []Finding {
	if len(s) == 0 {
		return nil
	}
	at := rs.pre.scan(s)
	if at == nil {
		return nil
	}
	defer rs.pre.release(at)
	protected := rs.placeholderSpans(s)
	var cands []candidate
	for i := range rs.rules {
		if len(at[i]) > 0 {
			cands = rs.rules[i].matches(s, i, at[i], protected, cands)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return rs.merge(cands)
}

// matches appends the accepted matches of rule i in s to cands; at holds
// the offsets of the rule's keywords.
func (c *compiled) matches(s string, i int, at []int, protected [][2]int, cands []candidate) []candidate {
	if !c.scan {
		at = c.starts(s, at)
	}
	if c.scan || len(at) > minAttempts && len(at)*c.window > maxAmplification*len(s) {
		// Locating matches without submatches is several times faster;
		// the submatches come from an anchored attempt at each match.
		for _, loc := range c.regexps().scanRe.FindAllStringIndex(s, -1) {
			if m := c.matchAt(s, loc[0]); m != nil {
				cands = c.accept(s, m, i, protected, cands)
			}
		}
		return cands
	}
	covered := 0
	for _, q := range at {
		if q < covered {
			continue
		}
		if m := c.matchAt(s, q); m != nil {
			covered = m[1]
			cands = c.accept(s, m, i, protected, cands)
		}
	}
	return cands
}

// starts turns keyword offsets into distinct attempt offsets: each steps
// back over the rule's back bytes, and with run set only the first
// keyword of each run is kept. Offsets where the pattern cannot match
// (its literal prefix or the precheck fails) are dropped here, before
// matches counts the attempts. It reuses at's storage.
func (c *compiled) starts(s string, at []int) []int {
	out := at[:0]
	last, runEnd := -1, -1
	for _, p := range at {
		if p < runEnd {
			continue
		}
		q := p
		for k := 0; k < c.backMax && q > 0 && c.back[s[q-1]]; k++ {
			q--
		}
		if q == last {
			continue
		}
		last = q
		if c.run != "" {
			runEnd = p
			for runEnd < len(s) && c.runBytes[s[runEnd]] {
				runEnd++
			}
		}
		if !strings.HasPrefix(s[q:], c.prefix) || c.precheck != nil && !c.precheck(s, q) {
			continue
		}
		out = append(out, q)
	}
	return out
}

// matchAt runs the anchored pattern at offset q and returns submatch
// offsets into s, or nil.
func (c *compiled) matchAt(s string, q int) []int {
	w := c.window
	end := min(len(s), q+w)
	for {
		var m []int
		base := q
		if q == 0 {
			m = c.regexps().re.FindStringSubmatchIndex(s[:end])
		} else {
			base = q - 1
			m = c.regexps().reCtx.FindStringSubmatchIndex(s[base:end])
		}
		if m == nil {
			return nil
		}
		if base+m[1] == end && end < len(s) {
			w *= 2
			end = min(len(s), q+w)
			continue
		}
		for j := range m {
			if m[j] >= 0 {
				m[j] += base
			}
		}
		m[0] = q
		return m
	}
}

// accept verifies one match and appends it to cands when it holds a secret.
func (c *compiled) accept(s string, m []int, i int, protected [][2]int, cands []candidate) []candidate {
	if overlaps(protected, m[0], m[1]) {
		return cands // the match reads a placeholder, as a key or a value
	}
	start, end := secretSpan(m)
	ok := true
	if c.verify != nil {
		start, end, ok = c.verify(s, m, start, end)
	}
	if !ok || start >= end || overlaps(protected, start, end) {
		return cands
	}
	secret := s[start:end]
	if c.checksum != nil && c.checksum(secret) {
		return append(cands, candidate{start: start, end: end, rule: i})
	}
	if c.entropy > 0 && entropy(secret) < c.entropy {
		return cands
	}
	if looksLikePlaceholder(secret) {
		return cands
	}
	for _, p := range c.deferTo {
		if hasPrefixFold(secret, p) {
			return cands
		}
	}
	return append(cands, candidate{start: start, end: end, rule: i})
}

// secretSpan is the first capture group that took part in the match, or
// the whole match when none did.
func secretSpan(m []int) (int, int) {
	for g := 2; g+1 < len(m); g += 2 {
		if m[g] >= 0 {
			return m[g], m[g+1]
		}
	}
	return m[0], m[1]
}

// merge sorts candidates and joins overlapping ones. The joined finding is
// labelled with the most specific rule (lowest rank, then earliest rule in
// the table), so a GitHub token inside a password assignment reads
// [REDACTED:github-pat].
func (rs *ruleSet) merge(cands []candidate) []Finding {
	slices.SortFunc(cands, func(a, b candidate) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if a.end != b.end {
			return b.end - a.end
		}
		return a.rule - b.rule
	})
	out := make([]Finding, 0, len(cands))
	cur := cands[0]
	for _, c := range cands[1:] {
		if c.start < cur.end {
			if c.end > cur.end {
				cur.end = c.end
			}
			if rs.better(c.rule, cur.rule) {
				cur.rule = c.rule
			}
			continue
		}
		out = append(out, Finding{Rule: rs.rules[cur.rule].id, Start: cur.start, End: cur.end})
		cur = c
	}
	out = append(out, Finding{Rule: rs.rules[cur.rule].id, Start: cur.start, End: cur.end})
	return out
}

// better reports whether rule a names an overlap better than rule b.
func (rs *ruleSet) better(a, b int) bool {
	ra, rb := rs.rules[a].rank, rs.rules[b].rank
	if ra != rb {
		return ra < rb
	}
	return a < b
}

// placeholderSpans finds placeholders already in s. A match that overlaps
// one is dropped, which keeps redaction idempotent. Only ids of this set's
// rules count, so text dressed up as "[REDACTED:<hex key>]" is still
// searched.
func (rs *ruleSet) placeholderSpans(s string) [][2]int {
	var spans [][2]int
	off := 0
	for {
		i := strings.Index(s[off:], placeholderPrefix)
		if i < 0 {
			return spans
		}
		start := off + i
		j := start + len(placeholderPrefix)
		for j < len(s) && isIDByte(s[j]) {
			j++
		}
		if j < len(s) && s[j] == ']' && rs.ids[s[start+len(placeholderPrefix):j]] {
			spans = append(spans, [2]int{start, j + 1})
			off = j + 1
		} else {
			off = start + len(placeholderPrefix)
		}
	}
}

func isIDByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-'
}

// overlaps reports whether [start, end) meets one of the ordered,
// disjoint spans.
func overlaps(spans [][2]int, start, end int) bool {
	i, _ := slices.BinarySearchFunc(spans, start, func(p [2]int, t int) int {
		if p[1] <= t {
			return -1
		}
		return 1
	})
	return i < len(spans) && spans[i][0] < end
}
