package redact

import (
	"strings"
	"testing"
)

// toolCall is a ~2 KB tool call and result of the kind the audit log
// records: a shell command, its arguments and some output.
var toolCall = func() string {
	var b strings.Builder
	b.WriteString(`{"tool":"bash","id":"call_01HZX3","args":{"command":"cd /home/dev/project && git status --short && go test ./internal/... -run TestKernel -count=1","timeout_ms":120000,"env":{"GOFLAGS":"-mod=mod","HOME":"/home/dev","PATH":"/usr/local/go/bin:/usr/bin:/bin"}},`)
	b.WriteString(`"result":{"exit_code":0,"stdout":"`)
	lines := []string{
		" M internal/kernel/kernel.go",
		"?? internal/audit/store.go",
		"ok  \\tgithub.com/acme/project/internal/kernel\\t0.412s",
		"ok  \\tgithub.com/acme/project/internal/policy\\t0.108s",
		"--- PASS: TestKernelDecide (0.01s)",
		"    kernel_test.go:88: decision allow for read_file path=/home/dev/project/README.md",
		"PASS",
		"coverage: 81.4% of statements",
		"max_tokens=4096 temperature=0.2 model=claude-sonnet request_id=req_8f2a1c",
		"fetching https://proxy.golang.org/github.com/google/go-cmp/@v/v0.7.0.info",
	}
	for b.Len() < 1900 {
		for _, l := range lines {
			b.WriteString(l)
			b.WriteString(`\n`)
		}
	}
	b.WriteString(`","stderr":"","duration_ms":5123}}`)
	return b.String()
}()

// toolCallSecrets is toolCall with credentials in the command, the
// environment and the output.
var toolCallSecrets = strings.Replace(strings.Replace(strings.Replace(toolCall,
	`"HOME":"/home/dev"`, `"HOME":"/home/dev","GITHUB_TOKEN":"ghp_`+rA[:36]+`","DATABASE_URL":"postgres://app:`+rA[40:56]+`@db:5432/app"`, 1),
	"PASS\\n", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0."+rA[:43]+"\\n", 1),
	"coverage:", "export OPENAI_API_KEY=sk-proj-"+rA[:74]+"T3BlbkFJ"+rA[80:154]+" coverage:", 1)

// toolLog is 1 MiB of tool calls, one in eight with credentials.
var toolLog = func() string {
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		if i%8 == 7 {
			b.WriteString(toolCallSecrets)
		} else {
			b.WriteString(toolCall)
		}
		b.WriteByte('\n')
	}
	return b.String()
}()

func BenchmarkText(b *testing.B) {
	for _, c := range []struct{ name, in string }{
		{"clean", toolCall},
		{"secrets", toolCallSecrets},
		{"log-1MiB", toolLog},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.in)))
			b.ReportAllocs()
			for b.Loop() {
				Text(c.in)
			}
		})
	}
}

func BenchmarkJSON(b *testing.B) {
	for _, c := range []struct{ name, in string }{
		{"clean", toolCall},
		{"secrets", toolCallSecrets},
	} {
		raw := []byte(c.in)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := JSON(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
