package pathgate

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/gate"
)

// FuzzCanonicalize checks that Canonicalize never panics, that what it
// returns is absolute and clean, and that canonicalising a result again
// changes nothing. The world it runs in has links that stay inside, leave
// the workspace, point at /etc and loop.
func FuzzCanonicalize(f *testing.F) {
	w := newWorld(f)
	for _, s := range []string{
		"src/main.go", "../outside/file", "~/.ssh/id_rsa", "$HOME/x", "${HOME}", "~root/.x",
		"etc/../tmp", "inner/../up/file", "loop1/x", "/proc/self/root/etc/shadow", "/proc/self/cwd/src",
		"/dev/stdout", "a\x00b", "", ".", "..", "//", "./../../..", "up/../../ws/etc/passwd", "~x~/y",
	} {
		f.Add(s)
	}
	g, err := Compile(Default())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := Canonicalize(p, w.env)
		if err != nil {
			if strings.IndexByte(p, 0) >= 0 && !errors.Is(err, ErrNUL) && len(p) <= MaxPathLen {
				t.Fatalf("Canonicalize(%q) = %v, want ErrNUL", p, err)
			}
			return
		}
		if !filepath.IsAbs(got.Abs) || filepath.Clean(got.Abs) != got.Abs {
			t.Fatalf("Canonicalize(%q) = %q: not absolute and clean", p, got.Abs)
		}
		if got.InWorkspace != (got.Rel != "") {
			t.Fatalf("Canonicalize(%q): InWorkspace %v with Rel %q", p, got.InWorkspace, got.Rel)
		}
		again, err := Canonicalize(got.Abs, w.env)
		if err != nil {
			t.Fatalf("Canonicalize(%q) = %q, but again: %v", p, got.Abs, err)
		}
		if again.Abs != got.Abs || again.InWorkspace != got.InWorkspace || again.Rel != got.Rel {
			t.Fatalf("not idempotent: %q → %+v → %+v", p, got, again)
		}
		// The gate itself must take any path, literal or wildcard.
		for _, ref := range []analysis.PathRef{{Path: p, Op: analysis.OpWrite, Recursive: true}, {Path: p, Op: analysis.OpRead, Dynamic: true}} {
			if _, err := g.Check(context.Background(), &gate.Input{Analysis: &analysis.Analysis{Paths: []analysis.PathRef{ref}}, Env: w.env}); err != nil {
				t.Fatalf("Check(%q): %v", p, err)
			}
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	w := newWorld(b)
	g, err := Compile(Default())
	if err != nil {
		b.Fatal(err)
	}
	in := execInput(w.env,
		analysis.PathRef{Path: "src/main.go", Op: analysis.OpRead},
		analysis.PathRef{Path: "src/new/file.go", Op: analysis.OpWrite},
		analysis.PathRef{Path: "package.json", Op: analysis.OpRead},
		analysis.PathRef{Path: ".env", Op: analysis.OpRead},
		analysis.PathRef{Path: "~/.ssh/id_rsa", Op: analysis.OpRead},
		analysis.PathRef{Path: "/etc/passwd", Op: analysis.OpRead},
		analysis.PathRef{Path: "/tmp/build.log", Op: analysis.OpWrite},
		analysis.PathRef{Path: "/usr/include/stdio.h", Op: analysis.OpRead},
		analysis.PathRef{Path: "notes.txt", Op: analysis.OpRead},
		analysis.PathRef{Path: "dist/*", Op: analysis.OpDelete, Recursive: true},
	)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Check(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonicalize(b *testing.B) {
	w := newWorld(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Canonicalize("src/../src/main.go", w.env); err != nil {
			b.Fatal(err)
		}
	}
}
