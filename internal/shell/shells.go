package shell

import (
	"strconv"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

var shellNames = map[string]bool{
	"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "ash": true, "mksh": true,
	"csh": true, "tcsh": true, "fish": true, "rbash": true, "yash": true, "posh": true, "sash": true,
	"elvish": true, "rc": true, "pdksh": true, "oksh": true, "ksh93": true, "lksh": true, "es": true,
	"xonsh": true, "nu": true, "pwsh-sh": true,
}

// posixShells understand -p as "privileged mode": keep the effective uid
// of a setuid binary instead of dropping it.
var posixShells = map[string]bool{
	"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "ash": true, "mksh": true,
	"yash": true, "posh": true, "pdksh": true, "oksh": true, "ksh93": true, "lksh": true, "rbash": true,
}

func isShellName(n string) bool { return shellNames[n] }

// shellBinDirs are where shells live; "/bin/sh" in an argument names a
// shell to run.
var shellBinDirs = []string{"/bin/", "/usr/bin/", "/usr/local/bin/", "/system/bin/", "/opt/homebrew/bin/", "/usr/pkg/bin/"}

// isShellPath reports whether tok is the path of a shell ("/bin/sh").
func isShellPath(tok string) bool {
	for _, d := range shellBinDirs {
		if strings.HasPrefix(tok, d) && shellNames[tok[len(d):]] {
			return true
		}
	}
	return false
}

func isShellSep(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', ';', '|', '&', '(', ')', '{', '}', '"', '\'', '`', ',', '=', '!', '<', '>', '[', ']', '\\', ':', '%', '#', '$', '@':
		return true
	}
	return false
}

// shellRef reports whether s hands a shell to a program to run: it names
// a shell binary by path ("/bin/sh -p", "exec /bin/bash", "!/bin/sh",
// "{/bin/sh}"), or is a bare shell invocation ("sh", "bash -i", "!sh",
// "exec sh").
func shellRef(s string) bool {
	if s == "" || len(s) > maxPayload {
		return false
	}
	if strings.Contains(s, "/bin/") || strings.Contains(s, "/system/") {
		for _, tok := range strings.FieldsFunc(s, isShellSep) {
			if isShellPath(tok) {
				return true
			}
		}
	}
	t := strings.TrimSpace(s)
	t = strings.TrimLeft(t, "!;| ")
	t = strings.TrimPrefix(t, "exec ")
	t = strings.TrimSpace(t)
	first, rest, _ := strings.Cut(t, " ")
	if !shellNames[first] {
		return false
	}
	rest = strings.TrimSpace(rest)
	return rest == "" || strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "<") ||
		strings.HasPrefix(rest, ">") || strings.HasPrefix(rest, "0<") || strings.HasPrefix(rest, "1>") || strings.HasPrefix(rest, "2>")
}

// shellRefArg is shellRef for an argument of some other program: a bare
// shell name there ("yum info zsh") is data, not a shell to run.
func shellRefArg(s string) bool {
	if shellNames[strings.TrimSpace(s)] {
		return false
	}
	return shellRef(s)
}

// spawnsShellText reports whether content written to a file starts a
// shell when the file is run or loaded (a shebang alone does not count).
func spawnsShellText(content string) bool {
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#!") {
			continue
		}
		if shellRef(line) {
			return true
		}
	}
	return false
}

// shellProg analyses sh, bash, zsh and the other shells: -c code is
// parsed and walked, a script operand is an executed file, and with
// neither the shell runs what its stdin carries or is interactive.
func (w *walker) shellProg(k *cmd) *flow {
	args := k.args[1:]
	var code *field
	var wantCode, interactive, privMode, stdinMode bool
	i := 0
	for i < len(args) {
		a := args[i]
		s := a.s
		if s == "--" || s == "-" {
			i++
			break
		}
		if strings.HasPrefix(s, "--") {
			switch s {
			case "--rcfile", "--init-file":
				if i+1 < len(args) {
					i++
					w.addPath(analysis.PathRef{Path: args[i].s, Op: analysis.OpExec, Privileged: k.priv, Command: k.name, Dynamic: args[i].dyn})
				}
			case "--command":
				wantCode = true
			case "--interactive":
				interactive = true
			}
			if strings.HasPrefix(s, "--command=") {
				v := s[len("--command="):]
				code = &field{s: v, dyn: a.dyn}
			}
			i++
			continue
		}
		if (strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+")) && len(s) > 1 && !a.dyn {
			for j := 1; j < len(s); j++ {
				switch s[j] {
				case 'c':
					wantCode = true
				case 'i':
					interactive = true
				case 'p':
					if posixShells[k.name] && s[0] == '-' {
						privMode = true
					}
				case 's':
					stdinMode = true
				case 'o', 'O':
					if j == len(s)-1 && i+1 < len(args) {
						i++
					}
				case 'C':
					if k.name == "fish" {
						wantCode = true
					}
				}
			}
			i++
			continue
		}
		break
	}
	operands := args[min(i, len(args)):]
	if wantCode && code == nil {
		if len(operands) == 0 {
			return nil
		}
		code = &operands[0]
		operands = operands[1:]
	}
	if privMode {
		w.add(finding(CodePrivilegeEscalation, decision.Deny,
			"the shell is started in privileged mode (-p), which keeps a setuid owner's rights; this is refused",
			k.detail(), riskCompromise))
	}
	if tcp := k.rs != nil && len(k.rs.tcp) > 0; tcp {
		w.facts.interactive = true
		if code == nil || interactive {
			w.add(finding(CodeReverseShell, decision.Deny,
				"the shell's input or output is a network connection (reverse shell); this is refused", k.detail(), riskCompromise))
		}
	}
	if code != nil {
		// Judge where the code comes from first: sh -c "$(curl …)" is
		// nothing but a download, and is run all the same.
		if code.flow != nil && code.flow.download {
			w.add(finding(CodeDownloadExec, decision.Deny,
				"downloaded content is executed by "+k.name+"; download, review, then run it separately", k.detail(), riskCompromise))
		}
		if code.flow != nil && code.flow.decoded {
			w.add(finding(CodeDecodeExec, decision.Deny,
				"decoded content is executed by "+k.name+"; run the plain commands instead", k.detail(), riskCompromise))
		}
		if w.dynamicCode(k, *code, k.name+" -c") {
			return &flow{data: true}
		}
		w.withParams(operands, func() { w.nestedShell(k, code.code(), k.name+" -c") })
		return &flow{data: true}
	}
	if len(operands) > 0 && !stdinMode {
		script := operands[0]
		if script.proc {
			w.execFlow(k, script.flow, k.name+" <(…)")
			return &flow{data: true}
		}
		w.execPath(k, script.s, k.detail())
		if k.priv {
			w.add(finding(CodePrivilegeEscalation, decision.Deny,
				"a script is run as root by "+k.name+"; review it and run the specific commands you need", k.detail(), riskCompromise))
		}
		return &flow{data: true}
	}
	if k.c.stdin != nil && !(k.rs != nil && k.rs.stdinTCP) {
		if k.c.stage != nil {
			k.c.stage.shellExec = true
		}
		w.execFlow(k, k.c.stdin, k.name+" stdin")
		return &flow{data: true, shell: true}
	}
	// An interactive shell.
	w.facts.interactive = true
	if k.c.stage != nil {
		k.c.stage.shellIO = true
	}
	if privMode {
		return &flow{data: true, shell: true}
	}
	if k.priv {
		w.add(finding(CodePrivilegeEscalation, decision.Deny,
			"this opens a root shell; run the specific command you need with sudo instead", k.detail(), riskCompromise))
		return &flow{data: true, shell: true}
	}
	why := "this starts an interactive shell"
	if len(k.wrappers) > 0 || k.c.via != "" {
		through := append(append([]string(nil), k.wrappers...), k.c.via)
		why = strings.TrimSpace("a shell is started through " + strings.Join(through, " "))
	}
	w.add(finding(CodeShellEscape, decision.Confirm, why+"; run the commands you need directly", k.detail(), riskHigh))
	return &flow{data: true, shell: true}
}

// execFlow judges content a shell or interpreter executes: downloaded,
// decoded, received from the network, a known file or static text.
func (w *walker) execFlow(k *cmd, in *flow, via string) {
	lang := langOf(k.name)
	if in == nil {
		return
	}
	w.facts.interactive = true
	switch {
	case in.net:
		w.add(finding(CodeReverseShell, decision.Deny,
			"commands received from a network connection are executed (reverse shell); this is refused", k.detail(), riskCompromise))
		return
	case in.download:
		w.add(finding(CodeDownloadExec, decision.Deny,
			"downloaded content is executed by "+k.name+"; download, review, then run it separately", k.detail(), riskCompromise))
		if in.textOK {
			w.nestedCode(k, in.text, via, lang)
		}
		return
	case in.decoded:
		w.add(finding(CodeDecodeExec, decision.Deny,
			"decoded or obfuscated content is executed by "+k.name+"; run the plain commands instead", k.detail(), riskCompromise))
		if in.textOK {
			w.nestedCode(k, in.text, via+" (decoded)", lang)
		}
		return
	case in.textOK:
		w.nestedCode(k, in.text, via, lang)
		return
	}
	if len(in.files) > 0 {
		for _, f := range in.files {
			w.execPath(k, f, k.detail())
		}
		if k.priv {
			w.add(finding(CodePrivilegeEscalation, decision.Deny,
				"a script is run as root by "+k.name+"; review it and run the specific commands you need", k.detail(), riskCompromise))
		}
		return
	}
	if in.shell {
		return
	}
	if in.skel != "" {
		// Partly known text (echo "$x" | sh): walk its skeleton; unknown
		// command names are flagged there.
		if !w.dynamicCode(k, field{s: strings.ReplaceAll(in.skel, dynMark, "*"), m: in.skel, dyn: true, flow: passThrough(in)}, via) {
			w.nestedShell(k, in.skel, via)
		}
		return
	}
	// Text produced by local programs (sed over find output, a script's
	// output): what runs is not known, but nothing came from outside.
	w.facts.dynExec = true
	w.add(finding(CodeUnresolvedExec, decision.Notify,
		"commands generated at run time are run by "+k.name+"; review them first", k.detail(), riskLow))
}

// dynamicCode notes code with run-time parts. When the code starts with
// an unknown part, what runs is not known at all: unresolved_exec. It
// reports whether the code is nothing but that unknown part, so that
// there is nothing further to walk.
func (w *walker) dynamicCode(k *cmd, code field, via string) bool {
	if !code.dyn {
		return false
	}
	whole := strings.TrimSpace(code.code()) == dynMark
	w.facts.dynExec = true
	w.unresolved("code passed to " + via + " contains run-time values")
	if !strings.HasPrefix(strings.TrimLeft(code.code(), " \t\n;({\"'"), dynMark) {
		return false
	}
	if fl := code.flow; fl != nil && (fl.download || fl.decoded) {
		// sh -c "$(curl …)", su -c "$(… | base64 -d)": what runs is not
		// unknown, it is a download or a hidden payload, which says more.
		if fl.download {
			w.add(finding(CodeDownloadExec, decision.Deny,
				"downloaded content is executed by "+via+"; download, review, then run it separately", k.detail(), riskCompromise))
		}
		if fl.decoded {
			w.add(finding(CodeDecodeExec, decision.Deny,
				"decoded or obfuscated content is executed by "+via+"; run the plain commands instead", k.detail(), riskCompromise))
		}
		return whole
	}
	if fl := code.flow; fl != nil && !fl.net {
		// eval "$(ssh-agent -s)": output of a local program.
		w.add(finding(CodeUnresolvedExec, decision.Notify,
			"the code passed to "+via+" is the output of a local command; review it first", k.detail(), riskLow))
		return whole
	}
	w.add(finding(CodeUnresolvedExec, decision.Confirm,
		"the code passed to "+via+" is built at run time; run the commands directly", k.detail(), riskMedium))
	return whole
}

// withParams runs fn with $0, $1 … set to params, as sh -c CODE arg0 arg1
// does, and restores the previous values.
func (w *walker) withParams(params []field, fn func()) {
	if len(params) == 0 {
		fn()
		return
	}
	if w.vars == nil {
		w.vars = map[string]varVal{}
	}
	type saved struct {
		v  varVal
		ok bool
	}
	n := min(len(params), 10)
	prev := make([]saved, n)
	for i := 0; i < n; i++ {
		name := strconv.Itoa(i)
		v, ok := w.vars[name]
		prev[i] = saved{v, ok}
		w.vars[name] = varVal{s: params[i].s, dyn: params[i].dyn}
	}
	fn()
	for i := 0; i < n; i++ {
		name := strconv.Itoa(i)
		if prev[i].ok {
			w.vars[name] = prev[i].v
		} else {
			delete(w.vars, name)
		}
	}
}

// deferredShell walks code that is defined now and runs later.
func (w *walker) deferredShell(k *cmd, code, via string) {
	saved := k.c
	c := *k.c
	c.deferred = true
	k.c = &c
	w.nestedShell(k, code, via)
	k.c = saved
}

// nestedShell parses and walks shell code found inside the line.
func (w *walker) nestedShell(k *cmd, code, via string) {
	if strings.TrimSpace(code) == "" {
		return
	}
	if k.c.depth+1 > w.a.opts.MaxDepth {
		w.limit("code nested deeper than " + strconv.Itoa(w.a.opts.MaxDepth) + " levels (" + via + ")")
		return
	}
	f := w.a.parseNested(code)
	if f == nil {
		// Not POSIX shell (fish, elvish, rc …) or broken: scan it as
		// generic code and for redirections from files.
		w.unresolved("could not parse the code passed to " + via)
		if shellRef(code) {
			w.shellSpawn(k, "a shell is started by "+via, true)
		}
		for _, tok := range strings.Fields(code) {
			if strings.HasPrefix(tok, "<") {
				t := strings.Trim(tok[1:], "()'\"")
				if isPathLike(t) {
					w.addPath(analysis.PathRef{Path: t, Op: analysis.OpRead, Privileged: k.priv, Command: k.name})
					w.sideRead(k, field{s: t}, via)
				}
			}
		}
		if k.priv {
			w.add(finding(CodePrivilegeEscalation, decision.Confirm,
				"code Sentinel cannot parse is run as root by "+via+"; run plain commands instead", k.detail(), riskHigh))
		}
		return
	}
	nc := k.c.nested(via)
	nc.src = code
	nc.priv = k.priv
	w.stmts(f.Stmts, nc)
}

// nestedCode analyses code in a given language at depth+1.
func (w *walker) nestedCode(k *cmd, code, via, lang string) {
	if lang == "sh" {
		w.nestedShell(k, code, via)
		return
	}
	w.interpCode(k, code, lang, via)
}

// langOf names the language a program executes.
func langOf(name string) string {
	if shellNames[name] {
		return "sh"
	}
	switch progKey(name) {
	case "python", "pypy", "python2", "python3", "ipython":
		return "python"
	case "perl":
		return "perl"
	case "ruby", "irb":
		return "ruby"
	case "node", "nodejs", "deno", "bun", "jrunscript", "jjs":
		return "js"
	case "php":
		return "php"
	case "lua", "luajit":
		return "lua"
	case "awk", "gawk", "mawk", "nawk", "busybox-awk":
		return "awk"
	case "tclsh", "wish", "expect":
		return "tcl"
	case "osascript":
		return "applescript"
	case "pwsh", "powershell":
		return "powershell"
	}
	return "other"
}
