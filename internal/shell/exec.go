package shell

import (
	"strconv"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// handler analyses one program after its wrappers were peeled.
type handler func(w *walker, k *cmd) *flow

// wrapper peels one wrapper off k. It returns true when k now holds the
// wrapped command, false when the wrapper ran nothing further (out is its
// output then).
type wrapper func(w *walker, k *cmd) (inner bool, out *flow)

// maxPeel bounds wrapper peeling (sudo env nice timeout … rm).
const maxPeel = 24

// exec peels wrappers, records the command and runs its handler.
func (w *walker) exec(k *cmd) *flow {
	k.firstPath = len(w.out.Paths)
	k.firstDest = len(w.out.Dests)
	if k.c.priv {
		k.priv = true
	}
	for peel := 0; ; peel++ {
		if peel > maxPeel {
			w.limit("more than " + strconv.Itoa(maxPeel) + " nested wrappers")
			return nil
		}
		if len(k.args) == 0 {
			return nil
		}
		first := k.args[0]
		if first.dyn {
			return w.dynamicCommand(k)
		}
		if first.subst && first.s != "" {
			if first.flow == nil || !first.flow.lookup {
				k.nameSubst = true
				w.facts.dynExec = true
				w.add(finding(CodeDynamicCommand, decision.Confirm,
					"the program name comes from a command substitution; spell out the command", k.detail(), riskMedium))
			}
		}
		word := first.s
		if word == "" {
			// "" is not a program: the shell reports "command not found".
			return nil
		}
		if strings.HasPrefix(word, "!") && len(word) > 1 && !first.quoted {
			// "!cmd" typed into less, ftp, gdb …: the program runs cmd.
			k.repl = true
			word = strings.TrimLeft(word[1:], " ")
			if word == "" {
				k.args = k.args[1:]
				continue
			}
			k.args[0].s = word
		}
		k.name, k.path = baseName(word)
		if k.name == "" {
			k.name = word
		}
		if k.path != "" && !standardBinDir(k.path) && !isLoader(k.name) && !isShellName(k.name) && !projectWrappers[k.name] {
			// ./rm or /opt/x/bin/script is a file of its own, not the
			// system program of the same name.
			return w.runFile(k)
		}
		wr := w.a.wrappers[k.name]
		if wr == nil {
			break
		}
		inner, out := wr(w, k)
		if !inner {
			return out
		}
	}
	return w.run1(k)
}

// projectWrappers are build tools conventionally run from the project
// directory (./gradlew); they are the tool they wrap.
var projectWrappers = map[string]bool{"gradlew": true, "mvnw": true}

// isLoader reports the dynamic loader, which is run by path.
func isLoader(name string) bool {
	return strings.HasPrefix(name, "ld-linux") || strings.HasPrefix(name, "ld.so") || strings.HasPrefix(name, "ld-musl") || name == "ld64.so.2"
}

// runFile handles a program run from a path outside the system's program
// directories: the generic rules apply and the file is executed.
func (w *walker) runFile(k *cmd) *flow {
	if w.record(k, nil) < 0 {
		return nil
	}
	k.unmodeled = true
	out := w.generic(k)
	w.afterRules(k)
	return out
}

// run1 records k and runs its program handler and the generic rules.
func (w *walker) run1(k *cmd) *flow {
	if w.record(k, nil) < 0 {
		return nil
	}
	if k.c.stage != nil && k.c.stdin != nil && k.c.stdin.net && isShellName(k.name) {
		k.c.stage.shellExec = true
	}
	h := w.a.progs[progKey(k.name)]
	if h == nil {
		if isLoader(k.name) {
			h = (*walker).ldso
		} else {
			h = (*walker).generic
			k.unmodeled = true
		}
	}
	out := h(w, k)
	w.afterRules(k)
	return out
}

// record appends the command to the analysis. It returns -1 when the
// command limit is exceeded.
func (w *walker) record(k *cmd, args []string) int {
	w.ncmds++
	if w.ncmds > w.a.opts.MaxCommands {
		w.limit("more than " + strconv.Itoa(w.a.opts.MaxCommands) + " commands")
		return -1
	}
	if args == nil {
		args = make([]string, 0, len(k.args))
		for _, a := range k.args[min(1, len(k.args)):] {
			args = append(args, a.s)
		}
	}
	dyn := k.nameSubst
	for _, a := range k.args {
		dyn = dyn || a.dyn
	}
	c := analysis.Command{
		Name: k.name, Path: k.path, Args: args, Privileged: k.priv,
		Depth: k.c.depth, Dynamic: dyn, Via: k.c.via,
	}
	if len(k.wrappers) > 0 {
		c.Wrappers = append([]string(nil), k.wrappers...)
	}
	if k.repl && c.Via == "" {
		c.Via = "interactive input"
	}
	w.out.Commands = append(w.out.Commands, c)
	if k.priv {
		w.out.Privileged = true
	}
	return len(w.out.Commands) - 1
}

func (w *walker) dynamicCommand(k *cmd) *flow {
	k.name = "*"
	w.record(k, nil)
	w.facts.dynExec = true
	if k.c.stdin != nil && k.c.stdin.net {
		w.facts.tcpFD = true
	}
	act := decision.Confirm
	if k.c.deferred {
		// An alias or a cron line: nothing runs now; it is judged again
		// when it does.
		act = decision.Notify
	}
	w.add(finding(CodeDynamicCommand, act,
		"the program to run is not statically known; spell out the command", k.detail(), riskMedium))
	w.unresolved("command name in: " + clip(k.detail()))
	return &flow{data: true}
}

// progKey maps versioned names (python3.11, perl5.36, php8.2) to the
// table key.
func progKey(name string) string {
	n := name
	for i := 0; i < len(n); i++ {
		if c := n[i]; c >= 'A' && c <= 'Z' {
			n = strings.ToLower(n)
			break
		}
	}
	n = strings.TrimSuffix(n, ".exe")
	for _, p := range []string{"python", "perl", "ruby", "php", "lua", "node", "pypy", "tclsh", "wish", "pip", "idle"} {
		if strings.HasPrefix(n, p) && n != p {
			rest := n[len(p):]
			if strings.Trim(rest, "0123456789.-") == "" {
				return p
			}
		}
	}
	return n
}

// inner makes the remaining args (from index i) the wrapped command.
func (k *cmd) inner(i int, wrapperName string) {
	if i > len(k.args) {
		i = len(k.args)
	}
	k.args = k.args[i:]
	k.wrappers = append(k.wrappers, wrapperName)
}

// standardBinDir reports whether dir holds system programs; running
// /usr/bin/rm is running rm, not executing a workspace file.
func standardBinDir(p string) bool {
	d := p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		d = p[:i]
	}
	switch d {
	case "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin",
		"/opt/homebrew/bin", "/usr/libexec", "/system/bin":
		return true
	}
	return false
}

// afterRules applies the rules every command gets after its handler.
func (w *walker) afterRules(k *cmd) {
	// A program run from a path: record the exec, and judge what this
	// line put there.
	if k.path != "" && !standardBinDir(k.path) {
		w.execPath(k, k.path, k.detail())
	}
	// "!sh" typed into an interactive program.
	if k.repl && isShellName(k.name) {
		w.shellSpawn(k, "a shell is started from inside an interactive program", false)
	}
	// A shell named in the arguments of a program that runs commands.
	if !dataOnly[k.name] && !isShellName(k.name) && langOf(k.name) == "other" && !k.unmodeled {
		w.shellRefArgs(k)
	}
	w.envCommandRules(k)
	if k.priv {
		w.privileged(k)
	}
	if len(w.facts.shellFiles) > 0 && !inert[k.name] && !w.facts.ranAfterShellFile {
		w.facts.ranAfterShellFile = true
		w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm),
			"a file written by this command line starts a shell, and "+k.name+" runs afterwards and may load it; run the intended commands directly",
			k.detail(), riskHigh))
	}
}

// inert programs neither run commands nor load configuration; running
// one after writing a shell-starting file is harmless.
var inert = map[string]bool{
	"touch": true, "mkdir": true, "chmod": true, "chown": true, "printf": true, "echo": true, "tee": true,
	"mv": true, "cp": true, "ln": true, "cat": true, "ls": true, "grep": true, "head": true, "tail": true,
	"wc": true, "test": true, "[": true, "true": true, "false": true, "sleep": true, "rm": true, "stat": true,
	"file": true, "diff": true, "sort": true, "uniq": true, "cut": true, "md5sum": true, "sha256sum": true,
}

// execPath records that a file is executed and applies the rules for
// files this line downloaded or wrote.
func (w *walker) execPath(k *cmd, p, detail string) {
	w.addPath(analysis.PathRef{Path: p, Op: analysis.OpExec, Privileged: k.priv, Command: k.name})
	cp := cleanPath(p)
	for f, from := range w.facts.downloaded {
		if cleanPath(f) == cp {
			w.add(finding(CodeDownloadExec, decision.Deny,
				"a file downloaded in this command is executed; download, review, then run it separately",
				detail+" (downloaded "+from+")", riskCompromise))
		}
	}
	if w.facts.decodedFiles[cp] {
		w.add(finding(CodeDecodeExec, decision.Deny,
			"a file decoded in this command is executed; run the plain commands instead", detail, riskCompromise))
	}
	for f, content := range w.facts.written {
		if cleanPath(f) == cp {
			w.nestedCode(k, content, "script written in this line", "sh")
			return
		}
	}
}

// escalate returns deny for privileged commands and act otherwise.
func (w *walker) escalate(k *cmd, act decision.Action) decision.Action {
	if k.priv {
		return decision.Deny
	}
	return act
}

// generic handles programs Sentinel has no specific knowledge of: operands
// and option values that look like paths are recorded as reads, and
// arguments that start a shell are flagged.
func (w *walker) generic(k *cmd) *flow {
	w.pathArgs(k, k.args[1:], analysis.OpRead)
	w.shellRefArgs(k)
	for _, a := range k.args[1:] {
		if strings.Contains(a.s, "://") && !strings.HasPrefix(a.s, "file://") {
			// An unknown program given a URL may well fetch it.
			w.dest(k, strings.TrimPrefix(a.s, "@"), false, "")
			return &flow{data: true, download: true}
		}
	}
	return &flow{data: true, generated: true}
}

// pathArgs records path-like operands, option values (--x=/p, -f/p is
// not split), @file arguments, file:// URLs and absolute paths inside
// arguments ("Include /etc/x").
func (w *walker) pathArgs(k *cmd, args []field, op analysis.Op) {
	for _, a := range args {
		for _, s := range pathCandidates(a.s) {
			w.addPath(analysis.PathRef{Path: s, Op: op, Dynamic: a.dyn, Privileged: k.priv, Command: k.name})
		}
	}
}

// pathCandidates extracts the paths an argument names.
func pathCandidates(s string) []string {
	if s == "" || len(s) > 4096 {
		return nil
	}
	if strings.HasPrefix(s, "-") {
		_, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil
		}
		s = v
	}
	s = strings.TrimPrefix(s, "@")
	if strings.HasPrefix(s, "file://") {
		return []string{strings.TrimPrefix(s, "file://")}
	}
	if strings.Contains(s, "://") {
		return nil
	}
	if isPathLike(s) {
		return []string{s}
	}
	if !strings.ContainsAny(s, " \t,;") {
		return nil
	}
	var out []string
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == ',' || r == ';' || r == '\'' || r == '"' || r == '{' || r == '}' || r == '(' || r == ')' || r == '<' || r == '>'
	}) {
		if strings.HasPrefix(tok, "/") && len(tok) > 1 || strings.HasPrefix(tok, "~/") {
			out = append(out, tok)
		}
	}
	return out
}

// shellRefArgs flags arguments that hand a shell to a program to run.
func (w *walker) shellRefArgs(k *cmd) {
	if dataOnly[k.name] {
		return
	}
	for _, a := range k.args[1:] {
		if shellRefArg(a.s) {
			w.shellSpawn(k, k.name+" is given a shell to run", true)
			return
		}
	}
}

// shellSpawn reports a shell started from within another program: a
// shell escape, or privilege escalation when the program runs as root.
func (w *walker) shellSpawn(k *cmd, why string, viaProgram bool) {
	if k.priv {
		w.add(finding(CodePrivilegeEscalation, decision.Deny,
			"this starts a root shell ("+why+"); run the specific command you need instead", k.detail(), riskCompromise))
		return
	}
	w.add(finding(CodeShellEscape, decision.Confirm,
		why+"; run the commands you need directly", k.detail(), riskHigh))
}

// dataOnly programs take shell paths as data (grep /bin/bash /etc/passwd,
// chsh -s /bin/zsh); a shell named in their arguments is not run.
var dataOnly = map[string]bool{
	"echo": true, "printf": true, "grep": true, "egrep": true, "fgrep": true, "rg": true, "ag": true,
	"which": true, "type": true, "whereis": true, "whatis": true, "apropos": true, "command": true,
	"chsh": true, "usermod": true, "useradd": true, "adduser": true, "ls": true, "stat": true,
	"file": true, "readlink": true, "realpath": true, "test": true, "[": true, "[[": true,
	"cat": true, "ln": true, "cp": true, "install": true, "diff": true, "cmp": true, "getent": true,
	"dpkg": true, "rpm": true, "find": true, "locate": true, "strings": true, "md5sum": true,
	"sha1sum": true, "sha256sum": true, "head": true, "tail": true, "wc": true, "sed": true,
	"awk": true, "basename": true, "dirname": true, "ldd": true, "objdump": true, "nm": true,
	"readelf": true, "man": true, "info": true, "help": true, "hash": true, "alias": true,
	"unalias": true, "export": true, "tr": true, "cut": true, "sort": true, "uniq": true,
	"xxd": true, "od": true, "hexdump": true, "touch": true, "mkdir": true, "chmod": true,
	"chown": true, "chgrp": true, "rm": true, "mv": true, "du": true, "df": true, "tee": true,
	"docker": true, "podman": true, "kubectl": true, "git": true, "ssh": true, "scp": true,
	"su": true, "sudo": true, "env": true, "tar": true, "zip": true, "unzip": true,
	"mount": true, "umount": true, "update-alternatives": true, "tmux": true, "screen": true,
	"file-rename": true, "rename": true, "pgrep": true, "pkill": true, "ps": true, "kill": true,
	"killall": true, "lsof": true, "fuser": true, "strace": true, "gdb": true, "xargs": true,
	"compgen": true, "complete": true, "set": true, "declare": true, "local": true, "read": true,
}

// hook handles a program option that names a command to run (tar
// --to-command, zip -TT, rsync -e …): a shell there is a shell escape,
// and the command itself is analysed.
func (w *walker) hook(k *cmd, value field, via string) {
	if value.dyn {
		w.facts.dynExec = true
		w.unresolved("command given to " + via)
	}
	if shellRef(value.s) {
		w.shellSpawn(k, via+" runs a shell", true)
	} else if outsideWorkspace(value.s) && classify(value.s) != locSystem && !strings.ContainsAny(value.s, " ") {
		w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm),
			via+" runs "+value.s+"; run the command directly", k.detail(), riskHigh))
	}
	if w.madeExecutable(value.s) {
		w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm),
			via+" runs a script written in this line; run the commands directly", k.detail(), riskHigh))
	}
	if k.priv && strings.TrimSpace(value.s) != "" && !shellRef(value.s) {
		w.add(finding(CodePrivilegeEscalation, decision.Confirm,
			"root runs the command given to "+via+"; say why it is needed", k.detail(), riskHigh))
	}
	w.nestedShell(k, value.code(), via)
}

func (w *walker) madeExecutable(p string) bool {
	if p == "" {
		return false
	}
	first, _, _ := strings.Cut(strings.TrimSpace(p), " ")
	return w.facts.madeExec[cleanPath(first)]
}
