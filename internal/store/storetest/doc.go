// Package storetest holds the acceptance suites every audit.Store (Run),
// approval.Store (RunApprovals) and MCP tool pin store (RunPins) must pass. A store's own test calls Run with a function that opens it on a
// fresh database; the suite checks chaining, conflict refusal, queries,
// statistics, checkpoints, pruning, cancellation, concurrent writers and
// reopening against a model computed in Go, never against hard-coded
// answers.
//
// The suite trusts nothing the store computes: hashes are made by the
// test's own seal (SHA-256 of the previous hash and the body) and checked
// on every record read back.
package storetest
