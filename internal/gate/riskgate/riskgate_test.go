package riskgate

import (
	"context"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// prefixes classifies by path prefix, standing in for the path gate.
type prefixes struct{}

func (prefixes) ClassifyPath(in *gate.Input, p string) Class {
	switch {
	case strings.HasPrefix(p, "/tmp/"):
		return Class{Temp: true}
	case strings.HasPrefix(p, "/etc/shadow"), strings.HasPrefix(p, "~/.ssh"):
		return Class{Sensitive: true}
	case strings.HasPrefix(p, "/etc"), strings.HasPrefix(p, "/usr"):
		return Class{System: true}
	case strings.HasPrefix(p, "/"):
		return Class{}
	}
	return Class{InWorkspace: true}
}

func newGate(t *testing.T) *Gate {
	g, err := New(Config{Thresholds: DefaultThresholds, Classifier: prefixes{}})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestAssess(t *testing.T) {
	g := newGate(t)
	tests := []struct {
		name   string
		a      analysis.Analysis
		action decision.Action
	}{
		{"nothing", analysis.Analysis{}, decision.Allow},
		{"read workspace", analysis.Analysis{Paths: []analysis.PathRef{{Path: "a.go", Op: analysis.OpRead}}}, decision.Allow},
		{"write workspace", analysis.Analysis{Paths: []analysis.PathRef{{Path: "a.go", Op: analysis.OpWrite}}}, decision.Allow},
		// "rm -rf build": the workspace is snapshotted and under version
		// control, so clearing a directory in it is ordinary.
		{"recursive delete workspace", analysis.Analysis{Paths: []analysis.PathRef{{Path: "build", Op: analysis.OpDelete, Recursive: true}}}, decision.Allow},
		{"write system unprivileged", analysis.Analysis{Paths: []analysis.PathRef{{Path: "/etc/motd", Op: analysis.OpWrite}}}, decision.Notify},
		{"delete system", analysis.Analysis{Paths: []analysis.PathRef{{Path: "/usr/lib/x.so", Op: analysis.OpDelete}}}, decision.Confirm},
		{"write temp", analysis.Analysis{Paths: []analysis.PathRef{{Path: "/tmp/x", Op: analysis.OpWrite}}}, decision.Allow},
		// Writing outside the workspace is unusual but not by itself hard to
		// undo; the path gate, not the score, asks for confirmation.
		{"write outside", analysis.Analysis{Paths: []analysis.PathRef{{Path: "/srv/x", Op: analysis.OpWrite}}}, decision.Notify},
		{"delete outside recursively as root", analysis.Analysis{Paths: []analysis.PathRef{{Path: "/srv/x", Op: analysis.OpDelete, Recursive: true, Privileged: true}}}, decision.Confirm},
		// Writing a system file as root is reported; the files that decide
		// boot, login, names and schedules are the path gate's to stop.
		{"write system as root", analysis.Analysis{Privileged: true, Paths: []analysis.PathRef{{Path: "/etc/motd", Op: analysis.OpWrite, Privileged: true}}}, decision.Notify},
		{"write system as root, target unknown", analysis.Analysis{Privileged: true, Unresolved: []string{"$F"}, Paths: []analysis.PathRef{{Path: "/etc/*", Op: analysis.OpWrite, Privileged: true, Dynamic: true}}}, decision.Confirm},
		{"read a secret", analysis.Analysis{Paths: []analysis.PathRef{{Path: "~/.ssh/id_rsa", Op: analysis.OpRead}}}, decision.Confirm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &gate.Input{Call: &request.ToolCall{Kind: request.KindExec}, Analysis: &tt.a}
			v, err := g.Check(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if v.Action != tt.action {
				t.Errorf("action %s (%s), want %s", v.Action, v.Notes, tt.action)
			}
			if v.Risk == nil {
				t.Fatal("no risk dimensions")
			}
			if (v.Action == decision.Allow) != (len(v.Reasons) == 0) {
				t.Errorf("reasons %v for action %s: the gate explains every escalation and only those", v.Reasons, v.Action)
			}
		})
	}
}

// Findings speak for the score only through the command gate's view, so
// that a finding the policy made milder does not ask again.
func TestFindingsCountThroughTheCommandGate(t *testing.T) {
	g := newGate(t)
	a := analysis.Analysis{Findings: []analysis.Finding{{Code: "command.recursive_delete_root",
		Risk: &decision.Dimensions{Impact: 3, Reversibility: 0, Sensitivity: 3}}}}
	if r := g.Assess(&gate.Input{Analysis: &a}); r.Score > 0.5 {
		t.Errorf("a finding scored %v without the command gate's view", r.Score)
	}
	prior := []gate.Result{{Gate: "command", Verdict: gate.Verdict{Risk: a.Findings[0].Risk}}}
	if r := g.Assess(&gate.Input{Analysis: &a, Prior: prior}); g.Thresholds().Action(r.Score) != decision.Deny {
		t.Errorf("the command gate's view scored %v, want deny", r.Score)
	}
}

func TestUnresolvedRaisesErrorRate(t *testing.T) {
	g := newGate(t)
	base := analysis.Analysis{Paths: []analysis.PathRef{{Path: "/srv/x", Op: analysis.OpWrite}}}
	dyn := base
	dyn.Unresolved = []string{"$DIR"}
	r1 := g.Assess(&gate.Input{Analysis: &base})
	r2 := g.Assess(&gate.Input{Analysis: &dyn})
	if !(r2.Dimensions.ErrorRate > r1.Dimensions.ErrorRate && r2.Score > r1.Score) {
		t.Errorf("unresolved parts did not raise the risk: %+v vs %+v", r1, r2)
	}
}

func TestPriorViewsCount(t *testing.T) {
	g := newGate(t)
	prior := []gate.Result{{Gate: "egress", Verdict: gate.Verdict{Risk: &decision.Dimensions{Impact: 2, Reversibility: 0.2, Sensitivity: 2}}}}
	r := g.Assess(&gate.Input{Analysis: &analysis.Analysis{}, Prior: prior})
	if r.Score != 3.2 {
		t.Errorf("score %v, want the prior gate's 2 × 0.8 × 2 = 3.2", r.Score)
	}
}

func TestThresholds(t *testing.T) {
	th := DefaultThresholds
	for score, want := range map[float64]decision.Action{0: decision.Allow, 0.5: decision.Allow, 0.51: decision.Notify, 1: decision.Notify, 1.01: decision.Confirm, 8: decision.Confirm, 8.01: decision.Deny} {
		if got := th.Action(score); got != want {
			t.Errorf("Action(%v) = %s, want %s", score, got, want)
		}
	}
	if _, err := New(Config{Thresholds: Thresholds{Auto: 2, Notify: 1, Deny: 8}, Classifier: prefixes{}}); err == nil {
		t.Error("unordered thresholds accepted")
	}
	if _, err := New(Config{Thresholds: DefaultThresholds}); err == nil {
		t.Error("a missing classifier was accepted")
	}
}
