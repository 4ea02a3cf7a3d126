package server

import (
	"container/list"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/auth"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/evaluator"
	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/pipeline"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// recentCalls remembers the kernel's view of recent decisions (the
// normalised call, its analysis and risk), by decision id and by the
// host's call id, for the snapshot and the verification that follow.
type recentCalls struct {
	mu  sync.Mutex
	m   map[string]*list.Element
	lru *list.List
}

type recentCall struct {
	key  string
	tr   *kernel.Trace
	risk float64
}

const maxRecentCalls = 4096

func (s *Server) recent() *recentCalls {
	s.recentOnce.Do(func() { s.calls = &recentCalls{m: map[string]*list.Element{}, lru: list.New()} })
	return s.calls
}

func (rc *recentCalls) put(key string, tr *kernel.Trace, risk float64) {
	if key == "" || tr == nil || tr.Call == nil {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if el, ok := rc.m[key]; ok {
		el.Value = &recentCall{key: key, tr: tr, risk: risk}
		rc.lru.MoveToFront(el)
		return
	}
	rc.m[key] = rc.lru.PushFront(&recentCall{key: key, tr: tr, risk: risk})
	for rc.lru.Len() > maxRecentCalls {
		last := rc.lru.Back()
		rc.lru.Remove(last)
		delete(rc.m, last.Value.(*recentCall).key)
	}
}

func (rc *recentCalls) get(key string) (*recentCall, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	el, ok := rc.m[key]
	if !ok {
		return nil, false
	}
	return el.Value.(*recentCall), true
}

// remember keeps a decision's view for what follows it, and feeds the
// evaluator the decision.
func (s *Server) remember(d decision.Decision, raw request.Raw, tr *kernel.Trace) {
	s.recent().put(d.DecisionID, tr, d.Risk.Score)
	e := evaluator.Event{Time: s.opts.Now(), Session: raw.Session, Agent: raw.Agent, Tool: raw.Tool,
		Kind: evaluator.KindDecision, Action: d.Action, Risk: d.Risk.Score}
	for i, r := range d.Reasons {
		if i == 64 {
			break
		}
		e.Reasons = append(e.Reasons, r.Code)
	}
	if e.Validate() == nil {
		_ = s.opts.Evaluator.Ingest(e)
	}
}

// snapshot takes the snapshot of the files a call the server lets run may
// change, under the host's call id when it gave one. A snapshot that
// fails refuses the call: it could not be rolled back.
func (s *Server) snapshot(ctx context.Context, d decision.Decision, callID string) decision.Decision {
	p := s.opts.Pipeline
	if p == nil || d.Action == decision.Deny {
		return d
	}
	rc, ok := s.recent().get(d.DecisionID)
	if !ok {
		return d
	}
	key := d.DecisionID
	if callID != "" {
		key = callID
		s.recent().put(callID, rc.tr, rc.risk)
	}
	if _, err := p.Pre(ctx, key, s.k.Env().Workspace, rc.tr.Call, rc.tr.Analysis); err != nil {
		return withReason(d, decision.Deny, "snapshot.failed",
			"the files this call may change could not be snapshotted, so it could not be rolled back; it is refused: "+err.Error())
	}
	return d
}

// ingest feeds a recorded event to the evaluator, with what only the
// request knew (the seed's userAccepted, resultWasUsed, …).
func (s *Server) ingest(ev *audit.Event, enrich func(*evaluator.Event)) {
	if ev.Time == "" {
		// The log stamps its own copy; this one is the server's.
		c := *ev
		c.Time = audit.FormatTime(s.opts.Now())
		ev = &c
	}
	e, ok := evaluator.FromAudit(ev)
	if !ok {
		return
	}
	if enrich != nil {
		enrich(&e)
	}
	if e.Validate() == nil {
		_ = s.opts.Evaluator.Ingest(e)
	}
}

// verifySummary is what an outcome's answer says of the verification.
type verifySummary struct {
	Status     string   `json:"status"`
	Checks     []string `json:"checks,omitempty"`
	RolledBack bool     `json:"rolled_back,omitempty"`
	Rollback   string   `json:"rollback_error,omitempty"`
}

// verifyOutcome records an outcome event; with a pipeline and something
// to verify (a snapshot under the decision id, or the call's arguments)
// it verifies the call's claims first, rolls a failed high-risk call
// back, and records the outcome with both. It returns the verification,
// nil when there was none.
func (s *Server) verifyOutcome(ctx context.Context, ev audit.Event, args map[string]any, cwd, result string, ok bool,
	enrich func(*evaluator.Event)) (*verifySummary, error) {
	p := s.opts.Pipeline
	if p == nil || ev.DecisionID == "" {
		return nil, s.recordWith(ctx, ev, enrich)
	}
	snap, _ := p.Snapshot(ev.DecisionID)
	var tr *kernel.Trace
	risk := 0.0
	if rc, found := s.recent().get(ev.DecisionID); found {
		tr, risk = rc.tr, rc.risk
	}
	if tr == nil && args != nil {
		d, t := s.k.Explain(ctx, request.Raw{Tool: ev.Tool, Args: args, Session: ev.Session, Agent: ev.Agent, Cwd: cwd})
		tr, risk = t, d.Risk.Score
	}
	if tr == nil || tr.Call == nil {
		return nil, s.recordWith(ctx, ev, enrich)
	}
	cl := pipeline.ClaimFor(tr.Call, tr.Analysis, s.k.Env().Workspace, result, ok, snap)
	d := decision.Decision{DecisionID: ev.DecisionID, Risk: decision.Risk{Score: risk}}
	post, err := p.Post(ctx, d, ev, snap, cl)
	if errors.Is(err, pipeline.ErrNotRecorded) {
		s.m.storeErrors.WithLabelValues("audit").Inc()
		return nil, errorf(http.StatusServiceUnavailable, "audit.unavailable", "the outcome could not be recorded: %v", err)
	}
	// Any other error is a rollback that did not complete: the answer
	// says so (rollback_error), the outcome is recorded.
	s.ingest(&post.Event, enrich)
	sum := &verifySummary{Status: string(post.Verify.Status), RolledBack: post.Rollback != nil && post.RollbackErr == "", Rollback: post.RollbackErr}
	for _, c := range post.Verify.Checks {
		x := c.Name + ":" + string(c.Status)
		if c.Code != "" {
			x += ":" + c.Code
		}
		sum.Checks = append(sum.Checks, x)
	}
	return sum, nil
}

// profile is GET /v1/profile and the seed's GET /pipeline/profile: the
// quality profile, or one session's or agent's part of it.
func (s *Server) profile(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	p := s.opts.Evaluator.Profile(s.opts.Now())
	q := r.URL.Query()
	find := func(list []evaluator.Summary, name string) (evaluator.Summary, bool) {
		for _, x := range list {
			if x.Name == name {
				return x, true
			}
		}
		return evaluator.Summary{}, false
	}
	if id := q.Get("session"); id != "" {
		sum, ok := find(p.Sessions, id)
		if !ok {
			return errorf(http.StatusNotFound, "profile.not_found", "no events of session %q in the profile's window", clip(id))
		}
		return writeJSON(w, http.StatusOK, sum)
	}
	if id := q.Get("agent"); id != "" {
		sum, ok := find(p.Agents, id)
		if !ok {
			return errorf(http.StatusNotFound, "profile.not_found", "no events of agent %q in the profile's window", clip(id))
		}
		return writeJSON(w, http.StatusOK, sum)
	}
	return writeJSON(w, http.StatusOK, p)
}

// report is GET /v1/report and the seed's GET /pipeline/report: the
// status report as text.
func (s *Server) report(w http.ResponseWriter, _ *http.Request, _ auth.Client) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte(evaluator.Report(s.opts.Evaluator.Profile(s.opts.Now()))))
	return err
}

// feedbackRequest is POST /v1/feedback.
type feedbackRequest struct {
	Signal  string `json:"signal"`
	Session string `json:"session"`
	Agent   string `json:"agent,omitempty"`
}

func (s *Server) feedback(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	var req feedbackRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	return s.recordFeedback(w, r, req)
}

// seedFeedback is the seed's POST /feedback {"signal","sessionId","agentId"}.
func (s *Server) seedFeedback(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	var req struct {
		Signal    string `json:"signal"`
		SessionID string `json:"sessionId"`
		AgentID   string `json:"agentId"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.SessionID == "" {
		req.SessionID = "http_session"
	}
	return s.recordFeedback(w, r, feedbackRequest{Signal: req.Signal, Session: req.SessionID, Agent: req.AgentID})
}

func (s *Server) recordFeedback(w http.ResponseWriter, r *http.Request, req feedbackRequest) error {
	sig, err := evaluator.ParseSignal(req.Signal)
	if err != nil {
		return errorf(http.StatusBadRequest, "request.invalid_field", "%v", err)
	}
	if req.Session == "" || len(req.Session) > maxIDLen || len(req.Agent) > maxIDLen {
		return errorf(http.StatusBadRequest, "request.invalid_field", "\"session\" is required, at most %d bytes (so is \"agent\")", maxIDLen)
	}
	if err := s.record(r.Context(), audit.Event{Type: audit.TypeFeedback, Session: req.Session, Agent: req.Agent,
		Feedback: &audit.Feedback{Signal: string(sig), Strength: sig.Strength()}}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"recorded": true, "signal": sig, "strength": sig.Strength()})
}

// rollback is POST /v1/rollback/{decision_id} {"dry_run": bool}.
func (s *Server) rollback(w http.ResponseWriter, r *http.Request, c auth.Client) error {
	id := r.PathValue("decision_id")
	if id == "" || len(id) > maxIDLen {
		return errorf(http.StatusBadRequest, "request.invalid_field", "the decision id must be 1 to %d bytes", maxIDLen)
	}
	var req struct {
		DryRun bool `json:"dry_run"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	if s.opts.Pipeline == nil {
		return errorf(http.StatusNotImplemented, "not_implemented.snapshots", "this server keeps no snapshots; start it with a data dir")
	}
	rep, err := s.opts.Pipeline.Rollback(r.Context(), id, req.DryRun, c.Name)
	if err != nil && len(rep.Restored) == 0 && len(rep.Failed) == 0 {
		return errorf(http.StatusNotFound, "rollback.unavailable", "%v", err)
	}
	if err != nil {
		var why []string
		for _, o := range rep.Failed {
			why = append(why, o.Path+": "+o.Action)
		}
		return errorf(http.StatusConflict, "rollback.incomplete", "%d paths restored, %d could not be: %s (%v)",
			len(rep.Restored), len(rep.Failed), strings.Join(why, "; "), err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"decision_id": id, "dry_run": req.DryRun, "restored": rep.Restored,
		"failed": rep.Failed, "unchanged": rep.Unchanged})
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
