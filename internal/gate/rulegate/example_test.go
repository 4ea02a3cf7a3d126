package rulegate_test

import (
	"context"
	"fmt"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/gate/rulegate"
	"github.com/sentinel-agent/sentinel/internal/request"
)

func Example() {
	g, err := rulegate.Compile(rulegate.Config{Rules: []rulegate.Rule{{
		ID:          "no-force-push",
		When:        `commands.exists(c, c.name == "git" && "push" in c.args && ("--force" in c.args || "-f" in c.args))`,
		Action:      decision.Deny,
		Reason:      "Force pushes rewrite shared history.",
		Alternative: "git push --force-with-lease",
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The kernel fills the analysis from the shell parser; here it is by hand.
	in := &gate.Input{
		Call: &request.ToolCall{Tool: "Bash", Kind: request.KindExec,
			Args: map[string]any{"command": "cd repo && git push -f origin main"}},
		Analysis: &analysis.Analysis{Commands: []analysis.Command{
			{Name: "cd", Args: []string{"repo"}},
			{Name: "git", Args: []string{"push", "-f", "origin", "main"}},
		}},
	}
	v, err := g.Check(context.Background(), in)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range v.Reasons {
		fmt.Println(r)
	}
	// Output:
	// deny [rules/rules.no-force-push] Force pushes rewrite shared history. Instead: git push --force-with-lease
}

func ExampleCompile_problems() {
	_, err := rulegate.Compile(rulegate.Config{Rules: []rulegate.Rule{
		{ID: "no-prod", When: `cal.kind == "db.query"`, Action: decision.Deny, Reason: "No production writes."},
		{ID: "No Tunnels", When: `dests.exists(d, d.host.endsWith(".ngrok.io"))`, Action: decision.Confirm},
	}})
	fmt.Println(err)
	// Output:
	// rule "no-prod": when: ERROR: <input>:1:1: undeclared reference to 'cal' (did you mean 'call'?)
	//  | cal.kind == "db.query"
	//  | ^
	// rule "No Tunnels": id: "No Tunnels" is not valid (use at most 100 lower-case letters, digits, '_', '.' and '-')
	// rule "No Tunnels": reason: is required (it is the message the agent sees)
}
