package audit

import (
	"context"
	"errors"
	"time"
)

// Head is the end of the chain: the last event's sequence number and hash.
// The zero Head is an empty chain.
type Head struct {
	Seq  uint64
	Hash string
}

// Record is one sealed event as a store keeps it: the columns queries
// filter on, and Body, the event's canonical encoding (which includes Seq,
// PrevHash and Hash), the only thing verification trusts.
type Record struct {
	Seq        uint64
	Hash       string
	PrevHash   string
	Time       time.Time // UTC
	EventID    string
	Type       string // "decision", "outcome", …
	DecisionID string
	Session    string
	Agent      string
	Tool       string
	Kind       string // canonical tool kind
	Action     string
	Risk       float64
	Verify     string // verify status of an outcome event ("pass", "warn", "fail"), else ""
	Body       []byte
}

// Checkpoint is a signed statement "the chain up to Seq ends in Hash".
// Body is its canonical encoding with the signatures; Seq and Hash repeat
// what Body says so that stores can index them.
type Checkpoint struct {
	Seq  uint64
	Hash string
	Body []byte
}

// Filter selects records. Zero fields do not filter.
type Filter struct {
	Session, Agent, Tool, Action, Verify string
	// MinRisk keeps records with Risk ≥ MinRisk when HasMinRisk is set.
	MinRisk    float64
	HasMinRisk bool
	// Since and Until bound Time: Since ≤ Time < Until.
	Since, Until time.Time
	// AfterSeq pages forward (records with Seq > AfterSeq) in ascending
	// order; BeforeSeq pages backward (Seq < BeforeSeq) in descending order
	// when Desc is set.
	AfterSeq  uint64
	BeforeSeq uint64
	Desc      bool
	// Limit caps the number of records; 0 means the store's default (100),
	// and stores cap it at 10,000.
	Limit int
}

// Stats summarises the records a Filter selects.
type Stats struct {
	Total    int64
	ByAction map[string]int64
	ByTool   map[string]int64
	// Failures counts records whose Verify is "fail".
	Failures int64
	// HighRisk counts records with Risk ≥ the threshold asked for.
	HighRisk int64
}

// Seal turns the events of one append into records chained after head.
// Stores call it inside the transaction that holds the chain's lock, so
// that head is the true end of the chain when several writers (threads,
// processes, replicas) append at once.
type Seal func(head Head) ([]Record, error)

// Store keeps the audit chain. It is declared here, by its consumer; the
// SQLite and PostgreSQL stores implement it and internal/store/storetest
// holds them to one acceptance suite.
type Store interface {
	// Append locks the chain against every other writer, reads the head,
	// calls seal, inserts the records it returns, and commits. The records
	// must continue the head exactly (Seq = head.Seq+1, …, PrevHash =
	// head.Hash); a store refuses anything else with ErrConflict. When
	// Append returns nil the records are committed with the durability the
	// store was opened with.
	Append(ctx context.Context, seal Seal) (Head, error)
	// Head returns the end of the chain.
	Head(ctx context.Context) (Head, error)
	// Scan calls fn for every record with Seq ≥ from in ascending Seq
	// order, stopping at the first error fn returns (which Scan returns).
	Scan(ctx context.Context, from uint64, fn func(Record) error) error
	// Query returns the records the filter selects, ascending by Seq
	// unless f.Desc.
	Query(ctx context.Context, f Filter) ([]Record, error)
	// Stats summarises the records the filter selects; Limit and the
	// paging fields are ignored.
	Stats(ctx context.Context, f Filter, highRisk float64) (Stats, error)
	// PutCheckpoint stores a checkpoint; storing one for a Seq that has
	// one already replaces it only when the Hash is the same (a rotation
	// adds a second signature), else it is ErrConflict.
	PutCheckpoint(ctx context.Context, c Checkpoint) error
	// Checkpoints returns the checkpoints with Seq ≥ from, ascending.
	Checkpoints(ctx context.Context, from uint64) ([]Checkpoint, error)
	// Prune deletes the records with Seq < before and stores anchor (a
	// checkpoint for Seq before-1) in the same transaction, so that what
	// remains verifies from the anchor. It returns how many records went.
	Prune(ctx context.Context, before uint64, anchor Checkpoint) (int64, error)
	// Close releases the store.
	Close() error
}

// ErrConflict is returned by a store when records do not continue the
// chain or a checkpoint contradicts a stored one.
var ErrConflict = errors.New("audit: the records do not continue the chain")
