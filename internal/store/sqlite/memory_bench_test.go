package sqlite

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sentinel-agent/sentinel/internal/memory"
	"github.com/sentinel-agent/sentinel/internal/memory/memorytest"
)

// minSamples is the fewest queries a latency figure is taken from.
const minSamples = 200

// benchLatency runs the queries one per iteration, at least minSamples
// of them, and reports the 50th and 99th percentile latencies: wall time,
// and the CPU time of the thread that ran the query (SQLite runs in the
// calling goroutine), which other load on the machine does not inflate.
func benchLatency(b *testing.B, s memory.Store, qs []memory.Query) {
	ctx := context.Background()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var wall, cpu []time.Duration
	hits := 0
	run := func() {
		q := qs[len(wall)%len(qs)]
		start, startCPU := time.Now(), threadCPU(b)
		rs, err := s.SearchMemory(ctx, q)
		cpu = append(cpu, threadCPU(b)-startCPU)
		wall = append(wall, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		hits += len(rs)
	}
	b.ReportAllocs()
	for b.Loop() {
		run()
	}
	for len(wall) < minSamples {
		run()
	}
	memorytest.ReportPercentiles(b, "", wall)
	memorytest.ReportPercentiles(b, "cpu-", cpu)
	b.ReportMetric(float64(hits)/float64(len(wall)), "results/op")
}

// threadCPU is the CPU time the calling thread has used.
func threadCPU(b *testing.B) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

// BenchmarkSearchMemory loads the corpus (in transactions of 1,000
// records, which is faster than PutMemory's one commit each, and stores
// the same rows), then measures searches.
func BenchmarkSearchMemory(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir()+"/audit.db", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := memorytest.NewCorpus()
	recs := c.Records()
	start := time.Now()
	for chunk := range slices.Chunk(recs, 1000) {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range chunk {
			if err := checkMemory(r); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, putMemorySQL, memoryArgs(r)...); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d records in %v", len(recs), time.Since(start).Round(time.Millisecond))
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	st, err := s.MemoryStats(ctx)
	if err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(s.Path())
	if err != nil {
		b.Fatal(err)
	}
	var fts int64
	if err := s.r.QueryRowContext(ctx, "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'memory_fts%'").Scan(&fts); err != nil {
		b.Logf("the full-text index's size is unknown (no dbstat): %v", err)
	}
	b.Logf("MemoryStats: %v records, %.1f MB of text; database file %.1f MB, of which the full-text index %.1f MB",
		st.Records, float64(st.Bytes)/1e6, float64(fi.Size())/1e6, float64(fts)/1e6)

	b.Run("text", func(b *testing.B) { benchLatency(b, s, c.Queries(false)) })
	b.Run("text-common-words", func(b *testing.B) { benchLatency(b, s, c.Queries(true)) })
	b.Run("filters", func(b *testing.B) { benchLatency(b, s, c.FilterQueries()) })
}

// BenchmarkPutMemory measures one record's upsert, with its commit and
// its full-text indexing.
func BenchmarkPutMemory(b *testing.B) {
	s := openTest(b)
	c := memorytest.NewCorpus()
	recs := c.Records()[:memorytest.CorpusQueries]
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		r := recs[i%len(recs)]
		r.ID = fmt.Sprintf("p%d", i)
		if err := s.PutMemory(ctx, r); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
