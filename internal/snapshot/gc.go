package snapshot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
)

// GCReport is what GC removed and what it kept.
type GCReport struct {
	DroppedSnapshots int   `json:"dropped_snapshots"`
	KeptSnapshots    int   `json:"kept_snapshots"`
	RemovedObjects   int   `json:"removed_objects"`
	FreedBytes       int64 `json:"freed_bytes"`
	// KeptBytes is the size of the objects kept, at most MaxBytes.
	KeptBytes   int64 `json:"kept_bytes"`
	RemovedTemp int   `json:"removed_temp"`
}

// GC drops snapshots taken more than olderThan ago (0 keeps them all by
// age), then the oldest others until the objects they reference fit in
// MaxBytes, and removes every object no remaining snapshot references,
// with files left behind by writers that crashed. It holds the store's
// lock exclusively, so no Take or Restore of any process runs meanwhile.
//
// A snapshot file it cannot read stops it before it removes anything:
// removing objects it might reference would break it silently.
func (s *Store) GC(ctx context.Context, olderThan time.Duration) (GCReport, error) {
	var rep GCReport
	if olderThan < 0 {
		return rep, fmt.Errorf("%w: GC age %v is negative; use 0 to drop snapshots by MaxBytes only", ErrInvalid, olderThan)
	}
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return rep, err
	}
	defer unlock()

	snaps, sums, err := s.scanSnapshots(ctx)
	if err != nil {
		return rep, fmt.Errorf("snapshot: GC stopped, nothing removed: %w", err)
	}
	sizes, err := s.scanObjects(ctx)
	if err != nil {
		return rep, fmt.Errorf("snapshot: GC stopped, nothing removed: %w", err)
	}
	refs := make([]int, len(sums))
	for _, sn := range snaps {
		for _, o := range sn.objects {
			refs[o]++
		}
	}
	drop := func(sn *gcSnap) {
		sn.dropped = true
		for _, o := range sn.objects {
			if refs[o]--; refs[o] == 0 {
				if size, ok := sizes[sums[o]]; ok {
					rep.KeptBytes -= size
				}
			}
		}
	}
	for sum, size := range sizes {
		if o, ok := slices.BinarySearch(sums, sum); ok && refs[o] > 0 {
			rep.KeptBytes += size
		}
	}
	if olderThan > 0 {
		cut := s.opts.Now().Add(-olderThan)
		for i := range snaps {
			if snaps[i].time.Before(cut) {
				drop(&snaps[i])
			}
		}
	}
	for i := range snaps { // oldest first
		if rep.KeptBytes <= s.opts.MaxBytes {
			break
		}
		if !snaps[i].dropped {
			drop(&snaps[i])
		}
	}

	// Snapshots go first, then what only they referenced: a crash in
	// between leaves unreferenced objects, never a snapshot missing one.
	kept := map[string]bool{}
	for _, sn := range snaps {
		if !sn.dropped {
			kept[sn.id] = true
			rep.KeptSnapshots++
			continue
		}
		if err := os.Remove(s.path("snapshots", sn.id+".json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return rep, fmt.Errorf("snapshot: GC: %w", err)
		}
		rep.DroppedSnapshots++
	}
	if rep.DroppedSnapshots > 0 {
		if err := syncDir(s.path("snapshots")); err != nil {
			return rep, err
		}
	}
	if err := s.pruneDecisions(kept); err != nil {
		return rep, err
	}
	for sum, size := range sizes {
		if o, ok := slices.BinarySearch(sums, sum); ok && refs[o] > 0 {
			continue
		}
		if err := os.Remove(s.objectPath(sum)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return rep, fmt.Errorf("snapshot: GC: %w", err)
		}
		rep.RemovedObjects++
		rep.FreedBytes += size
	}
	n, err := s.clearTemp()
	rep.RemovedTemp = n
	return rep, err
}

// gcSnap is what GC needs of a snapshot: its age and the objects it
// references, as indexes into the sorted list of all referenced sums.
type gcSnap struct {
	id      string
	time    time.Time
	objects []int
	dropped bool
}

// scanSnapshots reads every snapshot, oldest first, with the sorted sums
// of the objects they reference.
func (s *Store) scanSnapshots(ctx context.Context) ([]gcSnap, []string, error) {
	entries, err := os.ReadDir(s.path("snapshots"))
	if err != nil {
		return nil, nil, err
	}
	var snaps []gcSnap
	bySnap := map[string][]string{}
	all := map[string]bool{}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || checkID(id) != nil {
			continue // not ours
		}
		sn, err := s.Load(id)
		if err != nil {
			return nil, nil, fmt.Errorf("%w; move the file out of %s if it cannot be repaired", err, s.path("snapshots"))
		}
		var own []string
		for _, f := range sn.Files {
			if f.Stored {
				own = append(own, f.SHA256)
				all[f.SHA256] = true
			}
		}
		slices.Sort(own)
		bySnap[id] = slices.Compact(own)
		snaps = append(snaps, gcSnap{id: id, time: sn.Time})
	}
	sums := make([]string, 0, len(all))
	for sum := range all {
		sums = append(sums, sum)
	}
	slices.Sort(sums)
	for i := range snaps {
		for _, sum := range bySnap[snaps[i].id] {
			o, _ := slices.BinarySearch(sums, sum)
			snaps[i].objects = append(snaps[i].objects, o)
		}
	}
	slices.SortFunc(snaps, func(a, b gcSnap) int {
		return cmp.Or(a.time.Compare(b.time), strings.Compare(a.id, b.id))
	})
	return snaps, sums, nil
}

// scanObjects returns the size of every object in the store. Names that
// are not object names are left alone.
func (s *Store) scanObjects(ctx context.Context) (map[string]int64, error) {
	dirs, err := os.ReadDir(s.path("objects"))
	if err != nil {
		return nil, err
	}
	sizes := map[string]int64{}
	for _, d := range dirs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !d.IsDir() || len(d.Name()) != 2 || !isLowerHex(d.Name()) {
			continue
		}
		files, err := os.ReadDir(s.path("objects", d.Name()))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if len(f.Name()) != 62 || !isLowerHex(f.Name()) || !f.Type().IsRegular() {
				continue
			}
			info, err := f.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			sizes[d.Name()+f.Name()] = info.Size()
		}
	}
	return sizes, nil
}

// pruneDecisions removes the links of decisions whose latest snapshot is
// gone.
func (s *Store) pruneDecisions(kept map[string]bool) error {
	entries, err := os.ReadDir(s.path("snapshots"))
	if err != nil {
		return fmt.Errorf("snapshot: GC: %w", err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), latestSuffix) {
			continue
		}
		path := s.path("snapshots", e.Name())
		id, err := latest(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("snapshot: GC: %w", err)
		}
		if err == nil && !kept[id] {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("snapshot: GC: %w", err)
			}
		}
	}
	return nil
}

// clearTemp removes what writers left in tmp/. Every writer holds the
// lock GC holds exclusively, so whatever is there is abandoned.
func (s *Store) clearTemp() (int, error) {
	entries, err := os.ReadDir(s.path("tmp"))
	if err != nil {
		return 0, fmt.Errorf("snapshot: GC: %w", err)
	}
	n := 0
	for _, e := range entries {
		if err := os.Remove(s.path("tmp", e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("snapshot: GC: %w", err)
		}
		n++
	}
	return n, nil
}
