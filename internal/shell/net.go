package shell

import (
	"strconv"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// splitURL extracts scheme, host and port from a URL or host[:port].
func splitURL(raw string) (scheme, host string, port int) {
	s := raw
	if i := strings.Index(s, "://"); i > 0 {
		scheme = strings.ToLower(s[:i])
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "[") {
		if j := strings.IndexByte(s, ']'); j > 0 {
			host = s[1:j]
			if rest := s[j+1:]; strings.HasPrefix(rest, ":") {
				port, _ = strconv.Atoi(rest[1:])
			}
			return scheme, host, port
		}
	}
	host = s
	if i := strings.LastIndexByte(s, ':'); i >= 0 && strings.Count(s, ":") == 1 {
		host = s[:i]
		port, _ = strconv.Atoi(s[i+1:])
	}
	return scheme, strings.ToLower(host), port
}

// looksURL reports whether an operand is a URL or a bare host name.
func looksURL(s string) bool {
	if strings.Contains(s, "://") {
		return true
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") || s == "" {
		return false
	}
	host := s
	if i := strings.IndexAny(host, "/:"); i >= 0 {
		host = host[:i]
	}
	return strings.Contains(host, ".") || host == "localhost"
}

func (w *walker) dest(k *cmd, raw string, sends bool, data string) {
	if raw == "" {
		return
	}
	scheme, host, port := splitURL(raw)
	if host == "" && scheme != "file" {
		return
	}
	d := analysis.Dest{Raw: raw, Scheme: scheme, Host: host, Port: port, Sends: sends, Command: k.name}
	if sends {
		d.Data = data
	}
	w.addDest(d)
}

// secretPath reports files whose content is a credential or private
// history, the usual targets of exfiltration.
func secretPath(p string) bool {
	c := cleanPath(p)
	b, _ := baseName(c)
	lc := strings.ToLower(c)
	switch {
	case strings.Contains(lc, "/.ssh/") || strings.HasPrefix(lc, "~/.ssh") || strings.Contains(lc, "/.aws/") || strings.HasPrefix(lc, "~/.aws") ||
		strings.Contains(lc, "/.gnupg") || strings.HasPrefix(lc, "~/.gnupg") || strings.Contains(lc, "/.kube/") || strings.Contains(lc, "/.docker/config") ||
		strings.Contains(lc, "/.config/gcloud") || strings.Contains(lc, "/.azure/"):
		return true
	case b == ".env" || strings.HasPrefix(b, ".env.") && b != ".env.example" && b != ".env.sample" || strings.HasPrefix(b, ".env*") || b == ".netrc" || b == ".pgpass" || b == ".npmrc" || b == ".pypirc" || b == ".git-credentials":
		return true
	case strings.HasSuffix(b, ".pem") || strings.HasSuffix(b, ".key") || strings.HasPrefix(b, "id_rsa") || strings.HasPrefix(b, "id_ed25519") || strings.HasPrefix(b, "id_ecdsa") || strings.HasPrefix(b, "id_dsa"):
		return !strings.HasSuffix(b, ".pub")
	case c == "/etc/shadow" || c == "/etc/gshadow" || c == "/etc/sudoers" || strings.HasPrefix(c, "/root/") || c == "/root":
		return true
	case historyFile(c):
		return true
	case strings.HasPrefix(b, ".bash") || strings.HasPrefix(b, ".zsh"):
		return strings.HasPrefix(c, "~/")
	case c == "~" || c == "~/":
		return true
	}
	return false
}

// exfil judges data flowing to a network destination from a generic
// sender (curl, nc, a socket): the environment, secrets or any file from
// outside the workspace is exfiltration.
func (w *walker) exfil(detail string, data *flow, dest string) {
	if data == nil {
		return
	}
	what := ""
	switch {
	case data.env:
		what = "the environment"
	default:
		for _, f := range data.files {
			if secretPath(f) || outsideWorkspace(f) {
				what = f
				break
			}
			if files, ok := w.facts.archives[cleanPath(f)]; ok {
				for _, a := range files {
					if secretPath(a) || outsideWorkspace(a) {
						what = a
					}
				}
			}
		}
	}
	if what == "" {
		return
	}
	w.add(finding(CodeExfiltration, decision.Deny,
		"this sends "+what+" to "+dest+"; sending local files or the environment over the network is refused",
		detail, riskLeak))
}

// exfilTransfer judges files moved by a transfer tool (scp, rsync, sftp,
// ftp put): moving files is their purpose, so only secrets count.
func (w *walker) exfilTransfer(detail string, files []string, dest string) {
	for _, f := range files {
		if secretPath(f) {
			w.add(finding(CodeExfiltration, decision.Deny,
				"this copies "+f+" to "+dest+"; sending credentials or private history off the machine is refused",
				detail, riskLeak))
			return
		}
	}
}

// bodyFile returns the file of a curl-style "@file" or "<file" value.
func bodyFile(v string) (string, bool) {
	if strings.HasPrefix(v, "@") && len(v) > 1 {
		return v[1:], true
	}
	if i := strings.Index(v, "=@"); i >= 0 {
		f := v[i+2:]
		if j := strings.IndexByte(f, ';'); j >= 0 {
			f = f[:j]
		}
		return f, f != ""
	}
	if i := strings.Index(v, "=<"); i >= 0 {
		return v[i+2:], true
	}
	return "", false
}

// curl: URLs are destinations; -d/-F/-T send data; -o writes a file.
func (w *walker) curl(k *cmd) *flow {
	p := operands(k, spec{short: "dFTobHXuAeEKcrmxyYzCDwQPtUhU", long: []string{
		"--data", "--data-raw", "--data-binary", "--data-urlencode", "--data-ascii", "--json", "--form", "--form-string",
		"--upload-file", "--output", "--output-dir", "--config", "--header", "--request", "--user", "--user-agent",
		"--referer", "--cookie", "--cookie-jar", "--proxy", "--resolve", "--connect-to", "--write-out", "--cert",
		"--key", "--cacert", "--capath", "--range", "--max-time", "--retry", "--url", "--engine", "--dump-header",
		"--trace", "--trace-ascii", "--stderr", "--netrc-file", "--unix-socket", "--interface", "--mail-from",
		"--mail-rcpt", "--telnet-option", "--continue-at", "--limit-rate", "--connect-timeout", "--proxy-user",
		"--variable", "--oauth2-bearer", "--max-filesize", "--retry-delay", "--retry-max-time", "--socks5",
		"--socks5-hostname", "--dns-servers", "--doh-url", "--preproxy", "--ftp-port", "--quote", "--time-cond",
	}})
	var urls []string
	for _, u := range p.pos {
		urls = append(urls, u.s)
	}
	for _, u := range p.vals("--url") {
		urls = append(urls, u.s)
	}
	sends := false
	data := &flow{}
	var sentFiles []string
	for _, o := range p.opts {
		if !o.has {
			continue
		}
		switch o.name {
		case "-d", "--data", "--data-binary", "--data-urlencode", "--data-ascii", "--json", "-F", "--form":
			sends = true
			if f, ok := bodyFile(o.val.s); ok {
				if f == "-" {
					data = mergeFlow(data, k.c.stdin)
				} else {
					w.ref(k, field{s: f, dyn: o.val.dyn}, analysis.OpRead, false)
					sentFiles = append(sentFiles, f)
				}
			}
			data = mergeFlow(data, o.val.flow)
		case "--data-raw", "--form-string":
			sends = true
			data = mergeFlow(data, o.val.flow)
		case "-T", "--upload-file":
			sends = true
			if o.val.s == "-" || o.val.s == "." {
				data = mergeFlow(data, k.c.stdin)
			} else {
				w.ref(k, o.val, analysis.OpRead, false)
				sentFiles = append(sentFiles, o.val.s)
			}
		case "-o", "--output":
			if o.val.s != "-" && !quietDevices[o.val.s] {
				w.ref(k, o.val, analysis.OpWrite, false)
				w.sensitiveWriteRules(k, o.val.s, "curl -o")
				for _, u := range urls {
					w.noteDownloaded(o.val.s, u)
				}
				if len(urls) == 0 {
					w.noteDownloaded(o.val.s, "")
				}
			}
		case "-K", "--config", "--netrc-file", "-E", "--cert", "--key", "--cacert":
			w.ref(k, o.val, analysis.OpRead, false)
		case "-c", "--cookie-jar", "-D", "--dump-header", "--trace", "--trace-ascii", "--stderr":
			if !quietDevices[o.val.s] && o.val.s != "-" {
				w.ref(k, o.val, analysis.OpWrite, false)
			}
		case "-H", "--header":
			if f, ok := bodyFile(o.val.s); ok {
				w.ref(k, field{s: f}, analysis.OpRead, false)
			}
			data = mergeFlow(data, o.val.flow)
			if o.val.flow.sensitiveData() {
				sends = true
			}
		case "-u", "--user", "-A", "--user-agent", "-e", "--referer", "-b", "--cookie":
			if o.val.flow.sensitiveData() {
				sends = true
				data = mergeFlow(data, o.val.flow)
			}
		case "--engine":
			if isPathLike(o.val.s) || strings.HasSuffix(o.val.s, ".so") {
				w.add(finding(CodeLibraryLoad, w.escalate(k, decision.Confirm),
					"curl loads a crypto engine library from "+o.val.s+"; say why it is needed", k.detail(), riskHigh))
			}
		}
	}
	for _, o := range p.opts {
		if o.name == "-O" || o.name == "--remote-name" || o.name == "--remote-name-all" {
			for _, u := range urls {
				name := baseOf(strings.SplitN(strings.SplitN(u, "?", 2)[0], "#", 2)[0])
				if name != "" && !strings.Contains(name, ":") {
					w.ref(k, field{s: name}, analysis.OpWrite, false)
					w.noteDownloaded(name, u)
				}
			}
		}
	}
	// URLs carrying command output or variables leak data in the request.
	for _, u := range p.pos {
		if u.flow.sensitiveData() {
			sends = true
			data = mergeFlow(data, u.flow)
		}
	}
	var local []string
	for _, u := range urls {
		scheme, _, _ := splitURL(u)
		switch scheme {
		case "file":
			fp := u[len("file://"):]
			w.ref(k, field{s: fp}, analysis.OpRead, false)
			local = append(local, fp)
			w.sideRead(k, field{s: fp}, "curl file://")
			continue
		case "gopher", "gophers", "dict", "telnet", "smtp", "smtps":
			sends = true
		}
		if !looksURL(u) && !strings.Contains(u, ":") {
			continue
		}
		w.dest(k, u, sends, dataDesc(data, sentFiles))
	}
	if sends && (len(sentFiles) > 0 || data.sensitiveData()) {
		all := mergeFlow(data, &flow{files: sentFiles})
		w.exfil(k.detail(), all, strings.Join(urls, " "))
	}
	if len(local) > 0 {
		return &flow{files: local, data: true}
	}
	if p.has("-o", "--output", "-O", "--remote-name", "--remote-name-all") {
		if o, ok := p.val("-o", "--output"); !ok || o.s != "-" {
			return nil
		}
	}
	return &flow{download: true, data: true}
}

func dataDesc(data *flow, files []string) string {
	if len(files) > 0 {
		return "file:" + files[0]
	}
	if data != nil && (len(data.files) > 0 || data.env) {
		return data.describe()
	}
	if data != nil && data.data {
		return "stdin"
	}
	return "literal"
}

// wget: URLs are destinations; --post-file sends a file; -O writes it.
func (w *walker) wget(k *cmd) *flow {
	p := operands(k, spec{short: "OoaPiUeTtwQlAIXDRb", long: []string{
		"--output-document", "--output-file", "--append-output", "--directory-prefix", "--input-file", "--post-data",
		"--post-file", "--body-file", "--body-data", "--header", "--user-agent", "--user", "--password", "--http-user",
		"--http-password", "--load-cookies", "--save-cookies", "--use-askpass", "--execute", "--config", "--method",
		"--timeout", "--tries", "--wait", "--level", "--accept", "--reject", "--domains", "--referer", "--limit-rate",
		"--ca-certificate", "--certificate", "--private-key", "--bind-address", "--quota", "--restrict-file-names",
	}})
	var urls []string
	for _, u := range p.pos {
		urls = append(urls, u.s)
	}
	sends := false
	data := &flow{}
	var sentFiles []string
	out := ""
	for _, o := range p.opts {
		if !o.has {
			continue
		}
		switch o.name {
		case "-O", "--output-document":
			out = o.val.s
		case "-o", "--output-file", "-a", "--append-output":
			if !quietDevices[o.val.s] {
				w.ref(k, o.val, analysis.OpWrite, false)
				w.sideWrite(k, o.val, "wget -o")
			}
		case "-P", "--directory-prefix":
			w.ref(k, o.val, analysis.OpWrite, true)
		case "-i", "--input-file":
			if o.val.s != "-" {
				w.ref(k, o.val, analysis.OpRead, false)
				w.sideRead(k, o.val, "wget -i")
			}
		case "--post-data", "--body-data":
			sends = true
			data = mergeFlow(data, o.val.flow)
		case "--post-file", "--body-file":
			sends = true
			w.ref(k, o.val, analysis.OpRead, false)
			sentFiles = append(sentFiles, o.val.s)
		case "--header", "--user-agent", "--referer":
			if o.val.flow.sensitiveData() {
				sends = true
				data = mergeFlow(data, o.val.flow)
			}
		case "--use-askpass":
			w.hook(k, o.val, "wget --use-askpass")
		case "-e", "--execute":
			if v := strings.ToLower(o.val.s); strings.Contains(v, "use_askpass") || strings.Contains(v, "post_file") {
				w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm),
					"wget is given a configuration command ("+o.val.s+"); pass plain options instead", k.detail(), riskMedium))
			}
		case "--load-cookies", "--config", "--ca-certificate", "--certificate", "--private-key":
			w.ref(k, o.val, analysis.OpRead, false)
		case "--save-cookies":
			w.ref(k, o.val, analysis.OpWrite, false)
		}
	}
	for _, u := range p.pos {
		if u.flow.sensitiveData() {
			sends = true
			data = mergeFlow(data, u.flow)
		}
	}
	for _, u := range urls {
		w.dest(k, u, sends, dataDesc(data, sentFiles))
	}
	if sends && (len(sentFiles) > 0 || data.sensitiveData()) {
		w.exfil(k.detail(), mergeFlow(data, &flow{files: sentFiles}), strings.Join(urls, " "))
	}
	switch {
	case out == "-" || out == "/dev/stdout":
		return &flow{download: true, data: true}
	case out != "":
		w.ref(k, field{s: out}, analysis.OpWrite, false)
		w.sensitiveWriteRules(k, out, "wget -O")
		for _, u := range urls {
			w.noteDownloaded(out, u)
		}
		if len(urls) == 0 {
			w.noteDownloaded(out, "")
		}
	default:
		for _, u := range urls {
			name := baseOf(strings.SplitN(u, "?", 2)[0])
			if name != "" && !strings.Contains(name, ":") {
				w.noteDownloaded(name, u)
			}
		}
	}
	return nil
}

// httpie: http [METHOD] URL [items]; key@file uploads a file.
func (w *walker) httpie(k *cmd) *flow {
	p := operands(k, spec{short: "aoA", long: []string{"--auth", "--output", "--auth-type", "--session", "--session-read-only", "--cert", "--cert-key", "--proxy", "--timeout", "--verify", "--print", "--pretty", "--style", "--format-options", "--raw"}})
	var url string
	sends := p.has("--form", "-f", "--multipart")
	data := &flow{}
	var files []string
	for i, a := range p.pos {
		s := a.s
		if url == "" {
			if i == 0 && isHTTPMethod(s) && len(p.pos) > 1 {
				continue
			}
			url = s
			continue
		}
		switch {
		case strings.Contains(s, "@") && !strings.Contains(s, "=") && !strings.Contains(s, ":"):
			f := s[strings.IndexByte(s, '@')+1:]
			sends = true
			files = append(files, f)
			w.ref(k, field{s: f}, analysis.OpRead, false)
		case strings.Contains(s, "=@") || strings.Contains(s, ":=@"):
			f := s[strings.Index(s, "=@")+2:]
			sends = true
			files = append(files, f)
			w.ref(k, field{s: f}, analysis.OpRead, false)
		case strings.Contains(s, "="):
			sends = true
			data = mergeFlow(data, a.flow)
		}
	}
	if raw, ok := p.val("--raw"); ok {
		sends = true
		data = mergeFlow(data, raw.flow)
	}
	if o, ok := p.val("-o", "--output"); ok {
		w.ref(k, o, analysis.OpWrite, false)
		w.noteDownloaded(o.s, url)
	}
	if k.c.stdin != nil && k.c.stdin.data {
		sends = true
		data = mergeFlow(data, k.c.stdin)
	}
	if url != "" {
		if !strings.Contains(url, "://") && !strings.HasPrefix(url, ":") {
			url = "http://" + url
		}
		w.dest(k, url, sends, dataDesc(data, files))
	}
	if sends {
		w.exfil(k.detail(), mergeFlow(data, &flow{files: files}), url)
	}
	return &flow{download: true, data: true}
}

func isHTTPMethod(s string) bool {
	switch strings.ToUpper(s) {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
		return s == strings.ToUpper(s)
	}
	return false
}

// aria2c and axel: downloaders with hooks.
func (w *walker) downloader(k *cmd) *flow {
	p := operands(k, spec{short: "idoxsn", long: []string{"--input-file", "--dir", "--out", "--on-download-complete", "--on-download-error", "--on-download-start", "--on-download-stop", "--on-download-pause", "--on-bt-download-complete", "--conf-path", "--save-session", "--log", "--gid", "--output"}})
	for _, o := range p.opts {
		if !o.has {
			continue
		}
		switch {
		case strings.HasPrefix(o.name, "--on-"):
			w.hook(k, o.val, k.name+" "+o.name)
		case o.name == "-i" || o.name == "--input-file" || o.name == "--conf-path":
			w.ref(k, o.val, analysis.OpRead, false)
			w.sideRead(k, o.val, k.name+" "+o.name)
		case o.name == "-d" || o.name == "--dir":
			w.ref(k, o.val, analysis.OpWrite, true)
		case o.name == "-o" || o.name == "--out" || o.name == "--output" || o.name == "--log" || o.name == "--save-session":
			w.ref(k, o.val, analysis.OpWrite, false)
			w.noteDownloaded(o.val.s, "")
		}
	}
	for _, u := range p.pos {
		w.dest(k, u.s, false, "")
	}
	return nil
}

// netcat: nc/ncat/netcat. -e/-c wire a program to the socket.
func (w *walker) netcat(k *cmd) *flow {
	p := operands(k, spec{short: "ecpswqiIOxXTVPo", long: []string{"--exec", "--sh-exec", "--lua-exec", "--source-port", "--source", "--wait", "--idle-timeout", "--proxy", "--proxy-type", "--output", "--hex-dump", "--allow", "--deny", "--max-conns", "--append-output"}})
	listen := p.has("-l", "--listen")
	execProg, hasExec := p.val("-e", "-c", "--exec", "--sh-exec", "--lua-exec")
	if !hasExec && k.name == "busybox-nc" {
		execProg, hasExec = p.val("-e")
	}
	port := 0
	if v, ok := p.val("-p", "--source-port"); ok {
		port, _ = strconv.Atoi(v.s)
	}
	host := ""
	var rest []string
	for _, a := range p.pos {
		rest = append(rest, a.s)
	}
	if len(rest) >= 1 {
		if n, err := strconv.Atoi(rest[len(rest)-1]); err == nil && len(rest) >= 2 {
			port = n
			host = rest[0]
		} else if err == nil {
			port = n
		} else {
			host = rest[0]
		}
	}
	if o, ok := p.val("-o", "--output"); ok {
		w.ref(k, o, analysis.OpWrite, false)
	}
	if hasExec && !execsShell(execProg.s) {
		// nc -l -c 'echo reply': a fixed program answers connections; it
		// is a server, not a shell.
		hasExec = false
		w.add(finding(CodeListener, decision.Notify, k.name+" wires "+execProg.s+" to a socket", k.detail(), riskMedium))
	}
	if hasExec {
		w.facts.interactive = true
		if listen {
			w.add(finding(CodeBindShell, decision.Deny,
				k.name+" serves "+execProg.s+" on a listening socket (bind shell); this is refused", k.detail(), riskCompromise))
		} else {
			w.add(finding(CodeReverseShell, decision.Deny,
				k.name+" connects "+execProg.s+" to "+host+" (reverse shell); this is refused", k.detail(), riskCompromise))
		}
	}
	in := k.c.stdin
	sends := in != nil && in.data
	raw := host
	if port != 0 {
		raw = host + ":" + strconv.Itoa(port)
	}
	if listen {
		w.addDest(analysis.Dest{Raw: raw, Host: host, Port: port, Listens: true, Sends: sends, Data: in.describe(), Command: k.name})
		if k.c.stage != nil {
			k.c.stage.netListen = true
		}
		if sends {
			w.exfil(k.detail(), in, "anyone connecting to port "+strconv.Itoa(port))
		}
	} else if host != "" {
		d := analysis.Dest{Raw: raw, Scheme: "tcp", Host: host, Port: port, Sends: sends, Command: k.name}
		if p.has("-u") {
			d.Scheme = "udp"
		}
		if sends {
			d.Data = in.describe()
		}
		w.addDest(d)
		if k.c.stage != nil && !p.has("-z") {
			k.c.stage.netClient = true
		}
		if sends {
			w.exfil(k.detail(), in, host)
		}
	}
	if p.has("-z") {
		return &flow{data: true}
	}
	return &flow{net: true, download: true, data: true}
}

// execsShell reports whether a command line given to nc -e/-c or socat
// EXEC: runs a shell, an interpreter or something not statically known.
func execsShell(cmdline string) bool {
	if shellRef(cmdline) {
		return true
	}
	first, _, _ := strings.Cut(strings.TrimSpace(cmdline), " ")
	first = strings.SplitN(first, ",", 2)[0]
	b := baseOf(first)
	return first == "" || strings.Contains(first, "*") || strings.Contains(first, "$") || isShellName(b) || langOf(b) != "other"
}

// socat ADDRESS ADDRESS: EXEC/SYSTEM wired to TCP is a reverse or bind
// shell; FILE wired to TCP moves a file.
func (w *walker) socat(k *cmd) *flow {
	var addrs []string
	for _, a := range k.args[1:] {
		if strings.HasPrefix(a.s, "-") && a.s != "-" {
			continue
		}
		addrs = append(addrs, a.s)
	}
	var execAddr, netAddr, listenAddr, fileAddr string
	stdio := false
	for _, a := range addrs {
		kind, rest, _ := strings.Cut(a, ":")
		kind = strings.ToUpper(strings.SplitN(kind, ",", 2)[0])
		switch {
		case kind == "EXEC" || kind == "SYSTEM":
			execAddr = rest
		case strings.Contains(kind, "LISTEN") || strings.HasSuffix(kind, "-RECVFROM") || kind == "UDP-RECV":
			listenAddr = a
		case strings.HasPrefix(kind, "TCP") || strings.HasPrefix(kind, "UDP") || strings.HasPrefix(kind, "OPENSSL") || strings.HasPrefix(kind, "SSL") || strings.HasPrefix(kind, "SCTP") || kind == "SOCKS4" || kind == "SOCKS4A" || kind == "PROXY":
			netAddr = a
		case kind == "FILE" || kind == "OPEN" || kind == "GOPEN" || kind == "CREATE" || kind == "CREAT":
			fileAddr = strings.SplitN(rest, ",", 2)[0]
		case a == "-" || kind == "STDIO" || kind == "STDIN" || kind == "STDOUT" || kind == "READLINE":
			stdio = true
		}
	}
	if netAddr != "" {
		_, rest, _ := strings.Cut(netAddr, ":")
		rest = strings.SplitN(rest, ",", 2)[0]
		_, host, port := splitURL(rest)
		w.addDest(analysis.Dest{Raw: netAddr, Scheme: "tcp", Host: host, Port: port, Sends: fileAddr != "" || stdio && k.c.stdin != nil, Command: "socat"})
		if k.c.stage != nil {
			k.c.stage.netClient = true
		}
	}
	if listenAddr != "" {
		_, rest, _ := strings.Cut(listenAddr, ":")
		port, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
		w.addDest(analysis.Dest{Raw: listenAddr, Port: port, Listens: true, Command: "socat"})
		if k.c.stage != nil {
			k.c.stage.netListen = true
		}
	}
	if execAddr != "" && (listenAddr != "" || netAddr != "") && !execsShell(strings.SplitN(execAddr, ",", 2)[0]) {
		w.add(finding(CodeListener, decision.Notify, "socat wires "+execAddr+" to a socket", k.detail(), riskMedium))
		execAddr = ""
	}
	if execAddr != "" {
		w.facts.interactive = true
		prog := strings.SplitN(execAddr, ",", 2)[0]
		switch {
		case listenAddr != "":
			w.add(finding(CodeBindShell, decision.Deny,
				"socat serves "+prog+" on a listening socket (bind shell); this is refused", k.detail(), riskCompromise))
		case netAddr != "":
			w.add(finding(CodeReverseShell, decision.Deny,
				"socat wires "+prog+" to a network connection (reverse shell); this is refused", k.detail(), riskCompromise))
		default:
			if shellRef(prog) {
				w.shellSpawn(k, "socat starts a shell", true)
			} else {
				w.nestedShell(k, prog, "socat exec")
			}
		}
	}
	if fileAddr != "" {
		if netAddr != "" || listenAddr != "" {
			w.ref(k, field{s: fileAddr}, analysis.OpRead, false)
			w.exfil(k.detail(), &flow{files: []string{fileAddr}, data: true}, netAddr+listenAddr)
		} else {
			w.ref(k, field{s: fileAddr}, analysis.OpRead, false)
		}
	}
	if stdio && k.c.stdin != nil && (netAddr != "" || listenAddr != "") {
		w.exfil(k.detail(), k.c.stdin, netAddr+listenAddr)
	}
	return &flow{net: netAddr != "" || listenAddr != "", data: true}
}

// telnet host [port].
func (w *walker) telnet(k *cmd) *flow {
	p := operands(k, spec{short: "lnbeS"})
	if len(p.pos) == 0 {
		w.facts.netSession = k.name
		return &flow{data: true}
	}
	host := p.pos[0].s
	port := 23
	if len(p.pos) > 1 {
		port, _ = strconv.Atoi(p.pos[1].s)
	}
	sends := k.c.stdin != nil && k.c.stdin.data
	w.addDest(analysis.Dest{Raw: host + ":" + strconv.Itoa(port), Scheme: "telnet", Host: host, Port: port, Sends: sends, Data: k.c.stdin.describe(), Command: k.name})
	if k.c.stage != nil {
		k.c.stage.netClient = true
	}
	if sends {
		w.exfil(k.detail(), k.c.stdin, host)
	}
	return &flow{net: true, data: true}
}

// ssh [options] destination [command]: options that run local commands
// (ProxyCommand, LocalCommand) are hooks; data piped in is sent.
func (w *walker) ssh(k *cmd) *flow {
	// OpenSSH takes options before and right after the destination; the
	// first operand after the destination starts the remote command.
	sp := spec{short: "bcDEeFIiJLlmOopQRSWwB"}
	var head []field
	var remoteArgs []field
	seenDest := false
	for i := 1; i < len(k.args); i++ {
		a := k.args[i]
		if strings.HasPrefix(a.s, "-") && len(a.s) > 1 && !(seenDest && len(remoteArgs) > 0) {
			head = append(head, a)
			if len(a.s) == 2 && strings.IndexByte(sp.short, a.s[1]) >= 0 && i+1 < len(k.args) {
				i++
				head = append(head, k.args[i])
			}
			continue
		}
		if !seenDest {
			seenDest = true
			head = append(head, a)
			continue
		}
		remoteArgs = append(remoteArgs, k.args[i:]...)
		break
	}
	p := parse(head, sp)
	p.pos = append(p.pos, remoteArgs...)
	for _, o := range p.vals("-o") {
		key, val, ok := strings.Cut(o.s, "=")
		if !ok {
			key, val, _ = strings.Cut(o.s, " ")
		}
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "proxycommand", "localcommand", "knownhostscommand", "match exec":
			w.hook(k, field{s: strings.TrimSpace(val), dyn: o.dyn}, "ssh -o "+key)
		}
	}
	if f, ok := p.val("-F"); ok {
		w.ref(k, f, analysis.OpRead, false)
		w.sideRead(k, f, "ssh -F")
	}
	if e, ok := p.val("-E"); ok {
		w.ref(k, e, analysis.OpWrite, false)
	}
	if len(p.pos) == 0 {
		return nil
	}
	destination := p.pos[0].s
	host := destination
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	port := 22
	if v, ok := p.val("-p"); ok {
		port, _ = strconv.Atoi(v.s)
	}
	in := k.c.stdin
	sends := in != nil && in.data
	w.addDest(analysis.Dest{Raw: destination, Scheme: "ssh", Host: strings.ToLower(host), Port: port, Sends: sends, Data: in.describe(), Command: k.name})
	if sends {
		w.exfilTransfer(k.detail(), in.files, host)
		if in.env {
			w.exfil(k.detail(), in, host)
		}
	}
	remote := p.pos[1:]
	if len(remote) > 0 && (host == "localhost" || strings.HasPrefix(host, "127.")) {
		j := make([]string, len(remote))
		for i, r := range remote {
			j[i] = r.s
		}
		if shellRefArg(strings.Join(j, " ")) {
			w.shellSpawn(k, "ssh to this machine starts a shell", true)
		}
	}
	if k.priv && len(remote) > 0 {
		w.add(finding(CodePrivilegeEscalation, decision.Confirm,
			"ssh runs a remote command with root's credentials; run ssh as your user", k.detail(), riskHigh))
	}
	forwards := p.vals("-R")
	for _, o := range p.vals("-o") {
		key, val, ok := strings.Cut(o.s, "=")
		if !ok {
			key, val, _ = strings.Cut(o.s, " ")
		}
		if strings.EqualFold(strings.TrimSpace(key), "RemoteForward") {
			forwards = append(forwards, field{s: strings.TrimSpace(val), dyn: o.dyn})
		}
	}
	for _, f := range forwards {
		// ssh -R [bind:]port:host:hostport makes the remote side listen
		// and hand its connections to this machine. Bound to the remote's
		// loopback (the default) it is an ordinary tunnel between two
		// machines the user reaches anyway; bound to every interface, or
		// made on a public tunnelling service, it publishes the local
		// port on the internet.
		bind, port := remoteForward(f.s)
		if f.dyn || !publicBind(bind) && !tunnelService(strings.ToLower(host)) {
			if len(remote) == 0 {
				w.unresolved("ssh -R exposes a local port to " + host)
			}
			continue
		}
		w.addDest(analysis.Dest{Raw: "ssh -R " + f.s, Scheme: "ssh", Host: strings.ToLower(host), Port: port, Listens: true, Command: k.name})
		w.add(finding(CodePortExposure, decision.Confirm,
			"ssh -R publishes a local port on "+host+", reachable from the internet; say why it is needed", k.detail(), riskHigh))
	}
	return &flow{download: true, data: true}
}

// remoteForward splits an ssh -R specification ("[bind:]port:host:hostport",
// "[bind:]port", "[::]:80:…", "bind port host:hostport" from -o) into the
// remote bind address ("" when none is given) and the listening port.
func remoteForward(spec string) (bind string, port int) {
	spec = strings.TrimSpace(strings.ReplaceAll(spec, " ", ":"))
	if strings.HasPrefix(spec, "[") {
		if i := strings.IndexByte(spec, ']'); i > 0 {
			bind, spec = spec[1:i], strings.TrimPrefix(spec[i+1:], ":")
			if n, err := strconv.Atoi(strings.SplitN(spec, ":", 2)[0]); err == nil {
				port = n
			}
			return bind, port
		}
	}
	parts := strings.Split(spec, ":")
	if n, err := strconv.Atoi(parts[0]); err == nil {
		return "", n
	}
	bind = parts[0]
	if len(parts) == 1 {
		// A bare "*" or host: the port is missing; still a bind.
		return bind, 0
	}
	if n, err := strconv.Atoi(parts[1]); err == nil {
		port = n
	}
	if bind == "" {
		// ":80:…" binds every interface, as "*:80" does.
		bind = "*"
	}
	return bind, port
}

// publicBind reports an ssh -R bind address other than the remote's
// loopback.
func publicBind(bind string) bool {
	switch strings.ToLower(bind) {
	case "", "localhost", "127.0.0.1", "::1", "ip6-localhost":
		return false
	}
	return !strings.HasPrefix(bind, "127.")
}

// tunnelService reports hosts whose business is giving a forwarded port a
// public address (serveo, localhost.run, pinggy …).
func tunnelService(host string) bool {
	for _, d := range []string{"serveo.net", "localhost.run", "pinggy.io", "pinggy.link", "srv.us", "tuns.sh", "ngrok.com", "ngrok-agent.com", "localtonet.com", "telebit.cloud"} {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// tunnel handles ngrok, cloudflared, localtunnel and bore: services that
// give a local port a public address on the internet.
func (w *walker) tunnel(k *cmd) *flow {
	s := k.strs()
	exposes := false
	port := 0
	portOf := func(v string) {
		if port != 0 {
			return
		}
		if _, _, p := splitURL(v); p != 0 {
			port = p
			return
		}
		if _, after, ok := strings.Cut(v, ":"); ok {
			v = after
		}
		if n, err := strconv.Atoi(v); err == nil && n > 0 && n < 65536 {
			port = n
		}
	}
	switch k.name {
	case "ngrok":
		for i, a := range s[1:] {
			if a == "http" || a == "tcp" || a == "tls" || a == "start" {
				exposes = true
				for _, v := range s[i+2:] {
					portOf(v)
				}
				break
			}
		}
	case "cloudflared":
		if hasWord(s, "tunnel") {
			for i, a := range s {
				switch {
				case a == "--url" && i+1 < len(s):
					exposes = true
					portOf(s[i+1])
				case strings.HasPrefix(a, "--url="):
					exposes = true
					portOf(a[len("--url="):])
				case a == "run":
					exposes = true
				}
			}
		}
	case "lt", "localtunnel":
		for i, a := range s {
			if (a == "--port" || a == "-p") && i+1 < len(s) {
				exposes = true
				portOf(s[i+1])
			} else if strings.HasPrefix(a, "--port=") {
				exposes = true
				portOf(a[len("--port="):])
			}
		}
	case "bore":
		if len(s) > 2 && s[1] == "local" {
			exposes = true
			portOf(s[2])
		}
	}
	if !exposes {
		return &flow{data: true}
	}
	w.addDest(analysis.Dest{Raw: clip(strings.Join(s, " ")), Port: port, Listens: true, Command: k.name})
	w.add(finding(CodePortExposure, decision.Confirm,
		k.name+" publishes a local port on the internet; say why it is needed", k.detail(), riskHigh))
	return &flow{data: true}
}

// scp / rsync: operands with host: are remote; local→remote sends files.
func (w *walker) transfer(k *cmd) *flow {
	var p parsed
	if k.name == "rsync" {
		p = operands(k, spec{short: "eBfTM", long: []string{"--rsh", "--rsync-path", "--files-from", "--exclude-from", "--include-from", "--password-file", "--exclude", "--include", "--filter", "--port", "--timeout", "--log-file", "--temp-dir", "--partial-dir", "--backup-dir", "--suffix", "--chmod", "--chown", "--bwlimit", "--compare-dest", "--copy-dest", "--link-dest", "--out-format", "--info", "--debug", "--iconv", "--max-size", "--min-size", "--modify-window", "--usermap", "--groupmap", "--block-size", "--checksum-choice", "--compress-choice", "--skip-compress", "--sockopts", "--address", "--protocol", "--outbuf", "--contimeout", "--max-delete", "--write-batch", "--read-batch", "--only-write-batch"}})
		for _, v := range p.vals("-e", "--rsh") {
			w.hook(k, v, "rsync -e")
		}
		for _, v := range p.vals("--files-from", "--exclude-from", "--include-from", "--password-file") {
			if v.s != "-" {
				w.ref(k, v, analysis.OpRead, false)
			}
		}
	} else {
		p = operands(k, spec{short: "cFiJlmoPSDX"})
		for _, o := range p.vals("-o") {
			key, val, ok := strings.Cut(o.s, "=")
			if !ok {
				key, val, _ = strings.Cut(o.s, " ")
			}
			if strings.EqualFold(strings.TrimSpace(key), "proxycommand") {
				w.hook(k, field{s: strings.TrimSpace(val), dyn: o.dyn}, "scp -o ProxyCommand")
			}
		}
		for _, v := range p.vals("-S") {
			w.hook(k, v, "scp -S")
		}
		if f, ok := p.val("-F"); ok {
			w.ref(k, f, analysis.OpRead, false)
		}
	}
	if len(p.pos) < 2 {
		for _, a := range p.pos {
			if h, ok := remoteSpec(a.s); ok {
				w.addDest(analysis.Dest{Raw: a.s, Scheme: "ssh", Host: strings.ToLower(h), Command: k.name})
			}
		}
		return nil
	}
	rec := k.name == "rsync" && p.has("-r", "-a", "--recursive", "--archive") || p.has("-r")
	srcs, dst := p.pos[:len(p.pos)-1], p.pos[len(p.pos)-1]
	dstHost, dstRemote := remoteSpec(dst.s)
	if strings.HasPrefix(dst.s, "rsync://") {
		_, dstHost, _ = splitURL(dst.s)
		dstRemote = true
	}
	var local []string
	for _, s := range srcs {
		if h, ok := remoteSpec(s.s); ok {
			w.addDest(analysis.Dest{Raw: s.s, Scheme: "ssh", Host: strings.ToLower(h), Command: k.name})
			continue
		}
		if strings.HasPrefix(s.s, "rsync://") {
			w.dest(k, s.s, false, "")
			continue
		}
		w.ref(k, s, analysis.OpRead, rec)
		local = append(local, s.s)
	}
	if dstRemote {
		w.addDest(analysis.Dest{Raw: dst.s, Scheme: "ssh", Host: strings.ToLower(dstHost), Sends: len(local) > 0, Data: dataOf(local), Command: k.name})
		w.exfilTransfer(k.detail(), local, dstHost)
		return nil
	}
	w.ref(k, dst, analysis.OpWrite, rec)
	if !dst.dyn {
		w.sensitiveWriteRules(k, dst.s, k.name)
	}
	if k.name == "rsync" && p.has("--delete", "--delete-before", "--delete-after", "--delete-during", "--delete-excluded", "--remove-source-files") {
		w.ref(k, dst, analysis.OpDelete, true)
	}
	return nil
}

// fileSession handles ftp, sftp, tftp, lftp, ncftp and smbclient: a host,
// and transfer commands given with -c or typed on later lines (put/get).
func (w *walker) fileSession(k *cmd) *flow {
	p := operands(k, spec{short: "cbUPWpoAmRnsFrlDIiOS", long: []string{"--command", "--user", "--port", "--workgroup", "--authentication-file", "--directory", "--configfile"}})
	host := ""
	for _, a := range p.pos {
		s := strings.TrimLeft(strings.ReplaceAll(a.s, `\`, "/"), "/")
		if s == "" {
			continue
		}
		if strings.HasPrefix(a.s, "//") || strings.HasPrefix(a.s, `\\`) || strings.Contains(a.s, "://") || strings.Contains(s, "@") || host == "" {
			h := s
			if strings.Contains(a.s, "://") {
				_, h, _ = splitURL(a.s)
			} else {
				h = strings.SplitN(h, "/", 2)[0]
				if i := strings.LastIndexByte(h, '@'); i >= 0 {
					h = h[i+1:]
				}
				h = strings.SplitN(h, ":", 2)[0]
			}
			if host == "" {
				host = h
			}
		}
	}
	if host != "" {
		w.addDest(analysis.Dest{Raw: host, Scheme: k.name, Host: strings.ToLower(host), Command: k.name})
	}
	if c, ok := p.val("-c", "--command"); ok && k.name != "sftp" {
		for _, line := range strings.FieldsFunc(c.s, func(r rune) bool { return r == ';' || r == '\n' }) {
			w.sessionLine(k, strings.Fields(line), host)
		}
		if k.name == "lftp" && shellRef(c.s) {
			w.shellSpawn(k, "lftp runs a shell", true)
		}
		return &flow{data: true}
	}
	if b, ok := p.val("-b"); ok && k.name == "sftp" {
		w.ref(k, b, analysis.OpRead, false)
	}
	w.facts.netSession = host
	if w.facts.netSession == "" {
		w.facts.netSession = k.name
	}
	if k.c.stdin != nil && k.c.stdin.textOK {
		for _, line := range strings.Split(k.c.stdin.text, "\n") {
			w.sessionLine(k, strings.Fields(line), host)
		}
	}
	return &flow{data: true}
}

// sessionLine judges one command of a file-transfer session.
func (w *walker) sessionLine(k *cmd, f []string, host string) {
	if len(f) < 2 {
		return
	}
	switch strings.ToLower(f[0]) {
	case "put", "mput", "send", "append", "reput":
		w.ref(k, field{s: f[1]}, analysis.OpRead, false)
		w.markSends(host, "file:"+f[1])
		w.exfil(k.detail(), &flow{files: []string{f[1]}, data: true}, host)
	case "get", "mget", "recv", "reget":
		target := f[1]
		if len(f) > 2 {
			target = f[2]
		}
		w.ref(k, field{s: baseOf(target)}, analysis.OpWrite, false)
	}
}

func (w *walker) markSends(host, data string) {
	for i, d := range w.out.Dests {
		if d.Host == strings.ToLower(host) || d.Raw == host {
			w.out.Dests[i].Sends = true
			if w.out.Dests[i].Data == "" {
				w.out.Dests[i].Data = data
			}
		}
	}
}

// sessionCommand handles put/get lines typed after ftp, sftp, tftp or
// smbclient on an earlier line of the same input.
func (w *walker) sessionCommand(k *cmd) *flow {
	if w.facts.netSession == "" {
		return w.generic(k)
	}
	args := k.strs()
	w.sessionLine(k, args, w.facts.netSession)
	return nil
}

// dns handles dig, nslookup, host and drill: a name built from command
// output or variables carries data out through DNS.
func (w *walker) dns(k *cmd) *flow {
	for i, a := range k.args[1:] {
		if (a.s == "-f" || a.s == "-k") && i+2 < len(k.args) {
			w.ref(k, k.args[i+2], analysis.OpRead, false)
		}
	}
	for _, a := range k.args[1:] {
		s := a.s
		if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "@") {
			if strings.HasPrefix(s, "@") {
				w.addDest(analysis.Dest{Raw: s[1:], Scheme: "dns", Host: strings.ToLower(s[1:]), Port: 53, Command: k.name})
			}
			continue
		}
		if a.dyn || a.subst {
			// Data in the labels of a name under a fixed domain
			// ($(cat x).attacker.com) leaves through DNS; a name that is
			// wholly a substitution ($(hostname)) is a lookup.
			dot := strings.IndexByte(s, '.')
			suffix := ""
			if dot >= 0 {
				suffix = s[dot+1:]
			}
			prefixDyn := strings.Contains(s[:max(dot, 0)], "*") || a.subst && !a.dyn && dot > 0
			if suffix != "" && !strings.Contains(suffix, "*") && strings.Contains(suffix, ".") && prefixDyn {
				data := "command output"
				if a.flow != nil && a.flow.sensitiveData() {
					data = a.flow.describe()
				}
				w.addDest(analysis.Dest{Raw: s, Scheme: "dns", Host: strings.ToLower(suffix), Port: 53, Sends: true, Data: data, Command: k.name})
				w.add(finding(CodeExfiltration, decision.Deny,
					"a DNS query carries run-time data in its name (DNS exfiltration); this is refused", k.detail(), riskLeak))
				continue
			}
			w.unresolved("DNS name built at run time: " + s)
			continue
		}
		if strings.Contains(s, ".") || s == "localhost" {
			w.addDest(analysis.Dest{Raw: s, Scheme: "dns", Host: strings.ToLower(s), Port: 53, Command: k.name})
		}
	}
	return &flow{data: true}
}

// hostArg handles ping, traceroute, whois, finger and other programs
// whose operands are host names.
func (w *walker) hostArg(k *cmd) *flow {
	p := operands(k, spec{short: "cipwWsItfmMhqQlSTgIF"})
	for _, v := range p.vals("-F", "-f", "-i") {
		if isPathLike(v.s) {
			w.ref(k, v, analysis.OpRead, false)
			w.sideRead(k, v, k.name+" -F")
		}
	}
	for _, a := range p.pos {
		s := a.s
		if k.name == "finger" {
			if i := strings.IndexByte(s, '@'); i >= 0 {
				user := s[:i]
				s = s[i+1:]
				w.addDest(analysis.Dest{Raw: a.s, Scheme: "finger", Host: strings.ToLower(s), Port: 79, Sends: user != "", Data: "literal", Command: k.name})
				if a.subst || a.flow.sensitiveData() {
					w.exfil(k.detail(), a.flow, s)
				}
			}
			continue
		}
		if looksURL(s) || strings.Count(s, ".") == 3 {
			w.addDest(analysis.Dest{Raw: s, Host: strings.ToLower(s), Command: k.name})
		}
		if a.subst && a.flow.sensitiveData() {
			w.exfil(k.detail(), a.flow, s)
		}
	}
	if h, ok := p.val("-h"); ok && k.name == "whois" {
		w.addDest(analysis.Dest{Raw: h.s, Scheme: "whois", Host: strings.ToLower(h.s), Port: 43, Sends: len(p.pos) > 0, Data: "literal", Command: k.name})
	}
	return &flow{data: true}
}

// openssl: s_client connects, s_server listens, enc/base64 read and
// write files and decode, -engine loads a library.
func (w *walker) openssl(k *cmd) *flow {
	if len(k.args) < 2 {
		return nil
	}
	sub := k.args[1].s
	p := parse(k.args[2:], spec{longSingle: true, long: []string{"-in", "-out", "-connect", "-accept", "-engine", "-key", "-cert", "-CAfile", "-CApath", "-passin", "-passout", "-inkey", "-signkey", "-config", "-keyout", "-pass", "-K", "-iv", "-md", "-name", "-port", "-servername", "-host", "-proxy", "-rand", "-writerand", "-out_trusted", "-CAkey", "-CA", "-days", "-subj", "-newkey", "-certfile", "-inform", "-outform", "-keyform", "-sess_out", "-sess_in", "-msgfile", "-keylogfile"}})
	if e, ok := p.val("-engine"); ok {
		if isPathLike(e.s) || strings.HasSuffix(e.s, ".so") {
			w.ref(k, e, analysis.OpRead, false)
			w.add(finding(CodeLibraryLoad, w.escalate(k, decision.Confirm),
				"openssl loads an engine library from "+e.s+"; say why it is needed", k.detail(), riskHigh))
		}
	}
	in, hasIn := p.val("-in")
	out, hasOut := p.val("-out")
	for _, o := range []string{"-key", "-cert", "-CAfile", "-inkey", "-signkey", "-config", "-certfile", "-CA", "-CAkey", "-sess_in", "-msgfile"} {
		if v, ok := p.val(o); ok {
			w.ref(k, v, analysis.OpRead, false)
		}
	}
	for _, o := range []string{"-keyout", "-sess_out", "-keylogfile"} {
		if v, ok := p.val(o); ok {
			w.ref(k, v, analysis.OpWrite, false)
		}
	}
	switch sub {
	case "s_client":
		c, _ := p.val("-connect")
		target := c.s
		if target == "" {
			if h, ok := p.val("-host"); ok {
				target = h.s
			}
		}
		stdin := k.c.stdin
		sends := stdin != nil && stdin.data
		_, host, port := splitURL(target)
		w.addDest(analysis.Dest{Raw: target, Scheme: "tls", Host: host, Port: port, Sends: sends, Data: stdin.describe(), Command: "openssl"})
		if k.c.stage != nil {
			k.c.stage.netClient = true
		}
		if sends {
			w.exfil(k.detail(), stdin, host)
		}
		return &flow{net: true, download: true, data: true}
	case "s_server":
		a, _ := p.val("-accept", "-port")
		port, _ := strconv.Atoi(a.s)
		w.addDest(analysis.Dest{Raw: a.s, Scheme: "tls", Port: port, Listens: true, Command: "openssl"})
		if k.c.stage != nil {
			k.c.stage.netListen = true
		}
		return &flow{net: true, data: true}
	}
	content := k.c.stdin
	if hasIn {
		w.ref(k, in, analysis.OpRead, false)
		content = &flow{files: []string{in.s}, data: true}
		if sub == "enc" || sub == "base64" {
			w.sideRead(k, in, "openssl "+sub)
		}
	}
	decode := (sub == "enc" || sub == "base64") && p.has("-d") && (p.has("-a", "-base64", "-A") || sub == "base64")
	result := content
	if decode {
		result = decodeFlow(content, decodeBase64)
	} else if result != nil {
		result = passThrough(result)
	}
	if hasOut {
		w.ref(k, out, analysis.OpWrite, false)
		if !out.dyn {
			w.sensitiveWriteRules(k, out.s, "openssl -out")
			if result != nil && result.textOK {
				w.noteWritten(out.s, result.text)
			}
			if sub == "enc" || sub == "base64" {
				w.sideWrite(k, out, "openssl "+sub)
			}
		}
		return nil
	}
	if result == nil {
		return &flow{data: true}
	}
	return result
}

// sideRead flags reading a file outside the workspace and the system's
// own trees through a program that is not meant for viewing files.
func (w *walker) sideRead(k *cmd, f field, via string) {
	if f.dyn || quietDevices[f.s] {
		return
	}
	switch classify(f.s) {
	case locHome, locOther, locParent:
		w.add(finding(CodeArbitraryFileRead, w.escalate(k, decision.Confirm),
			via+" reads "+f.s+", outside the workspace; read files inside the workspace or say why", k.detail(), riskMedium))
	}
}

// sideWrite is sideRead for writes.
func (w *walker) sideWrite(k *cmd, f field, via string) {
	if f.dyn || quietDevices[f.s] {
		return
	}
	switch classify(f.s) {
	case locHome, locOther, locParent, locSystem:
		w.add(finding(CodeArbitraryFileWrite, w.escalate(k, decision.Confirm),
			via+" writes "+f.s+", outside the workspace; write files inside the workspace or say why", k.detail(), riskMedium))
	}
}

// lp and lpr print files, possibly on a remote print server (-h).
func (w *walker) lp(k *cmd) *flow {
	p := operands(k, spec{short: "dhnoPqtHUEJTCS", long: []string{}})
	var files []string
	for _, f := range p.pos {
		w.ref(k, f, analysis.OpRead, false)
		files = append(files, f.s)
	}
	if h, ok := p.val("-h", "-H"); ok {
		_, host, port := splitURL(h.s)
		w.addDest(analysis.Dest{Raw: h.s, Scheme: "ipp", Host: host, Port: port, Sends: len(files) > 0, Data: dataOf(files), Command: k.name})
		w.exfil(k.detail(), &flow{files: files, data: true}, h.s)
	}
	return nil
}

// ab -p FILE / -u FILE posts a file to the target URL.
func (w *walker) ab(k *cmd) *flow {
	p := operands(k, spec{short: "nctspuTCHAPXbBeEgiIlqkrSvVwxyzZfmOR"})
	var files []string
	for _, v := range p.vals("-p", "-u") {
		w.ref(k, v, analysis.OpRead, false)
		files = append(files, v.s)
	}
	for _, u := range p.pos {
		w.dest(k, u.s, len(files) > 0, dataOf(files))
		if len(files) > 0 {
			w.exfil(k.detail(), &flow{files: files, data: true}, u.s)
		}
	}
	return &flow{data: true}
}

// restic backup sends files to a repository, which may be remote.
func (w *walker) restic(k *cmd) *flow {
	p := operands(k, spec{short: "rp", long: []string{"--repo", "--password-file", "--password-command", "--files-from", "--exclude-file", "--cache-dir", "--tag", "--host", "--exclude", "--option"}})
	for _, v := range p.vals("--password-command") {
		w.hook(k, v, "restic --password-command")
	}
	repo, _ := p.val("-r", "--repo")
	if r, ok := k.envVal("RESTIC_REPOSITORY"); ok && repo.s == "" {
		repo = r
	}
	remote := ""
	for _, pre := range []string{"rest:", "s3:", "sftp:", "b2:", "azure:", "gs:", "swift:", "rclone:"} {
		if strings.HasPrefix(repo.s, pre) {
			remote = strings.TrimPrefix(repo.s, pre)
		}
	}
	if len(p.pos) == 0 || p.pos[0].s != "backup" {
		return &flow{data: true}
	}
	var files []string
	for _, f := range p.pos[1:] {
		w.ref(k, f, analysis.OpRead, true)
		files = append(files, f.s)
	}
	if remote != "" {
		w.dest(k, remote, true, dataOf(files))
		w.exfil(k.detail(), &flow{files: files, data: true}, remote)
	}
	return &flow{data: true}
}

// sshfs mounts a remote directory; files copied there are sent.
func (w *walker) sshfs(k *cmd) *flow {
	p := operands(k, spec{short: "opF"})
	for _, o := range p.vals("-o") {
		for _, kv := range strings.Split(o.s, ",") {
			if key, val, ok := strings.Cut(kv, "="); ok && (key == "ssh_command" || key == "ssh_program") {
				w.hook(k, field{s: val}, "sshfs -o "+key)
			}
		}
	}
	if len(p.pos) < 2 {
		return nil
	}
	if h, ok := remoteSpec(p.pos[0].s); ok {
		w.addDest(analysis.Dest{Raw: p.pos[0].s, Scheme: "ssh", Host: strings.ToLower(h), Command: "sshfs"})
		if w.facts.remoteMounts == nil {
			w.facts.remoteMounts = map[string]string{}
		}
		w.facts.remoteMounts[cleanPath(p.pos[1].s)] = h
	}
	return nil
}

// remoteMountHost returns the host of a remote mount that contains p.
func (w *walker) remoteMountHost(p string) (string, bool) {
	c := cleanPath(p)
	for dir, host := range w.facts.remoteMounts {
		if c == dir || strings.HasPrefix(c, dir+"/") {
			return host, true
		}
	}
	return "", false
}

// ztcp is zsh's TCP module: ztcp HOST PORT opens a stream in $REPLY.
func (w *walker) ztcp(k *cmd) *flow {
	var pos []string
	for _, a := range k.args[1:] {
		if !strings.HasPrefix(a.s, "-") {
			pos = append(pos, a.s)
		}
	}
	listen := hasFlag(k.args, "-l")
	if len(pos) >= 1 {
		port, _ := strconv.Atoi(pos[len(pos)-1])
		host := ""
		if len(pos) >= 2 {
			host = pos[0]
		}
		w.addDest(analysis.Dest{Raw: strings.Join(pos, ":"), Scheme: "tcp", Host: strings.ToLower(host), Port: port, Listens: listen, Command: "ztcp"})
	}
	w.facts.tcpFD = true
	w.noteTCPFd("*")
	return nil
}
