package hook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/redact"
)

// The hook events Sentinel answers. Other events get an empty answer.
const (
	EventPreToolUse       = "PreToolUse"
	EventPostToolUse      = "PostToolUse"
	EventUserPromptSubmit = "UserPromptSubmit"
)

// Limits on what a hook reads.
const (
	// MaxInput bounds the event read from stdin.
	MaxInput = 8 << 20
	// MaxIDLen bounds session_id, tool_use_id and tool_name, as the
	// server bounds its identifiers.
	MaxIDLen = 256
	// maxReasonLen bounds the reason text shown to the model or the user.
	maxReasonLen = 1000
)

// Error codes of the errors ParseInput returns.
const (
	CodeInputTooLarge = "hook.input_too_large"
	CodeInputInvalid  = "hook.input_invalid"
)

// Error is a failure with a stable machine code.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func invalid(format string, args ...any) error {
	return &Error{Code: CodeInputInvalid, Message: fmt.Sprintf(format, args...)}
}

// Input is one hook event as Claude Code sends it on stdin. Fields an
// event does not carry stay empty.
type Input struct {
	SessionID      string
	TranscriptPath string
	Cwd            string
	PermissionMode string
	HookEventName  string

	// PreToolUse and PostToolUse.
	ToolName  string
	ToolInput map[string]any
	ToolUseID string

	// PostToolUse.
	ToolResponse json.RawMessage
	DurationMS   int64

	// UserPromptSubmit.
	Prompt string
}

// ParseInput reads one event. It refuses input over MaxInput, anything but
// exactly one JSON object, an event without a name, and fields the event
// needs that are missing or of the wrong type. Fields it does not know are
// ignored, so that a newer Claude Code's additions do not break the hook;
// the fields of events it does not answer are not checked at all.
func ParseInput(data []byte) (Input, error) {
	if len(data) > MaxInput {
		return Input{}, &Error{Code: CodeInputTooLarge, Message: fmt.Sprintf("the event is larger than %d bytes", MaxInput)}
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return Input{}, invalid("stdin is empty; Claude Code sends one JSON object per hook call")
	}
	if data[0] != '{' {
		return Input{}, invalid("the event is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return Input{}, invalid("the event is not valid JSON: %v", err)
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return Input{}, invalid("the event is followed by more data; send exactly one JSON object")
	}
	f := fieldReader{m: fields}
	var in Input
	in.HookEventName = f.str("hook_event_name", true, 64)
	if f.err != nil {
		return Input{}, f.err
	}
	switch in.HookEventName {
	case EventPreToolUse, EventPostToolUse, EventUserPromptSubmit:
	default:
		return in, nil
	}
	in.SessionID = f.str("session_id", false, MaxIDLen)
	in.TranscriptPath = f.str("transcript_path", false, 4096)
	in.Cwd = f.str("cwd", false, 4096)
	in.PermissionMode = f.str("permission_mode", false, 64)
	switch in.HookEventName {
	case EventPreToolUse:
		in.ToolName = f.str("tool_name", true, MaxIDLen)
		in.ToolInput = f.object("tool_input", true)
		in.ToolUseID = f.str("tool_use_id", false, MaxIDLen)
	case EventPostToolUse:
		in.ToolName = f.str("tool_name", true, MaxIDLen)
		in.ToolInput = f.object("tool_input", false)
		in.ToolUseID = f.str("tool_use_id", true, MaxIDLen)
		if r, ok := fields["tool_response"]; ok && !isNull(r) {
			in.ToolResponse = r
		}
		in.DurationMS = f.duration("duration_ms")
	case EventUserPromptSubmit:
		in.Prompt = f.str("prompt", false, MaxInput)
	}
	if f.err != nil {
		return Input{}, f.err
	}
	return in, nil
}

// fieldReader reads typed fields and keeps the first error.
type fieldReader struct {
	m   map[string]json.RawMessage
	err error
}

func isNull(r json.RawMessage) bool { return string(bytes.TrimSpace(r)) == "null" }

func (f *fieldReader) raw(name string, required bool) (json.RawMessage, bool) {
	if f.err != nil {
		return nil, false
	}
	r, ok := f.m[name]
	if !ok || isNull(r) {
		if required {
			f.err = invalid("%q is missing", name)
		}
		return nil, false
	}
	return r, true
}

func (f *fieldReader) str(name string, required bool, max int) string {
	r, ok := f.raw(name, required)
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		f.err = invalid("%q is %s; want a string", name, jsonType(r))
		return ""
	}
	switch {
	case required && s == "":
		f.err = invalid("%q is empty", name)
	case len(s) > max:
		f.err = invalid("%q is %d bytes; at most %d", name, len(s), max)
	}
	return s
}

func (f *fieldReader) object(name string, required bool) map[string]any {
	r, ok := f.raw(name, required)
	if !ok {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(r, &m); err != nil || m == nil {
		f.err = invalid("%q is %s; want an object", name, jsonType(r))
		return nil
	}
	return m
}

func (f *fieldReader) duration(name string) int64 {
	r, ok := f.raw(name, false)
	if !ok {
		return 0
	}
	var v float64
	if err := json.Unmarshal(r, &v); err != nil {
		f.err = invalid("%q is %s; want a number of milliseconds", name, jsonType(r))
		return 0
	}
	if v < 0 {
		return 0
	}
	if v > 1<<53 {
		return 1 << 53
	}
	return int64(v)
}

// jsonType names the type of a JSON value for messages.
func jsonType(r json.RawMessage) string {
	r = bytes.TrimSpace(r)
	if len(r) == 0 {
		return "empty"
	}
	switch r[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// Output is a hook's answer on stdout. The zero Output encodes as {},
// which tells Claude Code to carry on as if there were no hook.
type Output struct {
	HookSpecificOutput *SpecificOutput `json:"hookSpecificOutput,omitempty"`
}

// SpecificOutput is the event-specific part of an answer.
type SpecificOutput struct {
	HookEventName string `json:"hookEventName"`
	// PreToolUse: allow, deny or ask, and the reason shown to the model
	// (deny) or the user (allow, ask).
	PermissionDecision       string `json:"permissionDecision,omitempty"`
	PermissionDecisionReason string `json:"permissionDecisionReason,omitempty"`
	// PostToolUse and UserPromptSubmit: text added to the model's context.
	AdditionalContext string `json:"additionalContext,omitempty"`
}

// Permission decisions.
const (
	PermissionAllow = "allow"
	PermissionDeny  = "deny"
	PermissionAsk   = "ask"
)

// Encode returns the answer as one line of JSON.
func (o Output) Encode() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(o); err != nil {
		// Only strings and pointers to them: encoding cannot fail.
		panic(err)
	}
	return b.Bytes()
}

// Verdict is what Sentinel decided about a call, from the kernel or the
// server.
type Verdict struct {
	Action decision.Action
	// Reasons are strictest first: the first one decided.
	Reasons []decision.Reason
	// ApprovalID names the approval the server opened for a confirm.
	ApprovalID string
}

// PreToolUseOutput maps a verdict to Claude Code's answer: allow and
// notify let the call run, confirm asks Claude Code's user, deny refuses
// with a reason the model can act on. An action outside the four is a
// refusal.
func PreToolUseOutput(v Verdict) Output {
	o := &SpecificOutput{HookEventName: EventPreToolUse}
	var first decision.Reason
	if len(v.Reasons) > 0 {
		first = v.Reasons[0]
	}
	switch v.Action {
	case decision.Allow:
		o.PermissionDecision = PermissionAllow
		o.PermissionDecisionReason = "Sentinel allowed this call"
	case decision.Notify:
		o.PermissionDecision = PermissionAllow
		o.PermissionDecisionReason = "Sentinel allowed this call and noted: " + because(first, "nothing specific")
	case decision.Confirm:
		o.PermissionDecision = PermissionAsk
		o.PermissionDecisionReason = "Sentinel asks for a human's confirmation: " + because(first, "the policy holds this call for a human")
		if v.ApprovalID != "" {
			o.PermissionDecisionReason += fmt.Sprintf(" Approval %s is also pending on the Sentinel server (sentinel approvals approve %s).",
				printable(v.ApprovalID, MaxIDLen), printable(v.ApprovalID, MaxIDLen))
		}
	default:
		o.PermissionDecision = PermissionDeny
		msg := "Sentinel refused this call: " + because(first, "the policy refuses it")
		if first.Alternative != "" {
			msg += " Instead: " + clean(first.Alternative, maxReasonLen/2)
		}
		if n := len(v.Reasons) - 1; n > 0 {
			msg += fmt.Sprintf(" (%d more reason%s in the audit log.)", n, plural(n))
		}
		o.PermissionDecisionReason = msg
	}
	// Only the verdict's text went through clean: the rest is ours, and
	// the first redaction compiles the rules (about 13 ms), which the
	// plain allow answer of a short-lived hook process should not pay.
	o.PermissionDecisionReason = printable(o.PermissionDecisionReason, maxReasonLen)
	return Output{HookSpecificOutput: o}
}

// because renders a reason as "message (code)", or def when there is none.
func because(r decision.Reason, def string) string {
	msg := strings.TrimSpace(clean(r.Message, maxReasonLen))
	if msg == "" {
		msg = def
	}
	msg = strings.TrimSuffix(msg, ".")
	if r.Code != "" {
		// Codes are machine names ("command.force_push"), not text that
		// could carry a credential.
		return msg + " (" + printable(r.Code, MaxIDLen) + ")."
	}
	return msg + "."
}

// clean makes text safe to show: secrets redacted, control characters
// replaced, valid UTF-8, at most max bytes.
func clean(s string, max int) string {
	if s == "" {
		return ""
	}
	if mayHoldSecret(s) {
		s, _ = redact.Text(strings.ToValidUTF8(s, "\uFFFD"))
	}
	return printable(s, max)
}

// credentialWords are in every context a credential rule matches by its
// surroundings (a key name, a header, a URL's user part, a PEM block).
var credentialWords = []string{"key", "token", "secret", "pass", "pwd", "bearer", "auth", "cred", "://", "-----begin", "session",
	"cookie", "sig", "user", "access", "api", "private", "client", "login", "--data", "-d "}

// mayHoldSecret is a cheap test that lets most reason texts skip the
// redactor, whose rule set costs a hook process ~3 ms to build: a
// credential is either a token of at least 12 token characters or a value
// next to one of credentialWords. Texts with neither hold nothing the
// redactor would find.
func mayHoldSecret(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-+/=.~", c) >= 0 {
			run++
			if run >= 12 {
				return true
			}
		} else {
			run = 0
		}
	}
	lower := strings.ToLower(s)
	for _, w := range credentialWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// printable replaces control characters, makes s valid UTF-8 and cuts it
// to at most max bytes; it redacts nothing.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || isHidden(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
