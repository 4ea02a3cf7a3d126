package request

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name     string
		raw      Raw
		declared Declared
		kind     Kind
		args     map[string]any
		known    bool
		server   string
		wrapped  string
	}{
		{name: "eval exec", raw: Raw{Tool: "exec", Args: map[string]any{"command": "ls"}},
			kind: KindExec, args: map[string]any{"command": "ls"}, known: true},
		{name: "claude bash", raw: Raw{Tool: "Bash", Args: map[string]any{"command": "ls", "timeout": 5.0, "description": "list"}},
			kind: KindExec, args: map[string]any{"command": "ls"}, known: true},
		{name: "claude write", raw: Raw{Tool: "Write", Args: map[string]any{"file_path": "/w/a.go", "content": "x"}},
			kind: KindFileWrite, args: map[string]any{"path": "/w/a.go", "content": "x"}, known: true},
		{name: "claude edit carries new_string as content", raw: Raw{Tool: "Edit", Args: map[string]any{"file_path": "/w/a.go", "old_string": "a", "new_string": "b"}},
			kind: KindFileWrite, args: map[string]any{"path": "/w/a.go", "content": "b"}, known: true},
		{name: "claude read", raw: Raw{Tool: "Read", Args: map[string]any{"file_path": "/w/a.go", "offset": 1.0}},
			kind: KindFileRead, args: map[string]any{"path": "/w/a.go"}, known: true},
		{name: "claude webfetch", raw: Raw{Tool: "WebFetch", Args: map[string]any{"url": "https://x.io", "prompt": "p"}},
			kind: KindNetRequest, args: map[string]any{"url": "https://x.io"}, known: true},
		{name: "eval http_request", raw: Raw{Tool: "http_request", Args: map[string]any{"method": "POST", "url": "https://x.io", "body": "a=1"}},
			kind: KindNetRequest, args: map[string]any{"url": "https://x.io", "method": "POST", "body": "a=1"}, known: true},
		{name: "eval delete", raw: Raw{Tool: "delete_file", Args: map[string]any{"path": "a"}},
			kind: KindFileDelete, args: map[string]any{"path": "a"}, known: true},
		{name: "seed write", raw: Raw{Tool: "write", Args: map[string]any{"path": "a", "content": "b"}},
			kind: KindFileWrite, args: map[string]any{"path": "a", "content": "b"}, known: true},
		{name: "openclaw read", raw: Raw{Tool: "read", Args: map[string]any{"path": "a"}},
			kind: KindFileRead, args: map[string]any{"path": "a"}, known: true},
		{name: "mcp tool", raw: Raw{Tool: "mcp__github__create_issue", Args: map[string]any{"title": "t"}},
			kind: KindMCP, args: map[string]any{"title": "t"}, known: true, server: "github"},
		{name: "declared custom tool", raw: Raw{Tool: "run_sql", Args: map[string]any{"sql": "select 1"}}, declared: Declared{"run_sql": KindDBQuery},
			kind: KindDBQuery, args: map[string]any{"query": "select 1"}, known: true},
		{name: "unknown tool", raw: Raw{Tool: "frobnicate", Args: map[string]any{"x": 1.0}},
			kind: KindOther, args: map[string]any{"x": 1.0}, known: false},
		{name: "lookalike is not mapped", raw: Raw{Tool: "BASH", Args: map[string]any{"command": "rm -rf /"}},
			kind: KindOther, args: map[string]any{"command": "rm -rf /"}, known: false},
		{name: "openclaw wrapper is judged by its inner call", raw: Raw{Tool: "tool_call", Args: map[string]any{"id": "exec", "args": map[string]any{"command": "rm -rf /"}}},
			kind: KindExec, args: map[string]any{"command": "rm -rf /"}, known: true, wrapped: "tool_call"},
		{name: "number where a string belongs", raw: Raw{Tool: "exec", Args: map[string]any{"command": 42.0}},
			kind: KindExec, args: map[string]any{"command": "42"}, known: true},
		{name: "apply_patch deletes", raw: Raw{Tool: "apply_patch", Args: map[string]any{"input": "*** Begin Patch\n*** Delete File: package.json\n*** End Patch"}},
			kind: KindFileWrite, args: map[string]any{"path": "package.json", "content": "", "deletes": []string{"package.json"}}, known: true},
		{name: "apply_patch paths", raw: Raw{Tool: "apply_patch", Args: map[string]any{"input": "*** Begin Patch\n*** Update File: a.go\n+x\n*** Add File: b/c.go\n+y\n*** End Patch"}},
			kind: KindFileWrite, args: map[string]any{"path": "a.go", "paths": []string{"b/c.go"}, "content": "x\ny"}, known: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.raw, tt.declared)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if got.Kind != tt.kind || got.Known != tt.known || got.Server != tt.server || got.Wrapped != tt.wrapped {
				t.Errorf("kind=%s known=%v server=%q wrapped=%q, want %s %v %q %q", got.Kind, got.Known, got.Server, got.Wrapped, tt.kind, tt.known, tt.server, tt.wrapped)
			}
			if diff := cmp.Diff(tt.args, got.Args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	tests := []struct {
		name string
		raw  Raw
		want string
	}{
		{"empty tool", Raw{Tool: "  "}, "tool name is empty"},
		{"control characters", Raw{Tool: "exec\n"}, "control characters"},
		{"long name", Raw{Tool: strings.Repeat("a", MaxToolNameLen+1)}, "limit"},
		{"object command", Raw{Tool: "exec", Args: map[string]any{"command": map[string]any{}}}, `"command" must be a string, got an object`},
		{"wrapper without inner", Raw{Tool: "tool_call", Args: map[string]any{"args": map[string]any{}}}, `needs the inner tool's name`},
		{"wrapper args not object", Raw{Tool: "tool_call", Args: map[string]any{"id": "exec", "args": "x"}}, `must be an object`},
		{"patch without files", Raw{Tool: "apply_patch", Args: map[string]any{"input": "hello"}}, "names no file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Normalize(tt.raw, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestNestedWrappersAreBounded(t *testing.T) {
	var args map[string]any = map[string]any{"command": "ls"}
	tool := "exec"
	for i := 0; i < MaxDepth+2; i++ {
		args = map[string]any{"id": tool, "args": args}
		tool = "tool_call"
	}
	_, err := Normalize(Raw{Tool: tool, Args: args}, nil)
	if err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("err = %v, want a nesting error", err)
	}
}

func TestErrNoToolIsMatchable(t *testing.T) {
	if _, err := Normalize(Raw{}, nil); !errors.Is(err, ErrNoTool) {
		t.Fatalf("err = %v, want ErrNoTool", err)
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add("exec", `{"command":"rm -rf /"}`)
	f.Add("tool_call", `{"id":"tool_call","args":{"id":"Bash","args":{"command":"ls"}}}`)
	f.Add("apply_patch", `{"input":"*** Update File: a\n+b"}`)
	f.Add("mcp__a__b", `{"x":[1,2,{"y":null}]}`)
	f.Add("Edit", `{"file_path":"a","edits":[{"new_string":"q"}]}`)
	f.Fuzz(func(t *testing.T, tool, argsJSON string) {
		var args map[string]any
		if json.Unmarshal([]byte(argsJSON), &args) != nil {
			args = nil
		}
		c, err := Normalize(Raw{Tool: tool, Args: args}, nil)
		if err != nil {
			return
		}
		if c.Kind == "" {
			t.Fatalf("no kind for %q", tool)
		}
		if _, err := ParseKind(string(c.Kind)); err != nil {
			t.Fatalf("invalid kind %q", c.Kind)
		}
		if c.Args == nil && c.Kind != KindOther && c.Kind != KindMCP {
			t.Fatalf("nil args for kind %s", c.Kind)
		}
		for _, k := range []string{ArgCommand, ArgPath, ArgURL} {
			if v, ok := c.Args[k]; ok {
				if _, isStr := v.(string); !isStr && c.Kind != KindOther && c.Kind != KindMCP {
					t.Fatalf("canonical %s is %T", k, v)
				}
			}
		}
	})
}

// TestClaudeCodeSearchTools: Glob, Grep and LS read the tree under their
// path, the working directory when they name none.
func TestClaudeCodeSearchTools(t *testing.T) {
	for _, tt := range []struct {
		tool string
		args map[string]any
		path string
	}{
		{"Glob", map[string]any{"pattern": "**/*.go"}, "."},
		{"Glob", map[string]any{"pattern": "*", "path": "/etc"}, "/etc"},
		{"Grep", map[string]any{"pattern": "password", "path": "~/.ssh"}, "~/.ssh"},
		{"Grep", map[string]any{"pattern": "TODO", "glob": "*.go"}, "."},
		{"LS", map[string]any{"path": "/root"}, "/root"},
	} {
		c, err := Normalize(Raw{Tool: tt.tool, Args: tt.args}, nil)
		if err != nil {
			t.Fatalf("%s %v: %v", tt.tool, tt.args, err)
		}
		if !c.Known || c.Kind != KindFileRead || c.Path() != tt.path {
			t.Errorf("%s %v: known %v kind %s path %q, want a known file.read of %q", tt.tool, tt.args, c.Known, c.Kind, c.Path(), tt.path)
		}
	}
}
