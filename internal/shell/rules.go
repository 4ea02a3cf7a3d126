package shell

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// finish applies the rules that need the whole line.
func (w *walker) finish() {
	if w.facts.tcpFD && (w.facts.interactive || w.facts.dynExec) {
		w.add(finding(CodeReverseShell, decision.Deny,
			"a network stream is opened and commands are run through it (reverse shell); this is refused", "/dev/tcp stream with a shell or dynamic command", riskCompromise))
	}
	if len(w.out.Findings) > 1 {
		w.dedupe()
	}
}

// dedupe drops notices that a stronger finding of the same code and
// detail already covers.
func (w *walker) dedupe() {
	out := w.out.Findings[:0]
	for i, f := range w.out.Findings {
		dup := false
		for j, g := range w.out.Findings {
			if i != j && g.Code == f.Code && g.Detail == f.Detail && g.Action > f.Action {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, f)
		}
	}
	w.out.Findings = out
}

// loopRules recognises `while true; do $0 & done`-style self-spawning.
func (w *walker) loopRules(x *syntax.WhileClause, c *ctx) {
	if x.Until || !infiniteCond(x.Cond) {
		return
	}
	for _, s := range x.Do {
		if !s.Background {
			continue
		}
		if spawnsSelf(s, "") {
			w.add(finding(CodeForkBomb, decision.Deny,
				"an endless loop keeps starting copies of the shell in the background (fork bomb); this is refused", fragment(c, x), riskCatastrophic))
			return
		}
	}
}

func infiniteCond(cond []*syntax.Stmt) bool {
	if len(cond) != 1 {
		return false
	}
	ce, ok := cond[0].Cmd.(*syntax.CallExpr)
	if !ok || len(ce.Args) == 0 {
		return false
	}
	switch ce.Args[0].Lit() {
	case "true", ":":
		return true
	case "[", "test":
		return len(ce.Args) >= 2 && ce.Args[1].Lit() == "1"
	}
	return false
}

// spawnsSelf reports whether a statement runs the shell itself ($0, sh,
// bash) or the named function.
func spawnsSelf(s *syntax.Stmt, fn string) bool {
	found := false
	syntax.Walk(s, func(n syntax.Node) bool {
		ce, ok := n.(*syntax.CallExpr)
		if !ok || len(ce.Args) == 0 || found {
			return !found
		}
		w0 := ce.Args[0]
		if len(w0.Parts) == 1 {
			if pe, ok := w0.Parts[0].(*syntax.ParamExp); ok && pe.Param != nil && pe.Param.Value == "0" {
				found = true
				return false
			}
		}
		name := w0.Lit()
		if fn != "" && name == fn {
			found = true
			return false
		}
		if fn == "" && isShellName(baseOf(name)) && len(ce.Args) >= 2 {
			if len(ce.Args[1].Parts) == 1 {
				if pe, ok := ce.Args[1].Parts[0].(*syntax.ParamExp); ok && pe.Param != nil && pe.Param.Value == "0" {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// funcRules recognises :(){ :|:& };: and other functions that call
// themselves in the background or in a pipeline.
func (w *walker) funcRules(x *syntax.FuncDecl, names []*syntax.Lit, c *ctx) {
	for _, n := range names {
		fn := n.Value
		selfCalls := 0
		background := false
		piped := false
		syntax.Walk(x.Body, func(node syntax.Node) bool {
			switch t := node.(type) {
			case *syntax.Stmt:
				if t.Background && spawnsSelf(t, fn) {
					background = true
				}
			case *syntax.BinaryCmd:
				if (t.Op == syntax.Pipe || t.Op == syntax.PipeAll) && spawnsSelf(t.X, fn) && spawnsSelf(t.Y, fn) {
					piped = true
				}
			case *syntax.CallExpr:
				if len(t.Args) > 0 && t.Args[0].Lit() == fn {
					selfCalls++
				}
			}
			return selfCalls < 64
		})
		if piped || background && selfCalls > 0 {
			w.add(finding(CodeForkBomb, decision.Deny,
				"the function "+fn+" keeps starting copies of itself (fork bomb); this is refused", fragment(c, x), riskCatastrophic))
			return
		}
	}
}

// envRules applies to NAME=value assignments, both shell variables and a
// command's environment.
func (w *walker) envRules(name string, val field, s *syntax.Stmt, c *ctx, shellVar bool) {
	detail := fragment(c, s)
	switch name {
	case "HISTFILE":
		if val.s == "" || val.s == "/dev/null" {
			w.add(finding(CodeHistoryWipe, decision.Confirm, "this disables shell history; say why it is needed", detail, riskMedium))
		}
	case "HISTSIZE", "HISTFILESIZE", "SAVEHIST":
		if val.s == "0" || val.s == "" {
			w.add(finding(CodeHistoryWipe, decision.Confirm, "this disables shell history; say why it is needed", detail, riskMedium))
		}
	case "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "DYLD_INSERT_LIBRARIES", "DYLD_LIBRARY_PATH":
		if val.s == "" {
			return
		}
		act := decision.Confirm
		if c.priv {
			act = decision.Deny
		}
		w.add(finding(CodeLibraryLoad, act, name+" makes programs load "+val.s+"; link the library normally or say why", detail, riskHigh))
	}
}

// commandEnv lists environment variables that name a program another
// program will run.
var commandEnv = map[string]bool{
	"PAGER": true, "GIT_PAGER": true, "MANPAGER": true, "SYSTEMD_PAGER": true, "EDITOR": true, "VISUAL": true,
	"SYSTEMD_EDITOR": true, "LESSOPEN": true, "LESSCLOSE": true, "GIT_SSH": true, "GIT_SSH_COMMAND": true,
	"GIT_EDITOR": true, "GIT_EXTERNAL_DIFF": true, "GIT_ASKPASS": true, "SSH_ASKPASS": true, "SUDO_ASKPASS": true,
	"CRASHPAGER": true, "PERL5DB": true, "BASH_ENV": true, "ENV": true, "PROMPT_COMMAND": true, "AUTOM4TE": true,
	"RESTIC_PASSWORD_COMMAND": true, "BROWSER": true, "TERMINAL": true, "SHELL": true, "FCEDIT": true,
	"GIT_SEQUENCE_EDITOR": true, "KUBE_EDITOR": true, "SVN_EDITOR": true, "BORG_RSH": true, "RSYNC_RSH": true,
	"CVS_RSH": true, "DIFFPROG": true,
}

// envCommandRules judges a command's environment: variables that name a
// program to run, and Perl's debugger hooks.
func (w *walker) envCommandRules(k *cmd) {
	for _, e := range k.env {
		name, v := e.name, e.val
		switch {
		case commandEnv[name] || strings.HasSuffix(name, "_COMMAND") || strings.HasSuffix(name, "_PAGER") || strings.HasSuffix(name, "_EDITOR"):
			val := strings.TrimLeft(strings.TrimSpace(v.s), "|")
			if name == "LESSOPEN" || name == "LESSCLOSE" {
				val = strings.TrimSpace(strings.Split(val, "%s")[0])
				val = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(val), "#"))
				// LESSOPEN prints the name of the file less shows.
				if f := strings.Fields(val); len(f) == 2 && f[0] == "echo" {
					w.ref(k, field{s: f[1]}, analysis.OpRead, false)
					w.sideRead(k, field{s: f[1]}, "LESSOPEN")
				}
			}
			if val == "" {
				continue
			}
			w.hook(k, field{s: val, dyn: v.dyn}, name+"=")
		case name == "PERL5OPT" && strings.Contains(v.s, "-d"), name == "PERL5DB":
			w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm), "Perl is made to run debugger code from the environment; run the code directly", k.detail(), riskHigh))
			w.interpCode(k, v.s, "perl", name)
		case name == "GROFF_BIN_PATH" || name == "PATH" && (strings.HasPrefix(v.s, ".") || strings.Contains(v.s, ":.") || strings.HasPrefix(v.s, ":") || k.priv && pathHasUserDir(v.s)):
			w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm), name+" makes "+k.name+" run programs from "+v.s+"; say why it is needed", k.detail(), riskMedium))
		case name == "PYTHONSTARTUP" || name == "PYTHONPATH" && k.priv || name == "RUBYOPT" || name == "NODE_OPTIONS" && strings.Contains(v.s, "-r"):
			w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm), name+" makes the interpreter load extra code; say why it is needed", k.detail(), riskMedium))
		}
	}
}

// pathHasUserDir reports a PATH with a directory outside the system's
// program directories (root running programs from a user's directory).
func pathHasUserDir(v string) bool {
	for _, d := range strings.Split(v, ":") {
		if d == "" || d == "*" {
			continue
		}
		switch classify(d) {
		case locSystem, locDynamic:
		default:
			return true
		}
	}
	return false
}
