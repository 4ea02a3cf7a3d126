package snapshot

import "errors"

// codedError is an error with a stable machine code. Callers wrap these
// with context; Code finds the code through the wrapping.
type codedError struct{ code, msg string }

func (e *codedError) Error() string { return e.msg }

// The errors of this package. Each has a stable code, which Code returns
// for it and for any error wrapping it.
var (
	// ErrInvalid is bad input: an option, an id, a path or a snapshot
	// field that is malformed or out of bounds.
	ErrInvalid error = &codedError{"snapshot.invalid", "invalid snapshot input"}
	// ErrOutside refuses a path that is not inside the workspace.
	ErrOutside error = &codedError{"snapshot.outside_workspace", "path outside the workspace"}
	// ErrNotFound says that no snapshot has the id or decision id asked for.
	ErrNotFound error = &codedError{"snapshot.not_found", "no such snapshot"}
	// ErrCorrupt says that something in the store is not what was
	// written there: a snapshot that does not parse, an object whose
	// content does not match its hash.
	ErrCorrupt error = &codedError{"snapshot.corrupt", "the snapshot store is corrupt"}
	// ErrIncomplete says that Restore could not put every path back; its
	// Report lists which and why.
	ErrIncomplete error = &codedError{"snapshot.incomplete", "the restore is incomplete"}
	// ErrUnsupported says that snapshots are not available on this system.
	ErrUnsupported error = &codedError{"snapshot.unsupported", "snapshots need Linux"}
)

// Code returns the stable code of err ("snapshot.not_found", …), or "" for
// nil and for errors this package did not define (an I/O failure, an ended
// context), which callers treat as internal.
func Code(err error) string {
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	return ""
}
