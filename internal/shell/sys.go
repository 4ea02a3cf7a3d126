package shell

import (
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// power handles shutdown, reboot, halt, poweroff, init and telinit.
func (w *walker) power(k *cmd) *flow {
	switch k.name {
	case "init", "telinit":
		if len(k.args) > 1 && (k.args[1].s == "0" || k.args[1].s == "6") {
			w.add(finding(CodePowerState, decision.Confirm, "this shuts down or reboots the machine; say why it is needed", k.detail(), riskHigh))
		}
		return nil
	case "shutdown":
		for _, a := range k.args[1:] {
			if a.s == "-c" || a.s == "--cancel" {
				return nil
			}
		}
	}
	w.add(finding(CodePowerState, decision.Confirm, "this shuts down or reboots the machine; say why it is needed", k.detail(), riskHigh))
	return nil
}

// kill -9 -1 (every process), killall5, pkill -u root.
func (w *walker) kill(k *cmd) *flow {
	s := k.strs()
	if k.name == "killall5" {
		w.add(finding(CodePowerState, decision.Confirm, "this kills every process; say why it is needed", k.detail(), riskHigh))
		return nil
	}
	for i, a := range s[1:] {
		if a == "-1" && i > 0 || a == "-1" && k.name == "kill" && len(s) == 2 {
			w.add(finding(CodePowerState, decision.Confirm, "this kills every process you can signal; say why it is needed", k.detail(), riskHigh))
			return nil
		}
	}
	if k.name == "pkill" || k.name == "killall" {
		for i, a := range s[1:] {
			if (a == "-u" || a == "-U") && i+2 < len(s) && isRootUser(s[i+2]) {
				w.add(finding(CodePowerState, decision.Confirm, "this kills every process of root; say why it is needed", k.detail(), riskHigh))
				return nil
			}
		}
	}
	return nil
}

var securityUnits = map[string]bool{
	"firewalld": true, "ufw": true, "iptables": true, "ip6tables": true, "nftables": true, "apparmor": true,
	"auditd": true, "selinux": true, "fail2ban": true, "falco": true, "ossec": true, "wazuh-agent": true,
	"crowdstrike": true, "falcon-sensor": true, "clamav-daemon": true, "osqueryd": true,
}

func unitName(s string) string {
	s = strings.TrimSuffix(s, ".service")
	return s
}

// systemctl and service.
func (w *walker) systemctl(k *cmd) *flow {
	p := operands(k, spec{short: "tpHMnosS", long: []string{"--type", "--property", "--host", "--machine", "--lines", "--output", "--signal", "--root", "--state", "--kill-whom", "--job-mode"}})
	if len(p.pos) == 0 {
		return &flow{data: true}
	}
	sub := p.pos[0].s
	units := p.pos[1:]
	if k.name == "service" {
		if strings.Contains(p.pos[0].s, "/") {
			// service runs /etc/init.d/NAME: a path climbs out of it.
			target := "/etc/init.d/" + p.pos[0].s
			w.execPath(k, cleanPath(target), k.detail())
			if isShellName(baseOf(target)) {
				w.shellSpawn(k, "service runs a shell", true)
			}
			return &flow{data: true}
		}
		if len(p.pos) < 2 {
			return &flow{data: true}
		}
		units, sub = p.pos[:1], p.pos[1].s
	}
	switch sub {
	case "poweroff", "reboot", "halt", "kexec", "soft-reboot":
		w.add(finding(CodePowerState, decision.Confirm, "this shuts down or reboots the machine; say why it is needed", k.detail(), riskHigh))
	case "stop", "disable", "mask", "kill":
		for _, u := range units {
			if securityUnits[unitName(u.s)] {
				w.add(finding(CodeFirewallDisable, decision.Confirm, "this stops "+u.s+", a security service; say why it is needed", k.detail(), riskHigh))
			}
		}
	case "enable", "link", "add-wants", "add-requires":
		w.add(finding(CodePersistence, decision.Confirm, "this makes a service start automatically; say why it is needed", k.detail(), riskMedium))
		for _, u := range units {
			if strings.HasPrefix(u.s, "/") || strings.HasPrefix(u.s, ".") || strings.HasPrefix(u.s, "~") {
				w.ref(k, u, analysis.OpRead, false)
				if classify(u.s) != locSystem {
					w.add(finding(CodePersistence, w.escalate(k, decision.Confirm),
						"this installs a service from "+u.s+"; say why it is needed", k.detail(), riskHigh))
				}
			}
		}
	case "edit":
		if k.priv {
			if _, ok := k.envVal("SYSTEMD_EDITOR"); ok {
				w.shellSpawn(k, "systemctl edit runs an editor chosen by the caller", true)
			}
		}
		w.add(finding(CodePersistence, decision.Confirm, "this edits a service definition; say why it is needed", k.detail(), riskMedium))
	}
	return &flow{data: true}
}

// launchctl is macOS's service manager: load, bootstrap and enable make a
// launchd job start at login or boot; submit runs a program as a job that
// launchd keeps alive.
func (w *walker) launchctl(k *cmd) *flow {
	p := operands(k, spec{short: "lpoe", long: []string{"--label"}, stopAtFirst: true})
	if len(p.pos) == 0 {
		return &flow{data: true}
	}
	sub := p.pos[0].s
	switch sub {
	case "load", "bootstrap", "enable":
		w.add(finding(CodePersistence, decision.Confirm,
			"launchctl "+sub+" makes a launchd job start automatically; say why it is needed", k.detail(), riskMedium))
		for _, a := range p.pos[1:] {
			if strings.HasSuffix(a.s, ".plist") {
				w.ref(k, a, analysis.OpRead, false)
			}
		}
	case "submit":
		w.add(finding(CodePersistence, decision.Confirm,
			"launchctl submit keeps a program running as a launchd job; say why it is needed", k.detail(), riskMedium))
		args := k.args[1:]
		for i, a := range args {
			if a.s == "--" && i+1 < len(args) {
				// The program runs later, under launchd.
				c := *k.c
				c.deferred = true
				sub := &cmd{args: args[i+1:], c: &c, st: k.st, priv: k.priv, wrappers: append(append([]string(nil), k.wrappers...), "launchctl submit")}
				w.exec(sub)
				break
			}
		}
	}
	return &flow{data: true}
}

// firewall handles iptables, nft, ufw, setenforce, pfctl, firewall-cmd.
func (w *walker) firewall(k *cmd) *flow {
	s := k.strs()
	for i, a := range s[1:] {
		if (a == "-f" || a == "--file") && i+2 < len(s) {
			w.ref(k, k.args[i+2], analysis.OpRead, false)
			w.sideRead(k, k.args[i+2], k.name+" -f")
		}
	}
	flag := func(msg string) {
		w.add(finding(CodeFirewallDisable, decision.Confirm, msg+"; say why it is needed", k.detail(), riskHigh))
	}
	switch k.name {
	case "iptables", "ip6tables", "iptables-legacy", "iptables-nft":
		for i, a := range s[1:] {
			switch {
			case a == "-F" || a == "--flush" || a == "-X" || a == "--delete-chain":
				flag("this flushes firewall rules")
				return nil
			case (a == "-P" || a == "--policy") && i+3 < len(s) && strings.EqualFold(s[i+3], "ACCEPT"):
				flag("this sets a firewall chain to accept everything")
				return nil
			}
		}
	case "nft":
		j := strings.Join(s[1:], " ")
		if strings.Contains(j, "flush ruleset") || strings.Contains(j, "delete table") || strings.Contains(j, "flush table") {
			flag("this flushes firewall rules")
		}
	case "ufw":
		if len(s) > 1 && (s[1] == "disable" || s[1] == "reset") {
			flag("this disables the firewall")
		}
	case "setenforce":
		if len(s) > 1 && (s[1] == "0" || strings.EqualFold(s[1], "permissive")) {
			flag("this disables SELinux enforcement")
		}
	case "pfctl":
		for _, a := range s[1:] {
			if a == "-d" || a == "-F" {
				flag("this disables the packet filter")
			}
		}
	case "firewall-cmd":
		for _, a := range s[1:] {
			if a == "--panic-off" || strings.HasPrefix(a, "--set-default-zone=trusted") {
				flag("this opens the firewall")
			}
		}
	case "aa-disable", "aa-teardown", "aa-complain":
		flag("this disables AppArmor profiles")
	}
	return nil
}

// kernel handles insmod, rmmod, modprobe and sysctl.
func (w *walker) kernel(k *cmd) *flow {
	s := k.strs()
	switch k.name {
	case "insmod", "rmmod":
		w.add(finding(CodeKernelModule, decision.Confirm, "this loads or unloads a kernel module; say why it is needed", k.detail(), riskHigh))
		if k.name == "insmod" && len(s) > 1 {
			w.ref(k, k.args[1], analysis.OpRead, false)
		}
	case "modprobe":
		for _, a := range s[1:] {
			if a == "-r" || a == "--remove" || a == "-rf" {
				w.add(finding(CodeKernelModule, decision.Confirm, "this unloads a kernel module; say why it is needed", k.detail(), riskHigh))
				return nil
			}
		}
		w.add(finding(CodeKernelModule, decision.Notify, "this loads a kernel module", k.detail(), riskMedium))
	case "sysctl":
		for _, a := range k.args[1:] {
			if strings.HasPrefix(a.s, "/") {
				w.ref(k, a, analysis.OpRead, false)
				w.sideRead(k, a, "sysctl")
			}
		}
		for i, a := range s[1:] {
			if (a == "-p" || a == "--load") && i+2 < len(s) {
				w.ref(k, k.args[i+2], analysis.OpRead, false)
			}
		}
		for _, a := range s[1:] {
			if a == "-w" || a == "--write" || a == "-p" || a == "--load" || a == "--system" || strings.Contains(a, "=") && !strings.HasPrefix(a, "-") {
				w.add(finding(CodeKernelModule, decision.Confirm, "this changes kernel parameters; say why it is needed", k.detail(), riskHigh))
				return nil
			}
		}
	}
	return &flow{data: true}
}

// disk handles mkfs, fdisk, parted, wipefs, blkdiscard, hdparm and the
// like: writing to a block device destroys it.
func (w *walker) disk(k *cmd) *flow {
	s := k.strs()
	listOnly := false
	for _, a := range s[1:] {
		switch a {
		case "-l", "--list", "-d", "--dump", "-p", "print", "-s", "--show", "-V", "--version", "-h", "--help":
			listOnly = true
		}
	}
	if k.name == "wipefs" {
		listOnly = true
		for _, a := range s[1:] {
			if a == "-a" || a == "--all" || strings.HasPrefix(a, "-o") || a == "--offset" {
				listOnly = false
			}
		}
	}
	if k.name == "hdparm" {
		listOnly = true
		for _, a := range s[1:] {
			if strings.HasPrefix(a, "--security-erase") || strings.HasPrefix(a, "--trim-sector-ranges") || a == "--write-sector" || a == "--make-bad-sector" || a == "--fwdownload" {
				listOnly = false
			}
		}
	}
	if listOnly {
		return &flow{data: true}
	}
	for _, a := range k.args[1:] {
		if blockDevice(a.s) {
			w.ref(k, a, analysis.OpWrite, false)
			w.add(finding(CodeDiskDestroy, decision.Deny, "this formats, repartitions or wipes a disk device; it is refused", k.detail(), riskCatastrophic))
			return nil
		}
	}
	if strings.HasPrefix(k.name, "mkfs") || k.name == "mke2fs" || k.name == "mkswap" {
		for _, a := range k.args[1:] {
			if !strings.HasPrefix(a.s, "-") {
				w.ref(k, a, analysis.OpWrite, false)
			}
		}
	}
	return nil
}

// mount: a bind mount over a system program replaces it.
func (w *walker) mount(k *cmd) *flow {
	p := operands(k, spec{short: "otLUTON", long: []string{"--options", "--types", "--target", "--source", "--label", "--uuid"}})
	if len(p.pos) >= 2 {
		target := p.pos[len(p.pos)-1]
		w.ref(k, target, analysis.OpWrite, true)
		if what, notify, ok := systemWriteTarget(target.s); ok && !notify {
			w.add(finding(CodeSystemWrite, decision.Confirm, "this mounts over "+what+" ("+target.s+"); say why it is needed", k.detail(), riskHigh))
		}
	}
	return nil
}

// crontab FILE / crontab - install a crontab; -e edits it; -r removes it.
func (w *walker) crontab(k *cmd) *flow {
	p := operands(k, spec{short: "uc"})
	switch {
	case p.has("-l"):
		return &flow{data: true, crontab: true}
	case p.has("-r"):
		w.add(finding(CodePersistence, decision.Confirm, "this removes a crontab; say why it is needed", k.detail(), riskMedium))
		return nil
	case p.has("-e"):
		act := decision.Confirm
		if k.priv {
			act = decision.Deny
		}
		w.add(finding(CodePersistence, act, "this edits a crontab, which runs code later; say why it is needed", k.detail(), riskHigh))
		return nil
	}
	act := decision.Confirm
	if k.priv {
		act = decision.Deny
	}
	if in := k.c.stdin; (len(p.pos) == 0 || p.pos[0].s == "-") && in != nil && in.crontab && !in.textOK && len(in.files) == 0 {
		// crontab -l | sed … | crontab -: existing jobs edited in place.
		w.add(finding(CodePersistence, decision.Notify, "this rewrites the existing crontab", k.detail(), riskLow))
		return nil
	}
	content := ""
	if len(p.pos) > 0 && p.pos[0].s != "-" {
		w.ref(k, p.pos[0], analysis.OpRead, false)
		content = w.facts.written[p.pos[0].s]
	} else if k.c.stdin != nil {
		// The whole new crontab, or the jobs added to the existing one
		// in (crontab -l; echo "JOB") | crontab -.
		content = k.c.stdin.known()
	}
	msg := "this installs a crontab, which runs code later; say why it is needed"
	if content != "" {
		jobs := cronCommands(content, false)
		for _, job := range jobs {
			w.deferredShell(k, job, "crontab")
		}
		if w.runsRemoteCode(strings.Join(jobs, "\n")) {
			act, msg = decision.Deny, "this installs a cron job that downloads and runs remote code; it is refused"
		}
	}
	w.add(finding(CodePersistence, act, msg, k.detail(), riskHigh))
	return nil
}

// cronCommands returns the commands of crontab lines: each line without
// its schedule (five fields, or one @word) and, in the system crontab
// format (/etc/crontab, /etc/cron.d), the user field. Comments and
// variable settings are skipped.
func cronCommands(content string, system bool) []string {
	var out []string
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		n := 5
		if strings.HasPrefix(f[0], "@") {
			n = 1
		} else if strings.Contains(f[0], "=") {
			continue
		}
		if system {
			n++
		}
		if len(f) > n {
			out = append(out, strings.Join(f[n:], " "))
		}
		if len(out) >= 256 {
			break
		}
	}
	return out
}

// at and batch schedule the commands on their stdin.
func (w *walker) at(k *cmd) *flow {
	p := operands(k, spec{short: "qf", long: []string{"--queue", "--file"}})
	if p.has("-l", "-r", "-d", "-c") {
		return &flow{data: true}
	}
	if f, ok := p.val("-f", "--file"); ok {
		w.ref(k, f, analysis.OpRead, false)
		w.execPath(k, f.s, k.detail())
	} else if k.c.stdin != nil {
		w.execFlow(k, k.c.stdin, k.name)
	}
	act := decision.Confirm
	if k.priv {
		act = decision.Deny
	}
	w.add(finding(CodePersistence, act, "this schedules a job that runs later; say why it is needed", k.detail(), riskHigh))
	return nil
}

// logs handles journalctl --vacuum and auditctl -D.
func (w *walker) logs(k *cmd) *flow {
	for _, a := range k.args[1:] {
		switch {
		case k.name == "journalctl" && (strings.HasPrefix(a.s, "--vacuum") || a.s == "--flush" && false):
			w.add(finding(CodeLogTamper, decision.Confirm, "this deletes journal logs; say why it is needed", k.detail(), riskMedium))
			return nil
		case k.name == "auditctl" && (a.s == "-D" || a.s == "-e"):
			w.add(finding(CodeLogTamper, decision.Confirm, "this changes or removes audit rules; say why it is needed", k.detail(), riskMedium))
			return nil
		}
	}
	return &flow{data: true}
}

// ldconfig with a directory or config file changes where libraries load.
func (w *walker) ldconfig(k *cmd) *flow {
	p := operands(k, spec{short: "frC"})
	if f, ok := p.val("-f"); ok {
		w.ref(k, f, analysis.OpRead, false)
		w.add(finding(CodeLibraryLoad, w.escalate(k, decision.Confirm), "ldconfig loads library paths from "+f.s+"; say why it is needed", k.detail(), riskHigh))
		return nil
	}
	if len(p.pos) > 0 && !p.has("-p", "--print-cache") {
		w.add(finding(CodeLibraryLoad, w.escalate(k, decision.Confirm), "ldconfig adds a library directory; say why it is needed", k.detail(), riskHigh))
	}
	return nil
}

// capsh: --uid=0 and the shell it starts.
func (w *walker) capsh(k *cmd) *flow {
	rest := -1
	for i, a := range k.args[1:] {
		if a.s == "--" {
			rest = i + 2
			break
		}
		if strings.HasPrefix(a.s, "--uid=0") || strings.HasPrefix(a.s, "--gid=0") || strings.HasPrefix(a.s, "--user=root") {
			w.add(finding(CodePrivilegeEscalation, decision.Deny, "capsh switches to uid 0; this is refused", k.detail(), riskCompromise))
		}
		if strings.HasPrefix(a.s, "--caps=") || strings.HasPrefix(a.s, "--addamb=") {
			w.add(finding(CodePrivilegeEscalation, decision.Confirm, "capsh grants capabilities; say why it is needed", k.detail(), riskHigh))
		}
	}
	if rest > 0 {
		sub := &cmd{args: append([]field{{s: "bash"}}, k.args[rest:]...), c: k.c, st: k.st, priv: k.priv, wrappers: append(append([]string(nil), k.wrappers...), "capsh")}
		w.exec(sub)
	}
	return nil
}

// accounts handles visudo, usermod, useradd, gpasswd, passwd, chpasswd.
func (w *walker) accounts(k *cmd) *flow {
	s := k.strs()
	switch k.name {
	case "visudo":
		w.add(finding(CodeSystemWrite, decision.Confirm, "this edits sudo rules; say why it is needed", k.detail(), riskHigh))
		return nil
	case "chpasswd", "passwd":
		rootTarget := k.name == "passwd" && (len(s) > 1 && !strings.HasPrefix(s[len(s)-1], "-") && isRootUser(s[len(s)-1]) || len(s) == 1 && k.priv)
		if rootTarget || k.name == "chpasswd" {
			w.add(finding(CodeSystemWrite, decision.Confirm, "this changes account passwords; say why it is needed", k.detail(), riskHigh))
		}
		return nil
	}
	j := " " + strings.Join(s[1:], " ") + " "
	for _, g := range []string{"sudo", "wheel", "admin", "root", "docker", "lxd", "disk", "adm", "shadow"} {
		if strings.Contains(j, " "+g+" ") || strings.Contains(j, ","+g+" ") || strings.Contains(j, " "+g+",") {
			if strings.Contains(j, "-G") || strings.Contains(j, "-a") || k.name == "gpasswd" || k.name == "adduser" {
				w.add(finding(CodePrivilegeEscalation, decision.Confirm, "this adds a user to the "+g+" group, which grants root access; say why it is needed", k.detail(), riskHigh))
				return nil
			}
		}
	}
	if (k.name == "useradd" || k.name == "usermod") && strings.Contains(j, " -o ") && (strings.Contains(j, "-u 0 ") || strings.Contains(j, "--uid 0 ")) {
		w.add(finding(CodePrivilegeEscalation, decision.Deny, "this creates a second root account; it is refused", k.detail(), riskCompromise))
	}
	return nil
}

// enable -f loads a builtin from a shared library.
func (w *walker) enable(k *cmd) *flow {
	for i, a := range k.args[1:] {
		if a.s == "-f" && i+2 < len(k.args) {
			w.ref(k, k.args[i+2], analysis.OpRead, false)
			w.add(finding(CodeLibraryLoad, w.escalate(k, decision.Confirm), "enable -f loads a shared library into the shell; say why it is needed", k.detail(), riskHigh))
		}
	}
	return nil
}

// ldso handles running the dynamic loader directly.
func (w *walker) ldso(k *cmd) *flow {
	w.add(finding(CodeLibraryLoad, w.escalate(k, decision.Confirm), "the dynamic loader is run directly; run the program normally", k.detail(), riskHigh))
	args := k.args[1:]
	i := 0
	for i < len(args) && strings.HasPrefix(args[i].s, "--") {
		if args[i].s == "--preload" || args[i].s == "--library-path" || args[i].s == "--audit" {
			i++
		}
		i++
	}
	if i < len(args) {
		sub := &cmd{args: args[i:], c: k.c, st: k.st, priv: k.priv, wrappers: append(append([]string(nil), k.wrappers...), k.name)}
		w.exec(sub)
	}
	return nil
}

// getent shadow reads the password hashes.
func (w *walker) getent(k *cmd) *flow {
	for _, a := range k.args[1:] {
		switch a.s {
		case "shadow":
			w.ref(k, field{s: "/etc/shadow"}, analysis.OpRead, false)
		case "gshadow":
			w.ref(k, field{s: "/etc/gshadow"}, analysis.OpRead, false)
		}
	}
	return &flow{data: true}
}

// updateAlternatives: --install LINK NAME PATH PRIORITY creates LINK.
func (w *walker) updateAlternatives(k *cmd) *flow {
	for i, a := range k.args {
		if a.s == "--install" && i+3 < len(k.args) {
			link := k.args[i+1]
			w.ref(k, link, analysis.OpWrite, false)
			w.ref(k, k.args[i+3], analysis.OpRead, false)
			if !link.dyn {
				w.sensitiveWriteRules(k, link.s, "update-alternatives")
			}
		}
	}
	return nil
}

// nmap: -iL reads targets, -o* write reports, --script and --interactive
// run code.
func (w *walker) nmap(k *cmd) *flow {
	for i := 1; i < len(k.args); i++ {
		a := k.args[i]
		name, val, eq := strings.Cut(a.s, "=")
		switch {
		case name == "-iL" || name == "--excludefile" || name == "--resume" || name == "--stylesheet" || name == "--datadir":
			v := field{s: val}
			if !eq && i+1 < len(k.args) {
				i++
				v = k.args[i]
			}
			w.ref(k, v, analysis.OpRead, false)
			w.sideRead(k, v, "nmap "+name)
		case strings.HasPrefix(name, "-o") && len(name) == 3:
			v := field{s: val}
			if !eq && i+1 < len(k.args) {
				i++
				v = k.args[i]
			}
			if !quietDevices[v.s] {
				w.ref(k, v, analysis.OpWrite, false)
				w.sideWrite(k, v, "nmap "+name)
			}
		case name == "--interactive":
			w.shellSpawn(k, "nmap's interactive mode runs shell commands", true)
		case strings.HasPrefix(name, "--script") && !strings.HasPrefix(name, "--script-help"):
			w.add(finding(CodeShellEscape, w.escalate(k, decision.Confirm), "nmap runs NSE scripts, which can run any code; say which and why", k.detail(), riskHigh))
		case !strings.HasPrefix(a.s, "-") && (looksURL(a.s) || strings.Count(a.s, ".") == 3):
			w.addDest(analysis.Dest{Raw: a.s, Host: strings.ToLower(a.s), Command: "nmap"})
		}
	}
	return &flow{data: true}
}

// runParts runs every program in a directory.
func (w *walker) runParts(k *cmd) *flow {
	p := operands(k, spec{long: []string{"--arg", "--regex", "--umask"}})
	for _, d := range p.pos {
		w.ref(k, d, analysis.OpExec, true)
		c := cleanPath(d.s)
		if c == "/bin" || c == "/usr/bin" || c == "/sbin" || c == "/usr/sbin" || w.copiedShellInto(c) {
			w.shellSpawn(k, "run-parts runs programs from "+d.s+", shells included", true)
			for _, a := range p.vals("--arg") {
				if a.s == "-p" {
					w.add(finding(CodePrivilegeEscalation, decision.Deny, "run-parts starts a shell in privileged mode (-p); this is refused", k.detail(), riskCompromise))
				}
			}
		}
	}
	return nil
}

// copiedShellInto reports whether a shell binary was copied into dir in
// this line.
func (w *walker) copiedShellInto(dir string) bool {
	for _, p := range w.out.Paths {
		if p.Op == analysis.OpWrite && (p.Command == "cp" || p.Command == "install") && cleanPath(p.Path) == dir {
			return true
		}
	}
	return false
}

// goTool: go run FILE runs Go source; written in this line, it is analysed.
func (w *walker) goTool(k *cmd) *flow {
	if len(k.args) < 2 || k.args[1].s != "run" {
		return &flow{data: true}
	}
	for _, a := range k.args[2:] {
		if strings.HasPrefix(a.s, "-") {
			continue
		}
		w.ref(k, a, analysis.OpExec, false)
		if content, ok := w.facts.written[a.s]; ok {
			w.interpCode(k, content, "go", "go run")
		}
	}
	return &flow{data: true}
}
