package shell

import (
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// toStdout reports whether a file operand names standard output.
func toStdout(s string) bool {
	return s == "-" || s == "/dev/stdout" || s == "/dev/fd/1"
}

// remoteSpec splits "user@host:path" or "host:path" (scp, rsync, tar).
func remoteSpec(s string) (host string, ok bool) {
	if strings.Contains(s, "://") {
		return "", false
	}
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return "", false
	}
	h := s[:i]
	if strings.ContainsAny(h, "/ ") {
		return "", false
	}
	if at := strings.LastIndexByte(h, '@'); at >= 0 {
		h = h[at+1:]
	}
	if h == "" || h == "*" {
		return "", false
	}
	return h, true
}

// tar, with its old-style bundled first argument (tar czf x.tgz dir).
func (w *walker) tar(k *cmd) *flow {
	args := append([]field(nil), k.args[1:]...)
	if len(args) > 0 && !strings.HasPrefix(args[0].s, "-") && isTarBundle(args[0].s) {
		args[0].s = "-" + args[0].s
	}
	p := parse(args, spec{short: "fCTXIbgHKLNVF", long: []string{"--file", "--directory", "--files-from", "--exclude-from", "--use-compress-program", "--to-command", "--rsh-command", "--checkpoint-action", "--format", "--owner", "--group", "--mode", "--transform", "--xform", "--exclude", "--newer", "--after-date", "--label", "--blocking-factor", "--info-script", "--new-volume-script", "--index-file", "--one-top-level", "--strip-components", "--suffix", "--tape-length", "--volno-file", "--listed-incremental", "--compress-program"}})
	create := p.has("-c", "--create", "-r", "--append", "-u", "--update")
	extract := p.has("-x", "--extract", "--get")
	toOut := p.has("-O", "--to-stdout")
	for _, v := range p.vals("-I", "--use-compress-program", "--compress-program") {
		w.hook(k, v, "tar --use-compress-program")
	}
	for _, v := range p.vals("--to-command") {
		w.hook(k, v, "tar --to-command")
	}
	for _, v := range p.vals("--checkpoint-action") {
		if _, cmdText, ok := strings.Cut(v.s, "exec="); ok {
			w.hook(k, field{s: cmdText, dyn: v.dyn}, "tar --checkpoint-action")
		}
	}
	for _, v := range p.vals("-F", "--info-script", "--new-volume-script") {
		w.hook(k, v, "tar --info-script")
	}
	for _, v := range p.vals("--rsh-command") {
		w.hook(k, v, "tar --rsh-command")
	}
	for _, v := range p.vals("-T", "--files-from", "-X", "--exclude-from") {
		w.ref(k, v, analysis.OpRead, false)
	}
	archive, hasArchive := p.val("-f", "--file")
	dir, hasDir := p.val("-C", "--directory")
	remote := ""
	if hasArchive {
		if h, ok := remoteSpec(archive.s); ok {
			remote = h
		}
	}
	var sources []string
	switch {
	case create:
		for _, s := range p.pos {
			base := s
			if hasDir && !strings.HasPrefix(s.s, "/") {
				base.s = strings.TrimSuffix(dir.s, "/") + "/" + s.s
			}
			w.ref(k, base, analysis.OpRead, true)
			sources = append(sources, base.s)
		}
		if remote != "" {
			w.addDest(analysis.Dest{Raw: archive.s, Scheme: "ssh", Host: remote, Sends: true, Data: dataOf(sources), Command: "tar"})
			if len(sources) > 0 {
				w.exfil(k.detail(), &flow{files: sources, data: true}, remote)
			}
			return nil
		}
		if !hasArchive || toStdout(archive.s) {
			w.noteArchive("-", sources)
			return &flow{files: sources, data: true}
		}
		w.ref(k, archive, analysis.OpWrite, false)
		w.noteArchive(archive.s, sources)
		return nil
	case extract:
		if remote != "" {
			w.addDest(analysis.Dest{Raw: archive.s, Scheme: "ssh", Host: remote, Command: "tar"})
		} else if hasArchive && !toStdout(archive.s) {
			w.ref(k, archive, analysis.OpRead, false)
		}
		if toOut {
			src := archive.s
			if !hasArchive {
				return passThrough(k.c.stdin)
			}
			return &flow{files: []string{src}, data: true}
		}
		target := field{s: "."}
		if hasDir {
			target = dir
		}
		w.ref(k, target, analysis.OpWrite, true)
		if k.c.stdin != nil && k.c.stdin.download {
			w.noteDownloaded(target.s, "")
		}
		return nil
	}
	if hasArchive && remote == "" && !toStdout(archive.s) {
		w.ref(k, archive, analysis.OpRead, false)
	}
	return &flow{data: true}
}

func isTarBundle(s string) bool {
	if s == "" || len(s) > 12 {
		return false
	}
	hasMode := false
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
		if strings.ContainsRune("cxtruA", r) {
			hasMode = true
		}
	}
	return hasMode
}

func dataOf(files []string) string {
	if len(files) == 0 {
		return "stdin"
	}
	return "file:" + files[0]
}

// noteArchive remembers which files an archive contains, so that sending
// the archive later in the line is recognised as sending the files.
func (w *walker) noteArchive(archive string, files []string) {
	if len(files) == 0 {
		return
	}
	if w.facts.archives == nil {
		w.facts.archives = map[string][]string{}
	}
	w.facts.archives[cleanPath(archive)] = files
}

// zip ARCHIVE FILES…; -TT runs a command to test the archive.
func (w *walker) zip(k *cmd) *flow {
	p := operands(k, spec{short: "bnitxPOAs", long: []string{"--unzip-command", "--temp-path", "--suffixes", "--exclude", "--include", "--password", "--output-file"}})
	for _, v := range p.vals("--unzip-command") {
		w.hook(k, v, "zip -TT")
	}
	// zip's -TT takes a value but parses as -T -T.
	for i, a := range k.args {
		if a.s == "-TT" && i+1 < len(k.args) {
			w.hook(k, k.args[i+1], "zip -TT")
		}
	}
	if len(p.pos) == 0 {
		return nil
	}
	archive := p.pos[0]
	rec := p.has("-r", "--recurse-paths")
	var files []string
	for _, f := range p.pos[1:] {
		if f.s == "-TT" {
			continue
		}
		w.ref(k, f, analysis.OpRead, rec)
		files = append(files, f.s)
	}
	if p.has("-m", "--move") {
		for _, f := range p.pos[1:] {
			w.ref(k, f, analysis.OpDelete, rec)
		}
	}
	if toStdout(archive.s) {
		return &flow{files: files, data: true}
	}
	w.ref(k, archive, analysis.OpWrite, false)
	w.noteArchive(archive.s, files)
	return nil
}

// unzip ARCHIVE [members] [-d DIR]; -p and -c print members.
func (w *walker) unzip(k *cmd) *flow {
	p := operands(k, spec{short: "dxP", long: []string{}})
	if len(p.pos) == 0 {
		return nil
	}
	archive := p.pos[0]
	w.ref(k, archive, analysis.OpRead, false)
	if p.has("-p", "-c") {
		return &flow{files: []string{archive.s}, data: true}
	}
	if p.has("-l", "-t", "-v", "-Z") {
		return &flow{data: true}
	}
	dir := field{s: "."}
	if d, ok := p.val("-d"); ok {
		dir = d
	}
	w.ref(k, dir, analysis.OpWrite, true)
	return nil
}

// compressor handles gzip, bzip2, xz, zstd and friends.
func (w *walker) compressor(k *cmd) *flow {
	p := operands(k, spec{short: "SbLT", long: []string{"--suffix", "--level", "--threads", "--memlimit", "--format"}})
	stdout := p.has("-c", "--stdout", "--to-stdout") || strings.HasSuffix(k.name, "cat")
	rec := p.has("-r", "--recursive")
	decompress := p.has("-d", "--decompress", "--uncompress") || strings.HasPrefix(k.name, "gun") || strings.HasPrefix(k.name, "bun") || strings.HasPrefix(k.name, "un")
	if len(p.pos) == 0 {
		if decompress {
			w.roundTrip(k, k.c.stdin)
		}
		out := passThrough(k.c.stdin)
		out.encoded = !decompress && k.c.stdin != nil && len(k.c.stdin.files) > 0
		return out
	}
	var files []string
	for _, f := range p.pos {
		w.ref(k, f, analysis.OpRead, rec)
		if !stdout && !p.has("-l", "--list", "-t", "--test") {
			w.ref(k, f, analysis.OpWrite, rec)
		}
		files = append(files, f.s)
	}
	if stdout {
		return &flow{files: files, data: true, encoded: !decompress}
	}
	return nil
}

// sevenZip: 7z COMMAND [switches] ARCHIVE [files].
func (w *walker) sevenZip(k *cmd) *flow {
	if len(k.args) < 3 {
		return nil
	}
	sub := k.args[1].s
	var ops []field
	stdout := false
	noArchive := false
	outDir := ""
	for _, a := range k.args[2:] {
		switch {
		case a.s == "-an":
			noArchive = true
		case a.s == "-so":
			stdout = true
		case strings.HasPrefix(a.s, "-o") && len(a.s) > 2:
			outDir = a.s[2:]
		case strings.HasPrefix(a.s, "-"):
		default:
			ops = append(ops, a)
		}
	}
	if noArchive {
		ops = append([]field{{s: "-"}}, ops...)
	}
	if len(ops) == 0 {
		return nil
	}
	archive := ops[0]
	var files []string
	switch sub {
	case "a", "u":
		for _, f := range ops[1:] {
			w.ref(k, f, analysis.OpRead, true)
			files = append(files, f.s)
		}
		if stdout {
			return &flow{files: files, data: true, encoded: true}
		}
		w.ref(k, archive, analysis.OpWrite, false)
		w.noteArchive(archive.s, files)
	case "x", "e":
		if archive.s == "-" || hasFlag(k.args, "-si") {
			w.roundTrip(k, k.c.stdin)
		} else {
			w.ref(k, archive, analysis.OpRead, false)
		}
		if stdout {
			if k.c.stdin != nil && hasFlag(k.args, "-si") {
				return passThrough(k.c.stdin)
			}
			return &flow{files: []string{archive.s}, data: true}
		}
		if outDir == "" {
			outDir = "."
		}
		w.ref(k, field{s: outDir}, analysis.OpWrite, true)
	case "d":
		w.ref(k, archive, analysis.OpWrite, false)
	default:
		w.ref(k, archive, analysis.OpRead, false)
	}
	return &flow{data: true}
}

// cpio -o (names on stdin, archive out), -i (archive in), -p DIR (copy).
func (w *walker) cpio(k *cmd) *flow {
	p := operands(k, spec{short: "DEFHIMORV", long: []string{"--directory", "--file", "--format", "--pattern-file", "--owner", "--message", "--rsh-command"}})
	names := func() []string {
		in := k.c.stdin
		if in == nil || !in.textOK {
			return nil
		}
		return strings.Fields(in.text)
	}
	for _, v := range p.vals("--rsh-command") {
		w.hook(k, v, "cpio --rsh-command")
	}
	switch {
	case p.has("-o", "--create"):
		files := names()
		for _, f := range files {
			w.ref(k, field{s: f}, analysis.OpRead, false)
			w.sideRead(k, field{s: f}, "cpio")
		}
		if out, ok := p.val("-O", "-F", "--file"); ok {
			w.ref(k, out, analysis.OpWrite, false)
			return nil
		}
		return &flow{files: files, data: true}
	case p.has("-p", "--pass-through"):
		files := names()
		for _, f := range files {
			w.ref(k, field{s: f}, analysis.OpRead, false)
			w.sideRead(k, field{s: f}, "cpio")
		}
		if len(p.pos) > 0 {
			w.ref(k, p.pos[0], analysis.OpWrite, true)
		}
		if o, ok := p.val("-R", "--owner"); ok && (strings.HasPrefix(o.s, "0") || strings.HasPrefix(o.s, "root")) {
			w.add(finding(CodeArbitraryFileWrite, w.escalate(k, decision.Confirm),
				"cpio copies files and makes them owned by root; say why it is needed", k.detail(), riskMedium))
		}
	default:
		dir := field{s: "."}
		if d, ok := p.val("-D", "--directory"); ok {
			dir = d
		}
		w.ref(k, dir, analysis.OpWrite, true)
	}
	return nil
}
