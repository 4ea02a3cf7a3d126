package memory

import (
	"context"
	"errors"
	"time"
)

// Layers of stored memory (working memory lives in the process only).
const (
	LayerEpisodic = "episodic"
	LayerSemantic = "semantic"
)

// Compression levels of an episodic record: the full text, an extractive
// summary, a one-line gist, then forgotten (deleted).
const (
	LevelFull = iota
	LevelSummary
	LevelOneLine
)

// Source is where a memory came from.
type Source struct {
	// Kind is user, agent, tool or import.
	Kind string `json:"kind"`
	// Tool names the tool whose output it came from, for Kind tool.
	Tool string `json:"tool,omitempty"`
	// Trusted is false for anything from outside the user's control
	// (web pages, MCP tools, files flagged by the scan); untrusted
	// memories are never injected as instructions.
	Trusted bool `json:"trusted"`
	// Session and DecisionID tie it to the call that produced it.
	Session    string `json:"session,omitempty"`
	DecisionID string `json:"decision_id,omitempty"`
}

// Record is one stored memory.
type Record struct {
	ID    string `json:"id"`
	Layer string `json:"layer"`
	// Kind is, for episodic records, one of the event types; for
	// semantic ones preference, fact, rule, project or glossary.
	Kind string `json:"kind"`
	// Scope is the session scope the memory belongs to: "main",
	// "peer:<id>" or "channel:<c>/peer:<id>".
	Scope   string `json:"scope"`
	Agent   string `json:"agent,omitempty"`
	Session string `json:"session,omitempty"`
	// Key is a semantic record's subject (the preference's name, the
	// glossary term); records with the same layer, scope, kind and key
	// are one memory.
	Key string `json:"key,omitempty"`
	// Text is what is remembered at the current Level; Summary and
	// OneLine are kept ready for the next compression step.
	Text    string `json:"text"`
	Summary string `json:"summary,omitempty"`
	OneLine string `json:"one_line,omitempty"`
	Level   int    `json:"level"`
	// Importance is in [0,1]; Confidence (semantic) in [0,1].
	Importance    float64   `json:"importance"`
	Confidence    float64   `json:"confidence,omitempty"`
	Confirmations int       `json:"confirmations,omitempty"`
	Uses          int       `json:"uses,omitempty"`
	Source        Source    `json:"source"`
	Created       time.Time `json:"created"`
	Updated       time.Time `json:"updated"`
	LastUsed      time.Time `json:"last_used,omitzero"`
}

// Query selects records. Empty fields do not filter.
type Query struct {
	// Text is a full-text query (words, all of which must match, in any
	// form the store's full-text index stems to the same word); results
	// are then ranked by relevance, else by importance then recency.
	Text  string
	Layer string
	Kind  string
	Scope string
	Agent string
	Key   string
	// MaxLevel excludes records compressed beyond it (-1: no filter).
	MaxLevel int
	// Before/After bound Created.
	Before, After time.Time
	Limit         int // 0 means 100; at most 10,000
}

// MaxBatch bounds the queries of one SearchMemories call.
const MaxBatch = 64

// BatchSearcher is a Store that answers several searches at once, in one
// round trip to its database server (the PostgreSQL store). InjectContext
// uses it when the store has it. Each answer, in the order of the
// queries, is what SearchMemory gives for that query.
type BatchSearcher interface {
	SearchMemories(ctx context.Context, qs []Query) ([][]Record, error)
}

// Stats sizes the stored memory.
type Stats struct {
	Records map[string]int `json:"records"` // by layer
	Bytes   int64          `json:"bytes"`   // text, summaries and one-liners
}

// Store keeps memory records; the SQLite and PostgreSQL stores implement
// it (with full-text search: FTS5, tsvector), and NewMemStore keeps them
// in memory. Every method is safe for concurrent use.
type Store interface {
	// PutMemory inserts r or replaces the record with its ID.
	PutMemory(ctx context.Context, r Record) error
	// GetMemory returns the record, or an error wrapping ErrNotFound.
	GetMemory(ctx context.Context, id string) (Record, error)
	// DeleteMemory removes the record; a missing one is ErrNotFound.
	DeleteMemory(ctx context.Context, id string) error
	// SearchMemory returns the records q selects, best first.
	SearchMemory(ctx context.Context, q Query) ([]Record, error)
	// TouchMemory marks records as retrieved at t: Uses+1, LastUsed=t.
	TouchMemory(ctx context.Context, ids []string, t time.Time) error
	// MemoryStats sizes the store.
	MemoryStats(ctx context.Context) (Stats, error)
}

// ErrNotFound is wrapped by a Store for a missing record.
var ErrNotFound = errors.New("memory: no such record")
