package memory

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The nine episodic event types.
const (
	EventSession    = "session"    // a session's summary, written by EndSession
	EventTask       = "task"       // a task started, finished or abandoned
	EventDecision   = "decision"   // a choice and its reason
	EventToolCall   = "tool_call"  // a tool call worth remembering and its result
	EventError      = "error"      // something failed
	EventCorrection = "correction" // the user corrected the agent
	EventFeedback   = "feedback"   // the user's reaction, explicit or implicit
	EventLesson     = "lesson"     // something learned for next time
	EventMilestone  = "milestone"  // a release, a deploy, a goal reached
)

// typeWeight is T in the importance formula: how much an event of each
// type usually matters later.
var typeWeight = map[string]float64{
	EventMilestone:  0.9,
	EventDecision:   0.8,
	EventLesson:     0.8,
	EventCorrection: 0.8,
	EventError:      0.7,
	EventFeedback:   0.6,
	EventTask:       0.5,
	EventSession:    0.5,
	EventToolCall:   0.2,
}

// Outcomes of an event; failures weigh most because they teach most.
const (
	OutcomeSuccess = "success"
	OutcomePartial = "partial"
	OutcomeFailure = "failure"
)

// outcomeWeight is O in the importance formula ("" is unknown).
var outcomeWeight = map[string]float64{
	OutcomeFailure: 1.0,
	OutcomePartial: 0.7,
	"":             0.5,
	OutcomeSuccess: 0.4,
}

// Source kinds.
const (
	SourceUser   = "user"
	SourceAgent  = "agent"
	SourceTool   = "tool"
	SourceImport = "import"
)

// Event is something that happened, for the episodic layer.
type Event struct {
	// Type is one of the nine Event* types.
	Type string
	// Text says what happened; secrets are redacted and it is cut to
	// Options.MaxTextBytes.
	Text string
	// Outcome is OutcomeSuccess, OutcomePartial, OutcomeFailure or "".
	Outcome string
	// Risk is the risk score of the call involved, in [0,1].
	Risk float64
	// Time is when it happened; zero is now.
	Time time.Time
	// Source is who reports it; Source.Session ties it to a session and
	// through it to the session's scope.
	Source Source
}

// baseImportance is the part of an event's importance fixed when it
// happens, stored as Record.Importance:
//
//	B = 0.45·T + 0.25·O + 0.30·R
func baseImportance(typ, outcome string, risk float64) float64 {
	return clamp01(0.45*typeWeight[typ] + 0.25*outcomeWeight[outcome] + 0.30*risk)
}

// liveImportance adds what changes with time to an episodic record's
// stored importance B:
//
//	I = 0.70·B + 0.15·2^(−age/RecencyHalfLife) + 0.15·heat
func (m *Memory) liveImportance(r *Record, now time.Time) float64 {
	return clamp01(0.70*r.Importance + 0.15*decay(now.Sub(r.Created), m.opt.RecencyHalfLife) + 0.15*m.heat(r, now))
}

// heat is the retrieval heat of a record: how often and how lately it was
// found by a search,
//
//	heat = (1 − 2^(−uses/4)) · 2^(−(now − lastUsed)/HeatHalfLife)
func (m *Memory) heat(r *Record, now time.Time) float64 {
	if r.Uses <= 0 || r.LastUsed.IsZero() {
		return 0
	}
	return (1 - math.Exp2(-float64(r.Uses)/4)) * decay(now.Sub(r.LastUsed), m.opt.HeatHalfLife)
}

// decay is 2^(−age/halfLife), 1 for a non-positive age.
func decay(age, halfLife time.Duration) float64 {
	if age <= 0 {
		return 1
	}
	return math.Exp2(-float64(age) / float64(halfLife))
}

func clamp01(x float64) float64 { return min(max(x, 0), 1) }

// checkSource validates a memory's provenance.
func checkSource(s Source) error {
	switch s.Kind {
	case SourceUser, SourceAgent, SourceTool, SourceImport:
	case "":
		return invalid("the source kind is empty: say who this comes from (%s, %s, %s or %s)", SourceUser, SourceAgent, SourceTool, SourceImport)
	default:
		return invalid("source kind %q: use %s, %s, %s or %s", s.Kind, SourceUser, SourceAgent, SourceTool, SourceImport)
	}
	if len(s.Tool) > maxKeyBytes || len(s.Session) > maxKeyBytes || len(s.DecisionID) > maxKeyBytes {
		return fmt.Errorf("%w: source tool, session or decision id longer than %d bytes", ErrTooLarge, maxKeyBytes)
	}
	return nil
}

// Remember records an event in the episodic layer and returns the stored
// record. The text is scanned: secrets are redacted (a text that is only
// a secret is refused) and text the injection check flags is stored as
// untrusted. When the layer outgrows Options.MaxEpisodicBytes, Remember
// runs Compact.
func (m *Memory) Remember(ctx context.Context, ev Event) (Record, error) {
	if m.err != nil {
		return Record{}, m.err
	}
	scope, err := m.sourceScope(ev.Source)
	if err != nil {
		return Record{}, err
	}
	return m.remember(ctx, "", ev, scope, true)
}

// remember stores ev in scope, under id or, when id is "", under an ID
// derived from the event; autoCompact runs Compact when the layer has
// outgrown its cap.
func (m *Memory) remember(ctx context.Context, id string, ev Event, scope string, autoCompact bool) (Record, error) {
	if _, ok := typeWeight[ev.Type]; !ok {
		return Record{}, invalid("event type %q: use one of session, task, decision, tool_call, error, correction, feedback, lesson, milestone", ev.Type)
	}
	if _, ok := outcomeWeight[ev.Outcome]; !ok {
		return Record{}, invalid("outcome %q: use %s, %s, %s or leave it empty", ev.Outcome, OutcomeSuccess, OutcomePartial, OutcomeFailure)
	}
	if math.IsNaN(ev.Risk) || ev.Risk < 0 || ev.Risk > 1 {
		return Record{}, invalid("risk %v: must be in [0,1]", ev.Risk)
	}
	if err := checkSource(ev.Source); err != nil {
		return Record{}, err
	}
	now := m.now()
	at := ev.Time
	if at.IsZero() {
		at = now
	}
	if at.Before(epoch) || at.After(now.Add(24*time.Hour)) {
		return Record{}, invalid("event time %s: must be after 1970 and not in the future", at.Format(time.RFC3339))
	}
	s, err := m.scan("event text", ev.Text, m.opt.MaxTextBytes, true)
	if err != nil {
		return Record{}, err
	}
	r := m.episodicRecord(ev.Type, scope, s, ev.Source, baseImportance(ev.Type, ev.Outcome, ev.Risk), at, now)
	r.ID = id
	if r.ID == "" {
		r.ID = recordID("e", m.opt.Agent, scope, ev.Type, s.text, strconv.FormatInt(at.UnixNano(), 10))
	}
	if err := m.store.PutMemory(ctx, r); err != nil {
		return Record{}, fmt.Errorf("memory: storing the event: %w", err)
	}
	if m.noteWritten(recordBytes(&r)) && autoCompact {
		if _, err := m.Compact(ctx); err != nil {
			m.opt.Logger.Warn("memory: compacting after a write failed", "err", err)
		}
	}
	return r, nil
}

// epoch is the earliest time a memory may carry (stores and the
// enumeration in compact.go rely on it).
var epoch = time.Unix(0, 0)

// episodicRecord builds an episodic record at full level from scanned
// text, with its summary and gist ready for compression.
func (m *Memory) episodicRecord(typ, scope string, s scanned, src Source, importance float64, at, now time.Time) Record {
	summary, gist := summarize(s.text)
	src.Trusted = src.Trusted && !s.flagged
	return Record{
		Layer:      LayerEpisodic,
		Kind:       typ,
		Scope:      scope,
		Agent:      m.opt.Agent,
		Session:    src.Session,
		Text:       s.text,
		Summary:    summary,
		OneLine:    gist,
		Level:      LevelFull,
		Importance: importance,
		Source:     src,
		Created:    at,
		Updated:    now,
	}
}

// noteWritten adds n bytes to the running estimate of the episodic layer
// and reports whether it now exceeds the cap.
func (m *Memory) noteWritten(n int64) bool {
	m.statMu.Lock()
	defer m.statMu.Unlock()
	m.written += n
	return m.measured+m.written > m.opt.MaxEpisodicBytes
}
