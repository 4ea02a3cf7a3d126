package hook

import (
	"encoding/json"
	"testing"
)

func FuzzParseInput(f *testing.F) {
	for _, s := range []string{
		preToolUse,
		`{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_use_id":"t","tool_response":{"stdout":"x"},"duration_ms":3}`,
		`{"hook_event_name":"UserPromptSubmit","prompt":"hi"}`,
		`{"hook_event_name":"Stop"}`,
		`{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":"x"}`,
		`[]`, ``, `{"a":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ParseInput(data)
		if err != nil {
			return
		}
		switch in.HookEventName {
		case EventPreToolUse:
			if in.ToolName == "" || in.ToolInput == nil {
				t.Fatalf("a PreToolUse event without a tool was accepted: %q", data)
			}
		case EventPostToolUse:
			if in.ToolName == "" || in.ToolUseID == "" {
				t.Fatalf("a PostToolUse event without a tool was accepted: %q", data)
			}
		}
		_ = ScanJSON(in.ToolResponse)
	})
}

func FuzzInstall(f *testing.F) {
	for _, s := range []string{existing, `{}`, ``, `{"hooks":{"PreToolUse":[1,{"hooks":"x"},{"hooks":[{"type":"command","command":"sentinel hook claude-code"}]}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, _, err := Install(data, cmdA)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("install wrote invalid JSON from %q:\n%s", data, out)
		}
		again, cs, err := Install(out, cmdA)
		if err != nil || string(again) != string(out) || changed(cs) {
			t.Fatalf("install is not idempotent on %q: %v %v", data, cs, err)
		}
		if _, _, err := Uninstall(out, ""); err != nil {
			t.Fatalf("uninstall refused what install wrote: %v", err)
		}
	})
}
