package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestCorpusFigures runs the whole pipeline with the built-in policy over
// the public corpora beside the repository (skipped when they are absent)
// and holds the measured figures: GTFOBins rows expecting deny are blocked
// at least 97% of the time, and the false-block rate on NL2Bash rows
// expecting allow does not rise above what was measured when the figure
// was last reviewed (docs/results.md explains the gap to the 1% goal).
func TestCorpusFigures(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus")
	gtfo := filepath.Join(dir, "gtfobins", "gtfobins_commands.jsonl")
	nl := filepath.Join(dir, "nl2bash", "nl2bash_commands.jsonl")
	if _, err := os.Stat(gtfo); err != nil {
		t.Skip("corpus not present:", err)
	}
	e := &env{ctx: context.Background(), stdin: nil, stdout: io.Discard, stderr: io.Discard}
	k, err := newKernel("", t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	run := func(file string) *EvalReport {
		cases, err := readCases(file)
		if err != nil {
			t.Fatal(err)
		}
		return evaluate(e, k, cases)
	}
	g := run(gtfo)
	deny := g.ByExpect["deny"]
	recall := float64(deny.Blocked) / float64(deny.Cases)
	t.Logf("GTFOBins deny rows blocked: %d/%d = %.2f%%", deny.Blocked, deny.Cases, 100*recall)
	if recall < 0.97 {
		t.Errorf("GTFOBins deny recall %.2f%% is below 97%%", 100*recall)
	}
	n := run(nl)
	t.Logf("NL2Bash allow rows falsely blocked: %d/%d = %.2f%%", n.FalseBlocked, n.ExpectAllow, 100*n.FalseBlockRate)
	if n.FalseBlockRate > 0.0170 {
		t.Errorf("NL2Bash false-block rate %.2f%% rose above the reviewed 1.70%%", 100*n.FalseBlockRate)
	}
	if n.BlockedRecall < 1 {
		t.Errorf("NL2Bash rows labelled confirm/deny: recall %.2f%%, was 100%%", 100*n.BlockedRecall)
	}
}
