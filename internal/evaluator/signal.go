package evaluator

import (
	"fmt"
	"strings"
)

// Signal is one kind of implicit feedback: something the user did that
// tells how satisfied they were, without being asked.
type Signal string

// The eight signals. Their strengths (see Strength) are the seed's.
const (
	UserDeletedCode         Signal = "user_deleted_code"
	UserInterrupted         Signal = "user_interrupted"
	UserModifiedOutput      Signal = "user_modified_output"
	UserRepeatedInstruction Signal = "user_repeated_instruction"
	UserImmediateContinue   Signal = "user_immediate_continue"
	UserExplicitApproval    Signal = "user_explicit_approval"
	UserUsedResult          Signal = "user_used_result"
	UserSharedOutput        Signal = "user_shared_output"
)

// maxSignalStrength is the largest |Strength|: satisfaction maps a mean
// strength of ±maxSignalStrength to 0 or 100.
const maxSignalStrength = 0.8

const signalNames = "user_deleted_code, user_interrupted, user_modified_output, user_repeated_instruction, " +
	"user_immediate_continue, user_explicit_approval, user_used_result, user_shared_output"

// maxQuotedInput bounds how much of a bad input an error message repeats.
const maxQuotedInput = 64

// Signals returns the eight signals, negative first, in the seed's order.
func Signals() []Signal {
	return []Signal{
		UserDeletedCode, UserInterrupted, UserModifiedOutput, UserRepeatedInstruction,
		UserImmediateContinue, UserExplicitApproval, UserUsedResult, UserSharedOutput,
	}
}

// Strength is how much the signal says about satisfaction, from −0.8 (the
// user threw the work away) to +0.8 (the user passed it on), and 0 for a
// string that is not a signal.
//
// user_repeated_instruction is −0.15: the seed's current signal table
// lowered it from −0.3 (its API table still says −0.3). A repeated
// instruction is often a retry after a network error rather than
// dissatisfaction.
func (s Signal) Strength() float64 {
	switch s {
	case UserDeletedCode:
		return -0.8
	case UserInterrupted:
		return -0.6
	case UserModifiedOutput:
		return -0.5
	case UserRepeatedInstruction:
		return -0.15
	case UserImmediateContinue:
		return 0.3
	case UserExplicitApproval:
		return 0.6
	case UserUsedResult:
		return 0.7
	case UserSharedOutput:
		return 0.8
	}
	return 0
}

// Valid reports whether s is one of the eight signals.
func (s Signal) Valid() bool { return s.Strength() != 0 }

// ParseSignal reads a signal name as the seed's /feedback endpoint takes
// it ("user_explicit_approval"); case and surrounding space are ignored.
func ParseSignal(name string) (Signal, error) {
	s := Signal(strings.ToLower(strings.TrimSpace(name)))
	if !s.Valid() {
		return "", fmt.Errorf("evaluator: unknown feedback signal %s (want one of %s)", quote(name), signalNames)
	}
	return s, nil
}

// quote renders untrusted input for an error message, cut to a length a
// reader can take in.
func quote(s string) string {
	if len(s) > maxQuotedInput {
		return fmt.Sprintf("%q… (%d bytes)", s[:maxQuotedInput], len(s))
	}
	return fmt.Sprintf("%q", s)
}
