package shell

import (
	"path"
	"strconv"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// ref records a path touched by k.
func (w *walker) ref(k *cmd, f field, op analysis.Op, rec bool) {
	if f.proc {
		return
	}
	w.addPath(analysis.PathRef{Path: f.s, Op: op, Recursive: rec, Privileged: k.priv, Dynamic: f.dyn, Command: k.name})
	if op == analysis.OpRead && !f.dyn && !metadataOnly[k.name] && rawDevice(f.s) {
		w.rawDeviceRead(f.s, k.detail())
	}
}

// rawDeviceRead flags reading a disk or memory device.
func (w *walker) rawDeviceRead(p, detail string) {
	w.add(finding(CodeRawDeviceRead, decision.Deny,
		"this reads the raw device "+p+", which holds every file and key on it past all permissions; it is refused", detail, riskLeak))
}

// metadataOnly programs read a file but print only facts about it (size,
// type, a checksum), never its content.
var metadataOnly = map[string]bool{
	"stat": true, "file": true, "wc": true, "md5sum": true, "sha1sum": true, "sha224sum": true, "sha256sum": true,
	"sha384sum": true, "sha512sum": true, "b2sum": true, "cksum": true, "sum": true, "cmp": true,
}

func operands(k *cmd, sp spec) parsed { return parse(k.args[1:], sp) }

// readFlow is the output of a command that prints files' content.
func (w *walker) readFlow(k *cmd, files []field) *flow {
	fl := &flow{data: len(files) == 0}
	for _, f := range files {
		if f.proc && f.flow != nil {
			fl = mergeFlow(fl, f.flow)
			continue
		}
		if f.s == "-" || f.s == "/dev/stdin" {
			fl = mergeFlow(fl, k.c.stdin)
			continue
		}
		if quietDevices[f.s] {
			continue
		}
		fl.data = true
		fl.files = append(fl.files, f.s)
		if procEnviron(f.s) {
			w.out.ReadsEnv = true
			fl.env = true
		}
	}
	if len(files) == 0 && k.c.stdin != nil {
		return mergeFlow(fl, passThrough(k.c.stdin))
	}
	return fl
}

// passThrough keeps what a filter's input carried, minus static text:
// the output is generated from that input. Known pieces (partText) stay:
// (crontab -l; echo JOB) | sort -u | crontab - still installs JOB.
func passThrough(in *flow) *flow {
	if in == nil {
		return &flow{data: true, generated: true}
	}
	out := *in
	out.partText = in.known()
	out.text, out.textOK, out.skel = "", false, ""
	out.generated = true
	return &out
}

func procEnviron(p string) bool {
	return strings.HasPrefix(p, "/proc/") && strings.HasSuffix(p, "/environ")
}

// reader handles programs that print their file operands (cat, head,
// less …). Options with values are listed per program.
func (w *walker) reader(sp spec) handler {
	return func(w *walker, k *cmd) *flow {
		p := operands(k, sp)
		for _, f := range p.pos {
			w.ref(k, f, analysis.OpRead, false)
		}
		for _, o := range p.opts {
			// --files0-from=x, -f x style inputs of text tools.
			if o.has && isPathLike(o.val.s) && !quietDevices[o.val.s] {
				w.ref(k, o.val, analysis.OpRead, false)
			}
		}
		if len(p.pos) == 0 && (k.name == "cat" || k.name == "bat" || k.name == "batcat") && k.c.stdin != nil {
			// cat passes its input through unchanged, text included.
			return k.c.stdin
		}
		return w.readFlow(k, p.pos)
	}
}

// rm, rmdir, unlink, shred, srm, wipe.
func (w *walker) rm(k *cmd) *flow {
	p := operands(k, spec{short: "n", long: []string{"--iterations", "--size", "--random-source"}})
	rec := k.name != "rmdir" && k.name != "unlink" && p.has("-r", "-R", "--recursive", "--dir")
	if k.name == "srm" || k.name == "wipe" {
		rec = rec || p.has("-r")
	}
	if len(p.pos) == 0 && k.xargs {
		w.unresolved("files deleted by " + k.name + " via xargs")
	}
	for _, t := range p.pos {
		w.ref(k, t, analysis.OpDelete, rec)
		w.deleteRules(k, t, rec)
		if (k.name == "shred" || k.name == "wipe" || k.name == "srm") && blockDevice(t.s) {
			w.add(finding(CodeDiskDestroy, decision.Deny,
				"this wipes a disk device; it is refused", k.detail(), riskCatastrophic))
		}
	}
	return nil
}

// deleteRules applies the rules for a path being deleted.
func (w *walker) deleteRules(k *cmd, t field, rec bool) {
	if rec && !t.dyn && isRootTarget(t.s) {
		w.add(finding(CodeRecursiveDeleteRoot, decision.Deny,
			"recursive delete of "+t.s+" is refused; delete specific paths inside the workspace", k.detail(), riskCatastrophic))
	}
	if rec && t.dyn && dynamicRootish(t.s) {
		w.unresolved("recursive delete of " + t.s + " deletes / if the variable is empty")
	}
	if t.dyn {
		return
	}
	if historyFile(t.s) {
		w.add(finding(CodeHistoryWipe, decision.Confirm, "this erases shell history; say why it is needed", k.detail(), riskMedium))
	}
	if logFile(t.s) {
		if wholeLogDir(t.s, rec) {
			// Every system log at once: there is no maintenance reason
			// for it, only covering tracks.
			w.add(finding(CodeLogTamper, decision.Deny, "this deletes every system log; it is refused", k.detail(), riskHigh))
		} else {
			w.add(finding(CodeLogTamper, decision.Confirm, "this deletes system logs; say why it is needed", k.detail(), riskMedium))
		}
	}
	if what, notify, ok := systemWriteTarget(t.s); ok && !notify {
		w.add(finding(CodeSystemWrite, decision.Confirm, "this deletes "+what+"; say why it is needed", k.detail(), riskHigh))
	}
}

// wholeLogDir reports a delete of the whole log directory: /var/log
// itself or all of its entries (/var/log/*) recursively.
func wholeLogDir(p string, rec bool) bool {
	if !rec {
		return false
	}
	c := cleanPath(strings.TrimSuffix(strings.TrimSpace(p), "/*"))
	return c == "/var/log" || c == "/private/var/log"
}

// dynamicRootish reports paths such as "$DIR/" or "$DIR/*" that become /
// or /* when the variable is empty.
func dynamicRootish(p string) bool {
	switch p {
	case "*/", "*/*":
		return true
	}
	return false
}

// writeRules applies the rules for a path being written (redirections,
// tee, cp and mv destinations, dd of=, sed -i …).
func (w *walker) writeRules(p string, appendMode bool, content *flow, c *ctx, detail, how string) {
	w.writeRulesPriv(p, appendMode, content, c.priv, detail, how)
}

func (w *walker) writeRulesPriv(p string, appendMode bool, content *flow, priv bool, detail, how string) {
	if p == "" || strings.HasPrefix(p, "*") {
		return
	}
	if w.linkHops < maxLinkHops {
		// Writing through a link made earlier in the line writes its
		// target.
		if rp, _ := w.atCwd(p, false); rp != "" {
			if t, ok := w.linkTarget(rp, analysis.OpWrite); ok {
				w.linkHops++
				w.writeRulesPriv(t, appendMode, content, priv, detail, how)
				w.linkHops--
			}
		}
	}
	c := cleanPath(p)
	truncate := !appendMode && (content == nil || !content.data || content.textOK && strings.TrimSpace(content.text) == "")
	switch {
	case blockDevice(c):
		w.add(finding(CodeDiskDestroy, decision.Deny, "this overwrites a disk device; it is refused", detail, riskCatastrophic))
		return
	case strings.HasPrefix(c, "/proc/sys/"):
		w.add(finding(CodeKernelModule, decision.Confirm, "this changes a kernel parameter; say why it is needed", detail, riskHigh))
		return
	case c == "/proc/sysrq-trigger":
		w.add(finding(CodePowerState, decision.Confirm, "this triggers a kernel SysRq action; say why it is needed", detail, riskHigh))
		return
	}
	if historyFile(c) && truncate {
		w.add(finding(CodeHistoryWipe, decision.Confirm, "this erases shell history; say why it is needed", detail, riskMedium))
	}
	if logFile(c) && !appendMode {
		w.add(finding(CodeLogTamper, decision.Confirm, "this overwrites system logs; say why it is needed", detail, riskMedium))
	}
	if what, ok := persistencePath(c); ok {
		act := decision.Confirm
		msg := "this writes " + what + ", which runs code later; say why it is needed"
		if priv {
			act = decision.Deny
		}
		if w.runsRemoteCode(persistedCode(c, what, content.known())) {
			// Not a setting but a standing order to fetch and run
			// whatever a server hands out.
			act = decision.Deny
			msg = "this plants code that downloads and runs remote content in " + what + "; it is refused"
		}
		w.add(finding(CodePersistence, act, msg, detail, riskHigh))
	} else if pathBinDir(c) && w.runsRemoteCode(content.known()) {
		// A program on PATH (/usr/local/bin/git) that fetches and runs
		// remote content runs it whenever anyone types its name.
		w.add(finding(CodePersistence, decision.Deny,
			"this plants a program on PATH ("+c+") that downloads and runs remote content; it is refused", detail, riskHigh))
	}
	if what, notify, ok := systemWriteTarget(c); ok {
		act := decision.Confirm
		if notify {
			act = decision.Notify
		}
		w.add(finding(CodeSystemWrite, act, "this writes "+what+" ("+c+"); say why it is needed", detail, riskHigh))
	}
}

// pathBinDir reports a file in a directory that is usually on PATH.
func pathBinDir(c string) bool {
	for _, d := range []string{"/usr/local/bin/", "/usr/local/sbin/", "/opt/homebrew/bin/", "/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/", "~/bin/", "~/.local/bin/"} {
		if strings.HasPrefix(c, d) && len(c) > len(d) {
			return true
		}
	}
	return false
}

// persistedCode returns the commands in content written to a persistence
// location: the jobs of a crontab, else the content itself (shell rc
// files, init and hook scripts).
func persistedCode(c, what, content string) string {
	if content == "" {
		return ""
	}
	if what == "a cron or at job" && (c == "/etc/crontab" || strings.HasPrefix(c, "/etc/cron.d/") || strings.HasPrefix(c, "/var/spool/cron")) {
		return strings.Join(cronCommands(content, !strings.HasPrefix(c, "/var/spool/cron")), "\n")
	}
	return content
}

// remoteCodeFindings are what make content run remote or hidden code.
var remoteCodeFindings = map[string]bool{
	CodeDownloadExec: true, CodeDecodeExec: true, CodeReverseShell: true, CodeBindShell: true,
}

// runsRemoteCode reports whether shell code, run later from a crontab or
// a start-up file, would download and run code, run a hidden payload or
// open a remote shell. The code is walked by a separate walker so that
// nothing it does (cd, variables, findings) leaks into the line being
// analysed; that walker checks no further content itself, and the total
// content checked per line is bounded by MaxBytes.
func (w *walker) runsRemoteCode(code string) bool {
	if w.scratch || strings.TrimSpace(code) == "" {
		return false
	}
	if w.scratchBytes+len(code) > w.a.opts.MaxBytes {
		w.unresolved("content written to start-up files is too large to check")
		return false
	}
	w.scratchBytes += len(code)
	f := w.a.parseNested(code)
	if f == nil {
		return false
	}
	sw := newWalker(w.a, &analysis.Analysis{})
	sw.scratch = true
	sw.run(f, code)
	for _, fd := range sw.out.Findings {
		if remoteCodeFindings[fd.Code] {
			return true
		}
	}
	return false
}

// sensitiveWriteRules is writeRules for a command's destination operand.
func (w *walker) sensitiveWriteRules(k *cmd, p string, how string) {
	w.writeRulesPriv(p, false, &flow{data: true}, k.priv, k.detail(), how)
}

// cp and install.
func (w *walker) cp(k *cmd) *flow {
	p := operands(k, spec{short: "tSmogb", long: []string{"--target-directory", "--suffix", "--mode", "--owner", "--group", "--backup", "--reflink", "--sparse", "--preserve"}})
	rec := p.has("-r", "-R", "-a", "--recursive", "--archive")
	if k.name == "install" {
		if p.has("-d", "--directory") {
			for _, d := range p.pos {
				w.ref(k, d, analysis.OpWrite, false)
			}
			return nil
		}
		if m, ok := p.val("-m", "--mode"); ok && setuidMode(m.s) {
			w.add(finding(CodeSetuid, decision.Confirm, "this installs a setuid/setgid file; say why it is needed", k.detail(), riskHigh))
		}
	}
	srcs, dst, ok := srcDst(p)
	if !ok {
		for _, s := range p.pos {
			w.ref(k, s, analysis.OpRead, rec)
		}
		return nil
	}
	content := &flow{data: true}
	var out *flow
	for _, s := range srcs {
		if s.s == "/dev/null" {
			content = &flow{}
			continue
		}
		if isShellPath(s.s) || s.s == "/bin/busybox" {
			// A copy of a shell is the usual first step of setuid and
			// PATH tricks.
			w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm),
				"this copies a shell binary; run the commands you need directly", k.detail(), riskHigh))
		}
		if s.s == "/dev/stdin" || s.s == "-" {
			content = mergeFlow(content, k.c.stdin)
			continue
		}
		w.ref(k, s, analysis.OpRead, rec)
		content.files = append(content.files, s.s)
	}
	if host, ok := w.remoteMountHost(dst.s); ok && !dst.dyn {
		// Copying into a mounted remote file system sends the files.
		w.markSends(host, dataOf(content.files))
		w.exfil(k.detail(), content, host)
	}
	if dst.s == "/dev/stdout" || dst.s == "/dev/stderr" || dst.s == "/dev/tty" {
		out = content
		for _, f := range content.files {
			w.sideRead(k, field{s: f}, k.name+" to standard output")
		}
	} else {
		w.ref(k, dst, analysis.OpWrite, rec)
		w.shadowRule(k, dst, srcs)
		if !dst.dyn {
			w.writeRulesPriv(dst.s, false, content, k.priv, k.detail(), k.name)
			for _, s := range srcs {
				if isShellPath(s.s) && !isShellName(baseOf(dst.s)) && strings.HasPrefix(dst.s, "/") {
					// Copying a shell over a program the system runs later.
					if _, _, sys := systemWriteTarget(dst.s); sys {
						w.shellSpawn(k, "a shell binary is copied over "+dst.s, true)
					}
				}
				if d, ok := w.facts.downloaded[s.s]; ok {
					w.noteDownloaded(dst.s, d)
				}
			}
		}
	}
	return out
}

// shadowRule flags putting a program under a system command's name in a
// directory that comes first on PATH (/usr/local/bin/ls). dst is the
// written path, or such a directory with the sources going inside it.
func (w *walker) shadowRule(k *cmd, dst field, srcs []field) {
	if dst.dyn {
		return
	}
	d := cleanPath(dst.s)
	targets := [][2]string{{d, ""}}
	if len(srcs) == 1 {
		targets[0][1] = srcs[0].s
	}
	for _, b := range frontBinDirs {
		if d == b {
			targets = targets[:0]
			for _, s := range srcs {
				if !s.dyn {
					targets = append(targets, [2]string{d + "/" + baseOf(s.s), s.s})
				}
			}
			break
		}
	}
	for _, t := range targets {
		if name, ok := shadowedCommand(t[0], t[1]); ok {
			w.add(finding(CodePersistence, w.escalate(k, decision.Confirm),
				"this puts a program named "+name+" in "+path.Dir(t[0])+", ahead of the system's "+name+" on PATH; install it under another name", k.detail(), riskHigh))
			return
		}
	}
}

func baseOf(p string) string {
	b, _ := baseName(cleanPath(p))
	return b
}

// srcDst splits operands into sources and a destination, honouring -t.
func srcDst(p parsed) ([]field, field, bool) {
	if t, ok := p.val("-t", "--target-directory"); ok {
		return p.pos, t, len(p.pos) > 0
	}
	if len(p.pos) < 2 {
		return nil, field{}, false
	}
	return p.pos[:len(p.pos)-1], p.pos[len(p.pos)-1], true
}

func (w *walker) mv(k *cmd) *flow {
	p := operands(k, spec{short: "tS", long: []string{"--target-directory", "--suffix", "--backup"}})
	srcs, dst, ok := srcDst(p)
	if !ok {
		for _, s := range p.pos {
			w.ref(k, s, analysis.OpDelete, false)
		}
		return nil
	}
	for _, s := range srcs {
		w.ref(k, s, analysis.OpDelete, false)
		if !s.dyn {
			w.deleteRules(k, s, false)
			if c := cleanPath(strings.TrimSuffix(s.s, "/*")); c == "/" || topSystemDirs[c] {
				w.add(finding(CodeRecursiveDeleteRoot, decision.Deny,
					"moving "+s.s+" away breaks the system; it is refused", k.detail(), riskCatastrophic))
			}
		}
	}
	w.ref(k, dst, analysis.OpWrite, false)
	if dst.s == "/dev/null" {
		return nil
	}
	w.shadowRule(k, dst, srcs)
	if !dst.dyn {
		w.sensitiveWriteRules(k, dst.s, "mv")
	}
	return nil
}

// ln: the link name is written; ln -sf /dev/null ~/.bash_history wipes
// history.
func (w *walker) ln(k *cmd) *flow {
	p := operands(k, spec{short: "tS", long: []string{"--target-directory", "--suffix", "--backup"}})
	symbolic := p.has("-s", "--symbolic")
	var target field
	var link field
	switch {
	case p.has("-t", "--target-directory"):
		t, _ := p.val("-t", "--target-directory")
		for _, s := range p.pos {
			l := field{s: strings.TrimSuffix(t.s, "/") + "/" + baseOf(s.s), dyn: t.dyn || s.dyn}
			w.ref(k, l, analysis.OpWrite, false)
			w.shadowRule(k, l, []field{s})
			if !l.dyn {
				w.noteLink(l.s, linkDest(l.s, s.s, symbolic))
			}
		}
		return nil
	case len(p.pos) >= 2:
		target, link = p.pos[len(p.pos)-2], p.pos[len(p.pos)-1]
	case len(p.pos) == 1:
		target = p.pos[0]
		link = field{s: baseOf(target.s), dyn: target.dyn}
	default:
		return nil
	}
	if !link.dyn && (link.s == "." || link.s == ".." || strings.HasSuffix(link.s, "/")) {
		// A directory operand: the link is made inside it.
		link.s = strings.TrimSuffix(link.s, "/") + "/" + baseOf(target.s)
	}
	w.ref(k, link, analysis.OpWrite, false)
	w.shadowRule(k, link, []field{target})
	if !link.dyn && !target.dyn {
		w.noteLink(link.s, linkDest(link.s, target.s, symbolic))
	}
	if historyFile(link.s) && target.s == "/dev/null" {
		w.add(finding(CodeHistoryWipe, decision.Confirm, "this disables shell history; say why it is needed", k.detail(), riskMedium))
	}
	if !link.dyn {
		if what, notify, ok := systemWriteTarget(link.s); ok && !notify {
			w.add(finding(CodeSystemWrite, decision.Confirm, "this replaces "+what+" ("+link.s+") with a link; say why it is needed", k.detail(), riskHigh))
		}
		if what, ok := persistencePath(link.s); ok {
			w.add(finding(CodePersistence, w.escalate(k, decision.Confirm), "this links "+what+", which runs code later; say why it is needed", k.detail(), riskHigh))
		}
	}
	return nil
}

// linkDest is the path a link reaches: a relative symbolic link's target
// is taken from the link's own directory, a hard link's from the working
// directory.
func linkDest(link, target string, symbolic bool) string {
	if !symbolic || strings.HasPrefix(target, "/") || strings.HasPrefix(target, "~") {
		return target
	}
	dir := "."
	if i := strings.LastIndexByte(link, '/'); i >= 0 {
		dir = link[:i]
		if dir == "" {
			dir = "/"
		}
	}
	j := path.Join(dir, target)
	if !strings.HasPrefix(j, "/") && !strings.HasPrefix(j, "~") && !strings.HasPrefix(j, ".") {
		j = "./" + j
	}
	return j
}

// tee writes its stdin to every operand and passes it on.
func (w *walker) tee(k *cmd) *flow {
	p := operands(k, spec{long: []string{"--output-error"}})
	appendMode := p.has("-a", "--append")
	for _, f := range p.pos {
		if quietDevices[f.s] {
			continue
		}
		w.ref(k, f, analysis.OpWrite, false)
		if !f.dyn {
			w.writeRulesPriv(f.s, appendMode, k.c.stdin, k.priv, k.detail(), "tee")
			if k.c.stdin != nil && k.c.stdin.textOK {
				w.noteWritten(f.s, k.c.stdin.text)
			}
		}
		if host, port, proto, ok := devTCP(f.s); ok {
			w.addDest(analysis.Dest{Raw: f.s, Scheme: proto, Host: host, Port: port, Sends: true, Data: k.c.stdin.describe(), Command: "tee"})
		}
	}
	if k.c.stdin == nil {
		return &flow{data: true}
	}
	return k.c.stdin
}

// dd if=… of=….
func (w *walker) dd(k *cmd) *flow {
	var in, out *field
	for i := 1; i < len(k.args); i++ {
		a := k.args[i]
		key, val, ok := strings.Cut(a.s, "=")
		if !ok {
			continue
		}
		f := field{s: val, dyn: a.dyn}
		switch key {
		case "if":
			in = &f
		case "of":
			out = &f
		}
	}
	content := k.c.stdin
	if in != nil {
		if !quietDevices[in.s] {
			w.ref(k, *in, analysis.OpRead, false)
			content = &flow{files: []string{in.s}, data: true}
		} else {
			content = &flow{data: in.s != "/dev/null"}
		}
	}
	if out == nil {
		if content == nil {
			return &flow{data: true}
		}
		return content
	}
	w.ref(k, *out, analysis.OpWrite, false)
	if !out.dyn {
		if blockDevice(out.s) {
			w.add(finding(CodeDiskDestroy, decision.Deny, "this overwrites a disk device; it is refused", k.detail(), riskCatastrophic))
		} else {
			w.writeRulesPriv(out.s, false, content, k.priv, k.detail(), "dd")
		}
	}
	return nil
}

func (w *walker) truncate(k *cmd) *flow {
	p := operands(k, spec{short: "sro", long: []string{"--size", "--reference", "--io-blocks"}})
	size, _ := p.val("-s", "--size")
	zero := size.s == "0" || size.s == "0K" || size.s == "0M"
	for _, f := range p.pos {
		w.ref(k, f, analysis.OpWrite, false)
		if f.dyn {
			continue
		}
		if zero && historyFile(f.s) {
			w.add(finding(CodeHistoryWipe, decision.Confirm, "this erases shell history; say why it is needed", k.detail(), riskMedium))
		}
		if logFile(f.s) {
			w.add(finding(CodeLogTamper, decision.Confirm, "this truncates system logs; say why it is needed", k.detail(), riskMedium))
		}
		if what, notify, ok := systemWriteTarget(f.s); ok && !notify {
			w.add(finding(CodeSystemWrite, decision.Confirm, "this truncates "+what+"; say why it is needed", k.detail(), riskHigh))
		}
	}
	return nil
}

// touch, mkdir, mkfifo, mknod, mktemp: paths created without content.
func (w *walker) create(k *cmd) *flow {
	sp := spec{short: "mZ", long: []string{"--mode", "--context"}}
	switch k.name {
	case "touch":
		sp = spec{short: "dtr", long: []string{"--reference", "--date", "--time"}}
	case "mktemp":
		sp = spec{short: "p", long: []string{"--tmpdir", "--suffix"}}
	}
	p := operands(k, sp)
	if k.name == "mknod" {
		if len(p.pos) > 0 {
			w.ref(k, p.pos[0], analysis.OpWrite, false)
		}
		return nil
	}
	if r, ok := p.val("-r", "--reference"); ok && k.name == "touch" {
		w.ref(k, r, analysis.OpRead, false)
	}
	for _, f := range p.pos {
		w.ref(k, f, analysis.OpWrite, false)
	}
	return &flow{data: k.name == "mktemp"}
}

// setuidMode reports whether a chmod/install mode sets setuid or setgid.
func setuidMode(m string) bool {
	if m == "" {
		return false
	}
	if n, err := strconv.ParseUint(m, 8, 32); err == nil {
		return len(m) >= 4 && n&0o6000 != 0
	}
	for _, clause := range strings.Split(m, ",") {
		op := strings.IndexAny(clause, "+=")
		if op < 0 {
			continue
		}
		who, perms := clause[:op], clause[op+1:]
		if strings.Contains(perms, "s") && (who == "" || strings.ContainsAny(who, "uga")) {
			return true
		}
	}
	return false
}

// setuidBit reports whether a mode sets the setuid bit itself (4xxx, u+s,
// +s), as opposed to setgid alone.
func setuidBit(m string) bool {
	if n, err := strconv.ParseUint(m, 8, 32); err == nil {
		return len(m) >= 4 && n&0o4000 != 0
	}
	for _, clause := range strings.Split(m, ",") {
		op := strings.IndexAny(clause, "+=")
		if op < 0 {
			continue
		}
		who, perms := clause[:op], clause[op+1:]
		if strings.Contains(perms, "s") && (who == "" || strings.ContainsAny(who, "ua")) {
			return true
		}
	}
	return false
}

// worldWritable reports modes such as 777, 666, a+rwx, o+w.
func worldWritable(m string) bool {
	if n, err := strconv.ParseUint(m, 8, 32); err == nil {
		return n&0o002 != 0
	}
	for _, clause := range strings.Split(m, ",") {
		op := strings.IndexAny(clause, "+=")
		if op < 0 {
			continue
		}
		who, perms := clause[:op], clause[op+1:]
		if strings.Contains(perms, "w") && (who == "" || strings.ContainsAny(who, "ao")) {
			return true
		}
	}
	return false
}

var shellOrInterpreter = map[string]bool{
	"python": true, "python2": true, "python3": true, "perl": true, "ruby": true, "node": true,
	"php": true, "lua": true, "awk": true, "gawk": true, "find": true, "vim": true, "vi": true,
	"env": true, "less": true, "more": true, "nmap": true, "tclsh": true, "expect": true, "cp": true,
	"tar": true, "zip": true, "gdb": true, "busybox": true, "nano": true, "ed": true, "emacs": true,
}

// chmod, chown, chgrp, chattr, setfacl.
func (w *walker) chmod(k *cmd) *flow {
	p := operands(k, spec{long: []string{"--reference", "--from"}})
	rec := p.has("-R", "--recursive")
	if k.name == "setfacl" {
		p = operands(k, spec{short: "mMxXb", long: []string{"--modify", "--modify-file", "--remove", "--remove-file", "--set", "--set-file"}})
		rec = p.has("-R", "--recursive")
	}
	files := p.pos
	mode := ""
	_, hasRef := p.val("--reference")
	if k.name != "setfacl" && !hasRef && len(files) > 0 {
		mode = files[0].s
		files = files[1:]
		if k.name == "chmod" {
			// chmod accepts modes like -w or -x that parse as options.
			for _, o := range p.opts {
				if len(o.name) == 2 && strings.ContainsRune("rwxXst", rune(o.name[1])) && mode == "" {
					mode = o.name
				}
			}
		}
	}
	if k.name == "chattr" {
		// chattr +i file: the first operand may have been taken as an option.
		files = p.pos
		if len(files) > 0 && (strings.HasPrefix(files[0].s, "+") || strings.HasPrefix(files[0].s, "=")) {
			files = files[1:]
		}
	}
	for _, f := range files {
		w.ref(k, f, analysis.OpChmod, rec)
		if k.name == "chmod" && strings.Contains(mode, "x") && !strings.Contains(mode, "-") {
			if w.facts.madeExec == nil {
				w.facts.madeExec = map[string]bool{}
			}
			w.facts.madeExec[cleanPath(f.s)] = true
			if _, ok := w.facts.downloaded[f.s]; ok {
				w.add(finding(CodeDownloadExec, decision.Deny,
					"a file downloaded in this command is made executable; download, review, then run it separately", k.detail(), riskCompromise))
			}
		}
	}
	if k.name == "chmod" && setuidMode(mode) {
		act := decision.Confirm
		code := CodeSetuid
		msg := "this sets the setuid/setgid bit; say why it is needed"
		risk := riskHigh
		if !setuidBit(mode) {
			// setgid alone is mostly used on shared directories.
			act, risk = decision.Notify, riskLow
			msg = "this sets the setgid bit"
		}
		for _, f := range files {
			b := baseOf(f.s)
			if isShellName(b) || shellOrInterpreter[progKey(b)] {
				code, act = CodePrivilegeEscalation, decision.Deny
				msg = "setting the setuid bit on a shell or interpreter gives anyone a root shell; this is refused"
				risk = riskHigh
			}
		}
		w.add(finding(code, act, msg, k.detail(), risk))
	}
	for _, f := range files {
		if f.dyn {
			continue
		}
		if rec && isSystemRoot(f.s) && k.name != "setfacl" || rec && k.name == "setfacl" && isSystemRoot(f.s) {
			w.add(finding(CodePermissionStorm, decision.Deny,
				"recursive "+k.name+" on "+f.s+" breaks the system; change specific paths instead", k.detail(), riskCatastrophic))
			return nil
		}
	}
	if k.name == "chmod" && worldWritable(mode) {
		if rec {
			w.add(finding(CodePermissionStorm, decision.Confirm,
				"recursive chmod "+mode+" makes a whole tree world-writable; use narrower permissions", k.detail(), riskMedium))
		} else {
			w.add(finding(CodePermissionStorm, decision.Notify,
				"chmod "+mode+" makes files world-writable; prefer narrower permissions", k.detail(), riskLow))
		}
	}
	for _, f := range files {
		if !f.dyn && k.name == "chattr" && logFile(f.s) && strings.HasPrefix(mode, "-") {
			w.add(finding(CodeLogTamper, decision.Confirm, "this removes protection from system logs; say why it is needed", k.detail(), riskMedium))
		}
	}
	return nil
}

// setcap grants file capabilities.
func (w *walker) setcap(k *cmd) *flow {
	p := operands(k, spec{})
	if len(p.pos) < 2 {
		return nil
	}
	caps := strings.ToLower(p.pos[0].s)
	for _, f := range p.pos[1:] {
		w.ref(k, f, analysis.OpChmod, false)
	}
	b := baseOf(p.pos[len(p.pos)-1].s)
	if strings.Contains(caps, "cap_setuid") || strings.Contains(caps, "cap_sys_admin") || strings.Contains(caps, "cap_dac_override") || strings.Contains(caps, "=ep") && strings.Contains(caps, "all") {
		act := decision.Confirm
		if isShellName(b) || shellOrInterpreter[progKey(b)] {
			act = decision.Deny
		}
		w.add(finding(CodePrivilegeEscalation, act,
			"this grants root-equivalent capabilities to a program; say why it is needed", k.detail(), riskHigh))
		return nil
	}
	w.add(finding(CodeSetuid, decision.Confirm, "this grants file capabilities; say why it is needed", k.detail(), riskMedium))
	return nil
}

// lister handles ls, du, tree and friends: operands are listed.
func (w *walker) lister(k *cmd) *flow {
	p := operands(k, spec{short: "IPBTwdLX", long: []string{"--ignore", "--hide", "--block-size", "--time-style", "--width", "--exclude", "--max-depth", "--format", "--sort", "--time", "--color"}})
	rec := p.has("-R", "--recursive") || k.name == "du" || k.name == "tree"
	for _, f := range p.pos {
		w.ref(k, f, analysis.OpList, rec)
	}
	return &flow{data: true}
}

// grep and its relatives: the pattern, then files.
func (w *walker) grep(k *cmd) *flow {
	p := operands(k, spec{short: "efmABCdDg", long: []string{"--regexp", "--file", "--max-count", "--after-context", "--before-context", "--context", "--include", "--exclude", "--exclude-dir", "--label", "--exclude-from", "--devices", "--directories", "--binary-files", "--glob", "--type", "--type-not"}})
	files := p.pos
	if _, ok := p.val("-e", "--regexp"); !ok {
		if _, ok := p.val("-f", "--file"); !ok && len(files) > 0 {
			files = files[1:]
		}
	}
	for _, f := range p.vals("-f", "--file") {
		w.ref(k, f, analysis.OpRead, false)
	}
	rec := p.has("-r", "-R", "--recursive", "--dereference-recursive") || k.name == "rg" || k.name == "ag" || k.name == "ack"
	for _, f := range files {
		w.ref(k, f, analysis.OpRead, rec)
	}
	if len(files) == 0 && k.c.stdin != nil {
		return passThrough(k.c.stdin)
	}
	return w.readFlow(k, files)
}

// sed: -i edits files in place; the script's e, w and r commands run
// commands, write and read files.
func (w *walker) sed(k *cmd) *flow {
	args := k.args[1:]
	var scripts []field
	var files []field
	inPlace := false
	for i := 0; i < len(args); i++ {
		s := args[i].s
		switch {
		case s == "-e" || s == "--expression":
			if i+1 < len(args) {
				i++
				scripts = append(scripts, args[i])
			}
		case strings.HasPrefix(s, "--expression="):
			scripts = append(scripts, field{s: s[len("--expression="):]})
		case s == "-f" || s == "--file":
			if i+1 < len(args) {
				i++
				w.ref(k, args[i], analysis.OpRead, false)
				scripts = append(scripts, field{s: "", dyn: true})
			}
		case s == "-l" || s == "--line-length":
			i++
		case s == "-i" || strings.HasPrefix(s, "-i") || strings.HasPrefix(s, "--in-place") || s == "-I":
			inPlace = true
		case strings.HasPrefix(s, "-") && len(s) > 1 && !strings.HasPrefix(s, "--"):
			if strings.Contains(s, "i") && !strings.Contains(s, "e") {
				inPlace = true
			}
			if strings.HasSuffix(s, "e") && i+1 < len(args) {
				i++
				scripts = append(scripts, args[i])
			} else if strings.HasSuffix(s, "f") && i+1 < len(args) {
				i++
				w.ref(k, args[i], analysis.OpRead, false)
				scripts = append(scripts, field{s: "", dyn: true})
			}
		case strings.HasPrefix(s, "--"):
		default:
			files = append(files, args[i])
		}
	}
	if len(scripts) == 0 && len(files) > 0 {
		scripts = append(scripts, files[0])
		files = files[1:]
	}
	for _, sc := range scripts {
		w.sedScript(k, sc.s)
	}
	for _, f := range files {
		if inPlace {
			w.ref(k, f, analysis.OpWrite, false)
			if !f.dyn {
				w.sensitiveWriteRules(k, f.s, "sed -i")
			}
		} else {
			w.ref(k, f, analysis.OpRead, false)
		}
	}
	if inPlace {
		return nil
	}
	if len(files) == 0 {
		return passThrough(k.c.stdin)
	}
	return w.readFlow(k, files)
}

// sedScript finds the e (execute), w (write) and r (read) commands of a
// sed script.
func (w *walker) sedScript(k *cmd, script string) {
	for _, cmdText := range splitSedCommands(script) {
		c := strings.TrimLeft(cmdText, " \t")
		c = skipSedAddress(c)
		if c == "" {
			continue
		}
		switch c[0] {
		case 'e':
			rest := strings.TrimSpace(c[1:])
			if rest == "" {
				w.shellSpawn(k, "sed executes its input as commands (e)", true)
				continue
			}
			w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm),
				"sed runs a command (e); run it directly", k.detail(), riskHigh))
			w.nestedShell(k, rest, "sed e")
		case 'w', 'W':
			f := strings.TrimSpace(c[1:])
			if f != "" && f != "/dev/stdout" && f != "/dev/stderr" {
				w.ref(k, field{s: f}, analysis.OpWrite, false)
				w.sensitiveWriteRules(k, f, "sed w")
				if outsideWorkspace(f) && classify(f) != locTmp {
					w.add(finding(CodeArbitraryFileWrite, w.escalate(k, decision.Confirm),
						"sed writes "+f+" through its w command; write files with a plain redirection inside the workspace", k.detail(), riskMedium))
				}
			}
		case 'r', 'R':
			f := strings.TrimSpace(c[1:])
			if f != "" {
				w.ref(k, field{s: f}, analysis.OpRead, false)
			}
		case 's':
			if len(c) < 2 {
				continue
			}
			flags, ok := sedFlags(c)
			if !ok {
				continue
			}
			if j := strings.IndexByte(flags, 'w'); j >= 0 {
				f := strings.TrimSpace(flags[j+1:])
				if f != "" && f != "/dev/stdout" {
					w.ref(k, field{s: f}, analysis.OpWrite, false)
					w.sensitiveWriteRules(k, f, "sed s///w")
					if outsideWorkspace(f) && classify(f) != locTmp {
						w.add(finding(CodeArbitraryFileWrite, w.escalate(k, decision.Confirm),
							"sed writes "+f+" through its w flag; write files with a plain redirection inside the workspace", k.detail(), riskMedium))
					}
				}
				flags = flags[:j]
			}
			if strings.Contains(flags, "e") {
				w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm),
					"sed executes the substitution result as a command (s///e); run it directly", k.detail(), riskHigh))
			}
		}
	}
}

// sedFlags returns the flags of an s command, honouring escapes and
// bracket expressions in the pattern; ok is false when the text after the
// replacement is not a valid flag list.
func sedFlags(c string) (string, bool) {
	delim := c[1]
	parts := 0
	i := 2
	inBracket := false
	for ; i < len(c) && parts < 2; i++ {
		switch {
		case c[i] == '\\':
			i++
		case parts == 0 && !inBracket && c[i] == '[' && delim != '[':
			inBracket = true
			if i+1 < len(c) && c[i+1] == ']' {
				i++
			}
		case inBracket && c[i] == ']':
			inBracket = false
		case !inBracket && c[i] == delim:
			parts++
		}
	}
	if parts < 2 {
		return "", false
	}
	flags := c[i:]
	body, _, _ := strings.Cut(flags, "w")
	for _, r := range strings.TrimSpace(body) {
		if !strings.ContainsRune("gpiIMme0123456789", r) {
			return "", false
		}
	}
	return flags, true
}

func splitSedCommands(s string) []string {
	var out []string
	start := 0
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
			out = append(out, s[start:i])
			start = i + 1
		case '}':
			depth--
			out = append(out, s[start:i])
			start = i + 1
		case ';', '\n':
			// w, r and e take the rest of the line.
			seg := strings.TrimLeft(skipSedAddress(strings.TrimLeft(s[start:i], " \t")), " \t")
			if s[i] == ';' && seg != "" && strings.ContainsRune("wWrRe", rune(seg[0])) {
				continue
			}
			out = append(out, s[start:i])
			start = i + 1
		case '\\':
			i++
		}
	}
	return append(out, s[start:])
}

// skipSedAddress removes a leading address (1, $, /re/, 1,5, 2~3) and "!".
func skipSedAddress(c string) string {
	for n := 0; n < 2; n++ {
		c = strings.TrimLeft(c, " \t")
		if c == "" {
			return c
		}
		switch {
		case c[0] == '/' || c[0] == '\\':
			d := c[0]
			start := 1
			if d == '\\' && len(c) > 1 {
				d = c[1]
				start = 2
			}
			i := start
			for i < len(c) && c[i] != d {
				if c[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(c) {
				return ""
			}
			c = c[i+1:]
			for len(c) > 0 && (c[0] == 'I' || c[0] == 'M') {
				c = c[1:]
			}
		case c[0] == '$':
			c = c[1:]
		case c[0] >= '0' && c[0] <= '9':
			i := 0
			for i < len(c) && (c[i] >= '0' && c[i] <= '9' || c[i] == '~') {
				i++
			}
			c = c[i:]
		default:
			return strings.TrimLeft(strings.TrimPrefix(c, "!"), " \t")
		}
		c = strings.TrimLeft(c, " \t")
		if strings.HasPrefix(c, ",") || strings.HasPrefix(c, "~") {
			c = c[1:]
			continue
		}
		return strings.TrimLeft(strings.TrimPrefix(c, "!"), " \t")
	}
	return c
}

// source and "." run a file in the current shell.
func (w *walker) source(k *cmd) *flow {
	if len(k.args) < 2 {
		return nil
	}
	f := k.args[1]
	if f.proc {
		w.execFlow(k, f.flow, k.name+" <(…)")
		return &flow{data: true}
	}
	if f.dyn {
		w.facts.dynExec = true
		w.unresolved("file sourced by " + k.name)
	}
	w.execPath(k, f.s, k.detail())
	if k.priv {
		w.add(finding(CodePrivilegeEscalation, decision.Deny,
			"a script is run as root; review it and run the specific commands you need", k.detail(), riskCompromise))
	}
	return &flow{data: true}
}

// eval joins its arguments and runs them as shell code.
func (w *walker) eval(k *cmd) *flow {
	var b strings.Builder
	dyn := false
	var fl *flow
	for i, a := range k.args[1:] {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a.code())
		dyn = dyn || a.dyn
		fl = mergeFlow(fl, a.flow)
	}
	if fl != nil && fl.download {
		w.add(finding(CodeDownloadExec, decision.Deny,
			"downloaded content is executed by eval; download, review, then run it separately", k.detail(), riskCompromise))
	}
	if fl != nil && fl.decoded {
		w.add(finding(CodeDecodeExec, decision.Deny,
			"decoded or obfuscated content is executed by eval; run the plain commands instead", k.detail(), riskCompromise))
	}
	if !w.dynamicCode(k, field{s: strings.ReplaceAll(b.String(), dynMark, "*"), m: b.String(), dyn: dyn, flow: fl}, "eval") {
		w.nestedShell(k, b.String(), "eval")
	}
	return &flow{data: true}
}

// echo and printf produce static text when their arguments are static.
func (w *walker) echo(k *cmd) *flow {
	args := k.args[1:]
	escapes := false
	newline := true
	if k.name == "echo" {
		for len(args) > 0 && len(args[0].s) > 1 && args[0].s[0] == '-' && strings.Trim(args[0].s[1:], "neE") == "" {
			if strings.Contains(args[0].s, "e") {
				escapes = true
			}
			if strings.Contains(args[0].s, "n") {
				newline = false
			}
			args = args[1:]
		}
	}
	fl := &flow{data: true}
	var b strings.Builder
	dyn := false
	decoded := false
	if k.name == "printf" {
		newline = false
		if len(args) > 0 && args[0].s == "-v" {
			return nil
		}
		if len(args) > 0 {
			format := args[0].s
			if hasByteEscapes(format) {
				decoded = true
			}
			rest := args[1:]
			s := printfFormat(format, rest)
			b.WriteString(s)
			for _, a := range args {
				dyn = dyn || a.dyn
				fl = mergeFlow(fl, a.flow)
			}
		}
	} else {
		for i, a := range args {
			if i > 0 {
				b.WriteByte(' ')
			}
			s := a.s
			if escapes {
				if hasByteEscapes(s) {
					decoded = true
				}
				s = ansiC(s)
			}
			b.WriteString(s)
			dyn = dyn || a.dyn
			fl = mergeFlow(fl, a.flow)
		}
	}
	if newline {
		b.WriteByte('\n')
	}
	fl.decoded = fl.decoded || decoded
	if !dyn && b.Len() <= maxPayload {
		fl.text, fl.textOK = b.String(), true
	} else if b.Len() <= maxPayload {
		// Keep the static skeleton for code recognition; it is not exact.
		fl.text = b.String()
	}
	return fl
}

// hasByteEscapes reports \x41 or \101 style escapes, the usual way to
// hide a command name from a reader.
func hasByteEscapes(s string) bool {
	n := 0
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\\' && (s[i+1] == 'x' || s[i+1] >= '0' && s[i+1] <= '7') {
			n++
		}
	}
	return n >= 2
}

// printfFormat applies a printf format to arguments, handling %s, %b,
// %d and escapes, which is enough to recover hidden command text.
func printfFormat(format string, args []field) string {
	var b strings.Builder
	ai := 0
	next := func() string {
		if ai < len(args) {
			ai++
			return args[ai-1].s
		}
		return ""
	}
	for rounds := 0; rounds < 64; rounds++ {
		f := format
		for i := 0; i < len(f); i++ {
			c := f[i]
			if c == '\\' && i+1 < len(f) {
				j := i + 1
				for j < len(f) && j < i+4 && (f[j] >= '0' && f[j] <= '7' || j == i+1 && (f[j] == 'x' || strings.IndexByte("ntrabfve\\\"'", f[j]) >= 0)) {
					if f[j] == 'x' {
						j++
						for j < len(f) && j < i+4 && unhex(f[j]) >= 0 {
							j++
						}
						break
					}
					j++
					if strings.IndexByte("ntrabfve\\\"'", f[j-1]) >= 0 {
						break
					}
				}
				b.WriteString(ansiC(f[i:j]))
				i = j - 1
				continue
			}
			if c == '%' && i+1 < len(f) {
				j := i + 1
				for j < len(f) && strings.IndexByte("-+ #0123456789.", f[j]) >= 0 {
					j++
				}
				if j >= len(f) {
					b.WriteString(f[i:])
					break
				}
				switch f[j] {
				case '%':
					b.WriteByte('%')
				case 'b':
					b.WriteString(ansiC(next()))
				case 'c':
					if s := next(); s != "" {
						b.WriteByte(s[0])
					}
				default:
					b.WriteString(next())
				}
				i = j
				continue
			}
			b.WriteByte(c)
		}
		if ai >= len(args) || b.Len() > maxPayload {
			break
		}
	}
	return b.String()
}

// history -c clears the shell's in-memory history list. A tool call runs
// in a non-interactive shell, which keeps no history, so on its own that
// is a notice; clearing and then writing the empty list over the history
// file (-c with -w, in one command or later in the line) is a wipe. Deleting or truncating the file is judged
// as a write to it.
func (w *walker) history(k *cmd) *flow {
	clear, write, read := false, false, false
	var file *field
	for i, a := range k.args[1:] {
		switch {
		case strings.HasPrefix(a.s, "-") && !strings.HasPrefix(a.s, "--") && !a.dyn:
			clear = clear || strings.Contains(a.s, "c")
			write = write || strings.ContainsAny(a.s, "wa")
			read = read || strings.ContainsAny(a.s, "rn")
		case file == nil && (read || write):
			file = &k.args[1+i]
		}
	}
	// history -r FILE loads any file into the list, and plain history
	// prints it: a file read like cat. -w/-a FILE writes the list there.
	if file != nil {
		if read {
			w.ref(k, *file, analysis.OpRead, false)
			w.sideRead(k, *file, "history -r")
		} else {
			w.ref(k, *file, analysis.OpWrite, false)
		}
	}
	switch {
	case write && (clear || w.facts.historyCleared):
		w.add(finding(CodeHistoryWipe, decision.Confirm, "this writes a cleared history over the history file; say why it is needed", k.detail(), riskMedium))
		return nil
	case clear:
		w.facts.historyCleared = true
		w.add(finding(CodeHistoryWipe, decision.Notify, "this clears the shell's history list", k.detail(), riskLow))
		return nil
	}
	return &flow{data: true}
}

// unset HISTFILE disables history.
func (w *walker) unset(k *cmd) *flow {
	for _, a := range k.args[1:] {
		switch a.s {
		case "HISTFILE", "HISTSIZE", "HISTFILESIZE":
			w.add(finding(CodeHistoryWipe, decision.Confirm, "this disables shell history; say why it is needed", k.detail(), riskMedium))
		}
		if w.vars != nil {
			delete(w.vars, a.s)
		}
	}
	return nil
}

// set without arguments prints every variable; set +o history disables
// history.
func (w *walker) set(k *cmd) *flow {
	if len(k.args) == 1 {
		w.out.ReadsEnv = true
		return &flow{env: true, data: true}
	}
	for i := 1; i+1 < len(k.args); i++ {
		if k.args[i].s == "+o" && k.args[i+1].s == "history" {
			w.add(finding(CodeHistoryWipe, decision.Confirm, "this disables shell history; say why it is needed", k.detail(), riskMedium))
		}
	}
	return nil
}

func (w *walker) printenv(k *cmd) *flow {
	w.out.ReadsEnv = true
	return &flow{env: true, data: true}
}

// sort: -o writes the sorted input.
func (w *walker) sortCmd(k *cmd) *flow {
	p := operands(k, spec{short: "ktToSy", long: []string{"--key", "--field-separator", "--output", "--buffer-size", "--temporary-directory", "--parallel", "--batch-size", "--files0-from", "--random-source", "--sort", "--compress-program"}})
	for _, f := range p.pos {
		w.ref(k, f, analysis.OpRead, false)
	}
	for _, v := range p.vals("--compress-program") {
		w.hook(k, v, "sort --compress-program")
	}
	in := w.readFlow(k, p.pos)
	if out, ok := p.val("-o", "--output"); ok {
		w.ref(k, out, analysis.OpWrite, false)
		if !out.dyn {
			w.writeRulesPriv(out.s, false, in, k.priv, k.detail(), "sort -o")
		}
		return nil
	}
	return in
}

// uniq [INPUT [OUTPUT]].
func (w *walker) uniqCmd(k *cmd) *flow {
	p := operands(k, spec{short: "fsw", long: []string{"--skip-fields", "--skip-chars", "--check-chars", "--group", "--all-repeated"}})
	if len(p.pos) > 0 {
		w.ref(k, p.pos[0], analysis.OpRead, false)
	}
	if len(p.pos) > 1 {
		w.ref(k, p.pos[1], analysis.OpWrite, false)
		w.sensitiveWriteRules(k, p.pos[1].s, "uniq")
		return nil
	}
	return w.readFlow(k, p.pos[:min(1, len(p.pos))])
}

// diff: with a line format and /dev/null as one side, diff prints the
// other file verbatim.
func (w *walker) diffCmd(k *cmd) *flow {
	p := operands(k, spec{short: "IxXFSCUL", long: []string{"--line-format", "--old-line-format", "--new-line-format", "--unchanged-line-format", "--label", "--ignore-matching-lines", "--exclude", "--exclude-from", "--from-file", "--to-file", "--starting-file", "--changed-group-format", "--new-group-format", "--old-group-format", "--unchanged-group-format", "--horizon-lines", "--width", "--tabsize", "--palette", "--color"}})
	rec := p.has("-r", "--recursive")
	verbatim := p.has("--line-format", "--new-line-format", "--old-line-format", "--unchanged-line-format", "--new-group-format", "--changed-group-format")
	null := false
	for _, f := range p.pos {
		if f.s == "/dev/null" {
			null = true
		}
	}
	for _, f := range p.pos {
		w.ref(k, f, analysis.OpRead, rec)
		if verbatim && null && f.s != "/dev/null" {
			w.sideRead(k, f, "diff --line-format")
		}
	}
	return w.readFlow(k, p.pos)
}

// split INPUT [PREFIX]; --filter runs a command per chunk.
func (w *walker) splitCmd(k *cmd) *flow {
	p := operands(k, spec{short: "abClnt", long: []string{"--suffix-length", "--bytes", "--line-bytes", "--lines", "--number", "--filter", "--separator", "--additional-suffix", "--numeric-suffixes", "--hex-suffixes"}})
	for _, v := range p.vals("--filter") {
		w.hook(k, v, "split --filter")
	}
	if len(p.pos) > 0 {
		w.ref(k, p.pos[0], analysis.OpRead, false)
	}
	if len(p.pos) > 1 {
		w.ref(k, field{s: p.pos[1].s + "*", dyn: p.pos[1].dyn}, analysis.OpWrite, false)
	}
	return nil
}

// which, command -v and type -p print where a program is: the output
// names that program.
func (w *walker) which(k *cmd) *flow {
	var names []string
	for _, a := range k.args[1:] {
		if !strings.HasPrefix(a.s, "-") && !a.dyn {
			names = append(names, a.s)
		}
	}
	if len(names) == 0 {
		return &flow{data: true, lookup: true}
	}
	return &flow{text: strings.Join(names, "\n") + "\n", textOK: true, data: true, lookup: true}
}

// read assigns words from its input to variables; they carry that input.
func (w *walker) read(k *cmd) *flow {
	for i := 1; i < len(k.args); i++ {
		s := k.args[i].s
		if strings.HasPrefix(s, "-") {
			if s == "-a" || s == "-d" || s == "-n" || s == "-N" || s == "-p" || s == "-t" || s == "-u" || s == "-i" {
				i++
			}
			continue
		}
		w.setVar(s, "", true)
		if k.c.stdin != nil {
			v := w.vars[s]
			v.fl = passThrough(k.c.stdin)
			w.vars[s] = v
		}
	}
	if len(k.args) == 1 {
		w.setVar("REPLY", "", true)
	}
	return nil
}

// alias NAME=VALUE defines code that runs whenever NAME is typed.
func (w *walker) alias(k *cmd) *flow {
	for _, a := range k.args[1:] {
		name, val, ok := strings.Cut(a.s, "=")
		if !ok || name == "" {
			continue
		}
		w.deferredShell(k, val, "alias "+name)
	}
	return nil
}

// cd moves the line's working directory, so that "cd /etc && rm -rf ssl"
// is judged as a delete of /etc/ssl. The move is tracked for the rest of
// the line (a subshell's cd leaks out of it: an over-approximation that
// only ever makes later relative paths less trusted, since an unknown
// target makes them run-time names).
func (w *walker) cd(k *cmd) *flow {
	var target *field
	for i := 1; i < len(k.args); i++ {
		a := k.args[i]
		if a.s == "--" {
			continue
		}
		if strings.HasPrefix(a.s, "-") && a.s != "-" && !a.dyn {
			continue // -P, -L, -e
		}
		target = &k.args[i]
		break
	}
	switch {
	case target == nil:
		w.cwd, w.cwdDyn = "~", false
	case target.dyn || target.s == "-":
		w.cwd, w.cwdDyn = "", true
	case strings.HasPrefix(target.s, "/") || strings.HasPrefix(target.s, "~"):
		w.cwd, w.cwdDyn = path.Clean(target.s), false
	case w.cwdDyn:
	default:
		base := w.cwd
		if base == "" {
			base = "."
		}
		w.cwd = path.Join(base, target.s)
		if !strings.HasPrefix(w.cwd, "/") && !strings.HasPrefix(w.cwd, "~") && !strings.HasPrefix(w.cwd, ".") {
			w.cwd = "./" + w.cwd
		}
	}
	w.ref(k, *target0(target, w.cwd), analysis.OpList, false)
	return nil
}

func target0(f *field, cwd string) *field {
	if f != nil {
		return f
	}
	return &field{s: cwd}
}
