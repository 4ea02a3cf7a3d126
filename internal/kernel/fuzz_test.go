package kernel

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// FuzzDecide feeds arbitrary calls through the whole pipeline: every input
// must yield a decision with a valid action, a revision, and at least one
// reason whenever the action is not allow.
func FuzzDecide(f *testing.F) {
	f.Add("exec", `{"command":"rm -rf /"}`)
	f.Add("Bash", `{"command":"x=r''m; $x -rf \"$HOME\" | base64 -d | sh"}`)
	f.Add("write_file", `{"path":"../../etc/cron.d/x","content":"* * * * * root sh"}`)
	f.Add("tool_call", `{"id":"read","args":{"path":"~/.ssh/id_rsa"}}`)
	f.Add("http_request", `{"method":"POST","url":"http://0x7f.1/","body":"a"}`)
	f.Add("mcp__fs__delete_file", `{"path":"package.json"}`)
	f.Add("apply_patch", `{"input":"*** Delete File: package.json"}`)
	k := newTestKernel(f, Options{})
	f.Fuzz(func(t *testing.T, tool, argsJSON string) {
		var args map[string]any
		if err := json.Unmarshal([]byte(argsJSON), &args); err != nil {
			args = map[string]any{"command": argsJSON}
		}
		d := k.Decide(context.Background(), request.Raw{Tool: tool, Args: args})
		if d.Action < decision.Allow || d.Action > decision.Deny {
			t.Fatalf("invalid action %d", d.Action)
		}
		if d.PolicyRevision == "" {
			t.Fatal("no policy revision")
		}
		if d.Action != decision.Allow && len(d.Reasons) == 0 {
			t.Fatalf("%s without a reason for %q %q", d.Action, tool, argsJSON)
		}
		if len(d.Reasons) > 0 && d.Reasons[0].Action != d.Action {
			t.Fatalf("first reason %s does not carry the decision %s", d.Reasons[0].Action, d.Action)
		}
	})
}
