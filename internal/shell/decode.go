package shell

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sentinel-agent/sentinel/internal/analysis"
)

// decodeBase64 decodes standard, URL-safe, padded or raw base64, ignoring
// whitespace. ok is false when the input is not base64.
func decodeBase64(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return "", false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return string(b), true
		}
	}
	return "", false
}

// decodeUTF16Base64 decodes PowerShell's -EncodedCommand: base64 of
// UTF-16LE text.
func decodeUTF16Base64(s string) (string, bool) {
	raw, ok := decodeBase64(s)
	if !ok || len(raw)%2 != 0 || len(raw) > 2*maxPayload {
		return "", false
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	return string(utf16.Decode(u)), true
}

func decodeBase32(s string) (string, bool) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if b, err := base32.StdEncoding.DecodeString(s); err == nil {
		return string(b), true
	}
	if b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s); err == nil {
		return string(b), true
	}
	return "", false
}

// decodeHex decodes plain hex (xxd -p) or an xxd dump.
func decodeHex(s string, plain bool) (string, bool) {
	if !plain {
		var b strings.Builder
		for _, line := range strings.Split(s, "\n") {
			_, rest, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			// Drop the ASCII column: it follows two spaces.
			if i := strings.Index(rest, "  "); i >= 0 {
				rest = rest[:i]
			}
			b.WriteString(rest)
		}
		s = b.String()
	}
	s = strings.Join(strings.Fields(s), "")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "\\x")
	s = strings.ReplaceAll(s, "\\x", "")
	if len(s)%2 == 1 {
		s = s[:len(s)-1]
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) == 0 {
		return "", false
	}
	return string(b), true
}

func reverseLines(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		r := []rune(l)
		for a, b := 0, len(r)-1; a < b; a, b = a+1, b-1 {
			r[a], r[b] = r[b], r[a]
		}
		lines[i] = string(r)
	}
	return strings.Join(lines, "\n") + "\n"
}

// decodeFlow applies a decoder to a flow: static input is decoded so the
// payload can be analysed; anything decoded is marked as such.
func decodeFlow(in *flow, dec func(string) (string, bool)) *flow {
	if in == nil {
		return &flow{decoded: true, data: true}
	}
	out := passThrough(in)
	out.decoded = true
	out.data = true
	if in.textOK {
		if s, ok := dec(in.text); ok && len(s) <= maxPayload && utf8.ValidString(s) {
			out.text, out.textOK = s, true
		}
	}
	return out
}

// base64 / base32 / basenc: -d decodes; otherwise the file is encoded,
// which still carries its content.
func (w *walker) baseN(k *cmd) *flow {
	p := operands(k, spec{short: "w", long: []string{"--wrap"}})
	decode := p.has("-d", "--decode", "-D")
	in := k.c.stdin
	if len(p.pos) > 0 && p.pos[0].s != "-" {
		w.ref(k, p.pos[0], analysis.OpRead, false)
		in = &flow{files: []string{p.pos[0].s}, data: true}
	}
	if !decode {
		if in == nil {
			return &flow{data: true}
		}
		out := passThrough(in)
		out.encoded = len(in.files) > 0
		return out
	}
	w.roundTrip(k, in)
	dec := decodeBase64
	if k.name == "base32" || p.has("--base32") {
		dec = decodeBase32
	}
	return decodeFlow(in, dec)
}

// xxd dumps a file, or with -r turns a dump back into bytes.
func (w *walker) xxd(k *cmd) *flow {
	p := operands(k, spec{short: "cglsoCn", long: []string{"-cols", "-groupsize", "-len", "-seek", "-offset", "-name"}})
	in := k.c.stdin
	if len(p.pos) > 0 && p.pos[0].s != "-" {
		w.ref(k, p.pos[0], analysis.OpRead, false)
		in = &flow{files: []string{p.pos[0].s}, data: true}
	}
	if !p.has("-r", "-revert") {
		if in == nil {
			return &flow{data: true}
		}
		out := passThrough(in)
		out.encoded = len(in.files) > 0
		return out
	}
	w.roundTrip(k, in)
	plain := p.has("-p", "-ps", "-postscript", "-plain")
	out := decodeFlow(in, func(s string) (string, bool) { return decodeHex(s, plain) })
	if len(p.pos) > 1 {
		w.ref(k, p.pos[1], analysis.OpWrite, false)
		w.sensitiveWriteRules(k, p.pos[1].s, "xxd -r")
		if out.textOK {
			w.noteWritten(p.pos[1].s, out.text)
		}
		w.sideWrite(k, p.pos[1], "xxd -r")
		return nil
	}
	return out
}

// roundTrip flags decoding content that this line encoded from files:
// base64 FILE | base64 -d prints FILE while only encoders and decoders
// appear to touch it.
func (w *walker) roundTrip(k *cmd, in *flow) {
	if in == nil || !in.encoded {
		return
	}
	for _, f := range in.files {
		w.sideRead(k, field{s: f}, "an encode-decode round trip")
	}
}

// rev reverses lines: a cheap way to hide a command.
func (w *walker) rev(k *cmd) *flow {
	p := operands(k, spec{})
	in := k.c.stdin
	if len(p.pos) > 0 {
		w.ref(k, p.pos[0], analysis.OpRead, false)
		in = &flow{files: []string{p.pos[0].s}, data: true}
	}
	return decodeFlow(in, func(s string) (string, bool) { return reverseLines(s), true })
}

// tr maps characters; a letter rotation (rot13) is decoding.
func (w *walker) tr(k *cmd) *flow {
	p := operands(k, spec{})
	in := k.c.stdin
	if p.has("-d", "--delete", "-s", "--squeeze-repeats", "-c", "-C") || len(p.pos) != 2 {
		return passThrough(in)
	}
	from, to := expandTrSet(p.pos[0].s), expandTrSet(p.pos[1].s)
	if len(from) == 0 || len(to) == 0 {
		return passThrough(in)
	}
	letters := 0
	for i, r := range from {
		t := to[min(i, len(to)-1)]
		if r != t && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') && (t >= 'a' && t <= 'z' || t >= 'A' && t <= 'Z') {
			letters++
		}
	}
	mapper := func(s string) (string, bool) {
		return strings.Map(func(r rune) rune {
			for i, f := range from {
				if f == r {
					return to[min(i, len(to)-1)]
				}
			}
			return r
		}, s), true
	}
	if letters >= 13 {
		return decodeFlow(in, mapper)
	}
	if in == nil {
		return &flow{data: true}
	}
	out := passThrough(in)
	if in.textOK {
		out.text, _ = mapper(in.text)
		out.textOK = true
	}
	return out
}

// expandTrSet expands a-z ranges and simple escapes of a tr set.
func expandTrSet(s string) []rune {
	s = ansiC(s)
	r := []rune(s)
	var out []rune
	for i := 0; i < len(r); i++ {
		if i+2 < len(r) && r[i+1] == '-' && r[i] <= r[i+2] && r[i+2]-r[i] < 256 {
			for c := r[i]; c <= r[i+2]; c++ {
				out = append(out, c)
			}
			i += 2
			continue
		}
		if r[i] == '[' && strings.HasPrefix(string(r[i:]), "[:") {
			return nil
		}
		out = append(out, r[i])
		if len(out) > 1024 {
			return nil
		}
	}
	return out
}
