package sentinel_test

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// listPackages returns every package of the module with its imports.
func listPackages(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports ","}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, imps, _ := strings.Cut(line, " ")
		pkgs[path] = strings.Split(imps, ",")
	}
	return pkgs
}

// TestGatesArePure checks that gate packages (and the leaf packages they
// build on) never import I/O, storage, server or audit packages: a gate
// judges data, it does not fetch it.
func TestGatesArePure(t *testing.T) {
	forbidden := []string{"net/http", "database/sql", "os/exec", "net/rpc", "log",
		"github.com/sentinel-agent/sentinel/internal/store", "github.com/sentinel-agent/sentinel/internal/audit",
		"github.com/sentinel-agent/sentinel/internal/server", "github.com/sentinel-agent/sentinel/internal/cli",
		"github.com/sentinel-agent/sentinel/internal/kernel"}
	pure := func(p string) bool {
		return strings.Contains(p, "/internal/gate") || strings.HasSuffix(p, "/internal/decision") ||
			strings.HasSuffix(p, "/internal/request") || strings.HasSuffix(p, "/internal/analysis") ||
			strings.HasSuffix(p, "/internal/shell")
	}
	checked := 0
	for pkg, imps := range listPackages(t) {
		if !pure(pkg) {
			continue
		}
		checked++
		for _, imp := range imps {
			for _, f := range forbidden {
				if imp == f || strings.HasPrefix(imp, f+"/") {
					t.Errorf("%s imports %s; gate and leaf packages must stay free of I/O and of the layers above them", pkg, imp)
				}
			}
		}
	}
	if checked < 8 {
		t.Errorf("checked only %d pure packages; the layout test has lost track of the gates", checked)
	}
}

// TestStoresBehindInterfaces checks that the audit log, the approvals,
// the kernel, the server and auth reach storage only through the
// interfaces the first two declare: none imports a store or a database
// driver, and the redactor is standard library only.
func TestStoresBehindInterfaces(t *testing.T) {
	pkgs := listPackages(t)
	seen := 0
	for pkg, imps := range pkgs {
		base := strings.TrimPrefix(pkg, "github.com/sentinel-agent/sentinel/")
		switch base {
		case "internal/audit", "internal/kernel", "internal/approval", "internal/server", "internal/auth":
			seen++
			for _, imp := range imps {
				if strings.Contains(imp, "/internal/store") || strings.Contains(imp, "sqlite") || strings.Contains(imp, "jackc/pgx") || imp == "database/sql" {
					t.Errorf("%s imports %s; it must use the Store interface it declares", base, imp)
				}
			}
		case "internal/redact":
			seen++
			for _, imp := range imps {
				if imp != "" && strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
					t.Errorf("internal/redact imports %s; it is a standard-library leaf", imp)
				}
			}
		}
	}
	if seen != 6 {
		t.Errorf("found %d of audit, kernel, approval, server, auth and redact", seen)
	}
}

// TestLeavesAreLeaves checks that the leaf data packages import only the
// standard library and each other.
func TestLeavesAreLeaves(t *testing.T) {
	leaves := map[string]bool{"decision": true, "request": true, "analysis": true}
	for pkg, imps := range listPackages(t) {
		if !leaves[filepath.Base(pkg)] || !strings.Contains(pkg, "/internal/") {
			continue
		}
		for _, imp := range imps {
			if imp == "" || !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				continue // standard library
			}
			if strings.HasPrefix(imp, "github.com/sentinel-agent/sentinel/internal/") && leaves[filepath.Base(imp)] {
				continue
			}
			t.Errorf("leaf package %s imports %s", pkg, imp)
		}
	}
}

// TestPackageDocs checks that every package says what it is for.
func TestPackageDocs(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{.Dir}} {{join .GoFiles ","}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		documented := false
		for _, name := range strings.Split(f[2], ",") {
			file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(f[1], name), nil, parser.ParseComments|parser.PackageClauseOnly)
			if err != nil {
				t.Fatalf("parse %s: %v", name, err)
			}
			if file.Doc != nil && strings.TrimSpace(file.Doc.Text()) != "" {
				documented = true
			}
		}
		if !documented {
			t.Errorf("package %s has no package doc comment", f[0])
		}
	}
}
