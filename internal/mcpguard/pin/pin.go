// Package pin keeps what an operator trusts of an MCP server's tools: for
// each server and tool, the hash of the definition that was approved (or
// accepted on first sight because it was clean) and the hash last seen.
// A tool whose definition changed since (a "rug pull") or that was flagged
// as poisoned on first sight waits for an operator to approve its current
// definition.
//
// The package holds the values, their transitions (Observe, Approve) and
// the Store interface the SQLite and PostgreSQL stores implement. It is a
// leaf: standard library only, no I/O. Every change to a stored pin is a
// compare-and-set on its Version, so proxies sharing a store never lose an
// operator's approval to a concurrent observation.
package pin

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is where a pin stands.
type Status string

// The statuses.
const (
	// Trusted: the tool's last seen definition is the approved one.
	Trusted Status = "trusted"
	// Changed: the tool had an approved definition and now shows another
	// (a rug pull) until an operator approves the new one.
	Changed Status = "changed"
	// Flagged: the tool was poisoned when first seen and has never been
	// approved.
	Flagged Status = "flagged"
)

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool { return s == Trusted || s == Changed || s == Flagged }

// Limits on what a pin holds.
const (
	MaxServerLen   = 64
	MaxToolLen     = 128
	MaxFindings    = 32
	MaxFindingLen  = 128
	MaxApproverLen = 128
	// MaxDefinition bounds the canonical definition kept for review.
	MaxDefinition = 512 << 10
)

// Pin is the trust record of one tool of one server.
type Pin struct {
	Server string `json:"server"`
	Tool   string `json:"tool"`
	// Approved is the hex SHA-256 of the trusted definition; empty when
	// the tool was flagged on first sight and never approved.
	Approved string `json:"approved,omitempty"`
	// Seen is the hash of the definition last seen.
	Seen   string `json:"seen"`
	Status Status `json:"status"`
	// Findings are the poisoning-scan codes of the Seen definition.
	Findings []string `json:"findings,omitempty"`
	// Definition is the Seen definition in canonical JSON, for review.
	Definition json.RawMessage `json:"definition,omitempty"`
	FirstSeen  time.Time       `json:"first_seen"`
	UpdatedAt  time.Time       `json:"updated_at"`
	ApprovedBy string          `json:"approved_by,omitempty"`
	ApprovedAt *time.Time      `json:"approved_at,omitempty"`
	// Version is 1 when created and bumped by every change; stores update
	// a pin only from the version before.
	Version int64 `json:"version"`
}

// Listed reports whether the tool may be shown and called: only its
// approved definition is.
func (p Pin) Listed() bool { return p.Status == Trusted && p.Approved != "" && p.Seen == p.Approved }

// Errors, each with a stable code (see Code).
var (
	ErrNotFound = errors.New("pin: no such pin")
	ErrConflict = errors.New("pin: the pin changed meanwhile")
	ErrInvalid  = errors.New("pin: invalid pin")
	// ErrHashMismatch: the operator approved a definition other than the
	// one now pending.
	ErrHashMismatch = errors.New("pin: the pending definition is not the one named")
)

// Code returns the stable machine code of a pin error, or "".
func Code(err error) string {
	switch {
	case errors.Is(err, ErrNotFound):
		return "pin.not_found"
	case errors.Is(err, ErrConflict):
		return "pin.conflict"
	case errors.Is(err, ErrInvalid):
		return "pin.invalid"
	case errors.Is(err, ErrHashMismatch):
		return "pin.hash_mismatch"
	}
	return ""
}

// ValidServer reports whether s can name a server in mcp__<server>__<tool>:
// letters, digits, '-' and '_', without "__", at most MaxServerLen bytes.
func ValidServer(s string) bool {
	if s == "" || len(s) > MaxServerLen || strings.Contains(s, "__") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ValidTool reports whether s is a tool name as the MCP specification
// allows them: 1 to MaxToolLen of letters, digits, '_', '-' and '.'.
func ValidTool(s string) bool {
	if s == "" || len(s) > MaxToolLen {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ValidHash reports a lower-case hex SHA-256.
func ValidHash(h string) bool {
	if len(h) != 64 || strings.ToLower(h) != h {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

// Check reports what is wrong with p, wrapping ErrInvalid.
func (p Pin) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s/%s: %s", ErrInvalid, clip(p.Server, MaxServerLen), clip(p.Tool, MaxToolLen), fmt.Sprintf(format, args...))
	}
	switch {
	case !ValidServer(p.Server):
		return bad("the server name must be 1-%d letters, digits, '-' or '_' without \"__\"", MaxServerLen)
	case !ValidTool(p.Tool):
		return bad("the tool name must be 1-%d letters, digits, '_', '-' or '.'", MaxToolLen)
	case !ValidHash(p.Seen):
		return bad("the seen hash is not a hex SHA-256")
	case p.Approved != "" && !ValidHash(p.Approved):
		return bad("the approved hash is not a hex SHA-256")
	case !p.Status.Valid():
		return bad("status %q is not trusted, changed or flagged", p.Status)
	case p.Status == Trusted && p.Seen != p.Approved:
		return bad("a trusted pin's seen hash is its approved hash")
	case p.Status == Changed && (p.Approved == "" || p.Seen == p.Approved):
		return bad("a changed pin has an approved hash other than the seen one")
	case p.Status == Flagged && p.Approved != "":
		return bad("a flagged pin has never been approved")
	case len(p.Findings) > MaxFindings:
		return bad("%d findings; at most %d", len(p.Findings), MaxFindings)
	case len(p.Definition) > MaxDefinition:
		return bad("the definition is %d bytes; at most %d", len(p.Definition), MaxDefinition)
	case len(p.ApprovedBy) > MaxApproverLen || !utf8.ValidString(p.ApprovedBy):
		return bad("the approver is not valid UTF-8 of at most %d bytes", MaxApproverLen)
	case p.Version < 1:
		return bad("version %d; versions start at 1", p.Version)
	case p.FirstSeen.IsZero() || p.UpdatedAt.IsZero():
		return bad("first seen and updated times are required")
	}
	for _, f := range p.Findings {
		if f == "" || len(f) > MaxFindingLen || !utf8.ValidString(f) {
			return bad("finding %.40q is not a code", f)
		}
	}
	return nil
}

// Sighting is one look at a tool's definition.
type Sighting struct {
	Hash string
	// Findings are the poisoning-scan codes; any makes a new tool flagged.
	Findings []string
	// Definition is the canonical definition, kept for review.
	Definition json.RawMessage
}

// Event says what a sighting changed.
type Event string

// The events of Observe.
const (
	// Unchanged: nothing to record.
	Unchanged Event = ""
	// New: a clean tool seen for the first time, trusted.
	New Event = "new"
	// NewFlagged: a poisoned tool seen for the first time, withheld.
	NewFlagged Event = "new_flagged"
	// Rugpull: a definition other than the approved (or last flagged)
	// one, withheld.
	Rugpull Event = "changed"
	// Reverted: the approved definition is back.
	Reverted Event = "reverted"
	// Rescanned: a definition trusted on first sight is flagged by a
	// newer scan, withheld.
	Rescanned Event = "rescanned"
)

// Observe returns the pin after sighting s of server's tool at now, and
// what changed. cur is the stored pin, nil for a tool not seen before.
// A pin whose definition did not change is returned unchanged (and
// Unchanged), so that a listing writes nothing.
func Observe(cur *Pin, server, tool string, s Sighting, now time.Time) (Pin, Event) {
	now = now.UTC()
	findings := slices.Clone(s.Findings)
	if len(findings) > MaxFindings {
		findings = findings[:MaxFindings]
	}
	if cur == nil {
		p := Pin{Server: server, Tool: tool, Seen: s.Hash, Findings: findings, Definition: s.Definition,
			FirstSeen: now, UpdatedAt: now, Version: 1}
		if len(findings) > 0 {
			p.Status = Flagged
			return p, NewFlagged
		}
		p.Status, p.Approved = Trusted, s.Hash
		return p, New
	}
	p := *cur
	if s.Hash == p.Seen {
		if p.Status == Trusted && p.ApprovedBy == "" && len(findings) > 0 {
			// Trusted on first sight because the scan was clean, and a
			// newer scan flags the same definition: no operator ever
			// vouched for it, so it is withheld now.
			p.Approved, p.Status, p.Findings, p.UpdatedAt, p.Version = "", Flagged, findings, now, p.Version+1
			return p, Rescanned
		}
		return p, Unchanged
	}
	p.Seen, p.Findings, p.Definition, p.UpdatedAt, p.Version = s.Hash, findings, s.Definition, now, p.Version+1
	switch {
	case p.Approved != "" && s.Hash == p.Approved:
		p.Status = Trusted
		return p, Reverted
	case p.Approved != "":
		p.Status = Changed
	default:
		p.Status = Flagged
	}
	return p, Rugpull
}

// Approve returns p with its seen definition approved by approver at now.
// hash, when not empty, must be a prefix (at least 12 hex digits) of the
// seen hash: the operator approves the definition they reviewed, not one
// that arrived since. Approving a trusted pin returns it unchanged and
// false.
func Approve(p Pin, hash, approver string, now time.Time) (Pin, bool, error) {
	if hash != "" {
		h := strings.ToLower(hash)
		if len(h) < 12 || len(h) > 64 || !strings.HasPrefix(p.Seen, h) {
			return p, false, fmt.Errorf("%w: %s/%s shows %.16s…, not %.16s (give at least 12 hex digits of the hash `mcp pins list` shows)",
				ErrHashMismatch, p.Server, p.Tool, p.Seen, clip(hash, 64))
		}
	}
	if p.Status == Trusted {
		return p, false, nil
	}
	now = now.UTC()
	p.Approved, p.Status, p.ApprovedBy, p.ApprovedAt = p.Seen, Trusted, clip(approver, MaxApproverLen), &now
	p.UpdatedAt, p.Version = now, p.Version+1
	return p, true, nil
}

// Filter selects pins. Empty fields match everything.
type Filter struct {
	Server string
	// Tools, when not empty, selects pins of these tool names on any
	// server (at most MaxFilterTools).
	Tools  []string
	Status Status
	// Limit caps the rows; 0 means DefaultLimit, and it is capped at
	// MaxLimit.
	Limit int
}

// Filter limits.
const (
	DefaultLimit   = 1000
	MaxLimit       = 10000
	MaxFilterTools = 4096
)

// Normalize checks f and fills in its default limit.
func (f Filter) Normalize() (Filter, error) {
	if f.Server != "" && !ValidServer(f.Server) {
		return f, fmt.Errorf("%w: server %.70q is not a server name", ErrInvalid, f.Server)
	}
	if len(f.Tools) > MaxFilterTools {
		return f, fmt.Errorf("%w: %d tool names; at most %d", ErrInvalid, len(f.Tools), MaxFilterTools)
	}
	if f.Status != "" && !f.Status.Valid() {
		return f, fmt.Errorf("%w: status %.40q is not trusted, changed or flagged", ErrInvalid, f.Status)
	}
	switch {
	case f.Limit < 0:
		return f, fmt.Errorf("%w: limit %d is negative", ErrInvalid, f.Limit)
	case f.Limit == 0:
		f.Limit = DefaultLimit
	case f.Limit > MaxLimit:
		f.Limit = MaxLimit
	}
	return f, nil
}

// Store keeps pins. Implementations order lists by server, then tool.
type Store interface {
	// GetPin returns the pin of server's tool, or an error wrapping
	// ErrNotFound.
	GetPin(ctx context.Context, server, tool string) (Pin, error)
	// ListPins returns the pins f selects.
	ListPins(ctx context.Context, f Filter) ([]Pin, error)
	// CreatePin stores a new pin (Version 1); an existing one for the
	// same server and tool is an error wrapping ErrConflict.
	CreatePin(ctx context.Context, p Pin) error
	// UpdatePin replaces the pin stored at p.Version-1; any other stored
	// version is an error wrapping ErrConflict.
	UpdatePin(ctx context.Context, p Pin) error
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
