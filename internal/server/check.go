package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/approval"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/auth"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/evaluator"
	"github.com/sentinel-agent/sentinel/internal/hook"
	"github.com/sentinel-agent/sentinel/internal/memory"
	"github.com/sentinel-agent/sentinel/internal/redact"
	"github.com/sentinel-agent/sentinel/internal/request"
	"github.com/sentinel-agent/sentinel/internal/taint"
)

// checkRequest is the body of POST /v1/check: the call as `sentinel check
// --stdin` takes it, and optionally the approval it comes back with.
type checkRequest struct {
	Tool       string         `json:"tool"`
	Args       map[string]any `json:"args"`
	Session    string         `json:"session,omitempty"`
	Agent      string         `json:"agent,omitempty"`
	Cwd        string         `json:"cwd,omitempty"`
	ApprovalID string         `json:"approval_id,omitempty"`
	// CallID is the host's own id of the call (Claude Code's tool_use
	// id): the snapshot is kept under it, so that the outcome the host
	// reports under the same id finds it.
	CallID string `json:"call_id,omitempty"`
	// HostConfirms says the host asks its own user about a confirm
	// (Claude Code's "ask", OpenClaw's requireApproval): no approval is
	// opened here for a second prompt nobody would answer. A grant still
	// allows the call.
	HostConfirms bool `json:"host_confirms,omitempty"`
}

// approvalRef is what a check answer says about the approval a confirm
// opened or used.
type approvalRef struct {
	ID        string    `json:"id"`
	Status    string    `json:"status,omitempty"` // empty when the named approval does not exist
	Required  int       `json:"required,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Wait      string    `json:"wait,omitempty"` // the long-poll URL
}

// maxIDLen bounds the identifiers a request may carry.
const maxIDLen = 256

func (c *checkRequest) raw() (request.Raw, error) {
	if c.Tool == "" {
		return request.Raw{}, errorf(http.StatusBadRequest, "request.missing_field", "\"tool\" is missing or empty; send {\"tool\":\"Bash\",\"args\":{\"command\":\"ls\"}}")
	}
	for name, v := range map[string]string{"tool": c.Tool, "session": c.Session, "agent": c.Agent, "approval_id": c.ApprovalID} {
		if len(v) > maxIDLen {
			return request.Raw{}, errorf(http.StatusBadRequest, "request.invalid_field", "%q is %d bytes; at most %d", name, len(v), maxIDLen)
		}
	}
	return request.Raw{Tool: c.Tool, Args: normalizeNumbers(c.Args), Session: c.Session, Agent: c.Agent, Cwd: c.Cwd}, nil
}

// normalizeNumbers turns the json.Numbers of a UseNumber decode back into
// float64 (as a plain decode gives, and the kernel and CLI see), keeping
// integers that float64 cannot hold exactly as their text.
func normalizeNumbers(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = normalizeValue(v)
	}
	return m
}

func normalizeValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case map[string]any:
		return normalizeNumbers(x)
	case []any:
		for i := range x {
			x[i] = normalizeValue(x[i])
		}
	}
	return v
}

// check is POST /v1/check.
func (s *Server) check(w http.ResponseWriter, r *http.Request, c auth.Client) error {
	var req checkRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	raw, err := req.raw()
	if err != nil {
		return err
	}
	if len(req.CallID) > maxIDLen {
		return errorf(http.StatusBadRequest, "request.invalid_field", "\"call_id\" is at most %d bytes", maxIDLen)
	}
	d, ref := s.decide(r.Context(), raw, req.ApprovalID, req.HostConfirms)
	d = s.snapshot(r.Context(), d, req.CallID)
	return writeDecision(w, d, ref)
}

// decide runs the kernel and, for a confirm, the approvals: a grant or an
// approval naming this exact call turns it into allow; otherwise a pending
// approval is opened (or the one already pending is returned), unless the
// host confirms with its own prompt.
func (s *Server) decide(ctx context.Context, raw request.Raw, approvalID string, hostConfirms bool) (decision.Decision, *approvalRef) {
	start := time.Now()
	d, tr := s.k.DecideTrace(ctx, raw)
	s.m.observeDecision(d, time.Since(start))
	s.remember(d, raw, tr)
	if s.opts.Approvals == nil || (d.Action != decision.Confirm && approvalID == "") {
		return d, nil
	}
	if d.Action != decision.Confirm {
		// Allow and notify need no approval; deny cannot be approved.
		return d, nil
	}
	hash, err := approval.CallHash(raw.Tool, raw.Session, raw.Agent, raw.Args)
	if err != nil {
		return s.approvalFailed(d, "approval.unavailable", "the call cannot be hashed for an approval: "+err.Error()), nil
	}
	if approvalID != "" {
		a, err := s.opts.Approvals.Authorize(ctx, approvalID, hash)
		ref := &approvalRef{ID: approvalID, Status: string(a.Status)}
		if err != nil {
			code := approval.Code(err)
			if errors.Is(err, approval.ErrPending) {
				ref.Required, ref.ExpiresAt, ref.Wait = a.Required, a.ExpiresAt, "/v1/approvals/"+approvalID+"/wait"
				return withReason(d, decision.Confirm, "approval.pending", "the approval is still pending; wait for it with GET "+ref.Wait), ref
			}
			if code == "" {
				code = "approval.unavailable"
			}
			return withReason(d, decision.Deny, code, "the approval does not authorize this call: "+err.Error()), ref
		}
		s.recordApproval(ctx, raw, d, a)
		return withReason(d, decision.Allow, "approval.approved", "approved by "+approvers(a)), ref
	}
	shape := s.shape(ctx, raw, d)
	if g, ok, err := s.opts.Approvals.Granted(ctx, raw.Session, raw.Tool, shape); err != nil {
		s.m.storeErrors.WithLabelValues("approvals").Inc()
	} else if ok {
		s.recordGrant(ctx, raw, d, g)
		return withReason(d, decision.Allow, "approval.granted", fmt.Sprintf("allowed by the grant %s from %s until %s", g.ID, g.CreatedBy, g.ExpiresAt.UTC().Format(time.RFC3339))), nil
	}
	if hostConfirms {
		return d, nil
	}
	a, err := s.opts.Approvals.Request(ctx, approval.Request{
		DecisionID: d.DecisionID, CallHash: hash, Tool: raw.Tool, Session: raw.Session, Agent: raw.Agent,
		Summary: summarize(raw), Reasons: d.Reasons, Risk: d.Risk.Score, Shape: shape, Critical: s.opts.Critical(d),
	})
	if err != nil {
		s.m.storeErrors.WithLabelValues("approvals").Inc()
		return s.approvalFailed(d, "approval.unavailable", "no approval could be opened: "+err.Error()), nil
	}
	return d, &approvalRef{ID: a.ID, Status: string(a.Status), Required: a.Required, ExpiresAt: a.ExpiresAt,
		Wait: "/v1/approvals/" + a.ID + "/wait"}
}

// approvalFailed keeps a confirm a confirm (never an allow) and says why
// no approval is attached.
func (s *Server) approvalFailed(d decision.Decision, code, msg string) decision.Decision {
	return withReason(d, decision.Confirm, code, msg)
}

// withReason returns d with action and a leading reason from the
// "approval" gate.
func withReason(d decision.Decision, action decision.Action, code, msg string) decision.Decision {
	out := d
	out.Action = action
	out.Reasons = append([]decision.Reason{{Gate: "approval", Code: code, Action: action, Message: msg}}, d.Reasons...)
	return out
}

func approvers(a approval.Approval) string {
	var names []string
	for _, v := range a.Votes {
		if v.Approve {
			names = append(names, v.Approver)
		}
	}
	return strings.Join(names, " and ")
}

// writeDecision writes the decision JSON of `sentinel check --format json`,
// with "approval" added when there is one.
func writeDecision(w http.ResponseWriter, d decision.Decision, ref *approvalRef) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if ref != nil {
		rb, err := json.Marshal(ref)
		if err != nil {
			return err
		}
		b = append(append(append(b[:len(b)-1], `,"approval":`...), rb...), '}')
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(b, '\n'))
	return nil
}

// shape is what a grant covers: the call's kind, the commands (program and
// subcommand) or the directories it touches, and the reasons it needed a
// human for. A grant never covers a call that asks for something else.
func (s *Server) shape(ctx context.Context, raw request.Raw, d decision.Decision) string {
	_, tr := s.k.Explain(ctx, raw)
	kind := raw.Tool
	var parts []string
	if tr != nil && tr.Call != nil {
		kind = string(tr.Call.Kind)
	}
	if tr != nil && tr.Analysis != nil {
		for _, c := range tr.Analysis.Commands {
			p := c.Name
			if len(c.Args) > 0 && isSubcommand(c.Args[0]) {
				p += " " + c.Args[0]
			}
			parts = append(parts, p)
		}
		if len(tr.Analysis.Commands) == 0 {
			for _, p := range tr.Analysis.Paths {
				parts = append(parts, string(p.Op)+" "+path.Dir(p.Path))
			}
		}
	}
	var codes []string
	for _, r := range d.Reasons {
		if r.Action >= decision.Confirm {
			codes = append(codes, r.Code)
		}
	}
	sort.Strings(parts)
	parts = compact(parts)
	sort.Strings(codes)
	codes = compact(codes)
	return kind + ": " + strings.Join(parts, " | ") + " [" + strings.Join(codes, " ") + "]"
}

func isSubcommand(a string) bool {
	if a == "" || len(a) > 32 {
		return false
	}
	for _, c := range a {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return a[0] != '-'
}

func compact(xs []string) []string {
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// summarize is what an operator sees of the call: the tool and its
// arguments with every secret replaced, clipped.
func summarize(raw request.Raw) string {
	b, err := json.Marshal(raw.Args)
	if err != nil {
		return raw.Tool + " (arguments not encodable)"
	}
	red, _, err := redact.JSON(b)
	if err != nil {
		return raw.Tool + " (arguments withheld)"
	}
	out := raw.Tool + " " + string(red)
	if len(out) > 2048 {
		out = out[:2048] + "…"
	}
	return out
}

// recordApproval writes the outcome event saying an approval let the call
// run.
func (s *Server) recordApproval(ctx context.Context, raw request.Raw, d decision.Decision, a approval.Approval) {
	s.record(ctx, audit.Event{Type: audit.TypeOutcome, DecisionID: d.DecisionID, Session: raw.Session, Agent: raw.Agent,
		Tool: raw.Tool, Approval: &audit.Approval{Status: "approved", Approver: approvers(a), Reason: "approval " + a.ID}})
}

func (s *Server) recordGrant(ctx context.Context, raw request.Raw, d decision.Decision, g approval.Grant) {
	s.record(ctx, audit.Event{Type: audit.TypeOutcome, DecisionID: d.DecisionID, Session: raw.Session, Agent: raw.Agent,
		Tool: raw.Tool, Approval: &audit.Approval{Status: "approved", Approver: g.CreatedBy, Reason: "grant " + g.ID}})
}

func (s *Server) record(ctx context.Context, ev audit.Event) error {
	return s.recordWith(ctx, ev, nil)
}

// recordWith records ev and feeds it to the evaluator, enriched with what
// only the request knew.
func (s *Server) recordWith(ctx context.Context, ev audit.Event, enrich func(*evaluator.Event)) error {
	if s.opts.Log == nil {
		return errorf(http.StatusServiceUnavailable, "audit.unavailable", "this server has no audit log")
	}
	if err := s.opts.Log.Record(ctx, ev); err != nil {
		s.m.storeErrors.WithLabelValues("audit").Inc()
		return errorf(http.StatusServiceUnavailable, "audit.unavailable", "the audit log could not record the event: %v", err)
	}
	s.ingest(&ev, enrich)
	return nil
}

// outcomeRequest is the body of POST /v1/outcome: how a decided call ran.
type outcomeRequest struct {
	DecisionID string `json:"decision_id"`
	Tool       string `json:"tool,omitempty"`
	Session    string `json:"session,omitempty"`
	Agent      string `json:"agent,omitempty"`
	// Status is ok, error, timeout or skipped.
	Status     string `json:"status"`
	DurationMS int64  `json:"duration_ms,omitempty"`
	Retries    int    `json:"retries,omitempty"`
	Error      string `json:"error,omitempty"`
	Result     string `json:"result,omitempty"`
	// Taint lists what the call's output held, as the host's scan found
	// it: "untrusted" (instructions, hidden text) and "sensitive"
	// (credentials). They set the session's flags for the rule of two.
	Taint []string `json:"taint,omitempty"`
	// Args are the call's arguments, for verifying what it claims (the
	// file a Write wrote); without them only a snapshot's files are
	// checked.
	Args map[string]any `json:"args,omitempty"`
	Cwd  string         `json:"cwd,omitempty"`
	// Output is the call's output (any JSON), for the server to scan for
	// credentials, injected instructions and hidden text, as the hook
	// would: what it finds adds to Taint, becomes the result when there
	// is none, and comes back in the answer. The output is not kept.
	Output json.RawMessage `json:"output,omitempty"`
}

// scanAnswer is what the scan of an outcome's output found.
type scanAnswer struct {
	Secrets    []string `json:"secrets"`
	Injections []string `json:"injections"`
	Hidden     []string `json:"hidden"`
	Truncated  bool     `json:"truncated"`
}

var outcomeStatuses = map[string]bool{"ok": true, "error": true, "timeout": true, "skipped": true}

// maxOutcomeText bounds the error and result kept in the audit event.
const maxOutcomeText = 2048

func (s *Server) outcome(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	var req outcomeRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.DecisionID == "" || len(req.DecisionID) > maxIDLen {
		return errorf(http.StatusBadRequest, "request.missing_field", "\"decision_id\" must name the decision (the decision_id /v1/check returned)")
	}
	if !outcomeStatuses[req.Status] {
		return errorf(http.StatusBadRequest, "request.invalid_field", "\"status\" is %q; use ok, error, timeout or skipped", req.Status)
	}
	if req.DurationMS < 0 || req.Retries < 0 || req.Retries > 1000 {
		return errorf(http.StatusBadRequest, "request.invalid_field", "\"duration_ms\" and \"retries\" must be ≥ 0 (retries ≤ 1000)")
	}
	for name, v := range map[string]string{"tool": req.Tool, "session": req.Session, "agent": req.Agent} {
		if len(v) > maxIDLen {
			return errorf(http.StatusBadRequest, "request.invalid_field", "%q is %d bytes; at most %d", name, len(v), maxIDLen)
		}
	}
	if len(req.Taint) > 2 {
		return errorf(http.StatusBadRequest, "request.invalid_field", "\"taint\" lists at most untrusted and sensitive")
	}
	for _, f := range req.Taint {
		if f != string(taint.Untrusted) && f != string(taint.Sensitive) {
			return errorf(http.StatusBadRequest, "request.invalid_field", "\"taint\" holds %q; use untrusted or sensitive", clipName(f))
		}
	}
	var scanned *scanAnswer
	if len(req.Output) > 0 {
		rep := hook.ScanJSON(req.Output)
		scanned = &scanAnswer{Secrets: nonNil(rep.Secrets), Injections: nonNil(rep.Injections), Hidden: nonNil(rep.Hidden), Truncated: rep.Truncated}
		if req.Result == "" && !rep.Empty() {
			req.Result = "sentinel scan: " + strings.Join(rep.Codes(), " ")
		}
		for _, f := range rep.Taint() {
			if !slices.Contains(req.Taint, f) {
				req.Taint = append(req.Taint, f)
			}
		}
	}
	ex := &audit.Execution{Status: req.Status, DurationMS: req.DurationMS, Retries: req.Retries,
		Error: clipRedacted(req.Error), Result: clipRedacted(req.Result)}
	ev := audit.Event{Type: audit.TypeOutcome, DecisionID: req.DecisionID, Session: req.Session,
		Agent: req.Agent, Tool: req.Tool, Execution: ex}
	ver, err := s.verifyOutcome(r.Context(), ev, req.Args, req.Cwd, req.Result, req.Status == "ok", nil)
	if err != nil {
		return err
	}
	s.m.outcomes.WithLabelValues(req.Status).Inc()
	for _, f := range req.Taint {
		why := "its output held instructions or hidden text"
		if f == string(taint.Sensitive) {
			why = "its output held credentials"
		}
		s.k.Observe(req.Session, req.Tool, req.DecisionID, taint.Flag(f), why)
	}
	answer := map[string]any{"recorded": true}
	if ver != nil {
		answer["verify"] = ver
	}
	if scanned != nil {
		answer["scan"] = scanned
	}
	return writeJSON(w, http.StatusOK, answer)
}

// nonNil is list, or an empty list for nil (JSON [] rather than null).
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// clipRedacted redacts secrets from s and keeps at most maxOutcomeText
// bytes of it.
func clipRedacted(s string) string {
	if len(s) > 4*maxOutcomeText {
		s = s[:4*maxOutcomeText]
	}
	s, _ = redact.Text(s)
	if len(s) > maxOutcomeText {
		s = s[:maxOutcomeText] + "…"
	}
	return s
}

// endSession is POST /v1/sessions/{id}/end.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, c auth.Client) error {
	id := r.PathValue("id")
	return s.sessionEnd(w, r, id, c)
}

func (s *Server) sessionEnd(w http.ResponseWriter, r *http.Request, id string, c auth.Client) error {
	if id == "" || len(id) > maxIDLen {
		return errorf(http.StatusBadRequest, "request.invalid_field", "the session id must be 1 to %d bytes", maxIDLen)
	}
	if err := s.record(r.Context(), audit.Event{Type: audit.TypeSession, Session: id, Agent: c.Name}); err != nil {
		return err
	}
	s.k.EndSession(id)
	if s.opts.Memory != nil {
		// The daily log and MEMORY.md, as the seed's endSession writes
		// them; a failure is logged, the session has ended all the same.
		if err := s.opts.Memory.EndSession(r.Context(), id); err != nil && memory.Code(err) != "memory.unbound_session" {
			s.log.Warn("memory: ending the session", "session", id, "error", err.Error())
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"ok": true, "session": id})
}

// clipName bounds a value quoted in an error.
func clipName(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
