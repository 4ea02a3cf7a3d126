package schemagate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// Bounds on the work one call can cause.
const (
	// maxDepth bounds every walk over a nested value.
	maxDepth = 64
	// maxPathLen is the longest path the path checks look at (PATH_MAX).
	maxPathLen = 4096
	// maxPathValues bounds the paths one field may carry.
	maxPathValues = 256
	// maxSchemaErrors bounds the JSON Schema errors reported per call.
	maxSchemaErrors = 20
	// previewLen bounds the value shown to operators in a reason's detail.
	previewLen = 96
)

// The type names a rule may use in Types.
var typeNames = []string{"string", "number", "integer", "boolean", "object", "array"}

type valueKind int

const (
	kindNull valueKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
	kindOther
)

// kindOf classifies a value the way JSON would. Arguments arrive decoded
// from JSON (float64, []any, map[string]any) or typed by the CLI (int,
// bool, string); other Go slices and maps are accepted for callers that
// build arguments by hand.
func kindOf(v any) valueKind {
	switch t := v.(type) {
	case nil:
		return kindNull
	case bool:
		return kindBool
	case string:
		return kindString
	case []any, []string:
		return kindArray
	case map[string]any, map[string]string:
		return kindObject
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return kindOther
		}
		return kindNumber
	}
	if _, ok := toNumber(v); ok {
		return kindNumber
	}
	if _, ok := v.(json.Number); ok {
		return kindOther // not a valid number
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return kindOther
		}
		return kindArray
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			return kindObject
		}
	}
	return kindOther
}

func kindName(k valueKind) string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "an array"
	case kindObject:
		return "an object"
	}
	return "a value that is not JSON"
}

// toNumber returns a finite number, whatever numeric type carries it.
func toNumber(v any) (float64, bool) {
	var f float64
	switch t := v.(type) {
	case float64:
		f = t
	case float32:
		f = float64(t)
	case int:
		f = float64(t)
	case int8:
		f = float64(t)
	case int16:
		f = float64(t)
	case int32:
		f = float64(t)
	case int64:
		f = float64(t)
	case uint:
		f = float64(t)
	case uint8:
		f = float64(t)
	case uint16:
		f = float64(t)
	case uint32:
		f = float64(t)
	case uint64:
		f = float64(t)
	case json.Number:
		p, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return 0, false
		}
		f = p
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// isInteger reports whether v is a number without a fractional part, as
// JSON Schema's "integer" does (1.0 is an integer).
func isInteger(v any) bool {
	switch t := v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	case json.Number:
		if _, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return true
		}
	}
	f, ok := toNumber(v)
	return ok && f == math.Trunc(f)
}

func hasType(v any, typ string) bool {
	switch typ {
	case "string":
		return kindOf(v) == kindString
	case "number":
		return kindOf(v) == kindNumber
	case "integer":
		return isInteger(v)
	case "boolean":
		return kindOf(v) == kindBool
	case "object":
		return kindOf(v) == kindObject
	case "array":
		return kindOf(v) == kindArray
	}
	return false
}

// lengthOf counts runes of a string and elements of an array.
func lengthOf(v any) (int, bool) {
	switch t := v.(type) {
	case string:
		return utf8.RuneCountInString(t), true
	case []any:
		return len(t), true
	case []string:
		return len(t), true
	}
	if kindOf(v) == kindArray {
		return reflect.ValueOf(v).Len(), true
	}
	return 0, false
}

// patternText is the text a pattern is matched against.
func patternText(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	}
	// Every number type renders alike, so 42, 42.0 and json.Number("42")
	// all match ^[0-9]+$.
	if f, ok := toNumber(v); ok {
		if isInteger(v) && math.Abs(f) < 1<<53 {
			return strconv.FormatInt(int64(f), 10), true
		}
		return strconv.FormatFloat(f, 'g', -1, 64), true
	}
	return "", false
}

// countWriter counts bytes instead of keeping them.
type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// sizeOf is the byte size of a string, or of the JSON encoding of any
// other value.
func sizeOf(v any) (int, bool) {
	switch t := v.(type) {
	case string:
		return len(t), true
	case []byte:
		return len(t), true
	}
	var c countWriter
	enc := json.NewEncoder(&c)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return 0, false
	}
	return int(c) - 1, true // Encode ends with a newline
}

// truthy is the trigger of DependsOn: set means present and not null,
// false, "", [] or {}.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len() > 0
	}
	return true
}

var errTooDeep = fmt.Errorf("nested deeper than %d levels", maxDepth)

// canonical converts a value to the shapes JSON decoding produces, with
// every number as float64, so that reflect.DeepEqual compares by JSON
// content. It is used for AllowedValues.
func canonical(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	switch kindOf(v) {
	case kindNull, kindBool, kindString:
		return v, nil
	case kindNumber:
		f, _ := toNumber(v)
		return f, nil
	case kindArray:
		rv := reflect.ValueOf(v)
		out := make([]any, rv.Len())
		for i := range out {
			c, err := canonical(rv.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case kindObject:
		rv := reflect.ValueOf(v)
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			c, err := canonical(it.Value().Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			out[it.Key().String()] = c
		}
		return out, nil
	}
	return nil, fmt.Errorf("%T is not a JSON value", v)
}

// jsonValue converts arguments to the value tree the JSON Schema validator
// understands (map[string]any, []any, json.Number, float64, string, bool,
// nil), copying only the parts that need converting.
func jsonValue(v any, depth int) (any, bool, error) {
	if depth > maxDepth {
		return nil, false, errTooDeep
	}
	switch t := v.(type) {
	case nil, bool, string:
		return v, false, nil
	case map[string]any:
		var out map[string]any
		for k, e := range t {
			c, changed, err := jsonValue(e, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed {
				if out == nil {
					out = make(map[string]any, len(t))
					for k2, e2 := range t {
						out[k2] = e2
					}
				}
				out[k] = c
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	case []any:
		var out []any
		for i, e := range t {
			c, changed, err := jsonValue(e, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed {
				if out == nil {
					out = append([]any(nil), t...)
				}
				out[i] = c
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	}
	switch kindOf(v) {
	case kindNumber:
		// The validator takes every Go number type as it is.
		return v, false, nil
	case kindArray, kindObject:
		c, err := canonical(v, depth)
		if err != nil {
			return nil, false, err
		}
		return c, true, nil
	}
	if kindOf(v) == kindOther {
		if _, ok := v.(json.Number); ok {
			return nil, false, fmt.Errorf("%q is not a valid number", v)
		}
		if _, ok := v.(float64); ok {
			return nil, false, errors.New("a number is NaN or infinite")
		}
	}
	return nil, false, fmt.Errorf("%T is not a JSON value", v)
}

// preview is a short rendering of a value for a reason's operator detail.
func preview(v any) string {
	var s string
	if str, ok := v.(string); ok {
		s = strconv.Quote(truncate(str, previewLen))
	} else if b, err := json.Marshal(v); err == nil {
		s = truncate(string(b), previewLen)
	} else {
		s = fmt.Sprintf("%T", v)
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Redact returns a deep copy of args in which the top-level fields named
// in fields hold "[REDACTED]". Fields that are absent stay absent. Values
// nested deeper than the walk bound are replaced by "[TRUNCATED]" so that a
// log line never shares memory with, or grows without bound from, the
// call.
func Redact(args map[string]any, fields []string) map[string]any {
	if args == nil {
		return nil
	}
	out := make(map[string]any, len(args))
	for k, v := range args {
		out[k] = deepCopy(v, 1)
	}
	for _, f := range fields {
		if _, ok := out[f]; ok {
			out[f] = Redacted
		}
	}
	return out
}

// Redacted is what Redact puts in place of a secret value.
const Redacted = "[REDACTED]"

func deepCopy(v any, depth int) any {
	if depth > maxDepth {
		return "[TRUNCATED]"
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e, depth+1)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(t))
		for k, e := range t {
			out[k] = e
		}
		return out
	case []string:
		return append([]string(nil), t...)
	}
	return v
}
