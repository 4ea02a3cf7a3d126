package memory_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/memory"
)

// The benchmark state: 100,000 episodic events over a year and 10,000
// facts, on the in-memory store.
const (
	benchEvents = 100000
	benchFacts  = 10000
	minSamples  = 200 // calls a p99 is computed over, at least
)

var bench struct {
	once    sync.Once
	m       *memory.Memory
	queries []string
	err     error
}

func benchMemory(b *testing.B) *memory.Memory {
	bench.once.Do(func() {
		c := newClock()
		m := memory.New(memory.NewMemStore(), memory.Options{Now: c.Now, MaxEpisodicBytes: 1 << 40, MaxSemanticRecords: 1 << 20})
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(7, 8))
		types := []string{memory.EventToolCall, memory.EventToolCall, memory.EventToolCall, memory.EventTask,
			memory.EventDecision, memory.EventError, memory.EventFeedback, memory.EventLesson, memory.EventMilestone, memory.EventCorrection}
		outcomes := []string{memory.OutcomeSuccess, memory.OutcomeSuccess, memory.OutcomeFailure, memory.OutcomePartial, ""}
		step := 365 * 24 * time.Hour / benchEvents
		for range benchEvents {
			c.Advance(step)
			text := fmt.Sprintf("TICKET-%d %s", rng.IntN(20000), paragraph(rng, 2+rng.IntN(3)))
			if _, err := m.Remember(ctx, memory.Event{Type: types[rng.IntN(len(types))], Outcome: outcomes[rng.IntN(len(outcomes))],
				Risk: rng.Float64(), Text: text, Source: agent}); err != nil {
				bench.err = err
				return
			}
		}
		for i := range benchFacts {
			if _, err := m.AddFact(ctx, user, fmt.Sprintf("Fact %d: %s", i, sentence(rng, 8))); err != nil {
				bench.err = err
				return
			}
		}
		// One query in three is a common word, one two common words, one
		// a rare identifier.
		for i := range 300 {
			switch i % 3 {
			case 0:
				bench.queries = append(bench.queries, words[rng.IntN(len(words))])
			case 1:
				bench.queries = append(bench.queries, words[rng.IntN(len(words))]+" "+words[rng.IntN(len(words))])
			default:
				bench.queries = append(bench.queries, fmt.Sprintf("ticket-%d", rng.IntN(20000)))
			}
		}
		bench.m = m
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.m
}

// latencies runs fn max(b.N, minSamples) times and reports the median
// and the 99th percentile in milliseconds, of wall time and of the
// calling thread's CPU time (on Linux; the thread is locked so that the
// two measure the same work). On a loaded machine the wall-time tail is
// the scheduler's; the CPU-time tail is the code's.
func latencies(b *testing.B, fn func(i int)) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n := max(b.N, minSamples)
	wall := make([]time.Duration, n)
	cpu := make([]time.Duration, n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range n {
		c0, t0 := threadCPU(), time.Now()
		fn(i)
		wall[i], cpu[i] = time.Since(t0), threadCPU()-c0
	}
	b.StopTimer()
	report := func(d []time.Duration, unit string) {
		slices.Sort(d)
		ms := func(q float64) float64 { return float64(d[min(int(q*float64(n)), n-1)]) / 1e6 }
		b.ReportMetric(ms(0.50), "p50-"+unit)
		b.ReportMetric(ms(0.99), "p99-"+unit)
	}
	report(wall, "ms")
	report(cpu, "cpu-ms")
}

func BenchmarkInjectContext(b *testing.B) {
	m := benchMemory(b)
	ctx := context.Background()
	for _, budget := range []int{500, 2000, 4000} {
		b.Run(fmt.Sprintf("budget=%d", budget), func(b *testing.B) {
			latencies(b, func(int) {
				if _, err := m.InjectContext(ctx, "", budget); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

func BenchmarkSearch(b *testing.B) {
	m := benchMemory(b)
	ctx := context.Background()
	latencies(b, func(i int) {
		if _, err := m.Search(ctx, bench.queries[i%len(bench.queries)], 20); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkRemember(b *testing.B) {
	m, _, _ := newMem(b, memory.Options{MaxEpisodicBytes: 1 << 40})
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 10))
	texts := make([]string, 1000)
	for i := range texts {
		texts[i] = paragraph(rng, 4)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := m.Remember(ctx, memory.Event{Type: memory.EventTask, Text: fmt.Sprintf("%d %s", i, texts[i%len(texts)]), Source: agent}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompact(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		m, c, s := newMem(b, memory.Options{MaxEpisodicBytes: 1 << 40})
		ctx := context.Background()
		for range 5000 {
			c.Advance(time.Minute)
			must(m.Remember(ctx, memory.Event{Type: memory.EventToolCall, Text: paragraph(rng, 4), Source: agent}))
		}
		small := memory.New(s, memory.Options{Now: c.Now, MaxEpisodicBytes: 256 << 10})
		b.StartTimer()
		must(small.Compact(ctx))
	}
}
