package schemagate

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// writeFileRule is the seed's typical write rule, with a workspace scope.
var writeFileRule = Rule{
	Tool:      "write_file",
	Required:  []string{"path", "content"},
	Types:     map[string]string{"path": "string", "content": "string"},
	PathScope: []string{"path"},
	PathDeny:  map[string][]string{"path": {".env", ".env.*", "*.key", "*.pem", ".git/**", "**/credentials/**"}},
	MaxSize:   map[string]int{"content": 1 << 20},
	Secrets:   []string{"content"},
}

func benchCheck(b *testing.B, rule Rule, args map[string]any) {
	g := mustCompile(b, rule)
	in := &gate.Input{
		Call: &request.ToolCall{Tool: rule.Tool, Kind: request.KindFileWrite, Original: args},
		Env:  gate.Env{Workspace: "/home/u/project", Home: "/home/u", Cwd: "/home/u/project"},
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v, err := g.Check(ctx, in)
		if err != nil || len(v.Reasons) != 0 {
			b.Fatalf("unexpected verdict %+v %v", v, err)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	args := map[string]any{"path": "src/pkg/handler.go", "content": strings.Repeat("package x\n", 200)}
	b.Run("write_file", func(b *testing.B) { benchCheck(b, writeFileRule, args) })
	b.Run("no_rule", func(b *testing.B) {
		g := mustCompile(b, writeFileRule)
		in := &gate.Input{Call: &request.ToolCall{Tool: "Read", Original: args}}
		b.ReportAllocs()
		for b.Loop() {
			if v, _ := g.Check(context.Background(), in); len(v.Reasons) != 0 {
				b.Fatal("unexpected reasons")
			}
		}
	})
	b.Run("json_schema", func(b *testing.B) {
		r := Rule{Tool: "write_file", JSONSchema: json.RawMessage(`{"type": "object",
			"properties": {"path": {"type": "string", "minLength": 1}, "content": {"type": "string", "maxLength": 1048576}},
			"required": ["path", "content"], "additionalProperties": false}`)}
		benchCheck(b, r, args)
	})
}
