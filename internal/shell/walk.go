package shell

import (
	"path"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// flow describes data moving through a pipe, a redirection or a
// substitution: where it came from and, when it is static, what it is.
type flow struct {
	// text is the content when it is statically known (echo, printf, a
	// quoted heredoc, a decoded literal).
	text   string
	textOK bool
	// skel is the content with unresolved parts as dynMark when it is
	// only partly known (echo "$x", a here-document with expansions).
	skel string
	// lookup is set for the output of which / command -v: a program path.
	lookup bool
	// generated is set for text produced by a text processor (sed, awk,
	// printf over find output): commands assembled from local listings.
	generated bool
	// crontab is set for the output of crontab -l.
	crontab bool
	// encoded is set for file content turned into another form in this
	// line (base64, a hex dump, a compressed stream); decoding it again
	// is reading the file through a side channel.
	encoded bool
	// download is set when the content comes from the network.
	download bool
	// decoded is set when the content went through a decoder (base64 -d,
	// xxd -r, rev, printf escapes).
	decoded bool
	// files are local files whose content flows.
	files []string
	// env is set when the environment is part of the content.
	env bool
	// net is set when the content is read from a raw network connection
	// (nc host port, /dev/tcp): commands from a remote peer.
	net bool
	// shell is set for the output of an interactive shell.
	shell bool
	// data is set when the content is produced by a command at all.
	data bool
	// partText holds the statically known pieces of content that is not
	// known as a whole: in (crontab -l; echo "JOB") the echoed job.
	partText string
}

// known returns the content when it is known, else its known pieces.
func (f *flow) known() string {
	if f == nil {
		return ""
	}
	if f.textOK {
		return f.text
	}
	return f.partText
}

func mergeFlow(a, b *flow) *flow {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	m := &flow{
		download: a.download || b.download,
		decoded:  a.decoded || b.decoded,
		env:      a.env || b.env,
		net:      a.net || b.net,
		shell:    a.shell || b.shell,
		data:     a.data || b.data,
	}
	m.files = append(append(m.files, a.files...), b.files...)
	if len(m.files) > 64 {
		m.files = m.files[:64]
	}
	if a.textOK && b.textOK && len(a.text)+len(b.text) <= maxPayload {
		m.text, m.textOK = a.text+b.text, true
	} else if ka, kb := a.known(), b.known(); len(ka)+len(kb) <= maxPayload {
		m.partText = ka + kb
	}
	m.generated = a.generated || b.generated
	m.crontab = a.crontab && b.crontab
	m.encoded = a.encoded || b.encoded
	return m
}

// maxPayload caps static text carried through flows and decoded payloads.
const maxPayload = 16 << 10

// textFlow is static content.
func textFlow(s string) *flow {
	if len(s) > maxPayload {
		return &flow{data: true}
	}
	return &flow{text: s, textOK: true, data: true}
}

// sensitiveData reports whether the flow carries local files or the
// environment.
func (f *flow) sensitiveData() bool {
	return f != nil && (len(f.files) > 0 || f.env)
}

func (f *flow) describe() string {
	switch {
	case f == nil:
		return ""
	case len(f.files) > 0:
		return "file:" + f.files[0]
	case f.env:
		return "env"
	}
	return "stdin"
}

// ctx is the context a statement is walked in.
type ctx struct {
	depth int
	via   string
	src   string
	// priv is set when the statement runs as root.
	priv  bool
	stdin *flow
	// stage is the pipeline stage being walked, for pipeline-level rules,
	// and pipe the whole pipeline's text for findings' details.
	stage *stage
	pipe  string
	// deferred is set for code defined now and run later (alias bodies,
	// crontab lines, at jobs).
	deferred bool
}

func (c *ctx) nested(via string) *ctx {
	n := *c
	n.depth++
	n.via = via
	n.stdin = nil
	n.stage = nil
	n.pipe = ""
	return &n
}

// stage summarises one stage of a pipeline.
type stage struct {
	netClient bool // connects out over a raw socket or TLS stream
	netListen bool
	shellExec bool // a shell or interpreter executing its stdin
	shellIO   bool // an interactive shell
}

type varVal struct {
	s   string
	dyn bool
	fl  *flow
}

// walker holds the state of one Analyze call.
type walker struct {
	a      *Analyzer
	out    *analysis.Analysis
	vars   map[string]varVal
	ncmds  int
	nwords int
	// limited is set once a limit was hit; the walk then stops.
	limited bool
	facts   facts
	// cwd is where a "cd" earlier in the line moved to ("" = where the
	// line started); relative paths after it are judged from there.
	// cwdDyn is set when the target was only known at run time.
	cwd    string
	cwdDyn bool
	// linkHops counts links followed while judging one write.
	linkHops int
	// scratch is set for a walker that only checks what a piece of
	// content would do (see runsRemoteCode); scratchBytes is the content
	// checked so far, bounded by MaxBytes.
	scratch      bool
	scratchBytes int
}

// facts are line-level observations combined after the walk.
type facts struct {
	// downloaded maps a file written by a download to its source.
	downloaded map[string]string
	// madeExec holds files made executable (chmod +x).
	madeExec map[string]bool
	// written holds static content written to files.
	written map[string]string
	// tcpFD is set when the shell opens a network stream (/dev/tcp, ztcp).
	tcpFD bool
	// historyCleared is set after history -c.
	historyCleared bool
	// dynExec is set when a command name or an executed string is dynamic.
	dynExec bool
	// interactive is set when a shell or a shell-like program runs
	// commands from its input or a socket.
	interactive bool
	// archives maps an archive written in this line to its members, so
	// that sending the archive is sending the files.
	archives map[string][]string
	// shellFiles are written files whose content starts a shell.
	shellFiles        []string
	ranAfterShellFile bool
	// decodedFiles are files written with decoded content.
	decodedFiles map[string]bool
	// tcpFds are file descriptors opened on /dev/tcp (exec 3<>/dev/tcp/…)
	// or by zsh's ztcp.
	tcpFds map[string]bool
	// remoteMounts are directories where a remote file system (sshfs) is
	// mounted: copying files there sends them.
	remoteMounts map[string]string
	// netSession is the host of an interactive ftp/sftp/smbclient session
	// whose commands (put, get) follow on later lines.
	netSession string
	// links maps a link made in this line (ln, ln -s), as resolved
	// against the working directory, to what it points at, so that
	// "ln -s ~/.ssh/id_rsa k && cat k" is judged as reading the key.
	links map[string]string
}

func newWalker(a *Analyzer, out *analysis.Analysis) *walker {
	return &walker{a: a, out: out}
}

func (w *walker) run(f *syntax.File, src string) {
	c := &ctx{src: src}
	w.stmts(f.Stmts, c)
	w.finish()
}

// limit records that a limit was exceeded and stops the walk.
func (w *walker) limit(why string) {
	if w.limited {
		return
	}
	w.limited = true
	w.out.AddFinding(tooComplex(why))
}

// unresolved notes something the analyser could not resolve.
func (w *walker) unresolved(what string) {
	const max = 16
	for _, u := range w.out.Unresolved {
		if u == what {
			return
		}
	}
	if len(w.out.Unresolved) >= max {
		return
	}
	w.out.Unresolved = append(w.out.Unresolved, what)
}

func (w *walker) add(f analysis.Finding) {
	if len(w.out.Findings) >= 64 {
		return
	}
	w.out.AddFinding(f)
}

// fragment returns the source text of a node for a finding's Detail.
func fragment(c *ctx, n syntax.Node) string {
	if n == nil || c == nil {
		return ""
	}
	start, end := int(n.Pos().Offset()), int(n.End().Offset())
	if start < 0 || end > len(c.src) || start >= end {
		return ""
	}
	return c.src[start:end]
}

func (w *walker) stmts(list []*syntax.Stmt, c *ctx) *flow {
	var out *flow
	for _, s := range list {
		if w.limited {
			return out
		}
		out = mergeFlow(out, w.stmt(s, c))
	}
	return out
}

func (w *walker) stmt(s *syntax.Stmt, c *ctx) *flow {
	if s == nil || w.limited {
		return nil
	}
	cc := c
	rs := w.redirects(s, cc)
	if rs.stdin != nil {
		n := *cc
		n.stdin = rs.stdin
		cc = &n
	}
	var out *flow
	if s.Cmd == nil {
		// A bare redirection: "> file" truncates, "< file" reads.
		if rs.stdin != nil && len(rs.stdin.files) > 0 {
			out = rs.stdin
		}
	} else {
		out = w.command(s.Cmd, s, cc, rs)
	}
	return w.finishRedirects(s, cc, rs, out)
}

func (w *walker) command(cmd syntax.Command, s *syntax.Stmt, c *ctx, rs *redirs) *flow {
	switch x := cmd.(type) {
	case *syntax.CallExpr:
		return w.callExpr(x, s, c, rs)
	case *syntax.BinaryCmd:
		if x.Op == syntax.Pipe || x.Op == syntax.PipeAll {
			return w.pipeline(x, c)
		}
		a := w.stmt(x.X, c)
		return mergeFlow(a, w.stmt(x.Y, c))
	case *syntax.Subshell:
		return w.stmts(x.Stmts, c)
	case *syntax.Block:
		return w.stmts(x.Stmts, c)
	case *syntax.IfClause:
		var out *flow
		for cl := x; cl != nil; cl = cl.Else {
			w.stmts(cl.Cond, c)
			out = mergeFlow(out, w.stmts(cl.Then, c))
		}
		return out
	case *syntax.WhileClause:
		w.stmts(x.Cond, c)
		out := w.stmts(x.Do, c)
		w.loopRules(x, c)
		return out
	case *syntax.ForClause:
		if it, ok := x.Loop.(*syntax.WordIter); ok {
			items := w.words(it.Items, c)
			w.setVar(it.Name.Value, "", true)
			if len(items) == 1 && !items[0].dyn {
				w.setVar(it.Name.Value, items[0].s, false)
			}
		}
		return w.stmts(x.Do, c)
	case *syntax.CaseClause:
		w.word(x.Word, c)
		var out *flow
		for _, it := range x.Items {
			out = mergeFlow(out, w.stmts(it.Stmts, c))
		}
		return out
	case *syntax.FuncDecl:
		// The body is walked as if it ran: defining a function is
		// almost always followed by calling it.
		names := x.Names
		if x.Name != nil {
			names = append([]*syntax.Lit{x.Name}, names...)
		}
		w.stmt(x.Body, c)
		w.funcRules(x, names, c)
		return nil
	case *syntax.DeclClause:
		return w.declClause(x, s, c)
	case *syntax.TestClause:
		w.testExpr(x.X, c)
		return nil
	case *syntax.TimeClause:
		return w.stmt(x.Stmt, c)
	case *syntax.CoprocClause:
		return w.stmt(x.Stmt, c)
	case *syntax.TestDecl:
		return w.stmt(x.Body, c)
	case *syntax.LetClause, *syntax.ArithmCmd:
		return nil
	}
	return nil
}

func (w *walker) testExpr(t syntax.TestExpr, c *ctx) {
	switch x := t.(type) {
	case *syntax.Word:
		w.word(x, c)
	case *syntax.BinaryTest:
		w.testExpr(x.X, c)
		w.testExpr(x.Y, c)
	case *syntax.UnaryTest:
		w.testExpr(x.X, c)
	case *syntax.ParenTest:
		w.testExpr(x.X, c)
	}
}

func (w *walker) setVar(name, v string, dyn bool) {
	if w.vars == nil {
		w.vars = map[string]varVal{}
	}
	w.vars[name] = varVal{s: v, dyn: dyn}
}

// pipeline walks a | b | c, feeding each stage's output to the next and
// applying the rules that need the whole pipeline.
func (w *walker) pipeline(b *syntax.BinaryCmd, c *ctx) *flow {
	var stmts []*syntax.Stmt
	var flatten func(s *syntax.Stmt)
	flatten = func(s *syntax.Stmt) {
		if bc, ok := s.Cmd.(*syntax.BinaryCmd); ok && (bc.Op == syntax.Pipe || bc.Op == syntax.PipeAll) && len(s.Redirs) == 0 && !s.Negated {
			flatten(bc.X)
			flatten(bc.Y)
			return
		}
		stmts = append(stmts, s)
	}
	flatten(b.X)
	flatten(b.Y)
	stages := make([]stage, len(stmts))
	in := c.stdin
	var out *flow
	text := fragment(c, b)
	for i, s := range stmts {
		sc := *c
		sc.stdin = in
		sc.stage = &stages[i]
		sc.pipe = text
		out = w.stmt(s, &sc)
		in = out
		if in == nil {
			in = &flow{}
		}
	}
	w.pipelineRules(stages, fragment(c, b), c)
	return out
}

func (w *walker) pipelineRules(stages []stage, detail string, c *ctx) {
	var net, listen, shell bool
	for _, s := range stages {
		net = net || s.netClient
		listen = listen || s.netListen
		shell = shell || s.shellExec || s.shellIO
	}
	if shell && (net || listen) {
		if listen && !net {
			w.add(finding(CodeBindShell, decision.Deny,
				"a shell is served on a listening socket (bind shell); this is refused", detail, riskCompromise))
			return
		}
		w.add(finding(CodeReverseShell, decision.Deny,
			"a shell is wired to a network connection (reverse shell); this is refused", detail, riskCompromise))
	}
}

// callExpr resolves a simple command and hands it to exec.
func (w *walker) callExpr(x *syntax.CallExpr, s *syntax.Stmt, c *ctx, rs *redirs) *flow {
	if len(x.Args) == 0 {
		for _, as := range x.Assigns {
			w.assign(as, s, c, true)
		}
		return nil
	}
	var env []envVar
	for _, as := range x.Assigns {
		if ev, ok := w.assign(as, s, c, false); ok {
			env = append(env, ev)
		}
	}
	fields := w.words(x.Args, c)
	if w.limited {
		return nil
	}
	if len(fields) == 0 {
		w.dynamicName(s, c, "the command expands to nothing")
		return nil
	}
	return w.exec(&cmd{args: fields, env: env, c: c, st: s, rs: rs})
}

type envVar struct {
	name string
	val  field
}

// assign handles NAME=value. Shell assignments (no command) update the
// static variables; prefix assignments are returned for the command.
func (w *walker) assign(as *syntax.Assign, s *syntax.Stmt, c *ctx, shellVar bool) (envVar, bool) {
	if as.Name == nil {
		return envVar{}, false
	}
	name := as.Name.Value
	var val field
	if as.Value != nil {
		fs := w.word(as.Value, c)
		var b strings.Builder
		for i, f := range fs {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(f.s)
			val.dyn = val.dyn || f.dyn
			val.flow = mergeFlow(val.flow, f.flow)
			val.subst = val.subst || f.subst
		}
		val.s = b.String()
	} else if as.Array != nil {
		for _, el := range as.Array.Elems {
			if el.Value != nil {
				w.word(el.Value, c)
			}
		}
		val = field{s: "*", dyn: true}
	}
	if as.Append {
		if prev, ok := w.vars[name]; ok {
			val.s = prev.s + val.s
			val.dyn = val.dyn || prev.dyn
		} else {
			val.dyn = true
		}
	}
	w.envRules(name, val, s, c, shellVar)
	if shellVar {
		w.setVar(name, val.s, val.dyn)
		if val.flow != nil {
			v := w.vars[name]
			v.fl = val.flow
			w.vars[name] = v
		}
	}
	return envVar{name: name, val: val}, true
}

// declClause handles export, declare, local, readonly and typeset.
func (w *walker) declClause(x *syntax.DeclClause, s *syntax.Stmt, c *ctx) *flow {
	variant := x.Variant.Value
	var args []string
	listing := len(x.Args) == 0
	names := 0
	for _, as := range x.Args {
		if as.Naked && as.Name == nil && as.Value != nil {
			v, _ := w.joined(as.Value, c)
			args = append(args, v)
			if strings.HasPrefix(v, "-") && strings.ContainsAny(v, "px") {
				listing = true
			} else if !strings.HasPrefix(v, "-") {
				names++
			}
			continue
		}
		names++
		if as.Naked {
			if as.Name != nil {
				args = append(args, as.Name.Value)
			}
			continue
		}
		w.assign(as, s, c, true)
		if as.Name != nil {
			args = append(args, as.Name.Value+"=…")
		}
	}
	w.record(&cmd{name: variant, c: c, st: s}, args)
	if listing && names == 0 && (variant == "export" || variant == "declare" || variant == "typeset") {
		w.out.ReadsEnv = true
		return &flow{env: true, data: true}
	}
	return nil
}

// redirs is the resolved redirection set of a statement.
type redirs struct {
	stdin *flow
	// out are files stdout (or stdout and stderr) is written to.
	out []redirTarget
	// tcp lists /dev/tcp and /dev/udp streams opened.
	tcp []redirTarget
	// stdoutAway is set when fd 1 goes to a file or stream, so nothing
	// flows on to the next pipeline stage.
	stdoutAway bool
	// stdinTCP is set when stdin comes from a network stream.
	stdinTCP bool
}

type redirTarget struct {
	path   string
	dyn    bool
	append bool
	fd     string
	in     bool
}

var quietDevices = map[string]bool{
	"/dev/null": true, "/dev/stdout": true, "/dev/stderr": true, "/dev/stdin": true,
	"/dev/tty": true, "/dev/zero": true, "/dev/random": true, "/dev/urandom": true,
	"/dev/full": true, "/dev/console": true, "-": true,
}

func (w *walker) redirects(s *syntax.Stmt, c *ctx) *redirs {
	rs := &redirs{}
	for _, r := range s.Redirs {
		fd := ""
		if r.N != nil {
			fd = r.N.Value
		}
		switch r.Op {
		case syntax.Hdoc, syntax.DashHdoc:
			if r.Hdoc == nil {
				rs.stdin = textFlow("")
				continue
			}
			text, skel, dyn := w.heredoc(r.Hdoc, c)
			if dyn {
				rs.stdin = &flow{data: true, skel: skel}
				w.unresolved("here-document with expansions")
			} else {
				rs.stdin = textFlow(text)
			}
		case syntax.WordHdoc:
			fs := w.word(r.Word, c)
			var b strings.Builder
			dyn := false
			var fl *flow
			for i, f := range fs {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(f.s)
				dyn = dyn || f.dyn
				fl = mergeFlow(fl, f.flow)
			}
			if dyn {
				rs.stdin = mergeFlow(&flow{data: true}, fl)
			} else {
				rs.stdin = textFlow(b.String() + "\n")
				if fl != nil {
					rs.stdin.download, rs.stdin.decoded = fl.download, fl.decoded
					rs.stdin.files, rs.stdin.env = fl.files, fl.env
				}
			}
		case syntax.DplIn, syntax.DplOut:
			v, dyn := w.joined(r.Word, c)
			if w.facts.tcpFds[v] || dyn && w.facts.tcpFds["*"] {
				// >&3 where fd 3 is a /dev/tcp stream (or zsh ztcp's $REPLY).
				t := redirTarget{path: "/dev/tcp/fd/" + v, in: r.Op == syntax.DplIn, fd: fd}
				rs.tcp = append(rs.tcp, t)
				if r.Op == syntax.DplIn && (fd == "" || fd == "0") {
					rs.stdinTCP = true
					rs.stdin = &flow{net: true, data: true}
				}
				if r.Op == syntax.DplOut && (fd == "" || fd == "1") {
					rs.stdoutAway = true
				}
				continue
			}
			if r.Op == syntax.DplOut && (fd == "" || fd == "1") && v != "1" && v != "2" && v != "-" {
				// >&file (bash: stdout and stderr to a file) or >&3.
				if _, err := strconv.Atoi(v); err != nil {
					t := redirTarget{path: v, fd: "&"}
					if w.tcpPath(t, rs, s, c) {
						continue
					}
					rs.out = append(rs.out, t)
					rs.stdoutAway = true
				}
			}
		default:
			fs := w.word(r.Word, c)
			if len(fs) == 0 {
				continue
			}
			p := fs[0]
			t := redirTarget{path: p.s, dyn: p.dyn, fd: fd}
			switch r.Op {
			case syntax.RdrIn:
				t.in = true
				if w.tcpPath(t, rs, s, c) {
					rs.stdinTCP = true
					rs.stdin = &flow{net: true, data: true}
					continue
				}
				if fd == "" || fd == "0" {
					if p.proc {
						rs.stdin = p.flow
						continue
					}
					if p.s == "/dev/tty" || p.s == "/dev/stdin" || p.s == "/dev/console" {
						// The terminal: input stays interactive.
						continue
					}
					if !quietDevices[p.s] {
						rs.stdin = &flow{files: []string{p.s}, data: true}
					} else {
						rs.stdin = &flow{}
					}
				}
				w.redirPath(p, analysis.OpRead, c)
				w.privRedirect(c, s, p.s, p.dyn, analysis.OpRead)
				if !p.dyn && rawDevice(p.s) {
					w.rawDeviceRead(p.s, fragment(c, s))
				}
			case syntax.RdrInOut:
				t.in = true
				if w.tcpPath(t, rs, s, c) {
					continue
				}
				w.redirPath(p, analysis.OpWrite, c)
			case syntax.AppOut, syntax.AppAll:
				t.append = true
				fallthrough
			default: // >, >|, &>, &>>
				if w.tcpPath(t, rs, s, c) {
					if fd == "" || fd == "1" || r.Op == syntax.RdrAll || r.Op == syntax.AppAll {
						rs.stdoutAway = true
					}
					continue
				}
				if r.Op == syntax.RdrAll || r.Op == syntax.AppAll {
					t.fd = "&"
				}
				if fd == "" || fd == "1" || t.fd == "&" {
					rs.stdoutAway = true
				}
				rs.out = append(rs.out, t)
			}
		}
	}
	return rs
}

// tcpPath handles bash's /dev/tcp/HOST/PORT and /dev/udp pseudo-files.
func (w *walker) tcpPath(t redirTarget, rs *redirs, s *syntax.Stmt, c *ctx) bool {
	host, port, proto, ok := devTCP(t.path)
	if !ok {
		return false
	}
	rs.tcp = append(rs.tcp, t)
	w.facts.tcpFD = true
	if t.fd != "" && t.fd != "0" && t.fd != "1" && t.fd != "2" && t.fd != "&" {
		w.noteTCPFd(t.fd)
	}
	d := analysis.Dest{Raw: t.path, Scheme: proto, Host: host, Port: port, Command: "bash"}
	if !t.in {
		d.Sends = true
		d.Data = "stdin"
	}
	w.addDest(d)
	return true
}

// devTCP splits /dev/tcp/host/port.
func devTCP(p string) (host string, port int, proto string, ok bool) {
	var rest string
	switch {
	case strings.HasPrefix(p, "/dev/tcp/"):
		proto, rest = "tcp", p[len("/dev/tcp/"):]
	case strings.HasPrefix(p, "/dev/udp/"):
		proto, rest = "udp", p[len("/dev/udp/"):]
	default:
		return "", 0, "", false
	}
	host, ps, _ := strings.Cut(rest, "/")
	port, _ = strconv.Atoi(ps)
	return host, port, proto, host != ""
}

// privRedirect judges a redirection made by a root shell (inside sudo
// sh -c, su -c …): the shell itself opens the file as root.
func (w *walker) privRedirect(c *ctx, s *syntax.Stmt, p string, dyn bool, op analysis.Op) {
	if !c.priv || dyn || quietDevices[p] {
		return
	}
	switch {
	case op == analysis.OpRead && privReadRisky(p):
		w.add(finding(CodePrivilegeEscalation, decision.Confirm,
			"a root shell reads "+p+", outside the workspace; read it without sudo or say why", fragment(c, s), riskHigh))
	case op == analysis.OpWrite && privWriteRisky(p):
		w.add(finding(CodePrivilegeEscalation, decision.Confirm,
			"a root shell writes "+p+", outside the workspace and system directories; say why it is needed", fragment(c, s), riskHigh))
	}
}

func (w *walker) redirPath(p field, op analysis.Op, c *ctx) {
	if quietDevices[p.s] || strings.HasPrefix(p.s, "/dev/fd/") || p.proc {
		return
	}
	w.addPath(analysis.PathRef{Path: p.s, Op: op, Dynamic: p.dyn, Privileged: c.priv, Command: "redirect"})
}

// finishRedirects records output redirections once the command ran:
// content written to files, data sent to /dev/tcp.
func (w *walker) finishRedirects(s *syntax.Stmt, c *ctx, rs *redirs, out *flow) *flow {
	for _, t := range rs.out {
		if quietDevices[t.path] || strings.HasPrefix(t.path, "/dev/fd/") {
			continue
		}
		w.addPath(analysis.PathRef{Path: t.path, Op: analysis.OpWrite, Dynamic: t.dyn, Privileged: c.priv, Command: "redirect"})
		w.writeRules(t.path, t.append, out, c, fragment(c, s), "redirect")
		w.privRedirect(c, s, t.path, t.dyn, analysis.OpWrite)
		if out != nil && out.download {
			w.noteDownloaded(t.path, "")
		}
		if out != nil && out.decoded {
			w.noteDecoded(t.path)
		}
		if out != nil && out.textOK && !t.append && (t.fd == "" || t.fd == "1" || t.fd == "&") {
			w.noteWritten(t.path, out.text)
		} else if out != nil && out.textOK && t.append {
			w.noteWritten(t.path, w.facts.written[t.path]+out.text)
		}
	}
	if len(rs.tcp) > 0 && out != nil && out.sensitiveData() {
		for _, t := range rs.tcp {
			if !t.in {
				w.exfil(fragment(c, s), out, t.path)
			}
		}
	}
	if rs.stdoutAway {
		return nil
	}
	return out
}

// heredoc resolves a here-document body. skel is the body with dynamic
// parts as dynMark, for analysing code fed through a here-document.
func (w *walker) heredoc(wd *syntax.Word, c *ctx) (text, skel string, dyn bool) {
	var b, bm strings.Builder
	lit := func(t string) {
		b.WriteString(t)
		bm.WriteString(t)
	}
	unknown := func() {
		b.WriteString("*")
		bm.WriteString(dynMark)
		dyn = true
	}
	for _, part := range wd.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			lit(p.Value)
		case *syntax.SglQuoted:
			lit("'" + p.Value + "'")
		case *syntax.DblQuoted:
			s, m, d, _ := w.dquoted(p.Parts, c)
			b.WriteString(`"` + s + `"`)
			bm.WriteString(`"` + m + `"`)
			dyn = dyn || d
		case *syntax.ParamExp:
			if v, ok := w.param(p, c); ok {
				lit(v)
			} else {
				unknown()
			}
		case *syntax.CmdSubst:
			f := w.cmdSubst(p, c)
			if f.textOK {
				lit(strings.TrimRight(f.text, "\n"))
			} else {
				unknown()
			}
		default:
			unknown()
		}
		if b.Len() > maxPayload {
			return b.String(), "", true
		}
	}
	return b.String(), bm.String(), dyn
}

// cmdSubst walks $(…) and returns its output flow.
func (w *walker) cmdSubst(cs *syntax.CmdSubst, c *ctx) *flow {
	// $(<file) reads a file.
	if len(cs.Stmts) == 1 && cs.Stmts[0].Cmd == nil && len(cs.Stmts[0].Redirs) == 1 && cs.Stmts[0].Redirs[0].Op == syntax.RdrIn {
		fs := w.word(cs.Stmts[0].Redirs[0].Word, c)
		if len(fs) > 0 {
			w.addPath(analysis.PathRef{Path: fs[0].s, Op: analysis.OpRead, Dynamic: fs[0].dyn, Privileged: c.priv, Command: "$(<…)"})
			w.privRedirect(c, cs.Stmts[0], fs[0].s, fs[0].dyn, analysis.OpRead)
			if host, port, proto, ok := devTCP(fs[0].s); ok {
				w.addDest(analysis.Dest{Raw: fs[0].s, Scheme: proto, Host: host, Port: port, Command: "bash"})
				w.facts.tcpFD = true
				return &flow{net: true, data: true, download: true}
			}
			return &flow{files: []string{fs[0].s}, data: true}
		}
		return &flow{data: true}
	}
	if c.depth+1 > w.a.opts.MaxDepth {
		w.limit("command substitutions nested deeper than " + strconv.Itoa(w.a.opts.MaxDepth))
		return &flow{data: true}
	}
	out := w.stmts(cs.Stmts, c.nested("$(…)"))
	if out == nil {
		return &flow{textOK: true}
	}
	return out
}

func (w *walker) procSubst(ps *syntax.ProcSubst, c *ctx) *flow {
	if c.depth+1 > w.a.opts.MaxDepth {
		w.limit("process substitutions nested deeper than " + strconv.Itoa(w.a.opts.MaxDepth))
		return &flow{data: true}
	}
	nc := c.nested("<(…)")
	if ps.Op == syntax.CmdOut {
		nc.via = ">(…)"
		nc.stdin = &flow{data: true}
	}
	out := w.stmts(ps.Stmts, nc)
	if out == nil {
		out = &flow{}
	}
	return out
}

// addPath records a path reference, skipping devices that carry no data
// and duplicates.
func (w *walker) addPath(p analysis.PathRef) {
	if p.Path == "" || (p.Op != analysis.OpWrite && quietDevices[p.Path]) || (p.Op == analysis.OpWrite && quietDevices[p.Path]) {
		return
	}
	if strings.HasPrefix(p.Path, "/dev/fd/") {
		return
	}
	p.Path, p.Dynamic = w.atCwd(p.Path, p.Dynamic)
	if p.Dynamic {
		p.Path = dynPath(p.Path)
	}
	w.addResolved(p, 0)
}

// atCwd resolves a relative path against the directory a "cd" earlier in
// the line moved to.
func (w *walker) atCwd(p string, dyn bool) (string, bool) {
	if w.cwd == "" && !w.cwdDyn || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~") {
		return p, dyn
	}
	if w.cwdDyn {
		return "*/" + p, true
	}
	j := path.Join(w.cwd, p)
	if strings.HasSuffix(p, "/") && !strings.HasSuffix(j, "/") {
		j += "/"
	}
	return j, dyn
}

// maxLinkHops bounds following links made in the line (a → b → c).
const maxLinkHops = 4

// linkTarget returns what p reaches through a link made earlier in the
// line: the link's target for the link itself, target/x for link/x.
// Deleting a link removes the link, not its target, so for deletes only
// paths through the link (link/x) are followed.
func (w *walker) linkTarget(p string, op analysis.Op) (string, bool) {
	if len(w.facts.links) == 0 || p == "" || strings.HasPrefix(p, "*") {
		return "", false
	}
	c := cleanPath(p)
	if t, ok := w.facts.links[c]; ok && op != analysis.OpDelete {
		return t, true
	}
	for dir := c; ; {
		i := strings.LastIndexByte(dir, '/')
		if i <= 0 {
			return "", false
		}
		dir = dir[:i]
		if t, ok := w.facts.links[dir]; ok {
			return strings.TrimSuffix(t, "/") + c[len(dir):], true
		}
	}
}

// noteLink records that link now points at target; both are resolved
// against the working directory as addPath does.
func (w *walker) noteLink(link, target string) {
	if w.cwdDyn || link == "" || target == "" {
		return
	}
	if w.facts.links == nil {
		w.facts.links = map[string]string{}
	}
	if len(w.facts.links) >= 64 {
		return
	}
	l, _ := w.atCwd(link, false)
	t, _ := w.atCwd(target, false)
	w.facts.links[cleanPath(l)] = t
}

// addResolved records p (already resolved against the working directory)
// and what it reaches through links made earlier in the line.
func (w *walker) addResolved(p analysis.PathRef, hops int) {
	if !p.Dynamic && hops < maxLinkHops {
		if t, ok := w.linkTarget(p.Path, p.Op); ok {
			q := p
			q.Path = t
			w.addResolved(q, hops+1)
		}
	}
	for i, q := range w.out.Paths {
		if q.Path == p.Path && q.Op == p.Op && q.Command == p.Command {
			w.out.Paths[i].Recursive = q.Recursive || p.Recursive
			w.out.Paths[i].Privileged = q.Privileged || p.Privileged
			return
		}
	}
	if len(w.out.Paths) >= 512 {
		return
	}
	w.out.Paths = append(w.out.Paths, p)
	if p.Privileged {
		w.out.Privileged = true
	}
}

// dynPath makes sure a dynamic path is never empty.
func dynPath(p string) string {
	if p == "" {
		return "*"
	}
	return p
}

func (w *walker) addDest(d analysis.Dest) {
	if d.Host == "" && d.Raw == "" {
		return
	}
	for i, e := range w.out.Dests {
		if e.Raw == d.Raw && e.Command == d.Command {
			w.out.Dests[i].Sends = e.Sends || d.Sends
			w.out.Dests[i].Listens = e.Listens || d.Listens
			if e.Data == "" {
				w.out.Dests[i].Data = d.Data
			}
			return
		}
	}
	if len(w.out.Dests) >= 256 {
		return
	}
	w.out.Dests = append(w.out.Dests, d)
}

func (w *walker) noteTCPFd(fd string) {
	if w.facts.tcpFds == nil {
		w.facts.tcpFds = map[string]bool{}
	}
	w.facts.tcpFds[fd] = true
}

func (w *walker) noteDecoded(path string) {
	if w.facts.decodedFiles == nil {
		w.facts.decodedFiles = map[string]bool{}
	}
	w.facts.decodedFiles[cleanPath(path)] = true
}

func (w *walker) noteWritten(path, content string) {
	if w.facts.written == nil {
		w.facts.written = map[string]string{}
	}
	if len(content) > maxPayload {
		content = content[:maxPayload]
	}
	w.facts.written[path] = content
	if spawnsShellText(content) {
		w.facts.shellFiles = append(w.facts.shellFiles, path)
	}
}

func (w *walker) noteDownloaded(path, from string) {
	if path == "" || path == "-" {
		return
	}
	if w.facts.downloaded == nil {
		w.facts.downloaded = map[string]string{}
	}
	w.facts.downloaded[path] = from
}

func (w *walker) dynamicName(s *syntax.Stmt, c *ctx, why string) {
	w.facts.dynExec = true
	w.add(finding(CodeDynamicCommand, decision.Confirm,
		"the program to run is not statically known; spell out the command", fragment(c, s)+" ("+why+")", riskMedium))
}
