package evaluator

import (
	"container/list"
	"slices"
	"sync"
	"time"
)

// Window lengths in minutes.
const (
	minutesHour = 60
	minutesDay  = 24 * 60
	minutesWeek = 7 * minutesDay
)

// Aggregator keeps profiles current as events arrive, one at a time, in
// O(1) amortised per event when events arrive roughly in time order (an
// event older than the newest of its agent or session costs a binary
// search and an insertion among at most one bucket per minute of the
// retained window). It is safe for concurrent use.
type Aggregator struct {
	mu   sync.Mutex
	opts Options
	// trend and retention are in minutes; buckets at or before
	// watermark−retention are dropped.
	trend, retention int64
	latest           time.Time
	watermark        int64
	seen             bool

	all      *key
	agents   keySet
	sessions keySet

	rejected    int64
	firstReject string
}

// NewAggregator returns an empty Aggregator, or an error if opts are
// invalid.
func NewAggregator(opts Options) (*Aggregator, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return newAggregator(opts), nil
}

// newAggregator trusts opts to be valid.
func newAggregator(opts Options) *Aggregator {
	opts = opts.withDefaults()
	trend := int64(opts.TrendWindow / time.Minute)
	return &Aggregator{
		opts:      opts,
		trend:     trend,
		retention: max(minutesWeek, 2*trend),
		all:       &key{name: ""},
		agents:    newKeySet(opts.MaxAgents),
		sessions:  newKeySet(opts.MaxSessions),
	}
}

// Ingest adds one event. A malformed event is refused with an error
// saying what is wrong, and counted as rejected in the profile.
func (a *Aggregator) Ingest(e Event) error {
	err := e.Validate()
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.reject(err)
		return err
	}
	a.ingest(&e)
	return nil
}

func (a *Aggregator) reject(err error) {
	a.rejected++
	if a.firstReject == "" {
		a.firstReject = err.Error()
	}
}

// ingest adds a valid event; the caller holds a.mu or owns a.
func (a *Aggregator) ingest(e *Event) {
	m := minuteOf(e.Time)
	if !a.seen || e.Time.After(a.latest) {
		a.latest = e.Time
	}
	if !a.seen || m > a.watermark {
		a.watermark = m
	}
	a.seen = true

	agent := a.agents.get(e.Agent)
	var pre, rt, post float64
	var hasPost bool
	switch e.Kind {
	case KindDecision:
		pre = preScore(e)
	case KindOutcome:
		if e.ran() {
			if agent.dur == nil {
				agent.dur = new(durations)
			}
			rt = runtimeScore(e, agent.dur.median())
			if e.DurationMS > 0 {
				agent.dur.add(e.DurationMS)
			}
		}
		post, hasPost = postScore(e)
	}
	c := contribution(e, pre, rt, post, hasPost, e.Kind == KindDecision && e.Risk >= a.opts.HighRisk)

	failed := ""
	if e.Kind == KindOutcome && e.Verify == VerifyFail && e.Session != "" {
		failed = e.Session
	}
	cutoff := a.watermark - a.retention
	a.all.add(&c, m, cutoff, failed)
	agent.add(&c, m, cutoff, failed)
	if e.Session != "" {
		sess := a.sessions.get(e.Session)
		if sess.agent == "" {
			sess.agent = e.Agent
		}
		sess.add(&c, m, cutoff, failed)
	}
}

// Profile returns the profile as of now; a zero now means the time of
// the latest event. Windows are exact when now is not before the latest
// event (older minutes are dropped relative to the latest event).
func (a *Aggregator) Profile(now time.Time) Profile {
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.IsZero() {
		now = a.latest
	}
	nowMin := minuteOf(now)
	cutoff := a.watermark - a.retention
	p := Profile{
		Now:         now,
		TrendWindow: a.opts.TrendWindow,
		Rejected:    a.rejected,
		Agents:      make([]Summary, 0, len(a.agents.m)),
		Sessions:    make([]Summary, 0, len(a.sessions.m)),
	}
	p.All = a.summarize(a.all, ScopeAll, nowMin, cutoff)
	for _, k := range a.agents.m {
		p.Agents = append(p.Agents, a.summarize(k, ScopeAgent, nowMin, cutoff))
	}
	for _, k := range a.sessions.m {
		p.Sessions = append(p.Sessions, a.summarize(k, ScopeSession, nowMin, cutoff))
	}
	sortSummaries(p.Agents)
	sortSummaries(p.Sessions)
	p.All.Warnings = append(p.All.Warnings, a.inputFindings()...)
	return p
}

// summarize builds the summary of one key as of minute now.
func (a *Aggregator) summarize(k *key, scope Scope, now, cutoff int64) Summary {
	k.sweep(cutoff)
	var day, cur, prev tally
	var satSum, satWeights float64
	var satN int64
	for i := range k.minutes {
		b := &k.minutes[i]
		d := now - b.minute
		if d < 0 {
			continue // after now
		}
		if d < minutesDay {
			day.addSlot(&b.s)
		}
		if d < a.trend {
			cur.addSlot(&b.s)
		} else if d < 2*a.trend {
			prev.addSlot(&b.s)
		}
		if b.s.signals > 0 && d < minutesWeek {
			w := satWeightWeek
			if d < minutesHour {
				w = satWeightHour
			} else if d < minutesDay {
				w = satWeightDay
			}
			satSum += w * b.s.strengthSum
			satWeights += w * float64(b.s.signals)
			satN += int64(b.s.signals)
		}
	}
	var dayFails map[string]int64
	for _, f := range k.fails {
		if d := now - f.minute; d >= 0 && d < minutesDay {
			if dayFails == nil {
				dayFails = make(map[string]int64)
			}
			dayFails[f.session] += f.n
		}
	}
	br := k.total.phases()
	br.Satisfaction = satisfaction(satSum, satWeights, satN)
	s := Summary{
		Scope:     scope,
		Name:      k.name,
		Agent:     k.agent,
		Breakdown: br,
		Overall:   br.Overall(),
		Counts:    countsOf(&k.total, &day),
		Trend: Trend{
			Window:   a.opts.TrendWindow,
			Current:  windowScores(&cur),
			Previous: windowScores(&prev),
		},
	}
	s.Warnings = warnings(scope, &day, dayFails, s.Trend)
	s.Strengths = strengths(&k.total, br, &day)
	return s
}

func windowScores(t *tally) WindowScores {
	b := t.phases()
	return WindowScores{Overall: b.Overall(), Breakdown: b, Events: t.events()}
}

func countsOf(t, day *tally) Counts {
	return Counts{
		Events:          t.events(),
		Operations:      t.decisions,
		Last24h:         day.decisions,
		Denied:          t.denied,
		Confirmed:       t.confirmed,
		HighRisk:        t.highRisk,
		SchemaProblems:  t.schemaCalls,
		Outcomes:        t.outcomes,
		Runs:            t.ran,
		ExecErrors:      t.errors,
		Timeouts:        t.timeouts,
		Verified:        t.verified,
		Failures:        t.verifyFails,
		Signals:         t.signals,
		NegativeSignals: t.negative,
		PositiveSignals: t.positive(),
	}
}

// minuteOf is the minute t falls in, counted from the Unix epoch.
func minuteOf(t time.Time) int64 {
	s := t.Unix()
	m := s / 60
	if s%60 < 0 {
		m--
	}
	return m
}

// key is one agent's, one session's or everything's tallies.
type key struct {
	name  string
	agent string // sessions only
	total tally
	// minutes are the per-minute tallies, ascending, none at or before
	// the cutoff of the last sweep.
	minutes []bucket
	// fails are the verify failures by minute and session, to name the
	// session to review; sweptFails is len(fails) after the last sweep.
	fails      []failMark
	sweptFails int
	dur        *durations // agents only
	elem       *list.Element
}

// bucket holds its slot by value: an allocation per minute would
// dominate the cost of ingesting.
type bucket struct {
	minute int64
	s      slot
}

// maxFailMarks bounds the failures a key remembers by session.
const maxFailMarks = 10_000

type failMark struct {
	minute  int64
	session string
	n       int64
}

// add counts c in the key's total and, unless m is at or before cutoff,
// in minute m; failed names the session of a verify failure.
func (k *key) add(c *tally, m, cutoff int64, failed string) {
	k.total.add(c)
	if m <= cutoff {
		return
	}
	if failed != "" {
		k.addFail(m, failed, cutoff)
	}
	n := len(k.minutes)
	switch {
	case n > 0 && k.minutes[n-1].minute == m:
		k.minutes[n-1].s.add(c)
		return
	case n == 0 || k.minutes[n-1].minute < m:
		k.sweep(cutoff)
		k.minutes = append(k.minutes, bucket{minute: m})
		k.minutes[len(k.minutes)-1].s.add(c)
		return
	}
	i, found := slices.BinarySearchFunc(k.minutes, m, func(b bucket, m int64) int {
		switch {
		case b.minute < m:
			return -1
		case b.minute > m:
			return 1
		}
		return 0
	})
	if !found {
		k.minutes = slices.Insert(k.minutes, i, bucket{minute: m})
	}
	k.minutes[i].s.add(c)
}

func (k *key) addFail(m int64, session string, cutoff int64) {
	if n := len(k.fails); n > 0 && k.fails[n-1].minute == m && k.fails[n-1].session == session {
		k.fails[n-1].n++
		return
	}
	if len(k.fails) >= maxFailMarks {
		// A flood of failures: keep the latest, which name the sessions
		// to review now (append copies only what is kept).
		k.fails[0] = failMark{}
		k.fails = k.fails[1:]
	}
	k.fails = append(k.fails, failMark{minute: m, session: session, n: 1})
	if len(k.fails) > 2*k.sweptFails+16 { // amortised O(1)
		k.sweepFails(cutoff)
	}
}

// sweep drops the minutes and failures at or before cutoff.
func (k *key) sweep(cutoff int64) {
	i := 0
	for i < len(k.minutes) && k.minutes[i].minute <= cutoff {
		i++
	}
	if i > 0 {
		k.minutes = k.minutes[i:]
	}
	if len(k.fails) > 0 && k.fails[0].minute <= cutoff {
		k.sweepFails(cutoff)
	}
}

func (k *key) sweepFails(cutoff int64) {
	k.fails = slices.DeleteFunc(k.fails, func(f failMark) bool { return f.minute <= cutoff })
	k.sweptFails = len(k.fails)
}

// keySet is a bounded set of keys; the least recently active key goes
// first when it is full.
type keySet struct {
	m       map[string]*key
	lru     *list.List // front: most recent
	max     int
	evicted int64
}

func newKeySet(max int) keySet {
	return keySet{m: make(map[string]*key), lru: list.New(), max: max}
}

func (s *keySet) get(name string) *key {
	if k, ok := s.m[name]; ok {
		s.lru.MoveToFront(k.elem)
		return k
	}
	for len(s.m) >= s.max {
		old := s.lru.Remove(s.lru.Back()).(*key)
		delete(s.m, old.name)
		s.evicted++
	}
	k := &key{name: name}
	k.elem = s.lru.PushFront(k)
	s.m[name] = k
	return k
}
