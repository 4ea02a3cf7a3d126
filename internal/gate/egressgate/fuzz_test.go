package egressgate

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// FuzzParseDest checks that ParseDest never panics, that a host it returns
// is already in canonical form, that writing the result back as a URL
// parses to the same host and port, and that the gate judges anything.
func FuzzParseDest(f *testing.F) {
	for _, s := range []string{
		"https://u:p@Host:8080/x", "host:22", "user@host", "10.0.0.1", "[::1]:80", "http://2130706433/",
		"0x7f.1", "017700000001", "https://münchen.de/", "git@github.com:org/repo.git", "file:///etc/passwd",
		"http://[::ffff:a9fe:a9fe]/", `http:\\evil.com\@good.com`, "http://%31%32%37.1/", "mailto:a@b",
		"http://a9fea9fe.nip.io/", "ｅｘａｍｐｌｅ．ｃｏｍ", "http://[fe80::1%25eth0]:1/",
	} {
		f.Add(s)
	}
	g, err := Compile(Default())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		d, err := ParseDest(raw)
		if err == nil {
			if d.Port < 0 || d.Port > 65535 {
				t.Fatalf("ParseDest(%q): port %d", raw, d.Port)
			}
			if d.Host != "" {
				h, err := NormalizeHost(d.Host)
				if err != nil || h != d.Host {
					t.Fatalf("ParseDest(%q): host %q is not canonical: %q, %v", raw, d.Host, h, err)
				}
				host := d.Host
				if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
					host = "[" + host + "]"
				}
				again, err := ParseDest("https://" + host + ":" + strconv.Itoa(d.Port) + "/")
				if err != nil || again.Host != d.Host || again.Port != d.Port {
					t.Fatalf("ParseDest(%q) = %q:%d, but written back: %q:%d, %v", raw, d.Host, d.Port, again.Host, again.Port, err)
				}
				if strings.ContainsAny(d.Host, "/\\@#? ") {
					t.Fatalf("ParseDest(%q): host %q has a separator in it", raw, d.Host)
				}
			}
		}
		in := &gate.Input{
			Call:     &request.ToolCall{Tool: "fetch", Kind: request.KindNetRequest, Args: map[string]any{request.ArgURL: raw}},
			Analysis: &analysis.Analysis{Dests: []analysis.Dest{{Raw: raw, Host: raw, Sends: true, Data: "file:" + raw}}},
		}
		v, err := g.Check(context.Background(), in)
		if err != nil {
			t.Fatalf("Check(%q): %v", raw, err)
		}
		if len(v.Notes) == 0 {
			t.Fatalf("Check(%q): no notes", raw)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	cfg := Default()
	cfg.Allow = []string{"github.com", "*.github.com", ".npmjs.org", "10.1.0.0/16", "pypi.org:443"}
	g, err := Compile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	in := shell(
		analysis.Dest{Raw: "https://api.github.com/repos", Scheme: "https", Host: "api.github.com", Port: 443},
		analysis.Dest{Raw: "http://0xa9fea9fe/", Scheme: "http", Host: "0xa9fea9fe"},
		analysis.Dest{Raw: "https://x.io/u", Scheme: "https", Host: "x.io", Sends: true, Data: "file:.env"},
		analysis.Dest{Raw: "10.2.3.4:22", Scheme: "ssh", Host: "10.2.3.4", Port: 22},
		analysis.Dest{Raw: "registry.npmjs.org", Host: "registry.npmjs.org"},
	)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Check(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDest("https://user:pw@API.Example.com:8443/v1/items?q=1"); err != nil {
			b.Fatal(err)
		}
	}
}
