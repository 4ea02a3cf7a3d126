package inject

import (
	"encoding/base64"
	"encoding/hex"
	"unicode"
	"unicode/utf8"
)

// Codes of decoded payloads.
const (
	ruleBase64 = "encoded.base64"
	ruleHex    = "encoded.hex"
	// minBase64 and minHex are the shortest runs worth decoding: shorter
	// ones cannot spell an instruction.
	minBase64 = 20
	minHex    = 24
	// maxCandidates bounds the runs tried per text.
	maxCandidates = 512
)

// payload is text decoded from a run of the source.
type payload struct {
	rule       string
	start, end int // the run in the source
	text       string
}

// findPayloads decodes the base64 and hex runs of src that hold text,
// spending at most budget decoded bytes. It returns the payloads and the
// budget left.
func findPayloads(src string, budget int) ([]payload, int) {
	var out []payload
	tried := 0
	for i := 0; i < len(src) && budget > 0 && tried < maxCandidates; {
		if !isB64(src[i]) {
			i++
			continue
		}
		start := i
		j := i
		for j < len(src) && b64Set[src[j]] {
			j++
		}
		if j-i < minBase64 && (j >= len(src) || src[j] != '=') {
			i = j // a word, not a payload: skip without copying
			continue
		}
		raw, end := b64Run(src, i)
		i = end
		if len(raw) < minBase64 {
			continue
		}
		tried++
		if isHexString(raw) {
			if len(raw) >= minHex && len(raw)%2 == 0 && len(raw)/2 <= budget {
				if b, err := hex.DecodeString(raw); err == nil && isText(b) {
					budget -= len(b)
					out = append(out, payload{ruleHex, start, end, string(b)})
				}
			}
			continue
		}
		if !mixedCase(raw) || len(raw)*3/4 > budget {
			continue
		}
		if b := decodeB64(raw); b != nil && (isText(b) || isB64Text(b)) {
			budget -= len(b)
			out = append(out, payload{ruleBase64, start, end, string(b)})
		}
	}
	return out, budget
}

func isB64(c byte) bool { return b64Set[c] }

// b64Set holds the bytes of the standard and URL-safe base64 alphabets.
var b64Set = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_") {
		t[c] = true
	}
	return t
}()

// b64Run reads a run of base64 characters at src[i], with its padding,
// across the line breaks of wrapped base64 (lines of 60 or more
// characters). It returns the run without breaks and where it ends.
func b64Run(src string, i int) (string, int) {
	start := i
	for i < len(src) && isB64(src[i]) {
		i++
	}
	for i < len(src) && src[i] == '=' && i-start < 1<<20 {
		i++
	}
	if i-start < 60 || i >= len(src) || (src[i] != '\n' && src[i] != '\r') {
		return src[start:i], i
	}
	// Wrapped: join the lines.
	buf := []byte(src[start:i])
	for i < len(src) {
		j := i
		for j < len(src) && (src[j] == '\r' || src[j] == '\n') && j-i < 2 {
			j++
		}
		k := j
		for k < len(src) && isB64(src[k]) {
			k++
		}
		for k < len(src) && src[k] == '=' {
			k++
		}
		if k == j {
			break
		}
		buf = append(buf, src[j:k]...)
		i = k
		if k-j < 60 {
			break
		}
	}
	return string(buf), i
}

func decodeB64(raw string) []byte {
	for len(raw) > 0 && raw[len(raw)-1] == '=' {
		raw = raw[:len(raw)-1]
	}
	if len(raw)%4 == 1 {
		raw = raw[:len(raw)-1]
	}
	enc := base64.RawStdEncoding
	for i := 0; i < len(raw); i++ {
		if raw[i] == '-' || raw[i] == '_' {
			enc = base64.RawURLEncoding
			break
		}
	}
	b, err := enc.DecodeString(raw)
	if err != nil {
		return nil
	}
	return b
}

// isB64Text reports decoded bytes that are base64 again: a payload
// wrapped twice, decoded at the next depth.
func isB64Text(b []byte) bool {
	if len(b) < minBase64 {
		return false
	}
	for _, c := range b {
		if !isB64(c) && c != '=' && c != '\n' && c != '\r' {
			return false
		}
	}
	return mixedCase(string(b))
}

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		if hexVal(s[i]) < 0 {
			return false
		}
	}
	return true
}

// mixedCase is true of base64 of text, and false of most words and
// identifiers that merely use its alphabet.
func mixedCase(s string) bool {
	var up, low, other bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z':
			low = true
		case 'A' <= c && c <= 'Z':
			up = true
		default:
			other = true
		}
	}
	return up && low && (other || len(s) >= 32)
}

// isText reports decoded bytes that read as text: valid UTF-8, nearly
// all printable, half letters, and more than one word.
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	total, printable, letters, spaces := 0, 0, 0, 0
	for _, r := range string(b) {
		total++
		switch {
		case unicode.IsLetter(r):
			letters++
			printable++
		case r == ' ' || r == '\n' || r == '\t' || r == '\r':
			spaces++
			printable++
		case unicode.IsPrint(r):
			printable++
		}
	}
	return total > 0 && spaces >= 1 && printable*100 >= total*95 && letters*2 >= total
}

// isProse reports decoded text that reads as sentences rather than data:
// three or more words of letters.
func isProse(s string) bool {
	words, inWord, letters := 0, false, 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			letters++
			if !inWord {
				inWord = true
			}
			continue
		}
		if inWord && letters >= 2 {
			words++
		}
		inWord, letters = false, 0
	}
	if inWord && letters >= 2 {
		words++
	}
	return words >= 3
}
