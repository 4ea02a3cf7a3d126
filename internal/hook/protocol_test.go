package hook

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/redact"

	"github.com/google/go-cmp/cmp"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// A PreToolUse event as Claude Code sends it.
const preToolUse = `{
  "session_id": "abc123",
  "transcript_path": "/home/u/.claude/projects/p/abc123.jsonl",
  "cwd": "/home/u/project",
  "permission_mode": "default",
  "hook_event_name": "PreToolUse",
  "tool_name": "Bash",
  "tool_input": {"command": "rm -rf /", "description": "clean", "timeout": 120000},
  "tool_use_id": "toolu_01ABC"
}`

func TestParseInput(t *testing.T) {
	got, err := ParseInput([]byte(preToolUse))
	if err != nil {
		t.Fatal(err)
	}
	want := Input{SessionID: "abc123", TranscriptPath: "/home/u/.claude/projects/p/abc123.jsonl", Cwd: "/home/u/project",
		PermissionMode: "default", HookEventName: EventPreToolUse, ToolName: "Bash",
		ToolInput: map[string]any{"command": "rm -rf /", "description": "clean", "timeout": float64(120000)}, ToolUseID: "toolu_01ABC"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PreToolUse (-want +got):\n%s", diff)
	}

	post := `{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Read","tool_input":{"file_path":"/a"},
		"tool_response":{"type":"text","file":{"content":"hi"}},"tool_use_id":"toolu_2","duration_ms":12.7,"new_field":[1]}`
	got, err = ParseInput([]byte(post))
	if err != nil {
		t.Fatal(err)
	}
	if got.ToolUseID != "toolu_2" || got.DurationMS != 12 || string(got.ToolResponse) != `{"type":"text","file":{"content":"hi"}}` {
		t.Errorf("PostToolUse: %+v", got)
	}

	got, err = ParseInput([]byte(`{"hook_event_name":"UserPromptSubmit","session_id":"s","prompt":"hello"}`))
	if err != nil || got.Prompt != "hello" {
		t.Errorf("UserPromptSubmit: %+v, %v", got, err)
	}

	// Events Sentinel does not answer are not checked beyond their name.
	got, err = ParseInput([]byte(`{"hook_event_name":"Stop","session_id":7,"tool_input":"x"}`))
	if err != nil || got.HookEventName != "Stop" {
		t.Errorf("Stop: %+v, %v", got, err)
	}
}

func TestParseInputErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "  \n", "stdin is empty"},
		{"not an object", `["PreToolUse"]`, "not a JSON object"},
		{"broken JSON", `{"hook_event_name":"PreToolUse",`, "not valid JSON"},
		{"two objects", `{"hook_event_name":"Stop"} {}`, "followed by more data"},
		{"no event name", `{"tool_name":"Bash","tool_input":{}}`, `"hook_event_name" is missing`},
		{"event name not a string", `{"hook_event_name":1}`, `"hook_event_name" is a number; want a string`},
		{"no tool name", `{"hook_event_name":"PreToolUse","tool_input":{}}`, `"tool_name" is missing`},
		{"empty tool name", `{"hook_event_name":"PreToolUse","tool_name":"","tool_input":{}}`, `"tool_name" is empty`},
		{"no tool input", `{"hook_event_name":"PreToolUse","tool_name":"Bash"}`, `"tool_input" is missing`},
		{"null tool input", `{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":null}`, `"tool_input" is missing`},
		{"tool input a string", `{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":"rm -rf /"}`, `"tool_input" is a string; want an object`},
		{"session a number", `{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{},"session_id":5}`, `"session_id" is a number`},
		{"tool_use_id too long", `{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{},"tool_use_id":"` + strings.Repeat("x", 300) + `"}`, "at most 256"},
		{"post without tool_use_id", `{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_response":{}}`, `"tool_use_id" is missing`},
		{"post duration a string", `{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"t","duration_ms":"5"}`, `"duration_ms" is a string`},
		{"prompt an object", `{"hook_event_name":"UserPromptSubmit","prompt":{}}`, `"prompt" is an object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseInput([]byte(tc.in))
			var he *Error
			if !errors.As(err, &he) || he.Code != CodeInputInvalid || !strings.Contains(he.Message, tc.want) {
				t.Errorf("got %v; want %s containing %q", err, CodeInputInvalid, tc.want)
			}
		})
	}
	_, err := ParseInput(make([]byte, MaxInput+1))
	var he *Error
	if !errors.As(err, &he) || he.Code != CodeInputTooLarge {
		t.Errorf("oversized input: %v", err)
	}
}

func TestOutputShapes(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  Output
		want string
	}{
		{"nothing to say", Output{}, "{}\n"},
		{"deny", Output{&SpecificOutput{HookEventName: EventPreToolUse, PermissionDecision: PermissionDeny, PermissionDecisionReason: "no <way> & no"}},
			`{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"no <way> & no"}}` + "\n"},
		{"post warning", Output{&SpecificOutput{HookEventName: EventPostToolUse, AdditionalContext: "careful"}},
			`{"hookSpecificOutput":{"hookEventName":"PostToolUse","additionalContext":"careful"}}` + "\n"},
	} {
		got := string(tc.out.Encode())
		if got != tc.want {
			t.Errorf("%s: got %s want %s", tc.name, got, tc.want)
		}
		// The shape round-trips through Claude Code's field names.
		var back Output
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.out, back); diff != "" {
			t.Errorf("%s: round trip (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestPreToolUseOutput(t *testing.T) {
	rm := decision.Reason{Gate: "command", Code: "command.recursive_delete_root", Message: "deletes the root directory.",
		Alternative: "delete the directory you mean"}
	push := decision.Reason{Gate: "command", Code: "command.force_push", Message: "rewrites shared history"}
	note := decision.Reason{Gate: "egress", Code: "egress.send_unknown", Message: "sends data to an unlisted host"}
	for _, tc := range []struct {
		name     string
		v        Verdict
		decision string
		reason   []string
	}{
		{"allow", Verdict{Action: decision.Allow}, PermissionAllow, []string{"Sentinel allowed this call"}},
		{"notify", Verdict{Action: decision.Notify, Reasons: []decision.Reason{note}}, PermissionAllow,
			[]string{"noted", "sends data to an unlisted host (egress.send_unknown)."}},
		{"confirm", Verdict{Action: decision.Confirm, Reasons: []decision.Reason{push}}, PermissionAsk,
			[]string{"confirmation", "rewrites shared history (command.force_push)."}},
		{"confirm with approval", Verdict{Action: decision.Confirm, Reasons: []decision.Reason{push}, ApprovalID: "ap_123"}, PermissionAsk,
			[]string{"command.force_push", "Approval ap_123 is also pending", "sentinel approvals approve ap_123"}},
		{"deny", Verdict{Action: decision.Deny, Reasons: []decision.Reason{rm, push}}, PermissionDeny,
			[]string{"refused", "deletes the root directory (command.recursive_delete_root).", "Instead: delete the directory you mean", "1 more reason"}},
		{"deny without reasons", Verdict{Action: decision.Deny}, PermissionDeny, []string{"refused"}},
		{"unknown action", Verdict{Action: decision.Action(9)}, PermissionDeny, []string{"refused"}},
		{"negative action", Verdict{Action: decision.Action(-1)}, PermissionDeny, []string{"refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := PreToolUseOutput(tc.v).HookSpecificOutput
			if o.HookEventName != EventPreToolUse || o.PermissionDecision != tc.decision {
				t.Fatalf("got %+v, want %s", o, tc.decision)
			}
			for _, s := range tc.reason {
				if !strings.Contains(o.PermissionDecisionReason, s) {
					t.Errorf("reason %q lacks %q", o.PermissionDecisionReason, s)
				}
			}
		})
	}
}

func TestReasonIsCleaned(t *testing.T) {
	secret := "ghp_" + "Xk9fQ2mLr7TzW4vB8nYc3HdJ6pGs1aUe5RtK"
	v := Verdict{Action: decision.Deny, Reasons: []decision.Reason{{Code: "rule.x", Message: "token " + secret + "\nsecond line\u200b" + strings.Repeat("x", 2000)}}}
	r := PreToolUseOutput(v).HookSpecificOutput.PermissionDecisionReason
	if strings.Contains(r, secret) || !strings.Contains(r, "[REDACTED:github-pat]") {
		t.Errorf("the secret is not redacted: %q", r[:80])
	}
	if strings.ContainsAny(r, "\n\u200b") {
		t.Errorf("control or invisible characters remain: %q", r[:80])
	}
	if len(r) > maxReasonLen+len("…") {
		t.Errorf("reason is %d bytes", len(r))
	}
}

// TestMayHoldSecretIsSafe holds the fast path to the redactor: every text
// the redactor changes must pass the cheap test. It runs over the secrets
// corpus (every row the redactor flags) when it is there, and over fixed
// examples.
func TestMayHoldSecretIsSafe(t *testing.T) {
	texts := []string{
		"aws_access_key_id = AKIAZ3MSJV4WCO7SUBAR", "password: hunter2hunter2", "Authorization: Bearer abc.def.ghi",
		"https://user:pw@host.example/x", "ghp_0123456789abcdefghijABCDEFGHIJ012345",
	}
	if f, err := os.Open(filepath.Join("..", "..", "..", "shared", "corpus", "secrets", "gitleaks_rule_examples.jsonl")); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		for sc.Scan() {
			var row struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &row) == nil {
				texts = append(texts, row.Text)
			}
		}
		f.Close()
	}
	checked := 0
	for _, s := range texts {
		if red, fs := redact.Text(s); len(fs) > 0 || red != s {
			checked++
			if !mayHoldSecret(s) {
				t.Errorf("the redactor finds a secret in %q, but mayHoldSecret says no", s)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d texts with secrets checked", checked)
	}
	for _, s := range []string{"recursive delete of / is refused; delete specific paths inside the workspace", "risk score 7.50 is above the notify threshold"} {
		if mayHoldSecret(s) {
			t.Errorf("%q takes the slow path", s)
		}
	}
}
