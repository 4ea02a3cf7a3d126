package hook

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the package light to start: sentinel-hook runs
// once per tool call and links everything this package imports. Only the
// standard library, the leaf packages below and the Unicode tables the
// injection scanner normalises with are allowed; none does work at init.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	const self = "github.com/sentinel-agent/sentinel/internal/hook"
	allowed := map[string]bool{
		self: true,
		"github.com/sentinel-agent/sentinel/internal/decision": true,
		"github.com/sentinel-agent/sentinel/internal/redact":   true,
		"github.com/sentinel-agent/sentinel/internal/inject":   true,
		"golang.org/x/text/transform":                          true,
		"golang.org/x/text/unicode/norm":                       true,
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := false
	for _, p := range strings.Fields(string(out)) {
		if p == self {
			seen = true
		}
		if !allowed[p] {
			t.Errorf("internal/hook depends on %s; it may import only the standard library, internal/decision, internal/redact, internal/inject and x/text's norm", p)
		}
	}
	if !seen {
		t.Fatalf("go list did not list the package itself:\n%s", out)
	}
}
