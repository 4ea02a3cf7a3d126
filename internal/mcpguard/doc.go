// Package mcpguard is Sentinel's guard proxy for the Model Context
// Protocol: it sits between an MCP client (the agent) and an upstream MCP
// server, and lets the client see and call only what Sentinel allows.
//
//   - tools/call: every call is decided by the kernel as
//     mcp__<server>__<tool> with its arguments, and recorded in the audit
//     log. Allow and notify forward the call; deny answers with a normal
//     result marked isError whose text carries the reason codes, and the
//     upstream never sees the call; confirm asks the user through MCP
//     elicitation when the client supports it, and refuses otherwise.
//   - tools/list: each tool's definition (name, title, description,
//     annotations, input and output schema) is canonicalised and hashed,
//     and scanned for poisoning (instructions aimed at the model, hidden
//     text, pointers at credential files). The hash is pinned on first
//     sight; a tool whose definition changed since it was approved (a rug
//     pull) or that was poisoned when first seen is withheld, and calls to
//     it refused, until an operator approves its current definition
//     (ApprovePin, `sentinel mcp pins approve`). A tool named like a tool
//     of another pinned server is flagged.
//   - Everything else (prompts, resources, completion, logging, progress,
//     elicitation and sampling from the upstream, roots, list_changed
//     notifications) is forwarded.
//
// Each client session gets its own upstream session. The package fails
// closed: a pin store, audit or kernel failure, a panic, or a definition
// over the package's bounds ends in a withheld tool or a refused call,
// never in a forwarded one. It never runs tools itself and never shows the
// client a tool the upstream did not list.
package mcpguard
