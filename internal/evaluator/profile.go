package evaluator

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Options tune a profile. The zero value is valid: every zero field takes
// its default (see Options.withDefaults).
type Options struct {
	// Now is where the windows end. Zero means the time of the latest
	// event, so that a profile depends on its events alone.
	Now time.Time
	// TrendWindow is the window a trend compares with the one before it:
	// between 1 hour and 7 days, in whole minutes; default 24 hours.
	TrendWindow time.Duration
	// HighRisk is the risk score from which a decision counts as
	// high-risk; default 5 (as the audit statistics endpoint).
	HighRisk float64
	// MaxAgents and MaxSessions bound how many agents and sessions keep a
	// profile of their own; defaults 1,000 and 10,000.
	MaxAgents, MaxSessions int
}

// Defaults and limits of Options.
const (
	defaultTrendWindow = 24 * time.Hour
	minTrendWindow     = time.Hour
	maxTrendWindow     = 7 * 24 * time.Hour
	defaultHighRisk    = 5
	defaultMaxAgents   = 1000
	defaultMaxSessions = 10_000
	maxKeys            = 1_000_000
)

// Validate reports what is wrong with o, or nil. Zero fields are fine.
func (o Options) Validate() error {
	var errs []string
	if w := o.TrendWindow; w != 0 && (w < minTrendWindow || w > maxTrendWindow || w%time.Minute != 0) {
		errs = append(errs, fmt.Sprintf("trend window %v must be whole minutes between %v and %v", w, minTrendWindow, maxTrendWindow))
	}
	if h := o.HighRisk; math.IsNaN(h) || h < 0 || h > maxRisk {
		errs = append(errs, fmt.Sprintf("high-risk threshold %v is outside 0..%d", h, maxRisk))
	}
	if o.MaxAgents < 0 || o.MaxAgents > maxKeys {
		errs = append(errs, fmt.Sprintf("max agents %d is outside 0..%d", o.MaxAgents, maxKeys))
	}
	if o.MaxSessions < 0 || o.MaxSessions > maxKeys {
		errs = append(errs, fmt.Sprintf("max sessions %d is outside 0..%d", o.MaxSessions, maxKeys))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("evaluator: bad options: %s", strings.Join(errs, "; "))
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.TrendWindow == 0 {
		o.TrendWindow = defaultTrendWindow
	}
	if o.HighRisk == 0 {
		o.HighRisk = defaultHighRisk
	}
	if o.MaxAgents == 0 {
		o.MaxAgents = defaultMaxAgents
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = defaultMaxSessions
	}
	return o
}

// Scope is what a Summary covers.
type Scope string

// Scopes.
const (
	ScopeAll     Scope = "all"
	ScopeAgent   Scope = "agent"
	ScopeSession Scope = "session"
)

// Profile is the quality profile of everything ingested, of each agent
// and of each session.
type Profile struct {
	Now         time.Time     `json:"now"`
	TrendWindow time.Duration `json:"trend_window_ns"`
	All         Summary       `json:"all"`
	// Agents and Sessions are sorted by name. Events without a session
	// count in All and their agent only.
	Agents   []Summary `json:"agents"`
	Sessions []Summary `json:"sessions"`
	// Rejected counts the malformed events that were skipped.
	Rejected int64 `json:"rejected"`
}

// Summary is the profile of one scope.
type Summary struct {
	Scope Scope  `json:"scope"`
	Name  string `json:"name"`
	// Agent is a session's agent (the first one named in its events).
	Agent     string    `json:"agent,omitempty"`
	Overall   Score     `json:"overall"`
	Breakdown Breakdown `json:"breakdown"`
	Counts    Counts    `json:"counts"`
	Trend     Trend     `json:"trend"`
	Warnings  []Finding `json:"warnings"`
	Strengths []Finding `json:"strengths"`
}

// Counts are the audit figures of a summary; all but Last24h cover
// everything ingested.
type Counts struct {
	Events int64 `json:"events"`
	// Operations are decided tool calls.
	Operations int64 `json:"operations"`
	// Last24h are the operations of the last 24 hours.
	Last24h   int64 `json:"last_24h"`
	Denied    int64 `json:"denied"`
	Confirmed int64 `json:"confirmed"`
	HighRisk  int64 `json:"high_risk"`
	// SchemaProblems counts the operations with at least one schema.*
	// reason.
	SchemaProblems int64 `json:"schema_problems"`
	Outcomes       int64 `json:"outcomes"`
	Runs           int64 `json:"runs"`
	ExecErrors     int64 `json:"exec_errors"`
	Timeouts       int64 `json:"timeouts"`
	Verified       int64 `json:"verified"`
	// Failures are verify failures, as in the audit statistics.
	Failures        int64 `json:"failures"`
	Signals         int64 `json:"signals"`
	NegativeSignals int64 `json:"negative_signals"`
	PositiveSignals int64 `json:"positive_signals"`
}

// Trend compares the last Window with the Window before it.
type Trend struct {
	Window   time.Duration `json:"window_ns"`
	Current  WindowScores  `json:"current"`
	Previous WindowScores  `json:"previous"`
}

// WindowScores are the scores of one trend window.
type WindowScores struct {
	Overall   Score     `json:"overall"`
	Breakdown Breakdown `json:"breakdown"`
	Events    int64     `json:"events"`
}

// Delta is the change of the overall score; ok is false unless both
// windows are measured.
func (t Trend) Delta() (delta float64, ok bool) {
	if !t.Current.Overall.Measured() || !t.Previous.Overall.Measured() {
		return 0, false
	}
	return t.Current.Overall.Value - t.Previous.Overall.Value, true
}

// Finding is a warning or a strength: a stable code and a message.
type Finding struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ProfileOf computes the profile of events, in time order (events with
// the same time keep their order). Malformed events are skipped, counted
// in Profile.Rejected and named in a warning; invalid options are
// replaced by the defaults and named in a warning too, so that the
// profile always shows what it could not use.
func ProfileOf(events []Event, opts Options) Profile {
	var optErr error
	if err := opts.Validate(); err != nil {
		optErr = err
		opts = Options{Now: opts.Now}
	}
	a := newAggregator(opts)
	for _, i := range timeOrder(events) {
		// The aggregator is ours alone: no lock, no copy.
		if err := events[i].Validate(); err != nil {
			a.reject(err)
			continue
		}
		a.ingest(&events[i])
	}
	p := a.Profile(opts.Now)
	if optErr != nil {
		p.All.Warnings = append(p.All.Warnings, Finding{Code: "input.options", Message: optErr.Error() + " — defaults used"})
	}
	return p
}

// timeOrder returns the indices of events sorted stably by time.
func timeOrder(events []Event) []int {
	idx := make([]int, len(events))
	sorted := true
	for i := range events {
		idx[i] = i
		if i > 0 && events[i].Time.Before(events[i-1].Time) {
			sorted = false
		}
	}
	if !sorted {
		slices.SortStableFunc(idx, func(a, b int) int { return events[a].Time.Compare(events[b].Time) })
	}
	return idx
}

func sortSummaries(s []Summary) {
	slices.SortFunc(s, func(a, b Summary) int { return cmp.Compare(a.Name, b.Name) })
}
