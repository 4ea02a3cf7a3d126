package schemagate

import (
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/sentinel-agent/sentinel/internal/gate"
)

// resolved is a path value after lexical resolution.
type resolved struct {
	abs    string
	rel    string // workspace-relative, "." for the workspace itself
	inside bool
}

// resolvePath resolves a path value the way the path gate will, without
// touching the file system: "~" and "~/…" against env.Home, relative paths
// against env.Cwd (or env.Workspace), then filepath.Clean. A non-empty
// problem says why the path cannot be resolved; callers refuse such paths,
// since what cannot be resolved cannot be shown to be safe.
func resolvePath(raw string, env gate.Env) (r resolved, problem string) {
	switch {
	case strings.IndexByte(raw, 0) >= 0:
		return r, "contains a NUL byte"
	case len(raw) > maxPathLen:
		return r, "is longer than 4096 bytes"
	}
	p := raw
	switch {
	case p == "~" || strings.HasPrefix(p, "~/"):
		if env.Home == "" {
			return r, "starts with ~ but no home directory is configured"
		}
		p = filepath.Join(env.Home, p[1:])
	case strings.HasPrefix(p, "~"):
		return r, "starts with ~user, which Sentinel does not expand; use an absolute path"
	case !filepath.IsAbs(p):
		base := env.Cwd
		if base == "" {
			base = env.Workspace
		}
		if base == "" {
			return r, "is relative but no working directory or workspace is known"
		}
		p = filepath.Join(base, p)
	}
	r.abs = filepath.Clean(p)
	if env.Workspace != "" {
		ws := filepath.Clean(env.Workspace)
		switch {
		case r.abs == ws:
			r.rel, r.inside = ".", true
		case ws == "/":
			r.rel, r.inside = r.abs[1:], true
		case strings.HasPrefix(r.abs, ws) && r.abs[len(ws)] == '/':
			r.rel, r.inside = r.abs[len(ws)+1:], true
		}
	}
	return r, ""
}

// globMode says what part of a resolved path a glob is matched against.
type globMode int

const (
	globBase globMode = iota // no slash: base name and workspace-relative path
	globRel                  // relative with a slash: workspace-relative path
	globAbs                  // leading "/": absolute path
	globHome                 // leading "~/": path below the home directory
)

type glob struct {
	src  string // as written in the policy, for messages
	pat  string // what is handed to doublestar
	mode globMode
}

func newGlob(src string) glob {
	g := glob{src: src, pat: src}
	switch {
	case strings.HasPrefix(src, "~/"):
		g.mode, g.pat = globHome, src[2:]
	case strings.HasPrefix(src, "/"):
		g.mode = globAbs
	case strings.Contains(src, "/"):
		g.mode, g.pat = globRel, strings.TrimPrefix(src, "./")
	}
	return g
}

func (g glob) valid() bool { return g.pat != "" && doublestar.ValidatePattern(g.pat) }

func (g glob) match(r resolved, env gate.Env) bool {
	switch g.mode {
	case globBase:
		if doublestar.MatchUnvalidated(g.pat, filepath.Base(r.abs)) {
			return true
		}
		return r.inside && doublestar.MatchUnvalidated(g.pat, r.rel)
	case globRel:
		if r.inside {
			return doublestar.MatchUnvalidated(g.pat, r.rel)
		}
		return doublestar.MatchUnvalidated(g.pat, strings.TrimPrefix(r.abs, "/"))
	case globAbs:
		return doublestar.MatchUnvalidated(g.pat, r.abs)
	case globHome:
		if env.Home == "" {
			return false
		}
		home := filepath.Clean(env.Home)
		rest, ok := strings.CutPrefix(r.abs, home)
		if !ok || (home != "/" && rest != "" && rest[0] != '/') {
			return false
		}
		return doublestar.MatchUnvalidated(g.pat, strings.TrimPrefix(rest, "/"))
	}
	return false
}

// forEachPath calls fn with each path a field carries: a string, or an
// array of strings. It reports false when the value has another shape or
// carries too many paths.
func forEachPath(v any, fn func(string)) bool {
	switch t := v.(type) {
	case string:
		fn(t)
		return true
	case []string:
		if len(t) > maxPathValues {
			return false
		}
		for _, s := range t {
			fn(s)
		}
		return true
	case []any:
		if len(t) > maxPathValues {
			return false
		}
		for _, e := range t {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		for _, e := range t {
			fn(e.(string))
		}
		return true
	}
	return false
}
