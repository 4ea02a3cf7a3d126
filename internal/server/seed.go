package server

import (
	"encoding/json"
	"net/http"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/auth"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/evaluator"
	"github.com/sentinel-agent/sentinel/internal/policy"
)

// The seed's endpoints keep the seed's request and answer shapes, so that
// its clients (the OpenClaw skill, scripts) work unchanged; what they
// cannot express (approvals) is only in v1.

// seedPreRequest is the seed's POST /pipeline/pre body.
type seedPreRequest struct {
	SessionID     string         `json:"sessionId"`
	AgentID       string         `json:"agentId"`
	ToolName      string         `json:"toolName"`
	Parameters    map[string]any `json:"parameters"`
	AffectedFiles []string       `json:"affectedFiles"`
}

// seedAction names an action as the seed did: allow was "auto".
func seedAction(a decision.Action) string {
	if a == decision.Allow {
		return "auto"
	}
	return a.String()
}

func (s *Server) seedPre(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	var req seedPreRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.SessionID == "" {
		req.SessionID = "http_session"
	}
	if req.AgentID == "" {
		req.AgentID = "http_agent"
	}
	cr := checkRequest{Tool: req.ToolName, Args: req.Parameters, Session: req.SessionID, Agent: req.AgentID}
	if cr.Args == nil {
		cr.Args = map[string]any{}
	}
	raw, err := cr.raw()
	if err != nil {
		return err
	}
	d, ref := s.decide(r.Context(), raw, "", false)
	d = s.snapshot(r.Context(), d, "")
	var snap any
	if s.opts.Pipeline != nil {
		if sn, err := s.opts.Pipeline.Snapshot(d.DecisionID); err == nil {
			files := 0
			for _, f := range sn.Files {
				if !f.Dir {
					files++
				}
			}
			snap = map[string]any{"id": sn.ID, "decisionId": sn.DecisionID, "files": files, "git": sn.Git, "truncated": sn.Truncated}
		}
	}
	schemaErrors := []string{}
	for _, rs := range d.Reasons {
		if rs.Gate == "schema" {
			schemaErrors = append(schemaErrors, rs.Message)
		}
	}
	out := map[string]any{
		"preExec": map[string]any{
			"schemaCheck": map[string]any{"pass": len(schemaErrors) == 0, "errors": schemaErrors},
			"riskScore":   map[string]any{"score": d.Risk.Score, "action": seedAction(d.Action), "dimensions": d.Risk.Dimensions},
		},
		// The snapshot stays on the server; post names it by decisionId.
		"snapshot": snap,
		"decision": d,
	}
	if ref != nil {
		out["approval"] = ref
	}
	return writeJSON(w, http.StatusOK, out)
}

// seedPostRequest is the seed's POST /pipeline/post body.
type seedPostRequest struct {
	ToolName         string          `json:"toolName"`
	SessionID        string          `json:"sessionId"`
	AgentID          string          `json:"agentId"`
	DecisionID       string          `json:"decisionId"`
	ToolParameters   map[string]any  `json:"toolParameters"`
	ToolResult       json.RawMessage `json:"toolResult"`
	Snapshot         json.RawMessage `json:"snapshot"`
	StartTime        int64           `json:"startTime"`
	EndTime          int64           `json:"endTime"`
	RetryCount       int             `json:"retryCount"`
	WasSelfCorrected bool            `json:"wasSelfCorrected"`
	HadTimeout       bool            `json:"hadTimeout"`
	UserAccepted     *bool           `json:"userAccepted"`
	UserProvidedEdit bool            `json:"userProvidedEdit"`
	ResultWasUsed    *bool           `json:"resultWasUsed"`
}

func (s *Server) seedPost(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	var req seedPostRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.ToolName == "" {
		return errorf(http.StatusBadRequest, "request.missing_field", "\"toolName\" is missing or empty")
	}
	if len(req.ToolName) > maxIDLen || len(req.SessionID) > maxIDLen || len(req.AgentID) > maxIDLen || len(req.DecisionID) > maxIDLen {
		return errorf(http.StatusBadRequest, "request.invalid_field", "toolName, sessionId, agentId and decisionId are at most %d bytes", maxIDLen)
	}
	if req.RetryCount < 0 || req.RetryCount > 1000 {
		return errorf(http.StatusBadRequest, "request.invalid_field", "\"retryCount\" must be 0 to 1000")
	}
	status := "ok"
	if req.HadTimeout {
		status = "timeout"
	}
	var dur int64
	if req.EndTime > 0 && req.StartTime > 0 && req.EndTime >= req.StartTime {
		dur = req.EndTime - req.StartTime
	}
	result := string(req.ToolResult)
	var str string
	if json.Unmarshal(req.ToolResult, &str) == nil {
		result = str
	}
	ev := audit.Event{Type: audit.TypeOutcome, DecisionID: req.DecisionID, Session: req.SessionID, Agent: req.AgentID, Tool: req.ToolName,
		Execution: &audit.Execution{Status: status, DurationMS: dur, Retries: req.RetryCount, Result: clipRedacted(result)}}
	enrich := func(e *evaluator.Event) {
		e.SelfCorrected, e.UserAccepted, e.ResultUsed = req.WasSelfCorrected, req.UserAccepted, req.ResultWasUsed
		edited := req.UserProvidedEdit
		e.UserEdited = &edited
	}
	ver, err := s.verifyOutcome(r.Context(), ev, req.ToolParameters, "", result, !req.HadTimeout, enrich)
	if err != nil {
		return err
	}
	s.m.outcomes.WithLabelValues(status).Inc()
	post := map[string]any{"verifyPassed": nil, "verifyStatus": "not_verified", "recorded": true}
	if ver != nil {
		post["verifyPassed"] = ver.Status != "fail"
		post["verifyStatus"] = ver.Status
		post["checks"] = ver.Checks
		post["rolledBack"] = ver.RolledBack
	}
	return writeJSON(w, http.StatusOK, map[string]any{"postExec": post})
}

func (s *Server) seedSessionEnd(w http.ResponseWriter, r *http.Request, c auth.Client) error {
	var req struct {
		SessionID string `json:"sessionId"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	return s.sessionEnd(w, r, req.SessionID, c)
}

func (s *Server) seedGetSchema(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	_, _, p := s.opts.Policy.Current()
	tool := r.URL.Query().Get("tool")
	if tool == "" {
		tools := p.Tools
		if tools == nil {
			tools = []policy.Tool{}
		}
		return writeJSON(w, http.StatusOK, map[string]any{"rules": tools})
	}
	for _, t := range p.Tools {
		if t.Tool == tool {
			return writeJSON(w, http.StatusOK, t)
		}
	}
	return errorf(http.StatusNotFound, "policy.no_schema", "the policy has no schema rule for %q", tool)
}

// seedPostSchema registers one of the seed's schema rules: it becomes (or
// replaces) the tool's entry in the policy, which is then checked,
// written and reloaded like any other policy change.
func (s *Server) seedPostSchema(w http.ResponseWriter, r *http.Request, c auth.Client) error {
	var rule map[string]any
	if err := decodeJSON(r, &rule); err != nil {
		return err
	}
	name, _ := rule["tool"].(string)
	if name == "" || len(name) > maxIDLen {
		return errorf(http.StatusBadRequest, "request.missing_field", "\"tool\" is missing or empty; send {\"tool\":\"delete_file\",\"required\":[\"path\"]}")
	}
	doc, err := json.Marshal(map[string]any{"schema": []any{normalizeValue(rule)}})
	if err != nil {
		return err
	}
	parsed, err := policy.ParseSeedRules("schema rule", doc)
	if err != nil {
		return errorf(http.StatusBadRequest, "policy.invalid", "the schema rule was refused: %v", err)
	}
	var tool *policy.Tool
	for i := range parsed.Tools {
		if parsed.Tools[i].Tool == name {
			tool = &parsed.Tools[i]
		}
	}
	if tool == nil {
		return errorf(http.StatusBadRequest, "policy.invalid", "the schema rule for %q produced no tool entry", name)
	}
	_, hash, p := s.opts.Policy.Current()
	tools := []policy.Tool{}
	replaced := false
	for _, t := range p.Tools {
		if t.Tool == name {
			t, replaced = mergeTool(t, *tool), true
		}
		tools = append(tools, t)
	}
	if !replaced {
		tools = append(tools, *tool)
	}
	tb, err := json.Marshal(tools)
	if err != nil {
		return err
	}
	var patch any
	if err := json.Unmarshal(tb, &patch); err != nil {
		return err
	}
	src, err := s.patched(map[string]any{"tools": patch})
	if err != nil {
		return err
	}
	rec := &discard{header: http.Header{}}
	if err := s.replacePolicy(rec, r, c, hash, src); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"ok": true, "tool": name})
}

// mergeTool keeps what the policy says about a tool (its kind, action)
// and takes the schema checks from the seed rule.
func mergeTool(old, rule policy.Tool) policy.Tool {
	rule.Kind = old.Kind
	if rule.Action == "" {
		rule.Action = old.Action
	}
	return rule
}

// discard is a ResponseWriter that drops what is written, for reusing a
// handler's work without its answer.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
