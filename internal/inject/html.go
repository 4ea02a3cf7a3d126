package inject

import (
	"regexp"
	"strings"
	"sync"
)

// Codes of hidden regions and data-carrying URLs.
const (
	ruleHTMLComment  = "hidden.html_comment"
	ruleHiddenHTML   = "hidden.html_element"
	ruleMarkdownNote = "hidden.markdown_comment"
	ruleImageExfil   = "exfil.image_url"
	ruleLinkExfil    = "exfil.link_url"
	ruleTemplatedURL = "exfil.templated_url"
	// maxRegions bounds the hidden regions kept per text.
	maxRegions = 256
	// maxTag bounds the bytes read of one start tag.
	maxTag = 2048
)

// region is a part of the source a reader of the rendered page or
// document does not see.
type region struct {
	rule       string
	start, end int
}

// hiddenRegions finds HTML comments, HTML elements hidden by CSS or by
// attributes, and markdown comments in src.
func hiddenRegions(src string) []region {
	var out []region
	if strings.Contains(src, "<!--") {
		for i := 0; len(out) < maxRegions; {
			k := strings.Index(src[i:], "<!--")
			if k < 0 {
				break
			}
			start := i + k + 4
			end := strings.Index(src[start:], "-->")
			if end < 0 {
				end = len(src) - start
			}
			out = append(out, region{ruleHTMLComment, start, start + end})
			i = start + end
		}
	}
	if strings.Contains(src, "<") && (containsFold(src, "style") || containsFold(src, "hidden")) {
		out = append(out, hiddenElements(src)...)
	}
	if strings.Contains(src, "]: ") {
		for _, loc := range markdownCommentRE().FindAllStringIndex(src, maxRegions) {
			out = append(out, region{ruleMarkdownNote, loc[0], loc[1]})
		}
	}
	return out
}

// hiddenElements finds elements whose content a browser does not show:
// display:none, visibility:hidden, zero size or opacity, text the colour
// of the background or pushed off screen, the hidden and aria-hidden
// attributes. The region runs to the matching end tag.
func hiddenElements(src string) []region {
	var out []region
	for i := 0; i < len(src) && len(out) < maxRegions; {
		k := strings.IndexByte(src[i:], '<')
		if k < 0 {
			break
		}
		p := i + k + 1
		i = p
		if p >= len(src) || !isASCIILetter(src[p]) {
			continue
		}
		q := p
		for q < len(src) && (isASCIILetter(src[q]) || '0' <= src[q] && src[q] <= '9') {
			q++
		}
		name := strings.ToLower(src[p:q])
		gt := strings.IndexByte(src[q:min(len(src), q+maxTag)], '>')
		if gt < 0 {
			continue
		}
		raw := src[q : q+gt]
		if !containsFold(raw, "style") && !containsFold(raw, "hidden") {
			continue
		}
		attrs := strings.ToLower(raw)
		if !hidesContent(attrs) {
			continue
		}
		openEnd := q + gt + 1
		if strings.HasSuffix(attrs, "/") || voidElement(name) {
			// The hidden content is in the attributes (an input's value).
			out = append(out, region{ruleHiddenHTML, p - 1, openEnd})
			continue
		}
		out = append(out, region{ruleHiddenHTML, openEnd, closeTag(src, openEnd, name)})
	}
	return out
}

// closeTag returns where the element opened before from ends: at its end
// tag, counting nested elements of the same name, or (after 16 KiB or at
// the end of src) where the search stops.
func closeTag(src string, from int, name string) int {
	depth := 1
	limit := min(len(src), from+16<<10)
	for i := from; i < limit; {
		k := strings.IndexByte(src[i:limit], '<')
		if k < 0 {
			break
		}
		i += k
		rest := src[i+1 : limit]
		switch {
		case strings.HasPrefix(rest, "/") && hasPrefixFold(rest[1:], name):
			depth--
			if depth == 0 {
				return i
			}
		case hasPrefixFold(rest, name) && len(rest) > len(name) && !isASCIILetter(rest[len(name)]):
			depth++
		}
		i++
	}
	return limit
}

// hasPrefixFold reports whether s starts with prefix (lower-case ASCII),
// ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lowerASCII(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

func voidElement(name string) bool {
	switch name {
	case "input", "img", "meta", "br", "hr", "link", "area", "base", "col", "embed", "source", "track", "wbr", "param":
		return true
	}
	return false
}

// hidesContent reports start-tag attributes (lower case) that hide the
// element.
func hidesContent(attrs string) bool {
	if strings.Contains(attrs, "aria-hidden=\"true\"") || strings.Contains(attrs, "aria-hidden='true'") ||
		strings.Contains(attrs, "type=\"hidden\"") || hasBareAttr(attrs, "hidden") {
		return true
	}
	k := strings.Index(attrs, "style")
	if k < 0 {
		return false
	}
	return hiddenStyleRE().MatchString(strings.ReplaceAll(attrs[k:], " ", "")) || sameColours(attrs[k:])
}

// hasBareAttr reports a boolean attribute written alone ("<div hidden>").
func hasBareAttr(attrs, name string) bool {
	for _, f := range strings.Fields(attrs) {
		if f == name || strings.HasPrefix(f, name+"=") && !strings.Contains(f, "false") {
			return true
		}
	}
	return false
}

// hiddenStyleRE matches CSS (spaces removed) that hides text.
var hiddenStyleRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`display:none|visibility:hidden|font-size:0(?:[^.0-9]|$)|font-size:0\.0|` +
		`opacity:0(?:[^.0-9]|$)|opacity:0?\.0[0-9]*(?:[;"']|$)|` +
		`(?:left|top|right|text-indent|margin-left|margin-top):-[0-9]{3,}|` +
		`(?:^|[^-])(?:max-)?height:0(?:px)?[;"']|clip:rect\(0|clip-path:inset\(50%|clip-path:inset\(100%|` +
		`transform:scale\(0\)|color:transparent|(?:^|[^-])color:(?:#fff(?:fff)?|white|rgb\(255,255,255\))`)
})

// sameColours reports a style whose text colour equals its background.
func sameColours(style string) bool {
	s := strings.ReplaceAll(style, " ", "")
	fg := cssValue(s, "color:")
	if fg == "" {
		return false
	}
	bg := cssValue(s, "background-color:")
	if bg == "" {
		bg = cssValue(s, "background:")
	}
	return bg != "" && bg == fg
}

func cssValue(style, prop string) string {
	for i := 0; ; {
		k := strings.Index(style[i:], prop)
		if k < 0 {
			return ""
		}
		at := i + k
		i = at + len(prop)
		if at > 0 && (style[at-1] == '-' || isASCIILetter(style[at-1])) {
			continue
		}
		v := style[i:]
		if e := strings.IndexAny(v, ";\"'"); e >= 0 {
			v = v[:e]
		}
		return v
	}
}

// markdownCommentRE matches link definitions that render as nothing and
// are used as comments: [//]: # (…), [comment]: <> (…).
var markdownCommentRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?m)^[ \t]*\[[^\]\n]*\]:[ \t]*(?:#|<>)[ \t]*(?:\([^\n]*\)|"[^\n]*"|'[^\n]*')[ \t]*$`)
})

// containsFold reports whether s contains sub (lower-case ASCII),
// ignoring ASCII case, without copying s.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if lowerASCII(s[i]) != sub[0] {
			continue
		}
		j := 1
		for j < len(sub) && lowerASCII(s[i+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
