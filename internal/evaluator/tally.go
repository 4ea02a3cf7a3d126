package evaluator

import "github.com/sentinel-agent/sentinel/internal/decision"

// tally sums what the scores and counts need over a set of events: one
// event's contribution, a minute's bucket, a window, a key's total. It
// has no pointer, so that buckets are stored by value and the garbage
// collector skips them.
type tally struct {
	decisions, denied, confirmed, highRisk, schemaCalls int64
	ctxMeasured, ctxUsed                                int64
	outcomes, ran, errors, timeouts                     int64
	postN, verified, verifyFails                        int64
	signals, negative                                   int64

	preSum, rtSum, postSum      float64
	strengthSum, negSum, posSum float64
}

// contribution is what one valid event adds to every tally it counts in,
// given its scores: pre-exec for a decision, runtime (rt) for an outcome
// of a call that ran, post-exec when hasPost.
func contribution(e *Event, pre, rt, post float64, hasPost, highRisk bool) tally {
	var c tally
	one := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	switch e.Kind {
	case KindDecision:
		c.decisions = 1
		c.denied = one(e.Action == decision.Deny)
		c.confirmed = one(e.Action == decision.Confirm)
		c.highRisk = one(highRisk)
		c.schemaCalls = one(e.schemaProblems() > 0)
		if e.ContextUsed != nil {
			c.ctxMeasured = 1
			c.ctxUsed = one(*e.ContextUsed)
		}
		c.preSum = pre
	case KindOutcome:
		c.outcomes = 1
		if e.ran() {
			c.ran = 1
			c.rtSum = rt
			c.timeouts = one(e.timedOut())
			c.errors = one(!e.timedOut() && e.ExecStatus == ExecError)
		}
		if hasPost {
			c.postN = 1
			c.postSum = post
		}
		c.verified = one(e.Verify != "")
		c.verifyFails = one(e.Verify == VerifyFail)
	case KindFeedback:
		s := e.Signal.Strength()
		c.signals = 1
		c.strengthSum = s
		if s < 0 {
			c.negative = 1
			c.negSum = s
		} else {
			c.posSum = s
		}
	}
	return c
}

// add adds u into t.
func (t *tally) add(u *tally) {
	t.decisions += u.decisions
	t.denied += u.denied
	t.confirmed += u.confirmed
	t.highRisk += u.highRisk
	t.schemaCalls += u.schemaCalls
	t.ctxMeasured += u.ctxMeasured
	t.ctxUsed += u.ctxUsed
	t.outcomes += u.outcomes
	t.ran += u.ran
	t.errors += u.errors
	t.timeouts += u.timeouts
	t.postN += u.postN
	t.verified += u.verified
	t.verifyFails += u.verifyFails
	t.signals += u.signals
	t.negative += u.negative
	t.preSum += u.preSum
	t.rtSum += u.rtSum
	t.postSum += u.postSum
	t.strengthSum += u.strengthSum
	t.negSum += u.negSum
	t.posSum += u.posSum
}

// phases scores the pre-exec, runtime and post-exec phases from t, and
// satisfaction as the undecayed mean of t's signals.
func (t *tally) phases() Breakdown {
	var b Breakdown
	if t.decisions > 0 {
		pre := t.preSum / float64(t.decisions)
		if t.ctxMeasured > 0 {
			pre = (1-preContextWeight)*pre + preContextWeight*100*float64(t.ctxUsed)/float64(t.ctxMeasured)
		}
		b.PreExec = Score{Value: pre, N: t.decisions}
	}
	if t.ran > 0 {
		b.Runtime = Score{Value: t.rtSum / float64(t.ran), N: t.ran}
	}
	if t.postN > 0 {
		b.PostExec = Score{Value: t.postSum / float64(t.postN), N: t.postN}
	}
	b.Satisfaction = satisfaction(t.strengthSum, float64(t.signals), t.signals)
	return b
}

// events is how many events t holds.
func (t *tally) events() int64 { return t.decisions + t.outcomes + t.signals }

// positive is how many signals were positive.
func (t *tally) positive() int64 { return t.signals - t.negative }

// slot is the part of a tally that windows read, for one minute of one
// key: the per-minute buckets are most of the Aggregator's memory, so
// they keep only these, with 32-bit counts (a key cannot take 2^31 events
// in one minute: ingesting them takes longer than that).
type slot struct {
	decisions, denied, schemaCalls, ctxMeasured, ctxUsed int32
	outcomes, ran, errors, timeouts, postN, verifyFails  int32
	signals, negative                                    int32

	preSum, rtSum, postSum      float64
	strengthSum, negSum, posSum float64
}

// add adds an event's contribution to s.
func (s *slot) add(c *tally) {
	s.decisions += int32(c.decisions)
	s.denied += int32(c.denied)
	s.schemaCalls += int32(c.schemaCalls)
	s.ctxMeasured += int32(c.ctxMeasured)
	s.ctxUsed += int32(c.ctxUsed)
	s.outcomes += int32(c.outcomes)
	s.ran += int32(c.ran)
	s.errors += int32(c.errors)
	s.timeouts += int32(c.timeouts)
	s.postN += int32(c.postN)
	s.verifyFails += int32(c.verifyFails)
	s.signals += int32(c.signals)
	s.negative += int32(c.negative)
	s.preSum += c.preSum
	s.rtSum += c.rtSum
	s.postSum += c.postSum
	s.strengthSum += c.strengthSum
	s.negSum += c.negSum
	s.posSum += c.posSum
}

// addSlot adds a minute into a window.
func (t *tally) addSlot(s *slot) {
	t.decisions += int64(s.decisions)
	t.denied += int64(s.denied)
	t.schemaCalls += int64(s.schemaCalls)
	t.ctxMeasured += int64(s.ctxMeasured)
	t.ctxUsed += int64(s.ctxUsed)
	t.outcomes += int64(s.outcomes)
	t.ran += int64(s.ran)
	t.errors += int64(s.errors)
	t.timeouts += int64(s.timeouts)
	t.postN += int64(s.postN)
	t.verifyFails += int64(s.verifyFails)
	t.signals += int64(s.signals)
	t.negative += int64(s.negative)
	t.preSum += s.preSum
	t.rtSum += s.rtSum
	t.postSum += s.postSum
	t.strengthSum += s.strengthSum
	t.negSum += s.negSum
	t.posSum += s.posSum
}
