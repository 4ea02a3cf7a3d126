package auth

import (
	"fmt"
	"strings"
)

// Scope is a permission a client holds.
type Scope string

// The scopes. ScopeAdmin implies every other scope.
const (
	ScopeCheck     Scope = "check"            // agents: decide calls, report outcomes, end sessions
	ScopeAuditRead Scope = "audit:read"       // query, stats and verify the audit log
	ScopeApprovals Scope = "approvals:decide" // list, approve, deny approvals
	ScopeMemory    Scope = "memory"
	// ScopeMetrics reads /metrics and nothing else: what a Prometheus
	// scraper's token should hold. audit:read implies it.
	ScopeMetrics Scope = "metrics"
	ScopeAdmin   Scope = "admin" // policy changes; implies every other scope
)

var knownScopes = []Scope{ScopeCheck, ScopeAuditRead, ScopeApprovals, ScopeMemory, ScopeMetrics, ScopeAdmin}

// KnownScopes returns every scope, in a stable order.
func KnownScopes() []Scope {
	return append([]Scope(nil), knownScopes...)
}

func (s Scope) known() bool {
	for _, k := range knownScopes {
		if s == k {
			return true
		}
	}
	return false
}

// ParseScope returns the scope named s, or an error listing the known ones.
func ParseScope(s string) (Scope, error) {
	if Scope(s).known() {
		return Scope(s), nil
	}
	return "", fmt.Errorf("unknown scope %s; known scopes: %s", quoteShort(s), scopeList())
}

func scopeList() string {
	names := make([]string, len(knownScopes))
	for i, s := range knownScopes {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// quoteShort quotes s for an error message, cut so that no input makes a
// message long.
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// Client is an authenticated caller.
type Client struct {
	Name   string
	Scopes []Scope
}

// Has reports whether c holds s. Admin implies every known scope and
// audit:read implies metrics (which it granted before metrics was a scope
// of its own); an unknown scope is held by no one.
func (c Client) Has(s Scope) bool {
	if !s.known() {
		return false
	}
	for _, x := range c.Scopes {
		if x == s || x == ScopeAdmin || s == ScopeMetrics && x == ScopeAuditRead {
			return true
		}
	}
	return false
}
