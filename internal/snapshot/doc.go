// Package snapshot keeps what a tool call may change, so that Sentinel can
// tell afterwards what did change and put it back.
//
// Before a call that may write files, Take records each named path —
// existence, type, mode, owner, size and SHA-256, directories walked — and
// copies file content into a content-addressed object store (objects are
// named by their hash, so the same content is kept once). Diff compares the
// workspace with a snapshot; Restore makes the workspace match it again:
// content rewritten byte for byte, modes restored, files created since
// deleted, deleted ones recreated. Rollback therefore works without git;
// git is only a fallback for files too large to copy, and then only when
// the blob git returns has the recorded hash.
//
// The package never follows a symbolic link: every access below the
// workspace walks one path component at a time with O_NOFOLLOW, so a link
// is recorded as a link and restored as a link, and neither Take nor
// Restore reads or writes through one, whether it points inside the
// workspace or out of it. Restore writes only the paths a snapshot records
// (and temporary files beside them, renamed into place); a directory that
// is no longer a directory is not written through. The store's own
// directory is skipped if it lies inside a workspace.
//
// It fails closed: a Take that cannot read what it must record fails, and
// the caller refuses the call; a Restore that cannot put a path back says
// so in its Report and returns ErrIncomplete. Work is bounded per call:
// files per snapshot, bytes copied per file, directory depth, git output
// and time (the context, and a timeout on every git command).
//
// A Store is safe for concurrent use, and several processes may share its
// directory: objects and snapshots are written to temporary files and
// renamed into place, and a lock file keeps GC from removing objects while
// a Take or Restore is under way.
package snapshot
