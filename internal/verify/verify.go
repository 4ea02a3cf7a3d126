package verify

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Status is the outcome of one check or of a whole report.
type Status string

// The statuses. SKIP means the check did not apply to the claim or its tool
// is not installed; it is never a silent PASS.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// The check names, in the order Run performs them.
const (
	CheckClaim     = "claim" // only when the claim itself is unusable
	CheckExists    = "exists"
	CheckChanged   = "changed"
	CheckNonEmpty  = "non_empty"
	CheckFormat    = "format"
	CheckLint      = "lint"
	CheckTypecheck = "typecheck"
	CheckPublish   = "publish"
	CheckPush      = "push"
)

// Check is the outcome of one check. Code is a stable machine code for the
// worst finding ("exists.missing", "push.mismatch"); it is empty on PASS.
type Check struct {
	Name     string        `json:"name"`
	Status   Status        `json:"status"`
	Code     string        `json:"code,omitempty"`
	Reason   string        `json:"reason"`
	Duration time.Duration `json:"duration"`
}

// Report is the outcome of verifying one call: the worst of its checks.
type Report struct {
	Status Status  `json:"status"`
	Checks []Check `json:"checks"`
}

// Check returns the check with the given name and whether it is present.
func (r Report) Check(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// overallRank orders statuses for a report: a check that did not apply
// (SKIP) must not make a passing report look worse.
func overallRank(s Status) int {
	switch s {
	case Skip:
		return 0
	case Pass:
		return 1
	case Warn:
		return 2
	}
	return 3 // Fail and anything unknown: fail closed
}

// Run verifies claim c against the world after the call, with b the
// snapshot taken before it (nil when there is none). It never returns an
// error: whatever goes wrong becomes a FAIL check with its reason. ctx
// bounds the whole run; o.Timeout bounds each command and request.
func Run(ctx context.Context, c Claim, b Before, o Options) Report {
	o, err := o.withDefaults()
	if err == nil {
		err = c.validate(o)
	}
	if err != nil {
		return report([]Check{{Name: CheckClaim, Status: Fail, Code: "claim.invalid", Reason: err.Error()}})
	}
	r := &runner{claim: c, before: b, opts: o}
	steps := []struct {
		name string
		run  func(context.Context, *runner) tally
	}{
		{CheckExists, checkExists},
		{CheckChanged, checkChanged},
		{CheckNonEmpty, checkNonEmpty},
		{CheckFormat, checkFormat},
		{CheckLint, checkLint},
		{CheckTypecheck, checkTypecheck},
		{CheckPublish, checkPublish},
		{CheckPush, checkPush},
	}
	checks := make([]Check, 0, len(steps))
	for _, s := range steps {
		start := time.Now()
		var t tally
		if ctx.Err() != nil {
			t.add(Fail, "verify.canceled", fmt.Sprintf("not run: %v", context.Cause(ctx)))
		} else {
			t = s.run(ctx, r)
		}
		checks = append(checks, t.check(s.name, time.Since(start)))
	}
	return report(checks)
}

func report(checks []Check) Report {
	r := Report{Status: Skip, Checks: checks}
	for _, c := range checks {
		if overallRank(c.Status) > overallRank(r.Status) {
			r.Status = c.Status
		}
	}
	if overallRank(r.Status) == overallRank(Fail) {
		r.Status = Fail // an unknown status counts as a failure
	}
	return r
}

// runner carries one Run's inputs to the checks.
type runner struct {
	claim  Claim
	before Before
	opts   Options
}

// tally collects the findings of one check. Inside a check a part that was
// skipped outranks the parts that passed: a check half done is not a PASS.
type tally struct {
	status Status
	code   string
	notes  []string
	passed string // summary shown when everything passed
}

func tallyRank(s Status) int {
	switch s {
	case Pass:
		return 0
	case Skip:
		return 1
	case Warn:
		return 2
	}
	return 3
}

// add records one finding; PASS findings carry no note.
func (t *tally) add(s Status, code, note string) {
	if t.status == "" || tallyRank(s) > tallyRank(t.status) {
		t.status, t.code = s, code
	}
	if s != Pass && note != "" {
		t.notes = append(t.notes, note)
	}
}

// maxReason bounds a check's reason; a claim may name thousands of files.
const maxReason = 4 << 10

func (t tally) check(name string, d time.Duration) Check {
	c := Check{Name: name, Status: t.status, Code: t.code, Duration: d}
	if c.Status == "" {
		c.Status, c.Code = Skip, name+".not_claimed"
		c.Reason = "nothing to check"
		return c
	}
	if c.Status == Pass {
		c.Code = ""
		c.Reason = t.passed
		return c
	}
	var b strings.Builder
	for i, n := range t.notes {
		if i > 0 {
			if b.Len()+len(n) > maxReason {
				fmt.Fprintf(&b, "\n… and %d more", len(t.notes)-i)
				break
			}
			b.WriteByte('\n')
		}
		b.WriteString(clip(n, maxReason))
	}
	c.Reason = b.String()
	return c
}
