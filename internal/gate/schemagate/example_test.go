package schemagate_test

import (
	"fmt"

	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/gate/schemagate"
)

// The seed's write rule: a path and content are required, secrets files
// are off limits, content is at most 1 MiB and never logged.
func Example() {
	g, err := schemagate.Compile(schemagate.Config{Rules: []schemagate.Rule{{
		Tool:      "write",
		Required:  []string{"path", "content"},
		PathScope: []string{"path"},
		PathDeny:  map[string][]string{"path": {".env", "*.key", ".git/**"}},
		MaxSize:   map[string]int{"content": 1 << 20},
		Secrets:   []string{"content"},
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	env := gate.Env{Workspace: "/home/dev/project", Home: "/home/dev"}

	res := g.Validate("write", map[string]any{"path": "config/.env", "content": "TOKEN=abc"}, env)
	fmt.Println(res.Pass)
	for _, e := range res.Errors {
		fmt.Println(e.Code, e.Message)
	}
	fmt.Println(schemagate.Redact(map[string]any{"path": "config/.env", "content": "TOKEN=abc"}, res.Redact))
	// Output:
	// false
	// schema.path_deny field "path" of write names a protected file (matches ".env"); choose another path
	// map[content:[REDACTED] path:config/.env]
}
