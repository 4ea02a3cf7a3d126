package memory

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sentinel-agent/sentinel/internal/redact"
)

// scanned is a text ready to store: secrets redacted, white space
// normalised, cut to size, and the verdict of the injection check.
type scanned struct {
	text      string
	redacted  int // secrets replaced
	flagged   bool
	reason    string
	truncated bool
}

// placeholderRe matches what redact puts where a secret was.
var placeholderRe = regexp.MustCompile(`\[REDACTED:[^\]]*\]`)

// scan prepares text for storage. what names the field in errors. Secrets
// are redacted before anything else (so that no cut can split one past
// recognition); a text that was nothing but secrets is refused.
func (m *Memory) scan(what, text string, maxBytes int, multiLine bool) (scanned, error) {
	if len(text) > maxInputBytes {
		return scanned{}, fmt.Errorf("%w: the %s is %d bytes, at most %d", ErrTooLarge, what, len(text), maxInputBytes)
	}
	text = strings.ToValidUTF8(text, "\uFFFD")
	red, findings := redact.Text(text)
	if multiLine {
		red = cleanLines(red)
	} else {
		red = oneLine(red)
	}
	rest := placeholderRe.ReplaceAllString(red, "")
	if !strings.ContainsFunc(rest, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		if len(findings) > 0 {
			return scanned{}, fmt.Errorf("%w (%s)", ErrSecretOnly, what)
		}
		return scanned{}, invalid("the %s is empty", what)
	}
	s := scanned{text: red, redacted: len(findings)}
	if len(s.text) > maxBytes {
		s.text, s.truncated = truncate(s.text, maxBytes), true
		// A cut may leave half a placeholder; drop it rather than store
		// something that looks like a secret's prefix.
		if i := strings.LastIndex(s.text, "[REDACTED:"); i >= 0 && !strings.Contains(s.text[i:], "]") {
			s.text = strings.TrimRight(s.text[:i], " ") + "…"
		}
	}
	s.flagged, s.reason = m.flaggedBy(s.text)
	return s, nil
}

// scanKey prepares a memory's subject; a secret in a key is refused
// outright, since a key is an identifier, not prose to redact.
func (m *Memory) scanKey(what, key string) (string, error) {
	key = oneLine(key)
	if err := validKey(what, key); err != nil {
		return "", err
	}
	if red, fs := redact.Text(key); len(fs) > 0 || red != key {
		return "", fmt.Errorf("%w: the %s contains a credential", ErrSecretOnly, what)
	}
	if !utf8.ValidString(key) {
		return "", invalid("the %s is not valid UTF-8", what)
	}
	return key, nil
}
