package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Rule allows one host, or a family of sub-domains, on some ports.
type Rule struct {
	// Host is an exact name ("api.github.com"), a wildcard suffix
	// ("*.npmjs.org": every sub-domain of npmjs.org, not npmjs.org itself)
	// or an IP literal ("203.0.113.7", "2001:db8::1"). Case and one
	// trailing dot do not matter. A name rule never matches a request that
	// names an address, and an address rule never matches a name.
	Host string
	// Ports the rule allows; empty means 80 and 443.
	Ports []int
}

// defaultPorts are the ports of a rule that lists none.
var defaultPorts = []int{80, 443}

// ErrBadRule is wrapped by every error about a rule's shape.
var ErrBadRule = errors.New("invalid egress rule")

// Limits on rules.
const (
	maxRuleLen = 300
	maxRules   = 4096
	maxPorts   = 64
	maxNameLen = 253
	maxLabel   = 63
)

// String writes the rule the way ParseRule reads it.
func (r Rule) String() string {
	h := r.Host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if len(r.Ports) == 0 {
		return h
	}
	var b strings.Builder
	b.WriteString(h)
	for i, p := range r.Ports {
		if i == 0 {
			b.WriteByte(':')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(p))
	}
	return b.String()
}

// ParseRule reads a rule as a sandbox profile writes it: "host",
// "host:port", "host:443,8443", "*.suffix:443" or "[2001:db8::1]:443". The
// rule it returns is normalised (lower case, no trailing dot, canonical
// addresses, ports in order without repeats).
func ParseRule(s string) (Rule, error) {
	r, err := parseRule(strings.TrimSpace(s))
	if err != nil {
		return Rule{}, fmt.Errorf("%w %q: %s", ErrBadRule, truncate(s, 80), err.Error())
	}
	return r, nil
}

func parseRule(s string) (Rule, error) {
	switch {
	case s == "":
		return Rule{}, errors.New("empty; give a host such as api.github.com or *.npmjs.org:443")
	case len(s) > maxRuleLen:
		return Rule{}, fmt.Errorf("longer than %d bytes", maxRuleLen)
	case strings.Contains(s, "://"):
		return Rule{}, errors.New("has a scheme; give a host and optional ports, such as api.github.com:443")
	case strings.Contains(s, "/"):
		return Rule{}, errors.New("has a path or a CIDR range; give a host or one address and optional ports, such as api.github.com:443")
	case strings.ContainsAny(s, "?#@ \t\r\n"):
		return Rule{}, errors.New("has characters no host has (?, #, @ or spaces); give a host and optional ports, such as api.github.com:443")
	}
	host, ports, hasPorts := "", "", false
	if rest, ok := strings.CutPrefix(s, "["); ok {
		h, after, ok := strings.Cut(rest, "]")
		if !ok {
			return Rule{}, errors.New("has [ without ]; write IPv6 addresses as [2001:db8::1]:443")
		}
		if after != "" && !strings.HasPrefix(after, ":") {
			return Rule{}, fmt.Errorf("has %q after ]; only :ports may follow", after)
		}
		host, ports, hasPorts = h, strings.TrimPrefix(after, ":"), after != ""
	} else if _, err := netip.ParseAddr(s); err == nil {
		host = s // a bare IPv6 address; its colons are not a port
	} else {
		host, ports, hasPorts = strings.Cut(s, ":")
		if strings.Contains(ports, ":") {
			return Rule{}, errors.New("has more than one ':'; write IPv6 addresses in brackets, as [2001:db8::1]:443")
		}
	}
	r := Rule{Host: host}
	if hasPorts {
		if ports == "" {
			return Rule{}, errors.New("ends with ':'; list ports after it, such as host:443 or host:443,8443")
		}
		for _, f := range strings.Split(ports, ",") {
			n, err := parsePort(f)
			if err != nil {
				return Rule{}, err
			}
			r.Ports = append(r.Ports, n)
		}
	}
	c, err := compileRule(r)
	if err != nil {
		return Rule{}, err
	}
	return c.src, nil
}

// parsePort reads a decimal port 1-65535, digits only ("+80" and "080 "
// are not ports).
func parsePort(s string) (int, error) {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("port %q is not a number 1-65535", truncate(s, 16))
	}
	n, _ := strconv.Atoi(s)
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d is not in 1-65535", n)
	}
	return n, nil
}

// rule is a Rule ready to match.
type rule struct {
	src   Rule       // normalised, for messages
	name  string     // the exact name, or for a wildcard the suffix with its dot (".npmjs.org")
	wild  bool       // name is a suffix
	addr  netip.Addr // valid for an IP literal rule
	ports []int
}

// compileRule validates a rule and prepares it; it does not change r.
func compileRule(r Rule) (rule, error) {
	c := rule{ports: slices.Clone(r.Ports)}
	if len(c.ports) == 0 {
		c.ports = slices.Clone(defaultPorts)
	}
	if len(c.ports) > maxPorts {
		return rule{}, fmt.Errorf("%d ports, at most %d", len(c.ports), maxPorts)
	}
	for _, p := range c.ports {
		if p < 1 || p > 65535 {
			return rule{}, fmt.Errorf("port %d is not in 1-65535", p)
		}
	}
	slices.Sort(c.ports)
	c.ports = slices.Compact(c.ports)

	h := strings.TrimSuffix(strings.TrimPrefix(r.Host, "["), "]")
	switch {
	case h == "" || h == "*" || h == "*.":
		return rule{}, errors.New("names no host; a bare * would allow everything, so name a host or *.domain")
	case strings.Contains(h, "/"):
		return rule{}, fmt.Errorf("host %q is a CIDR range or has a path; list single addresses or names", truncate(h, 64))
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			return rule{}, fmt.Errorf("address %q has a zone; zones are not allowed in rules", truncate(h, 64))
		}
		c.addr = a.Unmap()
		c.name = c.addr.String()
	} else {
		name := strings.ToLower(strings.TrimSuffix(h, "."))
		if rest, ok := strings.CutPrefix(name, "*."); ok {
			c.wild, name = true, rest
		}
		if strings.Contains(name, "*") {
			return rule{}, fmt.Errorf("host %q: a wildcard goes only at the start, as *.example.com", truncate(h, 64))
		}
		if err := checkName(name); err != nil {
			return rule{}, fmt.Errorf("host %q: %s", truncate(h, 64), err.Error())
		}
		c.name = name
		if c.wild {
			c.name = "." + name
		}
	}
	c.src = Rule{Host: c.name, Ports: slices.Clone(c.ports)}
	if c.wild {
		c.src.Host = "*" + c.name
	}
	if len(r.Ports) == 0 {
		c.src.Ports = nil
	}
	return c, nil
}

// matchHost tells whether the rule covers the request's host.
func (r *rule) matchHost(t target) bool {
	switch {
	case r.addr.IsValid() || t.addr.IsValid():
		return r.addr.IsValid() && t.addr.IsValid() && r.addr == t.addr
	case r.wild:
		return len(t.host) > len(r.name) && strings.HasSuffix(t.host, r.name)
	}
	return t.host == r.name
}

func (r *rule) allowsPort(p int) bool {
	_, ok := slices.BinarySearch(r.ports, p)
	return ok
}

// checkName checks a lower-case DNS name without a trailing dot. Names
// that are IP addresses in another notation ("127.1", "2130706433",
// "0x7f.0.0.1") are refused: some resolvers read them as addresses, and a
// rule or a request should say what it means.
func checkName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("name longer than %d bytes", maxNameLen)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" {
			return errors.New("empty label (two dots in a row, or a leading dot)")
		}
		if len(l) > maxLabel {
			return fmt.Errorf("label longer than %d bytes", maxLabel)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			case c >= 0x80:
				return errors.New("not ASCII; write international names in their xn-- (punycode) form")
			default:
				return fmt.Errorf("character %q is not allowed in a host name", c)
			}
		}
	}
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") && strings.Trim(last[2:], "0123456789abcdef") == "" {
		return errors.New("looks like an IP address in a non-standard notation; write addresses as 192.0.2.1 or [2001:db8::1]")
	}
	return nil
}

// describeRules lists rules for a refusal message, a bounded number of them.
func describeRules(rules []rule) string {
	const most = 8
	if len(rules) == 0 {
		return "nothing"
	}
	var b strings.Builder
	for i, r := range rules {
		if i == most {
			fmt.Fprintf(&b, ", and %d more", len(rules)-most)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.src.String())
	}
	return b.String()
}

// truncate shortens s to about n bytes; callers quote the result, so a
// rune cut in two shows as escapes rather than as broken text.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
