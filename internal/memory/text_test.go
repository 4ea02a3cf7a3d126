package memory

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEstimateTokens(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"a", 1},
		{"abcd", 1},
		{"abcde", 2},
		{"hello world, this is 32 bytes!!!", 8},
		{"记忆层", 3},
		{"memory 记忆", 2 + 2}, // 7 ASCII bytes → 2, two runes → 2
	}
	for _, tt := range tests {
		if got := EstimateTokens(tt.in); got != tt.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestEachWord(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Deploy the K8s cluster!", []string{"deploy", "the", "k8s", "cluster"}},
		{"foo-bar_baz", []string{"foo", "bar", "baz"}},
		{"分层记忆", []string{"分", "层", "记", "忆"}},
		{"Guard层设计", []string{"guard", "层", "设", "计"}},
		{"ÉCOLE café", []string{"école", "café"}},
		{"  ...  ", nil},
	}
	for _, tt := range tests {
		var got []string
		eachWord(tt.in, func(w string) bool { got = append(got, w); return true })
		if !slices.Equal(got, tt.want) {
			t.Errorf("eachWord(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := queryWords("a b a c b d", 3); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("queryWords dedups and bounds: got %q", got)
	}
}

func TestOneLineAndCleanLines(t *testing.T) {
	if got, want := oneLine("  a\n\tb \x00 c  "), "a b c"; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
	if got, want := cleanLines("  first   line \n\n second\r\n"), "first line\nsecond"; got != want {
		t.Errorf("cleanLines = %q, want %q", got, want)
	}
}

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		in  string
		max int
	}{
		{"short", 10},
		{"a fairly long sentence that must be cut somewhere", 20},
		{"记忆层记忆层记忆层记忆层", 10},
		{"abcdefghijklmnopqrstuvwxyz", 4},
		{"abc", 2},
	} {
		got := truncate(tt.in, tt.max)
		if len(got) > tt.max || !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q: longer than the bound or not UTF-8", tt.in, tt.max, got)
		}
		if len(tt.in) <= tt.max && got != tt.in {
			t.Errorf("truncate(%q, %d) changed a text within the bound: %q", tt.in, tt.max, got)
		}
		if len(tt.in) > tt.max && got != "" && !strings.HasSuffix(got, "…") {
			t.Errorf("truncate(%q, %d) = %q: a cut must be marked", tt.in, tt.max, got)
		}
	}
}

func TestSplitSentences(t *testing.T) {
	got := splitSentences("First one. Second one!  Third?\nFourth line 3.5 percent\n决定用 SQLite。原因是简单")
	want := []string{"First one.", "Second one!", "Third?", "Fourth line 3.5 percent", "决定用 SQLite。", "原因是简单"}
	if !slices.Equal(got, want) {
		t.Errorf("splitSentences = %q, want %q", got, want)
	}
	if n := len(splitSentences(strings.Repeat("x. ", 1000))); n != maxSentences {
		t.Errorf("%d sentences kept, want the bound %d", n, maxSentences)
	}
}

func TestSummarize(t *testing.T) {
	text := "We met on Tuesday. The coffee machine was broken again. " +
		"We decided to move the embedded store to SQLite because PostgreSQL needs a server. " +
		"Someone mentioned the weather. The SQLite store passed the conformance suite with 12 tests. " +
		"Lunch was late. " + strings.Repeat("Filler words about nothing much at all here. ", 20)
	summary, gist := summarize(text)
	if summary == "" || len(summary) > maxSummary {
		t.Fatalf("summary of %d bytes, want 1..%d: %q", len(summary), maxSummary, summary)
	}
	if !strings.Contains(summary, "We decided to move the embedded store to SQLite") {
		t.Errorf("the summary missed the decision sentence: %q", summary)
	}
	if strings.Count(summary, "Filler words") > 1 {
		t.Errorf("the summary kept repeated filler: %q", summary)
	}
	// Kept sentences appear in their original order.
	if i, j := strings.Index(summary, "We met"), strings.Index(summary, "We decided"); i >= 0 && j >= 0 && i > j {
		t.Errorf("sentences out of order: %q", summary)
	}
	if gist == "" || len(gist) > maxOneLine {
		t.Errorf("gist of %d bytes, want 1..%d: %q", len(gist), maxOneLine, gist)
	}
	s2, g2 := summarize(text)
	if s2 != summary || g2 != gist {
		t.Error("summarize is not deterministic")
	}
}

func TestSummarizeShortText(t *testing.T) {
	// A one-sentence text is its own summary and gist: both are "",
	// meaning "the same as the level before".
	if s, g := summarize("Deployed v1.2 to production."); s != "" || g != "" {
		t.Errorf("summarize of one short sentence = %q, %q; want both empty", s, g)
	}
	// Two short sentences fit the summary, but the gist is one of them.
	s, g := summarize("Release failed. Rolled back to v1.1.")
	if s != "" || g == "" || len(g) >= len("Release failed. Rolled back to v1.1.") {
		t.Errorf("summarize of two sentences = %q, %q", s, g)
	}
}

func TestCompressStepShrinks(t *testing.T) {
	text := strings.Repeat("The deploy failed because the migration locked the table for ten minutes. ", 10) +
		"We rolled back and added a lock timeout."
	s, g := summarize(text)
	r := Record{Text: text, Summary: s, OneLine: g}
	sizes := []int64{recordBytes(&r)}
	for range 2 {
		compressStep(&r)
		sizes = append(sizes, recordBytes(&r))
	}
	if r.Level != LevelOneLine || r.Text == "" {
		t.Fatalf("after two steps: level %d, text %q", r.Level, r.Text)
	}
	if !(sizes[0] > sizes[1] && sizes[1] > sizes[2]) {
		t.Errorf("sizes %v do not shrink at every step", sizes)
	}
}
