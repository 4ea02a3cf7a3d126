package kernel

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/request"
)

// loadCorpusCommands reads the NL2Bash commands from the shared corpus,
// if it is present beside the repository.
func loadCorpusCommands(tb testing.TB) []string {
	f, err := os.Open(filepath.Join("..", "..", "..", "shared", "corpus", "nl2bash", "nl2bash_commands.jsonl"))
	if err != nil {
		tb.Skip("corpus not present:", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var row struct {
			Args struct {
				Command string `json:"command"`
			} `json:"args"`
		}
		if json.Unmarshal(sc.Bytes(), &row) == nil {
			out = append(out, row.Args.Command)
		}
	}
	return out
}

// BenchmarkDecide measures the full decision (normalize, shell analysis,
// every gate) over the NL2Bash commands, and reports the p50 and p99 of
// single decisions measured in a separate pass.
func BenchmarkDecide(b *testing.B) {
	cmds := loadCorpusCommands(b)
	k := newTestKernel(b, Options{})
	ctx := context.Background()
	raws := make([]request.Raw, len(cmds))
	for i, c := range cmds {
		raws[i] = exec(c)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k.Decide(ctx, raws[i%len(raws)])
	}
	b.StopTimer()
	lat := make([]time.Duration, len(raws))
	for i, r := range raws {
		t0 := time.Now()
		k.Decide(ctx, r)
		lat[i] = time.Since(t0)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkDecideCached measures a repeated identical call served from the
// decision cache.
func BenchmarkDecideCached(b *testing.B) {
	k := newTestKernel(b, Options{CacheSize: 1024})
	ctx := context.Background()
	r := exec("find . -name '*.go' -newer go.mod | xargs grep -l TODO")
	k.Decide(ctx, r)
	b.ReportAllocs()
	for b.Loop() {
		k.Decide(ctx, r)
	}
}
