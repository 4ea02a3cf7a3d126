package evaluator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// behaviour describes how an agent's calls are drawn.
type behaviour struct {
	deny     float64   // probability of a deny
	fail     float64   // probability of a verify FAIL
	tools    []float64 // weights of exec, read_file, write_file, http_request
	riskMean float64   // mean of the (log-normal) risk
}

var normal = behaviour{deny: 0.02, fail: 0.03, tools: []float64{0.4, 0.4, 0.15, 0.05}, riskMean: 0.5}

var toolNames = []string{"exec", "read_file", "write_file", "http_request"}

// calls draws n decided and verified calls of agent "a" starting at start,
// one a minute.
func calls(rng *rand.Rand, n int, start time.Time, b behaviour) []Event {
	var events []Event
	for i := range n {
		at := start.Add(time.Duration(i) * time.Minute)
		x := rng.Float64()
		tool := toolNames[len(toolNames)-1]
		for j, w := range b.tools {
			if x < w {
				tool = toolNames[j]
				break
			}
			x -= w
		}
		action := decision.Allow
		if rng.Float64() < b.deny {
			action = decision.Deny
		}
		risk := math.Round(b.riskMean*math.Exp(rng.NormFloat64()*0.5-0.125)*100) / 100
		v := VerifyPass
		if rng.Float64() < b.fail {
			v = VerifyFail
		}
		events = append(events, dec(at, "a", "s", tool, action, risk), out(at, "a", "s", ExecOK, v))
	}
	return events
}

var (
	baseStart   = ago(30 * 24 * time.Hour)
	recentStart = ago(24 * time.Hour)
)

func driftOf(base, recent []Event) []Alert {
	return Drift(BaselineOf(base, "a", time.Time{}, recentStart), BaselineOf(recent, "a", recentStart, time.Time{}))
}

func alertCodes(as []Alert) []string {
	var c []string
	for _, a := range as {
		c = append(c, a.Code)
	}
	return c
}

// TestDriftDenyRate: a deny rate going from 2% to 20% over 500 calls
// alerts, naming both rates.
func TestDriftDenyRate(t *testing.T) {
	var base, recent []Event
	for i := range 2000 {
		a := decision.Allow
		if i%50 == 0 {
			a = decision.Deny
		}
		base = append(base, dec(baseStart.Add(time.Duration(i)*time.Minute), "a", "s", "exec", a, 0.5))
	}
	for i := range 500 {
		a := decision.Allow
		if i%5 == 0 {
			a = decision.Deny
		}
		recent = append(recent, dec(recentStart.Add(time.Duration(i)*time.Minute), "a", "s", "exec", a, 0.5))
	}
	alerts := driftOf(base, recent)
	if len(alerts) != 1 {
		t.Fatalf("alerts = %+v, want one", alerts)
	}
	a := alerts[0]
	if a.Code != "drift.deny_rate" || a.Agent != "a" || a.From != "2.0%" || a.To != "20.0%" || a.BaseN != 2000 || a.RecentN != 500 ||
		a.PValue >= 1e-12 || a.Statistic < 10 || !near(a.Effect, 0.18) {
		t.Errorf("alert = %+v", a)
	}
	// Pooled z by hand: p = 140/2500.
	p := 140.0 / 2500
	if z := 0.18 / math.Sqrt(p*(1-p)*(1.0/2000+1.0/500)); !near(a.Statistic, z) {
		t.Errorf("z = %v, want %v", a.Statistic, z)
	}
	if want := "deny rate rose from 2.0% (n=2000) to 20.0% (n=500): z="; !strings.HasPrefix(a.Message, want) || !strings.HasSuffix(a.Message, "p=<1e-12") {
		t.Errorf("message = %q", a.Message)
	}
	// Going back down is drift too.
	if alerts := Drift(BaselineOf(recent, "a", time.Time{}, time.Time{}), BaselineOf(base, "a", time.Time{}, time.Time{})); len(alerts) != 1 ||
		!strings.HasPrefix(alerts[0].Message, "deny rate fell from 20.0%") {
		t.Errorf("reverse: %+v", alerts)
	}
}

// TestDriftNoise: a recent window drawn from the same behaviour does not
// alert, over many draws.
func TestDriftNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	if alerts := driftOf(calls(rng, 2000, baseStart, normal), calls(rng, 500, recentStart, normal)); len(alerts) != 0 {
		t.Errorf("noise alerted: %+v", alerts)
	}
	const draws = 200
	false_ := 0
	for seed := range uint64(draws) {
		rng := rand.New(rand.NewPCG(seed, 99))
		if alerts := driftOf(calls(rng, 2000, baseStart, normal), calls(rng, 500, recentStart, normal)); len(alerts) > 0 {
			false_++
			t.Logf("seed %d: %v", seed, alertCodes(alerts))
		}
	}
	// Four tests at α = 0.001 each, and conservative: expect well under 1%.
	if false_ > draws/100 {
		t.Errorf("%d false alarms in %d draws", false_, draws)
	}
}

func TestDriftEachFigure(t *testing.T) {
	shifted := func(f func(*behaviour)) behaviour {
		b := normal
		b.tools = append([]float64{}, normal.tools...)
		f(&b)
		return b
	}
	tests := []struct {
		name   string
		recent behaviour
		n      int
		want   []string
		from   string
		to     string
	}{
		{"deny rate", shifted(func(b *behaviour) { b.deny = 0.2 }), 500, []string{"drift.deny_rate"}, "", ""},
		{"verify failures", shifted(func(b *behaviour) { b.fail = 0.15 }), 500, []string{"drift.verify_fail_rate"}, "", ""},
		{"tool mix", shifted(func(b *behaviour) { b.tools = []float64{0.1, 0.2, 0.1, 0.6} }), 500, []string{"drift.tool_mix"},
			"http_request ", "http_request "},
		{"risk", shifted(func(b *behaviour) { b.riskMean = 1.5 }), 500, []string{"drift.risk"}, "median 0.4", "median 1."},
		{"everything, but only a handful of calls", shifted(func(b *behaviour) {
			b.deny, b.fail, b.tools, b.riskMean = 1, 1, []float64{0, 0, 0, 1}, 9
		}), 10, nil, "", ""},
		{"everything", shifted(func(b *behaviour) {
			b.deny, b.fail, b.tools, b.riskMean = 0.5, 0.5, []float64{0, 0, 0, 1}, 9
		}), 40, []string{"drift.deny_rate", "drift.verify_fail_rate", "drift.tool_mix", "drift.risk"}, "", ""},
	}
	for i, tt := range tests {
		rng := rand.New(rand.NewPCG(uint64(i), 5))
		alerts := driftOf(calls(rng, 2000, baseStart, normal), calls(rng, tt.n, recentStart, tt.recent))
		if got := alertCodes(alerts); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: alerts %v, want %v: %+v", tt.name, got, tt.want, alerts)
			continue
		}
		for _, a := range alerts {
			if a.PValue >= driftAlpha || a.Message == "" || a.BaseN < driftMinSamples || a.RecentN < driftMinSamples {
				t.Errorf("%s: %+v", tt.name, a)
			}
		}
		if tt.from != "" && (!strings.HasPrefix(alerts[0].From, tt.from) || !strings.HasPrefix(alerts[0].To, tt.to)) {
			t.Errorf("%s: from %q to %q, want %q and %q", tt.name, alerts[0].From, alerts[0].To, tt.from, tt.to)
		}
	}
}

// TestDriftMinimumSamples: below 30 observations on either side nothing
// is tested, however extreme.
func TestDriftMinimumSamples(t *testing.T) {
	base := Baseline{Agent: "a", Decisions: 29, Denied: 0, Verified: 1000, VerifyFails: 0, Tools: map[string]int64{"exec": 29}}
	base.Risk[0] = 29
	recent := Baseline{Agent: "a", Decisions: 30, Denied: 30, Verified: 29, VerifyFails: 29, Tools: map[string]int64{"rm": 30}}
	recent.Risk[100] = 30
	if alerts := Drift(base, recent); len(alerts) != 0 {
		t.Errorf("alerts = %+v", alerts)
	}
	base.Decisions, base.Tools["exec"], base.Risk[0] = 30, 30, 30
	recent.Verified, recent.VerifyFails = 30, 30
	if got := alertCodes(Drift(base, recent)); fmt.Sprint(got) != "[drift.deny_rate drift.verify_fail_rate drift.tool_mix drift.risk]" {
		t.Errorf("at 30: %v", got)
	}
}

func TestBaselineAdd(t *testing.T) {
	b := Baseline{Agent: "a", From: ago(time.Hour), To: now}
	counted := []Event{
		dec(ago(time.Hour), "a", "s", "exec", decision.Deny, 0.3),
		dec(ago(time.Minute), "a", "s", "read_file", decision.Allow, 10.5),
		out(ago(time.Minute), "a", "s", ExecOK, VerifyFail),
		out(ago(time.Minute), "a", "s", ExecOK, VerifyWarn),
	}
	ignored := []Event{
		dec(now, "a", "s", "exec", decision.Deny, 0), // To is exclusive
		dec(ago(time.Hour+time.Nanosecond), "a", "s", "exec", decision.Deny, 0),
		dec(ago(time.Minute), "b", "s", "exec", decision.Deny, 0),
		dec(ago(time.Minute), "a", "s", "exec", decision.Deny, -1), // invalid
		out(ago(time.Minute), "a", "s", ExecOK, ""),                // nothing to count
		fb(ago(time.Minute), "a", "s", UserDeletedCode),
	}
	for _, e := range counted {
		if !b.Add(e) {
			t.Errorf("not counted: %+v", e)
		}
	}
	for _, e := range ignored {
		if b.Add(e) && e.Kind != KindOutcome {
			t.Errorf("counted: %+v", e)
		}
	}
	if b.Decisions != 2 || b.Denied != 1 || b.Verified != 2 || b.VerifyFails != 1 ||
		b.Tools["exec"] != 1 || b.Tools["read_file"] != 1 || b.Risk[3] != 1 || b.Risk[riskBins-1] != 1 {
		t.Errorf("baseline = %+v", b)
	}
	// Tools are bounded.
	var many Baseline
	for i := range maxBaselineTools + 10 {
		many.Add(dec(now, "", "", fmt.Sprint("tool", i), decision.Allow, 0))
	}
	if len(many.Tools) != maxBaselineTools || many.OtherTools != 10 || many.Decisions != maxBaselineTools+10 {
		t.Errorf("%d tools, %d other", len(many.Tools), many.OtherTools)
	}
}

func TestRiskBin(t *testing.T) {
	for _, c := range []struct {
		r    float64
		want int
	}{{0, 0}, {0.09, 0}, {0.1, 1}, {0.3, 3}, {0.7, 7}, {2.35, 23}, {9.99, 99}, {10, 100}, {18, 100}, {1000, 100}} {
		if got := riskBin(c.r); got != c.want {
			t.Errorf("riskBin(%v) = %d, want %d", c.r, got, c.want)
		}
	}
}

func TestStatistics(t *testing.T) {
	approx := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.10g, want %.10g ± %g", name, got, want, tol)
		}
	}
	approx("P(|Z| ≥ 1.959964)", normalTwoSided(1.959964), 0.05, 1e-6)
	approx("P(|Z| ≥ -2.575829)", normalTwoSided(-2.575829), 0.01, 1e-6)
	approx("chi² df=1 at 3.841459", chiSquareSF(3.841459, 1), 0.05, 1e-6)
	approx("chi² df=10 at 18.307038", chiSquareSF(18.307038, 10), 0.05, 1e-6)
	approx("chi² df=3 at 16.266236", chiSquareSF(16.266236, 3), 0.001, 1e-8)
	// Closed forms for 2, 3 and 5 degrees of freedom, on both sides of
	// a+1 (the series below, the continued fraction above).
	for _, x := range []float64{0.1, 0.5, 1, 2, 5, 20, 100} {
		approx(fmt.Sprintf("chi² df=2 at %v", x), chiSquareSF(x, 2), math.Exp(-x/2), 1e-12)
		tail := math.Sqrt(2*x/math.Pi) * math.Exp(-x/2)
		approx(fmt.Sprintf("chi² df=3 at %v", x), chiSquareSF(x, 3), math.Erfc(math.Sqrt(x/2))+tail, 1e-12)
		approx(fmt.Sprintf("chi² df=5 at %v", x), chiSquareSF(x, 5), math.Erfc(math.Sqrt(x/2))+tail*(1+x/3), 1e-12)
	}
	approx("chi² at 0", chiSquareSF(0, 4), 1, 0)
	if !math.IsNaN(chiSquareSF(1, 0)) {
		t.Error("chi² with 0 degrees of freedom is a number")
	}
	approx("Kolmogorov Q(1.358099)", kolmogorovQ(1.358099), 0.05, 1e-5)
	approx("Kolmogorov Q(1.627624)", kolmogorovQ(1.627624), 0.01, 1e-5)
	approx("Kolmogorov Q(0.1)", kolmogorovQ(0.1), 1, 0)
	approx("JS of equal mixes", jsDistance([]float64{1, 2, 3}, []float64{2, 4, 6}), 0, 1e-12)
	approx("JS of disjoint mixes", jsDistance([]float64{5, 0}, []float64{0, 7}), 1, 1e-12)
	approx("JS against nothing", jsDistance([]float64{5, 0}, []float64{0, 0}), 0, 0)

	// A 2×2 table by hand: expected 15 in every cell.
	chi, df := chiSquareHomogeneity([]float64{10, 20}, []float64{20, 10})
	approx("chi² of [10 20; 20 10]", chi, 4*25.0/15, 1e-12)
	if df != 1 {
		t.Errorf("df = %d, want 1", df)
	}
	// Rare categories are merged into the smallest kept one when their
	// merged expected count stays under 5.
	chi, df = chiSquareHomogeneity([]float64{50, 40, 1, 1}, []float64{50, 40, 1, 0})
	if df != 1 || chi > 0.1 {
		t.Errorf("merged: chi² %v, df %d; want df 1 and a small chi²", chi, df)
	}
	if _, df := chiSquareHomogeneity([]float64{3, 1}, []float64{2, 2}); df != 0 {
		t.Errorf("too few to test: df %d", df)
	}
}
