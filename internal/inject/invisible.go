package inject

import (
	"unicode"
	"unicode/utf8"
)

// Kinds of invisible characters.
const (
	visibleChar = iota
	invTag      // Unicode tags: spell ASCII invisibly
	invVS       // variation selectors: can carry bytes
	invZW       // zero-width and fillers
	invBidi     // embeddings, overrides, isolates: reorder what is shown
	invSilent   // direction marks: removed without a finding
)

// Codes of the findings the normaliser makes itself.
const (
	ruleTags       = "hidden.unicode_tags"
	ruleVariation  = "hidden.variation_selectors"
	ruleZeroWidth  = "hidden.zero_width"
	ruleBidi       = "hidden.bidi"
	maxMarks       = 32
	maxObf         = 256
	maxSpelledText = 64 << 10
	// minSpacedLetters is how many single letters in a row ("i g n o r e")
	// are folded into a word; fewer are left alone ("a b c").
	minSpacedLetters = 4
)

func invisibleKind(r rune) int {
	switch {
	case r < 0xAD:
		return visibleChar
	case r >= 0xE0000 && r <= 0xE007F:
		return invTag
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF:
		return invVS
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return invBidi
	case r >= 0x1D173 && r <= 0x1D17A:
		return invZW
	}
	switch r {
	case 0xAD, 0x34F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x200B, 0x200C, 0x200D,
		0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x3164, 0xFEFF, 0xFFA0:
		return invZW
	case 0x200E, 0x200F, 0x61C, 0xFFF9, 0xFFFA, 0xFFFB:
		return invSilent
	}
	return visibleChar
}

// invisible handles a character a reader does not see: it is dropped
// from the text, and runs that hide text are recorded.
func (n *normalizer) invisible(kind int, r rune, start, end int) {
	if kind != invTag {
		n.flushTags()
	}
	if kind != invVS {
		n.flushVS()
	}
	if kind != invBidi {
		n.flushBidi()
	}
	switch kind {
	case invTag:
		if !n.tagOn {
			n.tagOn, n.tagStart = true, start
			n.tagFlag = start >= 4 && n.src[start-4:start] == "\U0001F3F4"
		}
		n.tagEnd, n.tagLast = end, r
		if r >= 0xE0020 && r <= 0xE007E && len(n.tagText) < 4096 {
			n.tagText = append(n.tagText, byte(r-0xE0000))
		}
	case invVS:
		if len(n.vsBytes) == 0 {
			n.vsStart = start
		}
		n.vsEnd = end
		if len(n.vsBytes) < 4096 {
			if r < 0xE0100 {
				n.vsBytes = append(n.vsBytes, byte(r-0xFE00))
			} else {
				n.vsBytes = append(n.vsBytes, byte(r-0xE0100+16))
			}
		}
	case invZW:
		if n.zwCount == 0 {
			n.zwStart = start
		}
		n.zwCount++
		n.zwEnd = end
	case invBidi:
		if !n.bidiOn {
			n.bidiOn, n.bidiStart = true, start
		}
		n.bidiEnd = end
	}
}

// visible closes the invisible runs before a visible character.
func (n *normalizer) visible() {
	if n.tagOn {
		n.flushTags()
	}
	if len(n.vsBytes) > 0 {
		n.flushVS()
	}
	if n.bidiOn {
		n.flushBidi()
	}
}

// noteZeroWidth judges the zero-width characters before the character
// being written: three or more in a row, or two or more splitting words
// ("ig\u200bnore"), are a finding.
func (n *normalizer) noteZeroWidth(letter bool) {
	if n.zwCount == 0 {
		return
	}
	if n.zwCount >= 3 {
		n.addMark(ruleZeroWidth, n.zwStart, n.zwEnd)
	}
	if letter && n.prevLetter && !n.ws {
		if n.zwInside == 0 {
			n.zwFirst = n.zwStart
		}
		n.zwInside++
		n.zwLast = n.zwEnd
		n.addObf(len(n.b), len(n.b)+1)
	}
	n.zwCount = 0
}

func (n *normalizer) flushTags() {
	if !n.tagOn {
		return
	}
	n.tagOn = false
	text := n.tagText
	n.tagText = n.tagText[:0]
	if n.tagFlag && n.tagLast == 0xE007F && len(text) <= 7 {
		return // a subdivision flag (England, Scotland, Wales)
	}
	if len(text) == 0 {
		n.addMark(ruleTags, n.tagStart, n.tagEnd)
		return
	}
	n.addSpelled(ruleTags, n.tagStart, n.tagEnd, string(text))
}

func (n *normalizer) flushVS() {
	b := n.vsBytes
	if len(b) == 0 {
		return
	}
	n.vsBytes = n.vsBytes[:0]
	if len(b) < 3 {
		return // one selector after an emoji or an ideograph is ordinary
	}
	if utf8.Valid(b) && printableRatio(string(b)) >= 0.9 {
		n.addSpelled(ruleVariation, n.vsStart, n.vsEnd, string(b))
		return
	}
	n.addMark(ruleVariation, n.vsStart, n.vsEnd)
}

func (n *normalizer) flushBidi() {
	if n.bidiOn {
		n.bidiOn = false
		n.addMark(ruleBidi, n.bidiStart, n.bidiEnd)
	}
}

func (n *normalizer) addMark(rule string, start, end int) {
	if k := len(n.marks); k > 0 && n.marks[k-1].rule == rule && n.marks[k-1].end >= start-8 && start <= n.marks[k-1].end+8 {
		n.marks[k-1].start = min(n.marks[k-1].start, start)
		n.marks[k-1].end = max(n.marks[k-1].end, end)
		return
	}
	if len(n.marks) < maxMarks {
		n.marks = append(n.marks, mark{rule, start, end})
	}
}

func (n *normalizer) addSpelled(rule string, start, end int, text string) {
	if n.spelledBytes+len(text) > maxSpelledText || len(n.spelled) >= maxMarks {
		n.addMark(rule, start, end)
		return
	}
	n.spelledBytes += len(text)
	n.spelled = append(n.spelled, spelled{rule, start, end, text})
}

// printableRatio is the share of runes in s that are letters, digits,
// punctuation, symbols or white space.
func printableRatio(s string) float64 {
	total, ok := 0, 0
	for _, r := range s {
		total++
		if r != utf8.RuneError && (unicode.IsPrint(r) || r == '\n' || r == '\t' || r == '\r') {
			ok++
		}
	}
	if total == 0 {
		return 0
	}
	return float64(ok) / float64(total)
}
