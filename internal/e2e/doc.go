// Package e2e holds end-to-end tests that run Sentinel under the real agent
// hosts — Claude Code (as its hook), OpenClaw (with the plugin in
// integrations/openclaw) and MCP clients and servers built with the official
// Go SDK (through the guard proxy) — against fake model APIs written in Go.
// The npm hosts are pinned in e2e-hosts/: .ci/run installs them and names
// them in SENTINEL_E2E_CLAUDE, SENTINEL_E2E_OPENCLAW and SENTINEL_E2E_NODE;
// without them those tests skip, except under CI=true, where a missing host
// is a failure.
package e2e
