package cli

import (
	"fmt"
	"os"

	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/policy"
)

func runPolicy(e *env, args []string) int {
	if len(args) == 0 {
		return fail(e, "policy: want \"policy lint FILE\" or \"policy show\"")
	}
	switch args[0] {
	case "show":
		_, _ = e.stdout.Write(policy.BuiltinSource())
		return ExitOK
	case "lint":
		if len(args) != 2 {
			return fail(e, "policy lint: name exactly one policy file")
		}
		return lint(e, args[1])
	}
	return fail(e, "policy: unknown subcommand %q (want lint or show)", args[0])
}

// lint parses, validates and compiles a policy, and runs every rule's
// examples, exactly as loading it for real would.
func lint(e *env, path string) int {
	p, err := policy.Load(path)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return ExitError
	}
	ws, err := os.MkdirTemp("", "sentinel-lint-")
	if err != nil {
		return fail(e, "policy lint: %v", err)
	}
	defer os.RemoveAll(ws)
	home, _ := os.UserHomeDir()
	k, err := kernel.New(p, kernel.Options{Workspace: ws, Home: home})
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return ExitError
	}
	warnings := 0
	for _, r := range p.Rules {
		if len(r.Match) == 0 {
			fmt.Fprintf(e.stderr, "%s: warning: rule %q has no match examples; add some so the rule tests itself\n", path, r.ID)
			warnings++
		}
	}
	fmt.Fprintf(e.stdout, "ok: %s: %d tool declarations, %d rules, revision %s", path, len(p.Tools), len(p.Rules), k.Revision())
	if warnings > 0 {
		fmt.Fprintf(e.stdout, ", %d warnings", warnings)
	}
	fmt.Fprintln(e.stdout)
	return ExitOK
}
