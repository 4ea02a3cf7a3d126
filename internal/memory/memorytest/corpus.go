package memorytest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/memory"
)

// The benchmark corpus: what a busy agent accumulates, 100,000 episodic
// records and 10,000 semantic facts, in words drawn from a Zipf
// distribution over a 20,000-word vocabulary, as natural text is.
const (
	CorpusEpisodic = 100000
	CorpusFacts    = 10000
	benchVocab     = 20000
	// benchStopRanks are the most frequent words ("the", "a", …), which
	// queries leave out as people do; the "common" case searches them.
	benchStopRanks = 100
	CorpusQueries  = 1000
)

// Corpus generates the memory benchmarks' records and queries, the same
// for every store and every run.
type Corpus struct {
	rng   *rand.Rand
	zipf  *rand.Zipf
	vocab []string
}

// NewCorpus returns the corpus at its start.
func NewCorpus() *Corpus {
	rng := rand.New(rand.NewPCG(1, 2))
	c := &Corpus{rng: rng, zipf: rand.NewZipf(rng, 1.07, 2, benchVocab-1)}
	syllables := strings.Fields("ka lo mi ne ru sa ti vo be da fe gi hu ja ko lu ma no pe qui ro su ta un ve wi xa yo ze")
	seen := map[string]bool{}
	for len(c.vocab) < benchVocab {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			c.vocab = append(c.vocab, w)
		}
	}
	return c
}

func (c *Corpus) text(n int) string {
	words := make([]string, n)
	for i := range words {
		words[i] = c.vocab[c.zipf.Uint64()]
	}
	return strings.Join(words, " ")
}

// Records returns the corpus's records: episodic events of 20–60 words
// over 90 days, most at full level, in 50 scopes; then facts of 8–20
// words with a subject each.
func (c *Corpus) Records() []memory.Record {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	kinds := []string{"tool_call", "decision", "error", "user_message", "agent_message", "file_change", "approval", "session"}
	factKinds := []string{"preference", "fact", "rule", "project", "glossary"}
	out := make([]memory.Record, 0, CorpusEpisodic+CorpusFacts)
	for i := range CorpusEpisodic + CorpusFacts {
		created := t0.Add(time.Duration(c.rng.Int64N(int64(90 * 24 * time.Hour))))
		r := memory.Record{
			ID: fmt.Sprintf("e%06d", i), Layer: memory.LayerEpisodic, Kind: kinds[c.rng.IntN(len(kinds))],
			Scope: benchScope(c.rng.IntN(50)), Agent: fmt.Sprintf("agent-%d", c.rng.IntN(3)), Session: fmt.Sprintf("s%d", i/40),
			Text:       c.text(20 + c.rng.IntN(40)),
			Importance: float64(c.rng.IntN(100)) / 100,
			Source:     memory.Source{Kind: "tool", Tool: "shell", Trusted: c.rng.IntN(4) > 0},
			Created:    created, Updated: created,
		}
		// Summaries and gists are extracts of the text, as package
		// memory makes them.
		words := strings.Fields(r.Text)
		r.Summary, r.OneLine = strings.Join(words[:12], " "), strings.Join(words[:6], " ")
		switch p := c.rng.IntN(10); {
		case p >= 9:
			r.Level = memory.LevelOneLine
		case p >= 7:
			r.Level = memory.LevelSummary
		}
		if i >= CorpusEpisodic {
			r.ID, r.Layer, r.Kind, r.Level = fmt.Sprintf("f%06d", i-CorpusEpisodic), memory.LayerSemantic, factKinds[c.rng.IntN(len(factKinds))], memory.LevelFull
			r.Key = fmt.Sprintf("%s-%d", c.vocab[c.rng.IntN(benchVocab)], i)
			r.Text, r.Summary, r.OneLine = c.text(8+c.rng.IntN(12)), "", ""
			r.Confidence = 0.5
		}
		out = append(out, r)
	}
	return out
}

func benchScope(i int) string {
	if i == 0 {
		return "main"
	}
	return fmt.Sprintf("peer:%d", i)
}

// Queries returns searches of 1–3 words as recall runs them: the top 20,
// half of them within one scope and at most summarised. common draws
// the words from the most frequent ones instead.
func (c *Corpus) Queries(common bool) []memory.Query {
	out := make([]memory.Query, CorpusQueries)
	for i := range out {
		words := make([]string, 1+c.rng.IntN(3))
		for j := range words {
			rank := uint64(benchStopRanks) + c.zipf.Uint64()%(benchVocab-benchStopRanks)
			if common {
				rank = uint64(c.rng.IntN(benchStopRanks))
			}
			words[j] = c.vocab[rank]
		}
		q := memory.Query{Text: strings.Join(words, " "), MaxLevel: -1, Limit: 20}
		if i%2 == 1 {
			q.Scope, q.MaxLevel = benchScope(c.rng.IntN(50)), memory.LevelSummary
		}
		out[i] = q
	}
	return out
}

// FilterQueries are searches without text: a scope's most important
// records.
func (c *Corpus) FilterQueries() []memory.Query {
	out := make([]memory.Query, CorpusQueries)
	for i := range out {
		out[i] = memory.Query{Scope: benchScope(c.rng.IntN(50)), Layer: memory.LayerEpisodic, MaxLevel: memory.LevelSummary, Limit: 20}
	}
	return out
}

// ReportPercentiles reports the 50th and 99th percentiles of ds as
// prefix+"p50-ms" and prefix+"p99-ms".
func ReportPercentiles(b *testing.B, prefix string, ds []time.Duration) {
	slices.Sort(ds)
	for _, p := range []struct {
		name string
		q    float64
	}{{"p50-ms", 0.50}, {"p99-ms", 0.99}} {
		d := ds[int(p.q*float64(len(ds)-1))]
		b.ReportMetric(float64(d.Microseconds())/1000, prefix+p.name)
	}
}
