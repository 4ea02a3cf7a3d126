package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/auth"
)

func (s *Server) store() (audit.Store, error) {
	if s.opts.Store == nil {
		return nil, errorf(http.StatusServiceUnavailable, "audit.unavailable", "this server has no audit store")
	}
	return s.opts.Store, nil
}

// auditEvent is one record as the API shows it: the stored event (its
// canonical body) with the seq.
type auditEvent struct {
	Seq   uint64          `json:"seq"`
	Event json.RawMessage `json:"event"`
}

// filter reads the audit query parameters.
func filter(r *http.Request) (audit.Filter, error) {
	q := r.URL.Query()
	f := audit.Filter{Session: q.Get("session"), Agent: q.Get("agent"), Tool: q.Get("tool"), Action: q.Get("action"), Verify: q.Get("verify")}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, errorf(http.StatusBadRequest, "request.invalid_parameter", "%s=%q: use RFC 3339 time, e.g. 2026-01-02T15:04:05Z", name, v)
			}
			*dst = t
		}
	}
	for name, dst := range map[string]*uint64{"after": &f.AfterSeq, "before": &f.BeforeSeq} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseUint(v, 10, 63)
			if err != nil {
				return f, errorf(http.StatusBadRequest, "request.invalid_parameter", "%s=%q: want a sequence number", name, v)
			}
			*dst = n
		}
	}
	if v := q.Get("min_risk"); v != "" {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x < 0 || x > 1e6 {
			return f, errorf(http.StatusBadRequest, "request.invalid_parameter", "min_risk=%q: want a number ≥ 0", v)
		}
		f.MinRisk, f.HasMinRisk = x, true
	}
	switch q.Get("order") {
	case "", "asc":
	case "desc":
		f.Desc = true
	default:
		return f, errorf(http.StatusBadRequest, "request.invalid_parameter", "order=%q: use asc or desc", q.Get("order"))
	}
	limit, err := queryInt(r, "limit", 100, 1, 10000)
	if err != nil {
		return f, err
	}
	f.Limit = limit
	return f, nil
}

func (s *Server) queryAudit(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	f, err := filter(r)
	if err != nil {
		return err
	}
	recs, err := st.Query(r.Context(), f)
	if err != nil {
		s.m.storeErrors.WithLabelValues("audit").Inc()
		return errorf(http.StatusServiceUnavailable, "audit.unavailable", "the audit store could not be queried: %v", err)
	}
	out := make([]auditEvent, 0, len(recs))
	for _, rec := range recs {
		out = append(out, auditEvent{Seq: rec.Seq, Event: rec.Body})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

func (s *Server) auditStats(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	f, err := filter(r)
	if err != nil {
		return err
	}
	high := 5.0
	if v := r.URL.Query().Get("high_risk"); v != "" {
		if high, err = strconv.ParseFloat(v, 64); err != nil {
			return errorf(http.StatusBadRequest, "request.invalid_parameter", "high_risk=%q: want a number", v)
		}
	}
	stats, err := st.Stats(r.Context(), f, high)
	if err != nil {
		s.m.storeErrors.WithLabelValues("audit").Inc()
		return errorf(http.StatusServiceUnavailable, "audit.unavailable", "the audit store could not be summarised: %v", err)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"total": stats.Total, "by_action": stats.ByAction, "by_tool": stats.ByTool,
		"failures": stats.Failures, "high_risk": stats.HighRisk})
}

// maxVerify bounds one verification request.
const maxVerify = 5 * time.Minute

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "max_unsigned", 2000, 0, 1<<30)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), maxVerify)
	defer cancel()
	rep, err := audit.VerifyStoreWith(ctx, st, audit.NewVerifier(s.opts.Keys...).LimitUnsigned(uint64(limit)))
	if err != nil {
		return errorf(http.StatusServiceUnavailable, "audit.unavailable", "the audit store could not be read: %v", err)
	}
	out := map[string]any{"ok": rep.OK(), "events": rep.Events, "first": rep.First, "last": rep.Last,
		"checkpoints": rep.Checkpoints, "signed_up_to": rep.SignedUpTo, "signatures_checked": rep.SignaturesChecked, "keys": append([]string{}, rep.Keys...)}
	if rep.Problem != nil {
		out["problem"] = map[string]any{"kind": rep.Problem.Kind, "seq": rep.Problem.Seq, "event_id": rep.Problem.EventID,
			"detail": rep.Problem.Detail, "message": rep.Problem.Error()}
	}
	return writeJSON(w, http.StatusOK, out)
}

// seedAudit is the seed's GET /audit: ?limit= (default 20), sessionId,
// toolName, status (PASS / WARN / FAIL, the verify status), newest first.
func (s *Server) seedAudit(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	st, err := s.store()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", 20, 1, 10000)
	if err != nil {
		return err
	}
	f := audit.Filter{Session: q.Get("sessionId"), Tool: q.Get("toolName"), Desc: true, Limit: limit}
	switch v := q.Get("status"); v {
	case "":
	case "PASS", "WARN", "FAIL", "pass", "warn", "fail":
		f.Verify = map[string]string{"PASS": "pass", "WARN": "warn", "FAIL": "fail"}[v]
		if f.Verify == "" {
			f.Verify = v
		}
	default:
		return errorf(http.StatusBadRequest, "request.invalid_parameter", "status=%q: use PASS, WARN or FAIL", v)
	}
	recs, err := st.Query(r.Context(), f)
	if err != nil {
		s.m.storeErrors.WithLabelValues("audit").Inc()
		return errorf(http.StatusServiceUnavailable, "audit.unavailable", "the audit store could not be queried: %v", err)
	}
	entries := make([]map[string]any, 0, len(recs))
	for _, rec := range recs {
		entries = append(entries, map[string]any{
			"seq": rec.Seq, "timestamp": rec.Time.UnixMilli(), "sessionId": rec.Session, "agentId": rec.Agent,
			"toolName": rec.Tool, "type": rec.Type, "action": rec.Action, "riskScore": rec.Risk, "status": seedStatus(rec.Verify),
			"decisionId": rec.DecisionID,
		})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"entries": entries, "count": len(entries)})
}

func seedStatus(verify string) string {
	switch verify {
	case "pass":
		return "PASS"
	case "warn":
		return "WARN"
	case "fail":
		return "FAIL"
	}
	return ""
}
