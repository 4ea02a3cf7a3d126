package shell

import (
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// git: remotes are destinations; force pushes, hard resets and other
// work-discarding operations are findings; config that names commands is
// a hook.
func (w *walker) git(k *cmd) *flow {
	args := k.args[1:]
	i := 0
	pager := false
	for i < len(args) {
		s := args[i].s
		if !strings.HasPrefix(s, "-") {
			break
		}
		switch {
		case s == "-C" || s == "--git-dir" || s == "--work-tree" || s == "--namespace":
			i++
		case s == "-c":
			if i+1 < len(args) {
				i++
				w.gitConfig(k, args[i].s)
			}
		case strings.HasPrefix(s, "--exec-path="):
			p := s[len("--exec-path="):]
			if classify(p) != locSystem {
				w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm),
					"git is told to load its helper programs from "+p+"; run git normally", k.detail(), riskHigh))
			}
		case s == "-p" || s == "--paginate":
			pager = true
		}
		i++
	}
	if i >= len(args) {
		return &flow{data: true}
	}
	sub := args[i].s
	rest := args[i+1:]
	p := parse(rest, spec{short: "omCcbBeFuXSU", long: []string{"--message", "--branch", "--origin", "--depth", "--reference", "--config", "--upload-pack", "--receive-pack", "--exec", "--push-option", "--repo", "--directory", "--exclude", "--expire", "--prune", "--author", "--date", "--template", "--separate-git-dir", "--jobs", "--filter"}})
	if _, ok := k.envVal("PAGER"); ok {
		pager = true
	}
	if _, ok := k.envVal("GIT_PAGER"); ok {
		pager = true
	}
	if pager && k.priv {
		w.shellSpawn(k, "git runs a pager as root", true)
	}
	for _, v := range p.vals("-c", "--config") {
		w.gitConfig(k, v.s)
	}
	for _, v := range p.vals("--upload-pack", "--receive-pack", "--exec", "-u") {
		if sub == "clone" || sub == "fetch" || sub == "pull" || sub == "push" || sub == "ls-remote" || sub == "archive" {
			w.hook(k, v, "git "+sub+" --upload-pack")
		}
	}
	urlDest := func(f field) {
		if looksURL(f.s) || strings.Contains(f.s, "@") && strings.Contains(f.s, ":") {
			if h, ok := remoteSpec(f.s); ok && !strings.Contains(f.s, "://") {
				w.addDest(analysis.Dest{Raw: f.s, Scheme: "ssh", Host: strings.ToLower(h), Command: "git"})
				return
			}
			w.dest(k, f.s, false, "")
		}
	}
	switch sub {
	case "clone":
		if len(p.pos) > 0 {
			urlDest(p.pos[0])
			dir := field{s: repoDir(p.pos[0].s)}
			if len(p.pos) > 1 {
				dir = p.pos[1]
			}
			w.ref(k, dir, analysis.OpWrite, true)
		}
	case "fetch", "pull", "ls-remote":
		if len(p.pos) > 0 {
			urlDest(p.pos[0])
		}
	case "remote":
		if len(p.pos) >= 3 && (p.pos[0].s == "add" || p.pos[0].s == "set-url") {
			urlDest(p.pos[2])
		}
	case "submodule":
		if len(p.pos) >= 2 && p.pos[0].s == "add" {
			urlDest(p.pos[1])
		}
	case "push":
		w.gitPush(k, p)
	case "reset":
		if p.has("--hard", "--merge", "--keep") {
			w.add(finding(CodeGitDestructive, decision.Confirm, "git reset --hard discards uncommitted work; commit or stash first", k.detail(), riskMedium))
		}
	case "clean":
		force := false
		for _, o := range p.opts {
			if o.name == "-f" || o.name == "--force" {
				force = true
			}
		}
		if force && !p.has("-n", "--dry-run") {
			w.add(finding(CodeGitDestructive, decision.Confirm, "git clean deletes untracked files; run it with -n first", k.detail(), riskMedium))
			w.ref(k, field{s: "."}, analysis.OpDelete, true)
		}
	case "checkout":
		for j, a := range rest {
			if a.s == "--" && j+1 < len(rest) && (rest[j+1].s == "." || rest[j+1].s == "*") || a.s == "." && j == len(rest)-1 {
				w.add(finding(CodeGitDestructive, decision.Confirm, "this discards uncommitted changes; commit or stash first", k.detail(), riskMedium))
				break
			}
		}
		if p.has("-f", "--force") {
			w.add(finding(CodeGitDestructive, decision.Confirm, "git checkout --force discards uncommitted changes; commit or stash first", k.detail(), riskMedium))
		}
	case "restore":
		if !p.has("--staged", "-S") || p.has("--worktree", "-W") {
			for _, a := range p.pos {
				if a.s == "." || a.s == "*" || a.s == ":/" {
					w.add(finding(CodeGitDestructive, decision.Confirm, "git restore . discards uncommitted changes; commit or stash first", k.detail(), riskMedium))
					break
				}
			}
		}
	case "branch":
		if p.has("-D") || p.has("-d") && p.has("-f", "--force") || p.has("--delete") && p.has("--force") {
			w.add(finding(CodeGitDestructive, decision.Confirm, "git branch -D deletes a branch with unmerged work; say why it is needed", k.detail(), riskMedium))
		}
	case "stash":
		if len(p.pos) > 0 && (p.pos[0].s == "drop" || p.pos[0].s == "clear") {
			w.add(finding(CodeGitDestructive, decision.Confirm, "git stash "+p.pos[0].s+" deletes stashed work; say why it is needed", k.detail(), riskMedium))
		}
	case "filter-branch", "filter-repo":
		w.add(finding(CodeGitDestructive, decision.Confirm, "git "+sub+" rewrites history; say why it is needed", k.detail(), riskHigh))
	case "reflog":
		if len(p.pos) > 0 && (p.pos[0].s == "expire" || p.pos[0].s == "delete") {
			for _, v := range p.vals("--expire", "--expire-unreachable") {
				if v.s == "now" || v.s == "all" {
					w.add(finding(CodeGitDestructive, decision.Confirm, "this expires the reflog, the last way to recover lost commits; say why it is needed", k.detail(), riskHigh))
				}
			}
		}
	case "gc":
		for _, v := range p.vals("--prune") {
			if v.s == "now" || v.s == "all" {
				w.add(finding(CodeGitDestructive, decision.Confirm, "git gc --prune=now deletes unreachable commits; say why it is needed", k.detail(), riskHigh))
			}
		}
	case "update-ref":
		if p.has("-d") {
			w.add(finding(CodeGitDestructive, decision.Confirm, "git update-ref -d deletes a ref; say why it is needed", k.detail(), riskMedium))
		}
	case "config":
		if len(p.pos) >= 2 {
			w.gitConfig(k, p.pos[0].s+"="+p.pos[1].s)
		}
	case "apply":
		if p.has("--unsafe-paths") {
			w.add(finding(CodeArbitraryFileWrite, w.escalate(k, decision.Confirm), "git apply --unsafe-paths writes outside the repository; apply patches inside it", k.detail(), riskHigh))
		}
	case "diff", "log", "show", "help", "blame", "grep":
		if k.priv && !hasFlag(args, "--no-pager") {
			w.shellSpawn(k, "git runs a pager as root", true)
		}
		if sub == "diff" || sub == "grep" {
			for _, a := range p.pos {
				if isPathLike(a.s) {
					w.ref(k, a, analysis.OpRead, false)
				}
			}
		}
	case "commit", "merge", "rebase", "am", "cherry-pick", "revert":
		if sub == "rebase" && p.has("--exec", "-x") {
			for _, v := range p.vals("--exec", "-x") {
				w.hook(k, v, "git rebase --exec")
			}
		}
	}
	return &flow{data: true}
}

func repoDir(url string) string {
	b := baseOf(strings.TrimSuffix(strings.TrimSuffix(url, "/"), ".git"))
	if i := strings.LastIndexByte(b, ':'); i >= 0 {
		b = b[i+1:]
	}
	if b == "" {
		return "."
	}
	return b
}

// gitConfig checks a key=value git setting for keys that run commands.
func (w *walker) gitConfig(k *cmd, kv string) {
	key, val, _ := strings.Cut(kv, "=")
	key = strings.ToLower(key)
	switch {
	case strings.HasPrefix(key, "alias.") && strings.HasPrefix(strings.TrimSpace(val), "!"):
		w.hook(k, field{s: strings.TrimPrefix(strings.TrimSpace(val), "!")}, "git alias")
	case key == "core.pager" || key == "core.editor" || key == "core.sshcommand" || key == "core.fsmonitor" || key == "core.hookspath" ||
		key == "diff.external" || strings.HasSuffix(key, ".textconv") || strings.HasSuffix(key, ".command") || key == "sequence.editor" ||
		strings.HasPrefix(key, "filter.") || key == "credential.helper" && strings.HasPrefix(val, "!") || key == "gpg.program" || key == "uploadpack.packobjectshook":
		if key == "core.hookspath" {
			w.add(finding(CodePersistence, decision.Confirm, "git is told to run hooks from "+val+"; say why it is needed", k.detail(), riskMedium))
			return
		}
		w.hook(k, field{s: strings.TrimPrefix(val, "!")}, "git "+key)
	}
}

// gitPush judges git push: a forced push rewrites remote history.
func (w *walker) gitPush(k *cmd, p parsed) {
	force := p.has("-f", "--force", "--force-with-lease", "--force-if-includes", "--mirror")
	for _, o := range p.opts {
		if strings.HasPrefix(o.name, "--force-with-lease") {
			force = true
		}
	}
	var refs, deleted []string
	for j, a := range p.pos {
		if j == 0 {
			if looksURL(a.s) {
				w.dest(k, a.s, true, "git objects")
			}
			continue
		}
		refs = append(refs, a.s)
		if strings.HasPrefix(a.s, "+") {
			force = true
		}
		if dst, ok := strings.CutPrefix(strings.TrimPrefix(a.s, "+"), ":"); ok && dst != "" {
			// An empty source side (":branch") deletes the remote ref;
			// ":" alone pushes the matching branches.
			deleted = append(deleted, dst)
		}
	}
	dry := p.has("-n", "--dry-run")
	if p.has("-d", "--delete") {
		deleted = append(deleted, refs...)
	}
	if !dry && (len(deleted) > 0 || p.has("--prune")) {
		what := strings.Join(deleted, " ")
		if what == "" {
			what = "remote branches without a local counterpart (--prune)"
		}
		w.add(finding(CodeGitDestructive, decision.Confirm,
			"this push deletes branches or tags on the shared remote; say why it is needed", k.detail()+" (deletes: "+what+")", riskHigh))
	}
	if !force {
		return
	}
	branch := strings.Join(refs, " ")
	if branch == "" {
		branch = "the current branch"
	}
	w.add(finding(CodeForcePush, decision.Confirm,
		"a forced push rewrites remote history; push without --force or say why", k.detail()+" (branch: "+branch+")", riskHigh))
}

// publish handles package and image publishing commands.
func (w *walker) publish(k *cmd) *flow {
	s := k.strs()
	w.credentialStores(k, s)
	pub := false
	what := strings.Join(s[:min(3, len(s))], " ")
	switch k.name {
	case "npm", "yarn", "pnpm", "cargo", "poetry", "vsce", "flit", "hatch", "lerna":
		pub = hasWord(s[1:], "publish")
		if pub && (k.name == "npm" || k.name == "pnpm" || k.name == "yarn" || k.name == "cargo" || k.name == "poetry") &&
			(hasWord(s[1:], "--dry-run") || hasWord(s[1:], "--dry-run=true")) {
			// These tools' dry run packs and checks but uploads nothing.
			pub = false
		}
		if k.name == "cargo" || k.name == "npm" || k.name == "pnpm" || k.name == "yarn" {
			return w.devTool(k, pub, what)
		}
	case "twine":
		pub = hasWord(s[1:], "upload")
	case "gem":
		pub = hasWord(s[1:], "push")
		if !pub {
			return w.devTool(k, false, what)
		}
	case "docker", "podman", "buildah", "skopeo":
		return w.container(k)
	case "helm":
		pub = hasWord(s[1:], "push")
		if hasWord(s[1:], "uninstall") || hasWord(s[1:], "delete") {
			w.add(finding(CodeDestructiveCloud, decision.Confirm, "helm uninstall removes a release; say why it is needed", k.detail(), riskHigh))
		}
	case "mvn", "mvnw":
		pub = hasWord(s[1:], "deploy") || hasWord(s[1:], "release:perform")
	case "gradle", "gradlew":
		for _, a := range s[1:] {
			if strings.HasPrefix(a, "publish") || strings.Contains(a, ":publish") {
				pub = true
			}
		}
	case "gh":
		pub = len(s) > 2 && s[1] == "release" && s[2] == "create"
	case "dotnet", "nuget":
		pub = hasWord(s[1:], "push")
	}
	if pub {
		w.add(finding(CodePublish, decision.Confirm, "this publishes a package, image or release; say why it is needed", k.detail(), riskHigh))
	}
	return &flow{data: true}
}

func hasWord(s []string, word string) bool {
	for _, a := range s {
		if a == word {
			return true
		}
	}
	return false
}

// devTool handles npm, yarn, pnpm, cargo, gem, pip, composer, bundle:
// exec/run subcommands run a program; installs are package installs.
func (w *walker) devTool(k *cmd, pub bool, what string) *flow {
	if pub {
		w.add(finding(CodePublish, decision.Confirm, "this publishes a package; say why it is needed", k.detail(), riskHigh))
		return &flow{data: true}
	}
	args := k.args[1:]
	i := 0
	for i < len(args) && strings.HasPrefix(args[i].s, "-") {
		if args[i].s == "-C" || args[i].s == "--prefix" || args[i].s == "--cwd" || args[i].s == "--dir" {
			i++
		}
		i++
	}
	if i >= len(args) {
		if k.priv && (k.name == "yarn" || k.name == "bundle" || k.name == "composer") {
			// yarn with no command installs the project, running its
			// lifecycle scripts.
			w.add(finding(CodePrivilegeEscalation, decision.Confirm,
				"project dependencies are installed as root, which runs their install scripts as root; install without sudo", k.detail(), riskHigh))
		}
		return &flow{data: true}
	}
	sub := args[i].s
	rest := args[i+1:]
	if k.priv && k.name == "yarn" && sub != "add" && sub != "install" && sub != "global" && sub != "info" && sub != "list" && sub != "cache" && sub != "config" && sub != "exec" && sub != "dlx" {
		// yarn NAME runs a package.json script.
		w.add(finding(CodePrivilegeEscalation, decision.Confirm,
			"project scripts are run as root; run them without sudo", k.detail(), riskHigh))
	}
	switch sub {
	case "exec", "x", "dlx":
		j := 0
		for j < len(rest) && strings.HasPrefix(rest[j].s, "-") {
			if rest[j].s == "--" {
				j++
				break
			}
			if rest[j].s == "-c" || rest[j].s == "--call" {
				if j+1 < len(rest) {
					w.nestedShell(k, rest[j+1].code(), k.name+" exec -c")
				}
				return &flow{data: true}
			}
			j++
		}
		if j < len(rest) {
			sub := &cmd{args: rest[j:], c: k.c, st: k.st, priv: k.priv, wrappers: append(append([]string(nil), k.wrappers...), k.name+" exec")}
			return w.exec(sub)
		}
	case "install", "i", "add", "ci", "update", "upgrade":
		global := false
		for _, a := range rest {
			if a.s == "-g" || a.s == "--global" || a.s == "--location=global" {
				global = true
			}
		}
		var pkgs []field
		for _, a := range rest {
			if !strings.HasPrefix(a.s, "-") {
				pkgs = append(pkgs, a)
			}
		}
		if k.priv && !global && (len(pkgs) == 0 || k.name == "gem" && hasFlag(rest, "--file")) {
			w.add(finding(CodePrivilegeEscalation, decision.Confirm,
				"project dependencies are installed as root, which runs their install scripts as root; install without sudo", k.detail(), riskHigh))
		}
		for _, p := range pkgs {
			if strings.Contains(p.s, "://") {
				w.dest(k, p.s, false, "")
			}
		}
		if global || k.priv {
			w.add(finding(CodePackageInstall, decision.Notify, "installs packages globally", k.detail(), riskLow))
		}
	case "run", "run-script", "start", "test", "rebuild":
		if k.priv {
			w.add(finding(CodePrivilegeEscalation, decision.Confirm,
				"project scripts are run as root; run them without sudo", k.detail(), riskHigh))
		}
	case "open":
		for j, a := range rest {
			if (a.s == "-e" || a.s == "--editor") && j+1 < len(rest) {
				w.hook(k, rest[j+1], k.name+" open -e")
			}
		}
	}
	return &flow{data: true}
}

// pip: install (system-wide under sudo), config --editor.
func (w *walker) pip(k *cmd) *flow {
	w.packageInstall(k, k.args)
	return &flow{data: true}
}

func (w *walker) packageInstall(k *cmd, args []field) {
	var sub string
	var rest []field
	for i, a := range args[1:] {
		if !strings.HasPrefix(a.s, "-") {
			sub = a.s
			rest = args[i+2:]
			break
		}
	}
	for j, a := range args {
		if (a.s == "--editor" || a.s == "-e" && sub == "config") && j+1 < len(args) {
			w.hook(k, args[j+1], "pip --editor")
		}
	}
	if sub != "install" && sub != "download" {
		return
	}
	local := false
	for j, a := range rest {
		switch {
		case a.s == "-e" || a.s == "--editable":
			local = true
		case a.s == "-r" || a.s == "--requirement" || a.s == "-c":
			if j+1 < len(rest) {
				w.ref(k, rest[j+1], analysis.OpRead, false)
			}
		case a.s == "-i" || a.s == "--index-url" || a.s == "--extra-index-url":
			if j+1 < len(rest) {
				w.dest(k, rest[j+1].s, false, "")
			}
		case strings.Contains(a.s, "://"):
			w.dest(k, strings.TrimPrefix(a.s, "git+"), false, "")
		case a.s == "." || strings.HasPrefix(a.s, "./") || strings.HasPrefix(a.s, "/") || strings.HasSuffix(a.s, ".whl") || strings.HasSuffix(a.s, ".tar.gz"):
			local = true
		}
	}
	if k.priv && local {
		w.add(finding(CodePrivilegeEscalation, decision.Confirm,
			"a local package is installed as root, which runs its build scripts as root; install without sudo", k.detail(), riskHigh))
	}
	if k.priv {
		w.add(finding(CodePackageInstall, decision.Notify, "installs Python packages system-wide", k.detail(), riskLow))
	}
}

// sysPackages handles apt, yum, dnf, zypper, pacman, apk, brew, snap,
// rpm and dpkg: repository installs are notices; local or remote package
// files installed as root run their scripts as root.
func (w *walker) sysPackages(k *cmd) *flow {
	s := k.strs()
	for j, a := range k.args[1:] {
		if a.s == "-o" && j+2 < len(k.args) {
			v := k.args[j+2]
			if _, val, ok := strings.Cut(v.s, "="); ok && strings.Contains(strings.ToLower(v.s), "invoke") {
				w.hook(k, field{s: val, dyn: v.dyn}, k.name+" -o")
			}
		}
		if strings.HasPrefix(a.s, "--pipe") && j+2 < len(k.args) && k.name == "rpm" {
			w.hook(k, k.args[j+2], "rpm --pipe")
		}
		if (a.s == "--eval" || a.s == "-E") && j+2 < len(k.args) && strings.HasPrefix(k.name, "rpm") {
			if ev := k.args[j+2].s; strings.Contains(ev, "%(") {
				w.hook(k, field{s: strings.TrimSuffix(strings.SplitN(ev, "%(", 2)[1], ")")}, "rpm --eval")
			}
		}
	}
	install := false
	var pkgFiles []string
	for _, a := range s[1:] {
		switch a {
		case "install", "localinstall", "reinstall", "upgrade", "update", "-i", "-U", "-Uvh", "-ivh", "-Uv", "-iv", "--install", "-S", "-Syu", "add", "-F", "--upgrade":
			install = true
		}
		if strings.HasSuffix(a, ".rpm") || strings.HasSuffix(a, ".deb") || strings.HasSuffix(a, ".snap") || strings.HasSuffix(a, ".pkg.tar.zst") || strings.HasSuffix(a, ".apk") {
			pkgFiles = append(pkgFiles, a)
		}
		if strings.Contains(a, "://") {
			w.dest(k, a, false, "")
		}
	}
	if k.name == "snap" && hasWord(s, "--dangerous") {
		pkgFiles = append(pkgFiles, "snap --dangerous")
	}
	if !install {
		return &flow{data: true}
	}
	if k.priv && len(pkgFiles) > 0 {
		w.add(finding(CodePrivilegeEscalation, decision.Confirm,
			"a package file ("+pkgFiles[0]+") is installed as root, and its scripts run as root; install packages from the distribution's repositories", k.detail(), riskHigh))
		return &flow{data: true}
	}
	w.add(finding(CodePackageInstall, decision.Notify, "installs system packages", k.detail(), riskLow))
	return &flow{data: true}
}

// container handles docker and podman: host mounts of / and privileged
// containers are root on the host; push publishes; prune destroys.
func (w *walker) container(k *cmd) *flow {
	args := k.args[1:]
	i := 0
	for i < len(args) && strings.HasPrefix(args[i].s, "-") {
		if args[i].s == "-H" || args[i].s == "--host" || args[i].s == "--context" || args[i].s == "-c" || args[i].s == "--config" || args[i].s == "-l" || args[i].s == "--log-level" {
			i++
		}
		i++
	}
	if i >= len(args) {
		return &flow{data: true}
	}
	sub := args[i].s
	rest := args[i+1:]
	if sub == "container" || sub == "image" || sub == "volume" || sub == "system" || sub == "network" || sub == "builder" {
		if len(rest) > 0 {
			sub = sub + " " + rest[0].s
			rest = rest[1:]
		}
	}
	s := make([]string, len(rest))
	for j, a := range rest {
		s[j] = a.s
	}
	switch sub {
	case "run", "create", "container run", "container create":
		w.containerRun(k, rest)
	case "push", "image push":
		w.add(finding(CodePublish, decision.Confirm, "this pushes an image to a registry; say why it is needed", k.detail(), riskHigh))
	case "system prune", "image prune", "volume prune", "container prune", "builder prune", "network prune":
		if sub != "image prune" || hasWord(s, "-a") || hasWord(s, "--all") {
			if sub == "system prune" && !hasWord(s, "-a") && !hasWord(s, "--all") && !hasWord(s, "--volumes") {
				break
			}
			w.add(finding(CodeDestructiveCloud, decision.Confirm, k.name+" "+sub+" deletes containers, images or volumes; say why it is needed", k.detail(), riskHigh))
		}
	case "rm", "container rm", "rmi", "image rm", "volume rm":
		for _, a := range rest {
			if a.subst {
				w.add(finding(CodeDestructiveCloud, decision.Confirm, "this removes every listed container or image; say why it is needed", k.detail(), riskHigh))
				break
			}
		}
	case "cp", "container cp":
		for _, a := range rest {
			if !strings.Contains(a.s, ":") && !strings.HasPrefix(a.s, "-") {
				w.ref(k, a, analysis.OpRead, false)
			}
		}
	case "exec", "container exec":
		if hasWord(s, "--privileged") {
			w.add(finding(CodePrivilegeEscalation, w.escalate(k, decision.Confirm), "a privileged exec into a container; say why it is needed", k.detail(), riskHigh))
		}
	}
	return &flow{data: true}
}

func (w *walker) containerRun(k *cmd, rest []field) {
	for j := 0; j < len(rest); j++ {
		a := rest[j].s
		var mount string
		switch {
		case a == "--privileged" || a == "--privileged=true":
			w.add(finding(CodePrivilegeEscalation, decision.Deny, "a privileged container is root on the host; run it unprivileged", k.detail(), riskCompromise))
		case a == "--pid=host" || a == "--pid" && j+1 < len(rest) && rest[j+1].s == "host":
			w.add(finding(CodePrivilegeEscalation, decision.Confirm, "the container shares the host's processes; say why it is needed", k.detail(), riskHigh))
		case strings.HasPrefix(a, "--cap-add") && (strings.Contains(strings.ToUpper(a), "SYS_ADMIN") || strings.Contains(strings.ToUpper(a), "ALL")) ||
			a == "--cap-add" && j+1 < len(rest) && (strings.EqualFold(rest[j+1].s, "SYS_ADMIN") || strings.EqualFold(rest[j+1].s, "ALL")):
			w.add(finding(CodePrivilegeEscalation, decision.Confirm, "the container gets admin capabilities; say why it is needed", k.detail(), riskHigh))
		case a == "-v" || a == "--volume" || a == "--mount":
			if j+1 < len(rest) {
				mount = rest[j+1].s
				j++
			}
		case strings.HasPrefix(a, "-v") && len(a) > 2:
			mount = a[2:]
		case strings.HasPrefix(a, "--volume=") || strings.HasPrefix(a, "--mount="):
			_, mount, _ = strings.Cut(a, "=")
		}
		if mount == "" {
			continue
		}
		src := mount
		if strings.Contains(mount, "source=") || strings.Contains(mount, "src=") {
			for _, part := range strings.Split(mount, ",") {
				if k, v, ok := strings.Cut(part, "="); ok && (k == "source" || k == "src") {
					src = v
				}
			}
		} else {
			src = strings.SplitN(mount, ":", 2)[0]
		}
		c := cleanPath(src)
		switch {
		case c == "/" || strings.HasSuffix(c, "docker.sock"):
			w.add(finding(CodePrivilegeEscalation, decision.Deny,
				"mounting "+src+" into a container gives root on the host; mount only the project directory", k.detail(), riskCompromise))
		case isSystemRoot(c) || c == "/etc" || strings.HasPrefix(c, "/root"):
			w.add(finding(CodePrivilegeEscalation, decision.Confirm,
				"mounting "+src+" into a container exposes the host system; mount only the project directory", k.detail(), riskHigh))
		default:
			w.ref(k, field{s: src}, analysis.OpRead, true)
		}
	}
}

// kubectl: mass deletes, drains, scale to zero, proxies.
func (w *walker) kubectl(k *cmd) *flow {
	s := k.strs()
	if len(s) < 2 {
		return &flow{data: true}
	}
	sub := ""
	var rest []string
	for j := 1; j < len(s); j++ {
		a := s[j]
		if strings.HasPrefix(a, "-") {
			// Global flags before the verb ("--context prod", "-n ns")
			// take a value that is not the verb.
			if kubectlValueFlags[a] {
				j++
			}
			continue
		}
		sub = a
		rest = s[j+1:]
		break
	}
	switch sub {
	case "delete":
		mass := false
		for j, a := range rest {
			switch {
			case a == "--all" || a == "-A" || a == "--all-namespaces" || a == "all":
				mass = true
			case (a == "namespace" || a == "namespaces" || a == "ns" || strings.HasPrefix(a, "namespace/") || a == "pv" || a == "persistentvolume" || a == "node" || a == "nodes" || a == "crd") && j < len(rest):
				mass = true
			}
		}
		if mass {
			w.add(finding(CodeDestructiveCloud, decision.Confirm, "kubectl delete removes a namespace or many resources; say why it is needed", k.detail(), riskHigh))
		}
	case "drain":
		w.add(finding(CodeDestructiveCloud, decision.Confirm, "kubectl drain evicts every pod from a node; say why it is needed", k.detail(), riskHigh))
	case "scale":
		for j, a := range rest {
			if a == "--replicas=0" || a == "--replicas" && j+1 < len(rest) && rest[j+1] == "0" {
				w.add(finding(CodeDestructiveCloud, decision.Confirm, "scaling to zero stops the workload; say why it is needed", k.detail(), riskHigh))
			}
		}
	case "proxy", "port-forward":
		for _, a := range k.args {
			if strings.HasPrefix(a.s, "--www=") || strings.HasPrefix(a.s, "-w=") {
				_, dir, _ := strings.Cut(a.s, "=")
				w.ref(k, field{s: dir, dyn: a.dyn}, analysis.OpRead, true)
			}
		}
		for _, a := range rest {
			if strings.HasPrefix(a, "--address=0.0.0.0") || strings.HasPrefix(a, "--www") {
				w.add(finding(CodeListener, decision.Notify, "kubectl serves the cluster API or files on the network", k.detail(), riskMedium))
				w.addDest(analysis.Dest{Raw: a, Listens: true, Command: "kubectl"})
				break
			}
		}
	}
	return &flow{data: true}
}

// kubectlValueFlags are kubectl's and oc's global flags that take their
// value as the next argument.
var kubectlValueFlags = map[string]bool{
	"-n": true, "--namespace": true, "--context": true, "--kubeconfig": true, "-s": true, "--server": true,
	"--cluster": true, "--user": true, "--token": true, "--as": true, "--as-group": true, "--as-uid": true,
	"--certificate-authority": true, "--client-certificate": true, "--client-key": true, "--request-timeout": true,
	"--cache-dir": true, "--tls-server-name": true, "--username": true, "--password": true, "-v": true, "--v": true,
	"--log-dir": true, "--log-file": true, "--profile": true, "--profile-output": true, "--vmodule": true,
}

// cloud handles aws, gcloud, az, terraform and pulumi.
func (w *walker) cloud(k *cmd) *flow {
	s := k.strs()
	w.credentialStores(k, s)
	for _, a := range k.args[1:] {
		if strings.HasPrefix(a.s, "file://") || strings.HasPrefix(a.s, "fileb://") {
			_, f, _ := strings.Cut(a.s, "://")
			w.ref(k, field{s: f, dyn: a.dyn}, analysis.OpRead, false)
		}
	}
	flag := func(why string) {
		w.add(finding(CodeDestructiveCloud, decision.Confirm, why+"; say why it is needed", k.detail(), riskHigh))
	}
	switch k.name {
	case "terraform", "tofu", "terragrunt":
		if hasWord(s, "destroy") {
			flag("terraform destroy deletes infrastructure")
		} else if hasWord(s, "apply") && (hasWord(s, "-auto-approve") || hasWord(s, "--auto-approve")) {
			flag("terraform apply -auto-approve changes infrastructure without review")
		}
	case "pulumi":
		if hasWord(s, "destroy") {
			flag("pulumi destroy deletes infrastructure")
		}
	case "aws":
		s = awsCommand(s)
		if len(s) > 2 && s[1] == "s3" {
			switch s[2] {
			case "rm":
				if hasWord(s, "--recursive") {
					flag("aws s3 rm --recursive deletes a bucket's objects")
				}
			case "rb":
				if hasWord(s, "--force") {
					flag("aws s3 rb --force deletes a bucket and its objects")
				}
			case "cp", "sync", "mv":
				if s[2] == "sync" && hasWord(s, "--delete") && !hasWord(s, "--dryrun") {
					flag("aws s3 sync --delete removes every object missing from the source; an empty or wrong source empties the destination")
				}
				w.awsCopy(k, s[3:])
			}
			return &flow{data: true}
		}
		for _, a := range s[1:] {
			if strings.HasPrefix(a, "delete-") || strings.HasPrefix(a, "terminate-") || a == "deregister-image" || strings.HasPrefix(a, "purge-") {
				flag("aws " + a + " destroys cloud resources")
				break
			}
		}
	case "gcloud", "az", "doctl", "linode-cli", "hcloud", "oci":
		for _, a := range s[1:] {
			if a == "delete" || a == "destroy" || strings.HasPrefix(a, "delete-") {
				flag(k.name + " " + a + " destroys cloud resources")
				break
			}
		}
	}
	return &flow{data: true}
}

// awsCommand drops the aws CLI's global options ("--profile prod",
// "--region x") that may precede the service, keeping the program name
// first.
func awsCommand(s []string) []string {
	out := []string{s[0]}
	for j := 1; j < len(s); j++ {
		a := s[j]
		if len(out) == 1 && strings.HasPrefix(a, "--") {
			if awsValueFlags[a] {
				j++
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

var awsValueFlags = map[string]bool{
	"--profile": true, "--region": true, "--endpoint-url": true, "--output": true, "--query": true,
	"--ca-bundle": true, "--cli-read-timeout": true, "--cli-connect-timeout": true, "--color": true,
	"--cli-binary-format": true,
}

func (w *walker) awsCopy(k *cmd, args []string) {
	var local []string
	dest := ""
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if strings.HasPrefix(a, "s3://") {
			dest = a
			continue
		}
		local = append(local, a)
		w.ref(k, field{s: a}, analysis.OpRead, true)
	}
	if dest != "" && len(local) > 0 {
		w.dest(k, dest, true, dataOf(local))
		w.exfilTransfer(k.detail(), local, dest)
	}
}

// dbClient handles mysql, psql, sqlite3, mongo, redis-cli and cqlsh:
// the host is a destination, the SQL is checked for destructive
// statements, and client escapes (\!, .shell, system) are hooks.
func (w *walker) dbClient(k *cmd) *flow {
	p := operands(k, spec{short: "hPuUpdDceSfF", long: []string{"--host", "--port", "--user", "--username", "--password", "--database", "--dbname", "--command", "--execute", "--eval", "--file", "--init-command", "-cmd", "--socket"}})
	var stmts []string
	for _, v := range p.vals("-e", "--execute", "-c", "--command", "--eval", "--init-command") {
		if k.name == "redis-cli" && v.s != "" {
			continue
		}
		stmts = append(stmts, v.s)
	}
	if host, ok := p.val("-h", "--host"); ok && k.name != "sqlite3" {
		if host.s != "localhost" && host.s != "127.0.0.1" {
			w.addDest(analysis.Dest{Raw: host.s, Scheme: k.name, Host: strings.ToLower(host.s), Command: k.name})
		}
	}
	for _, f := range p.vals("-f", "--file") {
		w.ref(k, f, analysis.OpRead, false)
	}
	switch k.name {
	case "sqlite3", "sqlite":
		for j, a := range k.args[1:] {
			if a.s == "-cmd" && j+2 < len(k.args) {
				stmts = append(stmts, k.args[j+2].s)
			}
		}
		var pos []field
		for _, a := range k.args[1:] {
			if !strings.HasPrefix(a.s, "-") {
				pos = append(pos, a)
			}
		}
		if len(pos) > 0 {
			w.ref(k, pos[0], analysis.OpWrite, false)
		}
		for _, a := range pos[min(1, len(pos)):] {
			stmts = append(stmts, a.s)
		}
	case "redis-cli":
		var pos []string
		for _, a := range p.pos {
			pos = append(pos, a.s)
		}
		if len(pos) > 0 {
			stmts = append(stmts, strings.Join(pos, " "))
		}
	case "psql", "mysql", "mariadb", "mongo", "mongosh", "cqlsh":
		for _, a := range p.pos {
			if strings.Contains(a.s, "://") {
				_, host, _ := splitURL(a.s)
				if host != "localhost" && host != "127.0.0.1" {
					w.dest(k, a.s, false, "")
				}
			}
		}
	}
	if in := k.c.stdin; in != nil && in.textOK {
		stmts = append(stmts, in.text)
	}
	for _, sql := range stmts {
		w.clientEscapes(k, sql)
		if code, ok := DestructiveSQL(sql); ok {
			w.add(finding(CodeDestructiveSQL, decision.Confirm,
				"this runs a destructive database statement ("+code+"); say why it is needed", k.detail(), riskHigh))
		}
	}
	return &flow{data: true}
}

// clientEscapes finds shell escapes and file access in database client
// commands (\! sh, .shell sh, system sh, COPY … PROGRAM).
func (w *walker) clientEscapes(k *cmd, text string) {
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		ll := strings.ToLower(l)
		switch {
		case strings.HasPrefix(l, `\!`):
			w.hook(k, field{s: strings.TrimSpace(l[2:])}, k.name+` \!`)
		case strings.HasPrefix(ll, "system ") && (k.name == "mysql" || k.name == "mariadb"):
			w.hook(k, field{s: strings.TrimSpace(l[7:])}, k.name+" system")
		case strings.HasPrefix(ll, ".shell ") || strings.HasPrefix(ll, ".system "):
			_, rest, _ := strings.Cut(l, " ")
			w.hook(k, field{s: strings.TrimSpace(rest)}, k.name+" .shell")
		case strings.HasPrefix(ll, ".load "):
			w.add(finding(CodeLibraryLoad, w.escalate(k, decision.Confirm), k.name+" loads an extension library; say why it is needed", k.detail(), riskHigh))
		case strings.HasPrefix(ll, ".output ") || strings.HasPrefix(ll, ".once ") || strings.HasPrefix(ll, `\o `):
			f := strings.TrimSpace(l[strings.IndexByte(l, ' ')+1:])
			w.ref(k, field{s: f}, analysis.OpWrite, false)
			w.sideWrite(k, field{s: f}, k.name+" output")
		case strings.HasPrefix(ll, ".read ") || strings.HasPrefix(ll, ".import ") || strings.HasPrefix(ll, `\i `):
			parts := strings.Fields(l)
			if len(parts) > 1 {
				w.ref(k, field{s: parts[1]}, analysis.OpRead, false)
				w.sideRead(k, field{s: parts[1]}, k.name+" "+parts[0])
			}
		}
		if i := strings.Index(ll, "program '"); i >= 0 && strings.Contains(ll, "copy") {
			rest := l[i+len("program '"):]
			if j := strings.IndexByte(rest, '\''); j >= 0 {
				w.hook(k, field{s: rest[:j]}, "COPY … PROGRAM")
			}
		}
		if strings.Contains(ll, "load_file(") || strings.Contains(ll, "pg_read_file(") || strings.Contains(ll, "readfile(") {
			w.add(finding(CodeArbitraryFileRead, w.escalate(k, decision.Confirm), "the query reads a server file; say why it is needed", k.detail(), riskMedium))
		}
		if strings.Contains(ll, "into outfile") || strings.Contains(ll, "into dumpfile") || strings.Contains(ll, "writefile(") {
			w.add(finding(CodeArbitraryFileWrite, w.escalate(k, decision.Confirm), "the query writes a server file; say why it is needed", k.detail(), riskMedium))
		}
		if strings.HasPrefix(ll, "config set dir") || strings.HasPrefix(ll, "config set dbfilename") {
			w.add(finding(CodeArbitraryFileWrite, w.escalate(k, decision.Confirm), "redis is told to write its database to a chosen file; say why it is needed", k.detail(), riskHigh))
		}
	}
}
