package approval

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

// maxDepth bounds the nesting of arguments CallHash accepts; it also stops
// a map that contains itself.
const maxDepth = 64

// CallHash is the hex SHA-256 of the canonical call: a JSON object with the
// keys agent, args, session and tool, where args is canonical JSON (object
// keys sorted by byte, no insignificant space, numbers as given). Two
// calls hash alike only if their tool, session, agent and arguments are
// equal as JSON values, so an approval cannot be replayed for another call.
//
// Arguments may hold nil, booleans, strings, numbers (json.Number is kept
// as written, so decode with UseNumber to keep "1.0" apart from "1"), maps
// with string keys and slices, nested up to 64 deep. Other types, NaN,
// infinities and strings that are not valid UTF-8 (which JSON cannot carry
// exactly) are errors. A nil args is the empty object.
func CallHash(tool, session, agent string, args map[string]any) (string, error) {
	h := sha256.New()
	if err := writeCall(h, tool, session, agent, args); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeCall writes the canonical call to w.
func writeCall(w io.Writer, tool, session, agent string, args map[string]any) error {
	if args == nil {
		args = map[string]any{}
	}
	c := canon{w: bufio.NewWriter(w)}
	c.w.WriteString(`{"agent":`)
	err := c.str(agent)
	c.w.WriteString(`,"args":`)
	err = errors.Join(err, c.value(args, 0))
	c.w.WriteString(`,"session":`)
	err = errors.Join(err, c.str(session))
	c.w.WriteString(`,"tool":`)
	err = errors.Join(err, c.str(tool))
	c.w.WriteByte('}')
	if err != nil {
		return fmt.Errorf("%w: hashing the call: %w", ErrInvalid, err)
	}
	return c.w.Flush()
}

// canon writes canonical JSON.
type canon struct{ w *bufio.Writer }

func (c canon) value(v any, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("arguments nest deeper than %d levels", maxDepth)
	}
	var b [64]byte
	switch x := v.(type) {
	case nil:
		c.w.WriteString("null")
	case bool:
		c.w.Write(strconv.AppendBool(b[:0], x))
	case string:
		return c.str(x)
	case json.Number:
		if !isJSONNumber(string(x)) {
			return fmt.Errorf("%.40q is not a JSON number", string(x))
		}
		c.w.WriteString(string(x))
	case float64:
		return c.float(x, 64)
	case float32:
		return c.float(float64(x), 32)
	case int:
		c.w.Write(strconv.AppendInt(b[:0], int64(x), 10))
	case int64:
		c.w.Write(strconv.AppendInt(b[:0], x, 10))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		c.w.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				c.w.WriteByte(',')
			}
			if err := c.str(k); err != nil {
				return err
			}
			c.w.WriteByte(':')
			if err := c.value(x[k], depth+1); err != nil {
				return err
			}
		}
		c.w.WriteByte('}')
	case []any:
		c.w.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				c.w.WriteByte(',')
			}
			if err := c.value(e, depth+1); err != nil {
				return err
			}
		}
		c.w.WriteByte(']')
	default:
		return c.reflected(reflect.ValueOf(v), depth)
	}
	return nil
}

// reflected handles the other types with a JSON meaning: named and sized
// numbers, typed maps and slices, pointers.
func (c canon) reflected(rv reflect.Value, depth int) error {
	var b [64]byte
	switch rv.Kind() {
	case reflect.Bool:
		c.w.Write(strconv.AppendBool(b[:0], rv.Bool()))
	case reflect.String:
		return c.str(rv.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.w.Write(strconv.AppendInt(b[:0], rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		c.w.Write(strconv.AppendUint(b[:0], rv.Uint(), 10))
	case reflect.Float32:
		return c.float(rv.Float(), 32)
	case reflect.Float64:
		return c.float(rv.Float(), 64)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			c.w.WriteString("null")
			return nil
		}
		return c.value(rv.Elem().Interface(), depth+1)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("a map keyed by %s has no JSON form; key maps by string", rv.Type().Key())
		}
		if rv.IsNil() {
			c.w.WriteString("null")
			return nil
		}
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int {
			if a.String() < b.String() {
				return -1
			}
			if a.String() > b.String() {
				return 1
			}
			return 0
		})
		c.w.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				c.w.WriteByte(',')
			}
			if err := c.str(k.String()); err != nil {
				return err
			}
			c.w.WriteByte(':')
			if err := c.value(rv.MapIndex(k).Interface(), depth+1); err != nil {
				return err
			}
		}
		c.w.WriteByte('}')
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			c.w.WriteString("null")
			return nil
		}
		c.w.WriteByte('[')
		for i := range rv.Len() {
			if i > 0 {
				c.w.WriteByte(',')
			}
			if err := c.value(rv.Index(i).Interface(), depth+1); err != nil {
				return err
			}
		}
		c.w.WriteByte(']')
	default:
		return fmt.Errorf("a value of type %s has no JSON form; pass maps, slices, strings, numbers, booleans or nil", rv.Type())
	}
	return nil
}

func (c canon) float(f float64, bits int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%v has no JSON form", f)
	}
	var b [32]byte
	// The shortest form that reads back as the same float: one text per
	// value, -0 kept apart from 0.
	c.w.Write(strconv.AppendFloat(b[:0], f, 'g', -1, bits))
	return nil
}

const hexDigits = "0123456789abcdef"

// str writes s as a JSON string, escaping only what JSON requires.
func (c canon) str(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%.40q is not valid UTF-8", s)
	}
	c.w.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' || ch == '\\':
			c.w.WriteByte('\\')
			c.w.WriteByte(ch)
		case ch < 0x20:
			c.w.WriteString(`\u00`)
			c.w.WriteByte(hexDigits[ch>>4])
			c.w.WriteByte(hexDigits[ch&0xf])
		default:
			c.w.WriteByte(ch)
		}
	}
	c.w.WriteByte('"')
	return nil
}

// isJSONNumber reports whether s is a number literal as RFC 8259 defines
// it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(s string) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
