package memory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// StartSession opens s's working memory, or resumes it, and binds the
// session to its scope (see Scope). A session idle longer than
// Options.IdleReset starts fresh. A session cannot move to another scope.
func (m *Memory) StartSession(s Session) (*Working, error) {
	if m.err != nil {
		return nil, m.err
	}
	if err := checkSessionID(s.ID); err != nil {
		return nil, err
	}
	scope, err := Scope(m.opt.Scope, s)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.liveSession(s.ID)
	switch {
	case w == nil:
		w = m.addSession(s.ID, scope, true)
	default:
		bound, ok := w.binding()
		switch {
		case !ok:
			w.mu.Lock()
			w.scope, w.bound = scope, true
			w.mu.Unlock()
		case bound != scope:
			return nil, invalid("session %q is bound to scope %q, not %q", s.ID, bound, scope)
		}
	}
	return w, nil
}

// Working returns the working memory of a session, creating it if
// needed; a session idle longer than Options.IdleReset gets a fresh one.
// Under per-peer scopes a session created here is unbound until
// StartSession names its peer: until then its writes to the stored layers
// and InjectContext are refused (ErrUnboundSession).
func (m *Memory) Working(session string) *Working {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w := m.liveSession(session); w != nil {
		return w
	}
	if m.opt.Scope == ScopeMain {
		return m.addSession(session, ScopeMain, true)
	}
	return m.addSession(session, "", false)
}

func checkSessionID(id string) error {
	switch {
	case id == "":
		return invalid("the session ID is empty")
	case len(id) > maxKeyBytes:
		return fmt.Errorf("%w: session ID of %d bytes, at most %d", ErrTooLarge, len(id), maxKeyBytes)
	}
	return nil
}

// liveSession returns the session's working memory, or nil. A session
// idle too long gets a fresh, empty one, bound to the same scope (the
// peer has not changed). m.mu is held.
func (m *Memory) liveSession(id string) *Working {
	w := m.sessions[id]
	if w == nil {
		return nil
	}
	if m.opt.IdleReset > 0 && m.now().Sub(w.idleSince()) > m.opt.IdleReset {
		scope, bound := w.binding()
		w = newWorking(id, scope, bound, m.opt.MaxWorkingTokens, m.opt.Now)
		m.sessions[id] = w
	}
	return w
}

// addSession registers a new working memory, dropping the least recently
// active one when Options.MaxSessions are live. m.mu is held.
func (m *Memory) addSession(id, scope string, bound bool) *Working {
	if len(m.sessions) >= m.opt.MaxSessions {
		var oldest string
		var at time.Time
		for sid, w := range m.sessions {
			if t := w.idleSince(); oldest == "" || t.Before(at) || t.Equal(at) && sid < oldest {
				oldest, at = sid, t
			}
		}
		delete(m.sessions, oldest)
	}
	w := newWorking(id, scope, bound, m.opt.MaxWorkingTokens, m.opt.Now)
	m.sessions[id] = w
	return w
}

// sourceScope is the scope a write from src belongs to: its session's,
// or "main" for writes outside a session (the CLI, an import).
func (m *Memory) sourceScope(src Source) (string, error) {
	return m.sessionScope(src.Session)
}

// sessionScope is the scope of a session ("" is none: "main").
func (m *Memory) sessionScope(session string) (string, error) {
	if m.opt.Scope == ScopeMain || session == "" {
		return ScopeMain, nil
	}
	m.mu.Lock()
	w := m.liveSession(session)
	m.mu.Unlock()
	if w == nil {
		return "", fmt.Errorf("%w: session %q", ErrUnboundSession, session)
	}
	scope, bound := w.binding()
	if !bound {
		return "", fmt.Errorf("%w: session %q", ErrUnboundSession, session)
	}
	return scope, nil
}

// Sessions counts live working memories.
func (m *Memory) Sessions() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// EndSession ends a session as the seed's endSession does: its working
// memory is summarised into a session event (episodic), appended to the
// daily log Dir/memory/YYYY-MM-DD.md, MEMORY.md in Dir is brought up to
// date, the working memory is cleared and the episodic layer compacted.
// Every step runs even when an earlier one fails; the errors are joined.
func (m *Memory) EndSession(ctx context.Context, session string) error {
	if m.err != nil {
		return m.err
	}
	m.mu.Lock()
	w := m.sessions[session]
	delete(m.sessions, session)
	m.mu.Unlock()

	var errs []error
	if w != nil {
		task, msgs := w.snapshot()
		talk := talkSummary(msgs)
		scope, bound := w.binding()
		switch body := sessionBody(task, talk); {
		case body == "":
		case !bound:
			// Its scope was never decided: recording it anywhere could
			// put one user's session in another's memory.
			m.opt.Logger.Warn("memory: an unbound session ended; its summary is not kept", "session", session)
		default:
			_, err := m.remember(ctx, "", Event{Type: EventSession, Text: body,
				Source: Source{Kind: SourceAgent, Trusted: true, Session: session}}, scope, false)
			if err != nil {
				errs = append(errs, fmt.Errorf("memory: recording session %q: %w", session, err))
			}
			if m.opt.Dir != "" {
				if err := m.appendDailyLog(session, scope, task, talk, len(msgs)); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if m.opt.Dir != "" {
		if err := m.writeMemoryFile(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := m.Compact(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// talkSummary is an extractive summary of what the user and the agent
// said; tool output is left out, as it is not the session's own account.
func talkSummary(msgs []Message) string {
	var talk strings.Builder
	for _, msg := range msgs {
		if msg.Role != "user" && msg.Role != "assistant" {
			continue
		}
		talk.WriteString(oneLine(msg.Text))
		talk.WriteString("\n")
		if talk.Len() > maxInputBytes/2 {
			break
		}
	}
	text := talk.String()
	if text == "" {
		return ""
	}
	if summary, _ := summarize(text); summary != "" {
		return summary
	}
	return oneLine(text)
}

// sessionBody is what a session event records: the task, then the
// summary of the talk.
func sessionBody(task, talk string) string {
	if task == "" {
		return talk
	}
	if !strings.ContainsAny(task[len(task)-1:], ".!?。！？") {
		task += "."
	}
	if talk == "" {
		return "Task: " + task
	}
	return "Task: " + task + "\n" + talk
}
