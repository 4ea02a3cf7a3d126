package memory

import (
	"slices"
	"sync"
	"time"

	"github.com/sentinel-agent/sentinel/internal/redact"
)

// Bounds of working memory.
const (
	maxMessageBytes = 64 << 10 // a message is cut beyond this
	maxTaskBytes    = 4 << 10
	maxOpenFiles    = 256
	maxPathBytes    = 4 << 10
	maxToolResults  = 256
	maxRoleBytes    = 32
)

// Message is one turn of a session's conversation.
type Message struct {
	Role   string    `json:"role"`
	Text   string    `json:"text"`
	Tokens int       `json:"tokens"`
	At     time.Time `json:"at"`
}

type toolResult struct {
	tool, args, result string
	tokens             int
}

// Working is a session's working memory: its messages, current task,
// cached tool results and open files, within a token budget. It lives in
// the process only and is cleared at the session's end or after it has
// been idle too long. Text is redacted as it comes in. It is safe for
// concurrent use.
//
// When the budget is exceeded, cached tool results go first (oldest
// first: they can be fetched again), then the oldest messages, then the
// oldest open files; the most recent message is never evicted, only cut
// to fit.
type Working struct {
	mu       sync.Mutex
	session  string
	scope    string
	bound    bool // the scope was decided by StartSession or by ScopeMain
	budget   int
	now      func() time.Time
	last     time.Time
	messages []Message
	task     string
	results  []toolResult // oldest first
	files    []string
	tokens   int
	evicted  int
}

func newWorking(session, scope string, bound bool, budget int, now func() time.Time) *Working {
	return &Working{session: session, scope: scope, bound: bound, budget: budget, now: now, last: now()}
}

// Session returns the session's ID.
func (w *Working) Session() string { return w.session }

// Scope returns the memory scope the session reads and writes, "" while
// it is unbound (per-peer scopes and no StartSession yet).
func (w *Working) Scope() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.scope
}

// AddMessage appends a turn. Roles are free-form words (user, assistant,
// tool, system); an empty or over-long role is refused.
func (w *Working) AddMessage(role, text string) error {
	if role == "" || len(role) > maxRoleBytes {
		return invalid("message role %q: 1 to %d bytes", role, maxRoleBytes)
	}
	text = redactCut(text, maxMessageBytes)
	w.mu.Lock()
	defer w.mu.Unlock()
	m := Message{Role: role, Text: text, Tokens: EstimateTokens(text), At: w.now()}
	w.last = m.At
	w.messages = append(w.messages, m)
	w.tokens += m.Tokens
	w.evict()
	return nil
}

// Messages returns a copy of the messages still in working memory.
func (w *Working) Messages() []Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.messages)
}

// SetTask records the current task ("" clears it).
func (w *Working) SetTask(task string) {
	task = redactCut(oneLine(task), maxTaskBytes)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tokens += EstimateTokens(task) - EstimateTokens(w.task)
	w.task = task
	w.last = w.now()
	w.evict()
}

// Task returns the current task.
func (w *Working) Task() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.task
}

// CacheResult keeps a tool's result for the given arguments, replacing an
// earlier result for the same call.
func (w *Working) CacheResult(tool, args, result string) {
	result = redactCut(result, maxMessageBytes)
	args = redactCut(args, maxMessageBytes)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dropResult(tool, args)
	if len(w.results) >= maxToolResults {
		w.tokens -= w.results[0].tokens
		w.results = slices.Delete(w.results, 0, 1)
		w.evicted++
	}
	r := toolResult{tool: tool, args: args, result: result, tokens: EstimateTokens(tool) + EstimateTokens(args) + EstimateTokens(result)}
	w.results = append(w.results, r)
	w.tokens += r.tokens
	w.last = w.now()
	w.evict()
}

// Result returns the cached result of a call, if it is still cached.
func (w *Working) Result(tool, args string) (string, bool) {
	args = redactCut(args, maxMessageBytes)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.results {
		if r.tool == tool && r.args == args {
			return r.result, true
		}
	}
	return "", false
}

func (w *Working) dropResult(tool, args string) {
	for i, r := range w.results {
		if r.tool == tool && r.args == args {
			w.tokens -= r.tokens
			w.results = slices.Delete(w.results, i, i+1)
			return
		}
	}
}

// OpenFile notes a file the session has open; at most 256 are kept (the
// oldest is forgotten) and paths are cut to 4 KiB.
func (w *Working) OpenFile(path string) {
	path = truncate(path, maxPathBytes)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = w.now()
	if slices.Contains(w.files, path) {
		return
	}
	if len(w.files) >= maxOpenFiles {
		w.tokens -= EstimateTokens(w.files[0])
		w.files = slices.Delete(w.files, 0, 1)
	}
	w.files = append(w.files, path)
	w.tokens += EstimateTokens(path)
	w.evict()
}

// CloseFile forgets an open file.
func (w *Working) CloseFile(path string) {
	path = truncate(path, maxPathBytes)
	w.mu.Lock()
	defer w.mu.Unlock()
	if i := slices.Index(w.files, path); i >= 0 {
		w.tokens -= EstimateTokens(path)
		w.files = slices.Delete(w.files, i, i+1)
	}
}

// Files returns the open files, oldest first.
func (w *Working) Files() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.files)
}

// Tokens returns the estimated tokens held (see EstimateTokens) and the
// budget.
func (w *Working) Tokens() (used, budget int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tokens, w.budget
}

// Evicted counts the tool results and messages dropped to fit the budget.
func (w *Working) Evicted() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.evicted
}

// evict brings the tokens within the budget: tool results first, then
// the oldest messages and open files, then it cuts the last message.
func (w *Working) evict() {
	for w.tokens > w.budget && len(w.results) > 0 {
		w.tokens -= w.results[0].tokens
		w.results = slices.Delete(w.results, 0, 1)
		w.evicted++
	}
	for w.tokens > w.budget && len(w.messages) > 1 {
		w.tokens -= w.messages[0].Tokens
		w.messages = slices.Delete(w.messages, 0, 1)
		w.evicted++
	}
	for w.tokens > w.budget && len(w.files) > 1 {
		w.tokens -= EstimateTokens(w.files[0])
		w.files = slices.Delete(w.files, 0, 1)
		w.evicted++
	}
	if w.tokens > w.budget && len(w.messages) == 1 {
		m := &w.messages[0]
		room := w.budget - (w.tokens - m.Tokens)
		for m.Tokens > max(room, 0) && m.Text != "" {
			m.Text = truncate(m.Text, len(m.Text)*max(room, 0)/max(m.Tokens, 1))
			w.tokens -= m.Tokens
			m.Tokens = EstimateTokens(m.Text)
			w.tokens += m.Tokens
		}
	}
}

// redactCut redacts s before cutting it to max bytes, so that no cut
// leaves the part of a secret the rules would no longer recognise.
func redactCut(s string, max int) string {
	s, _ = redact.Text(truncate(s, maxInputBytes))
	return truncate(s, max)
}

// binding returns the session's scope and whether it is decided.
func (w *Working) binding() (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.scope, w.bound
}

// snapshot returns what EndSession summarises, under the lock.
func (w *Working) snapshot() (task string, msgs []Message) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.task, slices.Clone(w.messages)
}

// idleSince returns when the session was last active.
func (w *Working) idleSince() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}
