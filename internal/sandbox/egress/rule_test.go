package egress

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRule(t *testing.T) {
	tests := []struct {
		in   string
		want Rule
	}{
		{"api.github.com", Rule{Host: "api.github.com"}},
		{"  API.GitHub.com.  ", Rule{Host: "api.github.com"}},
		{"api.github.com:443", Rule{Host: "api.github.com", Ports: []int{443}}},
		{"*.npmjs.org:8443,443,443", Rule{Host: "*.npmjs.org", Ports: []int{443, 8443}}},
		{"*.npmjs.org", Rule{Host: "*.npmjs.org"}},
		{"203.0.113.7", Rule{Host: "203.0.113.7"}},
		{"203.0.113.7:22", Rule{Host: "203.0.113.7", Ports: []int{22}}},
		{"[2001:DB8::1]:443", Rule{Host: "2001:db8::1", Ports: []int{443}}},
		{"[2001:db8::1]", Rule{Host: "2001:db8::1"}},
		{"2001:db8::1", Rule{Host: "2001:db8::1"}},
		{"[::ffff:169.254.169.254]:80", Rule{Host: "169.254.169.254", Ports: []int{80}}},
		{"my_host.internal-ish.example:65535", Rule{Host: "my_host.internal-ish.example", Ports: []int{65535}}},
		{"localhost:1", Rule{Host: "localhost", Ports: []int{1}}},
	}
	for _, tt := range tests {
		got, err := ParseRule(tt.in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseRule(%q) (-want +got):\n%s", tt.in, diff)
		}
		// What String writes, ParseRule reads back unchanged.
		again, err := ParseRule(got.String())
		if err != nil || !cmp.Equal(again, got) {
			t.Errorf("ParseRule(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}
}

func TestParseRuleRejects(t *testing.T) {
	tests := []struct{ in, why string }{
		{"", "empty"},
		{"   ", "empty"},
		{"*", "bare *"},
		{"*.", "bare *"},
		{"*:443", "bare *"},
		{"https://api.github.com", "scheme"},
		{"api.github.com/path", "path"},
		{"10.0.0.0/8", "CIDR"},
		{"user@host", "characters"},
		{"a b", "characters"},
		{"host:", "ends with ':'"},
		{"host:0", "not in 1-65535"},
		{"host:65536", "not in 1-65535"},
		{"host:+80", "not a number"},
		{"host:80,", "not a number"},
		{"host:http", "not a number"},
		{"host:1:2", "more than one ':'"},
		{"[::1", "without ]"},
		{"[::1]x", "only :ports"},
		{"[fe80::1%eth0]:80", "zone"},
		{"api.*.com", "wildcard goes only at the start"},
		{"*foo.com", "wildcard goes only at the start"},
		{"*.*.com", "wildcard goes only at the start"},
		{"a..b", "empty label"},
		{".a", "empty label"},
		{"exa$mple.com", "not allowed"},
		{"bücher.de", "punycode"},
		{"127.1", "non-standard notation"},
		{"2130706433", "non-standard notation"},
		{"0x7f.0.0.1", "non-standard notation"},
		{strings.Repeat("a", 64) + ".com", "label longer"},
		{strings.Repeat("a.", 140) + "com", "longer than"},
	}
	for _, tt := range tests {
		_, err := ParseRule(tt.in)
		if err == nil {
			t.Errorf("ParseRule(%q) succeeded; want an error about %s", tt.in, tt.why)
			continue
		}
		if !errors.Is(err, ErrBadRule) || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("ParseRule(%q) = %v; want ErrBadRule about %q", tt.in, err, tt.why)
		}
	}
}

func TestRuleMatch(t *testing.T) {
	tests := []struct {
		rule   string
		host   string
		port   int
		hostOK bool // the host matches
		portOK bool // and the port too
	}{
		{"api.github.com", "api.github.com", 443, true, true},
		{"api.github.com", "api.github.com", 80, true, true},
		{"api.github.com", "api.github.com", 22, true, false},
		{"api.github.com", "github.com", 443, false, false},
		{"api.github.com", "x.api.github.com", 443, false, false},
		{"*.npmjs.org", "registry.npmjs.org", 443, true, true},
		{"*.npmjs.org", "a.b.npmjs.org", 443, true, true},
		{"*.npmjs.org", "npmjs.org", 443, false, false},
		{"*.npmjs.org", "evilnpmjs.org", 443, false, false},
		{"*.npmjs.org:8443", "registry.npmjs.org", 443, true, false},
		{"203.0.113.7:22", "203.0.113.7", 22, true, true},
		{"203.0.113.7", "203.0.113.8", 443, false, false},
		{"[2001:db8::1]", "2001:db8::1", 443, true, true},
		// A name rule never matches an address, nor the reverse.
		{"localhost", "127.0.0.1", 80, false, false},
		{"203.0.113.7", "203.0.113.7.nip.io", 80, false, false},
	}
	for _, tt := range tests {
		r, err := ParseRule(tt.rule)
		if err != nil {
			t.Fatal(err)
		}
		c, err := compileRule(r)
		if err != nil {
			t.Fatal(err)
		}
		h, a, err := normalizeHost(tt.host)
		if err != nil {
			t.Fatalf("normalizeHost(%q): %v", tt.host, err)
		}
		tg := target{host: h, addr: a, port: tt.port}
		if got := c.matchHost(tg); got != tt.hostOK {
			t.Errorf("%s matches host %s: %v, want %v", tt.rule, tt.host, got, tt.hostOK)
		}
		if got := c.matchHost(tg) && c.allowsPort(tt.port); got != tt.portOK {
			t.Errorf("%s allows %s port %d: %v, want %v", tt.rule, tt.host, tt.port, got, tt.portOK)
		}
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := New(Options{
		Allow:       []Rule{{Host: "ok.example"}, {Host: "*"}, {Host: "x.example", Ports: []int{0}}, {Host: "https://x"}},
		DialTimeout: -1,
		IdleTimeout: -1,
		MaxConns:    -1,
	})
	if err == nil {
		t.Fatal("New accepted bad options")
	}
	for _, want := range []string{"allow[1]", "allow[2]", "allow[3]", "DialTimeout", "IdleTimeout", "MaxConns"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "allow[0]") {
		t.Errorf("error %q blames the good rule", err)
	}
	if !errors.Is(err, ErrBadRule) {
		t.Errorf("error %v does not wrap ErrBadRule", err)
	}
}

func TestNewDoesNotChangeRules(t *testing.T) {
	rules := []Rule{{Host: "API.Example.COM.", Ports: []int{8443, 443}}}
	p, err := New(Options{Allow: rules})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if diff := cmp.Diff([]Rule{{Host: "API.Example.COM.", Ports: []int{8443, 443}}}, rules); diff != "" {
		t.Errorf("New changed its input (-want +got):\n%s", diff)
	}
	if got, want := p.allow[0].src.String(), "api.example.com:443,8443"; got != want {
		t.Errorf("compiled rule %s, want %s", got, want)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		addr string
		want class
	}{
		{"203.0.113.7", classPublic},
		{"8.8.8.8", classPublic},
		{"2606:4700::1111", classPublic},
		{"127.0.0.1", classLoopback},
		{"127.9.9.9", classLoopback},
		{"::1", classLoopback},
		{"0.0.0.0", classUnspecified},
		{"0.1.2.3", classUnspecified},
		{"::", classUnspecified},
		{"10.1.2.3", classPrivate},
		{"172.16.0.1", classPrivate},
		{"172.31.255.255", classPrivate},
		{"172.32.0.1", classPublic},
		{"192.168.1.1", classPrivate},
		{"fd12:3456::1", classUniqueLocal},
		{"fe80::1", classLinkLocal},
		{"169.254.1.1", classLinkLocal},
		{"100.64.0.1", classShared},
		{"100.127.255.255", classShared},
		{"100.128.0.1", classPublic},
		{"224.0.0.1", classMulticast},
		{"ff02::1", classMulticast},
		{"255.255.255.255", classReserved},
		{"169.254.169.254", classMetadata},
		{"fd00:ec2::254", classMetadata},
		{"100.100.100.200", classMetadata},
		// IPv4 inside IPv6.
		{"::ffff:127.0.0.1", classLoopback},
		{"::ffff:169.254.169.254", classMetadata},
		{"64:ff9b::a9fe:a9fe", classMetadata},
		{"64:ff9b::0a00:0001", classPrivate},
		{"2002:0a00:0001::1", classPrivate},
		{"::10.0.0.1", classPrivate},
		{"2002:cb00:7107::1", classPublic},
	}
	for _, tt := range tests {
		if got := classify(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("classify(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"api.github.com", "*.npmjs.org:443,8443", "[::1]:22", "10.0.0.1", "host:", "*", "a..b", "0x7f.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			if !errors.Is(err, ErrBadRule) {
				t.Fatalf("ParseRule(%q) error %v does not wrap ErrBadRule", s, err)
			}
			return
		}
		if r.Host == "" || r.Host == "*" || strings.Contains(r.Host, "/") {
			t.Fatalf("ParseRule(%q) accepted host %q", s, r.Host)
		}
		again, err := ParseRule(r.String())
		if err != nil || !cmp.Equal(again, r) {
			t.Fatalf("ParseRule(%q) = %+v; its String %q reads back as %+v, %v", s, r, r.String(), again, err)
		}
	})
}
