package redact

import (
	"slices"
	"strings"
	"testing"
)

// ruleMatches runs rule i alone on s, as Text would after the prefilter.
func ruleMatches(rs *ruleSet, i int, s string) []candidate {
	at := rs.pre.scan(s)
	if at == nil {
		return nil
	}
	return rs.rules[i].matches(s, i, at[i], rs.placeholderSpans(s), nil)
}

// TestRuleExamples runs every rule's own examples: each hit must be found
// by the rule and redacted by Text, each miss must not be found by the rule.
func TestRuleExamples(t *testing.T) {
	rs := builtinSet()
	for i, c := range rs.rules {
		t.Run(c.id, func(t *testing.T) {
			if len(c.hits) == 0 || len(c.misses) == 0 {
				t.Errorf("rule needs at least one hit and one miss example")
			}
			if len(c.keywords) == 0 {
				t.Errorf("rule has no keywords, so it would run on every input")
			}
			for _, h := range c.hits {
				if at := rs.pre.scan(h); at == nil || len(at[i]) == 0 {
					t.Errorf("hit %q holds none of the keywords %q", h, c.keywords)
				}
				if len(ruleMatches(rs, i, h)) == 0 {
					t.Errorf("hit not found: %q", h)
					continue
				}
				got, fs := Text(h)
				if len(fs) == 0 || !strings.Contains(got, placeholderPrefix) {
					t.Errorf("Text(%q) = %q, want a redaction", h, got)
				}
			}
			for _, m := range c.misses {
				if got := ruleMatches(rs, i, m); len(got) > 0 {
					t.Errorf("miss matched: %q at %q", m, m[got[0].start:got[0].end])
				}
			}
		})
	}
}

// TestPlaceholdersMatchNoRule keeps redaction idempotent: a placeholder,
// alone or where a secret stood, is never a secret itself.
func TestPlaceholdersMatchNoRule(t *testing.T) {
	rs := builtinSet()
	contexts := []string{"%s", "password = %s", `"token": "%s"`, "Authorization: Bearer %s",
		"https://user:%s@host/", "curl -u admin:%s https://x", "--token %s", "?access_token=%s&x=1"}
	for _, r := range rs.rules {
		for _, c := range contexts {
			in := strings.ReplaceAll(c, "%s", placeholder(r.id))
			if got, fs := Text(in); len(fs) > 0 {
				t.Errorf("Text(%q) = %q: a placeholder was redacted again", in, got)
			}
		}
	}
}

// TestPrefilter compares keyword offsets with a plain search of every
// keyword, on rule examples and text around them.
func TestPrefilter(t *testing.T) {
	rs := builtinSet()
	inputs := []string{toolCall, toolCallSecrets, "", "a", "Sk", "xsk-ant-AKIA"}
	for _, r := range builtinRules() {
		inputs = append(inputs, r.hits...)
		inputs = append(inputs, r.misses...)
	}
	for _, in := range inputs {
		got := rs.pre.scan(in)
		low := strings.ToLower(in)
		for i, r := range rs.rules {
			var want []int
			for p := 0; p < len(in); p++ {
				for _, k := range r.keywords {
					if strings.HasPrefix(low[p:], k) {
						want = append(want, p)
						break
					}
				}
			}
			var have []int
			if got != nil {
				have = got[i]
			}
			if !slices.Equal(have, want) {
				t.Errorf("%s on %.60q: offsets %v, want %v", r.id, in, have, want)
			}
		}
	}
}
