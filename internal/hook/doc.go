// Package hook speaks Claude Code's hook protocol for Sentinel: it reads
// the event Claude Code sends on a hook's stdin, turns Sentinel's decision
// into the answer Claude Code expects, scans tool output and prompts for
// secrets and prompt-injection text, and adds or removes Sentinel's hook
// entries in a settings.json without disturbing anything else in it.
//
// Run drives one hook call against a Backend; RunRemote is Run asking a
// Sentinel server over HTTP, which is all the thin sentinel-hook binary
// does. The package decides nothing itself and never opens the audit log.
//
// Claude Code fails open: a hook that crashes, times out or exits with a
// code other than 2 lets the call run. Everything here therefore returns
// an error rather than guessing, and only a well-formed PreToolUse event
// whose decision is allow or notify can ever produce an "allow" answer.
//
// The package must stay light to start: it imports only the standard
// library, internal/decision and internal/redact (deps_test.go checks),
// because sentinel-hook starts once per tool call.
package hook
