package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzHandlers sends arbitrary bodies to every route that reads one: the
// answer is never a 5xx, always JSON, and a 200 from /v1/check always
// carries an action.
func FuzzHandlers(f *testing.F) {
	for _, s := range []string{
		`{"tool":"Bash","args":{"command":"ls"}}`,
		`{"tool":"Bash","args":{"command":"rm -rf /"},"session":"s","agent":"a"}`,
		`{"tool":"Write","args":{"file_path":"a.go","content":"x"},"approval_id":"ap_00000000000000000000"}`,
		`{"decision_id":"d_1","status":"ok","duration_ms":5}`,
		`{"toolName":"exec","parameters":{"command":"npm test"}}`,
		`{"base_hash":"sha256:00","patch":{"risk":{"thresholds":{"deny":9}}}}`,
		`{"tool":"x","required":["path"]}`,
		`{"reason":"ok","grant":"1h"}`,
		`[]`, `null`, `{"tool":1e999}`, `{"args":{"a":{"b":{"c":[[[[]]]]}}}}`,
	} {
		for i := range fuzzRoutes {
			f.Add(uint8(i), []byte(s))
		}
	}
	fx := newFixture(&testing.T{})
	h := fx.srv.Handler()
	token := fx.tokens["admin"]
	agent := fx.tokens["agent"]
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		req := httptest.NewRequest(rt.method, rt.path, bytes.NewReader(body))
		tok := token
		if rt.path == "/v1/check" || rt.path == "/v1/outcome" {
			tok = agent
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: status %d: %s", rt.method, rt.path, body, rec.Code, rec.Body.Bytes())
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s %q: answer is not a JSON object: %v: %s", rt.method, rt.path, body, err, rec.Body.Bytes())
		}
		if rec.Code == http.StatusOK && rt.path == "/v1/check" {
			if a, _ := out["action"].(string); a == "" {
				t.Fatalf("check %q: 200 without an action: %s", body, rec.Body.Bytes())
			}
		}
		if rec.Code != http.StatusOK && errCode(out) == "" {
			t.Fatalf("%s %s %q: %d without an error code: %s", rt.method, rt.path, body, rec.Code, rec.Body.Bytes())
		}
	})
}

var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/v1/check"},
	{"POST", "/v1/outcome"},
	{"POST", "/pipeline/pre"},
	{"POST", "/pipeline/post"},
	{"PATCH", "/v1/policy"},
	{"PUT", "/v1/policy"},
	{"POST", "/guard/schema"},
	{"POST", "/v1/approvals/ap_00000000000000000000/approve"},
	{"POST", "/session/end"},
}
