package pathgate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/gate"
)

// Limits on the work one path may cause.
const (
	// MaxPathLen is the longest path accepted, in bytes (PATH_MAX on Linux).
	MaxPathLen = 4096
	// MaxSymlinks is how many symbolic links one path may traverse, the
	// same bound the Linux kernel applies (ELOOP after 40).
	MaxSymlinks = 40
)

// Errors returned by Canonicalize. The gate maps ErrNUL to path.nul_byte
// and every other error to path.invalid.
var (
	ErrNUL     = errors.New("path contains a NUL byte")
	ErrEmpty   = errors.New("path is empty")
	ErrTooLong = fmt.Errorf("path is longer than %d bytes", MaxPathLen)
	ErrNoHome  = errors.New("path starts with ~ but the home directory is unknown")
	ErrNoBase  = errors.New("path is relative but neither the working directory nor the workspace is an absolute path")
	ErrLoop    = fmt.Errorf("path traverses more than %d symbolic links", MaxSymlinks)
)

// Resolved is a canonical path.
type Resolved struct {
	// Abs is absolute, clean and free of symbolic links in every part that
	// exists.
	Abs string
	// InWorkspace reports whether Abs is the workspace or below it, both
	// taken after symlink resolution.
	InWorkspace bool
	// Rel is Abs relative to the workspace with forward slashes ("." for
	// the workspace itself), set only when InWorkspace.
	Rel string
	// ViaSymlink is set when resolution followed at least one link.
	ViaSymlink bool
	// Lexical is the absolute, cleaned path before any link was followed.
	// A path whose Lexical form is inside the workspace but whose Abs is
	// not escapes the workspace through a link.
	Lexical string
	// Exists reports whether Abs existed when it was resolved. Paths under
	// /proc, /dev and /sys are reported as existing without looking.
	Exists bool
}

// Canonicalize returns an absolute, cleaned path with every existing
// symbolic link resolved.
//
// "~" and "~/x" expand to env.Home, as do the prefixes "$HOME" and
// "${HOME}"; "~root" is /root and "~name" is a sibling of env.Home. A
// relative path is joined to env.Cwd, or to env.Workspace when Cwd is not
// absolute. Links are then followed one component at a time, the way the
// kernel does, so that "link/../x" lands where the kernel would open it and
// a link inside the workspace that points to /etc is seen as /etc. At most
// MaxSymlinks links are followed. Below a component that does not exist
// nothing is looked up; ".." there simply drops the previous name. Paths under /proc, /dev and /sys are judged by name only: their
// links are per-process and would make the answer depend on who asks;
// /proc/<pid>/root is read as "/" and /proc/self/cwd as env.Cwd.
//
// An empty path, a NUL byte or more than MaxPathLen bytes is an error.
func Canonicalize(p string, env gate.Env) (Resolved, error) {
	r := newResolver(env)
	return r.resolve(p)
}

// resolver canonicalises many paths against one Env, resolving the
// workspace and home once.
type resolver struct {
	env gate.Env
	// wsLex and ws are the workspace as given and as resolved; ws is ""
	// when there is no usable workspace.
	wsLex, ws string
	// homeLex and home likewise for the home directory.
	homeLex, home string
	// seen remembers what Lstat said about each path during one call, so
	// that paths sharing directories cost one system call per directory.
	seen map[string]node
}

// node is what the walk needs to know about one existing path.
type node struct {
	exists bool
	link   bool
}

func (r *resolver) lstat(p string) node {
	if n, ok := r.seen[p]; ok {
		return n
	}
	var n node
	if fi, err := os.Lstat(p); err == nil {
		n = node{exists: true, link: fi.Mode()&os.ModeSymlink != 0}
	}
	if r.seen == nil {
		r.seen = make(map[string]node, 16)
	}
	r.seen[p] = n
	return n
}

func newResolver(env gate.Env) *resolver {
	r := &resolver{env: env}
	if w := env.Workspace; w != "" && filepath.IsAbs(w) && len(w) <= MaxPathLen && !strings.Contains(w, "\x00") {
		r.wsLex = filepath.Clean(w)
		if env.Resolved {
			r.ws = r.wsLex
		} else if abs, _, _, err := r.walk(r.wsLex); err == nil {
			r.ws = abs
		}
	}
	if h := env.Home; h != "" && filepath.IsAbs(h) && len(h) <= MaxPathLen && !strings.Contains(h, "\x00") {
		r.homeLex = filepath.Clean(h)
		if env.Resolved {
			r.home = r.homeLex
		} else if abs, _, _, err := r.walk(r.homeLex); err == nil {
			r.home = abs
		}
	}
	return r
}

// check rejects what no path may be.
func check(p string) error {
	switch {
	case p == "":
		return ErrEmpty
	case strings.IndexByte(p, 0) >= 0:
		return ErrNUL
	case len(p) > MaxPathLen:
		return ErrTooLong
	}
	return nil
}

// lexical expands the home forms and makes p absolute. It returns the
// path both as written (for the walk, which applies ".." physically) and
// cleaned.
func (r *resolver) lexical(p string) (raw, clean string, err error) {
	if err := check(p); err != nil {
		return "", "", err
	}
	p, err = r.expandHome(p)
	if err != nil {
		return "", "", err
	}
	if !filepath.IsAbs(p) {
		base := r.base()
		if base == "" {
			return "", "", ErrNoBase
		}
		p = base + string(filepath.Separator) + p
	}
	clean = filepath.Clean(p)
	if len(clean) > MaxPathLen {
		return "", "", ErrTooLong
	}
	return p, clean, nil
}

// base is the directory relative paths resolve against.
func (r *resolver) base() string {
	if c := r.env.Cwd; c != "" && filepath.IsAbs(c) && !strings.Contains(c, "\x00") {
		return c
	}
	return r.wsLex
}

// ExpandHome replaces a leading "~", "~/", "~user", "$HOME" or "${HOME}"
// with the home directory; other paths are returned unchanged.
func ExpandHome(p, home string) (string, error) {
	r := resolver{env: gate.Env{Home: home}}
	if home != "" {
		r.homeLex = filepath.Clean(home)
	}
	return r.expandHome(p)
}

func (r *resolver) expandHome(p string) (string, error) {
	var rest string
	switch {
	case p == "~" || strings.HasPrefix(p, "~/"):
		rest = p[1:]
	case p == "$HOME" || strings.HasPrefix(p, "$HOME/"):
		rest = p[len("$HOME"):]
	case p == "${HOME}" || strings.HasPrefix(p, "${HOME}/"):
		rest = p[len("${HOME}"):]
	case strings.HasPrefix(p, "~"):
		// "~name" is another user's home. Without a user database the
		// honest guess is a sibling of ours; "~root" is known.
		name, tail, _ := strings.Cut(p[1:], "/")
		if !validUser(name) {
			return p, nil // a file literally named "~x"
		}
		if tail != "" {
			tail = "/" + tail
		}
		if name == "root" {
			return "/root" + tail, nil
		}
		if r.homeLex == "" {
			return "", ErrNoHome
		}
		return filepath.Join(filepath.Dir(r.homeLex), name) + tail, nil
	default:
		return p, nil
	}
	if r.homeLex == "" {
		return "", ErrNoHome
	}
	return r.homeLex + rest, nil
}

// validUser reports whether the shell would read "~name" as a user's home.
func validUser(name string) bool {
	if name == "" || len(name) > 32 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// resolve canonicalises one literal path.
func (r *resolver) resolve(p string) (Resolved, error) {
	raw, lex, err := r.lexical(p)
	if err != nil {
		return Resolved{}, err
	}
	abs, via, exists, err := r.walk(raw)
	if err != nil {
		return Resolved{}, err
	}
	return r.finish(lex, abs, via, exists), nil
}

func (r *resolver) finish(lex, abs string, via, exists bool) Resolved {
	res := Resolved{Abs: abs, Lexical: lex, ViaSymlink: via, Exists: exists}
	if rel, ok := within(r.ws, abs); ok {
		res.InWorkspace = true
		res.Rel = filepath.ToSlash(rel)
	}
	return res
}

// within reports whether p is dir or below it, and returns p relative to
// dir ("." for dir itself).
func within(dir, p string) (string, bool) {
	if dir == "" {
		return "", false
	}
	if p == dir {
		return ".", true
	}
	if dir == "/" {
		return p[1:], true
	}
	if len(p) > len(dir) && p[len(dir)] == '/' && strings.HasPrefix(p, dir) {
		return p[len(dir)+1:], true
	}
	return "", false
}

// lexInWorkspace reports whether a lexical path is inside the workspace as
// given or as resolved.
func (r *resolver) lexInWorkspace(lex string) bool {
	if _, ok := within(r.wsLex, lex); ok {
		return true
	}
	_, ok := within(r.ws, lex)
	return ok
}

// walk follows the links in an absolute path, one component at a time, and
// returns the physical path: ".." is applied to the directory a link led
// to, as the kernel does. It reads the file system with
// Lstat and Readlink only.
func (r *resolver) walk(lex string) (abs string, via, exists bool, err error) {
	resolved, rest := r.start(lex)
	hops := 0
	// missing counts the components below the first one that does not
	// exist; nothing below it can exist, so no call is made for them.
	missing := 0
	for rest != "" {
		var comp string
		comp, rest, _ = strings.Cut(rest, "/")
		switch comp {
		case "", ".":
			continue
		case "..":
			if missing > 0 {
				missing--
			}
			resolved = filepath.Dir(resolved)
			continue
		}
		next := join(resolved, comp)
		if missing > 0 {
			missing++
			resolved = next
			continue
		}
		if pseudo(next) {
			// /proc/<pid>/root is the process's root and /proc/self/cwd
			// its directory: read them so that /proc/self/root/etc/shadow
			// is seen as /etc/shadow.
			if pid, ok := strings.CutPrefix(next, "/proc/"); ok && !strings.Contains(pid, "/") && pid != "" {
				sub, after, _ := strings.Cut(rest, "/")
				switch {
				case sub == "root" && isPID(pid):
					hops++
					via = true
					resolved, rest = "/", after
					if hops > MaxSymlinks {
						return "", false, false, ErrLoop
					}
					continue
				case sub == "cwd" && (pid == "self" || pid == "thread-self") && filepath.IsAbs(r.env.Cwd):
					hops++
					via = true
					if hops > MaxSymlinks {
						return "", false, false, ErrLoop
					}
					resolved = "/"
					rest = strings.TrimPrefix(filepath.Clean(r.env.Cwd), "/") + "/" + after
					if len(rest) > 2*MaxPathLen {
						return "", false, false, ErrTooLong
					}
					continue
				}
			}
			resolved = next
			continue
		}
		n := r.lstat(next)
		if !n.exists {
			// Not there (or not searchable): the rest is kept as written.
			missing = 1
			resolved = next
			continue
		}
		if !n.link {
			resolved = next
			continue
		}
		hops++
		if hops > MaxSymlinks {
			return "", false, false, ErrLoop
		}
		target, rerr := os.Readlink(next)
		if rerr != nil {
			return "", false, false, fmt.Errorf("cannot read link %s: %w", next, rerr)
		}
		if target == "" || strings.IndexByte(target, 0) >= 0 {
			return "", false, false, fmt.Errorf("link %s has an unusable target", next)
		}
		via = true
		if rest != "" {
			target += "/" + rest
		}
		if len(target) > 2*MaxPathLen {
			return "", false, false, ErrTooLong
		}
		if filepath.IsAbs(target) {
			resolved, rest = r.start(target)
		} else {
			rest = target
		}
	}
	if len(resolved) > MaxPathLen {
		return "", false, false, ErrTooLong
	}
	return resolved, via, missing == 0, nil
}

// start splits an absolute path into the directory the walk may begin at
// and the rest. Below the workspace or the home it begins there: both were
// resolved by this same walk, so the answer is the same and the prefix
// costs no system calls.
func (r *resolver) start(p string) (resolved, rest string) {
	for _, k := range [...][2]string{{r.wsLex, r.ws}, {r.homeLex, r.home}} {
		if k[1] == "" {
			continue
		}
		if tail, ok := within(k[0], p); ok {
			if tail == "." {
				tail = ""
			}
			return k[1], tail
		}
	}
	return "/", p[1:]
}

func join(dir, comp string) string {
	if dir == "/" {
		return "/" + comp
	}
	return dir + "/" + comp
}

// pseudo reports whether p is in a pseudo file system whose links depend
// on the process looking at them.
func pseudo(p string) bool {
	for _, d := range [...]string{"/proc", "/dev", "/sys"} {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

func isPID(s string) bool {
	if s == "self" || s == "thread-self" {
		return true
	}
	if len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
