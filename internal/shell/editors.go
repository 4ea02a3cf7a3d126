package shell

import (
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// vim, vi, ex, nvim, view: files are edited; -c/+/--cmd commands can run
// shells (:!sh, :shell, :terminal), interpreters (:py) and write files.
func (w *walker) vim(k *cmd) *flow {
	args := k.args[1:]
	var cmds []string
	readOnly := k.name == "view" || k.name == "rview"
	var files []field
	for i := 0; i < len(args); i++ {
		s := args[i].s
		switch {
		case s == "-c" || s == "--cmd":
			if i+1 < len(args) {
				i++
				cmds = append(cmds, args[i].s)
			}
		case strings.HasPrefix(s, "+") && len(s) > 1:
			cmds = append(cmds, s[1:])
		case s == "-S" || s == "-u" || s == "-U" || s == "-i" || s == "-s" || s == "-w" || s == "-W" || s == "-T" || s == "-t" || s == "-r" || s == "-q":
			if i+1 < len(args) {
				i++
				w.ref(k, args[i], analysis.OpRead, false)
			}
		case s == "-R" || s == "-M" || s == "-m":
			readOnly = true
		case strings.HasPrefix(s, "-"):
		default:
			files = append(files, args[i])
		}
	}
	for _, f := range files {
		if readOnly {
			w.ref(k, f, analysis.OpRead, false)
		} else {
			w.ref(k, f, analysis.OpWrite, false)
			if !f.dyn {
				w.sensitiveWriteRules(k, f.s, k.name)
			}
		}
	}
	for _, c := range cmds {
		w.vimCommand(k, c)
	}
	return &flow{data: true}
}

// vimCommand analyses one Ex command line.
func (w *walker) vimCommand(k *cmd, line string) {
	for _, part := range splitVimBar(line) {
		c := strings.TrimLeft(strings.TrimSpace(part), ":")
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		word, rest, _ := strings.Cut(c, " ")
		rest = strings.TrimSpace(rest)
		switch {
		case strings.HasPrefix(c, "!"):
			w.hook(k, field{s: strings.TrimSpace(c[1:])}, k.name+" :!")
			if strings.TrimSpace(c[1:]) != "" && !shellRef(c[1:]) {
				w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm), k.name+" runs a shell command (:!); run it directly", k.detail(), riskHigh))
			}
		case word == "sh" || word == "shell" || word == "terminal" || word == "term" || strings.HasPrefix(word, "ter"):
			w.shellSpawn(k, k.name+" starts a shell (:"+word+")", true)
		case word == "py" || word == "python" || word == "py3" || word == "python3" || word == "pyx" || word == "pythonx" || word == "pydo" || word == "py3do":
			w.interpCode(k, rest, "python", k.name+" :"+word)
		case word == "lua" || word == "luado":
			w.interpCode(k, rest, "lua", k.name+" :lua")
		case word == "perl" || word == "ruby" || word == "tcl":
			w.interpCode(k, rest, word, k.name+" :"+word)
		case strings.HasPrefix(word, "redir"):
			target := strings.TrimSpace(strings.TrimLeft(rest, ">"))
			if target != "" && !strings.HasPrefix(target, "@") && !strings.HasPrefix(target, "=>") {
				w.ref(k, field{s: target}, analysis.OpWrite, false)
				w.sensitiveWriteRules(k, target, k.name+" :redir")
				w.sideWrite(k, field{s: target}, k.name+" :redir")
			}
		case word == "w" || word == "write" || word == "sav" || word == "saveas" || word == "w!" || word == "wq":
			if strings.HasPrefix(rest, "!") {
				w.hook(k, field{s: rest[1:]}, k.name+" :w !")
			} else if rest != "" {
				w.ref(k, field{s: rest}, analysis.OpWrite, false)
				w.sideWrite(k, field{s: rest}, k.name+" :w")
			}
		case word == "r" || word == "read" || word == "e" || word == "edit" || word == "sp" || word == "split" || word == "tabe":
			if strings.HasPrefix(rest, "!") {
				w.hook(k, field{s: rest[1:]}, k.name+" :r !")
			} else if rest != "" {
				w.ref(k, field{s: rest}, analysis.OpRead, false)
				w.sideRead(k, field{s: rest}, k.name+" :"+word)
			}
		case word == "set" && strings.HasPrefix(rest, "shell="):
			// The following :shell uses it.
		case word == "call" || word == "exe" || word == "execute":
			if has(rest, "system(", "systemlist(", "job_start(", "jobstart(", "term_start(") {
				w.interpCode(k, rest, "other", k.name+" :call")
			}
		}
	}
}

func splitVimBar(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == '|' {
			// ":!cmd | other" keeps the bar in the shell command.
			if strings.HasPrefix(strings.TrimLeft(strings.TrimSpace(s[start:i]), ":"), "!") {
				continue
			}
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// nano: -s/--speller names a program nano runs.
func (w *walker) nano(k *cmd) *flow {
	p := operands(k, spec{short: "sYoTCQrX", long: []string{"--speller", "--syntax", "--operatingdir", "--tabsize", "--backupdir", "--quotestr", "--fill", "--wordchars"}})
	for _, v := range p.vals("-s", "--speller") {
		w.hook(k, v, "nano --speller")
	}
	for _, f := range p.pos {
		if strings.HasPrefix(f.s, "+") {
			continue
		}
		w.ref(k, f, analysis.OpWrite, false)
		if !f.dyn {
			w.sensitiveWriteRules(k, f.s, k.name)
		}
	}
	return &flow{data: true}
}

// emacs: --eval code and edited files.
func (w *walker) emacs(k *cmd) *flow {
	args := k.args[1:]
	for i := 0; i < len(args); i++ {
		s := args[i].s
		switch {
		case s == "--eval" || s == "-eval" || s == "--execute":
			if i+1 < len(args) {
				i++
				w.lispCode(k, args[i].s)
			}
		case strings.HasPrefix(s, "--eval="):
			w.lispCode(k, s[len("--eval="):])
		case s == "-l" || s == "--load" || s == "-f" || s == "--funcall" || s == "--script" || s == "-L":
			i++
		case strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+"):
		default:
			w.ref(k, args[i], analysis.OpWrite, false)
		}
	}
	return &flow{data: true}
}

func (w *walker) lispCode(k *cmd, code string) {
	lc := strings.ToLower(code)
	for _, t := range []string{"(term", "(ansi-term", "(shell", "(eshell", "(vterm"} {
		if strings.Contains(lc, t) {
			w.shellSpawn(k, k.name+" starts a shell", true)
			return
		}
	}
	w.interpCode(k, code, "other", k.name+" --eval")
}

// ed reads commands from stdin; "!cmd" runs a shell command.
func (w *walker) ed(k *cmd) *flow {
	for _, a := range k.args[1:] {
		if !strings.HasPrefix(a.s, "-") {
			w.ref(k, a, analysis.OpWrite, false)
		}
	}
	if in := k.c.stdin; in != nil && in.textOK {
		for _, line := range strings.Split(in.text, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "!") {
				w.hook(k, field{s: strings.TrimSpace(line)[1:]}, "ed !")
			}
		}
	}
	return &flow{data: true}
}

// pager handles less, more, most, pg: files are read; -o/--log-file
// writes; under sudo a pager is a shell (its ! command).
func (w *walker) pager(k *cmd) *flow {
	p := operands(k, spec{short: "oObhjkpPtTxyz#", long: []string{"--log-file", "--LOG-FILE", "--pattern", "--prompt", "--tag", "--tag-file", "--tabs", "--shift", "--window", "--lesskey-file"}})
	for _, v := range p.vals("-o", "-O", "--log-file", "--LOG-FILE") {
		w.ref(k, v, analysis.OpWrite, false)
		w.sideWrite(k, v, k.name+" --log-file")
	}
	for _, f := range p.pos {
		if strings.HasPrefix(f.s, "+") {
			continue
		}
		w.ref(k, f, analysis.OpRead, false)
	}
	if k.c.stdin != nil && len(p.pos) == 0 {
		return passThrough(k.c.stdin)
	}
	return w.readFlow(k, p.pos)
}

// man: -P and -H name programs man runs; a path operand is read.
func (w *walker) man(k *cmd) *flow {
	p := operands(k, spec{short: "PHMLSmCeprRIE", long: []string{"--pager", "--html", "--manpath", "--locale", "--sections", "--systems", "--config-file", "--encoding", "--preprocessor", "--recode"}})
	for _, v := range p.vals("-P", "--pager", "-H", "--html") {
		w.hook(k, v, "man "+"pager")
	}
	for _, f := range p.pos {
		if isPathLike(f.s) || p.has("-l", "--local-file") {
			w.ref(k, f, analysis.OpRead, false)
			w.sideRead(k, f, "man")
		}
	}
	return &flow{data: true}
}

// gdb: -ex commands run shells (!, shell), Python, or call functions.
func (w *walker) gdb(k *cmd) *flow {
	args := k.args[1:]
	for i := 0; i < len(args); i++ {
		s := args[i].s
		switch {
		case s == "-ex" || s == "--ex" || s == "-iex" || s == "--eval-command" || s == "--init-eval-command":
			if i+1 < len(args) {
				i++
				w.gdbCommand(k, args[i].s)
			}
		case strings.HasPrefix(s, "--eval-command="):
			w.gdbCommand(k, s[len("--eval-command="):])
		case s == "-x" || s == "--command" || s == "-ix":
			if i+1 < len(args) {
				i++
				w.ref(k, args[i], analysis.OpRead, false)
			}
		case s == "-p" || s == "--pid":
			if i+1 < len(args) {
				i++
			}
			w.add(finding(CodeLibraryLoad, w.escalate(k, decision.Confirm), "gdb attaches to a running process; say why it is needed", k.detail(), riskHigh))
		}
	}
	return &flow{data: true}
}

func (w *walker) gdbCommand(k *cmd, c string) {
	c = strings.TrimSpace(c)
	word, rest, _ := strings.Cut(c, " ")
	switch {
	case strings.HasPrefix(c, "!"):
		w.hook(k, field{s: strings.TrimSpace(c[1:])}, "gdb !")
		if strings.TrimSpace(c[1:]) != "" && !shellRef(c[1:]) {
			w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm), "gdb runs a shell command; run it directly", k.detail(), riskHigh))
		}
	case word == "shell":
		w.hook(k, field{s: rest}, "gdb shell")
		if rest == "" {
			w.shellSpawn(k, "gdb starts a shell", true)
		} else if !shellRef(rest) {
			w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm), "gdb runs a shell command; run it directly", k.detail(), riskHigh))
		}
	case word == "python" || word == "py" || word == "pi" || word == "python-interactive":
		w.interpCode(k, rest, "python", "gdb python")
	case word == "call" || word == "print" || word == "p":
		if has(rest, "system(", "dlopen(", "__libc_dlopen") {
			if has(rest, "dlopen") {
				w.add(finding(CodeLibraryLoad, w.escalate(k, decision.Confirm), "gdb loads a library into a process; say why it is needed", k.detail(), riskHigh))
			}
			w.interpCode(k, rest, "other", "gdb call")
		}
	case word == "dump" || word == "append":
		f := strings.Fields(rest)
		if len(f) >= 2 {
			w.ref(k, field{s: f[1]}, analysis.OpWrite, false)
		}
	case word == "attach":
		w.add(finding(CodeLibraryLoad, w.escalate(k, decision.Confirm), "gdb attaches to a running process; say why it is needed", k.detail(), riskHigh))
	}
}

// make: --eval can run $(shell …) and write $(file >…).
func (w *walker) make(k *cmd) *flow {
	args := k.args[1:]
	for i := 0; i < len(args); i++ {
		s := args[i].s
		var ev string
		switch {
		case s == "--eval" || s == "-E":
			if i+1 < len(args) {
				i++
				ev = args[i].s
			}
		case strings.HasPrefix(s, "--eval="):
			ev = s[len("--eval="):]
		case s == "-f" || s == "--file" || s == "--makefile":
			if i+1 < len(args) {
				i++
				w.ref(k, args[i], analysis.OpRead, false)
			}
		case s == "-C" || s == "--directory" || s == "-I" || s == "-j" || s == "-l" || s == "-o" || s == "-W":
			i++
		case strings.HasPrefix(s, "SHELL="):
			w.hook(k, field{s: s[len("SHELL="):]}, "make SHELL=")
		}
		if ev != "" {
			w.makeEval(k, ev)
		}
	}
	return &flow{data: true}
}

func (w *walker) makeEval(k *cmd, ev string) {
	for _, fn := range []string{"$(shell ", "${shell "} {
		for idx := 0; ; {
			j := strings.Index(ev[idx:], fn)
			if j < 0 {
				break
			}
			start := idx + j + len(fn)
			end := matchParen(ev, start)
			w.hook(k, field{s: ev[start:end]}, "make $(shell)")
			idx = end
		}
	}
	for idx := 0; ; {
		j := strings.Index(ev[idx:], "$(file ")
		if j < 0 {
			break
		}
		start := idx + j + len("$(file ")
		end := matchParen(ev, start)
		arg := strings.TrimSpace(ev[start:end])
		target := strings.SplitN(arg, ",", 2)[0]
		switch {
		case strings.HasPrefix(target, ">"):
			t := strings.TrimSpace(strings.TrimLeft(target, ">"))
			if t != "/dev/stdout" && t != "/dev/stderr" {
				w.ref(k, field{s: t}, analysis.OpWrite, false)
				w.sideWrite(k, field{s: t}, "make $(file)")
			}
		case strings.HasPrefix(target, "<"):
			t := strings.TrimSpace(strings.TrimLeft(target, "<"))
			w.ref(k, field{s: t}, analysis.OpRead, false)
			w.sideRead(k, field{s: t}, "make $(file)")
		}
		idx = start
	}
}

// matchParen returns the index of the ")" closing an opening at start-1.
func matchParen(s string, start int) int {
	depth := 1
	for i := start; i < len(s); i++ {
		switch s[i] {
		case '(', '{':
			depth++
		case ')', '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return len(s)
}

// m4: esyscmd and syscmd run shell commands.
func (w *walker) m4(k *cmd) *flow {
	var texts []string
	if in := k.c.stdin; in != nil && in.textOK {
		texts = append(texts, in.text)
	}
	for _, a := range k.args[1:] {
		if strings.HasPrefix(a.s, "-") {
			continue
		}
		w.ref(k, a, analysis.OpRead, false)
		w.sideRead(k, a, "m4")
		if c, ok := w.facts.written[a.s]; ok {
			texts = append(texts, c)
		}
	}
	for _, t := range texts {
		for _, fn := range []string{"esyscmd(", "syscmd("} {
			if i := strings.Index(t, fn); i >= 0 {
				start := i + len(fn)
				end := matchParen(t, start)
				w.hook(k, field{s: t[start:end]}, "m4 "+strings.TrimSuffix(fn, "("))
			}
		}
	}
	return w.readFlow(k, nil)
}

// dc: "!cmd" runs a shell command.
func (w *walker) dc(k *cmd) *flow {
	var texts []string
	for i, a := range k.args[1:] {
		if (a.s == "-e" || a.s == "--expression") && i+2 < len(k.args) {
			texts = append(texts, k.args[i+2].s)
		}
	}
	if in := k.c.stdin; in != nil && in.textOK {
		texts = append(texts, in.text)
	}
	for _, t := range texts {
		if i := strings.IndexByte(t, '!'); i >= 0 {
			w.hook(k, field{s: strings.TrimSpace(t[i+1:])}, "dc !")
		}
	}
	return &flow{data: true}
}

// tex handles latex, pdflatex, tex and friends: with --shell-escape,
// \write18{…} runs a command.
func (w *walker) tex(k *cmd) *flow {
	escape := false
	for _, a := range k.args[1:] {
		if a.s == "--shell-escape" || a.s == "-shell-escape" || a.s == "--enable-write18" || a.s == "-enable-write18" {
			escape = true
		}
	}
	for _, a := range k.args[1:] {
		if i := strings.Index(a.s, `\write18{`); i >= 0 && escape {
			start := i + len(`\write18{`)
			end := matchParen(a.s, start)
			w.hook(k, field{s: a.s[start:end]}, k.name+` \write18`)
		}
		for _, cmdName := range []string{`\input{`, `\include{`, `\verbatiminput{`, `\lstinputlisting{`, `\openin`} {
			rest := a.s
			for {
				i := strings.Index(rest, cmdName)
				if i < 0 {
					break
				}
				start := i + len(cmdName)
				end := matchParen(rest, start)
				f := strings.TrimSpace(strings.Trim(rest[start:end], "{}="))
				if f != "" {
					w.ref(k, field{s: f}, analysis.OpRead, false)
					w.sideRead(k, field{s: f}, k.name)
				}
				rest = rest[min(end+1, len(rest)):]
			}
		}
	}
	if escape {
		w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm), k.name+" is run with shell escapes enabled; run it without --shell-escape", k.detail(), riskMedium))
	}
	return &flow{data: true}
}
