package verify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/verify"
)

// An agent says it wrote two files and returned a JSON summary; one file is
// not there. Linters are turned off to keep the example independent of
// the tools installed.
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "verify-example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "report.json"), []byte(`{"ok": true}`), 0o644)

	claim := verify.Claim{
		Created:      []string{"report.json", "summary.md"},
		ExpectResult: true,
		Result:       `{"files": 2}`,
		ResultFormat: "json",
	}
	opts := verify.Options{Workdir: dir, Linters: map[string][]verify.Command{}, Typecheckers: map[string][]verify.Command{}}
	r := verify.Run(context.Background(), claim, nil, opts)
	fmt.Println("report:", r.Status)
	for _, c := range r.Checks {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%-9s %-4s %s", c.Name, c.Status, c.Code)))
	}
	// Output:
	// report: fail
	// exists    fail exists.missing
	// changed   skip changed.not_claimed
	// non_empty pass
	// format    pass
	// lint      skip lint.no_tool
	// typecheck skip typecheck.no_tool
	// publish   skip publish.not_claimed
	// push      skip push.not_claimed
}
