package memory

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// isCJK reports whether r is written without spaces between words (Han,
// kana, Hangul). Such runes are words of their own for search, so that a
// two-character query finds the characters anywhere in a sentence.
func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
}

// eachWord calls fn with every lower-case search word of s: a maximal run
// of letters and digits, or a single CJK rune. It stops early when fn
// returns false.
func eachWord(s string, fn func(w string) bool) {
	start := -1
	flush := func(end int) bool {
		if start < 0 {
			return true
		}
		w := s[start:end]
		start = -1
		return fn(lowerWord(w))
	}
	for i, r := range s {
		switch {
		case isCJK(r):
			if !flush(i) || !fn(s[i:i+utf8.RuneLen(r)]) {
				return
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if start < 0 {
				start = i
			}
		default:
			if !flush(i) {
				return
			}
		}
	}
	flush(len(s))
}

// lowerWord lower-cases w without allocating when it is already lower-case
// ASCII, the common case.
func lowerWord(w string) string {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			return strings.ToLower(w)
		}
	}
	return w
}

// queryWords returns the distinct search words of a query, at most max.
func queryWords(s string, max int) []string {
	var out []string
	eachWord(s, func(w string) bool {
		for _, have := range out {
			if have == w {
				return true
			}
		}
		out = append(out, w)
		return len(out) < max
	})
	return out
}

// EstimateTokens is the deterministic token estimate used for every
// budget (working memory, InjectContext): one token per four ASCII bytes (rounded up) plus one per
// non-ASCII rune, which is close for English and for CJK text alike.
func EstimateTokens(s string) int {
	ascii, other := 0, 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			ascii++
			i++
			continue
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		other++
		i += n
	}
	return (ascii+3)/4 + other
}

// oneLine collapses every run of white space and control characters into
// one space and trims the ends, so that a memory renders as one line and
// the same content always hashes the same.
func oneLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cleanLines applies oneLine to every line of s and drops empty lines,
// keeping the line structure of multi-line context (a project's notes).
func cleanLines(s string) string {
	var out []string
	for line := range strings.Lines(s) {
		if l := oneLine(line); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// truncate cuts s to at most max bytes on a rune boundary, preferring the
// last space in the final fifth, and marks the cut with an ellipsis.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	if max <= len(ellipsis) {
		return ""
	}
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if sp := strings.LastIndexByte(s[:cut], ' '); sp > cut*4/5 {
		cut = sp
	}
	return strings.TrimRight(s[:cut], " ") + ellipsis
}
