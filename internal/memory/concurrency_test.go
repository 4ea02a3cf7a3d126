package memory_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/memory"
)

// Sessions write, read, compact and end at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	const capBytes = 16 << 10
	m, _, s := newMem(t, memory.Options{MaxEpisodicBytes: capBytes, Dir: t.TempDir()})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			sess := fmt.Sprintf("s%d", g)
			for i := range 150 {
				w := m.Working(sess)
				w.SetTask(sentence(rng, 5))
				if err := w.AddMessage("user", sentence(rng, 12)); err != nil {
					errs <- err
				}
				src := memory.Source{Kind: memory.SourceAgent, Trusted: true, Session: sess}
				if _, err := m.Remember(ctx, memory.Event{Type: memory.EventTask, Text: paragraph(rng, 3), Source: src}); err != nil {
					errs <- err
				}
				if _, err := m.AddRule(ctx, src, fmt.Sprintf("rule %d", i%10)); err != nil {
					errs <- err
				}
				if _, err := m.InjectContext(ctx, sess, 300); err != nil {
					errs <- err
				}
				if _, err := m.Search(ctx, words[i%len(words)], 5); err != nil {
					errs <- err
				}
				if i%50 == 49 {
					if err := m.EndSession(ctx, sess); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	must(m.Compact(ctx))
	rules := must(m.Show(ctx, memory.Query{Kind: memory.KindRule, MaxLevel: -1}))
	confirmations := 0
	for _, r := range rules {
		confirmations += r.Confirmations
	}
	if len(rules) != 10 || confirmations != 4*150-10 {
		t.Errorf("%d rules with %d confirmations; want 10 with %d (every restatement counted once)", len(rules), confirmations, 4*150-10)
	}
	st := must(s.MemoryStats(ctx))
	episodic := st.Bytes
	for _, r := range rules {
		episodic -= int64(len(r.Text))
	}
	if episodic > capBytes {
		t.Errorf("episodic layer at %d bytes after Compact, cap %d", episodic, capBytes)
	}
}
