package memory_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/memory"
)

// words is the vocabulary of the simulated events.
var words = strings.Fields(`deploy build test lint review merge branch commit release rollback
database migration schema index query cache proxy gateway token session user agent policy
gate sandbox network file path shell command output error timeout retry latency memory disk
cpu container image registry package version changelog config secret vault audit alert
metric dashboard incident fix patch refactor module function interface store backend`)

func sentence(rng *rand.Rand, n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = words[rng.IntN(len(words))]
	}
	ws[0] = strings.ToUpper(ws[0][:1]) + ws[0][1:]
	return strings.Join(ws, " ") + "."
}

func paragraph(rng *rand.Rand, sentences int) string {
	var b strings.Builder
	for i := range sentences {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(sentence(rng, 6+rng.IntN(10)))
	}
	return b.String()
}

// A year of an agent's life at a realistic rate keeps the episodic layer
// under its cap, and keeps what matters.
func TestYearOfEventsStaysUnderCapKeepingImportantOnes(t *testing.T) {
	const capBytes = 64 << 10
	m, c, s := newMem(t, memory.Options{MaxEpisodicBytes: capBytes})
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	type born struct {
		id  string
		day int
	}
	var high, low []born
	for day := range 365 {
		c.Advance(24 * time.Hour)
		sess := fmt.Sprintf("day%d", day)
		w := m.Working(sess)
		w.SetTask(sentence(rng, 6))
		for i := range 20 {
			c.Advance(20 * time.Minute)
			ev := memory.Event{Source: memory.Source{Kind: memory.SourceAgent, Trusted: true, Session: sess}}
			switch {
			case i == 0 && day%14 == 0:
				ev.Type, ev.Outcome, ev.Risk = memory.EventMilestone, memory.OutcomeFailure, 0.9
				ev.Text = fmt.Sprintf("HIGH-%d: production release failed. ", day) + paragraph(rng, 3)
			case i%5 == 1:
				ev.Type, ev.Outcome, ev.Risk = memory.EventTask, memory.OutcomeSuccess, 0.2
				ev.Text = paragraph(rng, 3)
			case i == 7:
				ev.Type, ev.Outcome, ev.Risk = memory.EventDecision, memory.OutcomeSuccess, 0.4
				ev.Text = paragraph(rng, 2)
			default:
				ev.Type, ev.Outcome, ev.Risk = memory.EventToolCall, memory.OutcomeSuccess, 0
				ev.Text = "LOW: " + paragraph(rng, 2+rng.IntN(4))
			}
			r, err := m.Remember(ctx, ev)
			if err != nil {
				t.Fatalf("day %d: %v", day, err)
			}
			switch {
			case strings.HasPrefix(ev.Text, "HIGH"):
				high = append(high, born{r.ID, day})
			case strings.HasPrefix(ev.Text, "LOW"):
				low = append(low, born{r.ID, day})
			}
			if i%4 == 0 {
				if err := w.AddMessage("assistant", sentence(rng, 10)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := m.EndSession(ctx, sess); err != nil {
			t.Fatalf("day %d: EndSession: %v", day, err)
		}
		if st := must(s.MemoryStats(ctx)); st.Bytes > capBytes {
			t.Fatalf("day %d: the episodic layer holds %d bytes, over the cap of %d", day, st.Bytes, capBytes)
		}
	}
	for _, h := range high {
		r, err := s.GetMemory(ctx, h.id)
		if err != nil {
			t.Errorf("the milestone of day %d was forgotten", h.day)
			continue
		}
		if r.Level > memory.LevelSummary {
			t.Errorf("the milestone of day %d was compressed to level %d", h.day, r.Level)
		}
	}
	keptLow, fullOldLow := 0, 0
	for _, l := range low {
		r, err := s.GetMemory(ctx, l.id)
		if err != nil {
			continue
		}
		keptLow++
		if r.Level == memory.LevelFull && l.day < 365-7 {
			fullOldLow++
		}
	}
	if fullOldLow > 0 {
		t.Errorf("%d unimportant tool calls older than a week are still in full", fullOldLow)
	}
	if keptLow*20 > len(low) {
		t.Errorf("%d of %d unimportant tool calls kept, want under 5%%", keptLow, len(low))
	}
	t.Logf("%d milestones kept; %d of %d tool calls kept", len(high), keptLow, len(low))
}

func TestCompactCompressesLeastImportantFirst(t *testing.T) {
	m, c, s := newMem(t, memory.Options{MaxEpisodicBytes: 1 << 20})
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	var lowIDs, highIDs []string
	for i := range 40 {
		c.Advance(time.Minute)
		typ, outcome, risk := memory.EventToolCall, memory.OutcomeSuccess, 0.0
		if i%2 == 0 {
			typ, outcome, risk = memory.EventMilestone, memory.OutcomeFailure, 1
		}
		r := must(m.Remember(ctx, memory.Event{Type: typ, Outcome: outcome, Risk: risk, Text: paragraph(rng, 6), Source: agent}))
		if i%2 == 0 {
			highIDs = append(highIDs, r.ID)
		} else {
			lowIDs = append(lowIDs, r.ID)
		}
	}
	before := must(s.MemoryStats(ctx)).Bytes
	// Nothing to do under the cap.
	if rep := must(m.Compact(ctx)); rep.Summarized+rep.OneLined+rep.Forgotten != 0 || rep.Before != before || rep.Records != 40 {
		t.Errorf("Compact under the cap: %+v", rep)
	}
	// A cap a little over half the layer: only unimportant records change.
	m2 := memory.New(s, memory.Options{Now: c.Now, MaxEpisodicBytes: before * 6 / 10})
	rep := must(m2.Compact(ctx))
	after := must(s.MemoryStats(ctx)).Bytes
	if after > before*6/10*9/10 || rep.After != after || rep.Before != before {
		t.Errorf("after Compact: %d bytes (report %+v), want at most %d", after, rep, before*6/10*9/10)
	}
	for _, id := range highIDs {
		if r := must(s.GetMemory(ctx, id)); r.Level != memory.LevelFull {
			t.Errorf("an important record was compressed to level %d while unimportant ones remained", r.Level)
		}
	}
	changed := 0
	for _, id := range lowIDs {
		if r, err := s.GetMemory(ctx, id); err != nil || r.Level > memory.LevelFull {
			changed++
		}
	}
	if changed == 0 || rep.Summarized == 0 {
		t.Errorf("no unimportant record was compressed: %+v", rep)
	}
	// Compressed records keep a shorter text, never an empty one.
	for _, id := range lowIDs {
		if r, err := s.GetMemory(ctx, id); err == nil && (r.Text == "" || r.Level == memory.LevelOneLine && len(r.Text) > 120) {
			t.Errorf("level %d record with text %q", r.Level, r.Text)
		}
	}
}

func TestSearchHeatProtectsFromCompaction(t *testing.T) {
	m, c, s := newMem(t, memory.Options{MaxEpisodicBytes: 1 << 20})
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	var ids []string
	for i := range 10 {
		c.Advance(time.Minute)
		text := paragraph(rng, 6)
		if i == 0 {
			text = "The flaky zeppelin test needs a retry. " + text
		}
		ids = append(ids, must(m.Remember(ctx, memory.Event{Type: memory.EventToolCall, Text: text, Source: agent})).ID)
	}
	// The oldest event is retrieved often: its heat outweighs its age.
	for range 8 {
		must(m.Search(ctx, "zeppelin", 5))
	}
	before := must(s.MemoryStats(ctx)).Bytes
	must(memory.New(s, memory.Options{Now: c.Now, MaxEpisodicBytes: before / 2}).Compact(ctx))
	if r := must(s.GetMemory(ctx, ids[0])); r.Level != memory.LevelFull {
		t.Errorf("a frequently retrieved event was compressed to level %d", r.Level)
	}
}

func TestExportPagesPastTheQueryLimit(t *testing.T) {
	m, c, s := newMem(t, memory.Options{})
	ctx := context.Background()
	base := c.Now()
	for i := range 12345 {
		if err := s.PutMemory(ctx, memory.Record{ID: fmt.Sprintf("e%05d", i), Layer: memory.LayerEpisodic, Kind: memory.EventTask,
			Scope: "main", Agent: "default", Text: "t", Importance: 0.5, Source: agent,
			Created: base.Add(-time.Duration(i) * time.Second), Updated: base}); err != nil {
			t.Fatal(err)
		}
	}
	must(m.AddFact(ctx, user, "one fact"))
	var b strings.Builder
	if err := m.Export(ctx, &b, memory.FormatJSONL); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 12346 {
		t.Fatalf("exported %d records, want 12346", len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if seen[l] {
			t.Fatalf("exported twice: %s", l)
		}
		seen[l] = true
	}
	if !strings.Contains(lines[0], `"one fact"`) {
		t.Errorf("semantic memories come first: %s", lines[0])
	}
	var md strings.Builder
	if err := m.Export(ctx, &md, memory.FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "## Scope main") || strings.Count(md.String(), "\n- ") != 12346 {
		t.Errorf("markdown export has %d items", strings.Count(md.String(), "\n- "))
	}
	wantCode(t, m.Export(ctx, &md, "xml"), "memory.invalid")
}
