package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bounds of Search and Show.
const (
	defaultSearch = 20
	maxSearch     = 1000
	maxQueryBytes = 1024
)

// Search finds this agent's memories, in every layer and scope, that
// contain all the words of text, best first, and counts each result as a
// retrieval (its retrieval heat rises). It is the operator's and the
// CLI's view; agents get InjectContext. limit ≤ 0 means 20; at most 1,000.
func (m *Memory) Search(ctx context.Context, text string, limit int) ([]Record, error) {
	if m.err != nil {
		return nil, m.err
	}
	if len(text) > maxQueryBytes {
		return nil, fmt.Errorf("%w: a query of %d bytes, at most %d", ErrTooLarge, len(text), maxQueryBytes)
	}
	words := queryWords(text, maxQueryWords+1)
	switch {
	case len(words) == 0:
		return nil, invalid("the query %q has no words", text)
	case len(words) > maxQueryWords:
		return nil, fmt.Errorf("%w: a query of more than %d words", ErrTooLarge, maxQueryWords)
	}
	if limit <= 0 {
		limit = defaultSearch
	}
	rs, err := m.store.SearchMemory(ctx, Query{Text: strings.Join(words, " "), Agent: m.opt.Agent, MaxLevel: -1, Limit: min(limit, maxSearch)})
	if err != nil {
		return nil, fmt.Errorf("memory: searching: %w", err)
	}
	if len(rs) == 0 {
		return rs, nil
	}
	ids := make([]string, len(rs))
	now := m.now()
	for i := range rs {
		ids[i] = rs[i].ID
		rs[i].Uses++
		rs[i].LastUsed = now
	}
	if err := m.store.TouchMemory(ctx, ids, now); err != nil {
		return nil, fmt.Errorf("memory: counting the retrieval: %w", err)
	}
	return rs, nil
}

// Show lists this agent's memories as q selects them (q.Agent is
// replaced by the Memory's agent), without counting a retrieval.
func (m *Memory) Show(ctx context.Context, q Query) ([]Record, error) {
	if m.err != nil {
		return nil, m.err
	}
	if len(q.Text) > maxQueryBytes {
		return nil, fmt.Errorf("%w: a query of %d bytes, at most %d", ErrTooLarge, len(q.Text), maxQueryBytes)
	}
	q.Agent = m.opt.Agent
	q.Limit = min(q.Limit, maxLimit)
	rs, err := m.store.SearchMemory(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("memory: listing: %w", err)
	}
	return rs, nil
}

// Forget deletes a memory of this agent; another agent's is ErrNotFound.
// With Options.Dir set, MEMORY.md is rewritten at once, so that the
// next session end does not read the memory back from it (unless the
// file is edited again with the memory in it).
func (m *Memory) Forget(ctx context.Context, id string) error {
	if m.err != nil {
		return m.err
	}
	if _, err := m.own(ctx, id); err != nil {
		return err
	}
	if err := m.store.DeleteMemory(ctx, id); err != nil {
		return err
	}
	if m.opt.Dir != "" {
		// Rewrite MEMORY.md now, so that the next session end does not
		// read the forgotten memory back from it.
		if err := m.writeMemoryFile(ctx); err != nil {
			return fmt.Errorf("memory: forgotten, but MEMORY.md still shows it: %w", err)
		}
	}
	return nil
}

// Export formats.
const (
	FormatJSONL    = "jsonl"
	FormatMarkdown = "markdown"
)

// Export writes every memory of this agent: FormatJSONL writes one Record
// per line (semantic first, then episodic, each oldest first);
// FormatMarkdown writes them per scope and kind for reading. Texts are
// already redacted.
func (m *Memory) Export(ctx context.Context, w io.Writer, format string) error {
	if m.err != nil {
		return m.err
	}
	if format != FormatJSONL && format != FormatMarkdown {
		return invalid("export format %q: use %q or %q", format, FormatJSONL, FormatMarkdown)
	}
	var recs []Record
	for _, layer := range []string{LayerSemantic, LayerEpisodic} {
		var part []Record
		err := m.each(ctx, Query{Layer: layer, Agent: m.opt.Agent, MaxLevel: -1}, func(r *Record) error {
			part = append(part, *r)
			return nil
		})
		if err != nil {
			return fmt.Errorf("memory: reading the %s layer: %w", layer, err)
		}
		slices.SortFunc(part, func(a, b Record) int {
			if c := a.Created.Compare(b.Created); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		recs = append(recs, part...)
	}
	if format == FormatJSONL {
		enc := json.NewEncoder(w)
		for i := range recs {
			if err := enc.Encode(&recs[i]); err != nil {
				return fmt.Errorf("memory: exporting: %w", err)
			}
		}
		return nil
	}
	return writeMarkdownExport(w, recs)
}

// writeMarkdownExport groups records by scope, layer and kind.
func writeMarkdownExport(w io.Writer, recs []Record) error {
	type group struct{ scope, layer, kind string }
	groups := map[group][]Record{}
	var keys []group
	for _, r := range recs {
		g := group{r.Scope, r.Layer, r.Kind}
		if _, ok := groups[g]; !ok {
			keys = append(keys, g)
		}
		groups[g] = append(groups[g], r)
	}
	slices.SortFunc(keys, func(a, b group) int {
		return strings.Compare(a.scope+"\x00"+a.layer+"\x00"+a.kind, b.scope+"\x00"+b.layer+"\x00"+b.kind)
	})
	var b strings.Builder
	b.WriteString("# Memory export\n")
	for i, g := range keys {
		if i == 0 || g.scope != keys[i-1].scope {
			b.WriteString("\n## Scope " + g.scope + "\n")
		}
		b.WriteString("\n### " + g.layer + " / " + g.kind + "\n\n")
		for _, r := range groups[g] {
			b.WriteString("- ")
			if !r.Source.Trusted {
				b.WriteString("(untrusted, " + sourceLabel(r.Source) + ") ")
			}
			if r.Key != "" {
				b.WriteString(r.Key + ": ")
			}
			b.WriteString(oneLine(r.Text))
			b.WriteString(" — " + r.Created.Format(time.DateOnly))
			if r.Layer == LayerSemantic && r.Kind == KindRule {
				b.WriteString(", confidence " + strconv.FormatFloat(r.Confidence, 'f', 2, 64))
			}
			b.WriteString("\n")
		}
		if b.Len() > 1<<20 {
			if _, err := io.WriteString(w, b.String()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Usage sizes the memory.
type Usage struct {
	// Records counts stored records by layer (every agent's), and Bytes
	// sums their text, as the store reports them.
	Records map[string]int `json:"records"`
	Bytes   int64          `json:"bytes"`
	// EpisodicCap is Options.MaxEpisodicBytes.
	EpisodicCap int64 `json:"episodic_cap"`
	// Sessions counts live working memories and WorkingTokens their
	// tokens.
	Sessions      int `json:"sessions"`
	WorkingTokens int `json:"working_tokens"`
}

// Stats sizes the memory.
func (m *Memory) Stats(ctx context.Context) (Usage, error) {
	if m.err != nil {
		return Usage{}, m.err
	}
	st, err := m.store.MemoryStats(ctx)
	if err != nil {
		return Usage{}, fmt.Errorf("memory: sizing the store: %w", err)
	}
	u := Usage{Records: st.Records, Bytes: st.Bytes, EpisodicCap: m.opt.MaxEpisodicBytes}
	m.mu.Lock()
	ws := make([]*Working, 0, len(m.sessions))
	for _, w := range m.sessions {
		ws = append(ws, w)
	}
	m.mu.Unlock()
	u.Sessions = len(ws)
	for _, w := range ws {
		used, _ := w.Tokens()
		u.WorkingTokens += used
	}
	return u, nil
}
