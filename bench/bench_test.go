package bench

import (
	"context"
	"slices"
	"testing"
	"time"
)

// repeatedCommand is the call sentinel-cached repeats: an ordinary NL2Bash
// command, so the figure is the cost of a cache hit and nothing else.
const repeatedCommand = "find . -name '*.go' -exec grep -l TODO {} +"

// BenchmarkDecide measures one decision of each engine on the NL2Bash
// commands, cycling through all of them; sentinel-cached repeats one
// identical call to isolate a cache hit. After the timed loop an untimed
// pass times every call on its own and reports the p50 and p99.
func BenchmarkDecide(b *testing.B) {
	rows, ok := loadCorpus(b, "nl2bash/nl2bash_commands.jsonl")
	if !ok {
		b.Skip("NL2Bash corpus not found under " + corpusDir())
	}
	calls := execArgs(rows)
	repeated := []map[string]any{{"command": repeatedCommand}}
	ctx := context.Background()

	for _, e := range allEngines(b) {
		set := calls
		if e.name == "sentinel-cached" {
			set = repeated
		}
		b.Run(e.name, func(b *testing.B) {
			b.ReportAllocs()
			var undecided int
			i := 0
			for b.Loop() {
				if _, err := e.decide(ctx, set[i]); err != nil {
					undecided++
				}
				if i++; i == len(set) {
					i = 0
				}
			}
			p50, p99 := latencies(ctx, e, set, len(calls))
			b.ReportMetric(float64(p50.Nanoseconds()), "p50-ns/op")
			b.ReportMetric(float64(p99.Nanoseconds()), "p99-ns/op")
			if undecided > 0 {
				b.ReportMetric(float64(undecided)/float64(b.N), "undecided/op")
			}
		})
	}
}

// latencies times n calls one by one, cycling through set, outside the
// benchmark's timer, and returns the 50th and 99th percentiles.
func latencies(ctx context.Context, e engine, set []map[string]any, n int) (p50, p99 time.Duration) {
	d := make([]time.Duration, n)
	for i := range d {
		args := set[i%len(set)]
		start := time.Now()
		_, _ = e.decide(ctx, args)
		d[i] = time.Since(start)
	}
	slices.Sort(d)
	return percentile(d, 50), percentile(d, 99)
}

// percentile returns the p-th percentile of sorted durations by the
// nearest-rank method.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}
