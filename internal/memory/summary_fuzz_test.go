package memory

import (
	"testing"
	"unicode/utf8"
)

// FuzzSummarize: summaries are bounded, valid and deterministic for any
// text.
func FuzzSummarize(f *testing.F) {
	f.Add("First. Second sentence is here! Third?")
	f.Add("决定用 SQLite。原因是简单。")
	f.Add("no punctuation at all just words")
	f.Add("...!!!???\n\n\n")
	f.Add("a. b. c. d. e. f. g. h. i. j. k. l. m. n. o. p.")
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) || len(text) > 1<<16 {
			return
		}
		s, g := summarize(text)
		if len(s) > maxSummary || len(g) > maxOneLine {
			t.Fatalf("summary %d bytes, gist %d bytes", len(s), len(g))
		}
		if !utf8.ValidString(s) || !utf8.ValidString(g) {
			t.Fatalf("invalid UTF-8: %q, %q", s, g)
		}
		if s2, g2 := summarize(text); s2 != s || g2 != g {
			t.Fatal("not deterministic")
		}
	})
}
