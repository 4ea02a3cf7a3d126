// Package riskgate computes the seed's risk score,
//
//	Impact × (1 − Reversibility) × Sensitivity × (1 + ErrorRate),
//
// from what the analysis says a call does (which paths it reads, writes or
// deletes and where they are, whether it runs as root, whether data leaves
// the machine, how much of it could not be resolved) and from the risk
// views of the gates that ran before it, and maps the score to an action
// with configurable thresholds. It never looks at keywords.
//
// Like every gate it is pure: it reads the Input and returns a Verdict.
package riskgate

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// Thresholds map a score to an action: score ≤ Auto is allow, ≤ Notify is
// notify, ≤ Deny is confirm, above Deny is deny.
type Thresholds struct {
	Auto   float64 `yaml:"auto" json:"auto"`
	Notify float64 `yaml:"notify" json:"notify"`
	Deny   float64 `yaml:"deny" json:"deny"`
}

// DefaultThresholds are the seed's.
var DefaultThresholds = Thresholds{Auto: 0.5, Notify: 1.0, Deny: 8.0}

// Validate checks the thresholds are ordered.
func (t Thresholds) Validate() error {
	if !(t.Auto >= 0 && t.Auto <= t.Notify && t.Notify <= t.Deny) {
		return fmt.Errorf("risk thresholds must satisfy 0 ≤ auto ≤ notify ≤ deny, got auto=%g notify=%g deny=%g", t.Auto, t.Notify, t.Deny)
	}
	return nil
}

// Action maps a score to an action.
func (t Thresholds) Action(score float64) decision.Action {
	switch {
	case score <= t.Auto:
		return decision.Allow
	case score <= t.Notify:
		return decision.Notify
	case score <= t.Deny:
		return decision.Confirm
	}
	return decision.Deny
}

// Class is what the risk gate needs to know about a path. The path gate
// provides it; the interface lives here, with its consumer.
type Class struct {
	InWorkspace bool
	Temp        bool
	System      bool
	Sensitive   bool
}

// Classifier classifies a path as written in the call being decided.
type Classifier interface {
	ClassifyPath(in *gate.Input, p string) Class
}

// Config configures the gate.
type Config struct {
	Thresholds Thresholds
	// Classifier is required.
	Classifier Classifier
}

// Gate is the risk gate.
type Gate struct {
	t Thresholds
	c Classifier
}

// New returns a risk gate.
func New(cfg Config) (*Gate, error) {
	if err := cfg.Thresholds.Validate(); err != nil {
		return nil, err
	}
	if cfg.Classifier == nil {
		return nil, fmt.Errorf("riskgate: a path classifier is required")
	}
	return &Gate{t: cfg.Thresholds, c: cfg.Classifier}, nil
}

// Name implements gate.Gate.
func (g *Gate) Name() string { return "risk" }

// Thresholds returns the configured thresholds.
func (g *Gate) Thresholds() Thresholds { return g.t }

// Code is the reason code of the risk gate.
const Code = "risk.score"

// Check implements gate.Gate.
func (g *Gate) Check(ctx context.Context, in *gate.Input) (gate.Verdict, error) {
	r := g.Assess(in)
	var v gate.Verdict
	v.Risk = &r.Dimensions
	act := g.t.Action(r.Score)
	if !in.Trace && act == decision.Allow {
		return v, nil
	}
	v.Notes = append(v.Notes, fmt.Sprintf("score %s = impact %s × (1 − reversibility %s) × sensitivity %s × (1 + error rate %s) → %s",
		f2(r.Score), f2(r.Dimensions.Impact), f2(r.Dimensions.Reversibility), f2(r.Dimensions.Sensitivity), f2(r.Dimensions.ErrorRate), act))
	if act > decision.Allow {
		v.Add(decision.Reason{
			Gate: "risk", Code: Code, Action: act,
			Message: fmt.Sprintf("risk score %s is above the %s threshold", f2(r.Score), thresholdName(act)),
			Detail:  v.Notes[0],
		})
	}
	return v, nil
}

func thresholdName(a decision.Action) string {
	switch a {
	case decision.Notify:
		return "auto-approve"
	case decision.Confirm:
		return "notify"
	}
	return "confirm"
}

func f2(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// Baseline dimensions per effect. Impact is 0..3 as in the seed (its
// examples: "npm test" 0.19, "sudo reboot" 8.5, "rm -rf /home" 9.18).
// Each effect is calibrated to a band: reads and workspace changes score
// at most auto even with every name unknown; changes in the user's areas
// outside the workspace and running a program found there score notify
// up to an error rate of 0.5 (half the line unknown); deletes in system
// locations, secrets read or sent, and whole trees removed outside the
// workspace score confirm. The golden corpus pins one call per band.
var (
	dimNone        = decision.Dimensions{Impact: 0.5, Reversibility: 0.95, Sensitivity: 1, ErrorRate: 0}
	dimRead        = decision.Dimensions{Impact: 0.5, Reversibility: 1, Sensitivity: 1}
	dimReadSecret  = decision.Dimensions{Impact: 1.5, Reversibility: 0.1, Sensitivity: 3}
	dimWriteWS     = decision.Dimensions{Impact: 1, Reversibility: 0.8, Sensitivity: 1}
	dimWriteTemp   = decision.Dimensions{Impact: 0.5, Reversibility: 0.9, Sensitivity: 0.5}
	dimWriteOut    = decision.Dimensions{Impact: 1.5, Reversibility: 0.7, Sensitivity: 1.25}
	dimWriteSys    = decision.Dimensions{Impact: 1, Reversibility: 0.74, Sensitivity: 2}
	dimDeleteWS    = decision.Dimensions{Impact: 1.5, Reversibility: 0.85, Sensitivity: 1}
	dimDeleteOut   = decision.Dimensions{Impact: 1.5, Reversibility: 0.7, Sensitivity: 1.2}
	dimDeleteSys   = decision.Dimensions{Impact: 2.5, Reversibility: 0.3, Sensitivity: 2}
	dimSend        = decision.Dimensions{Impact: 1, Reversibility: 0.5, Sensitivity: 1}
	dimSendSecret  = decision.Dimensions{Impact: 2.5, Reversibility: 0, Sensitivity: 3}
	dimExecRemote  = decision.Dimensions{Impact: 1.5, Reversibility: 0.65, Sensitivity: 1.2}
	privilegeBoost = 0.5
)

// Assess computes the risk of a call: the dimensions of the riskiest effect
// (so that the impact of a write is not multiplied by the sensitivity of an
// unrelated read), with the error rate raised by everything that could not
// be resolved statically, and floored by the views of earlier gates.
func (g *Gate) Assess(in *gate.Input) decision.Risk {
	var contribs []decision.Dimensions
	add := func(d decision.Dimensions) { contribs = append(contribs, d) }
	a := in.Analysis
	if a == nil {
		a = &analysis.Analysis{}
	}
	add(dimNone)
	for _, p := range a.Paths {
		c := g.c.ClassifyPath(in, p.Path)
		if p.Dynamic && relative(p.Path) && !c.System && !c.Sensitive && !c.Temp {
			// A relative run-time name ("$f", find's {} under ".")
			// lands below the working directory; the uncertainty is
			// carried by the error rate, not by assuming the worst place.
			c.InWorkspace = true
		}
		var d decision.Dimensions
		switch p.Op {
		case analysis.OpRead:
			d = dimRead
			if c.Sensitive {
				d = dimReadSecret
			}
		case analysis.OpList:
			// A listing shows names, never content: even a sensitive
			// directory's listing is an ordinary read.
			d = dimRead
		case analysis.OpWrite, analysis.OpChmod, analysis.OpExec:
			switch {
			case c.Sensitive || c.System:
				d = dimWriteSys
				if c.Sensitive {
					d.Sensitivity = 3
				}
			case c.InWorkspace:
				// Before Temp: a workspace under /tmp is still the
				// workspace, with its snapshots and its owner.
				d = dimWriteWS
			case c.Temp:
				d = dimWriteTemp
			default:
				d = dimWriteOut
			}
			if p.Op == analysis.OpExec && !c.InWorkspace && !c.Temp {
				d = dimExecRemote
			}
		case analysis.OpDelete:
			treeBoost := 0.5
			switch {
			case c.Sensitive || c.System:
				d = dimDeleteSys
			case c.InWorkspace:
				d = dimDeleteWS
			case c.Temp:
				d = dimWriteTemp
			default:
				// A whole tree of the user's own data outside the
				// workspace (~/Documents) has no snapshot behind it.
				d = dimDeleteOut
				treeBoost = 1
			}
			// A recursive delete of a named tree takes everything below
			// it; one of run-time names picked under a static directory
			// (find's tests, a pattern such as *.o) takes what the
			// selection picks, whose uncertainty the error rate carries.
			if p.Recursive && !selected(p) {
				d.Impact += treeBoost
				d.Reversibility *= 0.9
			}
		default:
			d = dimRead
		}
		// Root adds reach only where the operating system would have
		// refused the user: system and sensitive locations. In the
		// user's own areas sudo changes nothing the user could not do.
		if p.Privileged && (c.System || c.Sensitive) {
			d.Impact += privilegeBoost
		}
		if p.Dynamic {
			// A run-time name under a known directory (find's {}, a
			// glob) is bounded; a wholly unknown one ("$f") is not.
			d.ErrorRate = 0.25
			if strings.HasPrefix(p.Path, "*") || p.Path == "" {
				d.ErrorRate = 0.5
			}
		}
		add(d)
	}
	for _, dst := range a.Dests {
		if !dst.Sends {
			continue
		}
		// What leaves decides the sensitivity: the environment or a
		// sensitive file cannot be called back; an ordinary file or a
		// literal body is routine traffic.
		d := dimSend
		switch {
		case dst.Data == "env":
			d = dimSendSecret
		case strings.HasPrefix(dst.Data, "file:"):
			if g.c.ClassifyPath(in, strings.TrimPrefix(dst.Data, "file:")).Sensitive {
				d = dimSendSecret
			}
		}
		add(d)
	}
	// Findings reach the score through the command gate's view (in
	// Prior), which already honours the policy's per-code actions.
	for _, r := range in.Prior {
		if r.Verdict.Risk != nil {
			add(*r.Verdict.Risk)
		}
	}
	best := contribs[0]
	bestScore := best.Score()
	errRate := 0.0
	for _, d := range contribs {
		if d.ErrorRate > errRate {
			errRate = d.ErrorRate
		}
		if s := d.Score(); s > bestScore {
			best, bestScore = d, s
		}
	}
	if len(a.Unresolved) > 0 {
		errRate = max(errRate, 0.3+0.1*float64(min(len(a.Unresolved), 5)))
	}
	if in.Call != nil && in.Call.Kind == request.KindExec && a.ParseError != "" {
		errRate = 1
	}
	best.ErrorRate = min(errRate, 1)
	best = clamp(best)
	return decision.Risk{Score: best.Score(), Dimensions: best}
}

func clamp(d decision.Dimensions) decision.Dimensions {
	d.Impact = min(max(d.Impact, 0), 3)
	d.Reversibility = min(max(d.Reversibility, 0), 1)
	d.Sensitivity = min(max(d.Sensitivity, 0), 3)
	d.ErrorRate = min(max(d.ErrorRate, 0), 1)
	// Round the inputs too, so the printed dimensions reproduce the score.
	d.Impact = round2(d.Impact)
	d.Reversibility = round2(d.Reversibility)
	d.Sensitivity = round2(d.Sensitivity)
	d.ErrorRate = round2(d.ErrorRate)
	return d
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// selected reports whether a path is a run-time name picked under a
// static directory: find's {} below its root, or a last element that is a
// pattern with literal parts ("build/*.o", "/usr/local/bin/npm*"). A bare
// "*" picks everything and is not a selection.
func selected(p analysis.PathRef) bool {
	if !p.Dynamic {
		return false
	}
	dir, leaf := path.Split(p.Path)
	if dir == "" || strings.ContainsAny(dir, "*?[{") && !strings.HasSuffix(dir, "/{}/") {
		return false
	}
	if leaf == "{}" {
		return true
	}
	return strings.ContainsAny(leaf, "*?[") && strings.Trim(leaf, "*?") != ""
}

func relative(p string) bool {
	return p != "" && !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "~") && !strings.Contains(p, "..")
}
