package mcpguard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/mcpguard/pin"
	"github.com/sentinel-agent/sentinel/internal/redact"
	"github.com/sentinel-agent/sentinel/internal/request"
	"github.com/sentinel-agent/sentinel/internal/spotlight"
)

// MetaKey names the machine-readable refusal in a refused result's _meta:
// {"action": "deny", "codes": [...], "decision_id": "d_…"}.
const MetaKey = "dev.sentinel/refusal"

// maxShownReasons bounds the reasons a refusal lists.
const maxShownReasons = 8

// callTool guards one tools/call: the tool must be listed under its
// approved definition, and the kernel must allow the call (or the user
// confirm it). Anything else is a refused result; the upstream sees only
// calls that passed.
func (s *session) callTool(ctx context.Context, req *mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
	p := s.p
	name := req.Params.Name
	full := p.toolName(clip(name, pin.MaxToolLen))
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("internal error guarding a tool call; refused", "tool", full, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			res, err = refusal(full, "deny", "", []decision.Reason{{Code: CodeInternal, Message: "an internal error occurred; the call is refused"}}), nil
		}
	}()
	if !pin.ValidTool(name) {
		return s.refuseTool(ctx, full, CodeToolUnknown, "no tool of this name is listed", ""), nil
	}
	v, err := s.verdict(ctx, name)
	if err != nil {
		p.log.Error("tool list unavailable; call refused", "tool", full, "error", err)
		return s.refuseTool(ctx, full, CodePinUnavailable, "Sentinel could not check this tool's definition, so the call is refused", err.Error()), nil
	}
	if v == nil {
		return s.refuseTool(ctx, full, CodeToolUnknown, "the server does not list a tool of this name", ""), nil
	}
	if v.Check.Problem != "" || v.Code == CodeToolDuplicate {
		return s.refuseTool(ctx, full, v.Code, "the server's definition of this tool cannot be checked, so it is not callable", v.Check.Detail), nil
	}
	// The store, not the listing, has the last word: an operator may have
	// approved the definition since.
	approved, err := p.approvedPin(ctx, name, v.Check.Hash)
	if err != nil {
		p.log.Error("pin store unavailable; call refused", "tool", full, "error", err)
		return s.refuseTool(ctx, full, CodePinUnavailable, "Sentinel could not read this tool's pin, so the call is refused", err.Error()), nil
	}
	if approved == "" || approved != v.Check.Hash {
		code := CodeToolChanged
		msg := "this tool's definition changed since it was approved"
		if approved == "" {
			code, msg = CodeToolFlagged, "this tool's definition carries instructions or hidden text aimed at the model"
		}
		return s.refuseTool(ctx, full, code, msg+"; it is withheld until an operator approves it (sentinel mcp pins approve "+p.opts.Name+" "+name+")",
			"seen "+v.Check.Hash+" approved "+orNone(approved)), nil
	}
	args, fwdArgs, err := decodeArgs(req.Params.Arguments)
	if err != nil {
		return s.refuseTool(ctx, full, CodeBadArguments, "the arguments must be a JSON object", err.Error()), nil
	}
	d := p.opts.Decider.Decide(ctx, request.Raw{Tool: full, Args: args, Session: s.id, Agent: s.agent})
	switch d.Action {
	case decision.Allow:
	case decision.Notify:
		p.log.Warn("mcp call allowed with notice", "tool", full, "session", s.id, "decision", d.DecisionID, "codes", strings.Join(codes(d.Reasons), ","))
	case decision.Confirm:
		if r := s.confirm(ctx, full, req.Params.Arguments, d); r != nil {
			return r, nil
		}
	default:
		p.log.Info("mcp call denied", "tool", full, "session", s.id, "decision", d.DecisionID, "codes", strings.Join(codes(d.Reasons), ","))
		return refusal(full, d.Action.String(), d.DecisionID, d.Reasons), nil
	}
	res, err = s.up.CallTool(ctx, &mcp.CallToolParams{Meta: req.Params.Meta, Name: name, Arguments: fwdArgs})
	if err == nil && res != nil && p.opts.Spotlight != "" {
		spotlightResult(res, full, p.opts.Spotlight == SpotlightMark)
	}
	return res, err
}

// Spotlight modes (Options.Spotlight).
const (
	SpotlightWrap = "wrap"
	SpotlightMark = "mark"
)

// spotlightResult wraps each text the upstream returned between random
// boundaries with a note that it is data from the tool, not instructions
// (and with datamarking in mark mode), so that instructions inside it read
// as data to the model.
func spotlightResult(res *mcp.CallToolResult, tool string, mark bool) {
	for _, c := range res.Content {
		tc, ok := c.(*mcp.TextContent)
		if !ok {
			continue
		}
		if mark {
			tc.Text = spotlight.WrapMarked(tool, tc.Text)
		} else {
			tc.Text = spotlight.Wrap(tool, tc.Text)
		}
	}
}

// pinTTL is how long a call trusts the approved hash an earlier call of
// the same tool read from the store. An approval only ever moves a tool to
// a definition an operator reviewed, so a remembered match is at worst a
// definition that was approved until a moment ago; a mismatch is never
// remembered. Reading the pin was most of what the proxy added to a call
// (p50 83 µs, p99 270 µs of SQLite per call).
const pinTTL = time.Second

// pinRead is an approved hash and when it was read.
type pinRead struct {
	approved string
	at       time.Time
}

// approvedPin returns the approved hash of the tool's pin: the one read
// less than pinTTL ago when it matches want, else the store's.
func (p *Proxy) approvedPin(ctx context.Context, tool, want string) (string, error) {
	now := p.opts.Now()
	p.pinMu.Lock()
	r, ok := p.approved[tool]
	p.pinMu.Unlock()
	if ok && r.approved == want && now.Sub(r.at) >= 0 && now.Sub(r.at) < pinTTL {
		return r.approved, nil
	}
	cur, err := p.opts.Pins.GetPin(ctx, p.opts.Name, tool)
	if err != nil {
		return "", err
	}
	p.pinMu.Lock()
	if p.approved == nil {
		p.approved = map[string]pinRead{}
	}
	if cur.Approved != "" && cur.Approved == want {
		p.approved[tool] = pinRead{approved: cur.Approved, at: now}
	} else {
		delete(p.approved, tool)
	}
	p.pinMu.Unlock()
	return cur.Approved, nil
}

// refuseTool refuses a call the kernel never saw and records why.
func (s *session) refuseTool(ctx context.Context, full, code, msg, detail string) *mcp.CallToolResult {
	ev := toolEvent(full, decision.Deny, code, msg, detail)
	ev.Session, ev.Agent = s.id, s.agent
	if err := s.p.record(ctx, ev); err != nil {
		s.p.log.Error("refusal not recorded in the audit log", "tool", full, "error", err)
	}
	s.p.log.Info("mcp call refused", "tool", full, "session", s.id, "code", code)
	return refusal(full, "deny", ev.DecisionID, []decision.Reason{{Code: code, Message: msg}})
}

// decodeArgs reads the call's arguments (a JSON object, or nothing) for
// the kernel, and returns what is forwarded: the same parse re-encoded,
// so that the upstream sees exactly what was decided. A duplicate key or
// invalid UTF-8, which parsers resolve differently, cannot then smuggle a
// second value past the decision. Numbers keep their literal form.
func decodeArgs(raw json.RawMessage) (map[string]any, json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return map[string]any{}, json.RawMessage("{}"), nil
	}
	if raw[0] != '{' {
		return nil, nil, errors.New("not a JSON object")
	}
	var decided map[string]any
	if err := json.Unmarshal(raw, &decided); err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var exact map[string]any
	if err := dec.Decode(&exact); err != nil {
		return nil, nil, err
	}
	fwd, err := marshal(exact)
	if err != nil {
		return nil, nil, err
	}
	return decided, fwd, nil
}

// confirmSchema offers a yes/no box. Accepting is the user's yes, unless
// they answered the box with no; declining or cancelling is a no.
var confirmSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"confirm": map[string]any{"type": "boolean", "title": "Run this call?"},
	},
}

// confirm asks the client's user about a call the kernel holds for
// confirmation. It returns nil when the user approved, else the refused
// result. The answer is recorded in the audit log; an answer that cannot
// be recorded is a refusal.
func (s *session) confirm(ctx context.Context, full string, rawArgs json.RawMessage, d decision.Decision) *mcp.CallToolResult {
	p := s.p
	ip := s.ss.InitializeParams()
	if ip == nil || ip.Capabilities == nil || ip.Capabilities.Elicitation == nil {
		return refusal(full, "confirm", d.DecisionID, append([]decision.Reason{{Code: CodeConfirmNoClient,
			Message: "this call needs a human's confirmation and the client cannot ask for one (it does not support elicitation)"}}, d.Reasons...))
	}
	ectx, cancel := context.WithTimeout(ctx, p.opts.ConfirmTimeout)
	defer cancel()
	res, err := s.ss.Elicit(ectx, &mcp.ElicitParams{Mode: "form", Message: confirmMessage(full, rawArgs, d), RequestedSchema: confirmSchema})
	approved := err == nil && res != nil && res.Action == "accept" && res.Content["confirm"] != false
	status, reason := "denied", ""
	switch {
	case approved:
		status = "approved"
	case err != nil:
		reason = "asking the user failed: " + clip(err.Error(), 200)
	default:
		reason = "the user answered " + clip(res.Action, 20)
	}
	ev := audit.Event{Type: audit.TypeOutcome, DecisionID: d.DecisionID, Session: s.id, Agent: s.agent, Tool: full, Kind: "mcp",
		Approval: &audit.Approval{Status: status, Approver: "mcp-client:" + s.agent, Reason: reason, Time: audit.FormatTime(p.opts.Now())}}
	if rerr := p.record(ctx, ev); rerr != nil {
		p.log.Error("confirmation not recorded in the audit log; call refused", "tool", full, "error", rerr)
		return refusal(full, "deny", d.DecisionID, []decision.Reason{{Code: "audit.unavailable",
			Message: "the audit log could not record the confirmation, so the call is refused"}})
	}
	if approved {
		p.log.Info("mcp call confirmed by the user", "tool", full, "session", s.id, "decision", d.DecisionID)
		return nil
	}
	code, msg := CodeConfirmDeclined, "the user did not confirm this call"
	if err != nil {
		code, msg = CodeConfirmFailed, "the user could not be asked to confirm this call"
		p.log.Warn("elicitation failed; call refused", "tool", full, "error", err)
	}
	return refusal(full, "confirm", d.DecisionID, append([]decision.Reason{{Code: code, Message: msg}}, d.Reasons...))
}

// confirmMessage is what the user is asked: the tool, why, and the
// arguments with secrets redacted, clipped.
func confirmMessage(full string, rawArgs json.RawMessage, d decision.Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Sentinel asks you to confirm a call of %s.\n", full)
	for i, r := range d.Reasons {
		if i == maxShownReasons {
			break
		}
		if r.Action >= decision.Confirm {
			fmt.Fprintf(&b, "- %s: %s\n", r.Code, r.Message)
		}
	}
	if len(rawArgs) > 0 {
		red, _, err := redact.JSON(rawArgs)
		if err != nil {
			red = []byte("(arguments not shown: not valid JSON)")
		}
		fmt.Fprintf(&b, "Arguments: %s", clip(string(red), 2048))
	}
	return b.String()
}

// refusal is the normal, isError result a refused call gets: the model
// reads why and can adapt.
func refusal(full, action, decisionID string, reasons []decision.Reason) *mcp.CallToolResult {
	var b strings.Builder
	fmt.Fprintf(&b, "Sentinel refused this call to %s (%s", full, action)
	if decisionID != "" {
		fmt.Fprintf(&b, ", decision %s", decisionID)
	}
	b.WriteString("):")
	shown := 0
	for _, r := range reasons {
		if r.Action < decision.Confirm && r.Gate != "" {
			continue // the kernel's lesser reasons say nothing about the refusal
		}
		if shown == maxShownReasons {
			break
		}
		shown++
		fmt.Fprintf(&b, "\n- %s: %s", r.Code, r.Message)
		if r.Alternative != "" {
			fmt.Fprintf(&b, " Instead: %s", r.Alternative)
		}
	}
	return &mcp.CallToolResult{
		IsError: true,
		Content: []mcp.Content{&mcp.TextContent{Text: b.String()}},
		Meta:    mcp.Meta{MetaKey: map[string]any{"action": action, "codes": codes(reasons), "decision_id": decisionID}},
	}
}

func codes(rs []decision.Reason) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}
