// Package redact finds credentials in text and JSON and replaces them with
// typed placeholders such as [REDACTED:github-pat], so that Sentinel never
// writes a secret to the audit log, an export or a log line.
//
// Detection is rule data (rules.go): each rule names the credential type it
// finds, the literal keywords that locate it (a token prefix such as ghp_,
// or a word such as password), an RE2 pattern, optional entropy and shape
// checks, and the examples it must and must not match. Rules are compiled
// once, on first use.
//
// One pass over the input finds every keyword. Each rule's pattern is then
// tried, anchored, only where its keywords occur, inside a window that
// grows only while a match keeps running to its end. A rule whose keywords
// are so dense that these attempts could read more than a small multiple of
// the input scans it once with its unanchored pattern instead. Work is
// therefore linear in the input, whatever its size.
//
// The package must stay deterministic and idempotent: the same input always
// gives the same output, and redacting an output again changes nothing,
// because no rule matches a placeholder or text that reads one, and Text
// rescans its own output until nothing new is found. It imports only the
// standard library and never logs, stores or returns the secrets it
// removes; a Finding carries the rule and byte offsets, never the text.
//
// Redaction is deliberately eager: a value that looks like a credential is
// replaced even when it might be a placeholder, because a lost detail in an
// audit record costs less than a leaked key.
package redact
