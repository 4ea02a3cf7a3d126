package memory

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of the extractive summaries.
const (
	maxSentences   = 256 // sentences scored per text; the rest are never picked
	minSummary     = 160 // bytes a summary may always use
	maxSummary     = 480 // bytes a summary never exceeds
	maxOneLine     = 120 // bytes of a one-line gist
	sentenceWords  = 30  // longer sentences score lower on length
	shortSentence  = 4   // shorter sentences score lower on length
	contentWordLen = 3   // shorter words are not keywords
)

// stopWords are frequent words that say nothing about a sentence's topic.
var stopWords = map[string]bool{
	"the": true, "and": true, "for": true, "that": true, "this": true, "with": true, "was": true,
	"are": true, "but": true, "not": true, "you": true, "all": true, "any": true, "can": true,
	"had": true, "her": true, "his": true, "its": true, "our": true, "out": true, "has": true,
	"have": true, "from": true, "they": true, "will": true, "would": true, "there": true,
	"their": true, "what": true, "about": true, "which": true, "when": true, "then": true,
	"them": true, "were": true, "been": true, "into": true, "than": true, "also": true,
	"just": true, "some": true, "more": true, "very": true, "one": true, "now": true,
	"的": true, "了": true, "是": true, "在": true, "和": true, "我": true, "你": true, "他": true,
}

// cueWords mark sentences that usually carry the point of an event.
var cueWords = map[string]bool{
	"decided": true, "decision": true, "because": true, "chose": true, "error": true,
	"failed": true, "failure": true, "fixed": true, "fix": true, "broke": true, "broken": true,
	"must": true, "never": true, "always": true, "important": true, "cause": true,
	"learned": true, "lesson": true, "deployed": true, "released": true, "release": true,
	"rollback": true, "reverted": true, "prefer": true, "prefers": true, "result": true,
	"决定": true, "原因": true, "失败": true, "修复": true, "必须": true, "重要": true,
}

type sentence struct {
	text  string
	pos   int
	score float64
}

// distinct drops repeated sentences (case-insensitively), keeping the
// first: repetition says nothing new, and would otherwise weigh its words
// as the text's keywords.
func distinct(sents []string) []string {
	seen := make(map[string]bool, len(sents))
	out := sents[:0]
	for _, s := range sents {
		k := strings.ToLower(s)
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// splitSentences cuts text after . ! ? followed by white space, after the
// CJK full stops 。！？, and at line breaks; it keeps at most maxSentences.
func splitSentences(text string) []string {
	var out []string
	start := 0
	emit := func(end int) {
		if s := oneLine(text[start:end]); s != "" {
			out = append(out, s)
		}
		start = end
	}
	for i, r := range text {
		if len(out) >= maxSentences {
			return out
		}
		switch r {
		case '\n':
			emit(i + 1)
		case '。', '！', '？':
			emit(i + utf8.RuneLen(r))
		case '.', '!', '?':
			if next := i + 1; next >= len(text) || text[next] == ' ' || text[next] == '\t' || text[next] == '\n' {
				emit(next)
			}
		}
	}
	if len(out) < maxSentences {
		emit(len(text))
	}
	return out
}

// summarize returns a deterministic extractive summary of text and a
// one-line gist. Sentences are scored
//
//	score = 0.35·position + 0.35·keywords + 0.15·cues + 0.15·length
//
// (see the package documentation) and the best are kept, in their original
// order, within the summary's size. An empty result means "the same as the
// level before": summary is "" when it would equal text, oneLine is "" when
// it would equal the summary (or the text).
func summarize(text string) (summary, gist string) {
	sents := distinct(splitSentences(text))
	if len(sents) == 0 {
		return "", ""
	}
	limit := min(max(len(text)/3, minSummary), maxSummary)
	ranked := make([]sentence, len(sents))
	for i, s := range sents {
		ranked[i] = sentence{text: s, pos: i}
	}
	scores := scoreSentences(sents)
	for i := range ranked {
		ranked[i].score = scores[i]
	}
	slices.SortStableFunc(ranked, func(a, b sentence) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return a.pos - b.pos
	})
	var picked []sentence
	used := 0
	for _, s := range ranked {
		if used+len(s.text)+1 > limit {
			if len(picked) == 0 {
				picked = append(picked, sentence{text: truncate(s.text, limit), pos: s.pos})
				break
			}
			continue
		}
		picked = append(picked, s)
		used += len(s.text) + 1
	}
	slices.SortFunc(picked, func(a, b sentence) int { return a.pos - b.pos })
	parts := make([]string, len(picked))
	for i, s := range picked {
		parts[i] = s.text
	}
	summary = strings.Join(parts, " ")
	gist = truncate(ranked[0].text, maxOneLine)
	whole := oneLine(text)
	if summary == whole {
		summary = ""
	}
	if gist == summary || gist == whole {
		gist = ""
	}
	return summary, gist
}

// scoreSentences scores each sentence by position, keyword density, cue
// words and length; every part is in [0,1].
func scoreSentences(sents []string) []float64 {
	freq := map[string]int{}
	words := make([][]string, len(sents))
	for i, s := range sents {
		eachWord(s, func(w string) bool {
			words[i] = append(words[i], w)
			if isKeyword(w) {
				freq[w]++
			}
			return true
		})
	}
	kw := make([]float64, len(sents))
	best := 0.0
	for i, ws := range words {
		sum, n := 0, 0
		for _, w := range ws {
			if isKeyword(w) {
				sum += freq[w]
				n++
			}
		}
		if n > 0 {
			kw[i] = float64(sum) / float64(n+1)
		}
		best = max(best, kw[i])
	}
	scores := make([]float64, len(sents))
	for i, ws := range words {
		position := 1 / float64(1+i)
		keywords := 0.0
		if best > 0 {
			keywords = kw[i] / best
		}
		cues := 0
		hasDigit := false
		for _, w := range ws {
			if cueWords[w] {
				cues++
			}
			if !hasDigit && strings.IndexFunc(w, unicode.IsDigit) >= 0 {
				hasDigit = true
			}
		}
		if hasDigit {
			cues++
		}
		length := 1.0
		switch n := len(ws); {
		case n < shortSentence:
			length = 0.3
		case n > sentenceWords:
			length = max(0.3, float64(sentenceWords)/float64(n))
		}
		scores[i] = 0.35*position + 0.35*keywords + 0.15*min(1, float64(cues)/2) + 0.15*length
	}
	return scores
}

func isKeyword(w string) bool {
	if stopWords[w] {
		return false
	}
	r, _ := utf8.DecodeRuneInString(w)
	return isCJK(r) || len(w) >= contentWordLen
}
