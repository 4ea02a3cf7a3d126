package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/request"
	"github.com/sentinel-agent/sentinel/internal/snapshot"
)

// benchPrePost measures what the pipeline adds to one call that changes
// files: the snapshot before it and the verification after it (the
// changed check against the snapshot), with the call itself a rewrite of
// every file.
func benchPrePost(b *testing.B, files, size int) {
	st, err := snapshot.Open(filepath.Join(b.TempDir(), "snapshots"), snapshot.Options{NoGit: true})
	if err != nil {
		b.Fatal(err)
	}
	p := New(Options{Snapshots: st, Recorder: &memRecorder{}, RollbackRisk: -1})
	ws, err := filepath.EvalSymlinks(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	a := &analysis.Analysis{}
	data := make([]byte, size)
	for i := range files {
		f := filepath.Join(ws, fmt.Sprintf("f%03d.txt", i))
		for j := range data {
			data[j] = byte('a' + (i+j)%26)
		}
		if err := os.WriteFile(f, data, 0o600); err != nil {
			b.Fatal(err)
		}
		a.Paths = append(a.Paths, analysis.PathRef{Path: f, Op: analysis.OpWrite})
	}
	c := &request.ToolCall{Tool: "Bash", Kind: request.KindExec}
	ctx := context.Background()
	b.SetBytes(int64(files * size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("d_%d", i)
		snap, err := p.Pre(ctx, id, ws, c, a)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		// The call: every file gets new content.
		for j, pr := range a.Paths {
			data[0] = byte(i + j)
			if err := os.WriteFile(pr.Path, data, 0o600); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		cl := ClaimFor(c, a, ws, "", true, snap)
		for _, pr := range a.Paths {
			cl.Modified = append(cl.Modified, pr.Path)
		}
		cl.LintFiles = []string{} // the changed check only: linters are the project's own cost
		if _, err := p.Post(ctx, decision.Decision{DecisionID: id}, audit.Event{}, snap, cl); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPrePost1MB(b *testing.B)      { benchPrePost(b, 1, 1<<20) }
func BenchmarkPrePost100Small(b *testing.B) { benchPrePost(b, 100, 1<<10) }
