package shell

import (
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// wrapperTable lists the programs that run another program given in
// their arguments. Each entry skips the wrapper's own options and leaves
// the wrapped command in k.args.
func wrapperTable() map[string]wrapper {
	simple := func(sp spec, name string) wrapper {
		return func(w *walker, k *cmd) (bool, *flow) { return peelSimple(w, k, sp, name, 0) }
	}
	withOperand := func(sp spec, name string, operands int) wrapper {
		return func(w *walker, k *cmd) (bool, *flow) { return peelSimple(w, k, sp, name, operands) }
	}
	t := map[string]wrapper{
		"sudo": (*walker).sudo,
		"sudoedit": func(w *walker, k *cmd) (bool, *flow) {
			k.priv = true
			k.wrappers = append(k.wrappers, "sudo")
			w.editFiles(k, k.args[1:])
			return false, nil
		},
		"doas":    (*walker).doas,
		"pkexec":  (*walker).pkexec,
		"run0":    (*walker).run0,
		"su":      (*walker).su,
		"runuser": (*walker).su,
		"env":     (*walker).env,
		"nohup":   simple(spec{stopAtFirst: true}, "nohup"),
		"time":    simple(spec{short: "fo", long: []string{"--format", "--output"}, stopAtFirst: true}, "time"),
		"command": (*walker).commandBuiltin,
		"builtin": simple(spec{stopAtFirst: true}, "builtin"),
		"exec":    simple(spec{short: "a", stopAtFirst: true}, "exec"),
		"timeout": withOperand(spec{short: "ks", long: []string{"--kill-after", "--signal"}, stopAtFirst: true}, "timeout", 1),
		"nice":    (*walker).nice,
		"ionice": func(w *walker, k *cmd) (bool, *flow) {
			p := parse(k.args[1:], spec{short: "cnpPu", long: []string{"--class", "--classdata", "--pid", "--pgid", "--uid"}, stopAtFirst: true})
			if p.has("-p", "-P", "-u", "--pid", "--pgid", "--uid") {
				return false, nil
			}
			return peelSimple(w, k, spec{short: "cnpPu", long: []string{"--class", "--classdata"}, stopAtFirst: true}, "ionice", 0)
		},
		"stdbuf":            simple(spec{short: "ioe", long: []string{"--input", "--output", "--error"}, stopAtFirst: true}, "stdbuf"),
		"chroot":            (*walker).chroot,
		"busybox":           (*walker).busybox,
		"xargs":             (*walker).xargs,
		"parallel":          (*walker).parallel,
		"watch":             (*walker).watch,
		"strace":            simple(spec{short: "abeEIoOpPsSuX", long: []string{"--output", "--signal", "--trace", "--user", "--env"}, stopAtFirst: true}, "strace"),
		"ltrace":            simple(spec{short: "aAeEFlLnopsSuwxX", long: []string{"--output", "--library"}, stopAtFirst: true}, "ltrace"),
		"setsid":            simple(spec{stopAtFirst: true}, "setsid"),
		"unbuffer":          simple(spec{stopAtFirst: true}, "unbuffer"),
		"flock":             (*walker).flock,
		"firejail":          (*walker).firejail,
		"tsocks":            simple(spec{stopAtFirst: true}, "tsocks"),
		"proxychains":       simple(spec{short: "f", stopAtFirst: true}, "proxychains"),
		"proxychains4":      simple(spec{short: "f", stopAtFirst: true}, "proxychains4"),
		"torify":            simple(spec{stopAtFirst: true}, "torify"),
		"torsocks":          simple(spec{short: "aPupd", stopAtFirst: true}, "torsocks"),
		"script":            (*walker).script,
		"rlwrap":            simple(spec{short: "abCfgHlOpPqsStwz", long: []string{"--history-filename", "--file", "--filter", "--prompt-colour", "--substitute-prompt"}, stopAtFirst: true}, "rlwrap"),
		"caffeinate":        simple(spec{short: "tw", stopAtFirst: true}, "caffeinate"),
		"taskset":           (*walker).taskset,
		"chrt":              (*walker).chrt,
		"cpulimit":          simple(spec{short: "lpe", long: []string{"--limit", "--pid", "--exe"}, stopAtFirst: true}, "cpulimit"),
		"aa-exec":           simple(spec{short: "pn", long: []string{"--profile", "--namespace"}, stopAtFirst: true}, "aa-exec"),
		"aoss":              simple(spec{stopAtFirst: true}, "aoss"),
		"choom":             simple(spec{short: "np", long: []string{"--adjust", "--pid"}, stopAtFirst: true}, "choom"),
		"distcc":            simple(spec{stopAtFirst: true}, "distcc"),
		"multitime":         simple(spec{short: "nrs", stopAtFirst: true}, "multitime"),
		"pexec":             simple(spec{short: "nprRcoe", stopAtFirst: true}, "pexec"),
		"softlimit":         simple(spec{short: "mdslaofcrtp", stopAtFirst: true}, "softlimit"),
		"setlock":           withOperand(spec{stopAtFirst: true}, "setlock", 1),
		"sshpass":           simple(spec{short: "pfdP", stopAtFirst: true}, "sshpass"),
		"ssh-agent":         (*walker).sshAgent,
		"logsave":           withOperand(spec{stopAtFirst: true}, "logsave", 1),
		"unshare":           (*walker).unshare,
		"nsenter":           (*walker).nsenter,
		"setarch":           (*walker).setarch,
		"linux32":           (*walker).setarch,
		"linux64":           (*walker).setarch,
		"grc":               simple(spec{short: "c", long: []string{"--config"}, stopAtFirst: true}, "grc"),
		"fakeroot":          (*walker).fakeroot,
		"faketime":          withOperand(spec{short: "m", stopAtFirst: true}, "faketime", 1),
		"eatmydata":         simple(spec{stopAtFirst: true}, "eatmydata"),
		"nocache":           simple(spec{stopAtFirst: true}, "nocache"),
		"chronic":           simple(spec{stopAtFirst: true}, "chronic"),
		"catchsegv":         simple(spec{stopAtFirst: true}, "catchsegv"),
		"numactl":           simple(spec{short: "CNmpPi", stopAtFirst: true}, "numactl"),
		"prlimit":           simple(spec{short: "p", stopAtFirst: true}, "prlimit"),
		"dbus-run-session":  simple(spec{stopAtFirst: true}, "dbus-run-session"),
		"tini":              simple(spec{short: "sepl", stopAtFirst: true}, "tini"),
		"dumb-init":         simple(spec{stopAtFirst: true}, "dumb-init"),
		"perf":              (*walker).perf,
		"valgrind":          simple(spec{stopAtFirst: true}, "valgrind"),
		"start-stop-daemon": (*walker).startStopDaemon,
		"xdotool": func(w *walker, k *cmd) (bool, *flow) {
			if len(k.args) > 1 && k.args[1].s == "exec" {
				return peelSimple(w, k, spec{stopAtFirst: true}, "xdotool exec", 1)
			}
			return false, w.run1(k)
		},
		"sg":     (*walker).sg,
		"newgrp": func(w *walker, k *cmd) (bool, *flow) { return false, w.run1(k) },
		"systemd-run": func(w *walker, k *cmd) (bool, *flow) {
			sp := spec{short: "upMpE", long: []string{"--unit", "--property", "--description", "--slice", "--uid", "--gid", "--setenv", "--working-directory", "--machine", "--on-calendar", "--on-active"}, stopAtFirst: true}
			if p := parse(k.args[1:], sp); (p.has("-S", "--shell")) && len(p.pos) == 0 {
				k.args = []field{{s: "sh"}}
				k.wrappers = append(k.wrappers, "systemd-run")
				return true, nil
			}
			return peelSimple(w, k, sp, "systemd-run", 0)
		},
		"ip": func(w *walker, k *cmd) (bool, *flow) {
			// ip netns exec NAME CMD
			s := k.strs()
			if len(s) > 4 && s[1] == "netns" && s[2] == "exec" {
				k.inner(4, "ip netns exec")
				return true, nil
			}
			return false, w.run1(k)
		},
	}
	return t
}

// peelSimple skips the wrapper's options and the given number of
// operands before the wrapped command.
func peelSimple(w *walker, k *cmd, sp spec, name string, operands int) (bool, *flow) {
	args := k.args[1:]
	i := 0
	for i < len(args) {
		s := args[i].s
		if s == "--" {
			i++
			break
		}
		if !strings.HasPrefix(s, "-") || len(s) == 1 || args[i].dyn {
			break
		}
		if strings.HasPrefix(s, "--") {
			name, _, eq := strings.Cut(s, "=")
			if !eq && sp.longTakes(name) {
				i++
			}
			i++
			continue
		}
		body := s[1:]
		consumed := false
		for j := 0; j < len(body); j++ {
			if strings.IndexByte(sp.short, body[j]) >= 0 {
				if j == len(body)-1 {
					consumed = true
					if i+1 < len(args) {
						w.wrapperOptionPath(k, name, body[j], args[i+1])
					}
				} else {
					w.wrapperOptionPath(k, name, body[j], field{s: body[j+1:], dyn: args[i].dyn})
				}
				break
			}
		}
		i++
		if consumed {
			i++
		}
	}
	i += operands
	if i >= len(args) {
		// The wrapper was given no command.
		return false, w.run1(k)
	}
	k.inner(i+1, name)
	return true, nil
}

// wrapperOptionPath records a path given to a wrapper option: strace -o
// and ltrace -o write a log, others (ltrace -F, rlwrap -l) read or write.
func (w *walker) wrapperOptionPath(k *cmd, wrapperName string, opt byte, v field) {
	if !isPathLike(v.s) || quietDevices[v.s] {
		return
	}
	op := analysis.OpRead
	if opt == 'o' || wrapperName == "rlwrap" && opt == 'l' {
		op = analysis.OpWrite
	}
	w.addPath(analysis.PathRef{Path: v.s, Op: op, Dynamic: v.dyn, Privileged: k.priv, Command: wrapperName})
	if k.priv && !v.dyn && (op == analysis.OpRead && privReadRisky(v.s) || op == analysis.OpWrite && privWriteRisky(v.s)) {
		w.add(finding(CodePrivilegeEscalation, decision.Confirm,
			wrapperName+" is given "+v.s+" as root, outside the workspace; say why it is needed", k.detail(), riskHigh))
	}
}

func isRootUser(u string) bool {
	switch u {
	case "", "root", "0", "#0":
		return true
	}
	return false
}

// sudo peels sudo's options. sudo -i and sudo -s without a command open a
// root shell; sudo -e edits files as root; VAR=value operands set the
// wrapped command's environment.
func (w *walker) sudo(k *cmd) (bool, *flow) {
	args := k.args[1:]
	user := ""
	var shell, login, edit, list bool
	i := 0
	for i < len(args) {
		a := args[i]
		s := a.s
		if s == "--" {
			i++
			break
		}
		if !strings.HasPrefix(s, "-") || len(s) == 1 || a.dyn {
			break
		}
		if strings.HasPrefix(s, "--") {
			name, val, eq := strings.Cut(s, "=")
			switch name {
			case "--user":
				if !eq && i+1 < len(args) {
					i++
					val = args[i].s
				}
				user = val
			case "--group", "--close-from", "--chdir", "--host", "--prompt", "--role", "--type", "--command-timeout", "--other-user", "--chroot":
				if !eq {
					i++
				}
			case "--shell":
				shell = true
			case "--login":
				login = true
			case "--edit":
				edit = true
			case "--list", "--validate", "--version", "--help", "--reset-timestamp", "--remove-timestamp":
				list = true
			}
			i++
			continue
		}
		body := s[1:]
		consumed := false
		for j := 0; j < len(body); j++ {
			ch := body[j]
			if strings.IndexByte("CDghprRtTUu", ch) >= 0 {
				val := body[j+1:]
				if val == "" && i+1 < len(args) {
					consumed = true
					val = args[i+1].s
				}
				if ch == 'u' {
					user = val
				}
				break
			}
			switch ch {
			case 's':
				shell = true
			case 'i':
				login = true
			case 'e':
				edit = true
			case 'l', 'v', 'V', 'k', 'K', 'h':
				list = true
			}
		}
		i++
		if consumed {
			i++
		}
	}
	root := isRootUser(user)
	k.wrappers = append(k.wrappers, "sudo")
	if root {
		k.priv = true
	}
	rest := args[min(i, len(args)):]
	// VAR=value operands are environment settings for the command.
	for len(rest) > 0 && isAssignWord(rest[0].s) {
		name, val, _ := strings.Cut(rest[0].s, "=")
		k.env = append(k.env, envVar{name: name, val: field{s: val, dyn: rest[0].dyn}})
		w.envRules(name, field{s: val, dyn: rest[0].dyn}, k.st, k.c, false)
		rest = rest[1:]
	}
	if edit {
		w.editFiles(k, rest)
		return false, nil
	}
	if len(rest) == 0 {
		k.name = "sudo"
		w.record(k, nil)
		if (shell || login) && root {
			w.add(finding(CodePrivilegeEscalation, decision.Deny,
				"this opens a root shell; run the specific command you need with sudo instead", k.detail(), riskCompromise))
		} else if (shell || login) && !root {
			w.add(finding(CodePrivileged, decision.Notify, "opens a shell as user "+user, k.detail(), riskLow))
		} else if !list {
			w.unresolved("sudo without a command")
		}
		return false, nil
	}
	k.args = rest
	return true, nil
}

func isAssignWord(s string) bool {
	name, _, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return false
	}
	for i, r := range name {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// editFiles handles sudoedit / sudo -e: the files are written as root.
func (w *walker) editFiles(k *cmd, files []field) {
	k.name = "sudoedit"
	k.priv = true
	w.record(k, nil)
	for _, f := range files {
		w.addPath(analysis.PathRef{Path: f.s, Op: analysis.OpWrite, Privileged: true, Dynamic: f.dyn, Command: "sudoedit"})
		w.sensitiveWriteRules(k, f.s, "sudoedit")
	}
	w.add(finding(CodePrivileged, decision.Notify, "files are edited as root", k.detail(), riskLow))
}

func (w *walker) doas(k *cmd) (bool, *flow) {
	p := parse(k.args[1:], spec{short: "uC", stopAtFirst: true})
	user, _ := p.val("-u")
	k.wrappers = append(k.wrappers, "doas")
	if isRootUser(user.s) {
		k.priv = true
	}
	if len(p.pos) == 0 {
		k.name = "doas"
		w.record(k, nil)
		if p.has("-s") && k.priv {
			w.add(finding(CodePrivilegeEscalation, decision.Deny,
				"this opens a root shell; run the specific command you need instead", k.detail(), riskCompromise))
		}
		return false, nil
	}
	k.args = p.pos
	return true, nil
}

func (w *walker) pkexec(k *cmd) (bool, *flow) {
	p := parse(k.args[1:], spec{long: []string{"--user"}, stopAtFirst: true})
	user, _ := p.val("--user")
	return w.runAs(k, "pkexec", p, user)
}

func (w *walker) run0(k *cmd) (bool, *flow) {
	p := parse(k.args[1:], spec{short: "ugD", long: []string{"--user", "--group", "--chdir", "--nice", "--setenv", "--unit", "--property", "--description", "--slice", "--machine", "--background", "--shell-prompt-prefix"}, stopAtFirst: true})
	user, _ := p.val("-u", "--user")
	return w.runAs(k, "run0", p, user)
}

// runAs peels a wrapper that runs its operands as another user (root by
// default); without operands it opens that user's shell.
func (w *walker) runAs(k *cmd, name string, p parsed, user field) (bool, *flow) {
	k.wrappers = append(k.wrappers, name)
	if isRootUser(user.s) {
		k.priv = true
	}
	if len(p.pos) == 0 {
		k.name = name
		w.record(k, nil)
		if k.priv {
			w.add(finding(CodePrivilegeEscalation, decision.Deny,
				"this opens a root shell; run the specific command you need instead", k.detail(), riskCompromise))
		}
		return false, nil
	}
	k.args = p.pos
	return true, nil
}

// su [options] [-] [user [args]]: -c runs a command string as the user;
// without it su opens the user's shell.
func (w *walker) su(k *cmd) (bool, *flow) {
	isRunuser := k.name == "runuser"
	args := k.args[1:]
	var code *field
	user := ""
	userSet := false
	var extra []field
	for i := 0; i < len(args); i++ {
		a := args[i]
		s := a.s
		switch {
		case s == "-" || s == "-l" || s == "--login" || s == "-m" || s == "-p" || s == "--preserve-environment" || s == "-P" || s == "--pty" || s == "-f":
		case s == "-c" || s == "--command" || s == "--session-command":
			if i+1 < len(args) {
				i++
				c := args[i]
				code = &c
			}
		case strings.HasPrefix(s, "--command=") || strings.HasPrefix(s, "--session-command="):
			_, v, _ := strings.Cut(s, "=")
			code = &field{s: v, dyn: a.dyn}
		case s == "-s" || s == "--shell" || s == "-g" || s == "--group" || s == "-G" || s == "--supp-group" || s == "-w" || s == "--whitelist-environment":
			i++
		case isRunuser && s == "-u":
			if i+1 < len(args) {
				i++
				user, userSet = args[i].s, true
				// runuser -u user [--] cmd args
				rest := args[i+1:]
				if len(rest) > 0 && rest[0].s == "--" {
					rest = rest[1:]
				}
				k.wrappers = append(k.wrappers, "runuser")
				if isRootUser(user) {
					k.priv = true
				}
				if len(rest) == 0 {
					return false, w.run1(k)
				}
				k.args = rest
				return true, nil
			}
		case strings.HasPrefix(s, "--") && strings.Contains(s, "="):
		case strings.HasPrefix(s, "-") && len(s) > 1 && !userSet:
			// Combined short options such as -cp: treat the first letter.
			if strings.HasPrefix(s, "-c") && len(s) > 2 {
				code = &field{s: s[2:], dyn: a.dyn}
			}
		default:
			if !userSet {
				user, userSet = s, true
			} else {
				extra = append(extra, a)
			}
		}
	}
	root := isRootUser(user)
	k.wrappers = append(k.wrappers, k.name)
	// su to another user drops root, even under sudo.
	k.priv = root
	if code == nil && len(extra) > 0 {
		// su - user cmd args: the shell is given the arguments.
		j := make([]string, len(extra))
		for i, e := range extra {
			j[i] = e.s
		}
		code = &field{s: strings.Join(j, " ")}
	}
	name := k.name
	if code != nil {
		w.record(k, nil)
		if !w.dynamicCode(k, *code, name+" -c") {
			w.nestedShell(k, code.code(), name+" -c")
		}
		return false, nil
	}
	w.record(k, nil)
	if root {
		w.add(finding(CodePrivilegeEscalation, decision.Deny,
			"this opens a root shell; run the specific command you need with sudo instead", k.detail(), riskCompromise))
	} else {
		w.add(finding(CodePrivileged, decision.Notify, "opens a shell as user "+user, k.detail(), riskLow))
	}
	return false, nil
}

// env [options] [NAME=value …] [command]: without a command it prints the
// environment.
func (w *walker) env(k *cmd) (bool, *flow) {
	args := k.args[1:]
	i := 0
	for i < len(args) {
		s := args[i].s
		if s == "--" {
			i++
			break
		}
		if s == "-" {
			i++
			continue
		}
		if strings.HasPrefix(s, "-") && len(s) > 1 {
			switch {
			case s == "-u" || s == "--unset" || s == "-C" || s == "--chdir":
				i += 2
				continue
			case s == "-S" || s == "--split-string" || strings.HasPrefix(s, "--split-string=") || strings.HasPrefix(s, "-S"):
				var v string
				if s == "-S" || s == "--split-string" {
					if i+1 < len(args) {
						v = args[i+1].s
					}
					i += 2
				} else {
					_, v, _ = strings.Cut(s, "=")
					if strings.HasPrefix(s, "-S") && !strings.Contains(s, "=") {
						v = s[2:]
					}
					i++
				}
				// -S splits one string into the command and its args.
				var fs []field
				for _, p := range strings.Fields(v) {
					fs = append(fs, field{s: p})
				}
				args = append(append(args[:0:0], fs...), args[min(i, len(args)):]...)
				i = 0
				continue
			}
			i++
			continue
		}
		if isAssignWord(s) {
			name, val, _ := strings.Cut(s, "=")
			f := field{s: val, dyn: args[i].dyn}
			k.env = append(k.env, envVar{name: name, val: f})
			w.envRules(name, f, k.st, k.c, false)
			i++
			continue
		}
		if args[i].dyn && i+1 < len(args) && !args[i+1].dyn {
			// env $(cat .env) cmd: the substitution supplies NAME=value
			// pairs; the command follows.
			w.unresolved("environment given to env at run time")
			i++
			continue
		}
		break
	}
	if i >= len(args) {
		k.name = "env"
		w.record(k, nil)
		w.out.ReadsEnv = true
		if k.priv {
			w.add(finding(CodePrivileged, decision.Notify, "prints root's environment", k.detail(), riskLow))
		}
		return false, &flow{env: true, data: true}
	}
	k.inner(i+1, "env")
	return true, nil
}

// commandBuiltin: command -v/-V only looks a name up; command -p cmd and
// command cmd run cmd. Any other option means this is not the builtin.
func (w *walker) commandBuiltin(k *cmd) (bool, *flow) {
	for _, a := range k.args[1:] {
		switch {
		case a.s == "-v" || a.s == "-V":
			k.name = "command"
			w.record(k, nil)
			return false, w.which(k)
		case a.s == "-p" || a.s == "--":
			continue
		case strings.HasPrefix(a.s, "-"):
			return false, w.run1(k)
		}
		break
	}
	return peelSimple(w, k, spec{stopAtFirst: true}, "command", 0)
}

func (w *walker) nice(k *cmd) (bool, *flow) {
	return peelSimple(w, k, spec{short: "n", long: []string{"--adjustment"}}, "nice", 0)
}

// chroot DIR [command]: without a command it runs $SHELL -i.
func (w *walker) chroot(k *cmd) (bool, *flow) {
	p := parse(k.args[1:], spec{long: []string{"--userspec", "--groups"}, stopAtFirst: true})
	if len(p.pos) == 0 {
		return false, w.run1(k)
	}
	dir := p.pos[0]
	w.addPath(analysis.PathRef{Path: dir.s, Op: analysis.OpList, Privileged: k.priv, Dynamic: dir.dyn, Command: "chroot"})
	if len(p.pos) == 1 {
		k.args = []field{{s: "sh"}}
		k.wrappers = append(k.wrappers, "chroot")
		return true, nil
	}
	k.args = p.pos[1:]
	k.wrappers = append(k.wrappers, "chroot")
	return true, nil
}

// busybox APPLET args runs the applet.
func (w *walker) busybox(k *cmd) (bool, *flow) {
	if len(k.args) < 2 || strings.HasPrefix(k.args[1].s, "-") {
		return false, w.run1(k)
	}
	k.inner(1, "busybox")
	return true, nil
}

// xargs runs its command with arguments read from stdin. Static stdin
// (echo / | xargs rm -rf) becomes real arguments.
func (w *walker) xargs(k *cmd) (bool, *flow) {
	args := k.args[1:]
	i := 0
	replace := ""
	for i < len(args) {
		s := args[i].s
		if s == "--" {
			i++
			break
		}
		if !strings.HasPrefix(s, "-") || len(s) == 1 {
			break
		}
		switch {
		case s == "-I" || s == "--replace":
			if i+1 < len(args) {
				replace = args[i+1].s
			}
			i += 2
			continue
		case strings.HasPrefix(s, "-I"):
			replace = s[2:]
		case s == "-i" || s == "--replace=":
			replace = "{}"
		case strings.HasPrefix(s, "-i"):
			replace = s[2:]
		case strings.HasPrefix(s, "--replace="):
			replace = s[len("--replace="):]
		case s == "-a" || s == "--arg-file":
			if i+1 < len(args) {
				w.addPath(analysis.PathRef{Path: args[i+1].s, Op: analysis.OpRead, Privileged: k.priv, Dynamic: args[i+1].dyn, Command: "xargs"})
			}
			i += 2
			continue
		case s == "-d" || s == "-E" || s == "-L" || s == "-n" || s == "-P" || s == "-s" || s == "--delimiter" || s == "--max-args" || s == "--max-procs" || s == "--max-lines" || s == "--max-chars" || s == "--eof" || s == "--process-slot-var":
			i += 2
			continue
		case strings.HasPrefix(s, "--arg-file="):
			w.addPath(analysis.PathRef{Path: s[len("--arg-file="):], Op: analysis.OpRead, Privileged: k.priv, Command: "xargs"})
		}
		i++
	}
	rest := args[min(i, len(args)):]
	if len(rest) == 0 {
		rest = []field{{s: "echo"}}
	}
	inner := append([]field(nil), rest...)
	in := k.c.stdin
	if in != nil && in.textOK && replace == "" {
		for _, p := range strings.Fields(in.text) {
			inner = append(inner, field{s: strings.Trim(p, `"'`)})
		}
	} else {
		if replace != "" && in != nil && in.textOK {
			for j := range inner {
				inner[j].s = strings.ReplaceAll(inner[j].s, replace, strings.TrimSpace(in.text))
			}
		}
		// Otherwise the replace string stays as written: each input line
		// is data substituted into the command, not a command itself.
		w.unresolved("arguments read by xargs")
		if replace == "" {
			inner = append(inner, field{s: "*", m: dynMark, dyn: true, flow: passThrough(in)})
		}
	}
	nc := *k.c
	nc.via = "xargs"
	nc.stdin = nil
	k.c = &nc
	k.args = inner
	k.wrappers = append(k.wrappers, "xargs")
	k.xargs = true
	return true, nil
}

// parallel [options] command ::: args: the command is run per argument.
func (w *walker) parallel(k *cmd) (bool, *flow) {
	args := k.args[1:]
	i := 0
	for i < len(args) {
		s := args[i].s
		if !strings.HasPrefix(s, "-") || len(s) == 1 {
			break
		}
		switch s {
		case "-j", "-S", "--jobs", "-a", "--arg-file", "-d", "--delimiter", "-I", "--sshlogin", "-n", "--max-args", "-X", "--colsep", "--results", "--joblog", "--timeout", "--basefile", "--workdir":
			i += 2
			continue
		}
		i++
	}
	var cmdArgs []field
	for _, a := range args[min(i, len(args)):] {
		if a.s == ":::" || a.s == "::::" || a.s == ":::+" {
			break
		}
		cmdArgs = append(cmdArgs, a)
	}
	if len(cmdArgs) == 0 {
		return false, w.run1(k)
	}
	// A single word with spaces is a command string run by a shell.
	if len(cmdArgs) == 1 && strings.ContainsAny(cmdArgs[0].s, " ;|&") {
		w.record(k, nil)
		w.nestedShell(k, cmdArgs[0].code(), "parallel")
		return false, &flow{data: true}
	}
	nc := *k.c
	nc.via = "parallel"
	k.c = &nc
	k.args = cmdArgs
	k.wrappers = append(k.wrappers, "parallel")
	return true, nil
}

// watch runs its arguments through sh -c unless -x is given.
func (w *walker) watch(k *cmd) (bool, *flow) {
	args := k.args[1:]
	i := 0
	execMode := false
	for i < len(args) {
		s := args[i].s
		if !strings.HasPrefix(s, "-") || len(s) == 1 {
			break
		}
		switch {
		case s == "-x" || s == "--exec":
			execMode = true
		case s == "-n" || s == "--interval" || s == "-q" || s == "--equexit":
			i++
		case strings.HasPrefix(s, "-") && !strings.HasPrefix(s, "--") && strings.Contains(s, "x"):
			execMode = true
		}
		i++
	}
	rest := args[min(i, len(args)):]
	if len(rest) == 0 {
		return false, w.run1(k)
	}
	if execMode {
		k.inner(i+1, "watch")
		return true, nil
	}
	j := make([]string, len(rest))
	for n, r := range rest {
		j[n] = r.s
	}
	w.record(k, nil)
	w.nestedShell(k, strings.Join(j, " "), "watch")
	return false, &flow{data: true}
}

// flock [options] FILE command | flock FILE -c 'code' | flock FD.
func (w *walker) flock(k *cmd) (bool, *flow) {
	args := k.args[1:]
	i := 0
	for i < len(args) {
		s := args[i].s
		if !strings.HasPrefix(s, "-") || len(s) == 1 {
			break
		}
		switch s {
		case "-w", "--timeout", "-E", "--conflict-exit-code":
			i++
		case "-c", "--command":
			if i+1 < len(args) {
				w.record(k, nil)
				w.nestedShell(k, args[i+1].code(), "flock -c")
			}
			return false, &flow{data: true}
		}
		i++
	}
	if i >= len(args) {
		return false, w.run1(k)
	}
	lockf := args[i]
	rest := args[i+1:]
	if len(rest) > 0 && (rest[0].s == "-c" || rest[0].s == "--command") {
		if len(rest) > 1 {
			w.record(k, nil)
			w.nestedShell(k, rest[1].code(), "flock -c")
		}
		return false, &flow{data: true}
	}
	if len(rest) == 0 {
		_ = lockf
		return false, w.run1(k)
	}
	k.inner(i+2, "flock")
	return true, nil
}

// firejail [--options] [command]: without a command it starts a shell.
func (w *walker) firejail(k *cmd) (bool, *flow) {
	i := 1
	for i < len(k.args) && strings.HasPrefix(k.args[i].s, "-") {
		i++
	}
	if i >= len(k.args) {
		k.args = []field{{s: "sh"}}
		k.wrappers = append(k.wrappers, "firejail")
		return true, nil
	}
	k.inner(i, "firejail")
	return true, nil
}

// script [options] [file]: -c runs a command string; without -c script
// runs an interactive shell and writes the typescript to file.
func (w *walker) script(k *cmd) (bool, *flow) {
	p := parse(k.args[1:], spec{short: "cEmtTIOB", long: []string{"--command", "--echo", "--logging-format", "--log-timing", "--log-in", "--log-out", "--log-io", "--output-limit"}})
	if code, ok := p.val("-c", "--command"); ok {
		w.record(k, nil)
		if len(p.pos) > 0 {
			w.scriptFile(k, p.pos[0])
		}
		w.nestedShell(k, code.code(), "script -c")
		return false, &flow{data: true}
	}
	if len(p.pos) > 0 {
		w.scriptFile(k, p.pos[0])
	}
	if len(p.pos) > 1 {
		// BSD script: script [-q] file command …
		k.args = p.pos[1:]
		k.wrappers = append(k.wrappers, "script")
		return true, nil
	}
	k.args = []field{{s: "sh"}}
	k.wrappers = append(k.wrappers, "script")
	return true, nil
}

// scriptFile records the typescript file script writes.
func (w *walker) scriptFile(k *cmd, f field) {
	if quietDevices[f.s] {
		return
	}
	w.addPath(analysis.PathRef{Path: f.s, Op: analysis.OpWrite, Privileged: k.priv, Dynamic: f.dyn, Command: "script"})
	if k.priv && !f.dyn && privWriteRisky(f.s) {
		w.add(finding(CodePrivilegeEscalation, decision.Confirm,
			"script writes "+f.s+" as root, outside the workspace; say why it is needed", k.detail(), riskHigh))
	}
}

func (w *walker) taskset(k *cmd) (bool, *flow) {
	p := parse(k.args[1:], spec{stopAtFirst: true})
	if p.has("-p", "--pid") {
		return false, w.run1(k)
	}
	return peelSimple(w, k, spec{stopAtFirst: true}, "taskset", 1)
}

func (w *walker) chrt(k *cmd) (bool, *flow) {
	p := parse(k.args[1:], spec{short: "TPD", stopAtFirst: true})
	if p.has("-p", "--pid") {
		return false, w.run1(k)
	}
	return peelSimple(w, k, spec{short: "TPD", stopAtFirst: true}, "chrt", 1)
}

func (w *walker) sshAgent(k *cmd) (bool, *flow) {
	return peelSimple(w, k, spec{short: "aEPtO", stopAtFirst: true}, "ssh-agent", 0)
}

// unshare [options] [command]: without a command it runs a shell; -r maps
// the caller to root in a new user namespace.
func (w *walker) unshare(k *cmd) (bool, *flow) {
	p := parse(k.args[1:], spec{short: "S G", long: []string{"--setuid", "--setgid", "--propagation", "--root", "--wd", "--map-user", "--map-group", "--map-users", "--map-groups"}, stopAtFirst: true})
	if p.has("-r", "--map-root-user", "--map-current-user") {
		w.add(finding(CodePrivilegeEscalation, decision.Confirm,
			"a new namespace maps the caller to root; say why this is needed", k.detail(), riskHigh))
	}
	if len(p.pos) == 0 {
		k.args = []field{{s: "sh"}}
	} else {
		k.args = p.pos
	}
	k.wrappers = append(k.wrappers, "unshare")
	return true, nil
}

// nsenter enters another process's namespaces (usually as root).
func (w *walker) nsenter(k *cmd) (bool, *flow) {
	p := parse(k.args[1:], spec{short: "tSGwr", long: []string{"--target", "--setuid", "--setgid", "--wd", "--root"}, stopAtFirst: true})
	w.add(finding(CodePrivilegeEscalation, w.escalate(k, decision.Confirm),
		"nsenter enters another process's namespaces; say why this is needed", k.detail(), riskHigh))
	if len(p.pos) == 0 {
		k.args = []field{{s: "sh"}}
	} else {
		k.args = p.pos
	}
	k.wrappers = append(k.wrappers, "nsenter")
	return true, nil
}

func (w *walker) setarch(k *cmd) (bool, *flow) {
	args := k.args[1:]
	i := 0
	if k.name == "setarch" && i < len(args) && !strings.HasPrefix(args[i].s, "-") {
		i++ // the architecture
	}
	for i < len(args) && strings.HasPrefix(args[i].s, "-") {
		if args[i].s == "--" {
			i++
			break
		}
		i++
	}
	if i >= len(args) {
		k.args = []field{{s: "sh"}}
	} else {
		k.args = args[i:]
	}
	k.wrappers = append(k.wrappers, k.name)
	return true, nil
}

func (w *walker) fakeroot(k *cmd) (bool, *flow) {
	p := parse(k.args[1:], spec{short: "lsi", long: []string{"--lib", "--faked", "-s", "-i"}, stopAtFirst: true})
	if len(p.pos) == 0 {
		k.args = []field{{s: "sh"}}
	} else {
		k.args = p.pos
	}
	k.wrappers = append(k.wrappers, "fakeroot")
	return true, nil
}

// perf stat|record|trace [options] command.
func (w *walker) perf(k *cmd) (bool, *flow) {
	if len(k.args) < 3 {
		return false, w.run1(k)
	}
	switch k.args[1].s {
	case "stat", "record", "trace", "mem", "sched", "kvm", "lock":
	default:
		return false, w.run1(k)
	}
	args := k.args[2:]
	i := 0
	for i < len(args) && strings.HasPrefix(args[i].s, "-") {
		switch args[i].s {
		case "--":
			i++
		case "-e", "-o", "-p", "-t", "-C", "-G", "-r", "-x", "-F", "-c", "--event", "--output", "--pid", "--tid", "--cpu":
			i += 2
			continue
		default:
			i++
			continue
		}
		break
	}
	if i >= len(args) {
		return false, w.run1(k)
	}
	k.inner(i+2, "perf")
	return true, nil
}

// start-stop-daemon -S -x PROGRAM [-- args].
func (w *walker) startStopDaemon(k *cmd) (bool, *flow) {
	p := parse(k.args[1:], spec{short: "xapnuPgcdrNkIRsCOiOl", long: []string{"--exec", "--startas", "--pidfile", "--name", "--user", "--group", "--chuid", "--chdir", "--chroot", "--signal", "--retry", "--nicelevel", "--umask", "--output", "--make-pidfile"}})
	prog, ok := p.val("-x", "--exec", "-a", "--startas")
	if !ok {
		return false, w.run1(k)
	}
	var rest []field
	for i, a := range k.args {
		if a.s == "--" {
			rest = k.args[i+1:]
			break
		}
	}
	k.args = append([]field{prog}, rest...)
	k.wrappers = append(k.wrappers, "start-stop-daemon")
	return true, nil
}

// sg GROUP [-c] command; without a command sg starts a shell.
func (w *walker) sg(k *cmd) (bool, *flow) {
	if len(k.args) == 2 {
		k.args = []field{{s: "sh"}}
		k.wrappers = append(k.wrappers, "sg")
		return true, nil
	}
	if len(k.args) < 2 {
		w.record(k, nil)
		return false, nil
	}
	rest := k.args[2:]
	if rest[0].s == "-c" && len(rest) > 1 {
		rest = rest[1:]
	}
	w.record(k, nil)
	j := make([]string, len(rest))
	for i, r := range rest {
		j[i] = r.s
	}
	w.nestedShell(k, strings.Join(j, " "), "sg")
	return false, &flow{data: true}
}
