package pathgate_test

import (
	"context"
	"fmt"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/gate/pathgate"
)

func ExampleGate_Check() {
	g, err := pathgate.Compile(pathgate.Default())
	if err != nil {
		panic(err)
	}
	env := gate.Env{Workspace: "/nonexistent/ws", Home: "/nonexistent/home/dev", Cwd: "/nonexistent/ws"}
	in := &gate.Input{Env: env, Analysis: &analysis.Analysis{Paths: []analysis.PathRef{
		{Path: "src/main.go", Op: analysis.OpWrite, Command: "tee"},
		{Path: "$HOME/.ssh/id_ed25519", Op: analysis.OpRead, Command: "cat"},
		{Path: "/etc/*", Op: analysis.OpRead, Command: "cat"},
	}}}
	v, _ := g.Check(context.Background(), in)
	fmt.Println(v.Action)
	for _, r := range v.Reasons {
		fmt.Println(r.Code, "-", r.Message)
	}
	// Output:
	// deny
	// path.sensitive - reading a private key ($HOME/.ssh/id_ed25519) is refused; ask the user for the specific value you need
	// path.sensitive - reading a system credential file (/etc/*) is refused; ask the user for the specific value you need
}
