package shell

// programTable maps program names to their handlers. It is built once per
// Analyzer; programs not listed get the generic handler.
func programTable() map[string]handler {
	t := map[string]handler{}
	add := func(h handler, names ...string) {
		for _, n := range names {
			t[n] = h
		}
	}
	add((*walker).shellProg, "sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "csh", "tcsh", "fish", "rbash", "yash",
		"posh", "sash", "elvish", "rc", "pdksh", "oksh", "ksh93", "lksh", "es", "xonsh", "nu")
	add((*walker).interpreter, "python", "python2", "python3", "pypy", "pypy3", "ipython", "perl", "ruby", "irb",
		"node", "nodejs", "deno", "bun", "php", "lua", "luajit", "awk", "gawk", "mawk", "nawk", "tclsh", "wish",
		"expect", "osascript", "pwsh", "powershell", "r", "rscript", "julia", "jrunscript", "guile", "gnuplot",
		"octave", "octave-cli", "clisp", "sbcl", "ghc", "ghci", "slsh")
	add((*walker).rm, "rm", "rmdir", "unlink", "shred", "srm", "wipe")
	add((*walker).cp, "cp", "install")
	add((*walker).mv, "mv")
	add((*walker).ln, "ln")
	add((*walker).tee, "tee")
	add((*walker).dd, "dd")
	add((*walker).truncate, "truncate")
	add((*walker).create, "touch", "mkdir", "mkfifo", "mknod", "mktemp")
	add((*walker).cd, "cd", "pushd")
	add((*walker).chmod, "chmod", "chown", "chgrp", "chattr", "setfacl")
	add((*walker).setcap, "setcap")
	add((*walker).lister, "ls", "du", "tree", "exa", "eza", "lsd", "dir", "vdir")
	add((*walker).grep, "grep", "egrep", "fgrep", "zgrep", "rg", "ag", "ack")
	add((*walker).sed, "sed", "gsed")
	add((*walker).find, "find", "gfind")
	add((*walker).tar, "tar", "gtar", "bsdtar")
	add((*walker).zip, "zip")
	add((*walker).unzip, "unzip")
	add((*walker).compressor, "gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz", "zstd", "unzstd", "lz4", "pigz", "lzma", "compress", "uncompress", "brotli")
	add((*walker).sevenZip, "7z", "7za", "7zr")
	add((*walker).cpio, "cpio")
	add((*walker).baseN, "base64", "base32", "basenc", "gbase64")
	add((*walker).xxd, "xxd")
	add((*walker).rev, "rev")
	add((*walker).tr, "tr")
	add((*walker).source, "source", ".")
	add((*walker).eval, "eval")
	add((*walker).echo, "echo", "printf")
	add((*walker).history, "history")
	add((*walker).unset, "unset")
	add((*walker).set, "set")
	add((*walker).printenv, "printenv")
	add((*walker).curl, "curl")
	add((*walker).wget, "wget", "wget2")
	add((*walker).httpie, "http", "https", "xh", "xhs")
	add((*walker).downloader, "aria2c", "axel")
	add((*walker).netcat, "nc", "ncat", "netcat", "nc.openbsd", "nc.traditional", "pwncat")
	add((*walker).socat, "socat")
	add((*walker).telnet, "telnet")
	add((*walker).ssh, "ssh")
	add((*walker).tunnel, "ngrok", "cloudflared", "lt", "localtunnel", "bore")
	add((*walker).transfer, "scp", "rsync")
	add((*walker).fileSession, "ftp", "sftp", "tftp", "lftp", "ncftp", "smbclient")
	add((*walker).sessionCommand, "put", "mput", "get", "mget", "send", "recv")
	add((*walker).dns, "dig", "nslookup", "host", "drill")
	add((*walker).hostArg, "ping", "ping6", "traceroute", "tracepath", "mtr", "whois", "finger")
	add((*walker).openssl, "openssl")
	add((*walker).lp, "lp", "lpr")
	add((*walker).getent, "getent")
	add((*walker).alias, "alias")
	add((*walker).which, "which", "whereis", "type")
	add((*walker).read, "read", "mapfile", "readarray")
	add((*walker).updateAlternatives, "update-alternatives", "alternatives")
	add((*walker).nmap, "nmap")
	add((*walker).runParts, "run-parts")
	add((*walker).goTool, "go")
	add((*walker).ab, "ab")
	add((*walker).restic, "restic")
	add((*walker).sshfs, "sshfs")
	add((*walker).ztcp, "ztcp")
	add((*walker).power, "shutdown", "reboot", "halt", "poweroff", "init", "telinit")
	add((*walker).kill, "kill", "killall", "killall5", "pkill")
	add((*walker).systemctl, "systemctl", "service")
	add((*walker).firewall, "iptables", "ip6tables", "iptables-legacy", "iptables-nft", "nft", "ufw", "setenforce", "pfctl", "firewall-cmd", "aa-disable", "aa-teardown", "aa-complain")
	add((*walker).kernel, "insmod", "rmmod", "modprobe", "sysctl")
	add((*walker).disk, "mkfs", "mkfs.ext2", "mkfs.ext3", "mkfs.ext4", "mkfs.xfs", "mkfs.btrfs", "mkfs.vfat", "mkfs.fat",
		"mkfs.ntfs", "mkfs.exfat", "mke2fs", "mkswap", "wipefs", "fdisk", "sfdisk", "cfdisk", "parted", "gdisk", "sgdisk",
		"blkdiscard", "hdparm", "mkntfs", "newfs")
	add((*walker).mount, "mount")
	add((*walker).crontab, "crontab")
	add((*walker).launchctl, "launchctl")
	add((*walker).at, "at", "batch")
	add((*walker).logs, "journalctl", "auditctl")
	add((*walker).ldconfig, "ldconfig")
	add((*walker).capsh, "capsh")
	add((*walker).accounts, "visudo", "usermod", "useradd", "adduser", "gpasswd", "passwd", "chpasswd")
	add((*walker).enable, "enable")
	add((*walker).ldso, "ld.so", "ld-linux.so.2", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld-musl-x86_64.so.1")
	add((*walker).git, "git")
	add((*walker).publish, "npm", "yarn", "pnpm", "cargo", "poetry", "vsce", "flit", "hatch", "lerna", "twine", "gem",
		"docker", "podman", "buildah", "skopeo", "helm", "mvn", "mvnw", "gradle", "gradlew", "gh", "dotnet", "nuget")
	add(func(w *walker, k *cmd) *flow { return w.devTool(k, false, "") }, "composer", "bundle", "bundler", "uv", "pipx")
	add((*walker).pip, "pip", "pip3")
	add((*walker).sysPackages, "apt", "apt-get", "aptitude", "yum", "dnf", "zypper", "pacman", "apk", "brew", "snap",
		"rpm", "rpmdb", "rpmquery", "rpmverify", "dpkg", "flatpak", "port")
	add((*walker).kubectl, "kubectl", "oc")
	add((*walker).cloud, "aws", "gcloud", "az", "terraform", "tofu", "terragrunt", "pulumi", "doctl", "linode-cli", "hcloud", "oci")
	add((*walker).dbClient, "mysql", "mariadb", "psql", "sqlite3", "sqlite", "mongo", "mongosh", "redis-cli", "cqlsh")
	add((*walker).vim, "vi", "vim", "nvim", "view", "rvim", "rview", "vimdiff", "ex", "gvim")
	add((*walker).nano, "nano", "pico")
	add((*walker).emacs, "emacs")
	add((*walker).ed, "ed")
	add((*walker).pager, "less", "more", "most", "pg")
	add((*walker).man, "man")
	add((*walker).gdb, "gdb")
	add((*walker).make, "make", "gmake")
	add((*walker).m4, "m4")
	add((*walker).dc, "dc")
	add((*walker).tex, "latex", "pdflatex", "tex", "pdftex", "xelatex", "lualatex", "luatex", "etex", "xetex")
	// Readers: programs that print or process the files they are given.
	add(readerOf(spec{short: "nc", long: []string{"--lines", "--bytes", "--sleep-interval", "--pid", "--max-unchanged-stats"}}), "head", "tail")
	add(readerOf(spec{short: "bsvw", long: []string{"--number-format", "--number-width", "--section-delimiter"}}), "cat", "tac", "nl", "bat", "batcat", "zcat", "bzcat", "xzcat", "zstdcat", "lzcat")
	add(readerOf(spec{short: "dfcbt", long: []string{"--delimiter", "--fields", "--characters", "--bytes", "--output-delimiter"}}), "cut")
	add(readerOf(spec{short: "ktToSy", long: []string{"--key", "--field-separator", "--output", "--buffer-size", "--temporary-directory", "--parallel", "--batch-size", "--files0-from", "--random-source", "--sort", "--compress-program"}}), "sort")
	add(readerOf(spec{short: "fsw", long: []string{"--skip-fields", "--skip-chars", "--check-chars", "--group"}}), "uniq")
	add(readerOf(spec{short: "d", long: []string{"--delimiters"}}), "paste")
	add(readerOf(spec{short: "tjoe12", long: []string{}}), "join")
	add(readerOf(spec{}), "comm", "fold", "fmt", "pr", "expand", "unexpand", "wc", "tsort", "look", "md5sum", "sha1sum",
		"sha224sum", "sha256sum", "sha384sum", "sha512sum", "b2sum", "cksum", "sum", "iconv", "dos2unix", "unix2dos",
		"shuf", "column", "ptx", "csplit", "split", "file", "stat", "jq", "yq", "xmllint", "strings", "ul", "soelim",
		"zsoelim", "tbl", "eqn", "neqn", "nroff", "troff", "groff", "pic", "refer", "grap", "colrm",
		"sdiff", "diff3", "cmp")
	add(readerOf(spec{short: "AjNtw", long: []string{"--address-radix", "--skip-bytes", "--read-bytes", "--format", "--width"}}), "od")
	add(readerOf(spec{short: "nsef", long: []string{}}), "hexdump", "hd")
	add(readerOf(spec{long: []string{"--line-format", "--old-line-format", "--new-line-format", "--unchanged-line-format", "--label", "-I", "--ignore-matching-lines", "--exclude", "--from-file", "--to-file"}}), "diff")
	add((*walker).sortCmd, "sort")
	add((*walker).uniqCmd, "uniq")
	add((*walker).diffCmd, "diff")
	add((*walker).splitCmd, "split")
	return t
}

func readerOf(sp spec) handler { return (*walker).reader(nil, sp) }
