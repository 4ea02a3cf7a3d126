// Package taint tracks, per agent session, what the agent has been
// exposed to, for the "rule of two": an agent that has seen untrusted
// content (a web page, an MCP tool's output, a file whose content was
// flagged) and has read sensitive data (secrets, credential files) must
// not also cause an external effect (send data over the network, push,
// publish, message) without a human. Any two are fine; all three are
// how a prompt injection turns into a leak.
//
// The Tracker holds the flags in memory, bounded in sessions and sources;
// the kernel sets them from the calls it lets run and from reported
// outcomes, and reads them when it decides.
package taint

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Flag is one thing a session has been exposed to.
type Flag string

// Flags.
const (
	// Untrusted: the session has seen content from outside the user's
	// control.
	Untrusted Flag = "untrusted"
	// Sensitive: the session has read secrets or sensitive files.
	Sensitive Flag = "sensitive"
)

// Source is why a session carries a flag.
type Source struct {
	Flag       Flag      `json:"flag"`
	Tool       string    `json:"tool"`
	DecisionID string    `json:"decision_id,omitempty"`
	Reason     string    `json:"reason"`
	Time       time.Time `json:"time"`
}

// State is a session's flags and the first sources of each.
type State struct {
	Untrusted bool     `json:"untrusted"`
	Sensitive bool     `json:"sensitive"`
	Sources   []Source `json:"sources,omitempty"`
}

// Has reports whether the state carries f.
func (s State) Has(f Flag) bool {
	switch f {
	case Untrusted:
		return s.Untrusted
	case Sensitive:
		return s.Sensitive
	}
	return false
}

// Map is the flags as rules read them: session.untrusted,
// session.sensitive.
func (s State) Map() map[string]bool {
	return map[string]bool{string(Untrusted): s.Untrusted, string(Sensitive): s.Sensitive}
}

// Options bound a Tracker.
type Options struct {
	// MaxSessions is how many sessions are kept; the least recently
	// used is forgotten first. 0 means 100,000.
	MaxSessions int
	// TTL forgets a session this long after its last change; 0 means
	// 24 hours.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Shared, when set, keeps the flags where every replica reads them:
	// Mark stores each source it keeps (a few per flag), End forgets the
	// session there too, and Current completes a session from it.
	Shared Shared
	// OnSharedError is told when the shared store fails.
	OnSharedError func(error)
}

// maxSources bounds the sources kept per flag.
const maxSources = 4

// Tracker holds the sessions' flags. It is safe for concurrent use.
type Tracker struct {
	opts Options
	mu   sync.Mutex
	m    map[string]*list.Element
	lru  *list.List // of *entry, most recent first
}

type entry struct {
	session string
	state   State
	changed time.Time
}

// New returns an empty Tracker.
func New(opts Options) *Tracker {
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 100_000
	}
	if opts.TTL <= 0 {
		opts.TTL = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Tracker{opts: opts, m: map[string]*list.Element{}, lru: list.New()}
}

// State returns a session's flags (none for an unknown or expired one,
// or the empty session).
func (t *Tracker) State(session string) State {
	if t == nil || session == "" {
		return State{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.m[session]
	if !ok {
		return State{}
	}
	e := el.Value.(*entry)
	if t.opts.Now().Sub(e.changed) > t.opts.TTL {
		t.lru.Remove(el)
		delete(t.m, session)
		return State{}
	}
	s := e.state
	s.Sources = append([]Source(nil), s.Sources...)
	return s
}

// Mark sets src.Flag on the session, keeping src as a reason unless the
// flag already has maxSources of them. The empty session is not tracked.
// With a shared store, a source kept here is stored there too.
func (t *Tracker) Mark(session string, src Source) {
	if t == nil || session == "" || (src.Flag != Untrusted && src.Flag != Sensitive) {
		return
	}
	if src.Time.IsZero() {
		src.Time = t.opts.Now()
	}
	if t.mark(session, src) {
		t.share(session, src)
	}
}

// mark is Mark without the store; it reports whether src was kept.
func (t *Tracker) mark(session string, src Source) bool {
	now := t.opts.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var e *entry
	if el, ok := t.m[session]; ok {
		e = el.Value.(*entry)
		t.lru.MoveToFront(el)
	} else {
		e = &entry{session: session}
		t.m[session] = t.lru.PushFront(e)
		for t.lru.Len() > t.opts.MaxSessions {
			last := t.lru.Back()
			t.lru.Remove(last)
			delete(t.m, last.Value.(*entry).session)
		}
	}
	e.changed = now
	n := 0
	for _, s := range e.state.Sources {
		if s.Flag == src.Flag {
			n++
		}
	}
	switch src.Flag {
	case Untrusted:
		e.state.Untrusted = true
	case Sensitive:
		e.state.Sensitive = true
	}
	if n < maxSources {
		e.state.Sources = append(e.state.Sources, src)
		return true
	}
	return false
}

// End forgets a session, in the shared store too.
func (t *Tracker) End(session string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	if el, ok := t.m[session]; ok {
		t.lru.Remove(el)
		delete(t.m, session)
	}
	t.mu.Unlock()
	if t.Shared() && session != "" {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		defer cancel()
		if err := t.opts.Shared.EndSession(ctx, session); err != nil && t.opts.OnSharedError != nil {
			t.opts.OnSharedError(err)
		}
	}
}

// Len is the number of sessions held.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lru.Len()
}
