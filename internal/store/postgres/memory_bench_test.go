package postgres_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sentinel-agent/sentinel/internal/memory"
	"github.com/sentinel-agent/sentinel/internal/memory/memorytest"
	"github.com/sentinel-agent/sentinel/internal/store/postgres"
)

// minSamples is the fewest queries a latency figure is taken from.
const minSamples = 200

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
	memorytest.ReportPercentiles(b, "", wall)
	if backend > 0 {
		memorytest.ReportPercentiles(b, "server-cpu-", cpu)
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
	c := memorytest.NewCorpus()
	recs := c.Records()
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
	b.Run("text", func(b *testing.B) { benchLatency(b, s, backend, c.Queries(false)) })
	b.Run("text-common-words", func(b *testing.B) { benchLatency(b, s, backend, c.Queries(true)) })
	b.Run("filters", func(b *testing.B) { benchLatency(b, s, backend, c.FilterQueries()) })
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
