package egressgate

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/request"
)

func mustCompile(t testing.TB, cfg Config) *Gate {
	t.Helper()
	g, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// fetch builds a net.request call the way the kernel does.
func fetch(url, method, body string) *gate.Input {
	c := &request.ToolCall{Tool: "http_request", Kind: request.KindNetRequest,
		Args: map[string]any{request.ArgURL: url, request.ArgMethod: method, request.ArgBody: body}}
	a := &analysis.Analysis{}
	d, err := ParseDest(url)
	if err != nil {
		d = analysis.Dest{Raw: url}
	}
	d.Command = c.Tool
	d.Sends = body != "" || method == "POST"
	a.Dests = append(a.Dests, d)
	return &gate.Input{Call: c, Analysis: a}
}

func shell(ds ...analysis.Dest) *gate.Input {
	return &gate.Input{
		Call:     &request.ToolCall{Tool: "Bash", Kind: request.KindExec, Args: map[string]any{request.ArgCommand: "…"}},
		Analysis: &analysis.Analysis{Dests: ds},
	}
}

func codes(v gate.Verdict) []string {
	var out []string
	for _, r := range v.Reasons {
		if !slices.Contains(out, r.Code) {
			out = append(out, r.Code)
		}
	}
	slices.Sort(out)
	return out
}

func TestCheck(t *testing.T) {
	g := mustCompile(t, Default())
	get := func(u string) *gate.Input { return fetch(u, "GET", "") }
	tests := []struct {
		name       string
		in         *gate.Input
		wantAction decision.Action
		wantCodes  []string
	}{
		{"public https", get("https://github.com/org/repo"), decision.Allow, nil},
		{"loopback dev server", get("http://localhost:3000/api"), decision.Allow, nil},
		{"loopback address", get("http://127.0.0.1:8080/"), decision.Allow, nil},
		{"loopback decimal", get("http://2130706433/"), decision.Allow, nil},

		// Metadata in every notation.
		{"metadata dotted", get("http://169.254.169.254/latest/meta-data/"), decision.Deny, []string{CodeMetadata}},
		{"metadata decimal", get("http://2852039166/"), decision.Deny, []string{CodeMetadata}},
		{"metadata hex", get("http://0xa9fea9fe/"), decision.Deny, []string{CodeMetadata}},
		{"metadata octal", get("http://0251.0376.0251.0376/"), decision.Deny, []string{CodeMetadata}},
		{"metadata two parts", get("http://169.16689662/"), decision.Deny, []string{CodeMetadata}},
		{"metadata mixed", get("http://0xa9.254.0251.0xfe/"), decision.Deny, []string{CodeMetadata}},
		{"metadata percent-encoded", get("http://%31%36%39.254.169.254/"), decision.Deny, []string{CodeMetadata}},
		{"metadata v4-mapped", get("http://[::ffff:a9fe:a9fe]/"), decision.Deny, []string{CodeMetadata}},
		{"metadata NAT64", get("http://[64:ff9b::a9fe:a9fe]/"), decision.Deny, []string{CodeMetadata}},
		{"metadata 6to4", get("http://[2002:a9fe:a9fe::1]/"), decision.Deny, []string{CodeMetadata}},
		{"metadata aws ipv6", get("http://[fd00:ec2::254]/latest/"), decision.Deny, []string{CodeMetadata}},
		{"metadata gcp name", get("http://metadata.google.internal/computeMetadata/v1/"), decision.Deny, []string{CodeMetadata}},
		{"metadata gcp name, trailing dot", get("http://METADATA.google.internal./"), decision.Deny, []string{CodeMetadata}},
		{"metadata alibaba", get("http://100.100.100.200/latest/meta-data/"), decision.Deny, []string{CodeMetadata}},
		{"metadata ecs", get("http://169.254.170.2/v2/credentials"), decision.Deny, []string{CodeMetadata}},
		{"metadata via nip.io", get("http://169.254.169.254.nip.io/"), decision.Deny, []string{CodeMetadata}},
		{"metadata via sslip dashes", get("http://x-169-254-169-254.sslip.io/"), decision.Deny, []string{CodeMetadata}},
		{"metadata via nip hex", get("http://a9fea9fe.nip.io/"), decision.Deny, []string{CodeMetadata}},

		// Private ranges.
		{"rfc1918 10", get("http://10.1.2.3/"), decision.Confirm, []string{CodePrivate}},
		{"rfc1918 172", get("http://172.16.0.1/"), decision.Confirm, []string{CodePrivate}},
		{"not rfc1918 172.32", get("http://172.32.0.1/"), decision.Allow, nil},
		{"rfc1918 192.168 decimal", get("http://3232235777/"), decision.Confirm, []string{CodePrivate}},
		{"cgnat", get("http://100.64.0.1/"), decision.Confirm, []string{CodePrivate}},
		{"link-local", get("http://169.254.1.1/"), decision.Confirm, []string{CodePrivate}},
		{"ula", get("http://[fd12:3456::1]/"), decision.Confirm, []string{CodePrivate}},
		{"ipv6 link-local", get("http://[fe80::1]/"), decision.Confirm, []string{CodePrivate}},
		{"internal name", get("https://vault.corp.internal/"), decision.Confirm, []string{CodePrivate}},
		{"cluster name", get("http://api.default.svc.cluster.local/"), decision.Confirm, []string{CodePrivate}},
		{"private via nip.io", get("http://10.0.0.1.nip.io/"), decision.Confirm, []string{CodePrivate}},
		{"private via ssh", shell(analysis.Dest{Raw: "git@10.0.0.5:repo", Scheme: "ssh", Host: "10.0.0.5"}), decision.Notify, []string{CodePrivate}},

		// Schemes.
		{"file scheme", get("file:///etc/passwd"), decision.Deny, []string{CodeScheme}},
		{"gopher scheme", get("gopher://127.0.0.1:6379/_FLUSHALL"), decision.Deny, []string{CodeScheme}},
		{"dict scheme", get("dict://localhost:11211/stat"), decision.Deny, []string{CodeScheme}},
		{"ldap scheme", get("ldap://evil.com/x"), decision.Deny, []string{CodeScheme}},
		{"javascript scheme", get("javascript:alert(1)"), decision.Deny, []string{CodeScheme}},
		{"curl file url", shell(analysis.Dest{Raw: "file:///etc/shadow", Scheme: "file"}), decision.Deny, []string{CodeScheme}},
		{"nc tcp is not a URL scheme", shell(analysis.Dest{Raw: "example.com:80", Scheme: "tcp", Host: "example.com", Port: 80}), decision.Allow, nil},
		{"dig dns", shell(analysis.Dest{Raw: "example.com", Scheme: "dns", Host: "example.com", Port: 53}), decision.Allow, nil},

		// Invalid URLs.
		{"invalid url", get("http://exa mple.com/"), decision.Deny, []string{CodeInvalidURL}},
		{"empty url", get(""), decision.Deny, []string{CodeInvalidURL}},
		{"bad ipv4", get("http://1.2.3.4.5/"), decision.Deny, []string{CodeInvalidURL}},

		// Deny list.
		{"webhook.site", get("https://webhook.site/abc"), decision.Deny, []string{CodeDenied}},
		{"oast subdomain", get("http://x1y2.oast.fun/"), decision.Deny, []string{CodeDenied}},
		{"notwebhook.site", get("https://notwebhook.site/"), decision.Allow, nil},

		// Listeners and data out.
		{"listener", shell(analysis.Dest{Raw: "nc -lvp 4444", Port: 4444, Listens: true, Command: "nc"}), decision.Confirm, []string{CodeListener}},
		{"post body", fetch("https://api.example.com/upload", "POST", "data"), decision.Notify, []string{CodeDataOut}},
		{"curl upload of a file", shell(analysis.Dest{Raw: "https://x.io/u", Scheme: "https", Host: "x.io", Port: 443, Sends: true, Data: "file:.env"}), decision.Notify, []string{CodeDataOut}},
		{"send to loopback", shell(analysis.Dest{Raw: "localhost:9000", Host: "localhost", Port: 9000, Sends: true, Data: "stdin"}), decision.Allow, nil},
		{"dns exfil with run-time host", shell(analysis.Dest{Raw: "$(cat .env).evil.com", Scheme: "dns", Host: "$(cat .env).evil.com", Sends: true, Data: "file:.env"}), decision.Notify, []string{CodeDataOut}},
		{"no dests", shell(), decision.Allow, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := g.Check(context.Background(), tt.in)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if v.Action != tt.wantAction {
				t.Errorf("action = %v, want %v; reasons %v; notes %q", v.Action, tt.wantAction, v.Reasons, v.Notes)
			}
			if diff := cmp.Diff(tt.wantCodes, codes(v)); diff != "" {
				t.Errorf("codes (-want +got):\n%s\nreasons %v", diff, v.Reasons)
			}
			for _, r := range v.Reasons {
				if r.Gate != "egress" || r.Message == "" || r.Detail == "" && r.Code != CodeInvalidURL {
					t.Errorf("reason %+v lacks gate, message or detail", r)
				}
			}
			if len(tt.in.Analysis.Dests) > 0 && len(v.Notes) == 0 {
				t.Error("no notes for explain")
			}
		})
	}
}

func TestAllowDeny(t *testing.T) {
	cfg := Default()
	cfg.Default = decision.Confirm
	cfg.Deny = []string{"*.evil.com", "bad.example.com", "203.0.113.0/24", "github.com:22", "[2001:db8::1]:443"}
	cfg.Allow = []string{"example.com", "*.example.com", ".github.com", "198.51.100.7", "10.1.0.0/16", "ssh.dev:2222", "https://api.partner.io", "evil.com", "localhost"}
	g := mustCompile(t, cfg)
	tests := []struct {
		dest       string
		wantAction decision.Action
		wantCodes  []string
	}{
		{"https://example.com/", decision.Allow, nil},
		{"https://EXAMPLE.com./", decision.Allow, nil},
		{"https://a.example.com/", decision.Allow, nil},
		{"https://a.b.example.com/", decision.Allow, nil},
		{"https://notexample.com/", decision.Confirm, []string{CodeNotAllowlisted}},
		{"https://example.com.evil.net/", decision.Confirm, []string{CodeNotAllowlisted}},
		{"https://github.com/", decision.Allow, nil},
		{"https://api.github.com/", decision.Allow, nil},
		{"ssh://github.com/", decision.Deny, []string{CodeDenied}},               // deny wins, port 22
		{"https://bad.example.com/", decision.Deny, []string{CodeDenied}},        // deny wins over *.example.com
		{"https://x.evil.com/", decision.Deny, []string{CodeDenied}},             // subdomain of a denied wildcard
		{"https://evil.com/", decision.Allow, nil},                               // "*.evil.com" is not the apex
		{"https://notevil.com/", decision.Confirm, []string{CodeNotAllowlisted}}, // nor a lookalike
		{"http://203.0.113.9/", decision.Deny, []string{CodeDenied}},
		{"http://3405803785/", decision.Deny, []string{CodeDenied}}, // 203.0.113.9 in decimal
		{"http://198.51.100.7/", decision.Allow, nil},
		{"http://10.1.2.3/", decision.Allow, nil}, // allowed private range is not guarded
		{"http://10.2.2.3/", decision.Confirm, []string{CodeNotAllowlisted, CodePrivate}},
		{"ssh://ssh.dev:2222/", decision.Allow, nil},
		{"ssh://ssh.dev/", decision.Confirm, []string{CodeNotAllowlisted}}, // port 22 is not 2222
		{"https://api.partner.io/v1", decision.Allow, nil},
		{"http://api.partner.io/v1", decision.Confirm, []string{CodeNotAllowlisted}}, // port 80 is not 443
		{"https://[2001:db8::1]/", decision.Deny, []string{CodeDenied}},
		{"http://localhost:8080/", decision.Allow, nil},
		{"http://169.254.169.254/", decision.Deny, []string{CodeMetadata}},
	}
	for _, tt := range tests {
		v, err := g.Check(context.Background(), fetch(tt.dest, "GET", ""))
		if err != nil {
			t.Fatalf("Check(%s): %v", tt.dest, err)
		}
		if v.Action != tt.wantAction {
			t.Errorf("%s: action = %v, want %v; reasons %v", tt.dest, v.Action, tt.wantAction, v.Reasons)
		}
		if diff := cmp.Diff(tt.wantCodes, codes(v)); diff != "" {
			t.Errorf("%s: codes (-want +got):\n%s", tt.dest, diff)
		}
	}
	// A deny entry with a port also catches a destination whose port is
	// unknown; an allow entry with a port does not admit it.
	v, _ := g.Check(context.Background(), shell(analysis.Dest{Raw: "github.com", Host: "github.com"}))
	if v.Action != decision.Deny {
		t.Errorf("unknown port against a deny entry with a port: %v, want deny", v.Reasons)
	}
	v, _ = g.Check(context.Background(), shell(analysis.Dest{Raw: "ssh.dev", Host: "ssh.dev"}))
	if v.Action != decision.Confirm {
		t.Errorf("unknown port against an allow entry with a port: %v, want confirm", v.Reasons)
	}
	// Sends to an allowed destination are not reported.
	v, _ = g.Check(context.Background(), fetch("https://example.com/upload", "POST", "x"))
	if v.Action != decision.Allow {
		t.Errorf("POST to an allowed host: %v, want allow", v.Reasons)
	}
}

func TestDefaultDeny(t *testing.T) {
	cfg := Default()
	cfg.Default = decision.Deny
	cfg.Allow = []string{"localhost", "127.0.0.0/8", ".golang.org"}
	g := mustCompile(t, cfg)
	for _, tt := range []struct {
		url  string
		want decision.Action
	}{
		{"https://proxy.golang.org/x", decision.Allow},
		{"http://127.0.0.1:8080/", decision.Allow},
		{"https://example.com/", decision.Deny},
	} {
		v, err := g.Check(context.Background(), fetch(tt.url, "GET", ""))
		if err != nil || v.Action != tt.want {
			t.Errorf("%s: %v %v, want %v", tt.url, v.Reasons, err, tt.want)
		}
	}
	v, _ := g.Check(context.Background(), fetch("https://example.com/", "GET", ""))
	if want := "contacting example.com, which is not on the allowlist, is refused; ask for it to be added"; len(v.Reasons) != 1 || v.Reasons[0].Message != want {
		t.Errorf("reasons = %v, want %q", v.Reasons, want)
	}
}

func TestCompileReportsEveryProblem(t *testing.T) {
	cfg := Default()
	cfg.Allow = []string{"ok.com", "", "github.*", "*.10.0.0.1", "host:99999"}
	cfg.Deny = []string{"http://", "a b.com"}
	cfg.AllowedSchemes = []string{"https", "1bad"}
	cfg.ListenAction = decision.Action(-1)
	_, err := Compile(cfg)
	if err == nil {
		t.Fatal("Compile accepted a broken configuration")
	}
	for _, want := range []string{`Allow[1] ""`, `Allow[2] "github.*"`, `Allow[3] "*.10.0.0.1"`, `Allow[4] "host:99999"`, `Deny[0] "http://"`, `Deny[1] "a b.com"`, `AllowedSchemes[1]`, "ListenAction"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

type fakePaths map[string]bool

func (f fakePaths) IsSensitive(p string, _ gate.Env) bool { return f[p] }

func TestRisk(t *testing.T) {
	cfg := Default()
	cfg.Paths = fakePaths{".env": true}
	g := mustCompile(t, cfg)
	send := func(data string) *decision.Dimensions {
		v, err := g.Check(context.Background(), shell(analysis.Dest{Raw: "https://x.io", Scheme: "https", Host: "x.io", Sends: true, Data: data}))
		if err != nil {
			t.Fatal(err)
		}
		return v.Risk
	}
	if r := send("file:.env"); r == nil || r.Sensitivity != 3 || r.Reversibility != 0 {
		t.Errorf("sending .env: risk %+v, want sensitivity 3 and reversibility 0", r)
	}
	if r := send("env"); r == nil || r.Sensitivity != 3 {
		t.Errorf("sending the environment: risk %+v, want sensitivity 3", r)
	}
	// An ordinary file leaving is reported, not stopped: its view stays
	// within the notify band of the risk score.
	if r := send("file:README.md"); r == nil || r.Sensitivity != 1.5 || r.Score() > 1 {
		t.Errorf("sending a file: risk %+v, want sensitivity 1.5 and a score ≤ 1", r)
	}
	if r := send("stdin"); r == nil || r.Sensitivity >= 2 {
		t.Errorf("sending stdin: risk %+v, want sensitivity below 2", r)
	}
	v, _ := g.Check(context.Background(), fetch("https://example.com/", "GET", ""))
	if v.Risk != nil {
		t.Errorf("a plain GET has risk %+v, want none", v.Risk)
	}
	want := `dest "https://example.com/" → https://example.com:443 [public]`
	if len(v.Notes) != 1 || v.Notes[0] != want {
		t.Errorf("notes = %q, want %q", v.Notes, want)
	}
}

func TestCheckBounds(t *testing.T) {
	g := mustCompile(t, Default())
	ds := make([]analysis.Dest, MaxDests+1)
	for i := range ds {
		ds[i] = analysis.Dest{Raw: "example.com", Host: "example.com"}
	}
	v, err := g.Check(context.Background(), shell(ds...))
	if err != nil || v.Action != decision.Deny {
		t.Errorf("too many destinations: %v %v, want deny", v.Reasons, err)
	}
	if _, err := g.Check(context.Background(), nil); err == nil {
		t.Error("Check(nil) did not fail")
	}
	// The URL of a fetch is judged even when the analysis lost it.
	in := fetch("http://169.254.169.254/", "GET", "")
	in.Analysis.Dests = nil
	v, _ = g.Check(context.Background(), in)
	if v.Action != decision.Deny {
		t.Errorf("fetch without analysis: %v, want deny", v.Reasons)
	}
}
