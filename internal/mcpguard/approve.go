package mcpguard

import (
	"context"
	"fmt"
	"time"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/mcpguard/pin"
)

// ApprovePin approves the current (last seen) definition of server's
// tool for approver, and records the approval in rec when it is not nil.
// hash, when not empty, is the prefix of the definition's hash the
// operator reviewed; another pending definition is refused. It returns
// the pin and whether it changed (false: already trusted).
//
// The approval is recorded before the pin changes. A pin that changes
// between the read and the write is not retried: the operator approves
// what they saw, so they must look again.
func ApprovePin(ctx context.Context, st pin.Store, rec Recorder, server, tool, hash, approver string, now time.Time) (pin.Pin, bool, error) {
	cur, err := st.GetPin(ctx, server, tool)
	if err != nil {
		return pin.Pin{}, false, err
	}
	next, changed, err := pin.Approve(cur, hash, approver, now)
	if err != nil || !changed {
		return next, false, err
	}
	if rec != nil {
		ev := toolEvent("mcp__"+server+"__"+tool, 0, CodeToolApproved, "an operator approved the tool's current definition",
			fmt.Sprintf("approved %s (was %s, status %s)", next.Approved, orNone(cur.Approved), cur.Status))
		ev.Type, ev.Decision = audit.TypeOutcome, nil
		ev.Approval = &audit.Approval{Status: "approved", Approver: approver, Reason: CodeToolApproved + " " + next.Approved, Time: audit.FormatTime(now)}
		if err := rec.Record(ctx, ev); err != nil {
			return pin.Pin{}, false, fmt.Errorf("audit.unavailable: the approval could not be recorded, so it is not made: %w", err)
		}
	}
	if err := st.UpdatePin(ctx, next); err != nil {
		return pin.Pin{}, false, fmt.Errorf("%w (the tool's definition changed while approving: list the pins and approve again)", err)
	}
	return next, true, nil
}
