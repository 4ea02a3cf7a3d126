package approval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestCallHashCanonicalForm(t *testing.T) {
	type myString string
	tests := []struct {
		name string
		args map[string]any
		want string // the canonical call
	}{
		{"sorted keys, no space", map[string]any{"b": 1, "a": "x", "A": true},
			`{"agent":"ag","args":{"A":true,"a":"x","b":1},"session":"se","tool":"exec"}`},
		{"nil args", nil, `{"agent":"ag","args":{},"session":"se","tool":"exec"}`},
		{"nesting", map[string]any{"l": []any{nil, 1.5, map[string]any{"z": "", "y": []any{}}}},
			`{"agent":"ag","args":{"l":[null,1.5,{"y":[],"z":""}]},"session":"se","tool":"exec"}`},
		{"escapes", map[string]any{"s": "a\"b\\c\n\x01<>&\u2028é"},
			`{"agent":"ag","args":{"s":"a\"b\\c\u000a\u0001<>&` + "\u2028é" + `"},"session":"se","tool":"exec"}`},
		{"numbers as given", map[string]any{"n": json.Number("1.50e+3"), "f": 0.1, "i": int64(-7), "u": uint8(255), "z": math.Copysign(0, -1)},
			`{"agent":"ag","args":{"f":0.1,"i":-7,"n":1.50e+3,"u":255,"z":-0},"session":"se","tool":"exec"}`},
		{"typed values", map[string]any{"m": map[string]string{"k": "v"}, "s": []string{"x"}, "t": myString("y"), "p": new(int)},
			`{"agent":"ag","args":{"m":{"k":"v"},"p":0,"s":["x"],"t":"y"},"session":"se","tool":"exec"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeCall(&b, "exec", "se", "ag", tt.args); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tt.want {
				t.Fatalf("canonical call\n got %s\nwant %s", got, tt.want)
			}
			h, err := CallHash("exec", "se", "ag", tt.args)
			if err != nil || h != sum(tt.want) {
				t.Fatalf("CallHash = %s, %v; want the SHA-256 of the canonical call %s", h, err, sum(tt.want))
			}
		})
	}
}

func TestCallHashSeparatesCalls(t *testing.T) {
	args := map[string]any{"command": "git push"}
	base, err := CallHash("exec", "s1", "a1", args)
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string][3]string{
		"tool":    {"shell", "s1", "a1"},
		"session": {"exec", "s2", "a1"},
		"agent":   {"exec", "s1", "a2"},
		// Fields shifted between each other must not collide.
		"shifted": {"exec", "s1a", "1"},
	} {
		got, err := CallHash(h[0], h[1], h[2], args)
		if err != nil || got == base {
			t.Errorf("another %s: hash %s, %v; want it different from %s", name, got, err, base)
		}
	}
	other, _ := CallHash("exec", "s1", "a1", map[string]any{"command": "git push --force"})
	if other == base {
		t.Error("other arguments gave the same hash")
	}
	// The same JSON value in other Go types is the same call.
	for _, same := range []map[string]any{{"command": any("git push")}, {"command": []byte(nil)}} {
		got, err := CallHash("exec", "s1", "a1", same)
		if err != nil {
			t.Fatal(err)
		}
		if want := reflect.DeepEqual(same, map[string]any{"command": any("git push")}); (got == base) != want {
			t.Errorf("CallHash(%v) == base: %t, want %t", same, got == base, want)
		}
	}
}

func TestCallHashRefuses(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	deep := any("x")
	for range maxDepth + 1 {
		deep = []any{deep}
	}
	for name, args := range map[string]map[string]any{
		"NaN":            {"x": math.NaN()},
		"infinity":       {"x": math.Inf(1)},
		"invalid UTF-8":  {"x": "\xff"},
		"invalid key":    {"\xfe": 1},
		"bad number":     {"x": json.Number(`1,"y":2`)},
		"leading zero":   {"x": json.Number("01")},
		"a channel":      {"x": make(chan int)},
		"a struct":       {"x": struct{ A int }{1}},
		"int keys":       {"x": map[int]string{1: "a"}},
		"a cycle":        cyclic,
		"too deep":       {"x": deep},
		"complex number": {"x": complex(1, 2)},
	} {
		if h, err := CallHash("exec", "", "", args); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: CallHash = %q, %v; want ErrInvalid", name, h, err)
		}
	}
	if _, err := CallHash("exec\xff", "", "", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("a tool that is not UTF-8: %v, want ErrInvalid", err)
	}
}

func TestIsJSONNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "12": true, "1.5": true, "1e9": true, "1E+9": true, "-1.25e-3": true,
		"": false, "-": false, "01": false, "1.": false, ".5": false, "1e": false, "+1": false, "1e+": false, "NaN": false, "0x10": false, " 1": false,
	} {
		if got := isJSONNumber(s); got != want {
			t.Errorf("isJSONNumber(%q) = %t, want %t", s, got, want)
		}
	}
}

// decode reads JSON keeping numbers as written.
func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

// reversed writes v as JSON with object keys in reverse order and spaces,
// a different text for the same value.
func reversed(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		slices.Reverse(keys)
		b.WriteString("{ ")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(" , ")
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteString(" : ")
			reversed(b, x[k])
		}
		b.WriteString(" }")
	case []any:
		b.WriteString("[ ")
		for i, e := range x {
			if i > 0 {
				b.WriteString(" , ")
			}
			reversed(b, e)
		}
		b.WriteString(" ]")
	case json.Number:
		b.WriteString(string(x))
	default:
		vb, _ := json.Marshal(x)
		b.Write(vb)
	}
}

// FuzzCallHash checks the canonical form on arbitrary JSON arguments: it
// reads back as exactly the arguments (so two different argument values
// never share a form, and so never a hash), and it does not depend on the
// order or spacing of the text the arguments came from.
func FuzzCallHash(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"command":"git push origin main"}`, `{"b":1,"a":[true,null,{"y":"\u0000","x":1.0}]}`,
		`{"n":-0.0e-0,"m":1E400,"s":"\ud800","k":"é\"\\"}`, `{"a":{"a":{"a":{"a":[[[[]]]]}}}}`, `{"":"","\t":""}`,
	} {
		f.Add(s, "exec", "session")
	}
	f.Fuzz(func(t *testing.T, doc, tool, session string) {
		v, err := decode([]byte(doc))
		args, ok := v.(map[string]any)
		if err != nil || !ok || !utf8Valid(tool, session) {
			return
		}
		var canon bytes.Buffer
		if err := writeCall(&canon, tool, session, "agent", args); err != nil {
			if errors.Is(err, ErrInvalid) && strings.Contains(err.Error(), "nest deeper") {
				return
			}
			t.Fatalf("writeCall(%s): %v", doc, err)
		}
		back, err := decode(canon.Bytes())
		if err != nil {
			t.Fatalf("the canonical form %s is not JSON: %v", canon.String(), err)
		}
		want := map[string]any{"tool": tool, "session": session, "agent": "agent", "args": args}
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("the canonical form %s reads back as %#v, not the call %#v", canon.String(), back, want)
		}
		h1, err := CallHash(tool, session, "agent", args)
		if err != nil {
			t.Fatal(err)
		}
		var alt strings.Builder
		reversed(&alt, args)
		v2, err := decode([]byte(alt.String()))
		if err != nil {
			t.Fatalf("re-encoded %s: %v", alt.String(), err)
		}
		h2, err := CallHash(tool, session, "agent", v2.(map[string]any))
		if err != nil || h2 != h1 {
			t.Fatalf("the same arguments in another order hash to %s (%v), not %s:\n%s\n%s", h2, err, h1, doc, alt.String())
		}
		h3, err := CallHash(tool, session+"x", "agent", args)
		if err != nil || h3 == h1 {
			t.Fatalf("another session gave the same hash (%v)", err)
		}
	})
}

func utf8Valid(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}
