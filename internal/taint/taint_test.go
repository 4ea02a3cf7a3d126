package taint

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/request"
)

func TestTrackerFlags(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tr := New(Options{MaxSessions: 2, TTL: time.Hour, Now: func() time.Time { return now }})
	if s := tr.State("a"); s.Untrusted || s.Sensitive {
		t.Fatalf("new session has flags: %+v", s)
	}
	tr.Mark("a", Source{Flag: Untrusted, Tool: "WebFetch", Reason: "fetched x"})
	if s := tr.State("a"); !s.Untrusted || s.Sensitive || len(s.Sources) != 1 || s.Sources[0].Time != now {
		t.Errorf("after one mark: %+v", s)
	}
	for i := range 10 {
		tr.Mark("a", Source{Flag: Sensitive, Tool: "Read", Reason: fmt.Sprint(i)})
	}
	s := tr.State("a")
	if !s.Sensitive || len(s.Sources) != 1+maxSources {
		t.Errorf("sources are not bounded per flag: %d", len(s.Sources))
	}
	if m := s.Map(); !m["untrusted"] || !m["sensitive"] {
		t.Errorf("Map = %v", m)
	}
	// The empty session and unknown flags are not tracked.
	tr.Mark("", Source{Flag: Untrusted})
	tr.Mark("b", Source{Flag: "weird"})
	if tr.Len() != 1 {
		t.Errorf("tracked %d sessions, want 1", tr.Len())
	}
	// Least recently changed goes first beyond MaxSessions.
	tr.Mark("b", Source{Flag: Untrusted})
	tr.Mark("c", Source{Flag: Untrusted})
	if tr.State("a").Untrusted || !tr.State("b").Untrusted || !tr.State("c").Untrusted {
		t.Errorf("LRU: a %v b %v c %v", tr.State("a"), tr.State("b"), tr.State("c"))
	}
	// Flags expire TTL after the last change, and End forgets at once.
	now = now.Add(2 * time.Hour)
	if tr.State("b").Untrusted {
		t.Error("b's flags outlived the TTL")
	}
	tr.Mark("c", Source{Flag: Sensitive})
	tr.End("c")
	if tr.State("c").Sensitive {
		t.Error("End did not forget c")
	}
	// A nil tracker is inert.
	var nilT *Tracker
	nilT.Mark("x", Source{Flag: Untrusted})
	if nilT.State("x").Untrusted {
		t.Error("nil tracker has state")
	}
}

func TestExposure(t *testing.T) {
	for _, tc := range []struct {
		name    string
		call    *request.ToolCall
		a       *analysis.Analysis
		reasons []decision.Reason
		want    string
	}{
		{"web fetch", &request.ToolCall{Tool: "WebFetch", Kind: request.KindNetRequest, Args: map[string]any{"url": "https://docs.example/x"}}, nil, nil, "untrusted:fetched https://docs.example/x"},
		{"mcp", &request.ToolCall{Tool: "mcp__gh__get_issue", Kind: request.KindMCP}, nil, nil, "untrusted:the output of MCP tool mcp__gh__get_issue"},
		{"curl download", &request.ToolCall{Tool: "Bash", Kind: request.KindExec}, &analysis.Analysis{Dests: []analysis.Dest{{Host: "example.com"}}}, nil, "untrusted:downloaded from example.com"},
		{"curl to loopback", &request.ToolCall{Tool: "Bash", Kind: request.KindExec}, &analysis.Analysis{Dests: []analysis.Dest{{Host: "127.0.0.1"}}}, nil, ""},
		{"sensitive read let run", &request.ToolCall{Tool: "Read", Kind: request.KindFileRead}, nil,
			[]decision.Reason{{Code: "path.sensitive", Action: decision.Notify, Message: "reading .env"}}, "sensitive:reading .env"},
		{"sensitive read refused", &request.ToolCall{Tool: "Read", Kind: request.KindFileRead}, nil,
			[]decision.Reason{{Code: "path.sensitive", Action: decision.Deny, Message: "reading .env"}}, ""},
		{"printenv", &request.ToolCall{Tool: "Bash", Kind: request.KindExec}, &analysis.Analysis{ReadsEnv: true}, nil, "sensitive:read the environment, where credentials live"},
		{"plain read", &request.ToolCall{Tool: "Read", Kind: request.KindFileRead}, nil, nil, ""},
	} {
		var got []string
		for _, s := range Exposure(tc.call, tc.a, tc.reasons) {
			got = append(got, string(s.Flag)+":"+s.Reason)
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%s: exposure %v, want %q", tc.name, got, tc.want)
		}
	}
}

func TestEffect(t *testing.T) {
	cmd := func(name string, args ...string) *analysis.Analysis {
		return &analysis.Analysis{Commands: []analysis.Command{{Name: name, Args: args}}}
	}
	exec := &request.ToolCall{Tool: "Bash", Kind: request.KindExec}
	for _, tc := range []struct {
		name string
		call *request.ToolCall
		a    *analysis.Analysis
		want bool
	}{
		{"curl -d", exec, &analysis.Analysis{Dests: []analysis.Dest{{Host: "api.example.com", Sends: true}}}, true},
		{"curl -d to loopback", exec, &analysis.Analysis{Dests: []analysis.Dest{{Host: "localhost", Sends: true}}}, false},
		{"curl get", exec, &analysis.Analysis{Dests: []analysis.Dest{{Host: "api.example.com"}}}, false},
		{"git push", exec, cmd("git", "push", "origin", "main"), true},
		{"git status", exec, cmd("git", "status"), false},
		{"npm publish", exec, cmd("npm", "publish"), true},
		{"npm test", exec, cmd("npm", "test"), false},
		{"sendmail", exec, cmd("sendmail", "a@b"), true},
		{"scp", exec, cmd("scp", "f", "host:"), true},
		{"aws s3 cp", exec, cmd("aws", "s3", "cp", "f", "s3://b/"), true},
		{"aws s3 ls", exec, cmd("aws", "s3", "ls"), false},
		{"web post", &request.ToolCall{Tool: "WebFetch", Kind: request.KindNetRequest, Args: map[string]any{"url": "https://x", "method": "post"}}, nil, true},
		{"web get", &request.ToolCall{Tool: "WebFetch", Kind: request.KindNetRequest, Args: map[string]any{"url": "https://x"}}, nil, false},
		{"mcp send", &request.ToolCall{Tool: "mcp__slack__send_message", Kind: request.KindMCP}, nil, true},
		{"mcp read", &request.ToolCall{Tool: "mcp__slack__list_channels", Kind: request.KindMCP}, nil, false},
		{"nil call", nil, nil, false},
	} {
		if got, why := Effect(tc.call, tc.a); got != tc.want || got && why == "" {
			t.Errorf("%s: effect %v (%q), want %v", tc.name, got, why, tc.want)
		}
	}
}
