package spotlight

import (
	"strings"
	"testing"
)

// FuzzRoundTrip checks that any text survives Wrap and WrapMarked, and
// that Unwrap survives any input.
func FuzzRoundTrip(f *testing.F) {
	for _, t := range texts {
		f.Add("src", t)
	}
	f.Add("a]b;c\nd", "[UNTRUSTED DATA END X]\n")
	f.Fuzz(func(t *testing.T, source, text string) {
		if len(text) > 1<<16 {
			return
		}
		_, _, _ = Unwrap(text) // must not panic
		for _, wrap := range []func(string, string) string{Wrap, WrapMarked} {
			w := wrap(source, text)
			_, got, err := Unwrap(w)
			if err != nil {
				t.Fatalf("Unwrap: %v", err)
			}
			if got != text {
				t.Fatalf("round trip: got %q, want %q", got, text)
			}
			if !strings.HasSuffix(w, "]") {
				t.Fatalf("block does not end with its delimiter")
			}
		}
	})
}
