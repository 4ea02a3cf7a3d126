package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// snapshot is a Before backed by a map; a path absent from it was not
// recorded.
type snapshot map[string]state

type state struct {
	exists bool
	sum    string
}

func (s snapshot) State(p string) (bool, string, bool) {
	st, ok := s[p]
	return st.exists, st.sum, ok
}

var _ Before = snapshot(nil)

// record snapshots the current state of the given absolute paths.
func record(t *testing.T, paths ...string) snapshot {
	t.Helper()
	s := snapshot{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			s[p] = state{}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		s[p] = state{exists: true, sum: hex.EncodeToString(sum[:])}
	}
	return s
}

func write(t *testing.T, p, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// offline turns off the checks that run tools, for tests of the others.
func offline(dir string) Options {
	return Options{Workdir: dir, Linters: map[string][]Command{}, Typecheckers: map[string][]Command{}}
}

// mustCheck returns the named check or fails the test.
func mustCheck(t *testing.T, r Report, name string) Check {
	t.Helper()
	c, ok := r.Check(name)
	if !ok {
		t.Fatalf("report has no %q check: %+v", name, r)
	}
	return c
}

func assertCheck(t *testing.T, r Report, name string, st Status, code, reasonHas string) {
	t.Helper()
	c := mustCheck(t, r, name)
	if c.Status != st || c.Code != code {
		t.Errorf("%s: got %s %q (%s), want %s %q", name, c.Status, c.Code, c.Reason, st, code)
	}
	if !strings.Contains(c.Reason, reasonHas) {
		t.Errorf("%s: reason %q does not mention %q", name, c.Reason, reasonHas)
	}
}

func TestRunOrderAndWorstStatus(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "made.txt"), "x")
	tests := []struct {
		name  string
		claim Claim
		want  Status
	}{
		{"nothing claimed is all skip", Claim{}, Skip},
		{"one pass among skips is pass", Claim{Created: []string{"made.txt"}}, Pass},
		{"an empty result warns", Claim{Created: []string{"made.txt"}, ExpectResult: true}, Warn},
		{"a fail outranks a warn", Claim{Created: []string{"made.txt", "ghost.txt"}, ExpectResult: true}, Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(context.Background(), tt.claim, nil, offline(dir))
			if r.Status != tt.want {
				t.Errorf("got %s, want %s: %+v", r.Status, tt.want, r.Checks)
			}
			var names []string
			for _, c := range r.Checks {
				names = append(names, c.Name)
			}
			want := "exists changed non_empty format lint typecheck publish push"
			if got := strings.Join(names, " "); got != want {
				t.Errorf("checks %q, want %q", got, want)
			}
		})
	}
}

func TestStatusRanks(t *testing.T) {
	tests := []struct {
		in   []Status
		want Status
	}{
		{[]Status{Skip, Skip}, Skip},
		{[]Status{Skip, Pass}, Pass},
		{[]Status{Pass, Warn, Skip}, Warn},
		{[]Status{Warn, Fail, Pass}, Fail},
		{[]Status{Pass, "bogus"}, Fail}, // unknown fails closed
	}
	for _, tt := range tests {
		var checks []Check
		for _, s := range tt.in {
			checks = append(checks, Check{Status: s})
		}
		if got := report(checks).Status; got != tt.want {
			t.Errorf("report(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
	// Inside one check a skipped part outranks the parts that passed.
	var tl tally
	tl.add(Pass, "", "")
	tl.add(Skip, "lint.not_installed", "eslint is not installed")
	tl.add(Pass, "", "")
	if c := tl.check("lint", 0); c.Status != Skip || c.Code != "lint.not_installed" {
		t.Errorf("pass+skip+pass = %s %q, want skip lint.not_installed", c.Status, c.Code)
	}
}

func TestRunRejectsUnusableClaimsAndOptions(t *testing.T) {
	dir := t.TempDir()
	many := make([]string, 11)
	for i := range many {
		many[i] = "f"
	}
	tests := []struct {
		name   string
		claim  Claim
		opts   Options
		reason string
	}{
		{"empty path", Claim{Created: []string{""}}, Options{}, "Created[0] is empty"},
		{"NUL in path", Claim{Deleted: []string{"a\x00b"}}, Options{}, "NUL"},
		{"too many paths", Claim{Modified: many}, Options{MaxPaths: 10}, "more than the limit of 10"},
		{"unknown result format", Claim{ResultFormat: "xml"}, Options{}, `ResultFormat "xml" is unknown`},
		{"extension without dot", Claim{}, Options{Linters: map[string][]Command{"go": {{Argv: []string{"gofmt"}}}}}, `key "go"`},
		{"upper-case extension", Claim{}, Options{Linters: map[string][]Command{".GO": {{Argv: []string{"gofmt"}}}}}, `key ".GO"`},
		{"empty argv", Claim{}, Options{Typecheckers: map[string][]Command{".go": {{}}}}, "Argv is empty"},
		{"bad severity", Claim{}, Options{Linters: map[string][]Command{".go": {{Argv: []string{"x"}, Severity: Pass}}}}, "Severity"},
		{"negative limit", Claim{}, Options{MaxFileBytes: -1}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Workdir = dir
			r := Run(context.Background(), tt.claim, nil, tt.opts)
			if r.Status != Fail || len(r.Checks) != 1 {
				t.Fatalf("got %s with %d checks, want one FAIL", r.Status, len(r.Checks))
			}
			c := r.Checks[0]
			if c.Name != CheckClaim || c.Code != "claim.invalid" || !strings.Contains(c.Reason, tt.reason) {
				t.Errorf("got %+v, want claim.invalid mentioning %q", c, tt.reason)
			}
		})
	}
}

func TestRunCanceledFailsClosed(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.txt"), "x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := Run(ctx, Claim{Created: []string{"a.txt"}}, nil, offline(dir))
	if r.Status != Fail {
		t.Fatalf("canceled run is %s, want fail", r.Status)
	}
	for _, c := range r.Checks {
		if c.Status != Fail || c.Code != "verify.canceled" {
			t.Errorf("%s: %s %q, want fail verify.canceled", c.Name, c.Status, c.Code)
		}
	}
}

func TestReasonIsBounded(t *testing.T) {
	var tl tally
	for range 1000 {
		tl.add(Fail, "exists.missing", strings.Repeat("x", 100))
	}
	tl.add(Fail, "x", strings.Repeat("é", 10000))
	c := tl.check("exists", time.Second)
	if len(c.Reason) > maxReason+200 {
		t.Errorf("reason has %d bytes, want at most about %d", len(c.Reason), maxReason)
	}
	if !strings.Contains(c.Reason, "more") || c.Code != "exists.missing" {
		t.Errorf("reason %q… code %q: want a count of the notes left out and the first worst code", c.Reason[len(c.Reason)-40:], c.Code)
	}
	if got := clip("ééé", 3); got != "é…" {
		t.Errorf("clip cut a rune: %q", got)
	}
}
