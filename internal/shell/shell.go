// Package shell is Sentinel's static analyser for shell command lines. It
// parses a line with a real shell parser (mvdan.cc/sh), walks every simple
// command it would run — through pipelines, lists, subshells, functions,
// substitutions, wrappers such as sudo, env, xargs and find -exec, nested
// `bash -c` and `eval` strings, interpreters' inline code and decoded
// payloads — and fills an analysis.Analysis with the commands, the paths
// and network destinations they touch, and findings: recognised behaviours
// (recursive delete of /, reverse shells, exfiltration, privilege
// escalation …) each with a stable code and a default action.
//
// Findings are recognised by structure (the parsed program, its flags and
// targets, what flows through a pipe), never by regular expressions over
// the raw line, so that `echo rm -rf /` is an echo and `r”m -rf /` is rm.
// What cannot be resolved statically is reported, never silently passed.
//
// The analyser must never execute anything, touch the file system or the
// network, panic, or do unbounded work: input size, nesting depth, command
// and word counts are capped by Options, and exceeding a cap is itself a
// finding (command.too_complex).
package shell

import (
	"fmt"
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// Options bound the work done for one command line. Zero values take the
// defaults.
type Options struct {
	// MaxBytes is the longest command line analysed (default 64 KiB).
	MaxBytes int
	// MaxDepth is the deepest nesting of bash -c, eval, $(…), interpreter
	// code and decoded payloads followed (default 4).
	MaxDepth int
	// MaxCommands is the most simple commands analysed (default 1024).
	MaxCommands int
	// MaxWords is the most words resolved over the whole line, counting
	// nested code (default 16384).
	MaxWords int
}

// Defaults for Options.
const (
	DefaultMaxBytes    = 64 << 10
	DefaultMaxDepth    = 4
	DefaultMaxCommands = 1024
	DefaultMaxWords    = 16384
)

// Analyzer analyses shell command lines. It is safe for concurrent use;
// parsers are reused through a pool.
type Analyzer struct {
	opts     Options
	bash     sync.Pool
	posix    sync.Pool
	progs    map[string]handler
	wrappers map[string]wrapper
}

// New returns an Analyzer with opts, defaults filled in.
func New(opts Options) *Analyzer {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	if opts.MaxCommands <= 0 {
		opts.MaxCommands = DefaultMaxCommands
	}
	if opts.MaxWords <= 0 {
		opts.MaxWords = DefaultMaxWords
	}
	a := &Analyzer{opts: opts, progs: programTable(), wrappers: wrapperTable()}
	a.bash.New = func() any { return syntax.NewParser(syntax.Variant(syntax.LangBash)) }
	a.posix.New = func() any { return syntax.NewParser(syntax.Variant(syntax.LangPOSIX)) }
	return a
}

// Options returns the effective options.
func (a *Analyzer) Options() Options { return a.opts }

// Analyze parses and analyses one command line. It never panics and never
// returns nil; a line that cannot be parsed comes back with ParseError set.
func (a *Analyzer) Analyze(command string) (out *analysis.Analysis) {
	out = &analysis.Analysis{}
	defer func() {
		if p := recover(); p != nil {
			// Fail closed: an analyser bug must not turn into an allow.
			*out = analysis.Analysis{ParseError: fmt.Sprintf("internal analyser error: %v", p)}
		}
	}()
	if len(command) > a.opts.MaxBytes {
		out.AddFinding(tooComplex(fmt.Sprintf("command is %d bytes long, the limit is %d", len(command), a.opts.MaxBytes)))
		return out
	}
	if strings.IndexByte(command, 0) >= 0 {
		// A NUL byte ends the string for the shell that runs it; what
		// follows could hide anything from a reviewer.
		out.AddFinding(analysis.Finding{
			Code: CodeNulByte, Action: decision.Deny,
			Message: "the command contains a NUL byte; remove it",
			Detail:  clip(strings.ReplaceAll(command, "\x00", `\0`)),
		})
		command = strings.ReplaceAll(command, "\x00", " ")
	}
	f, perr := a.parse(command)
	if f == nil {
		// Fail closed: a line the shell cannot parse is not guessed at.
		out.ParseError = perr
		return out
	}
	w := newWalker(a, out)
	w.run(f, command)
	return out
}

// PlantsRemoteCode reports whether content written to path — a crontab,
// a shell start-up file, an init or hook script, a program on PATH —
// would download and run remote code, run a hidden payload or open a
// remote shell each time that location is used. It lets a file tool's
// write (Write ~/.bashrc) be judged as the same write made by a shell
// command (echo … >> ~/.bashrc) is. It returns false for any other path,
// for content that is not shell code, and for content over MaxBytes.
func (a *Analyzer) PlantsRemoteCode(path, content string) (plants bool) {
	defer func() {
		if recover() != nil {
			// Fail closed: content that crashes the analyser is not
			// trusted.
			plants = true
		}
	}()
	if len(content) > a.opts.MaxBytes || strings.IndexByte(content, 0) >= 0 {
		return false
	}
	c := cleanPath(path)
	what, ok := persistencePath(c)
	if !ok && !pathBinDir(c) {
		return false
	}
	w := newWalker(a, &analysis.Analysis{})
	return w.runsRemoteCode(persistedCode(c, what, content))
}

// parse tries bash, then POSIX sh. It returns the error of the bash parse
// when neither accepts the line.
func (a *Analyzer) parse(src string) (*syntax.File, string) {
	f, err := parseWith(&a.bash, src)
	if err == nil {
		return f, ""
	}
	if f2, err2 := parseWith(&a.posix, src); err2 == nil {
		return f2, ""
	}
	return nil, err.Error()
}

func parseWith(pool *sync.Pool, src string) (*syntax.File, error) {
	p := pool.Get().(*syntax.Parser)
	f, err := p.Parse(strings.NewReader(src), "")
	pool.Put(p)
	return f, err
}

// parseNested parses code found inside the line (bash -c, eval, decoded
// payloads, interpreter strings). It returns nil when the code does not
// parse.
func (a *Analyzer) parseNested(src string) *syntax.File {
	f, err := parseWith(&a.bash, src)
	if err == nil {
		return f
	}
	if f2, err2 := parseWith(&a.posix, src); err2 == nil {
		return f2
	}
	return nil
}

// clip shortens a fragment for a finding's Detail.
func clip(s string) string {
	s = strings.TrimSpace(s)
	const max = 240
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
