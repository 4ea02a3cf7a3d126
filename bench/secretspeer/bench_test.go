package secretspeer

import (
	"strings"
	"testing"
)

// BenchmarkScan runs both engines over the same texts; MB/s is the figure
// to compare. Each text of a corpus is one call, as an agent's tool calls
// and results are:
//
//   - mix: every developer document (READMEs, docs, code comments) and
//     every row of the secrets corpus, about 1.1 MB in 2,434 calls;
//   - secrets: the secrets corpus rows alone;
//   - clean-4KiB: one shell session with no secret;
//   - keywords-16KiB: one text dense with keywords and placeholders.
func BenchmarkScan(b *testing.B) {
	secrets := texts(load(b, secretsFile))
	mix := append(texts(load(b, benignFile)), secrets...)
	cases := []struct {
		name  string
		calls []string
	}{
		{"mix", mix},
		{"secrets", secrets},
		{"clean-4KiB", []string{cleanText}},
		{"keywords-16KiB", []string{keywordText}},
	}
	for _, c := range cases {
		size := 0
		for _, t := range c.calls {
			size += len(t)
		}
		for _, e := range engines(b) {
			b.Run(c.name+"/"+e.Name, func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					for _, t := range c.calls {
						e.Count(t)
					}
				}
			})
		}
	}
}

// BenchmarkLarge scans one 256 KiB text made of the mix, to show how each
// engine copes with a large single call (a file read whole, a long log).
func BenchmarkLarge(b *testing.B) {
	var sb strings.Builder
	for _, t := range append(texts(load(b, benignFile)), texts(load(b, secretsFile))...) {
		if sb.Len() >= 256<<10 {
			break
		}
		sb.WriteString(t)
		sb.WriteByte('\n')
	}
	text := sb.String()[:256<<10]
	for _, e := range engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				e.Count(text)
			}
		})
	}
}
