package inject

import (
	"slices"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// span is a half-open byte range.
type span struct{ start, end int }

// mark is invisible text found while normalising: characters that hide or
// reorder what a reader sees. Offsets are into the normalised layer's
// source.
type mark struct {
	rule       string
	start, end int
}

// spelled is text written with invisible characters (Unicode tags,
// variation selectors): a human sees nothing, a model may read it.
type spelled struct {
	rule       string
	start, end int // source offsets of the run
	text       string
}

// normText is a text after normalisation.
type normText struct {
	// text is the normalised text: lower case, NFKC, one space or
	// newline for each run of white space, disguises folded. It is the
	// normalizer's buffer, valid until its next use.
	text []byte
	// off[i] is the offset in the source of the character that produced
	// text[i]; off[len(text)] is the source's length.
	off []int32
	// obf are regions of text that evasion produced: leetspeak, spaced
	// letters, mixed scripts, letters written as entities or escapes,
	// words split by zero-width characters.
	obf []span
	// marks and spelled are the invisible characters that hid text.
	marks   []mark
	spelled []spelled
	// wide is set when text holds characters beyond ASCII.
	wide bool
}

// normalize normalises src into n's buffers: it allocates nothing when
// they are large enough from an earlier call.
func normalize(src string, n *normalizer) normText {
	n.reset(src)
	for p := 0; p < len(src); {
		c := src[p]
		if isASCIIAlnum(c) && n.plain() {
			p = n.putRun(src, p)
			continue
		}
		if c < utf8.RuneSelf {
			if c == '&' || c == '%' || c == '\\' {
				if k := n.escape(src, p); k > 0 {
					p += k
					continue
				}
			}
			n.visible()
			n.putASCII(c, int32(p), false)
			p++
			continue
		}
		r, size := utf8.DecodeRuneInString(src[p:])
		if r == utf8.RuneError && size == 1 {
			n.visible()
			n.space(false, int32(p))
			p++
			continue
		}
		n.feed(r, p, p+size, false)
		p += size
	}
	n.finish()
	return normText{text: n.b, off: n.off, obf: n.obf, marks: n.marks, spelled: n.spelled, wide: n.wide}
}

// plain reports a state in which a run of ASCII letters and digits can be
// written without the per-character bookkeeping: no invisible characters
// pending.
func (n *normalizer) plain() bool {
	return !n.tagOn && len(n.vsBytes) == 0 && !n.bidiOn && n.zwCount == 0
}

// putRun writes the run of ASCII letters and digits at src[p] and returns
// where it ends: the common case, in a tight loop.
func (n *normalizer) putRun(src string, p int) int {
	n.flushSpace()
	if !n.inWord {
		n.startWord()
	}
	// Find the run first, then write it in one go: no append per byte.
	j := p
	for j < len(src) && isASCIIAlnum(src[j]) {
		j++
	}
	k := j - p
	n.b = slices.Grow(n.b, k)
	n.off = slices.Grow(n.off, k)
	b0, o0 := len(n.b), len(n.off)
	b, off := n.b[:b0+k], n.off[:o0+k]
	letters, leetPending, leet := n.wordLetters, n.leetPending, n.wordLeet
	for i := 0; i < k; i++ {
		c := src[p+i]
		switch {
		case 'a' <= c && c <= 'z':
			letters++
			leet = leet || leetPending
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
			letters++
			leet = leet || leetPending
		default:
			leetPending = leetPending || c == '0' || c == '1' || c == '3' || c == '4' || c == '5' || c == '7'
		}
		b[b0+i] = c
		off[o0+i] = int32(p + i)
	}
	n.b, n.off = b, off
	n.wordLetters, n.leetPending, n.wordLeet = letters, leetPending, leet
	n.wordRunes += j - p
	last := n.b[len(n.b)-1]
	letter := 'a' <= last && last <= 'z'
	n.prevLetter, n.prevASCIILetter = letter, letter
	n.wordFirstASC = n.wordRunes == 1 && letter
	return j
}

func isASCIIAlnum(c byte) bool { return alnumSet[c] }

var alnumSet = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") {
		t[c] = true
	}
	return t
}()

// normalizer holds the state of one normalisation.
type normalizer struct {
	src     string
	b       []byte
	off     []int32
	obf     []span
	marks   []mark
	spelled []spelled
	scratch []byte

	// Pending white space: emitted as one byte before the next visible
	// character. wide records a run of two or more or a newline, which
	// keeps words apart when spaced letters are folded.
	ws      bool
	wsNL    bool
	wsCount int
	wsOff   int32

	// The word being written, from wordStart to the end of b.
	inWord       bool
	wordStart    int
	wordRunes    int
	wordLetters  int // ASCII letters
	wordLeet     bool
	leetPending  bool // a leet digit or symbol awaits a following letter
	wordConfuse  bool // holds Cyrillic or Greek letters that look Latin
	wordAt       bool // holds '@'
	wordFirstASC bool // the word's only rune is an ASCII letter

	prevLetter      bool // the last character written is a letter
	prevASCIILetter bool

	run spacedRun

	// Invisible characters since the last visible one.
	zwCount            int
	zwStart, zwEnd     int
	zwInside           int
	zwFirst, zwLast    int
	tagText            []byte
	tagOn              bool
	tagStart, tagEnd   int
	tagFlag            bool // the run follows a black flag: a subdivision flag emoji
	tagLast            rune
	vsBytes            []byte
	vsStart, vsEnd     int
	bidiOn             bool
	bidiStart, bidiEnd int
	spelledBytes       int
	wide               bool
}

// spacedRun tracks single letters separated by single separators.
type spacedRun struct {
	active    bool
	expectSep bool // the last token was a letter
	start     int  // b index of the first letter
	end       int  // b index after the last letter
	letters   int
	seps      []sepAt
}

type sepAt struct {
	pos  int
	wide bool
}

func (n *normalizer) reset(src string) {
	*n = normalizer{
		src: src, b: n.b[:0], off: n.off[:0], scratch: n.scratch[:0],
		tagText: n.tagText[:0], vsBytes: n.vsBytes[:0],
		run: spacedRun{seps: n.run.seps[:0]},
	}
	if cap(n.b) < len(src) {
		n.b = make([]byte, 0, len(src)+len(src)/8)
		n.off = make([]int32, 0, len(src)+len(src)/8+1)
	}
}

// escape decodes an HTML entity, a run of %XX escapes or a backslash
// escape at p and feeds what it spells. It returns the bytes consumed, or
// 0 when there is no escape at p.
func (n *normalizer) escape(src string, p int) int {
	var rs [16]rune
	var cnt, size int
	switch src[p] {
	case '&':
		var r1, r2 rune
		r1, r2, size = entityAt(src, p)
		if size == 0 {
			return 0
		}
		rs[0], cnt = r1, 1
		if r2 != 0 {
			rs[1], cnt = r2, 2
		}
	case '%':
		cnt, size = percentAt(src, p, rs[:])
	case '\\':
		var r rune
		r, size = backslashAt(src, p)
		if size > 0 {
			rs[0], cnt = r, 1
		}
	}
	if size == 0 || cnt == 0 {
		return 0
	}
	for _, r := range rs[:cnt] {
		n.feed(r, p, p+size, isAlnum(r))
	}
	return size
}

// feed normalises one source character: r came from src[start:end]
// (decoded from an escape when escaped is set).
func (n *normalizer) feed(r rune, start, end int, escaped bool) {
	if r < 0 || r > utf8.MaxRune {
		r = utf8.RuneError
	}
	if k := invisibleKind(r); k != visibleChar {
		n.invisible(k, r, start, end)
		return
	}
	n.visible()
	at := int32(start)
	switch {
	case r < utf8.RuneSelf:
		n.putASCII(byte(r), at, escaped)
		return
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
		n.putASCII(byte(r-0xFEE0), at, true)
		return
	case nfkcStable(r):
		n.put(r, at, escaped)
		return
	}
	var tmp [utf8.UTFMax]byte
	k := utf8.EncodeRune(tmp[:], r)
	if norm.NFKC.QuickSpan(tmp[:k]) == k {
		n.put(r, at, escaped)
		return
	}
	out := norm.NFKC.Append(n.scratch[:0], tmp[:k]...)
	n.scratch = out[:0]
	// A compatibility character that becomes ASCII letters (𝐢, ⓘ, ﬁ) is
	// a disguise when it sits in ASCII text.
	for len(out) > 0 {
		r2, sz := utf8.DecodeRune(out)
		out = out[sz:]
		if invisibleKind(r2) != visibleChar {
			continue
		}
		n.put(r2, at, escaped || isAlnum(r2) && r2 < utf8.RuneSelf)
	}
}

// put writes one normalised character.
func (n *normalizer) put(r rune, at int32, escaped bool) {
	if r < utf8.RuneSelf {
		n.putASCII(byte(r), at, escaped)
		return
	}
	if unicode.IsSpace(r) {
		n.space(r == 0x2028 || r == 0x2029 || r == 0x85, at)
		return
	}
	if unicode.In(r, unicode.Mn, unicode.Me) {
		// Accents and stacked marks on Latin letters go; marks that other
		// scripts need stay, inside the word they belong to.
		if n.prevASCIILetter {
			return
		}
		if n.inWord && !n.ws {
			n.appendRune(r, at)
			return
		}
	}
	if a := foldPunct(r); a != 0 {
		n.putASCII(a, at, escaped)
		return
	}
	r = unicode.ToLower(r)
	if r < 0x2000 {
		if s := foldLatin(r); s != "" {
			for i := 0; i < len(s); i++ {
				n.putASCII(s[i], at, escaped)
			}
			return
		}
		if r == 'ё' {
			r = 'е'
		}
	}
	if r == utf8.RuneError || unicode.IsControl(r) {
		n.space(false, at)
		return
	}
	n.flushSpace()
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		n.wordRune(r, at)
		return
	}
	n.endWord(0)
	n.closeRun()
	n.appendRune(r, at)
	n.prevLetter, n.prevASCIILetter = false, false
}

// putASCII writes one ASCII character.
func (n *normalizer) putASCII(c byte, at int32, escaped bool) {
	switch {
	case c == ' ' || c == '\t':
		n.space(false, at)
		return
	case c == '\n' || c == '\r' || c == '\v' || c == '\f':
		n.space(true, at)
		return
	case c < 0x20 || c == 0x7f:
		n.space(false, at)
		return
	}
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	n.flushSpace()
	letter := 'a' <= c && c <= 'z'
	if letter || '0' <= c && c <= '9' || (c == '@' || c == '$') && n.inWord {
		if escaped && letter {
			n.addObf(len(n.b), len(n.b)+1)
		}
		n.wordByte(c, at)
		return
	}
	n.endWord(c)
	switch c {
	case '.', '-', '_', '*':
		n.separator(c, at, false)
	default:
		n.closeRun()
		n.b = append(n.b, c)
		n.off = append(n.off, at)
	}
	n.prevLetter, n.prevASCIILetter = false, false
}

// space records white space; it is written, as one byte, before the next
// visible character.
func (n *normalizer) space(newline bool, at int32) {
	n.endWord(' ')
	if !n.ws {
		n.ws, n.wsNL, n.wsCount, n.wsOff = true, false, 0, at
	}
	n.wsCount++
	n.wsNL = n.wsNL || newline
	n.prevLetter, n.prevASCIILetter = false, false
}

func (n *normalizer) flushSpace() {
	if !n.ws {
		return
	}
	n.ws = false
	if len(n.b) == 0 {
		return
	}
	c := byte(' ')
	if n.wsNL {
		c = '\n'
	}
	n.separator(c, n.wsOff, n.wsNL || n.wsCount > 1)
}

// separator writes a character that may sit between spaced letters.
func (n *normalizer) separator(c byte, at int32, wide bool) {
	if n.run.active {
		if n.run.expectSep {
			n.run.seps = append(n.run.seps, sepAt{pos: len(n.b), wide: wide || c == '\n'})
			n.run.expectSep = false
		} else {
			n.closeRun()
		}
	}
	n.b = append(n.b, c)
	n.off = append(n.off, at)
}

func (n *normalizer) wordByte(c byte, at int32) {
	n.noteZeroWidth(true)
	if !n.inWord {
		n.startWord()
	}
	n.b = append(n.b, c)
	n.off = append(n.off, at)
	n.wordRunes++
	switch {
	case 'a' <= c && c <= 'z':
		n.wordLetters++
		if n.leetPending {
			n.wordLeet = true
		}
		n.prevLetter, n.prevASCIILetter = true, true
	case c == '0' || c == '1' || c == '3' || c == '4' || c == '5' || c == '7' || c == '@' || c == '$':
		n.leetPending = true
		n.wordAt = n.wordAt || c == '@'
		n.prevLetter, n.prevASCIILetter = false, false
	default:
		n.prevLetter, n.prevASCIILetter = false, false
	}
	n.wordFirstASC = n.wordRunes == 1 && 'a' <= c && c <= 'z'
}

func (n *normalizer) wordRune(r rune, at int32) {
	letter := unicode.IsLetter(r)
	n.noteZeroWidth(letter)
	if !n.inWord {
		n.startWord()
	}
	n.appendRune(r, at)
	n.wordRunes++
	n.wordFirstASC = false
	if confusable(r) != 0 {
		n.wordConfuse = true
	}
	n.prevLetter, n.prevASCIILetter = letter, false
}

func (n *normalizer) startWord() {
	n.inWord = true
	n.wordStart = len(n.b)
	n.wordRunes, n.wordLetters = 0, 0
	n.wordLeet, n.leetPending, n.wordConfuse, n.wordFirstASC, n.wordAt = false, false, false, false, false
}

func (n *normalizer) appendRune(r rune, at int32) {
	n.wide = true
	k := len(n.b)
	n.b = utf8.AppendRune(n.b, r)
	for ; k < len(n.b); k++ {
		n.off = append(n.off, at)
	}
}

func (n *normalizer) finish() {
	n.visible()
	if n.zwCount >= 3 {
		n.addMark(ruleZeroWidth, n.zwStart, n.zwEnd)
	}
	if n.zwInside >= 2 {
		n.addMark(ruleZeroWidth, n.zwFirst, n.zwLast)
	}
	n.endWord(0)
	n.closeRun()
	n.off = append(n.off, int32(len(n.src)))
}

func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}
