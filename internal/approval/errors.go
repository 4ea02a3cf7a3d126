package approval

import "errors"

// codedError is an error with a stable machine code. Callers wrap these
// with context; Code finds the code through the wrapping.
type codedError struct{ code, msg string }

func (e *codedError) Error() string { return e.msg }

// The errors of this package. Each has a stable code, which Code returns
// for it and for any error wrapping it.
var (
	ErrNotFound     error = &codedError{"approval.not_found", "no such approval"}
	ErrConflict     error = &codedError{"approval.conflict", "the approval was changed concurrently"}
	ErrDecided      error = &codedError{"approval.decided", "the approval is already decided"}
	ErrExpired      error = &codedError{"approval.expired", "the approval has expired"}
	ErrSameApprover error = &codedError{"approval.same_approver", "this approver has already voted"}
	ErrMismatch     error = &codedError{"approval.mismatch", "the approval is for another call"}
	ErrPending      error = &codedError{"approval.pending", "the approval is still pending"}
	ErrDenied       error = &codedError{"approval.denied", "the approval was denied"}
	ErrUsed         error = &codedError{"approval.used", "the approval has already authorized its call"}
	// ErrInvalid is bad input: a field too long, missing or malformed.
	ErrInvalid error = &codedError{"approval.invalid", "invalid approval input"}
	// ErrTooMany refuses a new approval while too many are pending.
	ErrTooMany error = &codedError{"approval.too_many", "too many pending approvals"}
)

// Code returns the stable code of err ("approval.expired", …), or "" for
// nil and for errors this package did not define (a store failure, an
// ended context), which callers treat as internal.
func Code(err error) string {
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	return ""
}
