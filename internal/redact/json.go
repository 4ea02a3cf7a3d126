package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// SecretField is the rule id of values redacted because their key names a
// secret (password, api_key, Authorization…), whatever they contain.
const SecretField = "secret-field"

// maxDepth bounds JSON nesting so that a hostile document cannot make the
// walk recurse without limit.
const maxDepth = 1000

// secretKeys are normalised key names (lower case, without '-', '_', '.'
// and spaces) whose values are always secrets.
var secretKeys = set("password", "passwd", "pwd", "pass", "passphrase", "secret", "token",
	"apikey", "accesskey", "secretkey", "privatekey", "clientsecret", "authorization",
	"proxyauthorization", "cookie", "setcookie", "credentials", "credential", "sessionid",
	"connectionstring", "dsn", "xapikey", "xauthtoken", "privatetoken", "auth")

// secretKeySuffixes catch compound names: db_password, github_token,
// aws_secret_access_key, x-api-key.
var secretKeySuffixes = []string{"password", "passwd", "passphrase", "secret", "token", "apikey",
	"accesskey", "secretkey", "privatekey", "credentials", "authorization", "cookie"}

// SecretKey reports whether a field, header or parameter name denotes a
// secret, ignoring case and the separators '-', '_', '.' and space:
// "password", "X-Api-Key", "aws_secret_access_key" and "Set-Cookie" do;
// "max_tokens", "token_type" and "secret_name" do not.
func SecretKey(name string) bool {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '-', '_', '.', ' ':
		default:
			b.WriteByte(lower(c))
		}
	}
	n := b.String()
	if secretKeys[n] {
		return true
	}
	for _, s := range secretKeySuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// JSON redacts a JSON document: every string (keys included) is passed
// through Text, and every string or number under a key that names a secret
// (see SecretKey) becomes "[REDACTED:secret-field]", also inside nested
// objects and arrays. It returns compact JSON with the same structure and
// key order, and the number of values redacted. Invalid JSON is an error;
// callers should then redact the bytes with Text.
func JSON(raw []byte) ([]byte, int, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	w := &jsonWalker{dec: dec}
	w.out.Grow(len(raw))
	if err := w.value(0, false); err != nil {
		return nil, 0, w.fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("more than one top-level value")
		}
		return nil, 0, w.fail(err)
	}
	return w.out.Bytes(), w.count, nil
}

type jsonWalker struct {
	dec   *json.Decoder
	out   bytes.Buffer
	count int
}

func (w *jsonWalker) fail(err error) error {
	return fmt.Errorf("redact: invalid JSON near byte %d: %w; redact the payload with redact.Text instead", w.dec.InputOffset(), err)
}

// value copies one JSON value. secret marks values under a secret key.
func (w *jsonWalker) value(depth int, secret bool) error {
	tok, err := w.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return w.token(tok, depth, secret)
}

func (w *jsonWalker) token(tok json.Token, depth int, secret bool) error {
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return fmt.Errorf("nesting deeper than %d levels", maxDepth)
		}
		switch t {
		case '{':
			return w.object(depth+1, secret)
		case '[':
			return w.array(depth+1, secret)
		}
		return fmt.Errorf("unexpected %q", rune(t))
	case string:
		w.str(t, secret)
	case json.Number:
		if secret {
			w.redacted()
		} else {
			w.out.WriteString(t.String())
		}
	case bool:
		if t {
			w.out.WriteString("true")
		} else {
			w.out.WriteString("false")
		}
	case nil:
		w.out.WriteString("null")
	}
	return nil
}

func (w *jsonWalker) object(depth int, secret bool) error {
	w.out.WriteByte('{')
	for i := 0; w.dec.More(); i++ {
		if i > 0 {
			w.out.WriteByte(',')
		}
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("object key is %T, not a string", tok)
		}
		w.str(key, false)
		w.out.WriteByte(':')
		if err := w.value(depth, secret || SecretKey(key)); err != nil {
			return err
		}
	}
	if _, err := w.dec.Token(); err != nil { // '}'
		return err
	}
	w.out.WriteByte('}')
	return nil
}

func (w *jsonWalker) array(depth int, secret bool) error {
	w.out.WriteByte('[')
	for i := 0; w.dec.More(); i++ {
		if i > 0 {
			w.out.WriteByte(',')
		}
		if err := w.value(depth, secret); err != nil {
			return err
		}
	}
	if _, err := w.dec.Token(); err != nil { // ']'
		return err
	}
	w.out.WriteByte(']')
	return nil
}

// str writes a string value, redacted whole under a secret key and by the
// text rules otherwise. Empty strings and placeholders stay as they are.
func (w *jsonWalker) str(s string, secret bool) {
	if secret && s != "" && !isPlaceholder(s) {
		w.redacted()
		return
	}
	if red, fs := Text(s); len(fs) > 0 {
		w.count++
		s = red
	}
	writeString(&w.out, s)
}

func (w *jsonWalker) redacted() {
	w.count++
	writeString(&w.out, placeholder(SecretField))
}

// isPlaceholder reports whether s is exactly one placeholder.
func isPlaceholder(s string) bool {
	sp := builtinSet().placeholderSpans(s)
	return len(sp) == 1 && sp[0] == [2]int{0, len(s)}
}

// writeString writes s as a JSON string. Unlike encoding/json it leaves
// '<', '>' and '&' alone, so the output stays readable in an audit record.
func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			if r == utf8.RuneError {
				b.WriteString(`\ufffd`)
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
