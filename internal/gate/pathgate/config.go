package pathgate

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// Config is the path gate's policy. Every list holds doublestar globs in
// one of four forms:
//
//	"/etc/shadow", "/proc/*/environ"  absolute: matched against the canonical path
//	"~/.ssh/**", "$HOME/.netrc"       home-anchored: "~" is the Env.Home of each call,
//	                                  so one compiled gate serves every user
//	"./secrets/**"                    workspace-anchored: relative to Env.Workspace
//	".env", "*.pem", ".git/hooks/**"  unanchored: matched at any depth ("**/" is implied)
//
// Matching ignores letter case unless CaseSensitive is set: on a
// case-insensitive file system ".ENV" is the same file as ".env".
//
// In the sensitive lists an absolute "<dir>/**" entry does not
// apply when dir is the user's own home or holds the workspace: "/root/**"
// keeps root's files from other users, not from an agent running as root.
//
// Paths from the shell may hold wildcards. An entry anchored at a known
// place is taken to match whatever a wildcard could expand to ("/etc/*"
// reaches /etc/shadow); an unanchored entry only matches a wildcard at least
// as specific as itself ("*.pem" does, "*" does not), and for Protected a
// wildcard also counts when the file it could name is there.
//
// Compile uses the actions exactly as given; the zero Action is Allow, so
// start from Default and change what you need.
type Config struct {
	// Sensitive files may be neither read nor written.
	Sensitive []string
	// ReadSensitive files may not be read but may be written, subject to
	// the location rules: root's home, whose files leak when read but are
	// an ordinary system write when written.
	ReadSensitive []string
	// WriteSensitive files may be read but not written, deleted or
	// chmod-ed: a git hook runs code.
	WriteSensitive []string
	// SensitiveExceptions are never sensitive, even when matched above
	// (".env.example", "*.pub").
	SensitiveExceptions []string
	// Protected files may not be deleted, nor overwritten when they exist.
	// Creating one is fine; an in-place edit (the Edit family of tools,
	// apply_patch) only notifies.
	Protected []string
	// WriteScope lists directories besides the workspace where writes and
	// deletes are fine (temporary directories by default).
	WriteScope []string
	// TempDir, when set, is added to WriteScope and to the temporary
	// class. The caller passes os.TempDir(); Default leaves it empty so
	// that the gate stays a function of its configuration.
	TempDir string
	// System lists the system locations; SystemExceptions the files in
	// them that are fine to write (/dev/null).
	System           []string
	SystemExceptions []string
	// Persistence lists files and directories whose change makes code
	// run later (shell rc files, autostart, systemd, cron, launchd, the
	// preload list, boot and package sources) or changes
	// who may log in and where names resolve: a write there asks
	// PersistenceAction.
	Persistence       []string
	PersistenceAction decision.Action
	// AdminAreas lists places inside system trees that administrators
	// fill by hand (/usr/local, /var/www): writes there are outside the
	// workspace, not system writes.
	AdminAreas []string
	// CaseSensitive turns off case-insensitive matching.
	CaseSensitive bool

	// OutsideWrite is for a write, delete or chmod outside the workspace
	// and WriteScope.
	OutsideWrite decision.Action
	// SystemWrite is for a write, delete or chmod in a system location. A
	// recursive delete of a whole system tree (a path at most two levels
	// deep, such as /usr or /var/lib, or a wildcard right below one) is
	// always denied.
	SystemWrite decision.Action
	// SensitiveRead and SensitiveWrite are for sensitive files.
	SensitiveRead  decision.Action
	SensitiveWrite decision.Action
	// ProtectedAction is for deleting or overwriting a protected file.
	ProtectedAction decision.Action
	// DynamicWrite is for a write or delete whose target is only known at
	// run time and may land anywhere.
	DynamicWrite decision.Action
	// SymlinkEscape is for a write through a link inside the workspace
	// that leads outside it (and outside WriteScope).
	SymlinkEscape decision.Action
}

// Default returns the recommended lists and actions.
//
// Choices worth knowing: everything under ~/.ssh is sensitive except public
// keys (*.pub) and known_hosts; reading ~/.ssh/config is refused as well,
// since it maps the hosts and keys an attacker would go for next. .git/config
// is sensitive because remotes may carry tokens; .git/hooks may be read but
// not written. /etc/passwd is world-readable and not sensitive; writing it is
// a system write. Secret-looking JSON names are limited to credentials.json,
// service-account*.json and client_secret*.json, which keeps "secrets.json"
// fixtures and the like out of the net.
func Default() Config {
	return Config{
		Sensitive: []string{
			// Environment files.
			".env", ".env.*",
			// Private keys and key stores.
			"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk",
			"*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx",
			// Per-user credentials.
			"~/.ssh/**",
			"~/.aws/**", "~/.azure/**", "~/.config/gcloud/**", "~/.kube/**",
			"~/.docker/config.json", "~/.npmrc", ".npmrc", "~/.pypirc", ".pypirc",
			"~/.netrc", ".netrc", "~/.git-credentials", ".git-credentials",
			"~/.gnupg/**", "~/.password-store/**", "~/.config/gh/hosts.yml",
			"~/.terraform.d/credentials.tfrc.json", "~/.vault-token",
			"~/.config/op/**", "~/.local/share/keyrings/**",
			// Repository secrets.
			".git/config",
			// Shell and client histories.
			"~/.bash_history", "~/.zsh_history", "~/.mysql_history", "~/.psql_history",
			"~/.python_history", "~/.node_repl_history", "~/.sqlite_history",
			// Credential files by well-known name.
			"credentials.json", "service-account*.json", "client_secret*.json",
			// Sentinel's own data: policies, audit, approvals, vault.
			"~/.sentinel/**",
			// System secrets.
			"/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-",
			"/etc/sudoers", "/etc/sudoers.d/**", "/etc/ssh/ssh_host_*_key",
			"/proc/*/environ", "/proc/*/task/*/environ", "/proc/*/mem",
			"/root/.ssh/**", "/var/run/secrets/**", "/run/secrets/**",
		},
		ReadSensitive: []string{"/root/**"},
		WriteSensitive: []string{
			".git/hooks/**", ".husky/**",
		},
		SensitiveExceptions: []string{
			".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults",
			"*.pub", "~/.ssh/known_hosts",
			// Certificates are public; only their keys are secret.
			"*cert.pem", "*certs.pem", "*chain.pem", "ca.pem", "*-ca.pem", "ca-bundle.pem",
			"/etc/ssl/certs/**", "/etc/pki/ca-trust/**", "/etc/ca-certificates/**",
			"/usr/share/ca-certificates/**", "/usr/local/share/ca-certificates/**",
		},
		Protected: []string{"package.json", "MEMORY.md", "AGENTS.md", "SOUL.md"},
		WriteScope: []string{
			"/tmp/**", "/var/tmp/**", "/dev/shm/**",
			"/private/tmp/**", "/private/var/tmp/**", "/private/var/folders/**", "/var/folders/**",
		},
		// System locations are where the operating system and its package
		// manager live: a change there affects every user and may stop the
		// machine from booting. Locations an administrator fills by hand
		// (/usr/local, /opt, /srv, /var/www, /mnt, /media) are outside the
		// workspace but not the system's.
		System: []string{
			"/etc/**", "/usr/**", "/bin/**", "/sbin/**", "/lib/**", "/lib32/**", "/lib64/**", "/libx32/**",
			"/boot/**", "/var/**", "/root/**", "/sys/**", "/proc/**", "/dev/**", "/run/**",
			"/snap/**", "/nix/**",
			"/System/**", "/Library/**", "/Applications/**", "/private/etc/**", "/private/var/**",
		},
		SystemExceptions: []string{
			"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty", "/dev/zero",
			"/dev/urandom", "/dev/random", "/dev/fd/*", "/run/user/**",
		},
		Persistence: []string{
			"~/.bashrc", "~/.bash_profile", "~/.bash_login", "~/.profile", "~/.bash_logout",
			"~/.zshrc", "~/.zprofile", "~/.zshenv", "~/.zlogin", "~/.config/fish/**", "~/.kshrc", "~/.cshrc", "~/.tcshrc",
			"~/.config/autostart/**", "~/.config/systemd/**", "~/.local/share/systemd/**",
			"~/Library/LaunchAgents/**", "/Library/LaunchAgents/**", "/Library/LaunchDaemons/**",
			"~/.ssh/rc", "~/.xinitrc", "~/.xprofile", "~/.xsession",
			"/etc/profile", "/etc/profile.d/**", "/etc/bash.bashrc", "/etc/bashrc", "/etc/zsh/**", "/etc/environment",
			"/etc/systemd/**", "/lib/systemd/**", "/usr/lib/systemd/**", "/etc/init.d/**", "/etc/rc.local", "/etc/init/**",
			"/etc/cron*", "/etc/cron*/**", "/var/spool/cron/**", "/etc/anacrontab",
			"/etc/ld.so.preload", "/etc/ld.so.conf", "/etc/ld.so.conf.d/**",
			"/etc/xdg/autostart/**", "/etc/update-motd.d/**", "/etc/apt/apt.conf.d/**",
			// Who may log in, and where names resolve.
			"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group",
			"/etc/pam.d/**", "/etc/security/**", "/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/**",
			// Boot and kernel code, and where packages come from.
			"/boot/**", "/lib/modules/**", "/usr/lib/modules/**",
			"/etc/apt/sources.list", "/etc/apt/sources.list.d/**", "/etc/yum.repos.d/**", "/etc/pacman.conf",
		},
		PersistenceAction: decision.Confirm,
		AdminAreas:        []string{"/usr/local/**", "/var/www/**", "/var/cache/**", "/var/backups/**", "/var/opt/**"},
		OutsideWrite:      decision.Confirm,
		SystemWrite:       decision.Confirm,
		SensitiveRead:     decision.Deny,
		SensitiveWrite:    decision.Deny,
		ProtectedAction:   decision.Deny,
		DynamicWrite:      decision.Notify,
		SymlinkEscape:     decision.Deny,
	}
}

// tempGlobs are the temporary directories (the Temp class).
func tempGlobs() []string {
	return []string{
		"/tmp/**", "/var/tmp/**", "/dev/shm/**",
		"/private/tmp/**", "/private/var/tmp/**", "/private/var/folders/**", "/var/folders/**",
	}
}

// anchor says what a compiled pattern is relative to.
type anchor uint8

const (
	anchorAbs       anchor = iota // absolute path
	anchorHome                    // relative to Env.Home
	anchorWorkspace               // relative to the workspace
	anchorAny                     // any depth ("**/" implied)
)

// pattern is one compiled glob.
type pattern struct {
	src    string // as configured, for details
	anchor anchor
	// glob is matched against the canonical path (anchorAbs, anchorAny)
	// or against the part below the home or workspace.
	glob string
	// alts are glob with braces expanded, split into components, for
	// intersecting with wildcard paths.
	alts [][]string
	// exact, base and suffix are fast paths for the common shapes: a
	// literal path, "**/name" and "**/*.ext".
	exact        bool
	base, suffix string
	// tree is the directory an absolute "<dir>/**" pattern covers. In the
	// sensitive lists such a pattern is skipped when the directory is the
	// user's own home or holds the workspace: "/root/**" guards root's
	// files from other users, not from an agent that runs as root.
	tree    string
	ownSkip bool
	// lit is the glob's literal prefix (up to its first wildcard, without
	// a trailing slash): a path that does not start with it cannot match,
	// which spares most glob matches on the hot path.
	lit string
	// names are the literal last components of the alternatives, in the
	// configured case, for looking a protected file up by name.
	names []string
}

// maxAlternatives bounds brace expansion of one pattern.
const maxAlternatives = 256

func compilePattern(src string, fold bool) (pattern, error) {
	s := strings.TrimSpace(src)
	if s == "" {
		return pattern{}, errors.New("empty pattern")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return pattern{}, errors.New("pattern contains a NUL byte")
	}
	if len(s) > MaxPathLen {
		return pattern{}, ErrTooLong
	}
	if fold {
		s = strings.ToLower(s)
	}
	p := pattern{src: src}
	for _, h := range [...]string{"~", "$home", "${home}", "$HOME", "${HOME}"} {
		if s == h {
			s = h + "/"
		}
		if rest, ok := strings.CutPrefix(s, h+"/"); ok {
			p.anchor, p.glob = anchorHome, rest
			break
		}
	}
	if p.glob == "" {
		switch {
		case p.anchor == anchorHome:
			// "~" or "~/": the home directory itself.
		case strings.HasPrefix(s, "/"):
			p.anchor, p.glob = anchorAbs, s
		case strings.HasPrefix(s, "./"):
			p.anchor, p.glob = anchorWorkspace, strings.TrimPrefix(s, "./")
		case strings.HasPrefix(s, "**"):
			p.anchor, p.glob = anchorAny, s
		default:
			p.anchor, p.glob = anchorAny, "**/"+s
		}
	}
	if p.anchor != anchorAbs && p.glob != "" {
		if strings.HasPrefix(p.glob, "/") {
			return pattern{}, errors.New("a double slash after the anchor matches nothing")
		}
		if cleaned := filepath.Clean(p.glob); cleaned != strings.TrimSuffix(p.glob, "/") || strings.HasPrefix(cleaned, "..") {
			return pattern{}, errors.New(`pattern must be clean (no ".", ".." or empty parts)`)
		}
	}
	if p.anchor == anchorAbs && filepath.Clean(p.glob) != p.glob {
		return pattern{}, errors.New(`pattern must be clean (no ".", ".." or empty parts)`)
	}
	if !doublestar.ValidatePattern(p.glob) {
		return pattern{}, errors.New("invalid glob")
	}
	alts, err := expandBraces(p.glob, maxAlternatives)
	if err != nil {
		return pattern{}, err
	}
	for _, a := range alts {
		p.alts = append(p.alts, splitComps(a))
	}
	p.lit = p.glob
	if i := strings.IndexAny(p.lit, `*?[{\`); i >= 0 {
		p.lit = p.lit[:i]
	}
	p.lit = strings.TrimSuffix(p.lit, "/")
	if dir, ok := strings.CutSuffix(p.glob, "/**"); ok && p.anchor == anchorAbs && !hasMeta(dir) && dir != "" {
		p.tree = dir
	}
	switch rest, ok := strings.CutPrefix(p.glob, "**/"); {
	case !hasMeta(p.glob):
		p.exact = true
	case p.anchor == anchorAny && ok && !strings.Contains(rest, "/"):
		if !hasMeta(rest) {
			p.base = rest
		} else if strings.HasPrefix(rest, "*") && !hasMeta(rest[1:]) && rest != "*" {
			p.suffix = rest[1:]
		}
	}
	if p.anchor == anchorAny {
		raw, err := expandBraces(strings.TrimSpace(src), maxAlternatives)
		if err == nil {
			for _, a := range raw {
				n := a[strings.LastIndexByte(a, '/')+1:]
				if n != "" && !hasMeta(n) {
					p.names = append(p.names, n)
				}
			}
		}
	}
	return p, nil
}

// compileList compiles one list, adding a problem per bad entry.
func compileList(name string, list []string, fold bool, errs *[]error) []pattern {
	out := make([]pattern, 0, len(list))
	for i, s := range list {
		p, err := compilePattern(s, fold)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("%s[%d] %q: %w", name, i, s, err))
			continue
		}
		out = append(out, p)
	}
	return out
}

// Compile validates cfg and prepares the gate. Every bad glob and action is
// reported, each naming its list and position.
func Compile(cfg Config) (*Gate, error) {
	var errs []error
	fold := !cfg.CaseSensitive
	g := &Gate{cfg: cfg, fold: fold}
	g.sensitive = compileList("Sensitive", cfg.Sensitive, fold, &errs)
	g.readSensitive = compileList("ReadSensitive", cfg.ReadSensitive, fold, &errs)
	g.writeSensitive = compileList("WriteSensitive", cfg.WriteSensitive, fold, &errs)
	for _, l := range [][]pattern{g.sensitive, g.readSensitive, g.writeSensitive} {
		for i := range l {
			l[i].ownSkip = l[i].tree != ""
		}
	}
	g.exceptions = compileList("SensitiveExceptions", cfg.SensitiveExceptions, fold, &errs)
	g.protected = compileList("Protected", cfg.Protected, fold, &errs)
	g.scope = compileList("WriteScope", cfg.WriteScope, fold, &errs)
	g.system = compileList("System", cfg.System, fold, &errs)
	g.systemExceptions = compileList("SystemExceptions", cfg.SystemExceptions, fold, &errs)
	g.adminAreas = compileList("AdminAreas", cfg.AdminAreas, fold, &errs)
	g.persistence = compileList("Persistence", cfg.Persistence, fold, &errs)
	g.temp = compileList("temp", tempGlobs(), fold, &errs)
	if cfg.TempDir != "" {
		t := cfg.TempDir
		if !filepath.IsAbs(t) || strings.ContainsAny(t, "*?[]{}\\\x00") {
			errs = append(errs, fmt.Errorf("TempDir %q must be an absolute path without glob characters", t))
		} else {
			glob := strings.TrimSuffix(filepath.Clean(t), "/") + "/**"
			g.scope = append(g.scope, compileList("TempDir", []string{glob}, fold, &errs)...)
			g.temp = append(g.temp, compileList("TempDir", []string{glob}, fold, &errs)...)
		}
	}
	for _, a := range []struct {
		name string
		v    decision.Action
	}{
		{"OutsideWrite", cfg.OutsideWrite}, {"SystemWrite", cfg.SystemWrite},
		{"SensitiveRead", cfg.SensitiveRead}, {"SensitiveWrite", cfg.SensitiveWrite},
		{"ProtectedAction", cfg.ProtectedAction}, {"DynamicWrite", cfg.DynamicWrite},
		{"SymlinkEscape", cfg.SymlinkEscape},
	} {
		if a.v < decision.Allow || a.v > decision.Deny {
			errs = append(errs, fmt.Errorf("%s: invalid action %d", a.name, int(a.v)))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("path gate configuration: %w", errors.Join(errs...))
	}
	return g, nil
}

// splitComps splits an absolute or relative glob into its components.
func splitComps(s string) []string {
	s = strings.Trim(s, "/")
	if s == "" {
		return nil
	}
	return strings.Split(s, "/")
}
