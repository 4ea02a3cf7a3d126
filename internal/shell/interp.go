package shell

import (
	"sort"
	"strconv"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// Interpreters' inline code (python -c, perl -e, node -e, awk programs …)
// is not parsed as a language; it is scanned for the calls that matter to
// Sentinel — running commands, opening sockets, reading and writing named
// files, changing uid, loading libraries, decoding payloads — and the
// string literals those calls receive are analysed as shell commands.

// literal is a string literal found in code.
type literal struct {
	s         string
	start     int
	end       int
	backtick  bool
	tripleOrQ bool
}

// maxLiterals bounds the literals collected from one code string.
const maxLiterals = 512

// literals extracts quoted strings ('…', "…", `…`) from code, handling
// backslash escapes. It is language-agnostic on purpose.
func literals(code string) []literal {
	var out []literal
	for i := 0; i < len(code) && len(out) < maxLiterals; i++ {
		q := code[i]
		if q != '\'' && q != '"' && q != '`' {
			continue
		}
		// Python triple quotes.
		if i+2 < len(code) && code[i+1] == q && code[i+2] == q && q != '`' {
			end := strings.Index(code[i+3:], string([]byte{q, q, q}))
			if end < 0 {
				break
			}
			out = append(out, literal{s: code[i+3 : i+3+end], start: i, end: i + 6 + end, tripleOrQ: true})
			i += 5 + end
			continue
		}
		// A quote directly after a word character is an apostrophe in
		// text (don't) or a Lisp quote, not a string start.
		if q == '\'' && i > 0 && isWordByte(code[i-1]) {
			continue
		}
		var b strings.Builder
		j := i + 1
		closed := false
		for ; j < len(code); j++ {
			c := code[j]
			if c == '\\' && j+1 < len(code) && q != '`' {
				j++
				switch code[j] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'x':
					if v, n := hexDigits(code[j+1:], 2); n == 2 {
						b.WriteByte(byte(v))
						j += 2
						continue
					}
					b.WriteByte('x')
				default:
					b.WriteByte(code[j])
				}
				continue
			}
			if c == q {
				closed = true
				break
			}
			b.WriteByte(c)
		}
		if !closed {
			break
		}
		out = append(out, literal{s: b.String(), start: i, end: j + 1, backtick: q == '`'})
		i = j
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// codeFacts is what a scan of interpreter code found.
type codeFacts struct {
	execs     []string
	execDyn   bool
	spawn     bool // an interactive shell is started
	connects  bool
	listens   bool
	netFetch  bool
	hosts     []string
	reads     []string
	writes    []string
	env       bool
	setuid0   bool
	lib       []string
	decoded   []string
	deletes   []codeDelete
	fork      bool
	loop      bool
	dup       bool
	evalDyn   bool
	httpServe bool
	// generatedToShell is set for awk's print … | "sh".
	generatedToShell bool
}

// execCalls are the names of calls that run a command line, in any of
// the languages scanned. Matching is case-insensitive on word boundaries.
var execCalls = []string{
	"os.system", "os.popen", "subprocess.call", "subprocess.run", "subprocess.popen", "subprocess.check_output",
	"subprocess.check_call", "subprocess.getoutput", "subprocess.getstatusoutput", "commands.getoutput",
	"os.execl", "os.execle", "os.execlp", "os.execv", "os.execve", "os.execvp", "os.execvpe", "os.spawnl",
	"os.spawnv", "os.spawnlp", "os.spawnvp", "os.posix_spawn", "pty.spawn", "asyncio.create_subprocess_shell",
	"system", "exec", "popen", "io.popen", "os.execute", "shell_exec", "passthru", "proc_open", "pcntl_exec",
	"execsync", "spawnsync", "spawn", "execfile", "execfilesync", "process.spawn", "open3.popen3", "open3.capture2",
	"run-shell-command", "ext:run-shell-command", "run-program", "callcommand", "system.process.callcommand",
	"readprocess", "rawsystem", "runtime.getruntime().exec", "processbuilder", "do shell script",
	"invoke-expression", "iex", "start-process", "system2", "shell", "run", "syscmd", "esyscmd", "qx", "%x",
	"syscall.exec", "exec.command", "kernel.exec", "kernel.system", "kernel.spawn", "open",
}

// execCallSet gives O(1) membership for the scanner.
var execCallSet = func() map[string]bool {
	m := make(map[string]bool, len(execCalls))
	for _, c := range execCalls {
		m[c] = true
	}
	return m
}()

// identBefore reads a dotted identifier ending at code[end-1],
// lower-cased.
func identBefore(code string, end int) string {
	i := end
	for i > 0 {
		c := code[i-1]
		if isWordByte(c) || c == '.' || c == ':' || c == '-' || c == '%' {
			i--
			continue
		}
		break
	}
	return strings.ToLower(strings.Trim(code[i:end], ".:"))
}

// scanCode scans interpreter code.
func scanCode(code, lang string) codeFacts {
	var f codeFacts
	lc := strings.ToLower(code)
	lits := literals(code)

	// Calls that run commands: the literals in their argument list.
	for li := 0; li < len(lits); li++ {
		l := lits[li]
		if l.backtick && lang != "js" && lang != "sh" {
			// Backticks run a command in perl, ruby, php, julia.
			f.execs = append(f.execs, l.s)
			continue
		}
		call, open := callBefore(code, l.start)
		if call == "" {
			continue
		}
		if !isExecCall(call, lang) {
			continue
		}
		// Join the literals of the argument list (list form argv).
		parts := []string{l.s}
		depth := 0
		if open == '(' || open == '[' {
			depth = 1
		}
		end := l.end
		for lj := li + 1; lj < len(lits) && depth > 0; lj++ {
			between := code[end:lits[lj].start]
			depth += strings.Count(between, "(") + strings.Count(between, "[") - strings.Count(between, ")") - strings.Count(between, "]")
			if depth <= 0 || strings.ContainsAny(between, ";\n") {
				break
			}
			parts = append(parts, lits[lj].s)
			end = lits[lj].end
			li = lj
		}
		if strings.HasPrefix(call, "os.exec") || strings.HasPrefix(call, "os.spawn") || call == "pcntl_exec" {
			if len(parts) >= 2 && baseOf(parts[0]) == baseOf(parts[1]) {
				parts = append(parts[:1], parts[2:]...)
			}
		}
		if call == "open" {
			// perl/ruby open with a pipe: open(F, "cmd |") / open("|cmd").
			s := strings.TrimSpace(parts[len(parts)-1])
			if strings.HasPrefix(s, "|") || strings.HasSuffix(s, "|") {
				f.execs = append(f.execs, strings.Trim(s, "| "))
			}
			continue
		}
		f.execs = append(f.execs, strings.Join(parts, " "))
	}
	// Exec calls whose argument is not a literal (io.popen(r), exec($c)).
	for _, c := range []string{"os.system(", "popen(", "system(", "exec(", "os.execute(", "shell_exec(", "passthru(", "spawn(", "run(", "execsync("} {
		for idx := 0; ; {
			j := strings.Index(lc[idx:], c)
			if j < 0 {
				break
			}
			pos := idx + j + len(c)
			rest := strings.TrimLeft(lc[pos:], " ")
			if rest != "" && rest[0] != '"' && rest[0] != '\'' && rest[0] != '`' && rest[0] != ')' && rest[0] != '[' {
				f.execDyn = true
			}
			idx = pos
			if idx >= len(lc) {
				break
			}
		}
	}
	for _, e := range f.execs {
		if shellRef(e) {
			f.spawn = true
		}
	}
	if strings.Contains(lc, "pty.spawn") {
		f.spawn = true
	}
	has := func(toks ...string) bool {
		for _, t := range toks {
			if strings.Contains(lc, t) {
				return true
			}
		}
		return false
	}
	if has("socket.socket", "socket(", "tcpsocket", "fsockopen", "/dev/tcp/", "net.connect", "net.createconnection",
		"new socket(", "java.net.socket", "io::socket", "socket.tcp", "require(\"socket\")", "require('socket')",
		"require \"socket\"", "-rsocket", "ztcp", "/inet/tcp", "/inet/udp", "sockets;", "using sockets", "connect(",
		"s:connect", "t:connect", "socket attacker", "[socket ", "net.dial", "syscall.connect", "stream_socket_client",
		"socket_create", "tcpclient", "net.sockets") {
		f.connects = true
	}
	if has(".listen(", ".bind(", "createserver", "tcpserver", "socketserver", "http.server", "simplehttpserver",
		"/0/0\"", ":bind(", "k.bind", "socket -server", "syscall.bind", "syscall.listen", "accept(", "stream_socket_server",
		"tcplistener", "httpd") {
		f.listens = true
	}
	if has("http.server", "simplehttpserver", "httpd", "createserver") {
		f.httpServe = true
	}
	if has("urllib", "urlopen", "requests.", "http.request", "http.get", "https.get", "https.request", "net/http",
		"lwp::", "http::tiny", "open-uri", "uri.open", "net::http", "fetch(", "xmlhttprequest", "curl_exec",
		"invoke-webrequest", "downloadstring", "webclient", "urlretrieve", "httpclient", "java.net.url", "new url(",
		"file_get_contents(\"http", "file_get_contents('http", "download.file", "url(") {
		f.netFetch = true
	}
	if has("os.environ", "process.env", "getenv", "$env:", "%env", "environ", "env.to_h", "sys.getenv", "getenv(") {
		f.env = true
	}
	if has("setuid(0)", "setuid 0", "setuid( 0", "setresuid(0", "setreuid(0", "process::sys.setuid(0)", "posix_setuid(0)", "syscall.setuid(0)", "os.setuid(0)", "setgid(0)") {
		f.setuid0 = true
	}
	if has("dup2", "open(stdin", "open(stdout", ">&s\"", "redirecterrorstream", ".pipe(sh.stdin", "pipe(sh.", "stdio: [0, 1, 2]", "0<&3", ">&3") {
		f.dup = true
	}
	if has("os.fork", "fork()", "fork;", "fork while", "while fork", "pcntl_fork", "process.fork", "fork ") {
		f.fork = true
	}
	if has("while true", "while(1)", "while 1", "while (1)", "while(true)", "while (true)", "for(;;)", "for (;;)", "loop do", "loop {", "fork while fork", "while fork") {
		f.loop = true
	}
	if has("eval(", "exec(") && f.netFetch {
		f.evalDyn = true
	}
	// Library loading.
	for _, t := range []string{"cdll.loadlibrary", "ctypes.cdll", "cdll(", "ctypes.cdll(", "loadlibrary(", "fiddle.dlopen", "dlopen(", "dynaloader", "ffi.load", "process.dlopen", "ffi::cdef", "ffi::load", "system.loadlibrary", "load_library", "dl_load_file", "enable -f"} {
		if i := strings.Index(lc, t); i >= 0 {
			lib := firstLiteralAfter(lits, i)
			if lib == "" {
				lib = t
			}
			f.lib = append(f.lib, lib)
		}
	}
	// Library calls that delete files and trees.
	f.deletes = scanDeletes(code, lits)
	// File reads and writes with a literal path.
	for _, t := range fileCalls {
		for idx := 0; ; {
			j := strings.Index(lc[idx:], t.tok)
			if j < 0 {
				break
			}
			pos := idx + j
			idx = pos + len(t.tok)
			path, mode := literalArgs(lits, code, pos+len(t.tok))
			if path == "" {
				continue
			}
			write := t.write || mode != "" && (strings.ContainsAny(mode, "wa>") || mode == "+<" || mode == "r+")
			if write {
				f.writes = append(f.writes, path)
			} else {
				f.reads = append(f.reads, path)
			}
		}
	}
	// awk: print > "file", "cmd" | getline, print | "cmd", |& "/inet/…".
	if lang == "awk" {
		scanAwk(code, lits, &f)
	}
	// Tcl and expect: exec/spawn/system statements, socket commands.
	if lang == "tcl" {
		scanTcl(code, &f)
	}
	// Base64 payloads.
	if has("b64decode", "base64.decode", "atob(", "decode_base64", "base64_decode", "decode64", "unpack(\"m", "unpack('m", "'base64'", "\"base64\"", "frombase64string", "base64 -d", "base64 --decode") {
		for _, l := range lits {
			if len(l.s) >= 8 {
				if d, ok := decodeBase64(l.s); ok && printable(d) {
					f.decoded = append(f.decoded, d)
				}
			}
		}
	}
	// Hosts and URLs named in the code.
	if f.connects || f.netFetch || f.listens {
		for _, l := range lits {
			s := strings.TrimSpace(l.s)
			if strings.Contains(s, "://") && !strings.HasPrefix(s, "file:") || hostLike(s) {
				f.hosts = append(f.hosts, s)
			}
		}
		if lang == "tcl" {
			for _, word := range strings.Fields(code) {
				if hostLike(word) {
					f.hosts = append(f.hosts, word)
				}
			}
		}
	}
	return f
}

// callBefore returns the call name whose argument list the literal at
// pos opens ("os.system(" → "os.system") and the opening bracket.
func callBefore(code string, pos int) (string, byte) {
	i := pos
	for i > 0 && (code[i-1] == ' ' || code[i-1] == '\t') {
		i--
	}
	var open byte
	if i > 0 && (code[i-1] == '(' || code[i-1] == '[' || code[i-1] == '{') {
		open = code[i-1]
		i--
		for i > 0 && (code[i-1] == ' ' || code[i-1] == '(' || code[i-1] == '[') {
			if code[i-1] == '(' || code[i-1] == '[' {
				open = code[i-1]
			}
			i--
		}
	}
	name := identBefore(code, i)
	if name == "" && i > 1 && code[i-1] == ',' {
		return "", 0
	}
	return name, open
}

func isExecCall(call, lang string) bool {
	if execCallSet[call] {
		if call == "shell" || call == "run" || call == "open" {
			return lang != "python" || call == "run"
		}
		return true
	}
	for _, suffix := range []string{".system", ".exec", ".popen", ".spawn", ".execsync", ".spawnsync", ".execfile", "getruntime().exec", ".call", ".check_output", ".run", ".execute"} {
		if strings.HasSuffix(call, suffix) {
			return true
		}
	}
	return false
}

type fileCall struct {
	tok   string
	write bool
}

var fileCalls = []fileCall{
	{"open(", false}, {"io.open(", false}, {"file.read(", false}, {"file.open(", false}, {"readfilesync(", false},
	{"createreadstream(", false}, {"file_get_contents(", false}, {"fopen(", false}, {"readfile(", false},
	{"io.read(", false}, {"read_text(", false}, {"io.lines(", false}, {"get-content ", false}, {"file(", false},
	{"slurp(", false}, {"readlines(", false}, {"io.readlines(", false}, {"new filereader(", false},
	{"readalltext(", false}, {"file.readalltext(", false}, {"file.new(", false}, {"fs.readfile(", false},
	{"filereader(", false}, {"os.readfile(", false}, {"ioutil.readfile(", false}, {"os.open(", false},
	{"readfilesync (", false}, {"slurp ", false}, {"io.open (", false},
	{"os.create(", true}, {"os.writefile(", true}, {"ioutil.writefile(", true},
	{"writefilesync(", true}, {"appendfilesync(", true}, {"createwritestream(", true}, {"file_put_contents(", true},
	{"file.write(", true}, {"set-content ", true}, {"out-file ", true}, {"writefile(", true}, {"new filewriter(", true},
	{"new fileoutputstream(", true}, {"urlretrieve(", true}, {"copy_stream(", true}, {"download.file(", true},
	{"write_text(", true}, {"writealltext(", true},
}

// codeDelete is a path deleted by a library call in interpreter code.
type codeDelete struct {
	path string
	rec  bool
}

// deleteCall is a library function that deletes the paths it is given.
// rec is set for calls that delete whole trees; recOpt for calls that do
// so when given a recursive option (Node's fs.rmSync(p, {recursive: true})).
type deleteCall struct {
	name   string
	rec    bool
	recOpt bool
}

// deleteCalls are matched case-insensitively on word boundaries, in any
// of the languages scanned.
var deleteCalls = []deleteCall{
	// Python.
	{name: "shutil.rmtree", rec: true}, {name: "os.remove"}, {name: "os.unlink"}, {name: "os.rmdir"}, {name: "os.removedirs"},
	// Node.
	{name: "rmsync", recOpt: true}, {name: "rmdirsync", recOpt: true}, {name: "unlinksync"}, {name: "fs.rm", recOpt: true},
	{name: "fs.rmdir", recOpt: true}, {name: "fs.unlink"}, {name: "promises.rm", recOpt: true}, {name: "rimraf", rec: true},
	{name: "rimraf.sync", rec: true}, {name: "removesync", rec: true}, {name: "fse.remove", rec: true},
	// Ruby.
	{name: "fileutils.rm_rf", rec: true}, {name: "fileutils.rm_r", rec: true}, {name: "fileutils.remove_dir", rec: true},
	{name: "fileutils.remove_entry", rec: true}, {name: "fileutils.remove_entry_secure", rec: true}, {name: "fileutils.rmtree", rec: true},
	{name: "fileutils.rm"}, {name: "fileutils.rm_f"}, {name: "fileutils.remove"}, {name: "fileutils.rmdir"},
	{name: "file.delete"}, {name: "file.unlink"}, {name: "dir.rmdir"}, {name: "dir.delete"}, {name: "dir.unlink"},
	// Perl (File::Path) and PHP.
	{name: "rmtree", rec: true}, {name: "remove_tree", rec: true}, {name: "unlink"}, {name: "rmdir"},
}

// maxDeletes bounds the deletes collected from one code string, and
// maxDeleteCalls the call sites examined for them.
const (
	maxDeletes     = 64
	maxDeleteCalls = 256
)

// scanDeletes finds library calls that delete paths given as string
// literals: shutil.rmtree("/"), fs.rmSync("/x", {recursive: true}),
// FileUtils.rm_rf "/", rmtree("/"), Path("/x").unlink().
func scanDeletes(code string, lits []literal) []codeDelete {
	// Offsets into lc must be offsets into code: only ASCII is folded.
	lc := asciiLower(code)
	var out []codeDelete
	calls := 0
	for _, dc := range deleteCalls {
		for idx := 0; len(out) < maxDeletes && calls < maxDeleteCalls; {
			j := strings.Index(lc[idx:], dc.name)
			if j < 0 {
				break
			}
			pos := idx + j
			end := pos + len(dc.name)
			idx = end
			if pos > 0 && isWordByte(lc[pos-1]) || end < len(lc) && (isWordByte(lc[end]) || lc[end] == '.') {
				continue
			}
			if pos > 0 && lc[pos-1] == '.' && (dc.name == "unlink" || dc.name == "rmdir") {
				// obj.unlink(): a method of some object; the library forms
				// (os.unlink, fs.unlink, File.unlink) and pathlib are
				// matched on their own.
				continue
			}
			calls++
			args, opts := callArgs(code, lits, end)
			rec := dc.rec || dc.recOpt && strings.Contains(strings.ReplaceAll(strings.ToLower(opts), " ", ""), "recursive:true")
			for _, a := range args {
				if len(out) >= maxDeletes {
					break
				}
				out = append(out, codeDelete{path: a, rec: rec})
			}
		}
	}
	// pathlib: Path("/x").unlink(), Path("/x").rmdir().
	for _, m := range []string{").unlink(", ").rmdir("} {
		for idx := 0; len(out) < maxDeletes && calls < maxDeleteCalls; {
			j := strings.Index(lc[idx:], m)
			if j < 0 {
				break
			}
			closeAt := idx + j
			idx = closeAt + len(m)
			calls++
			open := strings.LastIndexByte(lc[:closeAt], '(')
			if open < 0 || !strings.HasSuffix(identBefore(lc, open), "path") {
				continue
			}
			if l, ok := onlyLiteral(code, lits, open+1, closeAt); ok && isPathArg(l) {
				out = append(out, codeDelete{path: l})
			}
		}
	}
	return out
}

// asciiLower lower-cases ASCII letters only, keeping byte offsets.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// callArgs returns the path literals passed as whole arguments to the
// call whose name ends at pos — "f('/a', '/b')", "f '/a'", "f(['/a'])",
// "f(Path('/a'))" — and the text of the other arguments (options).
func callArgs(code string, lits []literal, pos int) (paths []string, opts string) {
	i := pos
	for i < len(code) && (code[i] == ' ' || code[i] == '\t') {
		i++
	}
	var end int
	switch {
	case i < len(code) && code[i] == '(':
		i++
		end = matchParen(code, i)
	case i > pos && i < len(code) && (code[i] == '"' || code[i] == '\'' || code[i] == '['):
		// Ruby and Perl calls without parentheses run to the end of the
		// statement.
		end = i
		for end < len(code) && code[end] != ';' && code[end] != '\n' && code[end] != '}' {
			end++
		}
	default:
		return nil, ""
	}
	if end-i > 2048 {
		end = i + 2048
	}
	var other strings.Builder
	for n, arg := range splitTopLevel(code, i, end) {
		if n >= maxDeletes {
			break
		}
		a, b := arg[0], arg[1]
		if l, ok := onlyLiteral(code, lits, a, b); ok {
			if isPathArg(l) {
				paths = append(paths, l)
			}
			continue
		}
		t := strings.TrimSpace(code[a:b])
		switch {
		case strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]"):
			// An array of paths.
			off := a + strings.IndexByte(code[a:b], '[') + 1
			closeAt := a + strings.LastIndexByte(code[a:b], ']')
			for _, el := range splitTopLevel(code, off, closeAt) {
				if l, ok := onlyLiteral(code, lits, el[0], el[1]); ok && isPathArg(l) {
					paths = append(paths, l)
				}
			}
			continue
		case strings.HasSuffix(t, ")"):
			// Path("/x"), pathlib.Path('/x').
			if o := strings.IndexByte(t, '('); o > 0 && strings.HasSuffix(strings.ToLower(strings.TrimSpace(t[:o])), "path") {
				off := a + strings.IndexByte(code[a:b], '(') + 1
				closeAt := a + strings.LastIndexByte(code[a:b], ')')
				if l, ok := onlyLiteral(code, lits, off, closeAt); ok && isPathArg(l) {
					paths = append(paths, l)
					continue
				}
			}
		}
		other.WriteString(t)
		other.WriteByte(',')
	}
	return paths, other.String()
}

// splitTopLevel splits code[start:end] at commas outside brackets and
// string literals, returning the [from, to) offsets of each part.
func splitTopLevel(code string, start, end int) [][2]int {
	var out [][2]int
	depth := 0
	from := start
	var quote byte
	for i := start; i < end && i < len(code); i++ {
		c := code[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			out = append(out, [2]int{from, i})
			from = i + 1
		}
		if len(out) >= maxLiterals {
			return out
		}
	}
	if end > len(code) {
		end = len(code)
	}
	if from < end {
		out = append(out, [2]int{from, end})
	}
	return out
}

// onlyLiteral reports the literal that makes up all of code[a:b] apart
// from blanks.
func onlyLiteral(code string, lits []literal, a, b int) (string, bool) {
	for a < b && (code[a] == ' ' || code[a] == '\t' || code[a] == '\n') {
		a++
	}
	for b > a && (code[b-1] == ' ' || code[b-1] == '\t' || code[b-1] == '\n') {
		b--
	}
	// Literals are in source order.
	i := sort.Search(len(lits), func(i int) bool { return lits[i].start >= a })
	if i < len(lits) && lits[i].start == a && lits[i].end == b && !lits[i].backtick {
		return lits[i].s, true
	}
	return "", false
}

// isPathArg reports a literal usable as a deleted path: a path, or a plain
// name (relative to the working directory) without blanks or globs the
// library would not expand.
func isPathArg(s string) bool {
	if s == "" || len(s) > 4096 || strings.ContainsAny(s, "\n\x00${}%") {
		// Interpolated strings ("$dir/x", "#{d}/x", "{}/x".format(d))
		// name a path known only at run time.
		return false
	}
	return isPathLike(s) || !strings.ContainsAny(s, " \t*?")
}

// literalArgs returns the first path-like literal inside the argument
// list that starts at pos, and an open mode literal ("w", "<", "rb") when
// there is one.
func literalArgs(lits []literal, code string, pos int) (path, mode string) {
	end := matchParen(code, pos)
	if end-pos > 2048 {
		end = pos + 2048
	}
	for _, l := range lits {
		if l.start < pos || l.start >= end {
			continue
		}
		switch l.s {
		case "r", "rb", "rt", "w", "wb", "wt", "a", "ab", "w+", "a+", "r+", "wb+", "<", ">", ">>", "+<", "+>":
			if mode == "" {
				mode = l.s
			}
			continue
		}
		if path == "" && (isPathLike(l.s) || strings.HasPrefix(l.s, ".")) {
			path = l.s
		}
	}
	return path, mode
}

func firstLiteralAfter(lits []literal, pos int) string {
	for _, l := range lits {
		if l.start >= pos && l.start-pos < 64 {
			return l.s
		}
	}
	return ""
}

func hostLike(s string) bool {
	if s == "" || len(s) > 253 || strings.ContainsAny(s, " /\\\"'()[]{}<>,;=*$@!") {
		return false
	}
	if s == "localhost" {
		return true
	}
	if strings.Count(s, ".") == 3 {
		ok := true
		for _, p := range strings.Split(strings.SplitN(s, ":", 2)[0], ".") {
			if _, err := strconv.Atoi(p); err != nil {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	dot := strings.LastIndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 {
		return false
	}
	tld := s[dot+1:]
	switch tld {
	case "com", "net", "org", "io", "sh", "xyz", "ru", "cn", "info", "biz", "co", "me", "dev", "app", "tk", "top", "onion", "pw", "cc", "site", "online", "local":
		return true
	}
	return false
}

func printable(s string) bool {
	if s == "" {
		return false
	}
	bad := 0
	for _, r := range s {
		if r < 32 && r != '\n' && r != '\t' && r != '\r' || r == 0xFFFD {
			bad++
		}
	}
	return bad*10 < len(s)
}

// scanTcl finds Tcl statements that run commands or open sockets.
func scanTcl(code string, f *codeFacts) {
	stmts := strings.FieldsFunc(code, func(r rune) bool { return r == ';' || r == '\n' || r == '[' || r == ']' || r == '{' || r == '}' })
	for _, st := range stmts {
		words := strings.Fields(st)
		if len(words) == 0 {
			continue
		}
		switch words[0] {
		case "exec", "spawn", "system":
			if len(words) > 1 {
				cmdline := strings.Join(words[1:], " ")
				cmdline = strings.NewReplacer("<@stdin", "", ">@stdout", "", "2>@stderr", "", ">@stderr", "").Replace(cmdline)
				f.execs = append(f.execs, strings.Trim(cmdline, `"`))
			}
		case "socket":
			if len(words) > 1 && words[1] == "-server" {
				f.listens = true
			} else if len(words) > 2 {
				f.connects = true
				f.hosts = append(f.hosts, words[1])
			}
		case "file":
			// file delete ?-force? ?--? path …: -force deletes trees.
			if len(words) > 2 && words[1] == "delete" {
				rec := false
				for _, p := range words[2:] {
					switch p {
					case "-force":
						rec = true
					case "--":
					default:
						if p = strings.Trim(p, `"`); isPathArg(p) && len(f.deletes) < maxDeletes {
							f.deletes = append(f.deletes, codeDelete{path: p, rec: rec})
						}
					}
				}
			}
		case "open":
			if len(words) > 1 && strings.HasPrefix(strings.Trim(words[1], `"`), "|") {
				f.execs = append(f.execs, strings.Trim(strings.Join(words[1:], " "), `"|`))
			}
		}
	}
}

// scanAwk handles awk's own I/O syntax.
func scanAwk(code string, lits []literal, f *codeFacts) {
	for _, l := range lits {
		before := strings.TrimRight(code[:l.start], " \t")
		after := strings.TrimLeft(code[l.end:], " \t")
		switch {
		case strings.HasPrefix(after, "|&") || strings.HasPrefix(l.s, "/inet/"):
			if strings.HasPrefix(l.s, "/inet/") {
				parts := strings.Split(l.s, "/")
				// /inet/tcp/lport/rhost/rport
				if len(parts) >= 6 {
					if parts[4] == "0" || parts[4] == "" {
						f.listens = true
					} else {
						f.connects = true
						f.hosts = append(f.hosts, parts[4])
					}
				}
			}
		case strings.HasPrefix(after, "| getline") || strings.HasPrefix(after, "|getline"):
			f.execs = append(f.execs, l.s)
		case strings.HasSuffix(before, "|"):
			if shellNames[strings.TrimSpace(l.s)] {
				// print … | "sh" runs the printed lines as commands.
				f.execDyn = true
				f.generatedToShell = true
				continue
			}
			f.execs = append(f.execs, l.s)
		case strings.HasSuffix(before, ">>") || strings.HasSuffix(before, ">") && !strings.HasSuffix(before, "->"):
			if !strings.HasPrefix(l.s, "/dev/std") {
				f.writes = append(f.writes, l.s)
			}
		case strings.HasSuffix(before, "getline <") || strings.HasSuffix(before, "getline<"):
			f.reads = append(f.reads, l.s)
		}
	}
	// "|&" with a variable holding the /inet path.
	if strings.Contains(code, "|&") && strings.Contains(code, "/inet/") {
		f.dup = true
	}
}

// interpCode analyses inline code of an interpreter run by k.
func (w *walker) interpCode(k *cmd, code, lang, via string) {
	if strings.TrimSpace(code) == "" {
		return
	}
	if k.c.depth+1 > w.a.opts.MaxDepth {
		w.limit("code nested deeper than " + strconv.Itoa(w.a.opts.MaxDepth) + " levels (" + via + ")")
		return
	}
	if len(code) > maxPayload {
		code = code[:maxPayload]
		w.unresolved("interpreter code truncated for analysis")
	}
	f := scanCode(code, lang)
	detail := k.detail()
	for _, h := range f.hosts {
		scheme, host, port := splitURL(h)
		if host == "" {
			continue
		}
		w.addDest(analysis.Dest{Raw: h, Scheme: scheme, Host: host, Port: port, Sends: f.connects || len(f.reads) > 0, Listens: false, Command: k.name})
	}
	if f.listens && !f.connects {
		w.addDest(analysis.Dest{Raw: via, Listens: true, Command: k.name})
	}
	shellLike := f.spawn || f.dup || f.execDyn || len(f.execs) > 0
	switch {
	case f.connects && shellLike && !f.listens:
		w.facts.interactive = true
		w.add(finding(CodeReverseShell, decision.Deny,
			"the "+k.name+" code connects to a remote host and runs commands for it (reverse shell); this is refused", detail, riskCompromise))
	case f.listens && shellLike && !f.httpServe:
		w.facts.interactive = true
		w.add(finding(CodeBindShell, decision.Deny,
			"the "+k.name+" code listens on a socket and runs commands for it (bind shell); this is refused", detail, riskCompromise))
	case f.connects && shellLike:
		w.add(finding(CodeReverseShell, decision.Deny,
			"the "+k.name+" code wires commands to a network socket; this is refused", detail, riskCompromise))
	case f.spawn:
		w.shellSpawn(k, "the "+k.name+" code starts a shell", true)
	}
	if f.generatedToShell {
		w.add(finding(CodeUnresolvedExec, decision.Notify,
			"the "+k.name+" code pipes generated commands into a shell; review them first", detail, riskLow))
	}
	if f.listens && f.httpServe && !shellLike {
		w.add(finding(CodeListener, decision.Notify,
			k.name+" starts a server that serves local files; make sure it is bound to localhost", detail, riskLow))
	}
	if f.setuid0 {
		w.add(finding(CodePrivilegeEscalation, decision.Deny,
			"the "+k.name+" code switches to uid 0; this is refused", detail, riskCompromise))
	}
	for _, lib := range f.lib {
		w.add(finding(CodeLibraryLoad, w.escalate(k, decision.Confirm),
			"the "+k.name+" code loads a native library ("+lib+"); say why it is needed", detail, riskHigh))
	}
	if f.fork && f.loop {
		w.add(finding(CodeForkBomb, decision.Deny, "the "+k.name+" code forks in an endless loop (fork bomb); this is refused", detail, riskCatastrophic))
	}
	if f.evalDyn {
		w.add(finding(CodeDownloadExec, decision.Deny,
			"the "+k.name+" code evaluates content fetched from the network; this is refused", detail, riskCompromise))
	}
	for _, d := range f.deletes {
		// The same judgement as rm: shutil.rmtree("/") is rm -rf /.
		w.addPath(analysis.PathRef{Path: d.path, Op: analysis.OpDelete, Recursive: d.rec, Privileged: k.priv, Command: k.name})
		w.deleteRules(k, field{s: d.path}, d.rec)
	}
	for _, r := range f.reads {
		w.addPath(analysis.PathRef{Path: r, Op: analysis.OpRead, Privileged: k.priv, Command: k.name})
		w.sideRead(k, field{s: r}, "the "+k.name+" code")
	}
	for _, wr := range f.writes {
		w.addPath(analysis.PathRef{Path: wr, Op: analysis.OpWrite, Privileged: k.priv, Command: k.name})
		w.writeRulesPriv(wr, false, &flow{data: true}, k.priv, detail, k.name)
		w.sideWrite(k, field{s: wr}, "the "+k.name+" code")
	}
	if f.env {
		w.out.ReadsEnv = true
	}
	if (f.connects || f.netFetch) && (len(f.reads) > 0 || f.env) {
		host := "the network"
		if len(f.hosts) > 0 {
			host = f.hosts[0]
		}
		w.exfil(detail, &flow{files: f.reads, env: f.env, data: true}, host)
	}
	for _, d := range f.decoded {
		if len(f.execs) > 0 || f.execDyn || has(code, "exec(", "eval(", "system(") {
			w.add(finding(CodeDecodeExec, decision.Deny,
				"the "+k.name+" code decodes and runs a hidden payload; run the plain commands instead", detail, riskCompromise))
		}
		if langOf(d) == "sh" || looksShell(d) {
			w.nestedShell(k, d, via+" (decoded)")
		} else {
			w.interpCode(k, d, lang, via+" (decoded)")
		}
	}
	for _, e := range f.execs {
		w.nestedShell(k, e, via)
	}
}

func has(code string, toks ...string) bool {
	lc := strings.ToLower(code)
	for _, t := range toks {
		if strings.Contains(lc, t) {
			return true
		}
	}
	return false
}

// looksShell reports whether decoded text is a shell command line.
func looksShell(s string) bool {
	first := strings.Fields(s)
	if len(first) == 0 {
		return false
	}
	n, _ := baseName(first[0])
	return knownPrograms[n]
}

// knownPrograms is used to tell shell text from other text in payloads.
var knownPrograms = map[string]bool{
	"rm": true, "curl": true, "wget": true, "bash": true, "sh": true, "nc": true, "python": true, "python3": true,
	"perl": true, "chmod": true, "cat": true, "echo": true, "cd": true, "mkdir": true, "cp": true, "mv": true,
	"dd": true, "ncat": true, "socat": true, "sudo": true, "export": true, "base64": true, "exec": true,
	"eval": true, "nohup": true, "crontab": true, "ssh": true, "scp": true, "tar": true, "find": true,
}

// interpreter handles python, perl, ruby, node, php, lua and friends:
// inline code, stdin code, a script file, -m modules, listeners.
func (w *walker) interpreter(k *cmd) *flow {
	lang := langOf(k.name)
	key := progKey(k.name)
	args := k.args[1:]
	var code *field
	var modules []string
	loop := lang == "awk" // operands are data files and stdin is data
	progFile := false
	codeFlags, valueFlags := interpFlags(key)
	i := 0
	for i < len(args) {
		a := args[i]
		s := a.s
		if s == "--" {
			i++
			break
		}
		if s == "-" || !strings.HasPrefix(s, "-") || len(s) == 1 || a.dyn {
			break
		}
		name, val, eq := strings.Cut(s, "=")
		switch {
		case codeFlags[name]:
			if eq {
				code = &field{s: val, dyn: a.dyn, flow: a.flow}
			} else if i+1 < len(args) {
				i++
				c := args[i]
				code = &c
			}
		case (key == "python" || key == "pypy") && strings.HasPrefix(s, "-m"):
			mod := s[2:]
			rest := args[i+1:]
			if mod == "" && len(rest) > 0 {
				mod, rest = rest[0].s, rest[1:]
			}
			return w.pythonModule(k, mod, rest)
		case (key == "pwsh" || key == "powershell") && (strings.EqualFold(name, "-EncodedCommand") || strings.EqualFold(name, "-enc") || strings.EqualFold(name, "-e") || strings.EqualFold(name, "-ec")):
			if i+1 < len(args) {
				i++
				w.add(finding(CodeDecodeExec, decision.Deny,
					"PowerShell runs an encoded command; run the plain command instead", k.detail(), riskCompromise))
				if d, ok := decodeUTF16Base64(args[i].s); ok {
					code = &field{s: d}
				}
			}
		case key == "php" && s == "-S":
			if i+1 < len(args) {
				w.listener(k, args[i+1].s)
			}
			return &flow{data: true}
		case key == "perl" || key == "ruby":
			c, isLoop, next, mods := perlCluster(s, key)
			modules = append(modules, mods...)
			loop = loop || isLoop
			if next && i+1 < len(args) {
				i++
				cc := args[i]
				code = appendField(code, cc)
			} else if c != nil {
				code = appendField(code, field{s: *c, dyn: a.dyn})
			}
		case lang == "awk" && (name == "-f" || name == "--file"):
			progFile = true
			if i+1 < len(args) && !eq {
				i++
				w.ref(k, args[i], analysis.OpExec, false)
			}
		case valueFlags[name] && !eq:
			i++
		case len(s) > 2 && s[1] != '-' && codeFlags[s[:2]]:
			code = &field{s: s[2:], dyn: a.dyn}
		}
		i++
	}
	rest := args[min(i, len(args)):]
	for _, m := range modules {
		lm := strings.ToLower(m)
		switch {
		case strings.Contains(lm, "socket"):
			code = appendField(code, field{s: "require socket"})
		case lm == "un" && code != nil && strings.HasPrefix(strings.TrimSpace(code.s), "httpd"):
			w.listener(k, "ruby -run httpd")
			return &flow{data: true}
		}
	}
	if code == nil && lang == "awk" && !progFile && len(rest) > 0 {
		c := rest[0]
		code = &c
		rest = rest[1:]
	}
	var out *flow
	switch {
	case code != nil:
		if code.dyn {
			w.facts.dynExec = true
			w.unresolved("code passed to " + k.name + " contains run-time values")
		}
		if code.flow != nil && code.flow.download {
			w.add(finding(CodeDownloadExec, decision.Deny,
				"downloaded content is executed by "+k.name+"; download, review, then run it separately", k.detail(), riskCompromise))
		}
		if code.flow != nil && code.flow.decoded {
			w.add(finding(CodeDecodeExec, decision.Deny,
				"decoded content is executed by "+k.name+"; run the plain code instead", k.detail(), riskCompromise))
		}
		w.interpCode(k, code.s, lang, k.name+" code")
	case loop:
		// awk -f prog, perl -n without -e: data comes from operands/stdin.
	case len(rest) > 0 && rest[0].s != "-":
		script := rest[0]
		switch {
		case script.proc:
			w.execFlow(k, script.flow, k.name+" <(…)")
		default:
			w.execPath(k, script.s, k.detail())
			if content, ok := w.facts.written[script.s]; ok {
				w.interpCode(k, content, lang, "script written in this line")
			}
		}
		return &flow{data: true, generated: true}
	case k.c.stdin != nil:
		w.execFlow(k, k.c.stdin, k.name+" stdin")
		return &flow{data: true}
	default:
		w.replStart(k)
		return &flow{data: true}
	}
	// Data operands of awk, perl -n/-p and code with arguments.
	for _, f := range rest {
		if strings.HasPrefix(f.s, "-") || strings.Contains(f.s, "=") && lang == "awk" {
			continue
		}
		if loop {
			w.ref(k, f, analysis.OpRead, false)
			if lang != "awk" {
				w.sideRead(k, f, k.name)
			}
		}
	}
	if loop {
		out = w.readFlow(k, rest)
	} else {
		out = &flow{data: true}
	}
	out.generated = true
	return out
}

// perlCluster parses one perl or ruby option cluster such as -lne,
// -pi.bak, -MIO::Socket, -F'x' or -l40pe0. It returns attached code, the
// loop flags, whether the code is the next argument, and module names.
func perlCluster(s, key string) (code *string, loop, next bool, modules []string) {
	body := s[1:]
	for j := 0; j < len(body); j++ {
		ch := body[j]
		switch {
		case ch == 'e' || ch == 'E':
			rest := body[j+1:]
			if rest == "" {
				return nil, loop, true, modules
			}
			return &rest, loop, false, modules
		case ch == 'n' || ch == 'p':
			loop = true
		case ch == 'l' || ch == '0':
			for j+1 < len(body) && (body[j+1] >= '0' && body[j+1] <= '9' || body[j+1] >= 'a' && body[j+1] <= 'f' && ch == '0') {
				j++
			}
		case ch == 'M' || ch == 'm' || key == "ruby" && ch == 'r':
			modules = append(modules, body[j+1:])
			return nil, loop, false, modules
		case ch == 'i' || ch == 'I' || ch == 'x' || ch == 'C' || ch == 'F' || ch == 'd' || ch == 'D' || ch == 'V' || ch == 'K' || ch == 'W' || ch == 'T':
			return nil, loop, false, modules
		}
	}
	return nil, loop, false, modules
}

func appendField(code *field, f field) *field {
	if code == nil {
		return &f
	}
	c := *code
	c.s = c.s + "\n" + f.s
	c.dyn = c.dyn || f.dyn
	return &c
}

func hasFlag(args []field, name string) bool {
	for _, a := range args {
		if a.s == name {
			return true
		}
	}
	return false
}

// flagSet is a set of option names.
type flagSet map[string]bool

// interpOptions lists, per interpreter, the flags that take inline code
// and the flags that take some other value.
var interpOptions = map[string][2]flagSet{
	"python":     {{"-c": true}, {"-W": true, "-X": true, "-Q": true}},
	"pypy":       {{"-c": true}, {"-W": true, "-X": true}},
	"perl":       {{"-e": true, "-E": true}, {"-I": true, "-x": true}},
	"ruby":       {{"-e": true}, {"-I": true, "-r": true, "-C": true, "-E": true}},
	"irb":        {{"-e": true}, {"-I": true, "-r": true}},
	"node":       {{"-e": true, "--eval": true, "-p": true, "--print": true}, {"-r": true, "--require": true, "--import": true, "--loader": true}},
	"nodejs":     {{"-e": true, "--eval": true, "-p": true, "--print": true}, {"-r": true, "--require": true}},
	"bun":        {{"-e": true, "--eval": true, "-p": true, "--print": true}, {"-r": true}},
	"deno":       {{}, {}},
	"php":        {{"-r": true, "-B": true, "-R": true, "-E": true}, {"-c": true, "-d": true, "-f": true, "-z": true, "-t": true}},
	"lua":        {{"-e": true}, {"-l": true}},
	"luajit":     {{"-e": true}, {"-l": true}},
	"awk":        {{"--source": true, "-e": true}, {"-v": true, "-F": true, "-f": true, "--assign": true, "--field-separator": true, "-i": true, "-l": true}},
	"gawk":       {{"--source": true, "-e": true}, {"-v": true, "-F": true, "-f": true, "--assign": true, "--field-separator": true, "-i": true, "-l": true}},
	"mawk":       {{}, {"-v": true, "-F": true, "-f": true}},
	"nawk":       {{}, {"-v": true, "-F": true, "-f": true}},
	"tclsh":      {{}, {"-encoding": true}},
	"wish":       {{}, {"-encoding": true}},
	"expect":     {{"-c": true}, {"-f": true}},
	"osascript":  {{"-e": true}, {"-l": true}},
	"pwsh":       {{"-c": true, "-command": true, "-Command": true, "-C": true}, {"-File": true, "-f": true, "-ExecutionPolicy": true}},
	"powershell": {{"-c": true, "-command": true, "-Command": true, "-C": true}, {"-File": true, "-f": true, "-ExecutionPolicy": true}},
	"rscript":    {{"-e": true}, {}},
	"r":          {{"-e": true}, {}},
	"julia":      {{"-e": true, "--eval": true, "-E": true, "--print": true}, {"-L": true}},
	"jrunscript": {{"-e": true}, {"-l": true, "-f": true}},
	"guile":      {{"-c": true}, {"-l": true, "-s": true}},
	"gnuplot":    {{"-e": true}, {}},
	"octave":     {{"--eval": true}, {}},
	"octave-cli": {{"--eval": true}, {}},
	"clisp":      {{"-x": true}, {}},
	"ghc":        {{"-e": true}, {}},
	"ghci":       {{"-e": true}, {}},
	"slsh":       {{"-e": true}, {}},
	"sbcl":       {{"--eval": true}, {}},
}

var defaultInterpOptions = [2]flagSet{{"-e": true, "-c": true}, {}}

// interpFlags returns, per interpreter, the flags that take inline code
// and the flags that take some other value.
func interpFlags(key string) (code, value flagSet) {
	o, ok := interpOptions[key]
	if !ok {
		o = defaultInterpOptions
	}
	return o[0], o[1]
}

// replStart handles an interpreter or interactive program started
// without code: it runs whatever is typed on the following lines.
func (w *walker) replStart(k *cmd) {
	if k.priv {
		w.add(finding(CodePrivilegeEscalation, decision.Deny,
			"an interactive "+k.name+" session is started as root; run the specific command you need instead", k.detail(), riskCompromise))
	}
}

// pythonModule handles python -m MODULE.
func (w *walker) pythonModule(k *cmd, mod string, args []field) *flow {
	switch mod {
	case "http.server", "SimpleHTTPServer", "CGIHTTPServer", "uploadserver", "pyftpdlib":
		port := "8000"
		bind := ""
		for i := 0; i < len(args); i++ {
			switch {
			case args[i].s == "-b" || args[i].s == "--bind":
				if i+1 < len(args) {
					bind = args[i+1].s
					i++
				}
			case !strings.HasPrefix(args[i].s, "-"):
				port = args[i].s
			}
		}
		w.listener(k, bind+":"+port)
	case "pip":
		w.packageInstall(k, append([]field{{s: "pip"}}, args...))
	case "pty":
		w.shellSpawn(k, "python -m pty starts a shell", true)
	case "smtpd", "smtpd_proxy":
		w.listener(k, ":"+mod)
	}
	return &flow{data: true}
}

// listener records a local server.
func (w *walker) listener(k *cmd, addr string) {
	_, host, port := splitURL(addr)
	if p, err := strconv.Atoi(strings.TrimPrefix(addr, ":")); err == nil {
		port = p
	}
	w.addDest(analysis.Dest{Raw: addr, Host: host, Port: port, Listens: true, Command: k.name})
	act := decision.Notify
	msg := k.name + " starts a server that serves local files; make sure it is bound to localhost"
	w.add(finding(CodeListener, act, msg, k.detail(), riskLow))
	if k.priv {
		w.add(finding(CodePrivilegeEscalation, decision.Confirm,
			"a server is started as root; run it as your user on a high port", k.detail(), riskHigh))
	}
}
