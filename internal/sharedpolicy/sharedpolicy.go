// Package sharedpolicy keeps the policy text in the store, so that server
// replicas on one store decide with one policy: a change made through any
// replica's API (or its policy file) is appended as the next revision, and
// every replica follows the newest.
//
// Revisions are numbered 1, 2, …; appending revision n succeeds only when
// the newest stored is n-1. That is the compare-and-set two replicas
// changing the policy at once need: one wins, the other is told the policy
// changed under it.
package sharedpolicy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Errors the stores wrap.
var (
	// ErrNotFound: no policy is stored yet.
	ErrNotFound = errors.New("no shared policy is stored")
	// ErrConflict: the revision appended is not one past the newest.
	ErrConflict = errors.New("the shared policy changed since it was read")
	// ErrInvalid: the revision is malformed.
	ErrInvalid = errors.New("invalid policy revision")
)

// MaxSource bounds a stored policy text (the server's request limit is
// lower).
const MaxSource = 4 << 20

// Revision is one stored policy text.
type Revision struct {
	Seq    int64     // 1 for the first
	Hash   string    // Hash(Source)
	Source []byte    // the policy file's text
	By     string    // who stored it: a client name, "file" or "startup"
	At     time.Time // when
}

// Hash is the hash a revision carries: "sha256:" and the hex digest, as
// GET /v1/policy reports it.
func Hash(src []byte) string {
	sum := sha256.Sum256(src)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Check reports what makes r unfit to store.
func (r Revision) Check() error {
	switch {
	case r.Seq < 1:
		return fmt.Errorf("%w: revision %d (they start at 1)", ErrInvalid, r.Seq)
	case len(r.Source) == 0 || len(r.Source) > MaxSource:
		return fmt.Errorf("%w: a policy text of %d bytes (1 to %d)", ErrInvalid, len(r.Source), MaxSource)
	case r.Hash != Hash(r.Source):
		return fmt.Errorf("%w: revision %d's hash is not its text's", ErrInvalid, r.Seq)
	case r.By == "" || len(r.By) > 200 || !utf8.ValidString(r.By):
		return fmt.Errorf("%w: revision %d needs who stored it (1 to 200 bytes of UTF-8)", ErrInvalid, r.Seq)
	case r.At.IsZero():
		return fmt.Errorf("%w: revision %d has no time", ErrInvalid, r.Seq)
	}
	return nil
}

// Store keeps the revisions.
type Store interface {
	// LatestPolicy returns the newest revision, or an error wrapping
	// ErrNotFound when none is stored.
	LatestPolicy(ctx context.Context) (Revision, error)
	// AppendPolicy stores r, which must pass Check and be one past the
	// newest stored (1 when none is); any other Seq is an error wrapping
	// ErrConflict.
	AppendPolicy(ctx context.Context, r Revision) error
}
