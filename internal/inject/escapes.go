package inject

import (
	"html"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// entityAt decodes the HTML character reference at src[p] ("&#105;",
// "&#x69;", "&lt;"). It returns the one or two characters it stands for
// and its length, or size 0.
func entityAt(src string, p int) (r1, r2 rune, size int) {
	i := p + 1
	if i >= len(src) {
		return 0, 0, 0
	}
	if src[i] == '#' {
		i++
		hex := i < len(src) && (src[i] == 'x' || src[i] == 'X')
		if hex {
			i++
		}
		start, v := i, rune(0)
		digits := 7 // U+10FFFF is 1114111
		if hex {
			digits = 6
		}
		for i < len(src) && i-start < digits {
			d := hexVal(src[i])
			if d < 0 || !hex && d > 9 {
				break
			}
			if hex {
				v = v*16 + rune(d)
			} else {
				v = v*10 + rune(d)
			}
			i++
		}
		if i == start || v > unicode.MaxRune || v < 0 {
			return 0, 0, 0
		}
		if i < len(src) && src[i] == ';' {
			i++
		}
		if v == 0 || v >= 0xD800 && v <= 0xDFFF {
			v = utf8.RuneError
		}
		return v, 0, i - p
	}
	start := i
	for i < len(src) && i-start <= 32 && isAlnum(rune(src[i])) {
		i++
	}
	if i == start || i >= len(src) || src[i] != ';' {
		return 0, 0, 0
	}
	name := src[start:i]
	size = i + 1 - p
	switch name {
	case "lt":
		return '<', 0, size
	case "gt":
		return '>', 0, size
	case "amp":
		return '&', 0, size
	case "quot":
		return '"', 0, size
	case "apos":
		return '\'', 0, size
	case "nbsp":
		return ' ', 0, size
	}
	dec := html.UnescapeString(src[p : size+p])
	if dec == src[p:size+p] {
		return 0, 0, 0
	}
	r1, n1 := utf8.DecodeRuneInString(dec)
	if n1 < len(dec) {
		r2, _ = utf8.DecodeRuneInString(dec[n1:])
	}
	return r1, r2, size
}

// percentAt decodes a run of %XX escapes at src[p] into dst when the bytes
// form valid UTF-8. It returns the characters written and the bytes
// consumed, or 0, 0.
func percentAt(src string, p int, dst []rune) (cnt, size int) {
	var buf [4 * 16]byte
	k, i := 0, p
	for i+2 < len(src) && src[i] == '%' && k < len(buf) {
		h, l := hexVal(src[i+1]), hexVal(src[i+2])
		if h < 0 || l < 0 {
			break
		}
		buf[k] = byte(h<<4 | l)
		k++
		i += 3
	}
	if k == 0 {
		return 0, 0
	}
	b := buf[:k]
	// Keep the longest prefix that ends on a whole character.
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return 0, 0
	}
	for len(b) > 0 && cnt < len(dst) {
		r, sz := utf8.DecodeRune(b)
		dst[cnt] = r
		cnt++
		b = b[sz:]
		size += 3 * sz
	}
	return cnt, size
}

// backslashAt decodes a backslash escape at src[p]: \xXX, \uXXXX,
// \u{X…}, \UXXXXXXXX, and \n \t \r \" \' \\ \/ as JSON and most
// languages write them. It returns the character and the escape's
// length, or size 0.
func backslashAt(src string, p int) (rune, int) {
	if p+1 >= len(src) {
		return 0, 0
	}
	switch c := src[p+1]; c {
	case 'n':
		return '\n', 2
	case 't':
		return '\t', 2
	case 'r':
		return '\r', 2
	case '"', '\'', '\\', '/':
		return rune(c), 2
	case 'x':
		return hexRune(src, p+2, 2, 2)
	case 'u':
		if p+2 < len(src) && src[p+2] == '{' {
			r, n := hexRune(src, p+3, 1, 6)
			if n == 0 || p+3+n-2 >= len(src) || src[p+3+n-2] != '}' {
				return 0, 0
			}
			return r, n + 2
		}
		return hexRune(src, p+2, 4, 4)
	case 'U':
		return hexRune(src, p+2, 8, 8)
	}
	return 0, 0
}

// hexRune reads between lo and hi hex digits at src[i]; size counts the
// two bytes of the escape's prefix.
func hexRune(src string, i, lo, hi int) (rune, int) {
	v, k := rune(0), 0
	for k < hi && i+k < len(src) {
		d := hexVal(src[i+k])
		if d < 0 {
			break
		}
		v = v*16 + rune(d)
		k++
	}
	if k < lo || v > unicode.MaxRune || v >= 0xD800 && v <= 0xDFFF {
		return 0, 0
	}
	return v, k + 2
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// latinTable maps U+00C0…U+024F to ASCII: the base letter of a letter with
// marks, the usual spelling of a ligature or special letter, or "".
var latinTable = sync.OnceValue(func() []string {
	t := make([]string, 0x250-0xC0)
	special := map[rune]string{
		'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d",
		'þ': "th", 'ı': "i", 'ŀ': "l", 'ħ': "h", 'ŧ': "t", 'ƀ': "b", 'ɨ': "i",
	}
	for r := rune(0xC0); r < 0x250; r++ {
		if s, ok := special[r]; ok {
			t[r-0xC0] = s
			continue
		}
		if !unicode.Is(unicode.Latin, r) {
			continue
		}
		d := norm.NFD.String(string(r))
		if b, _ := utf8.DecodeRuneInString(d); b < utf8.RuneSelf && unicode.IsLetter(b) {
			t[r-0xC0] = string(unicode.ToLower(b))
		}
	}
	return t
})
