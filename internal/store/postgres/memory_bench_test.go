package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sentinel-agent/sentinel/internal/memory"
	"github.com/sentinel-agent/sentinel/internal/store/postgres"
)

// The benchmark corpus: what a busy agent accumulates, 100,000 episodic
// records and 10,000 semantic facts, in words drawn from a Zipf
// distribution over a 20,000-word vocabulary, as natural text is.
const (
	benchEpisodic = 100000
	benchFacts    = 10000
	benchVocab    = 20000
	// benchStopRanks are the most frequent words ("the", "a", …), which
	// queries leave out as people do; the "common" case searches them.
	benchStopRanks = 100
	benchQueries   = 1000
	minSamples     = 200
)

// benchCorpus generates the records and the queries, the same for every
// store and every run.
type benchCorpus struct {
	rng   *rand.Rand
	zipf  *rand.Zipf
	vocab []string
}

func newBenchCorpus() *benchCorpus {
	rng := rand.New(rand.NewPCG(1, 2))
	c := &benchCorpus{rng: rng, zipf: rand.NewZipf(rng, 1.07, 2, benchVocab-1)}
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

func (c *benchCorpus) text(n int) string {
	words := make([]string, n)
	for i := range words {
		words[i] = c.vocab[c.zipf.Uint64()]
	}
	return strings.Join(words, " ")
}

// records returns the corpus's records: episodic events of 20–60 words
// over 90 days, most at full level, in 50 scopes; then facts of 8–20
// words with a subject each.
func (c *benchCorpus) records() []memory.Record {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	kinds := []string{"tool_call", "decision", "error", "user_message", "agent_message", "file_change", "approval", "session"}
	factKinds := []string{"preference", "fact", "rule", "project", "glossary"}
	out := make([]memory.Record, 0, benchEpisodic+benchFacts)
	for i := range benchEpisodic + benchFacts {
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
		if i >= benchEpisodic {
			r.ID, r.Layer, r.Kind, r.Level = fmt.Sprintf("f%06d", i-benchEpisodic), memory.LayerSemantic, factKinds[c.rng.IntN(len(factKinds))], memory.LevelFull
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

// queries returns searches of 1–3 words as recall runs them: the top 20,
// half of them within one scope and at most summarised. common draws
// the words from the most frequent ones instead.
func (c *benchCorpus) queries(common bool) []memory.Query {
	out := make([]memory.Query, benchQueries)
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

// filterQueries are searches without text: a scope's most important
// records.
func (c *benchCorpus) filterQueries() []memory.Query {
	out := make([]memory.Query, benchQueries)
	for i := range out {
		out[i] = memory.Query{Scope: benchScope(c.rng.IntN(50)), Layer: memory.LayerEpisodic, MaxLevel: memory.LevelSummary, Limit: 20}
	}
	return out
}

// benchLatency runs the queries one per iteration and reports their
// latencies (see measure) and the results per query.
func benchLatency(b *testing.B, s memory.Store, backend int, qs []memory.Query) {
	ctx := context.Background()
	hits, n := 0, 0
	b.ReportAllocs()
	measure(b, backend, func() {
		rs, err := s.SearchMemory(ctx, qs[n%len(qs)])
		if err != nil {
			b.Fatal(err)
		}
		hits, n = hits+len(rs), n+1
	})
	b.ReportMetric(float64(hits)/float64(n), "results/op")
}

// measure runs op once per iteration, at least minSamples times, and
// reports the 50th and 99th percentile latencies: wall time, and, when
// the server is on this machine, the CPU time of the server process that
// ran it, which other load on the machine does not inflate.
func measure(b *testing.B, backend int, op func()) {
	var wall, cpu []time.Duration
	run := func() {
		start, startCPU := time.Now(), processCPU(backend)
		op()
		wall = append(wall, time.Since(start))
		if backend > 0 {
			cpu = append(cpu, processCPU(backend)-startCPU)
		}
	}
	for b.Loop() {
		run()
	}
	for len(wall) < minSamples {
		run()
	}
	reportPercentiles(b, "", wall)
	if backend > 0 {
		reportPercentiles(b, "server-cpu-", cpu)
	}
}

// processCPU is the CPU time process pid has used, in nanoseconds, from
// the first field of /proc/<pid>/schedstat; 0 if it cannot be read.
func processCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/schedstat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	ns, _ := strconv.ParseInt(f[0], 10, 64)
	return time.Duration(ns)
}

func reportPercentiles(b *testing.B, prefix string, ds []time.Duration) {
	slices.Sort(ds)
	for _, p := range []struct {
		name string
		q    float64
	}{{"p50-ms", 0.50}, {"p99-ms", 0.99}} {
		d := ds[int(p.q*float64(len(ds)-1))]
		b.ReportMetric(float64(d.Microseconds())/1000, prefix+p.name)
	}
}

// BenchmarkSearchMemory loads the corpus through PutMemory from eight
// connections, vacuums and analyses the table (as autovacuum would), then
// measures searches on a store of one connection, whose server process
// it watches.
func BenchmarkSearchMemory(b *testing.B) {
	ctx := context.Background()
	schema := freshSchema(b)
	loader, err := postgres.Open(ctx, dsn(b), postgres.Options{Schema: schema, MaxConns: 8})
	if err != nil {
		b.Fatal(err)
	}
	defer loader.Close()
	c := newBenchCorpus()
	recs := c.records()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(recs); i += 8 {
				if err := loader.PutMemory(ctx, recs[i]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.Logf("loaded %d records in %v", len(recs), time.Since(start).Round(time.Millisecond))
	conn, err := pgx.Connect(ctx, dsn(b))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	table := pgx.Identifier{schema, "memory"}.Sanitize()
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
		b.Fatal(err)
	}
	var total, index int64
	if err := conn.QueryRow(ctx, "SELECT pg_total_relation_size($1::regclass), pg_relation_size($2::regclass)",
		table, pgx.Identifier{schema, "memory_search"}.Sanitize()).Scan(&total, &index); err != nil {
		b.Fatal(err)
	}
	st, err := loader.MemoryStats(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("MemoryStats: %v records, %.1f MB of text; table with indexes and TOAST %.1f MB, of which the GIN index %.1f MB",
		st.Records, float64(st.Bytes)/1e6, float64(total)/1e6, float64(index)/1e6)

	app := "sentinel_bench_" + schema
	s, err := postgres.Open(ctx, dsn(b)+"&application_name="+app, postgres.Options{Schema: schema, MaxConns: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.MemoryStats(ctx); err != nil { // opens the connection
		b.Fatal(err)
	}
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", app).Scan(&backend); err != nil {
		b.Fatal(err)
	}
	if processCPU(backend) == 0 {
		b.Logf("the server's process %d is not readable here; reporting wall time only", backend)
		backend = 0
	}
	b.Run("text", func(b *testing.B) { benchLatency(b, s, backend, c.queries(false)) })
	b.Run("text-common-words", func(b *testing.B) { benchLatency(b, s, backend, c.queries(true)) })
	b.Run("filters", func(b *testing.B) { benchLatency(b, s, backend, c.filterQueries()) })
	// The memory context block of agent-0 (a third of the records) in
	// the main scope, at budgets 500, 2000 (the default) and 4000.
	m := memory.New(s, memory.Options{Agent: "agent-0", Now: func() time.Time { return time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC) }})
	if _, err := m.StartSession(memory.Session{ID: "bench"}); err != nil {
		b.Fatal(err)
	}
	for _, budget := range []int{500, 2000, 4000} {
		b.Run("context-budget-"+strconv.Itoa(budget), func(b *testing.B) {
			measure(b, backend, func() {
				if out, err := m.InjectContext(ctx, "bench", budget); err != nil || out == "" {
					b.Fatalf("InjectContext: %q, %v", out, err)
				}
			})
		})
	}
}
