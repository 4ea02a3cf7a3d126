package escape

import (
	"github.com/sentinel-agent/sentinel/internal/sandbox"

	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

var tableFile = flag.String("escape.table", "", "also write the escape suite's markdown table to this file")

func TestMain(m *testing.M) {
	// Sentinel's runner re-executes this binary as the sandbox's stages.
	sandbox.Main()
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	// The helpers are built once for every test and benchmark. Without
	// root nothing uses them (requireWorld skips), so none are built.
	if os.Geteuid() == 0 {
		if err := sweepStaleNamespaces(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "escape: removing namespaces of dead test runs:", err)
		}
		cleanup, err := setupTools(context.Background(), baseDir(), "testdata/probe")
		if err != nil {
			fmt.Fprintln(os.Stderr, "escape:", err)
			return 1
		}
		defer cleanup()
	}
	return m.Run()
}

func inCI() bool { return os.Getenv("CI") == "true" }

// requireWorld skips unless the machine can build an Env: root, and the
// ip tool for the second network namespace (a missing tool fails in CI).
func requireWorld(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("the escape suite needs root: network namespaces, veth pairs and a setuid helper")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		if inCI() {
			tb.Fatalf("the escape suite needs the ip tool (Debian: iproute2): %v", err)
		}
		tb.Skip("the escape suite needs the ip tool (Debian: iproute2)")
	}
}

// availableRunners returns the runners that can run here. In CI a missing
// runner is a failure; elsewhere it is skipped with the reason.
func availableRunners(tb testing.TB) []Runner {
	tb.Helper()
	var rs []Runner
	for _, r := range runners() {
		if err := r.Available(); err != nil {
			if inCI() {
				tb.Errorf("runner %s is not available in CI: %v", r.Name(), err)
			} else {
				tb.Logf("skipping runner %s: %v", r.Name(), err)
			}
			continue
		}
		rs = append(rs, r)
	}
	return rs
}

// TestEscapeSuite runs every case under every available runner, each in a
// fresh Env, and prints the table (with -v, or to -escape.table). The
// control must let every attack but the resource limits through; runners in
// mustBlockAll must block every one; srt is recorded, not judged.
func TestEscapeSuite(t *testing.T) {
	requireWorld(t)
	rs := availableRunners(t)
	var names []string
	for _, r := range rs {
		names = append(names, r.Name())
	}
	cs := cases()
	tab := newTable(cs, names)
	for _, r := range rs {
		for _, c := range cs {
			t.Run(r.Name()+"/"+c.Name, func(t *testing.T) {
				env := NewEnv(t)
				o := runCase(t.Context(), r, env, c)
				tab.set(c.Name, r.Name(), o)
				t.Logf("escaped=%v exit=%d killed=%v in %v: %s", o.Escaped, o.Result.Exit, o.Result.Killed,
					o.Result.Duration.Round(time.Millisecond), o.Detail)
				if o.Err != nil {
					t.Fatalf("runner %s could not run the case: %v", r.Name(), o.Err)
				}
				judge(t, r.Name(), c, o)
			})
		}
	}
	md := tab.markdown()
	if testing.Verbose() {
		fmt.Printf("\n%s\n", md)
	}
	if *tableFile != "" {
		if err := os.WriteFile(*tableFile, []byte(md), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// judge asserts what a runner must do with a case.
func judge(t *testing.T, runner string, c Case, o outcome) {
	t.Helper()
	switch {
	case runner == "direct" && c.Layer == LayerBaseline && !o.Escaped:
		t.Errorf("the control cannot do what the profile allows, so the case is broken: %s", o.Detail)
	case runner == "direct" && c.Layer != LayerLimits && !o.Escaped:
		t.Errorf("the control did not escape, so this case cannot detect an escape: %s", o.Detail)
	case mustBlockAll[runner] && c.Layer == LayerBaseline && !o.Escaped:
		t.Errorf("%s refuses what the profile allows: %s", runner, o.Detail)
	case mustBlockAll[runner] && c.Layer != LayerBaseline && o.Escaped:
		t.Errorf("escaped from %s: %s", runner, o.Detail)
	}
}

// TestCaseNamesUnique keeps the table's rows addressable.
func TestCaseNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	layers := []string{LayerBaseline, LayerFilesystem, LayerNetwork, LayerProcess, LayerPrivilege, LayerKernel, LayerLimits}
	for _, c := range cases() {
		if seen[c.Name] {
			t.Errorf("case %q appears twice", c.Name)
		}
		seen[c.Name] = true
		if !slices.Contains(layers, c.Layer) {
			t.Errorf("case %q has unknown layer %q", c.Name, c.Layer)
		}
		if c.Script == nil || c.Escaped == nil {
			t.Errorf("case %q lacks a script or a judge", c.Name)
		}
	}
	if len(seen) < 20 {
		t.Errorf("only %d cases; the suite has lost some", len(seen))
	}
}

// BenchmarkStartup runs `true` under each runner in the same process, so
// that the per-run overhead of each sandbox can be read as a ratio to the
// direct control. Run with -benchtime=100x for 100 runs each.
func BenchmarkStartup(b *testing.B) {
	requireWorld(b)
	env := NewEnv(b)
	p50 := map[string]time.Duration{}
	for _, r := range availableRunners(b) {
		b.Run(r.Name(), func(b *testing.B) {
			var runs []time.Duration
			for b.Loop() {
				ctx, cancel := context.WithTimeout(b.Context(), DefaultLimits.WallTime+hardGrace)
				start := time.Now()
				res, err := r.Run(ctx, env, DefaultLimits, "true")
				took := time.Since(start)
				cancel()
				if err != nil || res.Exit != 0 {
					b.Fatalf("%s: true failed: err=%v exit=%d stderr=%s", r.Name(), err, res.Exit, res.Stderr)
				}
				runs = append(runs, took)
			}
			st := summarize(runs)
			b.ReportMetric(ms(st.p50), "ms-p50/run")
			b.ReportMetric(ms(st.mean), "ms-mean/run")
			if base, ok := p50["direct"]; ok && r.Name() != "direct" && base > 0 {
				b.ReportMetric(float64(st.p50)/float64(base), "x-direct-p50")
			}
			p50[r.Name()] = st.p50
		})
	}
}

type stats struct{ p50, mean time.Duration }

func summarize(runs []time.Duration) stats {
	if len(runs) == 0 {
		return stats{}
	}
	sorted := slices.Clone(runs)
	slices.Sort(sorted)
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	return stats{p50: sorted[len(sorted)/2], mean: sum / time.Duration(len(sorted))}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
