package inject

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode/utf8"
)

// Verdicts.
const (
	VerdictInjection  = "injection"
	VerdictSuspicious = "suspicious"
	VerdictClean      = "clean"
)

// Defaults of Options.
const (
	DefaultMaxBytes   = 1 << 20
	DefaultMaxDecoded = 256 << 10
	DefaultThreshold  = 0.6
	DefaultSuspicious = 0.35
)

// Limits that are not options.
const (
	// maxDepth is how deep decoded text is decoded again: base64 inside
	// base64 is read, a third level is not.
	maxDepth = 2
	// clusterGap is the distance in bytes below which signals count
	// together: an instruction and its framing sit close, unrelated
	// words in a long document do not.
	clusterGap = 600
	maxHits    = 4096
	maxSpans   = 64
	maxText    = 160
	// hardMaxBytes caps Options.MaxBytes.
	hardMaxBytes = 64 << 20
)

// Options tune a Scanner. The zero value means the defaults.
type Options struct {
	// Threshold is the score at and above which the verdict is
	// "injection" (DefaultThreshold when 0).
	Threshold float64
	// Suspicious is the score at and above which a text below Threshold
	// is "suspicious" (DefaultSuspicious when 0).
	Suspicious float64
	// MaxBytes is how much of a text is scanned; the rest is not read and
	// the Result says so (DefaultMaxBytes when 0, at most 64 MiB).
	MaxBytes int
	// MaxDecoded bounds the bytes decoded from base64 and hex per scan
	// (DefaultMaxDecoded when 0).
	MaxDecoded int
}

// Result is what a scan found.
type Result struct {
	// Verdict is "injection", "suspicious" or "clean".
	Verdict string
	// Score is the evidence in [0, 1]: the strongest cluster of signals.
	Score float64
	// Categories are the categories of the signals found, sorted, each
	// once (CatOverride, CatRole, …).
	Categories []string
	// Spans are the signals, in order of position (at most 64, the
	// strongest kept).
	Spans []Span
	// Truncated is set when only the first Scanned bytes were read.
	Truncated bool
	// Scanned is the number of bytes of the text that were read.
	Scanned int
}

// Span is one signal.
type Span struct {
	// Start and End are byte offsets into the text passed to Scan. A
	// signal inside decoded or invisible text spans the whole encoded run.
	Start, End int
	// Category is one of the Cat constants; Rule is the stable code of
	// the rule ("en.ignore_previous", "hidden.unicode_tags").
	Category, Rule string
	// Text is what matched, as normalised (decoded, folded), at most 160
	// bytes.
	Text string
	// Weight is the signal's weight in the score, after any increase for
	// hidden or disguised text.
	Weight float64
}

// Scanner scans texts with fixed options. It is safe for concurrent use.
type Scanner struct {
	opts  Options
	rules *ruleSet
	pool  sync.Pool
}

// New returns a Scanner, or an error when the options are out of range.
func New(opts Options) (*Scanner, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	rs, err := compiledRules()
	if err != nil {
		return nil, err
	}
	s := &Scanner{opts: opts, rules: rs}
	s.pool.New = func() any { return new(state) }
	return s, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	if o.Suspicious == 0 {
		o.Suspicious = min(DefaultSuspicious, o.Threshold)
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxDecoded == 0 {
		o.MaxDecoded = DefaultMaxDecoded
	}
	var errs []error
	if o.Threshold <= 0 || o.Threshold > 1 || math.IsNaN(o.Threshold) {
		errs = append(errs, fmt.Errorf("inject: Threshold %v is outside (0, 1]; 0 means %v", o.Threshold, DefaultThreshold))
	}
	if o.Suspicious <= 0 || o.Suspicious > o.Threshold || math.IsNaN(o.Suspicious) {
		errs = append(errs, fmt.Errorf("inject: Suspicious %v must be in (0, Threshold=%v]; 0 means %v", o.Suspicious, o.Threshold, DefaultSuspicious))
	}
	if o.MaxBytes < 0 || o.MaxBytes > hardMaxBytes {
		errs = append(errs, fmt.Errorf("inject: MaxBytes %d is outside [1, %d]; 0 means %d", o.MaxBytes, hardMaxBytes, DefaultMaxBytes))
	}
	if o.MaxDecoded < 0 || o.MaxDecoded > hardMaxBytes {
		errs = append(errs, fmt.Errorf("inject: MaxDecoded %d is outside [1, %d]; 0 means %d", o.MaxDecoded, hardMaxBytes, DefaultMaxDecoded))
	}
	return o, errors.Join(errs...)
}

var defaultScanner = sync.OnceValues(func() (*Scanner, error) { return New(Options{}) })

// Scan scans text with the default options.
func Scan(text string) Result {
	s, err := defaultScanner()
	if err != nil {
		return failed(err)
	}
	return s.Scan(text)
}

// failed is the result of a scan that could not finish: an injection, so
// that the caller refuses rather than trusts.
func failed(err error) Result {
	return Result{
		Verdict: VerdictInjection, Score: 1, Categories: []string{CatInternal},
		Spans: []Span{{Category: CatInternal, Rule: "internal.error", Text: clip(err.Error()), Weight: 1}},
	}
}

// state is the scratch space of one scan, reused across scans.
type state struct {
	norm normalizer
	m    matcher
	hits []hit
}

// layer is a text to scan: the input itself, or text decoded or spelled
// from a run of it.
type layer struct {
	src    string
	depth  int
	top    bool // the input: offsets map through the normaliser
	hidden bool // spelled by invisible characters or decoded: evidence of intent
	origin span // for other layers, the run of the input it came from
}

// Scan scans text.
func (s *Scanner) Scan(text string) (res Result) {
	defer func() {
		if r := recover(); r != nil {
			res = failed(fmt.Errorf("inject: scan failed: %v", r))
		}
	}()
	st := s.pool.Get().(*state)
	defer s.pool.Put(st)

	if len(text) > s.opts.MaxBytes {
		n := s.opts.MaxBytes
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text, res.Truncated = text[:n], true
	}
	res.Scanned = len(text)
	hits := s.collect(text, st)
	st.hits = hits[:0]

	res.Score = score(hits)
	switch {
	case res.Score >= s.opts.Threshold:
		res.Verdict = VerdictInjection
	case res.Score >= s.opts.Suspicious:
		res.Verdict = VerdictSuspicious
	default:
		res.Verdict = VerdictClean
	}
	res.Categories, res.Spans = report(hits)
	return res
}

// collect gathers the signals of text and of what is decoded from it.
func (s *Scanner) collect(text string, st *state) []hit {
	hits := st.hits[:0]
	budget := s.opts.MaxDecoded
	queue := []layer{{src: text, top: true}}
	for qi := 0; qi < len(queue) && len(hits) < maxHits; qi++ {
		l := queue[qi]
		nt := normalize(l.src, &st.norm)
		st.m.matches = st.m.matches[:0]
		s.rules.find(nt.text, nt.wide, &st.m, maxHits-len(hits))
		for _, m := range st.m.matches {
			r := &s.rules.rules[m.rule]
			start, end := l.mapNorm(nt, m.start, m.end)
			hits = append(hits, hit{
				rule: r.id, category: r.category, weight: r.weight, start: start, end: end,
				text: clipBytes(nt.text[m.start:m.end]), boosted: l.hidden || overlaps(nt.obf, m.start, m.end),
			})
		}
		for _, mk := range nt.marks {
			start, end := l.mapSrc(mk.start, mk.end)
			hits = append(hits, hit{rule: mk.rule, category: CatHidden, weight: markWeight(mk.rule), start: start, end: end})
		}
		for _, sp := range nt.spelled {
			start, end := l.mapSrc(sp.start, sp.end)
			hits = append(hits, hit{rule: sp.rule, category: CatHidden, weight: 0.45, start: start, end: end, text: clip(sp.text)})
			if l.depth < maxDepth {
				queue = append(queue, layer{src: sp.text, depth: l.depth + 1, hidden: true, origin: span{start, end}})
			}
		}
		if l.depth < maxDepth && budget > 0 {
			var ps []payload
			ps, budget = findPayloads(l.src, budget)
			for _, p := range ps {
				start, end := l.mapSrc(p.start, p.end)
				if isProse(p.text) {
					hits = append(hits, hit{rule: p.rule, category: CatEncoded, weight: encodedWeight(p.rule), start: start, end: end, text: clip(p.text)})
				}
				queue = append(queue, layer{src: p.text, depth: l.depth + 1, hidden: true, origin: span{start, end}})
			}
		}
		if l.top {
			hits = surface(text, hits)
		}
	}
	if len(hits) > maxHits {
		hits = hits[:maxHits]
	}
	return hits
}

// surface weighs what the rendered text hides: signals that end inside a
// hidden region (their object is hidden, even when the match began in
// the markup) count more, and a region that holds any is a signal itself.
// Data-carrying image and link URLs are added.
func surface(text string, hits []hit) []hit {
	for _, rg := range hiddenRegions(text) {
		found := false
		for i := range hits {
			if hits[i].end > rg.start && hits[i].end <= rg.end && hits[i].category != CatHidden {
				hits[i].boosted = true
				found = true
			}
		}
		if found {
			hits = append(hits, hit{rule: rg.rule, category: CatHidden, weight: 0.3, start: rg.start, end: rg.end,
				text: clip(strings.TrimSpace(text[rg.start:rg.end]))})
		}
	}
	for _, u := range exfilURLs(text) {
		hits = append(hits, hit{rule: u.rule, category: CatExfil, weight: u.weight, start: u.start, end: u.end, text: clip(u.url)})
	}
	return hits
}

// encodedWeight is the weight of prose found encoded. Base64 that decodes
// to sentences is rare in honest tool output and a known way to smuggle
// instructions; hex-encoded text is common in test vectors, so it counts
// only with other signals.
func encodedWeight(rule string) float64 {
	if rule == ruleHex {
		return 0.3
	}
	return 0.35
}

func markWeight(rule string) float64 {
	switch rule {
	case ruleTags, ruleVariation:
		return 0.45
	case ruleBidi:
		return 0.35
	}
	return 0.2
}

// mapNorm maps a range of the layer's normalised text to the input.
func (l *layer) mapNorm(nt normText, s, e int) (int, int) {
	if !l.top {
		return l.origin.start, l.origin.end
	}
	start, end := int(nt.off[s]), int(nt.off[e])
	// off[e] is where the next character starts: step back over the
	// white space between.
	for end > start && (l.src[end-1] == ' ' || l.src[end-1] == '\n' || l.src[end-1] == '\t' || l.src[end-1] == '\r') {
		end--
	}
	if end <= start {
		_, sz := utf8.DecodeRuneInString(l.src[start:])
		end = start + max(sz, 1)
	}
	return start, end
}

// mapSrc maps a range of the layer's source to the input.
func (l *layer) mapSrc(s, e int) (int, int) {
	if !l.top {
		return l.origin.start, l.origin.end
	}
	return s, e
}

func overlaps(spans []span, s, e int) bool {
	for _, o := range spans {
		if o.start < e && s < o.end {
			return true
		}
	}
	return false
}
