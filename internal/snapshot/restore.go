package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// RestoreOptions change what Restore does.
type RestoreOptions struct {
	// DryRun reports what Restore would do, checking that the content it
	// would write is available and intact, and changes nothing.
	DryRun bool
}

// Report is what Restore did, path by path.
type Report struct {
	DryRun bool `json:"dry_run,omitempty"`
	// Restored lists what was put back (or would be, in a dry run).
	Restored []Outcome `json:"restored,omitempty"`
	// Failed lists what could not be put back, and why.
	Failed []Outcome `json:"failed,omitempty"`
	// Unchanged counts recorded paths that needed nothing.
	Unchanged int `json:"unchanged"`
}

// Outcome is what Restore did for one path.
type Outcome struct {
	Path string `json:"path"`
	// Change is what had happened to the path since the snapshot.
	Change ChangeKind `json:"change,omitempty"`
	// Action is what Restore did (or would do), or why it could not.
	Action string `json:"action"`
}

// Restore makes the recorded paths of the workspace match the snapshot
// again: files rewritten byte for byte (from the object store, or from
// git for content too large to store, when git gives the recorded hash),
// modes and owners restored, entries created since deleted, deleted ones
// recreated. Every write goes to a temporary file beside its target,
// renamed into place. It writes nothing but the recorded paths, the
// entries created since in directories recorded completely, and those
// temporary files; it follows no link, and does not write through a
// directory that is no longer one.
//
// A path it cannot restore is listed in Report.Failed and the error wraps
// ErrIncomplete; the rest is restored all the same.
func (s *Store) Restore(ctx context.Context, snap *Snapshot, opts RestoreOptions) (Report, error) {
	rep := Report{DryRun: opts.DryRun}
	if err := snap.validate(); err != nil {
		return rep, err
	}
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return rep, err
	}
	defer unlock()
	root, err := openWorkspace(snap.Workspace)
	if err != nil {
		return rep, err
	}
	defer root.close()
	r := &restorer{
		s: s, snap: snap, dry: opts.DryRun, rep: &rep,
		c: &cursor{root: root}, known: snap.paths(),
		failed: map[string]bool{}, emptied: map[string]bool{}, budget: maxRemove,
	}
	defer r.c.close()
	for i := range snap.Files {
		if err = ctx.Err(); err != nil {
			for _, f := range snap.Files[i:] {
				r.fail(f.Path, "", "not restored: "+err.Error())
			}
			break
		}
		r.one(ctx, &snap.Files[i])
	}
	// Directory modes last, deepest first: a read-only directory must
	// still take its entries back first.
	r.finishDirs()
	byPath := func(a, b Outcome) int { return comparePaths(a.Path, b.Path) }
	slices.SortStableFunc(rep.Restored, byPath)
	slices.SortStableFunc(rep.Failed, byPath)
	if err != nil {
		return rep, fmt.Errorf("snapshot: restoring %s: %w", snap.ID, err)
	}
	if len(rep.Failed) > 0 {
		first := rep.Failed[0]
		return rep, fmt.Errorf("%w: %d of the paths of %s could not be restored; first %s: %s", ErrIncomplete, len(rep.Failed), snap.ID, first.Path, first.Action)
	}
	return rep, nil
}

// restorer is one Restore under way.
type restorer struct {
	s     *Store
	snap  *Snapshot
	dry   bool
	rep   *Report
	c     *cursor
	known map[string]bool
	// failed holds directories that could not be made directories again:
	// nothing below them is touched.
	failed map[string]bool
	// emptied holds the paths a dry run would delete or recreate empty:
	// nothing would be below them.
	emptied map[string]bool
	// dirs are directories whose mode and owner are set at the end.
	dirs   []pendingDir
	budget int // entries left to delete
}

type pendingDir struct {
	f      *File
	change ChangeKind
	action string
}

func (r *restorer) done(p string, ch ChangeKind, action string) {
	r.rep.Restored = append(r.rep.Restored, Outcome{Path: p, Change: ch, Action: action})
}

func (r *restorer) fail(p string, ch ChangeKind, why string) {
	r.rep.Failed = append(r.rep.Failed, Outcome{Path: p, Change: ch, Action: why})
}

// failDir records a failure for f; a directory that is not back blocks
// everything below it.
func (r *restorer) failDir(f *File, ch ChangeKind, why string) {
	r.fail(f.Path, ch, why)
	if f.Dir {
		r.failed[f.Path] = true
	}
}

// blocked returns the nearest directory above p that could not be
// restored, or "".
func (r *restorer) blocked(p string, set map[string]bool) string {
	for p != "." {
		p, _ = splitPath(p)
		if set[p] {
			return p
		}
	}
	return ""
}

// one restores one recorded path.
func (r *restorer) one(ctx context.Context, f *File) {
	if anc := r.blocked(f.Path, r.failed); anc != "" {
		r.failDir(f, "", "not restored: its directory "+anc+" could not be restored")
		return
	}
	if r.dry && r.blocked(f.Path, r.emptied) != "" {
		r.intoEmptied(ctx, f)
		return
	}
	d, name, n, why, err := r.c.lookup(f.Path)
	if err == nil && why != "" {
		if !f.Exists {
			r.rep.Unchanged++ // absent, and nothing can be there
			return
		}
		err = errors.New(why)
	}
	if err != nil {
		r.failDir(f, "", "not restored: "+err.Error())
		return
	}
	cmp, err := r.s.compare(ctx, d, name, f, n)
	if err != nil {
		r.failDir(f, "", "not restored: "+err.Error())
		return
	}
	if cmp.Kind == Unchanged {
		r.rep.Unchanged++
	} else {
		r.undo(ctx, d, name, f, n, cmp)
	}
	if f.Dir && !f.Partial && !r.failed[f.Path] {
		r.removeCreated(f)
	}
}

// undo puts back the entry name of d (n now) as f records it.
func (r *restorer) undo(ctx context.Context, d *dirFD, name string, f *File, n node, cmp comparison) {
	ch := cmp.Kind
	switch f.kind() {
	case kindAbsent:
		if r.s.isStore(n) {
			r.fail(f.Path, ch, "not deleted: it is the snapshot store")
			return
		}
		if r.dry {
			r.emptied[f.Path] = true
			r.done(f.Path, ch, "would delete the "+n.kind.String()+" created since")
			return
		}
		err := r.removeAll(d, name, depthOf(f.Path))
		r.c.forget(f.Path)
		if err != nil {
			r.fail(f.Path, ch, "not deleted: "+err.Error())
			return
		}
		r.syncDir(d)
		r.done(f.Path, ch, "deleted the "+n.kind.String()+" created since")
	case kindDir:
		if n.kind == kindDir {
			r.dirs = append(r.dirs, pendingDir{f, ch, "restored its mode and owner"})
			return
		}
		action := "recreated the directory"
		if n.kind != kindAbsent {
			action = "replaced the " + n.kind.String() + " with the directory"
		}
		if r.dry {
			r.emptied[f.Path] = true
			r.done(f.Path, ch, "would have "+action)
			return
		}
		if n.kind != kindAbsent {
			err := r.removeAll(d, name, depthOf(f.Path))
			r.c.forget(f.Path)
			if err != nil {
				r.failDir(f, ch, "not restored: "+err.Error())
				return
			}
		}
		if err := d.mkdir(name, 0o700); err != nil {
			r.failDir(f, ch, "not restored: "+err.Error())
			return
		}
		r.syncDir(d)
		r.dirs = append(r.dirs, pendingDir{f, ch, action})
	case kindFile:
		if cmp.sameContent && n.nlink == 1 {
			r.fixFile(d, name, f, n, ch)
			return
		}
		// A file with other links is rewritten rather than changed in
		// place: its inode may also be a file outside the workspace.
		r.writeFile(ctx, d, name, f, n, ch)
	case kindLink:
		if cmp.sameContent {
			r.fixLink(d, name, f, ch)
			return
		}
		r.writeLink(d, name, f, n, ch)
	case kindSpecial:
		r.fail(f.Path, ch, "not restored: a special file (FIFO, socket or device) is not recreated")
	}
}

// intoEmptied handles, in a dry run, a path below one the run would
// delete or recreate: nothing would be there, so what existed would be
// recreated.
func (r *restorer) intoEmptied(ctx context.Context, f *File) {
	switch f.kind() {
	case kindAbsent:
		r.rep.Unchanged++
	case kindDir:
		r.emptied[f.Path] = true
		r.done(f.Path, Deleted, "would have recreated the directory")
	case kindFile:
		r.writeFile(ctx, nil, "", f, node{}, Deleted)
	case kindLink:
		r.done(f.Path, Deleted, fmt.Sprintf("would recreate the link to %q", f.Target))
	case kindSpecial:
		r.fail(f.Path, Deleted, "not restored: a special file (FIFO, socket or device) is not recreated")
	}
}

// source opens the recorded content of f: the stored copy, or else the
// blob of the snapshot's git commit.
func (r *restorer) source(ctx context.Context, f *File) (io.ReadCloser, string, error) {
	var stored error
	if f.Stored {
		obj, err := r.s.openObject(f.SHA256)
		if err == nil {
			return obj, "the snapshot store", nil
		}
		stored = err
	}
	rc, from, err := r.s.gitBlob(ctx, r.snap, f.Path)
	if err == nil {
		return rc, from, nil
	}
	if stored != nil {
		return nil, "", fmt.Errorf("%w, and git cannot give it: %w", stored, err)
	}
	why := f.Note
	if why == "" {
		why = "not stored"
	}
	return nil, "", fmt.Errorf("its content was not kept (%s), and git cannot give it: %w", why, err)
}

// writeFile writes the recorded content of f to a temporary file beside
// it and renames that into place.
func (r *restorer) writeFile(ctx context.Context, d *dirFD, name string, f *File, n node, ch ChangeKind) {
	src, from, err := r.source(ctx, f)
	if err != nil {
		r.fail(f.Path, ch, "not restored: "+err.Error())
		return
	}
	defer src.Close()
	if r.dry {
		if err := copyVerified(ctx, io.Discard, src, f.Size, f.SHA256, from); err != nil {
			r.fail(f.Path, ch, "not restored: "+err.Error())
			return
		}
		r.done(f.Path, ch, "would write the recorded content, from "+from)
		return
	}
	tmp, tmpName, err := d.createTemp()
	if err != nil {
		r.fail(f.Path, ch, "not restored: "+err.Error())
		return
	}
	renamed := false
	defer func() {
		tmp.Close()
		if !renamed {
			_ = d.remove(tmpName, false)
		}
	}()
	note, err := r.fillFile(ctx, tmp, src, f, from)
	if err != nil {
		r.fail(f.Path, ch, "not restored: "+err.Error())
		return
	}
	if n.kind == kindDir {
		err := r.removeAll(d, name, depthOf(f.Path))
		r.c.forget(f.Path)
		if err != nil {
			r.fail(f.Path, ch, "not restored: "+err.Error())
			return
		}
	}
	if err := d.rename(tmpName, name); err != nil {
		r.fail(f.Path, ch, "not restored: "+err.Error())
		return
	}
	renamed = true
	r.syncDir(d)
	r.done(f.Path, ch, "wrote the recorded content, from "+from+note)
}

// fillFile writes and verifies the content, then sets owner and mode (in
// that order: a chown clears setuid bits) and syncs.
func (r *restorer) fillFile(ctx context.Context, tmp *os.File, src io.Reader, f *File, from string) (string, error) {
	if err := copyVerified(ctx, tmp, src, f.Size, f.SHA256, from); err != nil {
		return "", err
	}
	note, err := r.setOwner(f, func(uid, gid uint32) error { return fileChown(tmp, uid, gid) })
	if err != nil {
		return "", err
	}
	if err := fileChmod(tmp, f.Mode); err != nil {
		return "", err
	}
	return note, tmp.Sync()
}

// fixFile restores the mode and owner of a file whose content is right.
func (r *restorer) fixFile(d *dirFD, name string, f *File, n node, ch ChangeKind) {
	if r.dry {
		r.done(f.Path, ch, "would restore its mode and owner")
		return
	}
	file, on, err := d.openFile(name)
	if err != nil {
		r.fail(f.Path, ch, "not restored: "+err.Error())
		return
	}
	defer file.Close()
	if on.dev != n.dev || on.ino != n.ino {
		r.fail(f.Path, ch, "not restored: it changed during the restore")
		return
	}
	if on.uid != f.UID || on.gid != f.GID {
		if !canChown() {
			r.fail(f.Path, ch, fmt.Sprintf("owner not restored: %d:%d needs root", f.UID, f.GID))
			return
		}
		if err := fileChown(file, f.UID, f.GID); err != nil {
			r.fail(f.Path, ch, "not restored: "+err.Error())
			return
		}
	}
	if err := fileChmod(file, f.Mode); err != nil {
		r.fail(f.Path, ch, "not restored: "+err.Error())
		return
	}
	r.done(f.Path, ch, "restored its mode and owner")
}

// writeLink creates the recorded link beside the entry and renames it
// into place.
func (r *restorer) writeLink(d *dirFD, name string, f *File, n node, ch ChangeKind) {
	if r.dry {
		r.done(f.Path, ch, fmt.Sprintf("would recreate the link to %q", f.Target))
		return
	}
	tmpName, err := d.symlinkTemp(f.Target)
	if err != nil {
		r.fail(f.Path, ch, "not restored: "+err.Error())
		return
	}
	note, err := r.setOwner(f, func(uid, gid uint32) error { return d.lchown(tmpName, uid, gid) })
	if err == nil && n.kind == kindDir {
		err = r.removeAll(d, name, depthOf(f.Path))
		r.c.forget(f.Path)
	}
	if err == nil {
		err = d.rename(tmpName, name)
	}
	if err != nil {
		_ = d.remove(tmpName, false)
		r.fail(f.Path, ch, "not restored: "+err.Error())
		return
	}
	r.syncDir(d)
	r.done(f.Path, ch, fmt.Sprintf("recreated the link to %q%s", f.Target, note))
}

// fixLink restores the owner of a link whose target is right.
func (r *restorer) fixLink(d *dirFD, name string, f *File, ch ChangeKind) {
	switch {
	case r.dry:
		r.done(f.Path, ch, "would restore its owner")
	case !canChown():
		r.fail(f.Path, ch, fmt.Sprintf("owner not restored: %d:%d needs root", f.UID, f.GID))
	default:
		if err := d.lchown(name, f.UID, f.GID); err != nil {
			r.fail(f.Path, ch, "not restored: "+err.Error())
			return
		}
		r.done(f.Path, ch, "restored its owner")
	}
}

// setOwner gives a new entry the recorded owner when this process may; a
// process that may not leaves its own, and the returned note says so when
// that differs.
func (r *restorer) setOwner(f *File, chown func(uid, gid uint32) error) (string, error) {
	if canChown() {
		return "", chown(f.UID, f.GID)
	}
	if uint32(os.Geteuid()) == f.UID && uint32(os.Getegid()) == f.GID {
		return "", nil
	}
	return fmt.Sprintf("; owner left as %d:%d (%d:%d needs root)", os.Geteuid(), os.Getegid(), f.UID, f.GID), nil
}

// removeCreated deletes what was created since in the directory f, which
// the snapshot lists completely.
func (r *restorer) removeCreated(f *File) {
	if r.dry && (r.emptied[f.Path] || r.blocked(f.Path, r.emptied) != "") {
		return
	}
	d, err := r.c.dir(f.Path)
	if err != nil {
		r.fail(f.Path, "", "entries created since not deleted: "+err.Error())
		return
	}
	names, more, err := d.names(r.budget + len(r.known))
	if err == nil && more {
		err = fmt.Errorf("more than %d entries", r.budget+len(r.known))
	}
	if err != nil {
		r.fail(f.Path, "", "entries created since not deleted: "+err.Error())
		return
	}
	slices.Sort(names)
	removed := false
	for _, name := range names {
		p := joinPath(f.Path, name)
		if r.known[p] {
			continue
		}
		n, err := d.stat(name)
		switch {
		case err != nil:
			r.fail(p, Created, "not deleted: "+err.Error())
			continue
		case n.kind == kindAbsent, r.s.isStore(n):
			continue
		case r.dry:
			r.done(p, Created, "would delete the "+n.kind.String()+" created since")
			continue
		}
		err = r.removeAll(d, name, depthOf(p))
		r.c.forget(p)
		if err != nil {
			r.fail(p, Created, "not deleted: "+err.Error())
			continue
		}
		removed = true
		r.done(p, Created, "deleted the "+n.kind.String()+" created since")
	}
	if removed {
		r.syncDir(d)
	}
}

// removeAll deletes the entry name of d and, for a directory, everything
// in it, without following links; r.budget bounds the entries.
func (r *restorer) removeAll(d *dirFD, name string, depth int) error {
	n, err := d.stat(name)
	if err != nil || n.kind == kindAbsent {
		return err
	}
	if r.budget <= 0 {
		return fmt.Errorf("more than %d entries to delete in one restore", maxRemove)
	}
	r.budget--
	if n.kind != kindDir {
		return d.remove(name, false)
	}
	if r.s.isStore(n) {
		return fmt.Errorf("%s holds the snapshot store", joinOS(d.path, name))
	}
	if depth > maxDepth {
		return fmt.Errorf("%s is more than %d levels deep", joinOS(d.path, name), maxDepth)
	}
	sub, err := d.openDir(name)
	if err != nil {
		return err
	}
	defer sub.close()
	names, more, err := sub.names(r.budget)
	if err == nil && more {
		err = fmt.Errorf("more than %d entries to delete in one restore", maxRemove)
	}
	if err != nil {
		return err
	}
	for _, child := range names {
		if err := r.removeAll(sub, child, depth+1); err != nil {
			return err
		}
	}
	return d.remove(name, true)
}

// finishDirs sets the recorded mode and owner of recreated and changed
// directories, deepest first.
func (r *restorer) finishDirs() {
	for i := len(r.dirs) - 1; i >= 0; i-- {
		p := r.dirs[i]
		if r.dry {
			r.done(p.f.Path, p.change, "would have "+p.action)
			continue
		}
		d, err := r.c.dir(p.f.Path)
		if err != nil {
			r.fail(p.f.Path, p.change, "mode and owner not restored: "+err.Error())
			continue
		}
		note, err := r.setOwner(p.f, d.chown)
		if err == nil {
			err = d.chmod(p.f.Mode)
		}
		if err != nil {
			r.fail(p.f.Path, p.change, "mode and owner not restored: "+err.Error())
			continue
		}
		r.done(p.f.Path, p.change, p.action+note)
	}
}

// syncDir makes the renames and removals in d durable; a failure is
// reported against nothing, as the entries themselves are in place.
func (r *restorer) syncDir(d *dirFD) { _ = d.sync() }

// depthOf is how many names a recorded path has.
func depthOf(p string) int {
	if p == "." {
		return 0
	}
	n := 1
	for i := range len(p) {
		if p[i] == '/' {
			n++
		}
	}
	return n
}
