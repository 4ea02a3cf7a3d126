package client_test

import (
	"context"
	"fmt"
	"os"

	"github.com/sentinel-agent/sentinel/client"
)

// Decide calls on a remote server and report how the allowed ones ran.
func Example() {
	dir, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(dir)
	srv, err := startServer(dir) // `sentinel server` on an httptest server
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	c, err := client.New(srv.URL, client.WithToken(srv.AgentToken))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, cmd := range []string{"go test ./...", "rm -rf /"} {
		d, err := c.Check(ctx, client.Call{Tool: "exec", Session: "s1", Args: map[string]any{"command": cmd}})
		if err != nil {
			fmt.Println("refused, the server gave no decision:", err)
			continue
		}
		fmt.Println(cmd+":", d.Action, d.Codes())
		if d.Action.Blocks() {
			continue
		}
		// … run the command, then record how it went.
		err = c.Outcome(ctx, client.Outcome{DecisionID: d.DecisionID, Tool: "exec", Session: "s1", Status: client.OutcomeOK})
		fmt.Println("outcome recorded:", err == nil)
	}
	// Output:
	// go test ./...: allow []
	// outcome recorded: true
	// rm -rf /: deny [command.recursive_delete_root path.system risk.score]
}

// A confirm opens an approval; once a human approves it, the same call
// sent with the approval is allowed, once.
func ExampleClient_WaitApproval() {
	dir, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(dir)
	srv, err := startServer(dir)
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	c, _ := client.New(srv.URL, client.WithToken(srv.AgentToken))
	ctx := context.Background()
	call := client.Call{Tool: "exec", Session: "s1", Args: map[string]any{"command": "git push --force origin main"}}
	d, err := c.Check(ctx, call)
	if err != nil || d.Approval == nil {
		panic(fmt.Sprint("no approval: ", err))
	}
	fmt.Println(d.Action, d.Approval.Status)

	_ = srv.approve(d.Approval.ID) // an operator: `sentinel approvals approve ID`

	a, err := c.WaitApproval(ctx, d.Approval.ID)
	if err != nil || !a.Approved() {
		fmt.Println("not approved:", a.Status, err)
		return
	}
	d, _ = c.CheckWithApproval(ctx, call, a.ID)
	fmt.Println(d.Action, d.Codes()[0])
	// Output:
	// confirm pending
	// allow approval.approved
}
