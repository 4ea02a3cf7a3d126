package egressgate

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sentinel-agent/sentinel/internal/analysis"
)

func TestParseDest(t *testing.T) {
	tests := []struct {
		raw  string
		want analysis.Dest // Raw is filled in by the test
	}{
		// URLs, userinfo, ports, case.
		{"https://u:p@Host:8080/x", analysis.Dest{Scheme: "https", Host: "host", Port: 8080}},
		{"https://example.com", analysis.Dest{Scheme: "https", Host: "example.com", Port: 443}},
		{"HTTP://EXAMPLE.COM./a?b#c", analysis.Dest{Scheme: "http", Host: "example.com", Port: 80}},
		{"http://example.com...", analysis.Dest{Scheme: "http", Host: "example.com", Port: 80}},
		{"http://a@b@evil.com/", analysis.Dest{Scheme: "http", Host: "evil.com", Port: 80}},
		{"http://evil.com#@good.com", analysis.Dest{Scheme: "http", Host: "evil.com", Port: 80}},
		{`http://good.com\@evil.com`, analysis.Dest{Scheme: "http", Host: "good.com", Port: 80}},
		{`http:\\evil.com\x`, analysis.Dest{Scheme: "http", Host: "evil.com", Port: 80}},
		{"http:evil.com", analysis.Dest{Scheme: "http", Host: "evil.com", Port: 80}},
		{"ssh://git@github.com:2222/org/repo", analysis.Dest{Scheme: "ssh", Host: "github.com", Port: 2222}},
		{"git+ssh://git@github.com/org/repo", analysis.Dest{Scheme: "git+ssh", Host: "github.com", Port: 22}},
		{"//cdn.example.com/x.js", analysis.Dest{Host: "cdn.example.com"}},
		// Schemeless forms.
		{"host:22", analysis.Dest{Host: "host", Port: 22}},
		{"localhost:8080", analysis.Dest{Host: "localhost", Port: 8080}},
		{"user@host", analysis.Dest{Host: "host"}},
		{"git@github.com:org/repo.git", analysis.Dest{Host: "github.com"}},
		{"example.com/path", analysis.Dest{Host: "example.com"}},
		{"10.0.0.1", analysis.Dest{Host: "10.0.0.1"}},
		// IPv4 in every notation.
		{"http://2130706433/", analysis.Dest{Scheme: "http", Host: "127.0.0.1", Port: 80}},
		{"0x7f.1", analysis.Dest{Host: "127.0.0.1"}},
		{"017700000001", analysis.Dest{Host: "127.0.0.1"}},
		{"127.1", analysis.Dest{Host: "127.0.0.1"}},
		{"0x7f.0.0.1", analysis.Dest{Host: "127.0.0.1"}},
		{"0177.0.0.01", analysis.Dest{Host: "127.0.0.1"}},
		{"http://0xA9FEA9FE/latest", analysis.Dest{Scheme: "http", Host: "169.254.169.254", Port: 80}},
		{"http://169.254.43518/", analysis.Dest{Scheme: "http", Host: "169.254.169.254", Port: 80}},
		{"http://0251.0376.0251.0376/", analysis.Dest{Scheme: "http", Host: "169.254.169.254", Port: 80}},
		{"http://%31%36%39.254.169.254/", analysis.Dest{Scheme: "http", Host: "169.254.169.254", Port: 80}},
		{"http://0/", analysis.Dest{Scheme: "http", Host: "0.0.0.0", Port: 80}},
		{"http://0x/", analysis.Dest{Scheme: "http", Host: "0.0.0.0", Port: 80}},
		// IPv6.
		{"[::1]:80", analysis.Dest{Host: "::1", Port: 80}},
		{"http://[::ffff:169.254.169.254]/", analysis.Dest{Scheme: "http", Host: "169.254.169.254", Port: 80}},
		{"http://[FD00:EC2::254]/", analysis.Dest{Scheme: "http", Host: "fd00:ec2::254", Port: 80}},
		{"http://[fe80::1%25eth0]:8080/", analysis.Dest{Scheme: "http", Host: "fe80::1", Port: 8080}},
		{"::1", analysis.Dest{Host: "::1"}},
		{"2001:db8::1", analysis.Dest{Host: "2001:db8::1"}},
		// International names.
		{"https://münchen.de/", analysis.Dest{Scheme: "https", Host: "xn--mnchen-3ya.de", Port: 443}},
		{"https://MÜNCHEN.DE/", analysis.Dest{Scheme: "https", Host: "xn--mnchen-3ya.de", Port: 443}},
		{"https://ｅｘａｍｐｌｅ．ｃｏｍ/", analysis.Dest{Scheme: "https", Host: "example.com", Port: 443}},
		{"http://example。com", analysis.Dest{Scheme: "http", Host: "example.com", Port: 80}},
		{"http://ドメイン名例.jp", analysis.Dest{Scheme: "http", Host: "xn--eckwd4c7cu47r2wf.jp", Port: 80}},
		// Schemes without a host.
		{"file:///etc/passwd", analysis.Dest{Scheme: "file"}},
		{"file:/etc/passwd", analysis.Dest{Scheme: "file"}},
		{"file://server/share", analysis.Dest{Scheme: "file", Host: "server"}},
		{"mailto:a@b.c", analysis.Dest{Scheme: "mailto"}},
		{"data:text/plain,hi", analysis.Dest{Scheme: "data"}},
		{"gopher://127.0.0.1:70/_x", analysis.Dest{Scheme: "gopher", Host: "127.0.0.1", Port: 70}},
		{"dict://localhost:11211/stat", analysis.Dest{Scheme: "dict", Host: "localhost", Port: 11211}},
	}
	for _, tt := range tests {
		got, err := ParseDest(tt.raw)
		if err != nil {
			t.Errorf("ParseDest(%q): %v", tt.raw, err)
			continue
		}
		tt.want.Raw = tt.raw
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseDest(%q) (-want +got):\n%s", tt.raw, diff)
		}
	}
}

func TestParseDestErrors(t *testing.T) {
	for _, raw := range []string{
		"", "   ", "http://", "http://exa mple.com/", "http://exa\tmple.com", "http://a..b/",
		"http://1.2.3.4.5/", "http://256.1.1.1/", "http://4294967296/", "http://09.1.1.1/",
		"http://host:99999/", "http://host:x/", "http://[::1/", "http://[::1]x/", "http://[1.2.3.4]/",
		"http://%zz.com/", "http://%3a%3a1/", "http://*.evil.com/", "http://" + string(make([]byte, 70)) + ".com",
		"http://ex\x00ample.com", "http://\xff.com",
	} {
		if d, err := ParseDest(raw); err == nil {
			t.Errorf("ParseDest(%q) = %+v, want an error", raw, d)
		} else if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseDest(%q) error %v does not wrap ErrInvalid", raw, err)
		}
	}
}

func TestPunycode(t *testing.T) {
	// RFC 3492 section 7.1 samples and well-known names.
	tests := []struct{ in, want string }{
		{"bücher", "bcher-kva"},
		{"münchen", "mnchen-3ya"},
		{"他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"},
		{"почемужеонинеговорятпорусски", "b1abfaaepdrnnbgefbadotcwatmq2g4l"},
		{"3年b組金八先生", "3b-ww4c5e180e575a65lsy2b"},
	}
	for _, tt := range tests {
		got, err := punycode(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("punycode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
