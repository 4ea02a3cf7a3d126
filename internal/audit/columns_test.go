package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// referenceColumns decodes the column fields with encoding/json: what
// bodyColumns must agree with.
func referenceColumns(b []byte) (columns, error) {
	var full struct {
		columns
		Decision *struct {
			Action string `json:"action"`
			Risk   struct {
				Score float64 `json:"score"`
			} `json:"risk"`
		} `json:"decision"`
		Verify *struct {
			Status string `json:"status"`
		} `json:"verify"`
	}
	err := json.Unmarshal(b, &full)
	c := full.columns
	if full.Decision != nil {
		c.Action, c.Risk = full.Decision.Action, full.Decision.Risk.Score
	}
	if full.Verify != nil {
		c.Verify = full.Verify.Status
	}
	return c, err
}

func FuzzBodyColumns(f *testing.F) {
	f.Add("s1", "exec", `{"command":"ls"}`, "allow", 0.12, "pass", "a \"quoted\" <tag> é")
	f.Add("", "Bash", `{"x":1,"decision":{"action":"allow","risk":{"score":9}},"verify":{"status":"pass"}}`, "", 0.0, "", "")
	f.Add("s\\n", "t", `[1,"}",{"a":[]},null,true,-1.5e3]`, "deny", 13.5, "fail", "\u2028\x01")
	f.Fuzz(func(t *testing.T, session, tool, args, action string, risk float64, verify, reason string) {
		e := Event{ID: "e_1", Time: time.Date(2026, 11, 21, 15, 4, 5, 123456789, time.UTC).Format(time.RFC3339Nano),
			Type: TypeDecision, Session: session, Agent: reason, Tool: tool, Kind: "exec", PolicyRevision: reason}
		if json.Valid([]byte(args)) {
			e.Args = json.RawMessage(args)
		}
		if action != "" {
			e.Decision = &Decision{Action: action, Risk: Risk{Score: risk, Impact: risk}, Reasons: []Reason{{Gate: "g", Code: "c", Action: action, Message: reason}}}
		}
		if verify != "" {
			e.Verify = &Verify{Status: verify}
		}
		body, err := e.Seal(1, "")
		if err != nil {
			return // not encodable (a NaN risk): never stored
		}
		want, werr := referenceColumns(body)
		got, gerr := bodyColumns(body)
		if werr != nil || gerr != nil {
			t.Fatalf("decoding %s: reference %v, bodyColumns %v", body, werr, gerr)
		}
		if got != want {
			t.Fatalf("body %s:\n got %+v\nwant %+v", body, got, want)
		}
	})
}

func TestBodyColumnsRefusesBrokenBodies(t *testing.T) {
	e := sampleEvent(1)
	e.Time = "2026-11-21T15:04:05Z"
	body, err := e.Seal(1, "")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bodyColumns(body); err != nil || c.Session != "s1" || c.Action != "allow" || c.Risk != 0.12 {
		t.Fatalf("bodyColumns(sample) = %+v, %v", c, err)
	}
	for _, bad := range []string{
		"", "{", `{"id":"x"`, `{"id":"x}`, `{"id":x}`, `{"decision":{"action":1}}`, `{"decision":{"risk":{"score":"x"}}}`,
		`{"id":"x"} tail`, `{"a":[1,2}`, `["id"]`, string(body[:len(body)/2]),
	} {
		if _, err := bodyColumns([]byte(bad)); err == nil {
			t.Errorf("bodyColumns(%q) accepted a broken body", bad)
		}
	}
	if _, err := bodyColumns([]byte(strings.Repeat("[", 10000))); err == nil {
		t.Error("an unterminated nest was accepted")
	}
}
