package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// measure is one engine's line of the results table.
type measure struct {
	name           string
	mean, p50, p99 time.Duration
	allocs         float64
	undecided      int
	fpBlocked      int // NL2Bash allow rows confirmed or denied
	fpTotal        int
	denyBlocked    int // GTFOBins deny rows confirmed or denied
	denyTotal      int
	confirmBlocked int // GTFOBins confirm rows confirmed or denied
	confirmTotal   int
}

const (
	measuredPasses = 3
	allocSample    = 1000 // commands per testing.AllocsPerRun run
)

// TestLatencyTable runs every engine over every NL2Bash command in one
// process and prints speed and quality side by side as Markdown. It is slow
// (a few minutes) and runs only with SENTINEL_BENCH_TABLE=1; with
// SENTINEL_BENCH_WRITE=1 it also rewrites the Results section of README.md.
func TestLatencyTable(t *testing.T) {
	if os.Getenv("SENTINEL_BENCH_TABLE") != "1" {
		t.Skip("set SENTINEL_BENCH_TABLE=1 to measure")
	}
	nl, ok := loadCorpus(t, "nl2bash/nl2bash_commands.jsonl")
	if !ok {
		t.Skip("NL2Bash corpus not found under " + corpusDir())
	}
	gtfo, ok := loadCorpus(t, "gtfobins/gtfobins_commands.jsonl")
	if !ok {
		t.Skip("GTFOBins corpus not found under " + corpusDir())
	}
	calls, gtfoCalls := execArgs(nl), execArgs(gtfo)
	ctx := context.Background()
	engines := allEngines(t)
	ms := make([]measure, len(engines))
	samples := make([][]time.Duration, len(engines))

	// Warm-up: one pass of every engine (this also fills sentinel-cached's
	// cache, so its measured passes are all repeated identical calls).
	for i, e := range engines {
		ms[i].name = e.name
		for _, a := range calls {
			_, _ = e.decide(ctx, a)
		}
		samples[i] = make([]time.Duration, 0, measuredPasses*len(calls))
	}
	// Measured passes, engines interleaved pass by pass so that drift in the
	// machine's speed spreads over all of them.
	for range measuredPasses {
		for i, e := range engines {
			runtime.GC()
			for _, a := range calls {
				start := time.Now()
				_, _ = e.decide(ctx, a)
				samples[i] = append(samples[i], time.Since(start))
			}
		}
	}
	for i, e := range engines {
		m := &ms[i]
		var sum time.Duration
		for _, d := range samples[i] {
			sum += d
		}
		m.mean = sum / time.Duration(len(samples[i]))
		slices.Sort(samples[i])
		m.p50, m.p99 = percentile(samples[i], 50), percentile(samples[i], 99)

		// Allocations on an evenly spaced sample of the corpus.
		stride := max(1, len(calls)/allocSample)
		var sample []map[string]any
		for j := 0; j < len(calls) && len(sample) < allocSample; j += stride {
			sample = append(sample, calls[j])
		}
		m.allocs = testing.AllocsPerRun(3, func() {
			for _, a := range sample {
				_, _ = e.decide(ctx, a)
			}
		}) / float64(len(sample))

		// Quality, from fresh decisions (the cached engine answers from its
		// cache, which must agree with the uncached one).
		for j, r := range nl {
			if r.Expect != "allow" {
				continue
			}
			a, err := e.decide(ctx, calls[j])
			if err != nil {
				m.undecided++
			}
			m.fpTotal++
			if blocks(a) {
				m.fpBlocked++
			}
		}
		for j, r := range gtfo {
			a, err := e.decide(ctx, gtfoCalls[j])
			if err != nil {
				m.undecided++
			}
			switch r.Expect {
			case "deny":
				m.denyTotal++
				if blocks(a) {
					m.denyBlocked++
				}
			case "confirm":
				m.confirmTotal++
				if blocks(a) {
					m.confirmBlocked++
				}
			}
		}
	}

	var buf bytes.Buffer
	writeTable(&buf, ms, len(calls), timerOverhead())
	fmt.Fprint(os.Stdout, "\n"+buf.String())

	if os.Getenv("SENTINEL_BENCH_WRITE") == "1" {
		if err := replaceSection("README.md", buf.String()); err != nil {
			t.Fatal(err)
		}
		t.Log("README.md Results section rewritten")
	}
}

// timerOverhead is the median cost of the time.Now/time.Since pair that
// wraps every measured call; it is included in every latency figure.
func timerOverhead() time.Duration {
	d := make([]time.Duration, 100000)
	for i := range d {
		start := time.Now()
		d[i] = time.Since(start)
	}
	slices.Sort(d)
	return percentile(d, 50)
}

func writeTable(w io.Writer, ms []measure, n int, overhead time.Duration) {
	ref := ms[0] // sentinel, uncached
	fmt.Fprintf(w, "Measured by `SENTINEL_BENCH_TABLE=1 go test -run TestLatencyTable -v .` on %s/%s, %s, GOMAXPROCS=%d, %s.\n",
		runtime.GOOS, runtime.GOARCH, cpuModel(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprintf(w, "%d NL2Bash commands as `exec` calls; one warm-up pass, then %d measured passes per engine (engines interleaved), each call timed alone (timer overhead ≈ %d ns, included). ", n, measuredPasses, overhead.Nanoseconds())
	fmt.Fprintf(w, "allocs/op from testing.AllocsPerRun over %d evenly spaced commands. Blocked = confirm or deny.\n\n", allocSample)
	fmt.Fprintln(w, "| engine | mean ns | p50 ns | p99 ns | allocs/op | mean vs sentinel | p99 vs sentinel | NL2Bash allow rows blocked (FP) | GTFOBins deny rows blocked | GTFOBins confirm rows blocked |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, m := range ms {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %.1f | %s | %s | %s | %s | %s |\n",
			m.name, m.mean.Nanoseconds(), m.p50.Nanoseconds(), m.p99.Nanoseconds(), m.allocs,
			ratio(m.mean, ref.mean), ratio(m.p99, ref.p99),
			rate(m.fpBlocked, m.fpTotal), rate(m.denyBlocked, m.denyTotal), rate(m.confirmBlocked, m.confirmTotal))
	}
	for _, m := range ms {
		if m.undecided > 0 {
			fmt.Fprintf(w, "\n%s could not decide %d calls (each counted as its fail-closed deny).\n", m.name, m.undecided)
		}
	}
}

func ratio(a, b time.Duration) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

func rate(k, n int) string {
	if n == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%% (%d/%d)", 100*float64(k)/float64(n), k, n)
}

// cpuModel names the processor for the record, when Linux says.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return fmt.Sprintf("%s (%d logical CPUs)", strings.TrimSpace(v), runtime.NumCPU())
			}
		}
	}
	return fmt.Sprintf("%d logical CPUs", runtime.NumCPU())
}

// The measured table lives between these markers in README.md.
const (
	beginMarker = "<!-- latency-table:begin -->"
	endMarker   = "<!-- latency-table:end -->"
)

// replaceSection puts body between the markers of the file.
func replaceSection(path, body string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i < 0 || j < i {
		return fmt.Errorf("%s: markers %s … %s not found", path, beginMarker, endMarker)
	}
	out := s[:i+len(beginMarker)] + "\n" + body + s[j:]
	return os.WriteFile(path, []byte(out), 0o644)
}
