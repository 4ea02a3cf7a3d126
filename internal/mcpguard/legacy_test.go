//lint:file-ignore SA1019 the test drives the roots and logging features the proxy forwards.

package mcpguard

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestForwardsRootsAndLogs: the upstream reads the client's roots and
// logs to it, both through the proxy.
func TestForwardsRootsAndLogs(t *testing.T) {
	up := newUpstream()
	up.add("where", "Tells where the client works.", `{"type":"object"}`, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		roots, err := req.Session.ListRoots(ctx, nil)
		if err != nil {
			return nil, err
		}
		_ = req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "warning", Data: "looked at the roots"})
		var uris []string
		for _, r := range roots.Roots {
			uris = append(uris, r.URI)
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Join(uris, ",")}}}, nil
	})
	logs := make(chan string, 4)
	f := newFixture(t, up, &mcp.ClientOptions{LoggingMessageHandler: func(_ context.Context, r *mcp.LoggingMessageRequest) {
		logs <- r.Params.Data.(string)
	}}, func(c *mcp.Client) { c.AddRoots(&mcp.Root{URI: "file:///work/project", Name: "project"}) })
	if err := f.client.SetLoggingLevel(context.Background(), &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
		t.Fatalf("logging/setLevel through the proxy: %v", err)
	}
	res := f.call(t, "where", map[string]any{})
	if res.IsError || text(res) != "file:///work/project" {
		t.Fatalf("the upstream read the roots %q (isError %v), want the client's", text(res), res.IsError)
	}
	select {
	case got := <-logs:
		if got != "looked at the roots" {
			t.Errorf("log message %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Error("the upstream's log message did not reach the client")
	}
}
