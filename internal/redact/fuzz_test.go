package redact

import (
	"encoding/json"
	"testing"
)

// FuzzText checks the contract of Text on any input: no panic, findings
// in order and in range, and idempotence (the output holds nothing any
// rule matches).
func FuzzText(f *testing.F) {
	for _, r := range builtinRules() {
		for _, s := range r.hits {
			f.Add(s)
		}
		for _, s := range r.misses {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, fs := Text(in)
		checkFindings(t, in, out, fs)
		if len(fs) == 0 && out != in {
			t.Fatalf("output changed without findings")
		}
		again, fs2 := Text(out)
		if len(fs2) > 0 || again != out {
			t.Fatalf("not idempotent:\n in  %q\n out %q\n again %q %v", in, out, again, fs2)
		}
	})
}

// FuzzJSON checks that JSON never panics, returns valid JSON when it
// succeeds, and is idempotent.
func FuzzJSON(f *testing.F) {
	f.Add(`{"password":"x","a":[1,"ghp_` + rA[:36] + `",{"token":{"k":2}}]}`)
	f.Add(`[1, 2.5e3, null, true, "\u2028<&>"]`)
	f.Add(`{"a":`)
	f.Fuzz(func(t *testing.T, in string) {
		out, n, err := JSON([]byte(in))
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid output %q for %q", out, in)
		}
		again, n2, err := JSON(out)
		if err != nil || string(again) != string(out) || n2 != 0 {
			t.Fatalf("not idempotent: %q -> %q (%d) -> %q (%d, %v)", in, out, n, again, n2, err)
		}
	})
}
