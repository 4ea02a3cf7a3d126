package shell

import (
	"path"
	"strings"
)

// loc classifies where a path points, relative to the workspace the
// command runs in. The analyser does not know the workspace root; a
// relative path that does not climb out is taken to be inside it.
type loc int

const (
	locWorkspace loc = iota
	locDynamic       // starts with an unresolved part
	locParent        // ../ climbs out of the working directory
	locHome          // ~/…
	locTmp           // /tmp, /var/tmp, /dev/shm
	locSystem        // the operating system's own trees
	locDevice        // /dev/…
	locOther         // any other absolute path: other homes, /root, data mounts
)

var systemTops = map[string]bool{
	"etc": true, "usr": true, "opt": true, "var": true, "srv": true, "lib": true, "lib32": true,
	"lib64": true, "libx32": true, "boot": true, "bin": true, "sbin": true, "proc": true, "sys": true,
	"run": true, "mnt": true, "media": true, "snap": true, "nix": true, "Library": true,
	"System": true, "Applications": true, "private": true, "Volumes": true, "cores": true,
}

func classify(p string) loc {
	switch {
	case p == "" || strings.HasPrefix(p, "*"):
		return locDynamic
	case p == "~" || strings.HasPrefix(p, "~/"):
		return locHome
	case strings.HasPrefix(p, "~"):
		return locOther // ~user
	case p == ".." || strings.HasPrefix(p, "../"):
		return locParent
	case !strings.HasPrefix(p, "/"):
		return locWorkspace
	}
	c := cleanPath(p)
	if c == "/" {
		return locSystem
	}
	top, _, _ := strings.Cut(c[1:], "/")
	switch {
	case top == "tmp" || strings.HasPrefix(c, "/var/tmp") || strings.HasPrefix(c, "/dev/shm"):
		return locTmp
	case top == "dev":
		return locDevice
	case top == "root" || top == "home" || top == "Users":
		return locOther
	case systemTops[top]:
		return locSystem
	}
	return locOther
}

// outsideWorkspace reports whether a statically known path lies outside
// the working directory.
func outsideWorkspace(p string) bool {
	switch classify(p) {
	case locWorkspace, locDynamic:
		return false
	}
	return true
}

// topSystemDirs are the directories whose recursive removal or permission
// change wrecks the machine.
var topSystemDirs = map[string]bool{
	"/etc": true, "/usr": true, "/var": true, "/boot": true, "/bin": true, "/sbin": true,
	"/lib": true, "/lib32": true, "/lib64": true, "/libx32": true, "/opt": true, "/root": true,
	"/dev": true, "/proc": true, "/sys": true, "/home": true, "/srv": true, "/snap": true,
	"/Users": true, "/System": true, "/Library": true, "/Applications": true, "/private": true,
}

// isRootTarget reports whether deleting p recursively destroys the
// system, the home directory or the working tree: /, /*, ~, ~/*, ., ..,
// and the top-level system directories and their /* globs.
func isRootTarget(p string) bool {
	s := strings.TrimSpace(p)
	for strings.HasSuffix(s, "/*") {
		s = strings.TrimSuffix(s, "/*")
		if s == "" {
			return true
		}
	}
	if s == "*" || s == "" {
		return false
	}
	c := cleanPath(s)
	switch c {
	case "/", "~", ".", "..", "~/":
		return true
	}
	if strings.HasPrefix(s, "//") && cleanPath(s) == "/" {
		return true
	}
	return topSystemDirs[c]
}

// isHomeOrRoot reports whether p is / or ~ (or their /* globs), the roots
// whose recursive permission change is always a storm.
func isSystemRoot(p string) bool {
	s := strings.TrimSuffix(strings.TrimSpace(p), "/*")
	if s == "" {
		return true
	}
	c := cleanPath(s)
	return c == "/" || c == "~" || topSystemDirs[c]
}

// blockDevice reports whether p is a disk or partition device.
func blockDevice(p string) bool {
	c := cleanPath(p)
	if !strings.HasPrefix(c, "/dev/") {
		return false
	}
	d := c[len("/dev/"):]
	for _, pre := range []string{"sd", "hd", "vd", "xvd", "nvme", "mmcblk", "disk", "rdisk", "mapper/", "md", "dm-", "loop", "nbd", "sr"} {
		if strings.HasPrefix(d, pre) && len(d) > len(pre) {
			return true
		}
	}
	return d == "root" || strings.HasPrefix(d, "disk/by-")
}

// rawDevice reports a device whose content is a whole disk or the
// machine's memory: reading it yields every file on the disk (keys,
// /etc/shadow) or every process's secrets, past all path rules. CD-ROM
// and loop devices, usually images a user works with, are not included.
func rawDevice(p string) bool {
	c := cleanPath(p)
	if !strings.HasPrefix(c, "/dev/") {
		return false
	}
	d := c[len("/dev/"):]
	switch d {
	case "mem", "kmem", "port", "root":
		return true
	}
	for _, pre := range []string{"sd", "hd", "vd", "xvd", "nvme", "mmcblk", "disk", "rdisk", "mapper/", "dm-", "md"} {
		if strings.HasPrefix(d, pre) && len(d) > len(pre) {
			return true
		}
	}
	return false
}

// historyFile reports whether p is a shell history file.
func historyFile(p string) bool {
	b, _ := baseName(cleanPath(p))
	switch b {
	case ".bash_history", ".zsh_history", ".history", ".sh_history", ".ash_history", ".zhistory", ".mysql_history", ".psql_history", ".python_history", ".node_repl_history", "fish_history":
		return true
	}
	return false
}

// logFile reports whether p is under /var/log.
func logFile(p string) bool {
	c := cleanPath(p)
	return c == "/var/log" || strings.HasPrefix(c, "/var/log/") || strings.HasPrefix(c, "/private/var/log/")
}

// persistencePath reports whether writing p makes code run later: cron,
// shell start-up files, authorized_keys, services, launchd, git hooks,
// the dynamic loader's preload list.
func persistencePath(p string) (string, bool) {
	c := cleanPath(p)
	b, _ := baseName(c)
	switch {
	case strings.HasPrefix(c, "/etc/cron") || strings.HasPrefix(c, "/var/spool/cron") || c == "/etc/crontab" || strings.HasPrefix(c, "/var/at/") || strings.HasPrefix(c, "/var/spool/at"):
		return "a cron or at job", true
	case (strings.HasPrefix(c, "~/") || strings.HasPrefix(c, "/root/") || strings.HasPrefix(c, "/home/") || strings.HasPrefix(c, "/Users/")) && rcFiles[b]:
		return "a shell start-up file", true
	case strings.HasPrefix(c, "/etc/profile") || c == "/etc/bash.bashrc" || c == "/etc/bashrc" || c == "/etc/zshrc" || c == "/etc/zsh/zshrc" || c == "/etc/zshenv" || c == "/etc/environment":
		return "a system shell start-up file", true
	case b == "authorized_keys" || b == "authorized_keys2":
		return "SSH authorized_keys", true
	case strings.HasPrefix(c+"/", "/etc/systemd/") || strings.HasPrefix(c, "/lib/systemd/system") || strings.HasPrefix(c, "/usr/lib/systemd/system") || strings.Contains(c+"/", "/.config/systemd/"):
		return "a systemd unit", true
	case c == "/etc/rc.local" || strings.HasPrefix(c+"/", "/etc/init.d/") || strings.HasPrefix(c, "/etc/rc") && strings.Contains(c+"/", ".d/"):
		return "an init script", true
	case strings.Contains(c+"/", "/LaunchAgents/") || strings.Contains(c+"/", "/LaunchDaemons/"):
		return "a launchd job", true
	case c == "/etc/ld.so.preload":
		return "the dynamic loader's preload list", true
	case strings.Contains(c+"/", ".git/hooks/") && !strings.HasSuffix(c, ".sample"):
		return "a git hook", true
	case strings.Contains(c+"/", "/.config/autostart/") || strings.HasPrefix(c+"/", "/etc/xdg/autostart/"):
		return "a desktop autostart entry", true
	case strings.HasPrefix(c, "/etc/update-motd.d/"):
		return "a login message script", true
	case b == ".lessfilter" || b == ".xinitrc" || b == ".xprofile" || b == ".xsession":
		return "a start-up file", true
	}
	return "", false
}

var rcFiles = map[string]bool{
	".bashrc": true, ".bash_profile": true, ".bash_login": true, ".bash_logout": true, ".profile": true,
	".zshrc": true, ".zprofile": true, ".zshenv": true, ".zlogin": true, ".zlogout": true,
	".kshrc": true, ".cshrc": true, ".tcshrc": true, ".login": true, ".mkshrc": true,
	"config.fish": true,
}

// systemWriteTarget classifies writes to account databases, sudoers,
// boot files, the loader configuration and system binaries. notify is
// set for files where the write is usually legitimate (/etc/hosts).
func systemWriteTarget(p string) (what string, notify, ok bool) {
	c := cleanPath(p)
	switch {
	case c == "/etc/passwd" || c == "/etc/shadow" || c == "/etc/group" || c == "/etc/gshadow" || c == "/etc/master.passwd":
		return "the account database", false, true
	case c == "/etc/sudoers" || strings.HasPrefix(c, "/etc/sudoers.d") || c == "/etc/doas.conf" || strings.HasPrefix(c, "/etc/polkit-1/"):
		return "sudo rules", false, true
	case strings.HasPrefix(c, "/etc/pam.d/") || strings.HasPrefix(c, "/etc/security/"):
		return "authentication rules", false, true
	case c == "/boot" || strings.HasPrefix(c, "/boot/"):
		return "boot files", false, true
	case strings.HasPrefix(c, "/etc/ld.so.") || c == "/etc/ld.so.preload":
		return "the dynamic loader configuration", false, true
	case strings.HasPrefix(c, "/etc/ssh/sshd_config"):
		return "the SSH server configuration", false, true
	case c == "/etc/hosts" || c == "/etc/resolv.conf":
		return "name resolution", true, true
	}
	for _, d := range []string{"/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/lib/", "/lib64/", "/lib32/", "/usr/libexec/"} {
		if strings.HasPrefix(c+"/", d) {
			return "system programs or libraries", false, true
		}
	}
	return "", false, false
}

// frontBinDirs are directories that come before the system's own on a
// usual PATH: a program put there under a system command's name runs
// instead of it for everyone who types the name.
var frontBinDirs = []string{"/usr/local/bin", "/usr/local/sbin", "/opt/homebrew/bin", "~/bin", "~/.local/bin"}

// authPrograms ask for passwords or grant rights: a copy in front of them
// on PATH collects the password or the rights.
var authPrograms = map[string]bool{"sudo": true, "su": true, "doas": true, "pkexec": true, "run0": true, "login": true, "ssh-add": true, "gpg-agent": true}

// systemBinDirs hold the programs that frontBinDirs can shadow.
var systemBinDirs = map[string]bool{"/usr/bin": true, "/bin": true, "/usr/sbin": true, "/sbin": true}

// shadowedCommand reports the system command a write to c would shadow:
// c names a file directly inside a front PATH directory and its name is a
// command Sentinel knows (shells, the programs in the root capability
// table). src, when known, is what is put there: a link or copy of the
// same-named system program is not a shadow.
func shadowedCommand(c, src string) (string, bool) {
	name, dir := path.Base(c), path.Dir(c)
	front := false
	for _, d := range frontBinDirs {
		if dir == d {
			front = true
			break
		}
	}
	if !front || name == "" {
		return "", false
	}
	key := progKey(name)
	if _, known := privCaps[key]; !known && !isShellName(key) && !authPrograms[key] {
		return "", false
	}
	if src != "" {
		if sc := cleanPath(src); path.Base(sc) == name && systemBinDirs[path.Dir(sc)] {
			return "", false
		}
	}
	return name, true
}

// ShadowedCommand reports the system command that a file written at p
// (as the call names it, "~/.local/bin/git" or "/usr/local/bin/ls") would
// shadow on PATH, for file tools that write programs.
func ShadowedCommand(p string) (string, bool) { return shadowedCommand(cleanPath(p), "") }
