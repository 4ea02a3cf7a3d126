# The seed's deterministic guard layer (the "Sentinel AgentOS"
# sentinel-guard skill) written as a Rego policy, rule for rule the same as
# the Go package bench/baseline. The rules themselves are data: data.seed is
# a guard-rules.json document. Input: {"tool", "command", "path"} strings.
package sentinel.bench.seed

command_tools := {"exec", "bash", "Bash", "shell"}

read_tools := {"read", "read_file", "Read"}

write_tools := {"write", "write_file", "edit", "edit_file", "Write", "Edit"}

delete_tools := {"delete", "delete_file"}

dangerous contains desc if {
	input.tool in command_tools
	some rule in data.seed.dangerous
	regex.match(rule[0], input.command)
	desc := rule[1]
}

warning contains desc if {
	input.tool in command_tools
	some rule in data.seed.warning
	regex.match(rule[0], input.command)
	desc := rule[1]
}

# The base name is the last slash-separated element, uncleaned, exactly as
# baseline.Base computes it.
base := parts[count(parts) - 1] if parts := split(input.path, "/")

# The strings a sensitive glob is tried on (see baseline.Candidates).
stems contains input.path

stems contains base

stems contains concat("", ["/", input.path]) if not startswith(input.path, "/")

candidates contains s if some s in stems

candidates contains concat("", [s, "/"]) if {
	some s in stems
	not endswith(s, "/")
}

sensitive contains concat("", ["敏感文件: ", pattern]) if {
	input.tool in (read_tools | write_tools)
	input.path != ""
	some pattern in data.seed.sensitiveFiles
	some candidate in candidates
	glob.match(pattern, ["/"], candidate)
}

protected contains concat("", ["受保护文件: ", name]) if {
	input.tool in delete_tools
	input.path != ""
	some name in data.seed.protectedFiles
	name in {input.path, base}
}

denials := (dangerous | sensitive) | protected

decision := "deny" if {
	count(denials) > 0
} else := "confirm" if {
	count(warning) > 0
} else := "allow"

reasons := sort(denials) if {
	count(denials) > 0
} else := sort(warning)

result := {"decision": decision, "reasons": reasons}
