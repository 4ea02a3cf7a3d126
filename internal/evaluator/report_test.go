package evaluator

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

var update = flag.Bool("update", false, "rewrite testdata/report.golden with the current report (review the diff!)")

// reportEvents is a small day of two agents whose scores are worked out
// by hand in TestReportGolden.
func reportEvents() []Event {
	at := func(hhmm string) time.Time {
		t, err := time.Parse("2006-01-02 15:04", hhmm)
		if err != nil {
			panic(err)
		}
		return t
	}
	o1 := out(at("2026-03-02 10:00"), "coder", "s1", ExecOK, VerifyPass)
	o1.UserAccepted = ptr(true)
	o2 := out(at("2026-03-02 10:05"), "coder", "s1", ExecError, VerifyFail)
	o2.Retries = 1
	o3 := out(at("2026-03-02 11:30"), "coder", "s3", ExecOK, VerifyFail)
	o3.ResultUsed = ptr(false)
	return []Event{
		dec(at("2026-03-02 10:00"), "coder", "s1", "exec", decision.Allow, 0.2),
		o1,
		dec(at("2026-03-02 10:05"), "coder", "s1", "write_file", decision.Allow, 0, "schema.required"),
		o2,
		dec(at("2026-03-02 11:00"), "coder", "s3", "exec", decision.Deny, 9, "command.recursive_delete_root"),
		dec(at("2026-03-02 11:30"), "coder", "s3", "read_file", decision.Confirm, 1),
		o3,
		dec(at("2026-03-02 11:40"), "coder", "s3", "exec", decision.Allow, 0.4),
		out(at("2026-03-02 11:40"), "coder", "s3", ExecOK, VerifyFail),
		fb(at("2026-03-02 11:50"), "coder", "s1", UserUsedResult),
		fb(at("2026-03-02 11:55"), "coder", "s3", UserImmediateContinue),
		fb(at("2026-03-01 18:00"), "coder", "s1", UserModifiedOutput),
		dec(at("2026-03-01 06:00"), "reviewer", "r1", "read_file", decision.Allow, 0),
		out(at("2026-03-01 06:00"), "reviewer", "r1", ExecOK, VerifyPass),
		fb(at("2026-03-01 06:05"), "reviewer", "r1", UserSharedOutput),
	}
}

func TestReportGolden(t *testing.T) {
	p := ProfileOf(reportEvents(), Options{Now: now})

	// By hand: pre-exec per decision 99.5, 85, 40, 77.5, 99 (coder) and 100
	// (reviewer); runtime 100, 60, 100, 100 and 100; post-exec 100, 0, 0, 0
	// and 100; signals +0.7 and +0.3 in the last hour, −0.5 in the last day
	// (weight 0.5), +0.8 in the last week (weight 0.25).
	sat := 50 + 62.5*(0.7+0.3-0.25+0.2)/2.75
	want := Breakdown{
		PreExec:      Score{Value: 501.0 / 6, N: 6},
		Runtime:      Score{Value: 92, N: 5},
		PostExec:     Score{Value: 40, N: 5},
		Satisfaction: Score{Value: sat, N: 4},
	}
	b := p.All.Breakdown
	for _, c := range []struct {
		name      string
		got, want Score
	}{{"pre", b.PreExec, want.PreExec}, {"runtime", b.Runtime, want.Runtime}, {"post", b.PostExec, want.PostExec}, {"satisfaction", b.Satisfaction, want.Satisfaction}} {
		if c.got.N != c.want.N || !near(c.got.Value, c.want.Value) {
			t.Errorf("%s = %+v, want %+v", c.name, c.got, c.want)
		}
	}
	if got, want := p.All.Overall.Value, 0.25*83.5+0.25*92+0.3*40+0.2*sat; !near(got, want) {
		t.Errorf("overall = %v, want %v", got, want)
	}
	// The coder alone: pre 401/5, runtime 90, post 25, satisfaction from
	// +0.7, +0.3 and −0.5·0.5 over weights 2.5.
	coder := findAgent(p, "coder")
	if got, want := coder.Overall.Value, 0.25*80.2+0.25*90+0.3*25+0.2*(50+62.5*0.75/2.5); !near(got, want) {
		t.Errorf("coder overall = %v, want %v", got, want)
	}

	got := Report(p)
	path := filepath.Join("testdata", "report.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(golden) {
		t.Errorf("report differs from %s (run with -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, golden)
	}
}
