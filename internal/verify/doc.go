// Package verify checks, after a tool call ran, that the world matches what
// the call claims it did: the files it says it created exist, the files it
// says it changed differ from the pre-call snapshot and the ones it deleted
// are gone, its result is not empty when one is expected and parses in the
// format it claims, the code it wrote passes the configured linters and type
// checkers, the npm version it says it published is in the registry, and
// the commit it says it pushed is the remote branch's tip.
//
// Run returns a Report of one Check per check, each PASS, WARN, FAIL or
// SKIP (the check does not apply or its tool is not installed) with a
// stable code and a reason; the report's status is the worst check.
//
// Verification fails closed: a check that was asked for and could not be
// carried out (registry unreachable, git remote unreachable, a linter that
// timed out, a file too large to hash) is FAIL, never PASS. A tool that is
// not installed is SKIP with a note, never PASS.
//
// Linters and type checkers run on the host, outside any sandbox, in the
// working directory the agent just wrote to. The default commands read
// that directory but execute none of its code (go vet runs with
// GOTOOLCHAIN=local so that a go.mod cannot fetch and run a toolchain);
// eslint, however, loads the project's eslint.config.js, which is code. git
// asks the repository only for the remote's URL and then lists the remote
// from outside the repository, so that the repository's own configuration
// (upload-pack, ssh command, credential helpers) is never run.
package verify
