package pathgate

import (
	"errors"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// anyPath is a path component standing for any number of directories,
// dot directories included: an unknown location, or everything below a
// directory. It holds a NUL byte, so no real component can equal it.
const anyPath = "\x00**"

// hasMeta reports whether s contains a glob character.
func hasMeta(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '{', '\\':
			return true
		}
	}
	return false
}

// expandBraces expands "{a,b}" alternatives (nested, with backslash
// escapes) into at most max plain globs.
func expandBraces(s string, max int) ([]string, error) {
	open := -1
	depth := 0
	inClass := false
	var commas []int
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
		case c == '{':
			if depth == 0 {
				open = i
				commas = commas[:0]
			}
			depth++
		case c == ',' && depth == 1:
			commas = append(commas, i)
		case c == '}' && depth > 0:
			depth--
			if depth > 0 {
				continue
			}
			prefix, suffix := s[:open], s[i+1:]
			bounds := append(append([]int{open}, commas...), i)
			var out []string
			for k := 0; k+1 < len(bounds); k++ {
				alt := prefix + s[bounds[k]+1:bounds[k+1]] + suffix
				more, err := expandBraces(alt, max-len(out))
				if err != nil {
					return nil, err
				}
				out = append(out, more...)
				if len(out) > max {
					return nil, errors.New("too many brace alternatives")
				}
			}
			return out, nil
		}
	}
	if max < 1 {
		return nil, errors.New("too many brace alternatives")
	}
	return []string{s}, nil
}

// intersects reports whether some path could match both pre+p, a
// pattern's components, and q, a path's components with wildcards in it.
// "**" in either stands for any number of components.
//
// Loose matching errs on the side of "yes": two wildcard components overlap
// when their literal prefixes and suffixes agree, and a wildcard reaches
// any literal name. It suits patterns anchored at a known place, where
// "/etc/*" must be taken to touch /etc/shadow. Strict matching is for
// patterns that name files anywhere ("*.pem", "id_rsa"): there a wildcard
// counts only when it is at least as specific as the pattern ("*.pem",
// "prod*.pem"), otherwise every "cat src/*" would be refused.
//
// A q that starts with anyPath is a path whose location is unknown ("$DIR/x").
// Such a path could lie anywhere, so it only counts when one of its known
// names matches a name the pattern spells out: "$D/.aws/credentials" meets
// "~/.aws/**", but "$D/notes.txt" does not, though both could be there. A
// "**" in q is the shell's globstar, which skips dot directories; anyPath
// stands for any directories at all.
func intersects(pre, p, q []string, strict bool) bool {
	n, m := len(pre)+len(p), len(q)
	at := func(i int) string {
		if i < len(pre) {
			return pre[i]
		}
		return p[i-len(pre)]
	}
	needName := m > 0 && q[0] == anyPath
	w := m + 1
	size := (n + 1) * w
	var small [512]bool
	var reach []bool // [0:size) before a name matched, [size:2*size) after
	if 2*size <= len(small) {
		reach = small[:2*size]
	} else {
		reach = make([]bool, 2*size)
	}
	reach[0] = true
	for i := 0; i <= n; i++ {
		var pi string
		if i < n {
			pi = at(i)
		}
		for j := 0; j <= m; j++ {
			for layer := 0; layer < 2; layer++ {
				off := layer * size
				if !reach[off+i*w+j] {
					continue
				}
				if i == n && j == m && (layer == 1 || !needName) {
					return true
				}
				pStar := i < n && pi == "**"
				qStar := j < m && (q[j] == "**" || q[j] == anyPath)
				if pStar {
					reach[off+(i+1)*w+j] = true // matches nothing more
					if j < m {
						reach[off+i*w+j+1] = true // swallows q[j]
					}
				}
				if qStar {
					reach[off+i*w+j+1] = true
					// A shell's "**" does not descend into dot
					// directories; an unknown location may be anywhere.
					if i < n && (q[j] == anyPath || !strings.HasPrefix(pi, ".")) {
						reach[off+(i+1)*w+j] = true
					}
				}
				if i < n && j < m && !pStar && !qStar && compIntersects(pi, q[j], strict) {
					next := off
					if !hasMeta(q[j]) && spelled(pi) {
						next = size
					}
					reach[next+(i+1)*w+j+1] = true
				}
			}
		}
	}
	return false
}

// compIntersects reports whether one path component could match both the
// pattern component a and the path component b (see intersects for
// strict). A wildcard at the start of b does not produce a leading dot, as
// in the shell, so "build/*" does not reach "build/.env".
func compIntersects(a, b string, strict bool) bool {
	am, bm := hasMeta(a), hasMeta(b)
	switch {
	case !am && !bm:
		return a == b
	case !bm:
		return doublestar.MatchUnvalidated(a, b)
	case b == "":
		return false
	}
	if strings.HasPrefix(a, ".") && b[0] != '.' {
		return false
	}
	if !am {
		if strict {
			return false
		}
		if !doublestar.ValidatePattern(b) {
			return a == b
		}
		return doublestar.MatchUnvalidated(b, a)
	}
	ap, as := literalEnds(a)
	bp, bs := literalEnds(b)
	if strict {
		return strings.HasPrefix(bp, ap) && strings.HasSuffix(bs, as) && bp+bs != ""
	}
	return (strings.HasPrefix(ap, bp) || strings.HasPrefix(bp, ap)) &&
		(strings.HasSuffix(as, bs) || strings.HasSuffix(bs, as))
}

// spelled reports whether a pattern component names something: "*.pem"
// and ".aws" do, "*" and "?" do not.
func spelled(s string) bool {
	p, x := literalEnds(s)
	return p != "" || x != ""
}

// literalEnds returns the literal text before the first and after the
// last glob character.
func literalEnds(s string) (prefix, suffix string) {
	i := strings.IndexAny(s, "*?[{\\")
	j := strings.LastIndexAny(s, "*?]}\\")
	if i < 0 {
		return s, s
	}
	return s[:i], s[j+1:]
}
