package snapshot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ChangeKind is what happened to a path since its snapshot.
type ChangeKind string

// The kinds of change.
const (
	Unchanged   ChangeKind = "unchanged"
	Modified    ChangeKind = "modified"     // content, mode, owner or link target
	Created     ChangeKind = "created"      // absent then, present now
	Deleted     ChangeKind = "deleted"      // present then, absent now
	TypeChanged ChangeKind = "type_changed" // e.g. a file that is now a link
)

// Change is the state of one path now against its snapshot.
type Change struct {
	Path   string     `json:"path"`
	Kind   ChangeKind `json:"kind"`
	Detail string     `json:"detail,omitempty"`
}

// Diff compares the workspace now with the snapshot: one Change per
// recorded path, unchanged ones included, plus one per entry created
// since in a directory the snapshot lists completely (and below it, up to
// MaxFiles of them). Changes come in depth-first path order. Links are
// compared, not followed.
func (s *Store) Diff(ctx context.Context, snap *Snapshot) ([]Change, error) {
	if err := snap.validate(); err != nil {
		return nil, err
	}
	root, err := openWorkspace(snap.Workspace)
	if err != nil {
		return nil, err
	}
	defer root.close()
	c := &cursor{root: root}
	defer c.close()
	known := snap.paths()
	budget := s.opts.MaxFiles
	stopped := false
	var out []Change
	for i := range snap.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f := &snap.Files[i]
		d, name, n, why, err := c.lookup(f.Path)
		if err != nil {
			return nil, err
		}
		ch, err := s.compare(ctx, d, name, f, n)
		if err != nil {
			return nil, err
		}
		if why != "" {
			ch.Detail = why
		}
		out = append(out, ch.Change)
		// Below a directory listed completely, what is not recorded is
		// new; so is everything below a directory that was not one.
		if n.kind == kindDir && !s.isStore(n) && (f.kind() != kindDir || !f.Partial) && !stopped {
			err := s.listCreated(ctx, c, f.Path, known, &budget, &out)
			switch {
			case errors.Is(err, errStopListing):
				stopped = true
			case err != nil:
				return nil, err
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Change) int { return comparePaths(a.Path, b.Path) })
	return out, nil
}

// paths is the set of recorded paths.
func (s *Snapshot) paths() map[string]bool {
	m := make(map[string]bool, len(s.Files))
	for _, f := range s.Files {
		m[f.Path] = true
	}
	return m
}

// listCreated appends a Created change for each entry of the directory p
// that the snapshot does not record, descending into new directories.
// budget bounds how many are listed.
func (s *Store) listCreated(ctx context.Context, c *cursor, p string, known map[string]bool, budget *int, out *[]Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := c.dir(p)
	if err != nil {
		return err
	}
	// Recorded entries are skipped, so read enough names to see budget
	// new ones past all of them.
	names, _, err := d.names(max(*budget, 0) + len(known) + 1)
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		cp := joinPath(p, name)
		if known[cp] {
			continue // reported on its own
		}
		n, err := d.stat(name)
		if err != nil {
			return err
		}
		if n.kind == kindAbsent || s.isStore(n) {
			continue
		}
		if *budget <= 0 {
			*out = append(*out, Change{Path: cp, Kind: Created, Detail: fmt.Sprintf("%s; listing stopped here: more entries were created than MaxFiles (%d)", n.kind, s.opts.MaxFiles)})
			return errStopListing
		}
		*budget--
		*out = append(*out, Change{Path: cp, Kind: Created, Detail: n.kind.String()})
		if n.kind == kindDir && strings.Count(cp, "/") < maxDepth-1 {
			if err := s.listCreated(ctx, c, cp, known, budget, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// errStopListing ends a listing of created entries at the bound.
var errStopListing = errors.New("listing stopped")
