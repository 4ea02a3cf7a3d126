package taint

import (
	"context"
	"time"
)

// Shared keeps sessions' flags where every replica of a server reads
// them: a session whose calls are spread over replicas is tracked as one.
type Shared interface {
	// SessionFlags returns the sources stored for a session, oldest first.
	SessionFlags(ctx context.Context, session string) ([]Source, error)
	// MarkSession stores src for a session. A store may keep only the
	// first few sources of each flag; the flag itself is always kept.
	MarkSession(ctx context.Context, session string, src Source) error
	// EndSession forgets a session.
	EndSession(ctx context.Context, session string) error
	// PruneSessionFlags forgets the sources stored before a time (sessions
	// that never ended) and says how many.
	PruneSessionFlags(ctx context.Context, before time.Time) (int64, error)
}

// Bounds on what a store keeps for a session.
const (
	// MaxSharedSources is the most sources SessionFlags returns.
	MaxSharedSources = 32
	// MaxSessionBytes bounds a session id the stores accept.
	MaxSessionBytes = 256
)

// sharedTimeout bounds one read or write of the shared flags.
const sharedTimeout = 2 * time.Second

// Shared reports whether the tracker shares its flags through a store.
func (t *Tracker) Shared() bool { return t != nil && t.opts.Shared != nil }

// Current is a session's flags as every replica knows them: the ones held
// here, completed from the shared store when one is set and the session
// does not carry both flags yet (flags only ever get set, so a session
// with both needs no read). A store that cannot be read counts as both
// flags, with a source saying so: the rule of two then asks a human about
// any external effect rather than let one through unchecked.
func (t *Tracker) Current(ctx context.Context, session string) State {
	s := t.State(session)
	if !t.Shared() || session == "" || s.Untrusted && s.Sensitive {
		return s
	}
	ctx, cancel := context.WithTimeout(ctx, sharedTimeout)
	defer cancel()
	srcs, err := t.opts.Shared.SessionFlags(ctx, session)
	if err != nil {
		why := "the session's shared flags could not be read: " + err.Error()
		if t.opts.OnSharedError != nil {
			t.opts.OnSharedError(err)
		}
		for _, f := range []Flag{Untrusted, Sensitive} {
			s.Sources = append(s.Sources, Source{Flag: f, Tool: "sentinel", Reason: why, Time: t.opts.Now()})
		}
		s.Untrusted, s.Sensitive = true, true
		return s
	}
	now := t.opts.Now()
	added := false
	for _, src := range srcs {
		if now.Sub(src.Time) > t.opts.TTL || s.Has(src.Flag) {
			continue
		}
		// Held here from now on: the next decision needs no read for it.
		t.mark(session, src)
		added = true
	}
	if added {
		s = t.State(session)
	}
	return s
}

// share stores src for the session when the tracker shares its flags; a
// failure goes to OnSharedError (the flag is held here all the same).
func (t *Tracker) share(session string, src Source) {
	if !t.Shared() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	if err := t.opts.Shared.MarkSession(ctx, session, src); err != nil && t.opts.OnSharedError != nil {
		t.opts.OnSharedError(err)
	}
}
