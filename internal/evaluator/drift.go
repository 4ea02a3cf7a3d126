package evaluator

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// Risk is binned in steps of 0.1 from 0 to 10, with one bin for 10 and
// above.
const (
	riskBinsPerUnit = 10
	riskBins        = 10*riskBinsPerUnit + 1
	// maxBaselineTools bounds the tools a Baseline names; the others
	// count together as OtherTools.
	maxBaselineTools = 256
	otherTools       = "(other)"
)

// Drift thresholds (see the package doc).
const (
	driftMinSamples  = 30
	driftAlpha       = 0.001
	driftMinRateDiff = 0.02
	driftMinJS       = 0.1
	driftMinKS       = 0.1
	chiMinExpected   = 5
)

// Baseline is what one agent did over a window [From, To): the figures
// Drift compares. A zero From or To leaves that end open. The zero value
// with Agent set is ready to Add to.
type Baseline struct {
	Agent string    `json:"agent"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`

	Decisions int64 `json:"decisions"`
	Denied    int64 `json:"denied"`
	// Verified counts outcomes with a verify status, VerifyFails those
	// that failed.
	Verified    int64 `json:"verified"`
	VerifyFails int64 `json:"verify_fails"`
	// Tools counts decisions by tool; OtherTools those of tools beyond
	// the first maxBaselineTools.
	Tools      map[string]int64 `json:"tools"`
	OtherTools int64            `json:"other_tools"`
	// Risk is the decisions' risk histogram, bins of 0.1 (the last bin
	// holds 10 and above).
	Risk [riskBins]int64 `json:"risk"`
}

// BaselineOf summarises agent's events in [from, to).
func BaselineOf(events []Event, agent string, from, to time.Time) Baseline {
	b := Baseline{Agent: agent, From: from, To: to}
	for i := range events {
		b.Add(events[i])
	}
	return b
}

// Add counts e if it is valid, of b's agent, and in b's window; it
// reports whether it did.
func (b *Baseline) Add(e Event) bool {
	if e.Agent != b.Agent || !b.From.IsZero() && e.Time.Before(b.From) ||
		!b.To.IsZero() && !e.Time.Before(b.To) || e.Validate() != nil {
		return false
	}
	switch e.Kind {
	case KindDecision:
		b.Decisions++
		if e.Action == decision.Deny {
			b.Denied++
		}
		b.addTool(e.Tool)
		b.Risk[riskBin(e.Risk)]++
	case KindOutcome:
		if e.Verify != "" {
			b.Verified++
			if e.Verify == VerifyFail {
				b.VerifyFails++
			}
		}
	default:
		return false
	}
	return true
}

func (b *Baseline) addTool(tool string) {
	if _, ok := b.Tools[tool]; !ok && len(b.Tools) >= maxBaselineTools {
		b.OtherTools++
		return
	}
	if b.Tools == nil {
		b.Tools = make(map[string]int64)
	}
	b.Tools[tool]++
}

// riskBin is the histogram bin of a (valid) risk score. The epsilon keeps
// scores like 0.3, whose binary value lies just below, in their bin.
func riskBin(r float64) int {
	return min(riskBins-1, int(math.Floor(r*riskBinsPerUnit+1e-9)))
}

// Alert says that one figure of an agent's behaviour moved significantly
// from its baseline.
type Alert struct {
	Agent string `json:"agent"`
	// Code is drift.deny_rate, drift.verify_fail_rate, drift.tool_mix or
	// drift.risk.
	Code string `json:"code"`
	// From and To render the figure in the baseline and recently.
	From string `json:"from"`
	To   string `json:"to"`
	// Test names the test; Statistic is its value (z, chi-square or the
	// KS distance) and PValue its p-value.
	Test      string  `json:"test"`
	Statistic float64 `json:"statistic"`
	PValue    float64 `json:"p_value"`
	// Effect is the size of the move: the absolute rate difference, the
	// Jensen–Shannon distance or the KS distance.
	Effect  float64 `json:"effect"`
	BaseN   int64   `json:"base_n"`
	RecentN int64   `json:"recent_n"`
	Message string  `json:"message"`
}

// Drift compares recent with base and returns an Alert for each figure
// that moved significantly, in the order deny rate, verify failure rate,
// tool mix, risk. Figures with fewer than 30 observations on either side
// are not tested.
func Drift(base, recent Baseline) []Alert {
	var out []Alert
	if a, ok := rateDrift("drift.deny_rate", "deny rate", base.Denied, base.Decisions, recent.Denied, recent.Decisions); ok {
		out = append(out, a)
	}
	if a, ok := rateDrift("drift.verify_fail_rate", "verify failure rate", base.VerifyFails, base.Verified, recent.VerifyFails, recent.Verified); ok {
		out = append(out, a)
	}
	if a, ok := toolDrift(&base, &recent); ok {
		out = append(out, a)
	}
	if a, ok := riskDrift(&base, &recent); ok {
		out = append(out, a)
	}
	for i := range out {
		out[i].Agent = recent.Agent
	}
	return out
}

// rateDrift is the pooled two-proportion z-test of x1/n1 against x2/n2.
func rateDrift(code, what string, x1, n1, x2, n2 int64) (Alert, bool) {
	if n1 < driftMinSamples || n2 < driftMinSamples {
		return Alert{}, false
	}
	p1, p2 := rate(x1, n1), rate(x2, n2)
	p := rate(x1+x2, n1+n2)
	if p == 0 || p == 1 {
		return Alert{}, false // no variation at all
	}
	z := (p2 - p1) / math.Sqrt(p*(1-p)*(1/float64(n1)+1/float64(n2)))
	pv := normalTwoSided(z)
	if pv >= driftAlpha || math.Abs(p2-p1) < driftMinRateDiff {
		return Alert{}, false
	}
	dir := "rose"
	if p2 < p1 {
		dir = "fell"
	}
	a := Alert{
		Code: code, From: percent(p1), To: percent(p2),
		Test: "two-proportion z-test", Statistic: z, PValue: pv, Effect: math.Abs(p2 - p1),
		BaseN: n1, RecentN: n2,
	}
	a.Message = fmt.Sprintf("%s %s from %s (n=%d) to %s (n=%d): z=%.2f, p=%s",
		what, dir, a.From, n1, a.To, n2, z, pvalue(pv))
	return a, true
}

// toolDrift is the chi-square test of homogeneity of the tool mixes.
func toolDrift(base, recent *Baseline) (Alert, bool) {
	n1, n2 := toolTotal(base), toolTotal(recent)
	if n1 < driftMinSamples || n2 < driftMinSamples {
		return Alert{}, false
	}
	cats, a, b := toolCategories(base, recent)
	chi, df := chiSquareHomogeneity(a, b)
	if df < 1 {
		return Alert{}, false
	}
	pv := chiSquareSF(chi, df)
	js := jsDistance(a, b)
	if pv >= driftAlpha || js < driftMinJS {
		return Alert{}, false
	}
	// Name the tools whose share moved most.
	order := make([]int, len(cats))
	for i := range order {
		order[i] = i
	}
	shift := func(i int) float64 { return math.Abs(b[i]/float64(n2) - a[i]/float64(n1)) }
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(shift(j), shift(i)) })
	var from, to []string
	for _, i := range order[:min(3, len(order))] {
		from = append(from, fmt.Sprintf("%s %s", cats[i], percent(a[i]/float64(n1))))
		to = append(to, fmt.Sprintf("%s %s", cats[i], percent(b[i]/float64(n2))))
	}
	al := Alert{
		Code: "drift.tool_mix", From: strings.Join(from, ", "), To: strings.Join(to, ", "),
		Test: "chi-square test of homogeneity", Statistic: chi, PValue: pv, Effect: js,
		BaseN: n1, RecentN: n2,
	}
	al.Message = fmt.Sprintf("tool mix changed from %s (n=%d) to %s (n=%d): chi²=%.1f, df=%d, p=%s, Jensen–Shannon distance %.2f",
		al.From, n1, al.To, n2, chi, df, pvalue(pv), js)
	return al, true
}

// toolCategories lists every tool of either side, most used first (then
// by name), with the tools beyond the bound last when either side has
// some, and each side's counts.
func toolCategories(base, recent *Baseline) (cats []string, a, b []float64) {
	total := map[string]int64{}
	for t, n := range base.Tools {
		total[t] += n
	}
	for t, n := range recent.Tools {
		total[t] += n
	}
	cats = make([]string, 0, len(total)+1)
	for t := range total {
		cats = append(cats, t)
	}
	slices.SortFunc(cats, func(x, y string) int {
		if c := cmp.Compare(total[y], total[x]); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	for _, t := range cats {
		a, b = append(a, float64(base.Tools[t])), append(b, float64(recent.Tools[t]))
	}
	if base.OtherTools+recent.OtherTools > 0 {
		cats = append(cats, otherTools)
		a, b = append(a, float64(base.OtherTools)), append(b, float64(recent.OtherTools))
	}
	return cats, a, b
}

func toolTotal(b *Baseline) int64 {
	n := b.OtherTools
	for _, c := range b.Tools {
		n += c
	}
	return n
}

// chiSquareHomogeneity tests two rows of counts over the same categories,
// ordered most frequent first. Trailing categories whose expected count
// is below 5 in either row are merged until the merged one reaches 5 (or
// everything is one category); it returns the statistic and the degrees
// of freedom (0: nothing to test).
func chiSquareHomogeneity(a, b []float64) (chi float64, df int) {
	var na, nb float64
	for i := range a {
		na += a[i]
		nb += b[i]
	}
	n := na + nb
	small := min(na, nb)
	var ra, rb []float64
	var ma, mb float64 // merged
	for i := range a {
		if small*(a[i]+b[i])/n >= chiMinExpected {
			ra, rb = append(ra, a[i]), append(rb, b[i])
		} else {
			ma, mb = ma+a[i], mb+b[i]
		}
	}
	if ma+mb > 0 {
		if small*(ma+mb)/n >= chiMinExpected || len(ra) == 0 {
			ra, rb = append(ra, ma), append(rb, mb)
		} else {
			ra[len(ra)-1] += ma
			rb[len(rb)-1] += mb
		}
	}
	if len(ra) < 2 {
		return 0, 0
	}
	for i := range ra {
		col := ra[i] + rb[i]
		ea, eb := na*col/n, nb*col/n
		chi += (ra[i]-ea)*(ra[i]-ea)/ea + (rb[i]-eb)*(rb[i]-eb)/eb
	}
	return chi, len(ra) - 1
}

// riskDrift is the two-sample Kolmogorov–Smirnov test on the risk
// histograms.
func riskDrift(base, recent *Baseline) (Alert, bool) {
	var n1, n2 int64
	for i := range base.Risk {
		n1 += base.Risk[i]
		n2 += recent.Risk[i]
	}
	if n1 < driftMinSamples || n2 < driftMinSamples {
		return Alert{}, false
	}
	var c1, c2 int64
	var d float64
	for i := range base.Risk {
		c1 += base.Risk[i]
		c2 += recent.Risk[i]
		d = max(d, math.Abs(float64(c1)/float64(n1)-float64(c2)/float64(n2)))
	}
	pv := ksPValue(d, n1, n2)
	if pv >= driftAlpha || d < driftMinKS {
		return Alert{}, false
	}
	a := Alert{
		Code: "drift.risk", From: riskSummary(&base.Risk, n1), To: riskSummary(&recent.Risk, n2),
		Test: "two-sample Kolmogorov–Smirnov", Statistic: d, PValue: pv, Effect: d,
		BaseN: n1, RecentN: n2,
	}
	a.Message = fmt.Sprintf("risk distribution shifted from %s (n=%d) to %s (n=%d): KS distance %.2f, p=%s",
		a.From, n1, a.To, n2, d, pvalue(pv))
	return a, true
}

// riskSummary renders the median and 90th percentile of a histogram (each
// the lower bound of its bin).
func riskSummary(h *[riskBins]int64, n int64) string {
	q := func(f float64) float64 {
		rank := int64(math.Ceil(f * float64(n)))
		var c int64
		for i, k := range h {
			if c += k; c >= rank {
				return float64(i) / riskBinsPerUnit
			}
		}
		return float64(riskBins-1) / riskBinsPerUnit
	}
	return fmt.Sprintf("median %.1f, p90 %.1f", q(0.5), q(0.9))
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

func pvalue(p float64) string {
	if p < 1e-12 {
		return "<1e-12"
	}
	return fmt.Sprintf("%.2g", p)
}
