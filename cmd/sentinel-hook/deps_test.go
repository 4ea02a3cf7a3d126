package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps sentinel-hook quick to start: it runs once per
// tool call, and every package it links runs its initialisation first.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/sentinel-agent/sentinel/"
	// Named so that the failure says what went wrong; the allow-list
	// below catches the rest.
	forbidden := []string{
		mod + "internal/cli", mod + "internal/kernel", mod + "internal/audit", mod + "internal/store",
		mod + "internal/server", mod + "internal/policy", mod + "internal/gate",
		"github.com/prometheus/", "github.com/santhosh-tekuri/jsonschema", "cel.dev/", "modernc.org/sqlite", "github.com/jackc/pgx",
	}
	allowed := map[string]bool{
		mod + "cmd/sentinel-hook": true, mod + "internal/hook": true,
		mod + "internal/decision": true, mod + "internal/redact": true, mod + "internal/inject": true,
		"golang.org/x/text/transform": true, "golang.org/x/text/unicode/norm": true,
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, std, _ := strings.Cut(line, " ")
		n++
		for _, f := range forbidden {
			if path == f || strings.HasPrefix(path, strings.TrimSuffix(f, "/")+"/") {
				t.Errorf("sentinel-hook links %s; it must not link %s", path, f)
			}
		}
		if std != "true" && !allowed[path] {
			t.Errorf("sentinel-hook links %s; outside the standard library it may link only %v", path, keys(allowed))
		}
	}
	if n < len(allowed) {
		t.Fatalf("go list listed %d packages:\n%s", n, out)
	}
}

func keys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
