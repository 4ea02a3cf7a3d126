package memory

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Kinds of semantic memory.
const (
	KindPreference = "preference"
	KindFact       = "fact"
	KindRule       = "rule"
	KindProject    = "project"
	KindGlossary   = "glossary"
)

// keyed reports whether a kind is one memory per subject (Key): setting
// it again replaces the text. Facts and rules are one memory per text:
// stating them again confirms them.
func keyed(kind string) bool {
	return kind == KindPreference || kind == KindProject || kind == KindGlossary
}

// confidenceBase is the confidence of a semantic memory confirmed n times
// after it was first stated:
//
//	c₀(n) = 1 − 0.5·0.7ⁿ        (0.50, 0.65, 0.76, 0.83, …)
func confidenceBase(n int) float64 { return 1 - 0.5*math.Pow(0.7, float64(max(n, 0))) }

// liveConfidence is a memory's confidence now: a rule loses half of it
// per RuleHalfLife without a confirmation,
//
//	c(t) = c₀(n) · 2^(−(t − last confirmation)/RuleHalfLife)
//
// and other kinds keep c₀(n). The last confirmation is Record.Updated.
func (m *Memory) liveConfidence(r *Record, now time.Time) float64 {
	if r.Kind != KindRule {
		return r.Confidence
	}
	return r.Confidence * decay(now.Sub(r.Updated), m.opt.RuleHalfLife)
}

// sourceImportance is a semantic memory's stored importance: how much its
// source is to be believed, halved when it is untrusted.
func sourceImportance(s Source) float64 {
	w := map[string]float64{SourceUser: 0.9, SourceImport: 0.8, SourceAgent: 0.6, SourceTool: 0.4}[s.Kind]
	if !s.Trusted {
		w /= 2
	}
	return w
}

// writeResult says what a semantic write did.
type writeResult int

const (
	resultAdded writeResult = iota
	resultUpdated
	resultConfirmed
	resultUnchanged
)

// semanticWrite is one write to the semantic layer.
type semanticWrite struct {
	kind, key, text string
	src             Source
	multiLine       bool
	// confirm: stating an existing fact or rule again counts as a
	// confirmation (false for imports, which must be idempotent).
	confirm bool
}

// SetPreference records a user preference (language, tone, tools);
// setting it again replaces the value.
func (m *Memory) SetPreference(ctx context.Context, src Source, key, value string) (Record, error) {
	r, _, err := m.putSemantic(ctx, semanticWrite{kind: KindPreference, key: key, text: value, src: src, confirm: true})
	return r, err
}

// AddFact records a fact about the user or the environment; adding the
// same fact again confirms it.
func (m *Memory) AddFact(ctx context.Context, src Source, text string) (Record, error) {
	r, _, err := m.putSemantic(ctx, semanticWrite{kind: KindFact, text: text, src: src, confirm: true})
	return r, err
}

// AddRule records a learned rule ("run the tests before a commit") at
// confidence c₀(0) = 0.5; adding it again from a trusted source confirms
// it (see Confirm).
func (m *Memory) AddRule(ctx context.Context, src Source, text string) (Record, error) {
	r, _, err := m.putSemantic(ctx, semanticWrite{kind: KindRule, text: text, src: src, confirm: true})
	return r, err
}

// SetProject records a project's context (what it is, where it stands);
// lines are kept. Setting it again replaces the context.
func (m *Memory) SetProject(ctx context.Context, src Source, name, context string) (Record, error) {
	r, _, err := m.putSemantic(ctx, semanticWrite{kind: KindProject, key: name, text: context, src: src, multiLine: true, confirm: true})
	return r, err
}

// Define records what a term means in the user's world (the glossary).
func (m *Memory) Define(ctx context.Context, src Source, term, meaning string) (Record, error) {
	r, _, err := m.putSemantic(ctx, semanticWrite{kind: KindGlossary, key: term, text: meaning, src: src, confirm: true})
	return r, err
}

// Confirm counts one more confirmation of a semantic memory (a rule that
// held again, a fact the user repeated): its confidence rises to c₀(n+1)
// and its decay restarts from now.
func (m *Memory) Confirm(ctx context.Context, id string) (Record, error) {
	if m.err != nil {
		return Record{}, m.err
	}
	m.semanticMu.Lock()
	defer m.semanticMu.Unlock()
	r, err := m.own(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if r.Layer != LayerSemantic {
		return Record{}, invalid("record %s is %s memory; only semantic memories are confirmed", id, r.Layer)
	}
	confirmRecord(&r, m.now())
	if err := m.store.PutMemory(ctx, r); err != nil {
		return Record{}, fmt.Errorf("memory: confirming %s: %w", id, err)
	}
	return r, nil
}

func confirmRecord(r *Record, now time.Time) {
	r.Confirmations++
	r.Confidence = confidenceBase(r.Confirmations)
	r.Updated = now
}

// own returns the record id if this Memory's agent owns it; another
// agent's record is reported missing.
func (m *Memory) own(ctx context.Context, id string) (Record, error) {
	r, err := m.store.GetMemory(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if r.Agent != m.opt.Agent {
		return Record{}, notFound(id)
	}
	return r, nil
}

// putSemantic validates, scans and stores a semantic write. Untrusted or
// flagged writes never replace a trusted memory and never raise a
// memory's confidence.
func (m *Memory) putSemantic(ctx context.Context, w semanticWrite) (Record, writeResult, error) {
	if m.err != nil {
		return Record{}, 0, m.err
	}
	if err := checkSource(w.src); err != nil {
		return Record{}, 0, err
	}
	scope, err := m.sourceScope(w.src)
	if err != nil {
		return Record{}, 0, err
	}
	if keyed(w.kind) {
		if w.key, err = m.scanKey(w.kind+" name", w.key); err != nil {
			return Record{}, 0, err
		}
	} else {
		w.key = ""
	}
	s, err := m.scan(w.kind, w.text, m.opt.MaxTextBytes, w.multiLine)
	if err != nil {
		return Record{}, 0, err
	}
	if keyed(w.kind) && !s.flagged {
		// The subject is shown with the value: check them together.
		s.flagged, s.reason = m.flaggedBy(w.key + ": " + s.text)
	}
	trusted := w.src.Trusted && !s.flagged
	w.src.Trusted = trusted
	subject := w.key
	if !keyed(w.kind) {
		subject = strings.ToLower(s.text)
	}
	id := recordID("s", m.opt.Agent, scope, w.kind, subject)
	m.semanticMu.Lock()
	defer m.semanticMu.Unlock()
	now := m.now()

	old, err := m.store.GetMemory(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		if err := m.checkSemanticRoom(ctx); err != nil {
			return Record{}, 0, err
		}
		r := Record{
			ID: id, Layer: LayerSemantic, Kind: w.kind, Scope: scope, Agent: m.opt.Agent,
			Session: w.src.Session, Key: w.key, Text: s.text, Importance: sourceImportance(w.src),
			Confidence: confidenceBase(0), Source: w.src, Created: now, Updated: now,
		}
		if err := m.store.PutMemory(ctx, r); err != nil {
			return Record{}, 0, fmt.Errorf("memory: storing the %s: %w", w.kind, err)
		}
		return r, resultAdded, nil
	case err != nil:
		return Record{}, 0, fmt.Errorf("memory: reading the %s: %w", w.kind, err)
	}

	r := old
	result := resultUnchanged
	switch {
	case !trusted && old.Source.Trusted:
		if keyed(w.kind) && old.Text != s.text {
			return Record{}, 0, fmt.Errorf("%w: the %s %q was set by a trusted source", ErrUntrustedOverwrite, w.kind, w.key)
		}
		return old, resultUnchanged, nil // an echo of a trusted memory: no confirmation
	case !trusted:
		if old.Text == s.text {
			return old, resultUnchanged, nil
		}
		r.Text, r.Source, r.Updated, r.Importance = s.text, w.src, now, sourceImportance(w.src)
		r.Confirmations, r.Confidence = 0, confidenceBase(0)
		result = resultUpdated
	case old.Text != s.text:
		// A trusted source states something new for the subject.
		r.Text, r.Source, r.Updated, r.Importance = s.text, w.src, now, sourceImportance(w.src)
		r.Confirmations, r.Confidence = 0, confidenceBase(0)
		result = resultUpdated
	case !old.Source.Trusted:
		// A trusted source vouches for what was untrusted.
		r.Source, r.Importance, r.Updated = w.src, sourceImportance(w.src), now
		result = resultUpdated
	case w.confirm:
		confirmRecord(&r, now)
		result = resultConfirmed
	default:
		return old, resultUnchanged, nil
	}
	if err := m.store.PutMemory(ctx, r); err != nil {
		return Record{}, 0, fmt.Errorf("memory: storing the %s: %w", w.kind, err)
	}
	return r, result, nil
}

// checkSemanticRoom refuses a new semantic memory beyond the configured
// count.
func (m *Memory) checkSemanticRoom(ctx context.Context) error {
	st, err := m.store.MemoryStats(ctx)
	if err != nil {
		return fmt.Errorf("memory: sizing the store: %w", err)
	}
	if n := st.Records[LayerSemantic]; n >= m.opt.MaxSemanticRecords {
		return fmt.Errorf("%w: %d semantic memories, the configured maximum (MaxSemanticRecords); forget some first", ErrLimit, n)
	}
	return nil
}
