package audit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Retention says which events to drop: those older than MaxAge, and the
// oldest beyond the newest MaxEvents. Zero fields do not limit.
type Retention struct {
	MaxAge    time.Duration
	MaxEvents uint64
}

// Prune drops the events retention no longer keeps. Before deleting, it
// signs an anchor checkpoint for the last dropped event, stored in the
// same transaction as the delete, so that what remains still verifies
// from a signed point. It returns how many events were dropped.
func Prune(ctx context.Context, s Store, key *Key, r Retention, now time.Time) (int64, error) {
	if key == nil {
		return 0, errors.New("audit: pruning needs the signing key, to sign the anchor the remaining chain starts from")
	}
	if r.MaxAge <= 0 && r.MaxEvents == 0 {
		return 0, errors.New("audit: say what to prune: a maximum age, a maximum number of events, or both")
	}
	h, err := s.Head(ctx)
	if err != nil {
		return 0, err
	}
	var before uint64 // first seq to keep
	if r.MaxEvents > 0 && h.Seq > r.MaxEvents {
		before = h.Seq - r.MaxEvents + 1
	}
	if r.MaxAge > 0 {
		cut := now.Add(-r.MaxAge)
		// The first event at or after the cut is the first to keep.
		recs, err := s.Query(ctx, Filter{Since: cut, Limit: 1})
		if err != nil {
			return 0, err
		}
		switch {
		case len(recs) == 1:
			before = max(before, recs[0].Seq)
		default:
			before = max(before, h.Seq+1)
		}
	}
	if before <= 1 {
		return 0, nil
	}
	// The anchor names the last dropped event.
	var last *Record
	err = s.Scan(ctx, before-1, func(rec Record) error {
		last = &rec
		return errStop
	})
	if err != nil && err != errStop {
		return 0, err
	}
	if last == nil || last.Seq != before-1 {
		return 0, fmt.Errorf("audit: event %s, the last to drop, is not in the store; run 'sentinel audit verify'", shortSeq(before-1))
	}
	c := NewCheckpoint(Head{Seq: last.Seq, Hash: last.Hash}, now, ReasonAnchor)
	if err := key.Sign(c); err != nil {
		return 0, err
	}
	body, err := c.Encode()
	if err != nil {
		return 0, err
	}
	return s.Prune(ctx, before, Checkpoint{Seq: c.Seq, Hash: c.Hash, Body: body})
}

// Rotate hands the chain over from old to next: it signs a checkpoint at
// the current head with both keys, so that a verifier that trusts old
// learns to trust next from there on. An empty chain needs no rotation
// checkpoint.
func Rotate(ctx context.Context, s Store, old, next *Key, now time.Time) error {
	if old == nil || next == nil {
		return errors.New("audit: rotation needs the current key and the new one")
	}
	h, err := s.Head(ctx)
	if err != nil {
		return err
	}
	if h.Seq == 0 {
		return nil
	}
	c := NewCheckpoint(h, now, ReasonRotation)
	if err := old.Sign(c); err != nil {
		return err
	}
	if err := next.Sign(c); err != nil {
		return err
	}
	body, err := c.Encode()
	if err != nil {
		return err
	}
	if err := s.PutCheckpoint(ctx, Checkpoint{Seq: c.Seq, Hash: c.Hash, Body: body}); err != nil {
		return fmt.Errorf("audit: storing the rotation checkpoint: %w", err)
	}
	return nil
}
