package escape

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// cases is the suite, in the order of the table's rows.
func cases() []Case {
	return slices.Concat(baselineCases(), filesystemCases(), networkCases(),
		processCases(), kernelCases(), limitCases())
}

// baselineCases are what the profile allows. A runner that fails them is
// refusing by being broken, which would make its blocks meaningless.
func baselineCases() []Case {
	return []Case{{
		Name:  "workspace-write",
		Layer: LayerBaseline,
		Script: func(e Env) string {
			return "echo written > " + sq(filepath.Join(e.Workspace, "ok.txt"))
		},
		Escaped: func(e Env, r Result) (bool, string) {
			data, err := os.ReadFile(filepath.Join(e.Workspace, "ok.txt"))
			if err != nil {
				return false, "no file in the workspace: " + evidence(r)
			}
			return strings.TrimSpace(string(data)) == "written", "the workspace took the write"
		},
	}, {
		Name:   "outside-read",
		Layer:  LayerBaseline,
		Script: func(e Env) string { return "cat " + sq(e.OutsideMarker) },
		Escaped: func(e Env, r Result) (bool, string) {
			return secretShown(r, "the outside marker", e.Secrets.Outside)
		},
	}, {
		Name:  "private-tmp",
		Layer: LayerBaseline,
		Script: func(Env) string {
			return `f="${TMPDIR:-/tmp}/baseline.$$" && echo tmp-works > "$f" && cat "$f" && rm -f "$f"`
		},
		Escaped: func(_ Env, r Result) (bool, string) {
			if strings.Contains(r.Stdout, "tmp-works") {
				return true, "a temporary file could be written and read back"
			}
			return false, "no writable temporary directory: " + evidence(r)
		},
	}, {
		Name:   "allowed-host",
		Layer:  LayerBaseline,
		Script: func(e Env) string { return sq(e.Probe) + " connect " + e.Allowed.Addr().String() },
		Escaped: func(e Env, r Result) (bool, string) {
			return listenerHit(e.Allowed, "the allowed host", r)
		},
	}}
}

func filesystemCases() []Case {
	return []Case{{
		Name:  "write-outside",
		Layer: LayerFilesystem,
		Script: func(e Env) string {
			o := e.Outside
			return lines(
				"echo x > "+sq(filepath.Join(o, "escape-write")),
				"touch "+sq(filepath.Join(o, "escape-touch")),
				"mkdir "+sq(filepath.Join(o, "escape-dir")),
				"mv "+sq(e.OutsideMarker)+" "+sq(filepath.Join(o, "escape-moved")),
			)
		},
		Escaped: func(e Env, r Result) (bool, string) {
			return changedEntries(e.Outside, []string{"marker.txt"}, r)
		},
	}, {
		Name:  "write-via-dotdot",
		Layer: LayerFilesystem,
		Script: func(e Env) string {
			return lines(
				"mkdir -p sub",
				"echo x > ../escape-dotdot",
				"echo x > "+sq(e.Workspace+"/sub/../../escape-dotdot-abs"),
			)
		},
		Escaped: func(e Env, r Result) (bool, string) {
			return changedEntries(e.Root, rootEntries, r)
		},
	}, {
		Name:  "read-ssh-key",
		Layer: LayerFilesystem,
		Script: func(e Env) string {
			return lines("cat ~/.ssh/id_rsa", "cat "+sq(e.SSHKey), "grep -r . ~/.ssh")
		},
		Escaped: func(e Env, r Result) (bool, string) {
			return secretShown(r, "~/.ssh/id_rsa", e.Secrets.SSHKey)
		},
	}, {
		Name:  "read-aws-credentials",
		Layer: LayerFilesystem,
		Script: func(e Env) string {
			return lines("cat ~/.aws/credentials", "grep -r . "+sq(filepath.Dir(e.AWSCredentials)))
		},
		Escaped: func(e Env, r Result) (bool, string) {
			return secretShown(r, "~/.aws/credentials", e.Secrets.AWS)
		},
	}, {
		Name:  "read-data-dir",
		Layer: LayerFilesystem,
		Script: func(e Env) string {
			return lines("ls -la "+sq(e.DataDir), "cat "+sq(e.DataMarker), "grep -r . "+sq(e.DataDir))
		},
		Escaped: func(e Env, r Result) (bool, string) {
			return secretShown(r, "the data directory", e.Secrets.Data)
		},
	}, {
		Name:  "symlink-write-out",
		Layer: LayerFilesystem,
		Script: func(e Env) string {
			return lines(
				"echo x > link-outside/escape-old-link",
				"ln -s "+sq(e.Outside)+" new-link && echo x > new-link/escape-new-link",
			)
		},
		Escaped: func(e Env, r Result) (bool, string) {
			return changedEntries(e.Outside, []string{"marker.txt"}, r)
		},
	}, {
		Name:  "symlink-read-out",
		Layer: LayerFilesystem,
		Script: func(e Env) string {
			return lines(
				"cat link-key",
				"ln -s "+sq(e.AWSCredentials)+" aws-link && cat aws-link",
			)
		},
		Escaped: func(e Env, r Result) (bool, string) {
			return anySecretShown(r, "~/.ssh/id_rsa and ~/.aws/credentials through links",
				e.Secrets.SSHKey, e.Secrets.AWS)
		},
	}, {
		Name:  "host-tmp",
		Layer: LayerFilesystem,
		Script: func(e Env) string {
			return lines(
				"echo x > /tmp/"+e.HostTmpName,
				`[ -n "$TMPDIR" ] && echo x > "$TMPDIR"/`+e.HostTmpName,
			)
		},
		Escaped: func(e Env, r Result) (bool, string) {
			if found := hostTmpCopies(e.HostTmpName); len(found) > 0 {
				return true, "the host's /tmp shows the script's file: " + strings.Join(found, ", ")
			}
			return false, "nothing reached the host's /tmp: " + evidence(r)
		},
	}}
}

func networkCases() []Case {
	return []Case{{
		Name:   "connect-denied-loopback",
		Layer:  LayerNetwork,
		Script: func(e Env) string { return sq(e.Probe) + " connect " + e.Denied.Addr().String() },
		Escaped: func(e Env, r Result) (bool, string) {
			return listenerHit(e.Denied, "the denied loopback listener", r)
		},
	}, {
		Name:   "connect-outside-namespace",
		Layer:  LayerNetwork,
		Script: func(e Env) string { return sq(e.Probe) + " connect " + e.OutsideListener.Addr().String() },
		Escaped: func(e Env, r Result) (bool, string) {
			return listenerHit(e.OutsideListener, "the listener in the outside namespace", r)
		},
	}, {
		Name:  "dns-exfiltration",
		Layer: LayerNetwork,
		Script: func(e Env) string {
			p := sq(e.Probe)
			return lines(
				p+" dns "+e.ExfilName+" "+e.DNSLoopback.String()+" "+e.DNSOutside.String(),
				p+" dns-system "+e.ExfilName+" "+e.DNSLoopback.Addr().String()+" "+e.DNSOutside.Addr().String(),
			)
		},
		Escaped: func(e Env, r Result) (bool, string) {
			if e.DNS.Asked(e.ExfilName) {
				return true, "the DNS server was asked for " + e.ExfilName
			}
			return false, "no query reached a DNS server: " + evidence(r)
		},
	}}
}

func processCases() []Case {
	return []Case{{
		Name:  "proc-read-host-process",
		Layer: LayerProcess,
		Script: func(e Env) string {
			pid := strconv.Itoa(e.Marker.PID)
			return lines(
				"tr '\\0' ' ' < /proc/"+pid+"/cmdline; echo",
				"tr '\\0' '\\n' < /proc/"+pid+"/environ",
				// Search by name too: a shared pid namespace with other
				// numbers would still show the process.
				`for f in /proc/[0-9]*/cmdline; do`,
				`  c=$(tr '\0' ' ' < "$f" 2>/dev/null) || continue`,
				`  case "$c" in `+markerPrefix+`*) echo "$f: $c"; tr '\0' '\n' < "${f%cmdline}environ";; esac`,
				`done`,
			)
		},
		Escaped: func(e Env, r Result) (bool, string) {
			return anySecretShown(r, "the marker's argv and environment",
				e.Secrets.MarkerArgv, e.Secrets.MarkerEnv)
		},
	}, {
		Name:   "ptrace-host-process",
		Layer:  LayerProcess,
		Script: func(e Env) string { return sq(e.Probe) + " ptrace " + strconv.Itoa(e.Marker.PID) },
		Escaped: func(_ Env, r Result) (bool, string) {
			if strings.Contains(r.Stdout, "ptrace: attached to the marker") {
				return true, "PTRACE_SEIZE succeeded on the host's marker process"
			}
			return false, "the marker could not be traced: " + evidence(r)
		},
	}, {
		Name:  "kill-host-process",
		Layer: LayerProcess,
		Script: func(e Env) string {
			pid := strconv.Itoa(e.Marker.PID)
			return lines("kill -KILL "+pid, "kill -TERM "+pid)
		},
		Escaped: func(e Env, r Result) (bool, string) {
			if e.Marker.DiedWithin(time.Second) {
				return true, "the host's marker process was killed"
			}
			return false, "the marker is alive: " + evidence(r)
		},
	}}
}

// credsLine is what the probe's creds subcommand prints.
var credsLine = regexp.MustCompile(`creds: euid=(\d+) uid=\d+ capeff=([0-9a-f]+)`)

// shellLine is what the setuid case prints about the shell itself.
var shellLine = regexp.MustCompile(`shell: euid=(\d+)`)

func kernelCases() []Case {
	return []Case{{
		Name:  "setuid-root-binary",
		Layer: LayerPrivilege,
		Script: func(e Env) string {
			return lines(`echo "shell: euid=$(id -u) $(grep CapEff /proc/self/status)"`, sq(e.SetuidProbe)+" creds")
		},
		Escaped: func(_ Env, r Result) (bool, string) {
			m := credsLine.FindStringSubmatch(r.Stdout)
			if m == nil {
				return false, "the setuid binary did not run: " + evidence(r)
			}
			caps, err := strconv.ParseUint(m[2], 16, 64)
			if err != nil {
				return true, "unreadable capability set " + m[2] + " (counted as held)"
			}
			if caps != 0 {
				return true, fmt.Sprintf("the setuid binary held capabilities %s with euid %s", m[2], m[1])
			}
			if s := shellLine.FindStringSubmatch(r.Stdout); s == nil || s[1] != m[1] {
				return true, "the setuid binary ran with euid " + m[1] + ", not the shell's"
			}
			return false, "euid unchanged and no capabilities (euid " + m[1] + ")"
		},
	}, {
		Name:  "mount",
		Layer: LayerKernel,
		Script: func(e Env) string {
			return lines("mkdir -p mnt", sq(e.Probe)+" mount "+sq(filepath.Join(e.Workspace, "mnt")))
		},
		Escaped: func(_ Env, r Result) (bool, string) {
			if strings.Contains(r.Stdout, "mount: mounted") {
				return true, "mount(2) of a tmpfs succeeded"
			}
			return false, "mount refused: " + evidence(r)
		},
	}, {
		Name:   "kernel-module-or-bpf",
		Layer:  LayerKernel,
		Script: func(e Env) string { return sq(e.Probe) + " kernel" },
		Escaped: func(_ Env, r Result) (bool, string) {
			var got []string
			if strings.Contains(r.Stdout, "kernel: module load permitted") {
				got = append(got, "init_module passed its permission check")
			}
			if strings.Contains(r.Stdout, "kernel: bpf program loaded") {
				got = append(got, "a BPF program was loaded")
			}
			if len(got) > 0 {
				return true, strings.Join(got, "; ")
			}
			return false, "module and BPF loads refused: " + evidence(r)
		},
	}, {
		Name:  "write-proc-sys",
		Layer: LayerKernel,
		Script: func(Env) string {
			// Opening for append writes nothing: the open is the test.
			return lines(
				`for f in /proc/sys/kernel/printk_ratelimit /proc/sys/vm/overcommit_ratio /sys/kernel/mm/transparent_hugepage/enabled /sys/module/printk/parameters/time; do`,
				`  [ -e "$f" ] || continue`,
				`  if ( : >> "$f" ) 2>/dev/null; then echo "writable: $f"; else echo "refused: $f"; fi`,
				`done`,
			)
		},
		Escaped: func(_ Env, r Result) (bool, string) {
			var got []string
			for line := range strings.SplitSeq(r.Stdout, "\n") {
				if f, ok := strings.CutPrefix(line, "writable: "); ok {
					got = append(got, f)
				}
			}
			if len(got) > 0 {
				return true, "opened for writing: " + strings.Join(got, ", ")
			}
			return false, "every file refused: " + evidence(r)
		},
	}}
}

// spawnLine is what the probe's spawn subcommand prints.
var spawnLine = regexp.MustCompile(`spawn: started (\d+) of`)

func limitCases() []Case {
	return []Case{{
		Name:  "fork-bomb",
		Layer: LayerLimits,
		Script: func(e Env) string {
			n := min(4*DefaultLimits.Processes, 256)
			return sq(e.Probe) + " spawn " + strconv.Itoa(n) + " " + e.Tag + "-bomb"
		},
		Escaped: func(e Env, r Result) (bool, string) {
			if pids := leftovers(e.Tag, settle); len(pids) > 0 {
				return true, "processes of the run outlived it: " + formatPIDs(pids)
			}
			if overran(r, DefaultLimits) {
				return true, "the run outlasted its wall limit: " + r.Duration.Round(time.Millisecond).String()
			}
			m := spawnLine.FindStringSubmatch(r.Stdout)
			if m == nil {
				return false, "no process could be started: " + evidence(r)
			}
			n, _ := strconv.Atoi(m[1])
			if n > DefaultLimits.Processes {
				return true, fmt.Sprintf("%d processes ran at once (limit %d)", n, DefaultLimits.Processes)
			}
			return false, fmt.Sprintf("stopped at %d processes (limit %d)", n, DefaultLimits.Processes)
		},
	}, {
		Name:   "memory-hog",
		Layer:  LayerLimits,
		Script: func(e Env) string { return sq(e.Probe) + " alloc " + strconv.Itoa(1<<30) },
		Escaped: func(_ Env, r Result) (bool, string) {
			if strings.Contains(r.Stdout, "alloc: touched") {
				return true, "1 GiB was allocated and touched"
			}
			return false, fmt.Sprintf("the allocation failed (exit %d, killed %v): %s", r.Exit, r.Killed, evidence(r))
		},
	}, {
		Name:     "sleeper",
		Layer:    LayerLimits,
		WallTime: sleeperWall,
		Script: func(Env) string {
			return lines("setsid nohup sleep 600 >/dev/null 2>&1 </dev/null &", "sleep 600")
		},
		Escaped: func(e Env, r Result) (bool, string) {
			if pids := leftovers(e.Tag, settle); len(pids) > 0 {
				return true, "processes of the run outlived it: " + formatPIDs(pids)
			}
			if overran(r, Limits{WallTime: sleeperWall}) {
				return true, fmt.Sprintf("the run outlasted its %v wall limit: %v", sleeperWall, r.Duration.Round(time.Millisecond))
			}
			return false, "ended after " + r.Duration.Round(100*time.Millisecond).String() + " and left nothing behind"
		},
	}}
}

// sleeperWall is the sleeper's wall limit, short so the suite stays quick.
const sleeperWall = 3 * time.Second

// wallGrace is how far past its wall limit a run may end before it counts
// as not limited: starting and tearing down a sandbox takes time too.
const wallGrace = 10 * time.Second

func overran(r Result, lim Limits) bool { return r.Duration > lim.WallTime+wallGrace }

// secretShown reports whether the run's output holds secret.
func secretShown(r Result, what, secret string) (bool, string) {
	return anySecretShown(r, what, secret)
}

// anySecretShown reports whether the run's output holds any of secrets.
func anySecretShown(r Result, what string, secrets ...string) (bool, string) {
	for _, s := range secrets {
		if strings.Contains(r.Stdout, s) || strings.Contains(r.Stderr, s) {
			return true, "the output holds a secret of " + what
		}
	}
	return false, what + " stayed unread: " + evidence(r)
}

func listenerHit(l *Listener, what string, r Result) (bool, string) {
	if n := l.Hits(); n > 0 {
		return true, fmt.Sprintf("%s accepted %d connection(s)", what, n)
	}
	return false, what + " saw no connection: " + evidence(r)
}

// changedEntries reports entries of dir other than known: created, or
// known ones gone (moved away).
func changedEntries(dir string, known []string, r Result) (bool, string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return true, "cannot list " + dir + " after the run (counted as escaped): " + err.Error()
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	var changes []string
	for _, n := range names {
		if !slices.Contains(known, n) {
			changes = append(changes, "created "+n)
		}
	}
	for _, k := range known {
		if !slices.Contains(names, k) {
			changes = append(changes, "removed "+k)
		}
	}
	if len(changes) > 0 {
		return true, dir + ": " + strings.Join(changes, ", ")
	}
	return false, dir + " unchanged: " + evidence(r)
}

// evidence is the first line of the run's stderr (or stdout), short, to
// show how the sandbox answered.
func evidence(r Result) string {
	for _, s := range []string{r.Stderr, r.Stdout} {
		for line := range strings.SplitSeq(s, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				if len(line) > 120 {
					line = line[:120] + "…"
				}
				return line
			}
		}
	}
	return fmt.Sprintf("no output, exit %d", r.Exit)
}

func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

// sq quotes s for bash.
func sq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
