package server

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkCheckHandler runs POST /v1/check in process (no network): auth,
// decoding, the kernel, the audit record (batch mode, real SQLite) and
// the answer. Bodies vary so that the decision cache answers few.
func BenchmarkCheckHandler(b *testing.B) {
	f := newFixture(&testing.T{})
	h := f.srv.Handler()
	tok := "Bearer " + f.tokens["agent"]
	cmds := []string{"git status", "go test ./pkg%d/...", "ls -la src/dir%d", "cat README%d.md", "npm run build -- --filter app%d", "grep -rn TODO internal/x%d"}
	bodies := make([]string, 4096)
	for i := range bodies {
		bodies[i] = fmt.Sprintf(`{"tool":"Bash","args":{"command":%q},"session":"s%d","agent":"bench"}`, fmt.Sprintf(cmds[i%len(cmds)], i), i%8)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/v1/check", strings.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("Authorization", tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
