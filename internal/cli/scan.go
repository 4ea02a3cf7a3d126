package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/sentinel-agent/sentinel/internal/inject"
	"github.com/sentinel-agent/sentinel/internal/redact"
)

// maxScanInput bounds what `sentinel scan` reads.
const maxScanInput = 16 << 20

// ExitFound is sentinel scan's exit code when it found a secret or an
// injection (as a denied call exits 2).
const ExitFound = ExitDeny

type scanSecret struct {
	Rule  string `json:"rule"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	Line  int    `json:"line"`
}

type scanReport struct {
	Bytes     int            `json:"bytes"`
	Secrets   []scanSecret   `json:"secrets,omitempty"`
	Injection *inject.Result `json:"injection,omitempty"`
}

func runScan(e *env, args []string) int {
	f := newFlags("scan")
	kind := f.String("kind", "all", "secrets, injection or all")
	format := f.String("format", "text", "text or json")
	pos, err := f.parse(args)
	if err == errHelp {
		fmt.Fprintln(e.stdout, "usage: sentinel scan [--kind secrets|injection|all] [--format text|json] FILE|-")
		fmt.Fprintln(e.stdout, "exit 0: nothing found; 2: a secret or an injection found; 1: an error")
		f.usage(e.stdout)
		return ExitOK
	}
	if err != nil {
		return fail(e, "scan: %v", err)
	}
	if *kind != "all" && *kind != "secrets" && *kind != "injection" {
		return fail(e, "scan: --kind %q: use secrets, injection or all", *kind)
	}
	if *format != "text" && *format != "json" {
		return fail(e, "scan: --format %q: use text or json", *format)
	}
	if len(pos) != 1 {
		return fail(e, "scan: name one file, or - for standard input")
	}
	var in io.Reader = e.stdin
	if pos[0] != "-" {
		fh, err := os.Open(pos[0])
		if err != nil {
			return fail(e, "scan: %v", err)
		}
		defer fh.Close()
		in = fh
	}
	data, err := io.ReadAll(io.LimitReader(in, maxScanInput+1))
	if err != nil {
		return fail(e, "scan: reading %s: %v", pos[0], err)
	}
	if len(data) > maxScanInput {
		return fail(e, "scan: %s is larger than %d MiB; split it", pos[0], maxScanInput>>20)
	}
	text := string(data)
	rep := scanReport{Bytes: len(data)}
	if *kind != "injection" {
		_, fs := redact.Text(text)
		for _, fd := range fs {
			rep.Secrets = append(rep.Secrets, scanSecret{Rule: fd.Rule, Start: fd.Start, End: fd.End, Line: 1 + strings.Count(text[:fd.Start], "\n")})
		}
	}
	if *kind != "secrets" {
		r := inject.Scan(text)
		rep.Injection = &r
	}
	found := len(rep.Secrets) > 0 || rep.Injection != nil && rep.Injection.Verdict != inject.VerdictClean
	if *format == "json" {
		writeJSON(e.stdout, rep)
	} else {
		writeScanText(e.stdout, text, rep)
	}
	if found {
		return ExitFound
	}
	return ExitOK
}

func writeScanText(w io.Writer, text string, rep scanReport) {
	for _, s := range rep.Secrets {
		// The secret itself is never printed: its rule, place and length.
		fmt.Fprintf(w, "secret  %-28s line %d, bytes %d-%d (%d bytes)\n", s.Rule, s.Line, s.Start, s.End, s.End-s.Start)
	}
	if r := rep.Injection; r != nil {
		fmt.Fprintf(w, "injection  %s  score %.2f  %s\n", r.Verdict, r.Score, strings.Join(r.Categories, ", "))
		for _, sp := range r.Spans {
			fmt.Fprintf(w, "  %-22s %-30s bytes %d-%d  %q\n", sp.Category, sp.Rule, sp.Start, sp.End, excerpt(sp.Text))
		}
	}
	if len(rep.Secrets) == 0 && (rep.Injection == nil || rep.Injection.Verdict == inject.VerdictClean) {
		fmt.Fprintf(w, "clean (%d bytes)\n", rep.Bytes)
	}
}

// excerpt shortens a span's text for a terminal, whole runes only, and
// with its own secrets redacted.
func excerpt(s string) string {
	s, _ = redact.Text(s)
	if len(s) <= 80 {
		return s
	}
	cut := 80
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
