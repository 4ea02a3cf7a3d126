package sentinel_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sentinel-agent/sentinel"
)

// Execute runs the function only when the call may run; a denied call
// never reaches it.
func ExampleGuard_Execute() {
	ws, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(ws)
	g, err := sentinel.New(sentinel.Options{Workspace: ws, Home: "/home/dev"})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, cmd := range []string{"go test ./...", "rm -rf /"} {
		call := sentinel.Call{Tool: "exec", Args: map[string]any{"command": cmd}}
		d, res, err := g.Execute(ctx, call, func(context.Context) (sentinel.Result, error) {
			return sentinel.Result{Output: "ran " + cmd}, nil
		})
		switch {
		case errors.Is(err, sentinel.ErrDenied):
			fmt.Printf("%s: %s %s\n", cmd, d.Action, d.Codes())
		case err != nil:
			fmt.Println("error:", err)
		default:
			fmt.Printf("%s: %s, %s\n", cmd, d.Action, res.Output)
		}
	}
	// Output:
	// go test ./...: allow, ran go test ./...
	// rm -rf /: deny [command.recursive_delete_root path.system risk.score]
}

// Wrap guards a tool function in one line. Confirm decisions run only
// when Options.Approve says yes.
func ExampleWrap() {
	ws, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(ws)
	g, err := sentinel.New(sentinel.Options{Workspace: ws, Home: "/home/dev",
		Approve: func(_ context.Context, c sentinel.Call, d sentinel.Decision) (bool, error) {
			// Ask a human here; this one lets force pushes to feature branches through.
			return strings.Contains(c.Args["command"].(string), "feature/"), nil
		}})
	if err != nil {
		panic(err)
	}
	exec := sentinel.Wrap(g, "exec", func(_ context.Context, args map[string]any) (string, error) {
		return "done: " + args["command"].(string), nil
	})
	ctx := sentinel.WithSession(context.Background(), "session-1", "my-agent")
	for _, cmd := range []string{"git push --force origin feature/x", "git push --force origin main", "rm -rf ~"} {
		out, err := exec(ctx, map[string]any{"command": cmd})
		switch {
		case errors.Is(err, sentinel.ErrNeedsApproval):
			fmt.Println("needs approval:", cmd)
		case errors.Is(err, sentinel.ErrDenied):
			fmt.Println("denied:", cmd)
		default:
			fmt.Println(out)
		}
	}
	// Output:
	// done: git push --force origin feature/x
	// needs approval: git push --force origin main
	// denied: rm -rf ~
}

// A shell tool whose commands run in the sandbox: the workspace and a
// private /tmp are writable, credentials are hidden, there is no network.
// (The program's main calls sentinel.SandboxMain first.)
func ExampleGuard_Command() {
	ws, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(ws)
	g, err := sentinel.New(sentinel.Options{Workspace: ws})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, cmd := range []string{"echo hello > greeting.txt && cat greeting.txt", "touch /etc/owned", "rm -rf ~"} {
		call := sentinel.Call{Tool: "Bash", Args: map[string]any{"command": cmd}}
		_, res, err := g.Execute(ctx, call, g.Command([]string{"/bin/sh", "-c", cmd}, sentinel.CommandOptions{}))
		switch {
		case errors.Is(err, sentinel.ErrDenied):
			fmt.Println("denied:", cmd)
		case err != nil:
			fmt.Printf("failed: %s: %s", cmd, res.Output)
		default:
			fmt.Print(res.Output)
		}
	}
	// Output:
	// hello
	// failed: touch /etc/owned: touch: cannot touch '/etc/owned': Read-only file system
	// denied: rm -rf ~
}
