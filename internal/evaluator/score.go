package evaluator

import (
	"fmt"
	"math"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// Score is a 0–100 score and how many events it rests on.
type Score struct {
	Value float64 `json:"value"`
	// N is the number of events behind Value; 0 means unmeasured, and
	// Value is then 0 and means nothing.
	N int64 `json:"n"`
}

// Measured reports whether anything was there to score.
func (s Score) Measured() bool { return s.N > 0 }

// String renders the score as the report shows it: "85/100" or "n/a".
func (s Score) String() string {
	if !s.Measured() {
		return "n/a"
	}
	return fmt.Sprintf("%d/100", s.Rounded())
}

// Rounded is Value rounded to the nearest integer.
func (s Score) Rounded() int { return int(math.Round(s.Value)) }

// Breakdown is the four phase scores.
type Breakdown struct {
	PreExec      Score `json:"pre_exec"`
	Runtime      Score `json:"runtime"`
	PostExec     Score `json:"post_exec"`
	Satisfaction Score `json:"satisfaction"`
}

// Phase weights of the overall score.
const (
	weightPre          = 0.25
	weightRuntime      = 0.25
	weightPost         = 0.30
	weightSatisfaction = 0.20
)

// Overall is the weighted mean of the measured phases; N is the sum of
// theirs.
func (b Breakdown) Overall() Score {
	var sum, w float64
	var n int64
	for _, p := range []struct {
		s Score
		w float64
	}{{b.PreExec, weightPre}, {b.Runtime, weightRuntime}, {b.PostExec, weightPost}, {b.Satisfaction, weightSatisfaction}} {
		if p.s.Measured() {
			sum += p.w * p.s.Value
			w += p.w
			n += p.s.N
		}
	}
	if w == 0 {
		return Score{}
	}
	return Score{Value: sum / w, N: n}
}

// Pre-exec penalties.
const (
	prePerSchemaProblem = 15
	preMaxSchema        = 4
	prePerRisk          = 2.5
	preMaxRisk          = 8
	// preContextWeight is the share of pre-exec that context use takes
	// when it is measured.
	preContextWeight = 0.15
)

// actionPenalty is what each verdict takes off pre-exec.
var actionPenalty = [...]float64{decision.Allow: 0, decision.Notify: 5, decision.Confirm: 20, decision.Deny: 40}

// preScore scores one (valid) decision event.
func preScore(e *Event) float64 {
	s := 100 - prePerSchemaProblem*float64(min(e.schemaProblems(), preMaxSchema)) -
		actionPenalty[e.Action] - prePerRisk*min(e.Risk, preMaxRisk)
	return clamp(s)
}

// Runtime penalties.
const (
	rtPerRetry      = 10
	rtMaxRetries    = 5
	rtTimeout       = 40
	rtError         = 30
	rtSelfCorrected = 10
	rtMaxSlow       = 20
	// rtMinHistory is how many earlier durations an agent needs before
	// its median judges a call slow.
	rtMinHistory = 5
)

// runtimeScore scores one outcome of a call that ran; median is the
// agent's median duration so far (0: not enough history).
func runtimeScore(e *Event, median int64) float64 {
	s := 100 - rtPerRetry*float64(min(e.Retries, rtMaxRetries))
	if e.timedOut() {
		s -= rtTimeout
	} else if e.ExecStatus == ExecError {
		s -= rtError
	}
	if e.SelfCorrected {
		s -= rtSelfCorrected
	}
	return clamp(s - slowPenalty(e.DurationMS, median))
}

// slowPenalty is min(20, 10·(log2(d/m) − 1)) for d > 2m, else 0.
func slowPenalty(d, median int64) float64 {
	if d <= 0 || median <= 0 || d <= 2*median {
		return 0
	}
	return min(rtMaxSlow, 10*(math.Log2(float64(d)/float64(median))-1))
}

// Post-exec component weights.
const (
	postWeightVerify   = 2
	postWeightAccepted = 1
	postWeightEdited   = 1
	postWeightUsed     = 1
)

// postScore scores one outcome event; ok is false when nothing in it is
// measured.
func postScore(e *Event) (score float64, ok bool) {
	var sum, w float64
	add := func(weight, v float64) { sum += weight * v; w += weight }
	switch e.Verify {
	case VerifyPass:
		add(postWeightVerify, 100)
	case VerifyWarn:
		add(postWeightVerify, 50)
	case VerifyFail:
		add(postWeightVerify, 0)
	}
	if e.UserAccepted != nil {
		add(postWeightAccepted, pick(*e.UserAccepted, 100, 0))
	}
	if e.UserEdited != nil {
		add(postWeightEdited, pick(*e.UserEdited, 50, 100))
	}
	if e.ResultUsed != nil {
		add(postWeightUsed, pick(*e.ResultUsed, 100, 0))
	}
	if w == 0 {
		return 0, false
	}
	return sum / w, true
}

// Satisfaction weights by age, and the scale that maps a mean strength
// of ±maxSignalStrength to 0 or 100.
const (
	satWeightHour = 1
	satWeightDay  = 0.5
	satWeightWeek = 0.25
	satScale      = 50 / maxSignalStrength
)

// satisfaction turns a weighted sum of strengths into a score.
func satisfaction(weightedSum, weights float64, n int64) Score {
	if n == 0 || weights == 0 {
		return Score{}
	}
	return Score{Value: clamp(50 + satScale*weightedSum/weights), N: n}
}

func clamp(s float64) float64 { return max(0, min(100, s)) }

func pick(b bool, yes, no float64) float64 {
	if b {
		return yes
	}
	return no
}
