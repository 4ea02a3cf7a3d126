package shell

import (
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// cmd is one simple command while it is analysed.
type cmd struct {
	name string // base name ("rm")
	path string // as written when it had a directory ("/bin/rm")
	args []field
	env  []envVar
	c    *ctx
	st   *syntax.Stmt
	rs   *redirs
	// wrappers and priv accumulate while wrappers are peeled.
	wrappers []string
	priv     bool
	// repl is set for "!cmd" lines typed into an interactive program.
	repl bool
	// nameSubst is set when the name came from a substitution.
	nameSubst bool
	// xargs is set when the arguments are completed from stdin.
	xargs bool
	// unmodeled is set when no handler knows the program.
	unmodeled bool
	// firstPath and firstDest index the first path and destination this
	// command recorded.
	firstPath int
	firstDest int
}

// detail is the source text a finding about k quotes: the whole pipeline
// when k is a stage of one (what flows in matters), else the statement.
func (k *cmd) detail() string {
	if k.c != nil && k.c.pipe != "" {
		return k.c.pipe
	}
	if k.st == nil {
		return k.name
	}
	return fragment(k.c, k.st)
}

// strs returns the argument values.
func (k *cmd) strs() []string {
	out := make([]string, len(k.args))
	for i, a := range k.args {
		out[i] = a.s
	}
	return out
}

func (k *cmd) envVal(name string) (field, bool) {
	for _, e := range k.env {
		if e.name == name {
			return e.val, true
		}
	}
	return field{}, false
}

// opt is one parsed option.
type opt struct {
	name string // "-r", "--recursive"
	val  field
	has  bool
}

// parsed is a command line split into options and operands.
type parsed struct {
	opts []opt
	pos  []field
}

// spec says which options take a value. short holds the letters of short
// options with a value; long holds long option names (with "--") taking
// a value.
type spec struct {
	short string
	long  []string
	// stopAtFirst stops option parsing at the first operand (POSIX).
	stopAtFirst bool
	// longSingle accepts long options with one dash (-name value), as find,
	// java and X programs do.
	longSingle bool
}

func (s spec) longTakes(name string) bool {
	for _, l := range s.long {
		if l == name {
			return true
		}
	}
	return false
}

// parse splits args into options and operands.
func parse(args []field, s spec) parsed {
	var p parsed
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a.s == "--" && !a.quoted:
			p.pos = append(p.pos, args[i+1:]...)
			return p
		case strings.HasPrefix(a.s, "--") && len(a.s) > 2:
			name, val, eq := strings.Cut(a.s, "=")
			o := opt{name: name}
			if eq {
				o.val, o.has = field{s: val, dyn: a.dyn, flow: a.flow, subst: a.subst}, true
			} else if s.longTakes(name) && i+1 < len(args) {
				i++
				o.val, o.has = args[i], true
			}
			p.opts = append(p.opts, o)
		case strings.HasPrefix(a.s, "-") && len(a.s) > 1 && !a.dyn:
			if s.longSingle {
				name, val, eq := strings.Cut(a.s, "=")
				o := opt{name: name}
				if eq {
					o.val, o.has = field{s: val}, true
				} else if s.longTakes(name) && i+1 < len(args) {
					i++
					o.val, o.has = args[i], true
				}
				p.opts = append(p.opts, o)
				continue
			}
			body := a.s[1:]
			for j := 0; j < len(body); j++ {
				ch := body[j]
				o := opt{name: "-" + string(ch)}
				if strings.IndexByte(s.short, ch) >= 0 {
					if j+1 < len(body) {
						o.val, o.has = field{s: body[j+1:], dyn: a.dyn}, true
					} else if i+1 < len(args) {
						i++
						o.val, o.has = args[i], true
					}
					p.opts = append(p.opts, o)
					break
				}
				p.opts = append(p.opts, o)
			}
		default:
			p.pos = append(p.pos, a)
			if s.stopAtFirst {
				p.pos = append(p.pos, args[i+1:]...)
				return p
			}
		}
	}
	return p
}

// has reports whether any of the named options is present.
func (p parsed) has(names ...string) bool {
	for _, o := range p.opts {
		for _, n := range names {
			if o.name == n {
				return true
			}
		}
	}
	return false
}

// val returns the value of the last of the named options present.
func (p parsed) val(names ...string) (field, bool) {
	var v field
	found := false
	for _, o := range p.opts {
		for _, n := range names {
			if o.name == n && o.has {
				v, found = o.val, true
			}
		}
	}
	return v, found
}

// vals returns every value of the named options.
func (p parsed) vals(names ...string) []field {
	var out []field
	for _, o := range p.opts {
		for _, n := range names {
			if o.name == n && o.has {
				out = append(out, o.val)
			}
		}
	}
	return out
}

// baseName returns the program name of a command word.
func baseName(s string) (name, dir string) {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:], s
	}
	return s, ""
}

// cleanPath normalises a path for comparisons ("//etc/" → "/etc").
func cleanPath(p string) string {
	if p == "" {
		return p
	}
	c := path.Clean(p)
	if strings.HasPrefix(p, "~") && c == "~" {
		return "~"
	}
	return c
}

// isPathLike reports whether an operand looks like a file path rather
// than a word, a number or a pattern.
func isPathLike(s string) bool {
	if s == "" || s == "-" {
		return false
	}
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") ||
		strings.HasPrefix(s, "~") || s == "." || s == ".." {
		return true
	}
	if strings.Contains(s, "://") {
		return false
	}
	if strings.HasPrefix(s, ".") && len(s) > 1 && !strings.ContainsAny(s, " \t") {
		return true
	}
	return strings.Contains(s, "/") && !strings.ContainsAny(s, " \t\n")
}
