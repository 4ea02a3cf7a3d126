package shell

import (
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// Under sudo, doas, su or pkexec a program runs with every right on the
// machine. Sentinel's line between administration and abuse is what the
// program can do as root:
//
//   - run arbitrary code or a shell (interpreters, editors, pagers,
//     debuggers, REPLs): that is a root shell, denied;
//   - print or copy the content of files it is given: confirmed when the
//     file lies outside the workspace and outside the system's own trees
//     (root can read every user's files), noticed otherwise;
//   - write content to files it is given: confirmed outside the workspace
//     and the system's own trees, and the system-write, persistence and
//     other findings judge the sensitive system paths;
//   - anything else from a vetted list of administration tools (package
//     managers, mount, chown, systemctl …): a notice.
//
// A program Sentinel does not know is confirmed: root plus an unknown
// capability is not something to pass silently.

type capability uint8

const (
	capAdmin capability = 1 << iota // vetted for root use
	capShell                        // can run arbitrary commands or a shell
	capRead                         // emits or copies the content of files it is given
	capWrite                        // writes content to files it is given
)

const (
	vetted   = capAdmin
	prints   = capAdmin | capRead
	writes   = capAdmin | capWrite
	copies   = capAdmin | capRead | capWrite
	shellCap = capShell
)

// privCaps is the capability table. Programs whose wrapper or shell
// behaviour is handled elsewhere (sudo, env, find -exec, bash -c) still
// appear so that the table documents them.
var privCaps = map[string]capability{
	// Shells, interpreters, editors, pagers, debuggers and REPLs.
	"python": shellCap, "python2": shellCap, "python3": shellCap, "pypy": shellCap, "perl": shellCap, "ruby": shellCap,
	"irb": shellCap, "node": shellCap, "nodejs": shellCap, "deno": shellCap, "bun": shellCap, "php": shellCap,
	"lua": shellCap, "luajit": shellCap, "awk": shellCap, "gawk": shellCap, "mawk": shellCap, "nawk": shellCap,
	"tclsh": shellCap, "wish": shellCap, "expect": shellCap, "osascript": shellCap, "pwsh": shellCap,
	"powershell": shellCap, "r": shellCap, "rscript": shellCap, "julia": shellCap, "jrunscript": shellCap,
	"jjs": shellCap, "jshell": shellCap, "java": shellCap, "guile": shellCap, "gnuplot": shellCap, "octave": shellCap,
	"octave-cli": shellCap, "clisp": shellCap, "sbcl": shellCap, "ghc": shellCap, "ghci": shellCap, "slsh": shellCap,
	"erl": shellCap, "scala": shellCap, "dotnet": shellCap, "go": shellCap, "vi": shellCap, "vim": shellCap,
	"nvim": shellCap, "view": shellCap, "rvim": shellCap, "vimdiff": shellCap, "ex": shellCap, "ed": shellCap,
	"nano": shellCap, "pico": shellCap, "emacs": shellCap, "joe": shellCap, "mcedit": shellCap, "micro": shellCap,
	"less": shellCap, "more": shellCap, "most": shellCap, "pg": shellCap, "man": shellCap, "gdb": shellCap,
	"lldb": shellCap, "ftp": shellCap, "lftp": shellCap, "ncftp": shellCap, "tftp": shellCap, "sftp": shellCap,
	"mysql": shellCap, "mariadb": shellCap, "psql": shellCap, "sqlite3": shellCap, "mongo": shellCap, "mongosh": shellCap,
	"tmux": shellCap, "screen": shellCap, "nmap": shellCap, "iftop": shellCap, "top": shellCap, "watch": shellCap,
	"busybox": shellCap, "socat": shellCap, "nc": shellCap, "ncat": shellCap, "netcat": shellCap, "telnet": shellCap,
	"m4": shellCap, "dc": shellCap, "bc": shellCap, "ansible-playbook": shellCap, "ansible": shellCap, "puppet": shellCap,
	"crash": shellCap, "debugfs": shellCap, "mail": shellCap, "mutt": shellCap, "ranger": shellCap, "mc": shellCap,
	"vifm": shellCap, "nnn": shellCap, "aria2c": shellCap, "ssh-keygen": shellCap,

	// Vetted administration tools: notices, with their own findings.
	"apt": vetted, "apt-get": vetted, "aptitude": vetted, "apt-cache": vetted, "yum": vetted, "dnf": vetted,
	"zypper": vetted, "pacman": vetted, "apk": vetted, "snap": vetted, "flatpak": vetted, "brew": vetted,
	"port": vetted, "rpm": vetted, "dpkg": vetted, "dpkg-reconfigure": vetted, "pip": vetted, "pip3": vetted,
	"npm": vetted, "yarn": vetted, "pnpm": vetted, "gem": vetted, "cargo": vetted, "composer": vetted,
	"bundle": vetted, "service": vetted, "systemctl": vetted, "dmesg": vetted, "ifconfig": vetted, "ip": vetted,
	"route": vetted, "iptables": vetted, "ip6tables": vetted, "nft": vetted, "ufw": vetted, "firewall-cmd": vetted,
	"netstat": vetted, "ss": vetted, "lsof": vetted, "fuser": vetted, "tcpdump": vetted, "ping": vetted,
	"traceroute": vetted, "mount": vetted, "umount": vetted, "fdisk": vetted, "parted": vetted, "blkid": vetted,
	"lsblk": vetted, "df": vetted, "du": vetted, "free": vetted, "htop": vetted, "ps": vetted, "kill": vetted,
	"killall": vetted, "pkill": vetted, "pgrep": vetted, "reboot": vetted, "shutdown": vetted, "halt": vetted,
	"poweroff": vetted, "useradd": vetted, "userdel": vetted, "usermod": vetted, "groupadd": vetted,
	"groupdel": vetted, "gpasswd": vetted, "adduser": vetted, "deluser": vetted, "passwd": vetted, "chpasswd": vetted,
	"visudo": vetted, "hostname": vetted, "hostnamectl": vetted, "timedatectl": vetted, "date": vetted,
	"hwclock": vetted, "modprobe": vetted, "insmod": vetted, "rmmod": vetted, "lsmod": vetted, "sysctl": vetted,
	"ldconfig": vetted, "updatedb": vetted, "locate": vetted, "make": vetted, "docker": copies, "podman": copies,
	"kubectl": vetted, "nginx": vetted, "apachectl": vetted, "apache2ctl": vetted, "a2enmod": vetted,
	"a2ensite": vetted, "a2dismod": vetted, "a2dissite": vetted, "certbot": vetted, "supervisorctl": vetted,
	"ls": vetted, "find": vetted, "rm": vetted, "rmdir": vetted, "mkdir": vetted,
	"touch": vetted, "chmod": vetted, "chown": vetted, "chgrp": vetted, "chattr": vetted, "lsattr": vetted,
	"setfacl": vetted, "getfacl": vetted, "setcap": vetted, "getcap": vetted, "ln": writes, "cp": copies, "mv": writes,
	"install": copies, "tee": writes, "dd": copies, "cat": prints, "tac": prints, "head": prints, "tail": prints,
	"grep": prints, "egrep": prints, "fgrep": prints, "zgrep": prints, "sort": copies, "uniq": copies, "cut": prints,
	"wc": vetted, "nl": prints, "tr": vetted, "echo": vetted, "printf": vetted, "true": vetted, "false": vetted,
	"sleep": vetted, "test": vetted, "id": vetted, "whoami": vetted, "which": vetted, "stat": vetted,
	"file": vetted, "md5sum": vetted, "sha1sum": vetted, "sha256sum": vetted, "sha512sum": vetted, "openssl": copies,
	"gpg": copies, "cpio": copies, "tar": copies, "zip": copies, "unzip": copies, "gzip": copies, "gunzip": copies,
	"zcat": prints, "bzip2": copies, "bunzip2": copies, "xz": copies, "unxz": copies, "zstd": copies, "7z": copies,
	"rsync": copies, "scp": copies, "ssh": vetted, "curl": copies, "wget": copies, "sed": copies, "base64": prints,
	"xxd": copies, "od": prints, "hexdump": prints, "strings": prints, "diff": prints, "cmp": vetted, "lsusb": vetted,
	"lspci": vetted, "lscpu": vetted, "lshw": vetted, "dmidecode": vetted, "smartctl": vetted, "hdparm": vetted,
	"iotop": vetted, "vmstat": vetted, "iostat": vetted, "mdadm": vetted, "cryptsetup": vetted, "losetup": vetted,
	"swapon": vetted, "swapoff": vetted, "mkswap": vetted, "sync": vetted, "e2fsck": vetted, "fsck": vetted,
	"resize2fs": vetted, "tune2fs": vetted, "mknod": vetted, "mkfifo": vetted, "update-alternatives": writes,
	"update-grub": vetted, "grub-install": vetted, "update-initramfs": vetted, "journalctl": vetted,
	"auditctl": vetted, "crontab": vetted, "at": vetted, "mkfs": vetted, "wipefs": vetted, "sfdisk": vetted,
	"gdisk": vetted, "blkdiscard": vetted, "shred": vetted, "truncate": writes, "pvcreate": vetted, "vgcreate": vetted,
	"lvcreate": vetted, "lvextend": vetted, "pvs": vetted, "vgs": vetted, "lvs": vetted, "nmcli": vetted,
	"iwconfig": vetted, "iw": vetted, "rfkill": vetted, "udevadm": vetted, "lsb_release": vetted, "uname": vetted,
	"uptime": vetted, "w": vetted, "who": vetted, "last": vetted, "groups": vetted, "getent": vetted,
	"readlink": vetted, "realpath": vetted, "basename": vetted, "dirname": vetted, "mktemp": vetted,
	"export": vetted, "cd": vetted, "pwd": vetted, "unlink": vetted, "tree": vetted, "ldd": vetted,
	"helm": vetted, "terraform": vetted, "aws": vetted, "gcloud": vetted, "az": vetted, "git": vetted,
	"setenforce": vetted, "getenforce": vetted, "sestatus": vetted, "restorecon": vetted, "chcon": vetted,
	"semanage": vetted, "aa-status": vetted, "ausearch": vetted, "aureport": vetted, "sysdig": vetted,
	"lsns": vetted, "nsenter": vetted, "unshare": vetted, "chroot": vetted, "env": vetted, "xargs": vetted,
	"nohup": vetted, "timeout": vetted, "nice": vetted, "ionice": vetted, "kill-all": vetted, "sshd": vetted,
	"killall5": vetted, "init": vetted, "telinit": vetted, "capsh": vetted, "ssh-copy-id": 0, "mkfs.ext4": vetted,
	"mkfs.xfs": vetted, "mkfs.vfat": vetted, "mke2fs": vetted, "quotacheck": vetted, "edquota": shellCap,
	"exportfs": vetted, "showmount": vetted, "smbpasswd": vetted, "ntpdate": vetted, "chronyc": vetted,
	"arp": vetted, "ethtool": vetted, "brctl": vetted, "tc": vetted, "wg": vetted, "wg-quick": vetted,
	"openvpn": vetted, "sysv-rc-conf": vetted, "chkconfig": vetted, "update-rc.d": vetted, "rc-update": vetted,
	"rc-service": vetted, "launchctl": vetted, "diskutil": vetted, "dscl": vetted, "scutil": vetted,
	"pmset": vetted, "spctl": vetted, "softwareupdate": vetted, "installer": vetted, "kextload": vetted,
	"sudoedit": vetted, "eval": vetted, "source": vetted, ".": vetted, "exec": vetted, "command": vetted,
	"time": vetted, "strace": vetted, "ltrace": vetted, "perf": vetted, "valgrind": vetted,
}

// privReadRisky reports whether root reading p exposes data the caller
// could not read: other users' files, root's files, arbitrary mounts.
func privReadRisky(p string) bool {
	switch classify(p) {
	case locOther, locParent:
		return true
	}
	return false
}

// privWriteRisky reports whether root writing p plants content where the
// system does not expect an administrator to write.
func privWriteRisky(p string) bool {
	c := cleanPath(p)
	if c == "/" {
		return true
	}
	if c == "/root" || strings.HasPrefix(c, "/root/") {
		// Root writing its own home is root's business; reading it is
		// the path gate's.
		return false
	}
	switch classify(p) {
	case locOther, locParent:
		return true
	}
	return false
}

// noPathJudgement lists programs whose paths are not content: a mount
// point, a directory created empty, a mode or owner change.
var noPathJudgement = map[string]bool{
	"mount": true, "umount": true, "mkdir": true, "touch": true, "chown": true, "chmod": true, "chgrp": true,
	"ls": true, "du": true, "find": true, "stat": true,
	"mktemp": true, "mkfifo": true, "test": true, "readlink": true, "realpath": true,
}

// privileged judges a command that runs as root.
func (w *walker) privileged(k *cmd) {
	name := progKey(k.name)
	if isShellName(name) {
		// Shells judge themselves: root shell, script, or -c code walked.
		return
	}
	if strings.HasPrefix(name, "mkfs.") || strings.HasPrefix(name, "fsck.") {
		name = "mkfs"
	}
	caps, known := privCaps[name]
	switch {
	case name == "journalctl" && !hasFlag(k.args, "--no-pager") && !hasFlag(k.args, "-f") && !hasFlag(k.args, "--follow") && (k.rs == nil || !k.rs.stdoutAway) && k.c.stage == nil:
		caps = shellCap
	case (name == "apt-get" || name == "apt") && hasFlag(k.args, "changelog"):
		caps = shellCap
	case name == "nmap" && !hasFlag(k.args, "--interactive") && !hasPrefixFlag(k.args, "--script"):
		caps = vetted
	case name == "openssl" && len(k.args) > 1 && (k.args[1].s == "s_client" || k.args[1].s == "s_server"):
		caps = 0
	case name == "nginx" && (hasFlag(k.args, "-c") || hasFlag(k.args, "-g")):
		caps = 0
	case name == "tcpdump" && (hasFlag(k.args, "-z") || hasFlag(k.args, "-Z")):
		caps = 0
	}
	if k.path != "" && !standardBinDir(k.path) && !isShellName(name) {
		known = false
	}
	if !known || caps == 0 {
		w.add(finding(CodePrivilegeEscalation, decision.Confirm,
			k.name+" is run as root and Sentinel cannot vouch that it cannot run commands or expose files; run it without sudo or say why",
			k.detail(), riskHigh))
		return
	}
	if caps&capShell != 0 {
		w.add(finding(CodePrivilegeEscalation, decision.Deny,
			k.name+" can run arbitrary commands, so running it as root is a root shell; run the specific command you need instead",
			k.detail(), riskCompromise))
		return
	}
	if !noPathJudgement[name] {
		for _, p := range w.out.Paths[min(k.firstPath, len(w.out.Paths)):] {
			if p.Command == "redirect" || p.Dynamic {
				continue
			}
			if p.Command != k.name && !containsStr(k.wrappers, p.Command) {
				continue
			}
			var why string
			switch {
			case p.Op == analysis.OpRead && privReadRisky(p.Path):
				why = " reads " + p.Path + " as root, outside the workspace; read it without sudo or say why"
			case p.Op == analysis.OpWrite && privWriteRisky(p.Path):
				why = " writes " + p.Path + " as root, outside the workspace and system directories; say why it is needed"
			case p.Op == analysis.OpDelete && privWriteRisky(p.Path):
				why = " deletes " + p.Path + " as root, outside the workspace and system directories; say why it is needed"
			case p.Op == analysis.OpChmod && (name == "chattr" || name == "setfacl") && privReadRisky(p.Path):
				why = " changes the attributes or ACL of " + p.Path + " as root, outside the workspace; say why it is needed"
			case k.unmodeled && p.Op != analysis.OpList && privReadRisky(p.Path):
				why = " is given " + p.Path + " as root, outside the workspace; say why it is needed"
			}
			if why != "" {
				w.add(finding(CodePrivilegeEscalation, decision.Confirm, k.name+why, k.detail(), riskHigh))
				return
			}
		}
	}
	for _, d := range w.out.Dests[min(k.firstDest, len(w.out.Dests)):] {
		if d.Command == k.name && d.Sends {
			w.add(finding(CodePrivilegeEscalation, decision.Confirm,
				k.name+" sends data over the network as root, with root's credentials; run it as your user", k.detail(), riskHigh))
			return
		}
	}
	w.add(finding(CodePrivileged, decision.Notify, k.name+" runs as root", k.detail(), riskLow))
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasPrefixFlag(args []field, prefix string) bool {
	for _, a := range args {
		if strings.HasPrefix(a.s, prefix) {
			return true
		}
	}
	return false
}
