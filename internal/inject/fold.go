package inject

import "unicode/utf8"

// endWord ends the word being written: single letters join a spaced run,
// longer words are folded when they carry leetspeak or mixed scripts.
// next is the character that ends the word.
func (n *normalizer) endWord(next byte) {
	if !n.inWord {
		return
	}
	n.inWord = false
	if n.wordFirstASC {
		if n.run.active && !n.run.expectSep {
			n.run.letters++
			n.run.end = len(n.b)
			n.run.expectSep = true
			return
		}
		n.closeRun()
		n.run = spacedRun{active: true, expectSep: true, start: n.wordStart, end: len(n.b), letters: 1, seps: n.run.seps[:0]}
		return
	}
	if n.run.active {
		n.wordStart -= n.closeRun()
	}
	if n.wordConfuse && n.wordLetters > 0 {
		n.foldMixedScript()
	}
	// An address ("bob-1@mail.example.com") is not leetspeak.
	if n.wordLeet && n.wordLetters >= 2 && 2*n.wordLetters >= len(n.b)-n.wordStart && !(n.wordAt && next == '.') {
		n.foldLeet(next)
	}
}

// foldMixedScript replaces Cyrillic and Greek look-alikes in a word that
// also holds Latin letters ("раypal" with a Cyrillic р): a word in one
// script is left alone, so Russian stays Russian.
func (n *normalizer) foldMixedScript() {
	w, j := n.wordStart, n.wordStart
	for i := n.wordStart; i < len(n.b); {
		r, sz := utf8.DecodeRune(n.b[i:])
		if a := confusable(r); a != 0 {
			n.b[j], n.off[j] = a, n.off[i]
			j++
		} else {
			copy(n.b[j:], n.b[i:i+sz])
			copy(n.off[j:], n.off[i:i+sz])
			j += sz
		}
		i += sz
	}
	n.b, n.off = n.b[:j], n.off[:j]
	// Regions recorded inside the word are covered by the word's own.
	for len(n.obf) > 0 && n.obf[len(n.obf)-1].end > w {
		n.obf = n.obf[:len(n.obf)-1]
	}
	n.addObf(w, j)
}

// foldLeet reads digits and symbols inside a word as the letters they
// imitate ("1gn0r3" is "ignore"). Only words where a digit or symbol is
// followed by a letter are folded, so "base64", "sha256" and "v1" keep
// their digits.
func (n *normalizer) foldLeet(next byte) {
	w := n.b[n.wordStart:]
	changed := false
	for i, c := range w {
		var to byte
		switch c {
		case '0':
			to = 'o'
		case '1':
			to = 'i'
		case '3':
			to = 'e'
		case '4':
			to = 'a'
		case '5':
			to = 's'
		case '7':
			to = 't'
		case '@':
			// Not in an address or a host ("bob@example.com", "user@host:/path").
			if i < len(w)-1 && next != '.' && next != ':' && next != '/' {
				to = 'a'
			}
		case '$':
			if i < len(w)-1 {
				to = 's'
			}
		}
		if to != 0 {
			w[i], changed = to, true
		}
	}
	if changed {
		n.addObf(n.wordStart, len(n.b))
	}
}

// closeRun ends a spaced run: four or more single letters separated by
// single spaces or dots are joined into words ("i g n o r e" is
// "ignore"); wide gaps (two spaces, a newline) stay as word breaks. It
// returns how many bytes it removed.
func (n *normalizer) closeRun() int {
	run := &n.run
	if !run.active {
		return 0
	}
	run.active = false
	if run.letters < minSpacedLetters {
		return 0
	}
	j := run.start
	k := 0
	for i := run.start; i < len(n.b); i++ {
		if k < len(run.seps) && run.seps[k].pos == i && i < run.end {
			wide := run.seps[k].wide
			k++
			if !wide {
				continue
			}
			n.b[j], n.off[j] = ' ', n.off[i]
			if n.b[i] == '\n' {
				n.b[j] = '\n'
			}
			j++
			continue
		}
		n.b[j], n.off[j] = n.b[i], n.off[i]
		j++
	}
	removed := len(n.b) - j
	// Regions recorded inside the run are covered by the run's own; those
	// after it moved with the bytes.
	kept := n.obf[:0]
	for _, o := range n.obf {
		switch {
		case o.start >= run.end:
			kept = append(kept, span{o.start - removed, o.end - removed})
		case o.end <= run.start:
			kept = append(kept, o)
		}
	}
	n.obf = kept
	n.addObf(run.start, run.end-removed)
	n.b, n.off = n.b[:j], n.off[:j]
	return removed
}

func (n *normalizer) addObf(start, end int) {
	if end <= start {
		return
	}
	if k := len(n.obf); k > 0 && n.obf[k-1].end >= start {
		n.obf[k-1].end = max(n.obf[k-1].end, end)
		return
	}
	if len(n.obf) < maxObf {
		n.obf = append(n.obf, span{start, end})
	}
}

// foldPunct maps typographic quotes, dashes and brackets to ASCII, so
// that patterns need one spelling.
func foldPunct(r rune) byte {
	switch r {
	case '‘', '’', '‚', '‛', '′', '`', 'ʼ', '＇':
		return '\''
	case '“', '”', '„', '‟', '″', '«', '»':
		return '"'
	case '‐', '‑', '‒', '–', '—', '―', '−', '﹣':
		return '-'
	case '‹':
		return '<'
	case '›':
		return '>'
	}
	return 0
}

// foldLatin returns the ASCII spelling of a Latin letter with marks
// ("é" is "e", "ß" is "ss"), or "" for other characters.
func foldLatin(r rune) string {
	if r < 0xC0 || r > 0x24F {
		return ""
	}
	return latinTable()[r-0xC0]
}

// confusable returns the Latin letter a Cyrillic or Greek lower-case
// letter looks like, or 0.
func confusable(r rune) byte {
	switch r {
	case 'а':
		return 'a'
	case 'е':
		return 'e'
	case 'о', 'ο':
		return 'o'
	case 'р', 'ρ':
		return 'p'
	case 'с':
		return 'c'
	case 'у':
		return 'y'
	case 'х', 'χ':
		return 'x'
	case 'і', 'ι':
		return 'i'
	case 'ј':
		return 'j'
	case 'ѕ':
		return 's'
	case 'һ':
		return 'h'
	case 'ԁ':
		return 'd'
	case 'ԛ':
		return 'q'
	case 'ԝ':
		return 'w'
	case 'α':
		return 'a'
	case 'κ':
		return 'k'
	case 'ν':
		return 'v'
	case 'υ':
		return 'u'
	}
	return 0
}

// nfkcStable reports characters NFKC leaves alone, so that common
// scripts skip the normalisation tables.
func nfkcStable(r rune) bool {
	switch {
	case r >= 0xC0 && r <= 0x17F && r != 0x132 && r != 0x133 && r != 0x13F && r != 0x140 && r != 0x149 && r != 0x17F:
		return true
	case r >= 0x410 && r <= 0x44F: // basic Cyrillic
		return true
	case r >= 0x3041 && r <= 0x3096, r >= 0x30A1 && r <= 0x30FA: // kana
		return true
	case r >= 0x4E00 && r <= 0x9FFF: // CJK unified ideographs
		return true
	case r >= 0xAC00 && r <= 0xD7A3: // Hangul syllables
		return true
	}
	return false
}
