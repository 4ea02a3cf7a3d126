package pathgate

import (
	"os"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/sentinel-agent/sentinel/internal/gate"
)

// scene is the per-call state: the resolved workspace and home in the
// forms patterns are matched against.
type scene struct {
	g *Gate
	r *resolver
	// homes and workspaces hold each directory as given and as resolved,
	// folded when matching ignores case.
	homes, workspaces []string
	// homeComps and wsComps are the same split into components, built
	// only when a wildcard path needs them.
	homeComps, wsComps [][]string
	// classes remembers the class of each path as written, for ClassifyIn.
	classes map[string]Class
	// memo is the gate's match memo for this scene's home and workspace.
	memo *matchMemo
}

func (sc *scene) remember(p string, c Class) {
	if sc.classes == nil {
		sc.classes = make(map[string]Class, 4)
	}
	sc.classes[p] = c
}

func (g *Gate) newScene(env gate.Env) *scene {
	sc := &scene{g: g, r: newResolver(env)}
	add := func(list []string, s string) []string {
		if s == "" {
			return list
		}
		s = g.foldS(s)
		for _, x := range list {
			if x == s {
				return list
			}
		}
		return append(list, s)
	}
	sc.homes = add(add(nil, sc.r.homeLex), sc.r.home)
	sc.workspaces = add(add(nil, sc.r.wsLex), sc.r.ws)
	return sc
}

func (g *Gate) foldS(s string) string {
	if g.fold {
		return strings.ToLower(s)
	}
	return s
}

// target is one path ready to be judged.
type target struct {
	raw string
	res Resolved
	err error
	// glob is set when the path holds wildcards that stand for names.
	glob bool
	// dynamic is the PathRef's Dynamic flag.
	dynamic bool
	// unknownRoot is set when the path's location is unknown: it starts
	// with a run-time value, or climbs out of one with "..".
	unknownRoot bool
	// bare is set when nothing at all is known of the path ("*").
	bare bool
	// prefix is the canonical directory above the first wildcard.
	prefix string
	// comps is the folded canonical path split into components, with a
	// leading anyPath when the root is unknown; set for glob targets only.
	comps []string
}

func (sc *scene) literal(p string) target {
	t := target{raw: p}
	t.res, t.err = sc.r.resolve(p)
	return t
}

// wildcard resolves a path with glob characters: the static directory above
// the first wildcard is canonicalised, the rest is kept as written.
func (sc *scene) wildcard(p string, dynamic bool) target {
	t := target{raw: p, glob: true, dynamic: dynamic}
	if err := check(p); err != nil {
		t.err = err
		return t
	}
	exp, err := sc.r.expandHome(p)
	if err != nil {
		t.err = err
		return t
	}
	parts := strings.Split(exp, "/")
	first := -1
	for i, c := range parts {
		if hasMeta(c) {
			first = i
			break
		}
	}
	if first < 0 {
		// No wildcard after all (a Dynamic path fully resolved).
		lt := sc.literal(p)
		lt.dynamic = dynamic
		return lt
	}
	for _, c := range parts[first+1:] {
		if c == ".." {
			// "$X/.." may be anywhere.
			t.unknownRoot = true
		}
	}
	abs := strings.HasPrefix(exp, "/")
	if !abs && first == 0 && dynamic {
		t.unknownRoot = true
	}
	if t.unknownRoot {
		var rest []string
		for _, c := range parts[first:] {
			// A leading "*" says nothing; "*.pem" still names the file.
			if c != "" && c != "." && c != ".." && !(c == "*" && len(rest) == 0) {
				rest = append(rest, sc.g.foldS(c))
			}
		}
		t.bare = len(rest) == 0
		t.comps = append([]string{anyPath}, rest...)
		t.res = Resolved{Abs: "**/" + strings.Join(rest, "/")}
		return t
	}
	head := strings.Join(parts[:first], "/")
	if abs && head == "" {
		head = "/"
	}
	if head == "" {
		head = "."
	}
	pre, err := sc.r.resolve(head)
	if err != nil {
		t.err = err
		return t
	}
	var tail []string
	for _, c := range parts[first:] {
		if c != "" && c != "." {
			tail = append(tail, c)
		}
	}
	t.prefix = pre.Abs
	full := join(pre.Abs, strings.Join(tail, "/"))
	if len(full) > MaxPathLen {
		t.err = ErrTooLong
		return t
	}
	t.res = sc.r.finish(join(pre.Lexical, strings.Join(tail, "/")), full, pre.ViaSymlink, false)
	t.comps = splitComps(sc.g.foldS(full))
	return t
}

// matchLiteral returns the first pattern matching the folded canonical
// path s.
func (sc *scene) matchLiteral(pats []pattern, s string) (*pattern, bool) {
	if len(pats) == 0 {
		return nil, false
	}
	if sc.memo == nil {
		sc.memo = sc.g.memoFor(sc.r.homeLex+"\x00"+sc.r.home, sc.r.wsLex+"\x00"+sc.r.ws)
	}
	key := matchKey{&pats[0], s}
	if r, ok := sc.memo.m.Load(key); ok {
		res := r.(matchResult)
		return res.p, res.ok
	}
	p, ok := sc.matchLiteralSlow(pats, s)
	if sc.g.memoCount.Add(1) > maxMatchMemo {
		sc.g.matches.Clear()
		sc.g.memoCount.Store(0)
	}
	sc.memo.m.Store(key, matchResult{p, ok})
	return p, ok
}

func (sc *scene) matchLiteralSlow(pats []pattern, s string) (*pattern, bool) {
	base := s[strings.LastIndexByte(s, '/')+1:]
	for i := range pats {
		p := &pats[i]
		if p.ownSkip && sc.own(p) {
			continue
		}
		switch {
		case p.base != "":
			if base == p.base {
				return p, true
			}
			continue
		case p.suffix != "":
			if strings.HasSuffix(base, p.suffix) {
				return p, true
			}
			continue
		}
		switch p.anchor {
		case anchorAbs, anchorAny:
			if p.exact {
				if s == p.glob {
					return p, true
				}
				continue
			}
			if strings.HasPrefix(s, p.lit) && doublestar.MatchUnvalidated(p.glob, s) {
				return p, true
			}
		case anchorHome, anchorWorkspace:
			dirs := sc.homes
			if p.anchor == anchorWorkspace {
				dirs = sc.workspaces
			}
			for _, d := range dirs {
				if rel, ok := within(d, s); ok {
					if rel == "." {
						rel = ""
					}
					if p.exact && rel == p.glob || !p.exact && strings.HasPrefix(rel, p.lit) && doublestar.MatchUnvalidated(p.glob, rel) {
						return p, true
					}
				}
			}
		}
	}
	return nil, false
}

// matchGlob returns the first pattern some expansion of the wildcard path
// q could match. Patterns anchored at a known place are intersected
// loosely, patterns naming files anywhere strictly (see intersects), and
// for those a literal name ("id_rsa", "package.json") also counts when
// the one directory the wildcard lists holds it: dir is that directory,
// or "" when the wildcards are not confined to the last component.
//
// With under set, q stands for everything below a directory and only
// anchored patterns count ("rm -r ~" reaches ~/.ssh, but not every ".env"
// that might exist somewhere below); with userOnly, only patterns under the
// home or the workspace count.
func (sc *scene) matchGlob(pats []pattern, q []string, dir string, under, userOnly bool) (*pattern, bool) {
	if len(pats) == 0 {
		return nil, false
	}
	if dir != "" {
		// With a directory the answer depends on what is on disk
		// (present): never remembered.
		return sc.matchGlobSlow(pats, q, dir, under, userOnly)
	}
	if sc.memo == nil {
		sc.memo = sc.g.memoFor(sc.r.homeLex+"\x00"+sc.r.home, sc.r.wsLex+"\x00"+sc.r.ws)
	}
	flags := "g"
	if under {
		flags += "u"
	}
	if userOnly {
		flags += "o"
	}
	key := matchKey{&pats[0], flags + "\x00" + dir + "\x00" + strings.Join(q, "/")}
	if r, ok := sc.memo.m.Load(key); ok {
		res := r.(matchResult)
		return res.p, res.ok
	}
	p, ok := sc.matchGlobSlow(pats, q, dir, under, userOnly)
	if sc.g.memoCount.Add(1) > maxMatchMemo {
		sc.g.matches.Clear()
		sc.g.memoCount.Store(0)
	}
	sc.memo.m.Store(key, matchResult{p, ok})
	return p, ok
}

func (sc *scene) matchGlobSlow(pats []pattern, q []string, dir string, under, userOnly bool) (*pattern, bool) {
	for i := range pats {
		p := &pats[i]
		if p.ownSkip && sc.own(p) {
			continue
		}
		var bases [][]string
		switch p.anchor {
		case anchorAny:
			if under {
				continue
			}
			bases = [][]string{nil}
		case anchorAbs:
			if userOnly {
				continue
			}
			bases = [][]string{nil}
		case anchorHome:
			bases = sc.comps(&sc.homeComps, sc.homes)
		case anchorWorkspace:
			bases = sc.comps(&sc.wsComps, sc.workspaces)
		}
		strict := p.anchor == anchorAny
		// Anchored patterns and paths that both start with a literal
		// directory can only meet if those directories are the same:
		// a cheap test that spares most of the component matching.
		q0 := ""
		if !strict && len(q) > 0 && q[0] != anyPath && !hasMeta(q[0]) {
			q0 = q[0]
		}
		for _, b := range bases {
			for _, alt := range p.alts {
				if q0 != "" {
					first := ""
					if len(b) > 0 {
						first = b[0]
					} else if len(alt) > 0 {
						first = alt[0]
					}
					if first != "" && !hasMeta(first) && first != q0 {
						continue
					}
				}
				if intersects(b, alt, q, strict) {
					return p, true
				}
			}
		}
		if strict && dir != "" && len(q) > 0 && sc.present(p, dir, q[len(q)-1]) {
			return p, true
		}
	}
	return nil, false
}

// present reports whether the directory dir holds a file named by the
// unanchored pattern p that the wildcard name last could expand to. It
// is the one place the gate asks whether a file exists, and only with
// Lstat.
func (sc *scene) present(p *pattern, dir, last string) bool {
	for _, name := range p.names {
		cand := dir + name
		if !compIntersects(sc.g.foldS(name), last, false) || !doublestar.MatchUnvalidated(p.glob, sc.g.foldS(cand)) {
			continue
		}
		if _, err := os.Lstat(cand); err == nil {
			return true
		}
	}
	return false
}

// own reports whether a pattern's tree is the user's home or holds the
// workspace.
func (sc *scene) own(p *pattern) bool {
	for _, h := range sc.homes {
		if h == p.tree {
			return true
		}
	}
	for _, w := range sc.workspaces {
		if _, ok := within(p.tree, w); ok {
			return true
		}
	}
	return false
}

func (sc *scene) comps(cache *[][]string, dirs []string) [][]string {
	if *cache == nil {
		*cache = make([][]string, 0, len(dirs))
		for _, d := range dirs {
			*cache = append(*cache, splitComps(d))
		}
	}
	return *cache
}

// classify computes the class of a resolved target.
func (g *Gate) classify(sc *scene, t *target) Class {
	c := Class{Resolved: t.res, InWorkspace: t.res.InWorkspace}
	// A name is judged both as written and where it leads: a link named
	// .env is as sensitive as the file it points to.
	cands := [2]string{g.foldS(t.res.Abs), ""}
	if !t.glob && t.res.Lexical != t.res.Abs {
		cands[1] = g.foldS(t.res.Lexical)
	}
	sensitive := func(pats []pattern) (*pattern, bool) {
		if t.glob {
			if t.bare {
				return nil, false
			}
			// Wildcards are not looked up on disk for secrets: "cat
			// keys/*" is judged by what the pattern lists can say.
			if p, ok := sc.matchGlob(pats, t.comps, "", false, false); ok {
				if _, ex := sc.matchLiteral(g.exceptions, cands[0]); !ex {
					return p, true
				}
			}
			return nil, false
		}
		for _, s := range cands {
			if s == "" {
				continue
			}
			if p, ok := sc.matchLiteral(pats, s); ok {
				if _, ex := sc.matchLiteral(g.exceptions, s); !ex {
					return p, true
				}
			}
		}
		return nil, false
	}
	if p, ok := sensitive(g.sensitive); ok {
		c.Sensitive, c.WriteSensitive, c.Pattern = true, true, p.src
	} else {
		if p, ok := sensitive(g.readSensitive); ok {
			c.Sensitive, c.Pattern = true, p.src
		}
		if p, ok := sensitive(g.writeSensitive); ok {
			c.WriteSensitive = true
			if c.Pattern == "" {
				c.Pattern = p.src
			}
		}
	}
	if c.Sensitive || c.WriteSensitive {
		c.Label = label(c.Pattern)
	}

	if p, ok := g.protectedMatch(sc, t, cands); ok {
		c.Protected = true
		if c.Pattern == "" {
			c.Pattern = p.src
		}
	}

	if t.unknownRoot {
		return c
	}
	s := cands[0]
	if _, ok := sc.matchLiteral(g.temp, s); ok {
		c.Temp = true
	}
	if _, ok := sc.matchLiteral(g.systemExceptions, s); ok {
		c.InWriteScope = true
	} else if _, ok := sc.matchLiteral(g.scope, s); ok {
		c.InWriteScope = true
	}
	if !c.InWriteScope && !c.InWorkspace && !sc.inHome(s) {
		// A workspace in /usr/src/app or /opt/project is the agent's own
		// place, not the system's.
		_, sys := sc.matchLiteral(g.system, s)
		if sys {
			if _, admin := sc.matchLiteral(g.adminAreas, s); admin {
				sys = false
			}
		}
		c.System = sys || t.res.Abs == "/" || (t.glob && t.prefix == "/")
	}
	return c
}

// below returns the components of everything under a target.
func (sc *scene) below(t *target) []string {
	q := t.comps
	if !t.glob {
		q = splitComps(sc.g.foldS(t.res.Abs))
	}
	return append(q[:len(q):len(q)], anyPath)
}

// protectedMatch finds a protected pattern for the target.
func (g *Gate) protectedMatch(sc *scene, t *target, cands [2]string) (*pattern, bool) {
	if !t.glob {
		for _, s := range cands {
			if s == "" {
				continue
			}
			if p, ok := sc.matchLiteral(g.protected, s); ok {
				return p, true
			}
		}
		return nil, false
	}
	if t.bare || t.unknownRoot {
		return nil, false
	}
	return sc.matchGlob(g.protected, t.comps, t.listDir(), false, false)
}

// listDir returns the directory, with a trailing slash, whose entries a
// wildcard in the last component lists; "" when there is none.
func (t *target) listDir() string {
	// A run-time value stands for one name, not for every entry.
	if !t.glob || t.dynamic || t.unknownRoot || t.prefix == "" {
		return ""
	}
	i := strings.LastIndexByte(t.res.Abs, '/')
	if i < 0 {
		return ""
	}
	dir := t.res.Abs[:i+1]
	if strings.TrimSuffix(dir, "/") != t.prefix && dir != t.prefix {
		return "" // wildcards above the last component
	}
	return dir
}

// label names the kind of file a sensitive pattern guards, for messages.
func label(pattern string) string {
	p := strings.ToLower(pattern)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(p, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has(".sentinel"):
		return "Sentinel's own data"
	case strings.HasPrefix(p, "/root/"):
		return "a file in root's home"
	case has(".git/hooks", ".husky"):
		return "a git hook"
	case has(".git/config"):
		return "a git configuration that may hold tokens"
	case has("history"):
		return "a shell or client history"
	case has("environ"):
		return "a process environment"
	case has("/proc/", "/mem"):
		return "process memory"
	case has("shadow", "sudoers"):
		return "a system credential file"
	case has("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "ssh_host", ".pem", ".key", ".p12", ".pfx", ".jks", ".keystore"):
		return "a private key"
	case has(".ssh"):
		return "an SSH key or configuration file"
	case has(".env"):
		return "an environment file"
	case has("gnupg", "password-store", "kdbx", "keyrings", "/op/"):
		return "a password or key store"
	case has("secrets"):
		return "a secret"
	}
	return "a credential file"
}

// inHome reports whether a canonical path is the user's home or below it:
// the user's own files are never system locations, even when the home
// directory is /root.
func (sc *scene) inHome(s string) bool {
	h := sc.r.home
	if h == "" || h == "/" {
		return false
	}
	h = sc.g.foldS(h)
	return s == h || strings.HasPrefix(s, h+"/")
}
