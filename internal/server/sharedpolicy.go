package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/sharedpolicy"
)

// storeTimeout bounds one shared-policy read or write.
const storeTimeout = 10 * time.Second

// sharedStoreError is a shared-policy store that failed: the change was
// not made anywhere.
type sharedStoreError struct{ err error }

func (e *sharedStoreError) Error() string { return "shared policy store: " + e.err.Error() }
func (e *sharedStoreError) Unwrap() error { return e.err }

// Share makes st the policy's source of truth, for replicas on one store.
// The newest stored revision comes into force (and is written to the
// policy file) when it differs from the policy held; an empty store is
// given the policy held as revision 1. From then on Replace and file
// changes are stored as the next revision before they take effect here,
// and Follow brings in what other replicas stored. A stored revision that
// does not load here is an error: the replica would decide with another
// policy than its peers.
func (h *PolicyHolder) Share(ctx context.Context, st sharedpolicy.Store, now func() time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	h.shared, h.now = st, now
	for range 3 {
		r, err := st.LatestPolicy(ctx)
		if errors.Is(err, sharedpolicy.ErrNotFound) {
			err = h.publish(ctx, h.src, "startup")
			if errors.Is(err, ErrBaseHash) {
				continue // another replica stored the first revision
			}
			return err
		}
		if err != nil {
			return &sharedStoreError{err}
		}
		return h.adopt(r)
	}
	return fmt.Errorf("shared policy: replicas kept storing revisions while this one started; start it again")
}

// publish stores src as the revision after the one in force. A revision
// stored by another replica since is ErrBaseHash: the policy in force here
// is not the newest. The caller holds h.mu.
func (h *PolicyHolder) publish(ctx context.Context, src []byte, by string) error {
	if h.shared == nil {
		return nil
	}
	r := sharedpolicy.Revision{Seq: h.seq + 1, Hash: sharedpolicy.Hash(src), Source: src, By: by, At: h.now().UTC()}
	if r.By == "" {
		r.By = "unknown client"
	}
	if len(r.By) > 200 {
		r.By = strings.ToValidUTF8(r.By[:200], "")
	}
	switch err := h.shared.AppendPolicy(ctx, r); {
	case errors.Is(err, sharedpolicy.ErrConflict):
		return ErrBaseHash
	case err != nil:
		return &sharedStoreError{err}
	}
	h.seq = r.Seq
	return nil
}

// adopt puts stored revision r in force. The caller holds h.mu.
func (h *PolicyHolder) adopt(r sharedpolicy.Revision) error {
	if r.Hash == h.hash {
		h.seq = r.Seq
		return nil
	}
	name := "policy"
	if h.path != "" {
		name = filepath.Base(h.path)
	}
	p, err := parse(name, r.Source)
	if err != nil {
		return fmt.Errorf("shared policy revision %d (by %s) does not load here: %w", r.Seq, r.By, err)
	}
	if err := h.k.Reload(p); err != nil {
		return fmt.Errorf("shared policy revision %d (by %s) does not load here: %w", r.Seq, r.By, err)
	}
	if h.path != "" {
		// The file follows, so that the file watcher does not take the
		// old text for an edit. The policy is in force either way.
		if err := writeAtomic(h.path, r.Source); err != nil {
			h.set(r.Source, p)
			h.seq = r.Seq
			return &fileError{fmt.Errorf("shared policy revision %d is in force, but writing %s failed: %w", r.Seq, h.path, err)}
		}
	}
	h.set(r.Source, p)
	h.seq = r.Seq
	return nil
}

// SharedRevision returns the shared revision in force, 0 when the policy
// is not shared.
func (h *PolicyHolder) SharedRevision() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}

// Follow brings in the revisions other replicas store, checking every
// interval, until ctx ends. A revision that does not load here is logged
// (once) and the policy in force stays.
func (h *PolicyHolder) Follow(ctx context.Context, every time.Duration, log *slog.Logger) {
	if h.shared == nil {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if changed, err := h.followOnce(ctx); err != nil {
			log.Error("the shared policy could not be brought in; the previous policy stays in force", "error", err.Error())
		} else if changed {
			log.Info("shared policy brought in", "revision", h.SharedRevision(), "policy", h.k.Revision())
		}
	}
}

// followOnce reads the newest revision and adopts it when it is newer.
func (h *PolicyHolder) followOnce(ctx context.Context) (bool, error) {
	rctx, cancel := context.WithTimeout(ctx, storeTimeout)
	r, err := h.shared.LatestPolicy(rctx)
	cancel()
	if err != nil {
		return false, &sharedStoreError{err}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Seq <= h.seq || r.Seq == h.failed {
		return false, nil
	}
	err = h.adopt(r)
	var fe *fileError
	if err != nil && !errors.As(err, &fe) {
		h.failed = r.Seq
	}
	if h.OnReload != nil {
		h.OnReload(err)
	}
	return err == nil, err
}
