package inject

import (
	"regexp"
	"strings"
	"sync"
)

// exfilURL is a URL that would carry data out when rendered or followed.
type exfilURL struct {
	rule       string
	start, end int
	weight     float64
	url        string
}

// exfilURLs finds markdown and HTML images and links whose URL carries
// data: a placeholder for the model to fill in ({secret}, $DATA,
// <conversation>) or a long opaque query value. An image needs no click:
// a client that renders it sends the request. It reads each "://" once.
func exfilURLs(src string) []exfilURL {
	var out []exfilURL
	for i := 0; len(out) < maxRegions; {
		k := strings.Index(src[i:], "://")
		if k < 0 {
			break
		}
		at := i + k
		i = at + 3
		start := at
		for start > 0 && at-start < 8 && isASCIILetter(src[start-1]) {
			start--
		}
		scheme := strings.ToLower(src[start:at])
		if scheme != "http" && scheme != "https" {
			continue
		}
		end := i
		for end < len(src) && end-start < 2000 && urlByte(src[end]) {
			end++
		}
		for end > i && (strings.IndexByte(".,;:!?", src[end-1]) >= 0 ||
			src[end-1] == '>' && strings.Count(src[start:end], "<") < strings.Count(src[start:end], ">")) {
			end-- // sentence punctuation, or the end of <https://…>
		}
		u := src[start:end]
		i = end
		kind, from := linkKind(src, start)
		if kind == "" {
			// A bare URL with a placeholder in its query, outside markdown:
			// an order to fetch it, filled in, is the same leak.
			if hasPlaceholder(queryOf(u)) {
				out = append(out, exfilURL{ruleTemplatedURL, start, end, 0.35, u})
			}
			continue
		}
		if w, rule := judgeURL(u, kind == "image"); w > 0 {
			out = append(out, exfilURL{rule, from, min(len(src), end+1), w, u})
		}
	}
	return out
}

// urlByte reports bytes a URL in text runs on with.
func urlByte(c byte) bool {
	return c > ' ' && c < 0x7f && c != '"' && c != '\'' && c != ')' && c != '`'
}

// linkKind tells whether the URL starting at src[start] is the target of
// a markdown image or link ("![alt](", "[text](") or of an HTML <img src>;
// it returns "image", "link" or "", and where the construct starts.
func linkKind(src string, start int) (string, int) {
	p := start
	for p > 0 && (src[p-1] == ' ' || src[p-1] == '<') && start-p < 4 {
		p--
	}
	if p >= 2 && src[p-1] == '(' && src[p-2] == ']' {
		open := strings.LastIndexByte(src[max(0, p-502):p-2], '[')
		if open < 0 {
			return "", 0
		}
		open += max(0, p-502)
		if strings.IndexByte(src[open:p-2], '\n') >= 0 {
			return "", 0
		}
		if open > 0 && src[open-1] == '!' {
			return "image", open - 1
		}
		return "link", open
	}
	// <img ... src="URL": the quote, "=", "src", within one tag.
	q := p
	if q > 0 && (src[q-1] == '"' || src[q-1] == '\'') {
		q--
	}
	if q < 4 || src[q-1] != '=' || !hasPrefixFold(src[q-4:q-1], "src") {
		return "", 0
	}
	tag := strings.LastIndexByte(src[max(0, q-1000):q], '<')
	if tag < 0 {
		return "", 0
	}
	tag += max(0, q-1000)
	if strings.IndexByte(src[tag:q], '>') >= 0 || !hasPrefixFold(src[tag+1:], "img") {
		return "", 0
	}
	return "image", tag
}

// judgeURL weighs one image or link URL.
func judgeURL(u string, image bool) (float64, string) {
	q := queryOf(u)
	switch {
	case hasPlaceholder(q) || hasPlaceholder(pathOf(u)) && dataWordRE().MatchString(strings.ToLower(u)):
		if image {
			return 0.6, ruleImageExfil
		}
		return 0.45, ruleLinkExfil
	case image && longValue(q):
		return 0.35, ruleImageExfil
	}
	return 0, ""
}

func queryOf(u string) string {
	if k := strings.IndexAny(u, "?#"); k >= 0 {
		return u[k+1:]
	}
	return ""
}

func pathOf(u string) string {
	if k := strings.Index(u, "://"); k >= 0 {
		u = u[k+3:]
	}
	if k := strings.IndexByte(u, '/'); k >= 0 {
		u = u[k:]
	} else {
		return ""
	}
	if k := strings.IndexAny(u, "?#"); k >= 0 {
		u = u[:k]
	}
	return u
}

// hasPlaceholder reports a template slot: {x}, {{x}}, ${x}, $X, <x>, [X],
// in plain or %-encoded form.
func hasPlaceholder(s string) bool {
	if s == "" {
		return false
	}
	return placeholderRE().MatchString(s)
}

// longValue reports a query value of 40 or more opaque characters: data
// encoded into the URL.
func longValue(q string) bool {
	for _, kv := range strings.Split(q, "&") {
		_, v, _ := strings.Cut(kv, "=")
		if len(v) >= 40 && !strings.ContainsAny(v, "/.") {
			return true
		}
	}
	return false
}

var placeholderRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\{\{?\s*[A-Za-z_][\w .-]{0,40}\}|\$\{[^}]{1,40}\}|\$[A-Z_]{3,}|<[A-Za-z_][\w ]{1,40}>|` +
		`\[[A-Z_][A-Z_ ]{2,40}\]|%7[bB][^%]{1,40}%7[dD]|%3[cC][A-Za-z_][^%]{1,40}%3[eE]`)
})

var dataWordRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`secret|token|key|password|passwd|credential|data|conversation|chat|history|context|memory|summary|message|email|prompt|info`)
})
