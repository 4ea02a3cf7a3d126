// Package evaluator scores how well an agent works, from what Sentinel
// already records: the decisions it made about the agent's tool calls, the
// outcomes of the calls that ran, and the implicit feedback the user gave
// by behaving (deleting the agent's code, using its result, …). It keeps
// a quality profile per agent and per session, renders the text status
// report, and detects when an agent's behaviour drifts from its own
// baseline.
//
// The package only reads Events; mapping audit records and feedback
// requests to Events is the caller's job. It never decides about a tool
// call and nothing in it may be used to let a call through: a low score or
// a drift Alert is something for an operator to look at. Every result is
// a deterministic function of the events and the options (no wall clock,
// no randomness).
//
// # Per-event scores (0–100)
//
// Pre-exec, for each decision event (parameter quality, risk, the verdict):
//
//	pre = clamp(100 − 15·min(S, 4) − A − 2.5·min(R, 8))
//
// where S is the number of reason codes starting with "schema." (each one
// is a parameter the schema gate found wrong), A is the action penalty
// (allow 0, notify 5, confirm 20, deny 40) and R the risk score (on the
// kernel's scale, where 8 is the default deny threshold).
//
// Runtime, for each outcome event whose call ran (ExecStatus ok, error or
// timeout, or TimedOut):
//
//	runtime = clamp(100 − 10·min(retries, 5) − 40·timeout − 30·error − 10·selfCorrected − slow)
//
// timeout is 1 when the call timed out (ExecStatus timeout or TimedOut),
// error is 1 when ExecStatus is error (a timeout is not also an error). slow
// compares the call's duration d with the median m of the same agent's
// earlier durations: slow = min(20, 10·(log2(d/m) − 1)) when d > 2m, else 0;
// it is 0 while the agent has fewer than 5 earlier durations. Durations
// are kept in a log-scale histogram with 8 bins per doubling, and m is the
// lower bound of the bin holding the lower median (within 12.5% of the
// true median). A duration of 0 means "not measured" and is ignored.
// Because m is the median so far, ProfileOf feeds events in time order.
//
// Post-exec, for each outcome event with at least one measured component,
// the weighted mean of the measured components:
//
//	verify   weight 2   PASS 100, WARN 50, FAIL 0
//	accepted weight 1   true 100, false 0
//	edited   weight 1   false 100, true 50 (accepted with changes)
//	used     weight 1   true 100, false 0
//
// # Phase scores
//
// Pre-exec, runtime and post-exec are the means of their per-event scores.
// When decisions report whether the call used the context Sentinel
// injected (ContextUsed set), pre-exec becomes 0.85·pre + 0.15·(100·used/measured).
//
// Satisfaction comes from the feedback signals (see Signal for the eight
// signals and their strengths s ∈ [−0.8, 0.8]), weighted by age: 1 in the
// last hour, 0.5 in the last 24 hours, 0.25 in the last 7 days, 0 before:
//
//	satisfaction = clamp(50 + 62.5 · Σ w·s / Σ w)
//
// so that the strongest possible mean (±0.8) maps to 0 or 100 and no
// signal at all leaves satisfaction unmeasured.
//
// Overall is the weighted mean of the measured phases, the weights
// renormalised over those measured:
//
//	overall = (0.25·pre + 0.25·runtime + 0.30·post + 0.20·satisfaction) / Σ weights
//
// A phase with nothing to rest on is unmeasured (Score.N == 0) and shown
// as n/a; it never counts as 0 or 100.
//
// # Windows and trends
//
// Windows are counted in whole minutes back from Now: "the last 24 hours"
// holds the events of the minute of Now and the 1439 minutes before.
// Pre-exec, runtime and post-exec in a profile cover everything ingested;
// satisfaction is decayed as above. A trend compares the same scores over
// the last TrendWindow with the TrendWindow before it; in a trend,
// satisfaction is the undecayed mean of the window's signals.
//
// # Warnings and strengths
//
// Each carries a stable code. Warnings (over the last 24 hours):
//
//	verify.failures        any verify FAIL; names the session with the most
//	satisfaction.declining ≥ 3 negative signals whose total strength is at
//	                       least twice that of the positive ones
//	decisions.deny_rate    ≥ 10 decisions and ≥ 20% denied
//	runtime.failures       ≥ 10 runs and ≥ 20% errors or timeouts
//	params.schema          ≥ 10 decisions and ≥ 20% with schema problems
//	quality.dropping       overall fell by ≥ 10 points from the previous
//	                       trend window (each window resting on ≥ 10 events)
//	input.rejected         malformed events were skipped (whole profile only)
//	input.evicted          per-agent or per-session profiles were dropped to
//	                       stay within the limits (whole profile only)
//	input.options          ProfileOf was given invalid options and used the
//	                       defaults (whole profile only)
//
// Strengths (over everything ingested):
//
//	runtime.reliable   ≥ 20 runs, runtime ≥ 90, ≤ 2% errors or timeouts
//	feedback.positive  ≥ 3 signals weighted in, satisfaction ≥ 75, not declining
//	params.clean       ≥ 20 decisions, pre-exec ≥ 90, no schema problem
//	verify.clean       ≥ 20 verified outcomes, none failed
//
// # Drift
//
// A Baseline summarises one agent over a window: deny rate, verify failure
// rate, tool mix and risk distribution. Drift compares a recent Baseline
// with a reference one:
//
//	deny and verify failure rates  two-proportion z-test (pooled)
//	tool mix                       chi-square test of homogeneity, categories
//	                               with an expected count < 5 merged; effect
//	                               size: Jensen–Shannon distance (base 2)
//	risk                           two-sample Kolmogorov–Smirnov on a 0.1-wide
//	                               histogram (conservative with ties)
//
// An alert needs each side to hold at least 30 observations of the
// metric, a p-value below 0.001 per metric, and an effect at least as large
// as: 0.02 absolute for a rate, 0.1 Jensen–Shannon distance for the tool
// mix, 0.1 for the KS distance. A handful of events therefore never alerts,
// and very large samples do not alert on negligible shifts.
//
// # Bounds
//
// Names are at most 256 bytes, reasons at most 64 codes of 128 bytes, and
// risk at most 1000; anything else is rejected with an error saying which
// field and why. The Aggregator keeps at most MaxAgents agents and
// MaxSessions sessions (least recently active dropped first; the whole
// profile still counts their events), per agent or session one bucket per
// minute over max(7 days, 2·TrendWindow) back from the latest event, and
// at most 10,000 verify failures by session to name the one to review.
package evaluator
