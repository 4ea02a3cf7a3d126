package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Take records paths of workspace before a call that may change them and
// saves the snapshot under a new id, findable by decisionID too. Paths
// are files or directories, relative to the workspace or absolute under
// it; a path outside it is refused. Directories are walked (up to
// MaxFiles entries in all); links are recorded, never followed; a path
// that does not exist is recorded as absent, with its missing
// directories, so that Restore can delete what the call creates there.
func (s *Store) Take(ctx context.Context, decisionID, ws string, paths []string) (*Snapshot, error) {
	if err := checkDecisionID(decisionID); err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: no paths to snapshot; name the files or directories the call may change", ErrInvalid)
	}
	if len(paths) > s.opts.MaxFiles {
		return nil, fmt.Errorf("%w: %d paths; a snapshot holds at most MaxFiles (%d) entries", ErrInvalid, len(paths), s.opts.MaxFiles)
	}
	w, err := resolveWorkspace(ws)
	if err != nil {
		return nil, err
	}
	rels := make([]string, 0, len(paths))
	for _, p := range paths {
		r, err := w.rel(p)
		if err != nil {
			return nil, err
		}
		rels = append(rels, r)
	}
	slices.SortFunc(rels, comparePaths)
	rels = slices.Compact(rels)

	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	root, err := openWorkspace(w.real)
	if err != nil {
		return nil, err
	}
	defer root.close()
	if n, err := root.self(); err != nil {
		return nil, err
	} else if s.isStore(n) {
		return nil, fmt.Errorf("%w: the workspace %s is the snapshot store", ErrInvalid, w.real)
	}

	t := &taker{s: s, files: map[string]*File{}, newDirs: map[string]bool{}}
	for _, r := range rels {
		if err := t.add(ctx, root, r); err != nil {
			return nil, err
		}
	}
	now := s.opts.Now().UTC()
	snap := &Snapshot{
		ID: newID(now), DecisionID: decisionID, Time: now, Workspace: w.real,
		Files: make([]File, 0, len(t.files)), Truncated: t.truncated,
	}
	for _, f := range t.files {
		snap.Files = append(snap.Files, *f)
		if f.Stored {
			snap.Bytes += f.Size
		}
	}
	sortFiles(snap.Files)
	if !s.opts.NoGit {
		snap.Git = s.gitState(ctx, w.real)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The objects are durable before the snapshot that needs them.
	for dir := range t.newDirs {
		if err := syncDir(dir); err != nil {
			return nil, err
		}
	}
	if err := s.save(snap); err != nil {
		return nil, err
	}
	return snap, nil
}

// taker gathers the entries of one Take.
type taker struct {
	s         *Store
	files     map[string]*File
	truncated bool
	newDirs   map[string]bool // object directories to sync
}

// room reports whether another entry fits, and marks the snapshot
// truncated when none does.
func (t *taker) room() bool {
	if len(t.files) < t.s.opts.MaxFiles {
		return true
	}
	t.truncated = true
	return false
}

// add records the path r, its directories on the way, and what is below
// it.
func (t *taker) add(ctx context.Context, root *dirFD, r string) error {
	if r == "." {
		n, err := root.self()
		if err != nil {
			return err
		}
		return t.dir(ctx, root, ".", n, 0)
	}
	comps := strings.Split(r, "/")
	d := root
	defer func() {
		if d != root {
			d.close()
		}
	}()
	for i, c := range comps {
		p := strings.Join(comps[:i+1], "/")
		last := i == len(comps)-1
		n, err := d.stat(c)
		if err != nil {
			return err
		}
		if t.s.isStore(n) {
			return fmt.Errorf("%w: %s is the snapshot store, not part of the workspace", ErrInvalid, p)
		}
		switch {
		case n.kind == kindAbsent:
			// Record the missing directories too: if the call creates
			// them, Restore removes them.
			for j := i; j < len(comps); j++ {
				missing := strings.Join(comps[:j+1], "/")
				if t.files[missing] != nil {
					continue // recorded for an earlier path
				}
				if !t.room() {
					break
				}
				t.files[missing] = &File{Path: missing}
			}
			return nil
		case last && n.kind == kindDir:
			sub, err := d.openDir(c)
			if err != nil {
				return changedErr(err, p)
			}
			err = t.dir(ctx, sub, p, n, i+1)
			sub.close()
			return err
		case last:
			return t.entry(ctx, d, c, p, n)
		case n.kind != kindDir:
			// A link or a file where r needs a directory: record it as
			// it is and go no further.
			if err := t.entry(ctx, d, c, p, n); err != nil {
				return err
			}
			if f := t.files[p]; f != nil && f.Note == "" {
				f.Note = fmt.Sprintf("on the way to %s: not a directory, not followed", r)
			}
			return nil
		}
		// A directory on the way: its existence and mode, not its
		// entries.
		if t.files[p] == nil {
			if !t.room() {
				return nil
			}
			t.files[p] = &File{Path: p, Exists: true, Dir: true, Partial: true, Mode: n.perm, UID: n.uid, GID: n.gid}
		}
		sub, err := d.openDir(c)
		if err != nil {
			return changedErr(err, p)
		}
		if d != root {
			d.close()
		}
		d = sub
	}
	return nil
}

// changedErr explains a directory that stopped being one between being
// listed and being opened.
func changedErr(err error, p string) error {
	if isNotDir(err) {
		return fmt.Errorf("snapshot: %s changed while being recorded (it is no longer a directory); take the snapshot again: %w", p, err)
	}
	return err
}

// entry records the entry name of d (a file, link or special file), at
// path p.
func (t *taker) entry(ctx context.Context, d *dirFD, name, p string, n node) error {
	if t.files[p] != nil || !t.room() {
		return nil
	}
	f := File{Path: p, Exists: true, Mode: n.perm, UID: n.uid, GID: n.gid}
	switch n.kind {
	case kindLink:
		target, err := d.readlink(name)
		if err != nil {
			return err
		}
		f.Link, f.Target, f.Mode = true, target, 0
	case kindSpecial:
		f.Special = true
		f.Note = "special file (FIFO, socket or device): existence and mode recorded, not content"
	case kindFile:
		file, on, err := d.openFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			f = File{Path: p} // gone since it was listed
			break
		}
		if err != nil {
			return changedErr(err, p)
		}
		c, err := t.s.storeFile(ctx, file)
		file.Close()
		if err != nil {
			return err
		}
		if c.newIn != "" {
			t.newDirs[c.newIn] = true
		}
		f.Mode, f.UID, f.GID = on.perm, on.uid, on.gid
		f.Size, f.SHA256, f.Stored, f.Note = c.size, c.sum, c.stored, c.note
	default:
		return fmt.Errorf("snapshot: %s: unexpected %s", p, n.kind)
	}
	t.files[p] = &f
	return nil
}

// dir records the directory d (at path p, described by n) and walks it.
// A directory whose entries are not all recorded is marked Partial.
func (t *taker) dir(ctx context.Context, d *dirFD, p string, n node, depth int) error {
	f := t.files[p]
	switch {
	case f != nil && !f.Partial:
		return nil // walked already
	case f == nil:
		if !t.room() {
			return nil
		}
		f = &File{Path: p, Exists: true, Dir: true, Mode: n.perm, UID: n.uid, GID: n.gid}
		t.files[p] = f
	}
	f.Partial = true
	if depth >= maxDepth {
		f.Note = fmt.Sprintf("more than %d levels deep: entries not recorded", maxDepth)
		return nil
	}
	names, more, err := d.names(t.s.opts.MaxFiles - len(t.files))
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		cp := joinPath(p, name)
		if t.files[cp] != nil && !t.files[cp].Partial {
			continue
		}
		if !t.room() {
			break
		}
		cn, err := d.stat(name)
		if err != nil {
			return err
		}
		switch {
		case cn.kind == kindAbsent, t.s.isStore(cn):
			// Gone since it was listed, or the store itself.
		case cn.kind == kindDir:
			sub, err := d.openDir(name)
			if err != nil {
				return changedErr(err, cp)
			}
			err = t.dir(ctx, sub, cp, cn, depth+1)
			sub.close()
			if err != nil {
				return err
			}
		default:
			if err := t.entry(ctx, d, name, cp, cn); err != nil {
				return err
			}
		}
	}
	if more {
		t.truncated = true
		f.Note = "more entries than MaxFiles allows: not all recorded"
	}
	f.Partial = more || t.truncated && !t.allRecorded(d, p, names)
	return nil
}

// allRecorded reports whether every listed entry of p was recorded: after
// the bound is hit, a directory is complete only if it was finished
// before.
func (t *taker) allRecorded(d *dirFD, p string, names []string) bool {
	for _, name := range names {
		if t.files[joinPath(p, name)] == nil {
			// Maybe gone, maybe the store, maybe not recorded: look.
			n, err := d.stat(name)
			if err != nil || (n.kind != kindAbsent && !t.s.isStore(n)) {
				return false
			}
		}
	}
	return true
}
