// Package profile is the sandbox profile: what a sandboxed command may
// write, read and reach, which environment variables it gets and its
// resource limits. Profiles are named in the policy file's sandbox
// section; Resolve turns one into absolute paths and numbers for a given
// workspace, home and data dir, or says precisely what is wrong.
//
// The policy package embeds Profile, the sandbox package runs a
// Resolved one; allowlist entries are checked by the egress proxy's parser.
package profile

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/sandbox/egress"
)

// Network modes.
const (
	// NetworkNone leaves the command a network namespace with only a
	// loopback interface of its own.
	NetworkNone = "none"
	// NetworkLocalhost adds the host's loopback ports the profile lists
	// (LocalPorts), forwarded into the namespace; nothing else.
	NetworkLocalhost = "localhost"
	// NetworkAllowlist lets traffic leave only through Sentinel's egress
	// proxy (HTTP and CONNECT), which enforces Allow.
	NetworkAllowlist = "allowlist"
)

// DefaultName is the profile used when none is named.
const DefaultName = "default"

// Profile is a profile as written in the policy file. Paths may start
// with "~/" or hold ${workspace}, ${home} and ${data_dir}.
type Profile struct {
	// Writable paths; the private /tmp is always writable.
	Writable []string `yaml:"writable,omitempty" json:"writable,omitempty"`
	// ReadOnly paths the command may read (default: "/", everything
	// not hidden). Narrower lists are enforced by Landlock.
	ReadOnly []string `yaml:"read_only,omitempty" json:"read_only,omitempty"`
	// Hidden paths are replaced by empty ones: credentials directories,
	// Sentinel's data dir.
	Hidden []string `yaml:"hidden,omitempty" json:"hidden,omitempty"`
	// Network is none, localhost or allowlist.
	Network string `yaml:"network,omitempty" json:"network,omitempty"`
	// Allow lists the destinations of allowlist mode: "host",
	// "host:port", "*.suffix", "*.suffix:443,8443".
	Allow []string `yaml:"allow,omitempty" json:"allow,omitempty"`
	// AllowPrivate lets allowlisted names resolve to private and
	// loopback addresses.
	AllowPrivate bool `yaml:"allow_private,omitempty" json:"allow_private,omitempty"`
	// LocalPorts are the host loopback TCP ports localhost mode reaches.
	LocalPorts []int `yaml:"localhost_ports,omitempty" json:"localhost_ports,omitempty"`
	// Env names the environment variables that enter (a trailing "*"
	// matches a prefix); values that hold a credential never do.
	Env []string `yaml:"env,omitempty" json:"env,omitempty"`
	// SetEnv sets variables inside, after Env.
	SetEnv map[string]string `yaml:"set_env,omitempty" json:"set_env,omitempty"`
	// Limits bound the run.
	Limits Limits `yaml:"limits,omitempty" json:"limits"`
	// Seccomp adjusts the system call deny list.
	Seccomp Seccomp `yaml:"seccomp,omitempty" json:"seccomp"`
	// BestEffort runs the command when a layer is missing on this
	// machine, saying so in the result, instead of refusing.
	BestEffort bool `yaml:"best_effort,omitempty" json:"best_effort,omitempty"`
}

// Limits are written as Go durations ("90s") and byte sizes ("512MiB").
type Limits struct {
	CPU       string `yaml:"cpu,omitempty" json:"cpu,omitempty"`
	Wall      string `yaml:"wall,omitempty" json:"wall,omitempty"`
	Memory    string `yaml:"memory,omitempty" json:"memory,omitempty"`
	FileSize  string `yaml:"file_size,omitempty" json:"file_size,omitempty"`
	TmpSize   string `yaml:"tmp_size,omitempty" json:"tmp_size,omitempty"`
	Processes int    `yaml:"processes,omitempty" json:"processes,omitempty"`
	OpenFiles int    `yaml:"open_files,omitempty" json:"open_files,omitempty"`
}

// Seccomp adds to or removes from the default deny list.
type Seccomp struct {
	Deny  []string `yaml:"deny,omitempty" json:"deny,omitempty"`
	Allow []string `yaml:"allow,omitempty" json:"allow,omitempty"`
}

// CredentialDirs are hidden by the default profile.
var CredentialDirs = []string{
	"~/.ssh", "~/.aws", "~/.kube", "~/.gnupg", "~/.docker", "~/.config/gcloud", "~/.azure",
	"~/.netrc", "~/.git-credentials", "~/.npmrc", "~/.pypirc", "~/.config/gh", "~/.password-store",
}

// Default is the built-in default profile: the workspace and a private
// /tmp writable, everything else read-only, credentials and the data
// dir hidden, no network.
func Default() Profile {
	return Profile{
		Writable: []string{"${workspace}"},
		ReadOnly: []string{"/"},
		Hidden:   append(slices.Clone(CredentialDirs), "${data_dir}"),
		Network:  NetworkNone,
		Env:      []string{"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_*", "TERM", "TZ", "SHELL", "COLUMNS", "LINES"},
		Limits: Limits{CPU: "10m", Wall: "10m", Memory: "2GiB", FileSize: "1GiB", TmpSize: "1GiB",
			Processes: 512, OpenFiles: 1024},
	}
}

// WithDefaults fills what p leaves unset from the default profile:
// a profile in the policy names only what it changes.
func (p Profile) WithDefaults() Profile {
	d := Default()
	if p.Writable == nil {
		p.Writable = d.Writable
	}
	if p.ReadOnly == nil {
		p.ReadOnly = d.ReadOnly
	}
	if p.Hidden == nil {
		p.Hidden = d.Hidden
	}
	if p.Network == "" {
		p.Network = d.Network
	}
	if p.Env == nil {
		p.Env = d.Env
	}
	l, dl := &p.Limits, d.Limits
	for _, f := range []struct {
		v *string
		d string
	}{{&l.CPU, dl.CPU}, {&l.Wall, dl.Wall}, {&l.Memory, dl.Memory},
		{&l.FileSize, dl.FileSize}, {&l.TmpSize, dl.TmpSize}} {
		if *f.v == "" {
			*f.v = f.d
		}
	}
	if l.Processes == 0 {
		l.Processes = dl.Processes
	}
	if l.OpenFiles == 0 {
		l.OpenFiles = dl.OpenFiles
	}
	return p
}

// Vars are what profile paths may refer to.
type Vars struct {
	Workspace string
	Home      string
	DataDir   string
}

// Resolved is a profile ready to run: absolute clean paths, parsed
// limits, validated rules.
type Resolved struct {
	Name         string
	Writable     []string
	ReadOnly     []string
	Hidden       []string
	Network      string
	Allow        []string
	AllowPrivate bool
	LocalPorts   []int
	Env          []string
	SetEnv       map[string]string
	CPU, Wall    time.Duration
	Memory       int64
	FileSize     int64
	TmpSize      int64
	Processes    int
	OpenFiles    int
	SeccompDeny  []string
	SeccompAllow []string
	BestEffort   bool
}

// Bounds keep a profile within what a run can be given.
const (
	maxPaths     = 256
	maxAllow     = 256
	maxEnv       = 256
	maxProcesses = 1 << 16
	maxOpenFiles = 1 << 20
)

// Resolve checks p and expands it for v. Every problem is reported,
// each naming its field: "sandbox.profiles.build.limits.memory: …".
func (p Profile) Resolve(name string, v Vars) (*Resolved, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("sandbox profile %q: %s: %s", name, field, fmt.Sprintf(format, args...)))
	}
	r := &Resolved{Name: name, Network: p.Network, AllowPrivate: p.AllowPrivate, BestEffort: p.BestEffort,
		SetEnv: map[string]string{}}
	paths := func(field string, in []string) []string {
		if len(in) > maxPaths {
			bad(field, "%d paths, at most %d", len(in), maxPaths)
			return nil
		}
		var out []string
		for i, s := range in {
			abs, err := expand(s, v)
			if err != nil {
				bad(fmt.Sprintf("%s[%d]", field, i), "%v", err)
				continue
			}
			if !slices.Contains(out, abs) {
				out = append(out, abs)
			}
		}
		return out
	}
	r.Writable = paths("writable", p.Writable)
	r.ReadOnly = paths("read_only", p.ReadOnly)
	if len(p.ReadOnly) == 0 {
		r.ReadOnly = []string{"/"}
	}
	r.Hidden = paths("hidden", p.Hidden)
	for _, w := range r.Writable {
		if w == "/" {
			bad("writable", `"/" would make the whole file system writable; name the directories`)
		}
		for _, h := range r.Hidden {
			if within(w, h) {
				bad("writable", "%s is inside the hidden %s", w, h)
			}
		}
	}
	switch p.Network {
	case "":
		r.Network = NetworkNone
	case NetworkNone, NetworkLocalhost, NetworkAllowlist:
	default:
		bad("network", "%q: use none, localhost or allowlist", p.Network)
	}
	if len(p.Allow) > maxAllow {
		bad("allow", "%d rules, at most %d", len(p.Allow), maxAllow)
	} else {
		for i, a := range p.Allow {
			if err := checkAllow(a); err != nil {
				bad(fmt.Sprintf("allow[%d]", i), "%v", err)
			}
		}
		r.Allow = slices.Clone(p.Allow)
	}
	if len(p.Allow) > 0 && r.Network != NetworkAllowlist {
		bad("allow", "applies to network: allowlist only (this profile's network is %s)", r.Network)
	}
	for i, port := range p.LocalPorts {
		if port < 1 || port > 65535 {
			bad(fmt.Sprintf("localhost_ports[%d]", i), "%d is not a TCP port", port)
		}
	}
	if len(p.LocalPorts) > 0 && r.Network != NetworkLocalhost {
		bad("localhost_ports", "applies to network: localhost only (this profile's network is %s)", r.Network)
	}
	r.LocalPorts = slices.Clone(p.LocalPorts)
	if len(p.Env) > maxEnv {
		bad("env", "%d names, at most %d", len(p.Env), maxEnv)
	}
	for i, e := range p.Env {
		if !validEnvPattern(e) {
			bad(fmt.Sprintf("env[%d]", i), "%q: use a variable name, or a prefix followed by *", e)
		}
	}
	r.Env = slices.Clone(p.Env)
	for k, val := range p.SetEnv {
		if !validEnvPattern(k) || strings.HasSuffix(k, "*") {
			bad("set_env", "%q is not a variable name", k)
		}
		r.SetEnv[k] = val
	}
	dur := func(field, s string, def time.Duration) time.Duration {
		if s == "" {
			return def
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			bad("limits."+field, "%q: use a positive duration such as 90s or 10m", s)
		}
		return d
	}
	size := func(field, s string, def int64) int64 {
		if s == "" {
			return def
		}
		n, err := ParseSize(s)
		if err != nil {
			bad("limits."+field, "%v", err)
		}
		return n
	}
	def := Default().Limits
	defCPU, _ := time.ParseDuration(def.CPU)
	defWall, _ := time.ParseDuration(def.Wall)
	defMem, _ := ParseSize(def.Memory)
	defFile, _ := ParseSize(def.FileSize)
	defTmp, _ := ParseSize(def.TmpSize)
	r.CPU = dur("cpu", p.Limits.CPU, defCPU)
	r.Wall = dur("wall", p.Limits.Wall, defWall)
	r.Memory = size("memory", p.Limits.Memory, defMem)
	r.FileSize = size("file_size", p.Limits.FileSize, defFile)
	r.TmpSize = size("tmp_size", p.Limits.TmpSize, defTmp)
	r.Processes, r.OpenFiles = def.Processes, def.OpenFiles
	if n := p.Limits.Processes; n != 0 {
		if n < 1 || n > maxProcesses {
			bad("limits.processes", "%d: use 1 to %d", n, maxProcesses)
		}
		r.Processes = n
	}
	if n := p.Limits.OpenFiles; n != 0 {
		if n < 16 || n > maxOpenFiles {
			bad("limits.open_files", "%d: use 16 to %d", n, maxOpenFiles)
		}
		r.OpenFiles = n
	}
	for i, s := range append(slices.Clone(p.Seccomp.Deny), p.Seccomp.Allow...) {
		if !validSyscallName(s) {
			bad("seccomp", "entry %d %q is not a system call name", i, s)
		}
	}
	r.SeccompDeny, r.SeccompAllow = slices.Clone(p.Seccomp.Deny), slices.Clone(p.Seccomp.Allow)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// expand turns a profile path into an absolute clean one.
func expand(s string, v Vars) (string, error) {
	if s == "" {
		return "", errors.New("empty path")
	}
	if strings.ContainsRune(s, 0) {
		return "", errors.New("the path holds a NUL byte")
	}
	out := s
	if out == "~" || strings.HasPrefix(out, "~/") {
		if v.Home == "" {
			return "", fmt.Errorf("%q needs a home directory, and there is none", s)
		}
		out = v.Home + out[1:]
	}
	for name, val := range map[string]string{"${workspace}": v.Workspace, "${home}": v.Home, "${data_dir}": v.DataDir} {
		if strings.Contains(out, name) {
			if val == "" {
				return "", fmt.Errorf("%q refers to %s, which is not set for this run", s, name)
			}
			out = strings.ReplaceAll(out, name, val)
		}
	}
	if strings.Contains(out, "${") {
		return "", fmt.Errorf("%q: unknown variable; use ${workspace}, ${home} or ${data_dir}", s)
	}
	if !filepath.IsAbs(out) {
		return "", fmt.Errorf("%q is not absolute; start it with /, ~/ or a variable", s)
	}
	return filepath.Clean(out), nil
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	if dir == "/" {
		return true
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}

func validEnvPattern(s string) bool {
	s = strings.TrimSuffix(s, "*")
	if s == "" || len(s) > 128 {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func validSyscallName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// checkAllow checks an allowlist entry with the egress proxy's own
// parser, so that a profile that loads is one the proxy accepts.
func checkAllow(s string) error {
	_, err := egress.ParseRule(s)
	return err
}

// FormatSize writes n bytes as ParseSize reads them back.
func FormatSize(n int64) string { return strconv.FormatInt(n, 10) }

// ParseSize reads "512MiB", "2GiB", "100MB", "4096" (bytes).
func ParseSize(s string) (int64, error) {
	num := strings.TrimRight(s, "KMGTiBkb")
	unit := s[len(num):]
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q: use a positive size such as 512MiB or 2GiB", s)
	}
	mult := map[string]float64{"": 1, "B": 1, "K": 1 << 10, "KiB": 1 << 10, "KB": 1e3, "kB": 1e3, "M": 1 << 20, "MiB": 1 << 20, "MB": 1e6,
		"G": 1 << 30, "GiB": 1 << 30, "GB": 1e9, "T": 1 << 40, "TiB": 1 << 40, "TB": 1e12}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%q: unknown unit %q; use KiB, MiB, GiB (or KB, MB, GB)", s, unit)
	}
	v := n * mult
	if v > 1<<50 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(v), nil
}
