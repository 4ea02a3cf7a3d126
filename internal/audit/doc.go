// Package audit records every decision (and later every approval,
// execution, verification and rollback) as an event in a hash chain that
// nobody can silently change, lose or reorder, with signed checkpoints,
// and verifies such chains in a store or in an exported file.
package audit
