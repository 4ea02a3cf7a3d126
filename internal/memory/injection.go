package memory

import (
	"regexp"
	"slices"
	"strings"
)

// injectionPatterns is the built-in prompt-injection check: phrasing that
// addresses the agent instead of recording something. It is deliberately
// small and narrow (a legitimate rule such as "always run the tests
// first" must pass); the real detector is passed in Options.Injection.
//
// Each pattern runs only when its anchors occur in the text (one word of
// every group): the anchors are plain substrings, found far faster than
// the patterns' bounded gaps are matched, and most texts lack them.
var injectionPatterns = []struct {
	anchors [][]string
	re      *regexp.Regexp
	reason  string
}{
	{[][]string{{"ignore", "disregard", "forget", "override"}},
		regexp.MustCompile(`\b(ignore|disregard|forget|override)\b[^.\n]{0,40}?\b(previous|prior|above|earlier|all|any|your|the|system)\b[^.\n]{0,20}?\b(instructions?|rules?|prompts?|guidelines|directives)\b`),
		"tells the agent to drop its instructions"},
	{[][]string{{"remember"}},
		regexp.MustCompile(`\bremember\b\s*(:|-|that|this|to)?\s*[:,-]?\s*(always|never|from now on|you must|you should)\b`),
		"plants a standing instruction"},
	{[][]string{{"from now on", "new instruction", "system prompt", "you are now", "tell the user", "telling the user"}},
		regexp.MustCompile(`\b(from now on|new instructions?|system prompt|you are now|do not tell the user|don't tell the user|without telling the user)\b`),
		"addresses the agent"},
	{[][]string{
		{"upload", "send", "post", "exfiltrate", "curl", "wget", "scp", "forward", "email", "transmit", "leak", "copy"},
		{".env", "credential", "secret", "api", "key", "password", "token", "id_rsa", ".ssh", "cookie"},
	},
		regexp.MustCompile(`\b(upload|send|post|exfiltrate|curl|wget|scp|forward|email|transmit|leak|copy)\b[^\n]{0,60}?(\.env\b|credentials?|secrets?|api[ _-]?keys?|private keys?|passwords?|tokens?|id_rsa|\.ssh\b|cookies?)[^\n]{0,40}?\b(to|into|at)\s+(https?://|ftp://|[a-z0-9-]+(\.[a-z0-9-]+)+)`),
		"sends secrets somewhere"},
	{[][]string{{"system", "assistant", "instruction"}},
		regexp.MustCompile(`(^|\n)\s*(system|assistant)\s*:|<\s*/?\s*(system|instructions?)\s*>`),
		"fakes a role marker"},
}

// builtinInjection is the default Options.Injection.
func builtinInjection(text string) (bool, string) {
	lower := strings.ToLower(text)
	for _, p := range injectionPatterns {
		if anchored(lower, p.anchors) && p.re.MatchString(lower) {
			return true, p.reason
		}
	}
	return false, ""
}

// anchored reports whether text has a word of every group.
func anchored(text string, groups [][]string) bool {
	for _, g := range groups {
		if !slices.ContainsFunc(g, func(a string) bool { return strings.Contains(text, a) }) {
			return false
		}
	}
	return true
}

// flaggedBy runs the injection check, treating a panic in it as a flag:
// a detector that fails must not let the text through as clean.
func (m *Memory) flaggedBy(text string) (flagged bool, reason string) {
	defer func() {
		if recover() != nil {
			flagged, reason = true, "the injection check failed"
		}
	}()
	return m.opt.Injection(text)
}
