package memory

import (
	"errors"
	"fmt"
)

// codedError is an error with a stable machine code. Errors returned by
// Memory wrap one of these with the detail (what, where, how to fix);
// Code finds the code through the wrapping.
type codedError struct{ code, msg string }

func (e *codedError) Error() string { return e.msg }

// The refusals of Memory, each with a stable code.
var (
	// ErrInvalid is bad input: an unknown event type, an empty text, a
	// key with a newline, an out-of-range risk.
	ErrInvalid error = &codedError{"memory.invalid", "memory: invalid input"}
	// ErrTooLarge is an input beyond a size bound.
	ErrTooLarge error = &codedError{"memory.too_large", "memory: input too large"}
	// ErrSecretOnly refuses a write that is nothing but a credential:
	// secrets are never stored, and nothing else would be left.
	ErrSecretOnly error = &codedError{"memory.secret_only", "memory: the text is only a secret, and secrets are never stored"}
	// ErrUntrustedOverwrite refuses an untrusted or flagged write that
	// would replace a trusted memory (a preference, project or term).
	ErrUntrustedOverwrite error = &codedError{"memory.untrusted_overwrite", "memory: an untrusted write cannot replace a trusted memory"}
	// ErrUnboundSession refuses to read or write memory for a session
	// whose peer is unknown while scopes are per peer: its scope cannot
	// be decided, and guessing could leak one user's memory to another.
	ErrUnboundSession error = &codedError{"memory.unbound_session", "memory: the session has no scope; call StartSession with its peer"}
	// ErrLimit refuses a write beyond a configured count.
	ErrLimit error = &codedError{"memory.limit", "memory: limit reached"}
	// ErrConfig is an invalid Options value; every method of a Memory
	// built from it returns this error.
	ErrConfig error = &codedError{"memory.config", "memory: invalid configuration"}
)

// Code returns the stable code of err ("memory.invalid", …),
// "memory.not_found" for ErrNotFound, or "" for nil and for errors this
// package did not define (a store failure), which callers treat as
// internal.
func Code(err error) string {
	var ce *codedError
	switch {
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, ErrNotFound):
		return "memory.not_found"
	}
	return ""
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
