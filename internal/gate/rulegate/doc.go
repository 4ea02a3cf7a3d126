// Package rulegate is the rules gate: user rules written as CEL expressions
// (https://cel.dev) over a tool call and the analysis Sentinel derived from
// it. A rule that matches adds a reason with the rule's own action (notify,
// confirm or deny), its code "rules.<id>" and its message for the agent.
//
// Rules are compiled once, when the policy loads (Compile); the hot path
// only evaluates prepared programs against one activation per call. Every
// rule carries examples it must and must not match, and CheckExamples runs
// them, so a policy with a broken rule never loads.
//
// The package must never do I/O, never let one rule's failure pass a call
// (a rule that cannot be evaluated denies, code "rules.eval_error"), and
// never let an expression run unbounded: each evaluation has a cost limit
// and honours the context.
//
// # The rule language
//
// A rule's "when" is a CEL expression that must have type bool. These
// variables are available:
//
//	call        the call itself (type sentinel.Call), with the fields
//	  .tool       the host's tool name ("Bash", "write_file", "mcp__github__create_issue")
//	  .kind       "exec", "file.read", "file.write", "file.delete",
//	              "net.request", "db.query", "mcp" or "other"
//	  .args       the canonical arguments, map(string, dyn): command, cwd
//	              (exec); path, content (file.*); url, method, body
//	              (net.request); query, dialect (db.query). For mcp and other
//	              calls, the arguments as the host sent them.
//	  .original   the arguments as the host sent them, map(string, dyn)
//	  .server, .name   the MCP server and tool name ("" otherwise)
//	  .wrapped    the wrapper tool the call came in, if any ("tool_call")
//	  .session, .agent, .workspace, .cwd   as reported by the host
//	  .known      false when no adapter or declaration recognised the tool
//	command     the exec command line, "" for other kinds
//	commands    list of sentinel.Command, every simple command the line runs:
//	  .name .path .args (list of string) .privileged .wrappers (list of
//	  string) .depth (int) .dynamic .via
//	paths       list of sentinel.Path, every path touched:
//	  .path .op ("read", "write", "delete", "exec", "chmod", "list")
//	  .recursive .privileged .dynamic .command
//	dests       list of sentinel.Dest, every network destination:
//	  .raw .scheme .host .port (int) .sends .listens .data .command
//	findings    list of string, the codes of the analysis findings
//	            ("command.reverse_shell")
//	privileged  bool, some part runs as root
//	reads_env   bool, the environment is read
//	unresolved  list of string, what could not be resolved statically
//	session     map(string, bool), session flags (untrusted_seen,
//	            sensitive_read, …); empty until taint tracking fills it
//
// Field names are checked when the rule compiles: a typo such as
// c.nmae is a load error, not a rule that silently never matches.
//
// Missing keys. The canonical argument keys of the call's kind listed above
// are always present in call.args, as "" when the host sent none, so
// call.args.url is safe on every net.request call. Any other key of a map
// (host arguments, session flags) may be absent, and reading an absent key
// is an evaluation error, which denies the call. Test before reading, or
// read with a default:
//
//	has(call.original.force) && call.original.force == true
//	get(call.original, "force", false) == true
//	call.original.?force.orValue(false) == true
//	get(session, "untrusted_seen", false)
//
// get(map, key, default) returns the value at key, or default when the key
// is absent.
//
// Functions: the standard CEL library (size, contains, startsWith,
// endsWith, matches with RE2 syntax, in, exists, exists_one, all, map,
// filter, int, string …), the CEL string extensions (lowerAscii,
// upperAscii, split, join, replace, substring, trim, indexOf, format …),
// the set extensions (sets.contains, sets.intersects, sets.equivalent) and
// optional values (x.?field, orValue).
//
// Cost. Each rule may spend at most the policy's cost limit on a call
// (cost_limit, default 100,000 units, about one unit per operation and per
// ten bytes a string function scans). A rule that goes over it, like a
// rule that reads an absent key, denies the call with rules.eval_error, so
// keep nested comprehensions (exists inside exists) to short lists.
//
// # Examples
//
// Force pushes, however the flags are written:
//
//	commands.exists(c, c.name == "git" && "push" in c.args &&
//	    ("--force" in c.args || "-f" in c.args))
//
// Plain-text HTTP:
//
//	call.kind == "net.request" && call.args.url.startsWith("http://")
//
// Terraform changes:
//
//	paths.exists(p, p.op == "write" && p.path.endsWith(".tf"))
//
// Tunnels:
//
//	dests.exists(d, d.host.endsWith(".ngrok.io"))
//
// Writes to the production database:
//
//	call.kind == "db.query" && call.args.query.lowerAscii().matches("^\\s*(insert|update|delete|drop)")
//
// A rule in a policy file:
//
//	rules:
//	  - id: no-force-push
//	    when: >
//	      commands.exists(c, c.name == "git" && "push" in c.args &&
//	        ("--force" in c.args || "-f" in c.args))
//	    action: deny
//	    reason: Force pushes rewrite shared history.
//	    alternative: git push --force-with-lease
//	    match:
//	      - {tool: exec, args: {command: "git push -f origin main"}}
//	    not_match:
//	      - {tool: exec, args: {command: "git push origin main"}}
package rulegate
