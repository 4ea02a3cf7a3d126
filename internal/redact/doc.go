// Package redact finds credentials in text and JSON and replaces them with
// typed placeholders such as [REDACTED:github-pat], so that Sentinel never
// writes a secret to the audit log, an export or a log line, and so that
// gates can refuse a call that carries one.
//
// Detection is rule data. rules.go holds the credentials recognised by
// their own format (a token prefix, a length and alphabet, check digits
// where the provider has them: GitHub's and npm's CRC32) and by their
// context (a URL's password, an Authorization header, a .netrc or .npmrc
// line, a generic key = value assignment); vendors.go holds the providers
// whose keys have no prefix and are recognised by the provider's name in
// the key and the documented shape of the value. There are more than 150
// rules. Each names the credential type it finds, the literal keywords
// that locate it, an RE2 pattern, optional entropy and shape checks, and
// the examples it must and must not match, which the tests run. Rules are
// compiled once, on first use.
//
// One pass over the input finds every keyword. Each rule's pattern is then
// tried, anchored, only where its keywords occur, inside a window that
// grows only while a match keeps running to its end. A rule whose keywords
// are so dense that these attempts could read more than a small multiple of
// the input scans it once with its unanchored pattern instead. Work is
// therefore linear in the input, whatever its size.
//
// What is not a secret is decided by general shapes, never by listing
// single cases: references (${VAR}, $(cmd), {{ .x }}, %VAR%), placeholders
// (xxxx, <token>, your_key, example, changeme), credential-shaped values
// that documentation publishes on purpose (AWS's AKIAIOSFODNN7EXAMPLE, the
// Firebase SDK's sample keys), names of a credential rather than the
// credential (token_type, secret_name, keyVaultToStoreSecrets, csrf_token)
// and, for bare assignments only, typed filler (abcdef, 123456, AbCeFG123)
// and hex written in both cases. A generic assignment whose value starts
// with a provider's token prefix (xoxp-, glpat-) leaves it to that
// provider's rule, which knows the format.
//
// The package must stay deterministic and idempotent: the same input always
// gives the same output, and redacting an output again changes nothing,
// because no rule matches a placeholder or text that reads one, and Text
// rescans its own output until nothing new is found. It imports only the
// standard library and never logs, stores or returns the secrets it
// removes; a Finding carries the rule and byte offsets, never the text.
//
// Within those shapes redaction is eager: a value that looks like a
// credential is replaced even when it might be a test fixture, because a
// lost detail in an audit record costs less than a leaked key.
package redact
