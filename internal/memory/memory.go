package memory

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"
)

// Options configure a Memory. Zero values take the defaults named on each
// field; Validate reports every invalid value at once.
type Options struct {
	// Agent owns every record this Memory writes and is the only agent
	// whose records it reads. Default "default".
	Agent string
	// Dir is where EndSession writes memory/YYYY-MM-DD.md and MEMORY.md;
	// empty writes no files.
	Dir string
	// Scope is how sessions share memory: ScopeMain (default),
	// ScopePerPeer or ScopePerChannelPeer.
	Scope string
	// IdleReset starts fresh working memory for a session idle longer
	// than this. Default 2h; negative never resets.
	IdleReset time.Duration
	// MaxWorkingTokens is each session's working-memory budget. Default
	// 50,000.
	MaxWorkingTokens int
	// MaxSessions bounds live working memories; beyond it the least
	// recently active one is dropped. Default 10,000.
	MaxSessions int
	// MaxEpisodicBytes caps the episodic layer (Text, Summary and OneLine
	// bytes in the store); Compact enforces it. Default 500 KiB.
	MaxEpisodicBytes int64
	// MaxSemanticRecords bounds the semantic layer; new memories beyond
	// it are refused. Default 50,000.
	MaxSemanticRecords int
	// MaxTextBytes bounds the text stored per memory; longer texts are
	// cut. Default 4,096; at most 65,536.
	MaxTextBytes int
	// RecencyHalfLife, HeatHalfLife and RuleHalfLife are the half-lives
	// of an event's recency, of a memory's retrieval heat and of a
	// rule's confidence without confirmation. Defaults 30, 14 and 30
	// days.
	RecencyHalfLife, HeatHalfLife, RuleHalfLife time.Duration
	// MinRuleConfidence hides rules whose live confidence is lower from
	// the context block. Default 0.2.
	MinRuleConfidence float64
	// Injection reports whether text tries to instruct the agent, and
	// why. Flagged memories are stored untrusted and never injected.
	// Default: a small built-in check (see injection.go).
	Injection func(text string) (bool, string)
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives warnings (a failed daily log, a skipped import
	// line). Default discards.
	Logger *slog.Logger
}

// Session scope modes (Options.Scope).
const (
	ScopeMain           = "main"
	ScopePerPeer        = "per-peer"
	ScopePerChannelPeer = "per-channel-peer"
)

const (
	defaultAgent         = "default"
	defaultIdleReset     = 2 * time.Hour
	defaultWorkingTokens = 50000
	defaultSessions      = 10000
	defaultEpisodicBytes = 500 << 10
	defaultSemantic      = 50000
	defaultTextBytes     = 4096
	maxTextBytes         = 65536
	maxInputBytes        = 1 << 20 // any single text a caller passes
	maxKeyBytes          = 128
	defaultHalfLife      = 30 * 24 * time.Hour
	defaultHeatHalfLife  = 14 * 24 * time.Hour
	defaultMinConfidence = 0.2
)

// Validate reports every invalid field. It does not change o.
func (o Options) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch o.Scope {
	case "", ScopeMain, ScopePerPeer, ScopePerChannelPeer:
	default:
		bad("Scope %q: use %q, %q or %q", o.Scope, ScopeMain, ScopePerPeer, ScopePerChannelPeer)
	}
	if len(o.Agent) > maxKeyBytes || strings.ContainsFunc(o.Agent, isSeparator) {
		bad("Agent %q: at most %d bytes, no spaces, slashes or control characters", o.Agent, maxKeyBytes)
	}
	if o.MaxWorkingTokens < 0 || o.MaxSessions < 0 || o.MaxEpisodicBytes < 0 || o.MaxSemanticRecords < 0 || o.MaxTextBytes < 0 {
		bad("limits must not be negative (0 takes the default)")
	}
	if o.MaxTextBytes > maxTextBytes {
		bad("MaxTextBytes %d: at most %d", o.MaxTextBytes, maxTextBytes)
	}
	if o.RecencyHalfLife < 0 || o.HeatHalfLife < 0 || o.RuleHalfLife < 0 {
		bad("half-lives must not be negative (0 takes the default)")
	}
	if math.IsNaN(o.MinRuleConfidence) || o.MinRuleConfidence < 0 || o.MinRuleConfidence > 1 {
		bad("MinRuleConfidence %v: must be in [0,1]", o.MinRuleConfidence)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
}

// withDefaults fills in every zero field.
func (o Options) withDefaults() Options {
	if o.Agent == "" {
		o.Agent = defaultAgent
	}
	if o.Scope == "" {
		o.Scope = ScopeMain
	}
	if o.IdleReset == 0 {
		o.IdleReset = defaultIdleReset
	}
	if o.MaxWorkingTokens == 0 {
		o.MaxWorkingTokens = defaultWorkingTokens
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = defaultSessions
	}
	if o.MaxEpisodicBytes == 0 {
		o.MaxEpisodicBytes = defaultEpisodicBytes
	}
	if o.MaxSemanticRecords == 0 {
		o.MaxSemanticRecords = defaultSemantic
	}
	if o.MaxTextBytes == 0 {
		o.MaxTextBytes = defaultTextBytes
	}
	if o.RecencyHalfLife == 0 {
		o.RecencyHalfLife = defaultHalfLife
	}
	if o.HeatHalfLife == 0 {
		o.HeatHalfLife = defaultHeatHalfLife
	}
	if o.RuleHalfLife == 0 {
		o.RuleHalfLife = defaultHalfLife
	}
	if o.MinRuleConfidence == 0 {
		o.MinRuleConfidence = defaultMinConfidence
	}
	if o.Injection == nil {
		o.Injection = builtinInjection
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// Memory is an agent's layered memory: working memory per session in the
// process, episodic and semantic layers in a Store. It is safe for
// concurrent use.
type Memory struct {
	store Store
	opt   Options
	err   error // a configuration error every method returns

	mu       sync.Mutex
	sessions map[string]*Working

	// written counts episodic bytes written since Compact last measured
	// the layer as measured; past the cap, Remember compacts.
	statMu   sync.Mutex
	measured int64
	written  int64

	// semanticMu serialises the read-modify-write of semantic memories
	// (confirmations, trust upgrades): the Store has no compare-and-swap.
	// Replicas sharing one store can still interleave; a lost
	// confirmation there costs a little confidence, never trust.
	semanticMu sync.Mutex
	compactMu  sync.Mutex // one Compact at a time
	fileMu     sync.Mutex // one writer of Dir at a time
}

// New returns a Memory over store. Invalid options (see
// Options.Validate) or a nil store do not panic: every method then
// returns the ErrConfig error, so that a misconfigured memory refuses
// rather than misbehaves.
func New(store Store, opts Options) *Memory {
	m := &Memory{store: store, sessions: map[string]*Working{}}
	m.err = opts.Validate()
	if m.err == nil && store == nil {
		m.err = fmt.Errorf("%w: no store", ErrConfig)
	}
	m.opt = opts.withDefaults()
	return m
}

func (m *Memory) now() time.Time { return m.opt.Now() }

// recordID derives a record's ID from what makes it one memory, so that
// the same memory written twice (an import run again, a fact repeated)
// lands on the same record.
func recordID(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return prefix + hex.EncodeToString(h.Sum(nil)[:12])
}

// isSeparator reports runes that may not appear in keys and scope parts.
func isSeparator(r rune) bool {
	return r == '/' || r <= ' ' || r == 0x7f || r == '\u2028' || r == '\u2029'
}
