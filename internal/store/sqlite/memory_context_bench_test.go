package sqlite

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/memory"
	"github.com/sentinel-agent/sentinel/internal/memory/memorytest"
)

// BenchmarkInjectContext measures the context block of package memory on
// this store with the search benchmark's corpus (100,000 episodic events
// and 10,000 facts): one InjectContext per iteration for a session in a
// scope that holds records, p50/p99 over at least 200 calls.
func BenchmarkInjectContext(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir()+"/audit.db", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	recs := memorytest.NewCorpus().Records()
	for chunk := range slices.Chunk(recs, 1000) {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range chunk {
			// One agent owns everything: the block reads all of it.
			r.Agent = "default"
			if _, err := tx.ExecContext(ctx, putMemorySQL, memoryArgs(r)...); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	m := memory.New(s, memory.Options{Now: func() time.Time { return time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC) }})
	if _, err := m.StartSession(memory.Session{ID: "bench"}); err != nil {
		b.Fatal(err)
	}
	for _, budget := range []int{500, 2000, 4000} {
		b.Run("budget-"+strconv.Itoa(budget), func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var wall, cpu []time.Duration
			run := func() {
				start, startCPU := time.Now(), threadCPU(b)
				out, err := m.InjectContext(ctx, "bench", budget)
				cpu = append(cpu, threadCPU(b)-startCPU)
				wall = append(wall, time.Since(start))
				if err != nil || out == "" {
					b.Fatalf("InjectContext: %q, %v", out, err)
				}
			}
			for b.Loop() {
				run()
			}
			for len(wall) < minSamples {
				run()
			}
			memorytest.ReportPercentiles(b, "", wall)
			memorytest.ReportPercentiles(b, "cpu-", cpu)
		})
	}
}
