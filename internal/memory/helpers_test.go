package memory_test

import (
	"sync"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/memory"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newMem returns a Memory on a fresh MemStore with a fake clock; opts.Now
// is replaced.
func newMem(t testing.TB, opts memory.Options) (*memory.Memory, *clock, *memory.MemStore) {
	t.Helper()
	c := newClock()
	opts.Now = c.Now
	s := memory.NewMemStore()
	return memory.New(s, opts), c, s
}

// githubToken is shaped like a real GitHub token (high entropy, the
// length the redaction rule expects).
const githubToken = "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"

var (
	user    = memory.Source{Kind: memory.SourceUser, Trusted: true}
	agent   = memory.Source{Kind: memory.SourceAgent, Trusted: true}
	webTool = memory.Source{Kind: memory.SourceTool, Tool: "web_fetch"}
)

// must returns v, or panics (failing the test with a trace) on err.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// wantCode fails unless err carries the stable code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := memory.Code(err); got != code {
		t.Errorf("err = %v (code %q), want code %q", err, got, code)
	}
}
