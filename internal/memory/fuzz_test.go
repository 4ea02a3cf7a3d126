package memory_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/memory"
)

// FuzzImportMarkdown: any file imports without panicking, within its
// bounds, and importing it again adds nothing.
func FuzzImportMarkdown(f *testing.F) {
	f.Add(seedMemoryMD)
	f.Add("## 📦 Projects\n### a\n- x\n### b\n| k | v |\n|---|---|\n| 1 | 2 |\n")
	f.Add("## ⚙️ Preferences\n- a: 1\n- a: 2\n- : empty\n- b — c\n")
	f.Add("## 💡 Decisions\n- 2024-02-30: bad date\n- 2024-02-03:\n- **2024-01-01** — ok\n")
	f.Add("<!-- ## 👤 Facts\n- hidden -->\n## 👤 Facts\n```\n- fenced\n")
	f.Add("## 🤖 Rules\n-\n- [ ]\n  continuation\n|\n||\n|-|\n")
	f.Fuzz(func(t *testing.T, md string) {
		m, _, s := newMem(t, memory.Options{})
		ctx := context.Background()
		rep, err := m.ImportMarkdown(ctx, strings.NewReader(md))
		if err != nil {
			if memory.Code(err) == "" {
				t.Fatalf("an import failed without a code: %v", err)
			}
			return
		}
		if rep.Added < 0 || len(rep.Problems) > 20 || rep.Skipped < len(rep.Problems) {
			t.Fatalf("report %+v", rep)
		}
		before := must(s.MemoryStats(ctx))
		again := must(m.ImportMarkdown(ctx, strings.NewReader(md)))
		after := must(s.MemoryStats(ctx))
		if again.Added != 0 || after.Records[memory.LayerSemantic] != before.Records[memory.LayerSemantic] ||
			after.Records[memory.LayerEpisodic] != before.Records[memory.LayerEpisodic] {
			t.Fatalf("re-import added memories: %+v, %+v → %+v", again, before, after)
		}
	})
}
