package egress

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustRules(t testing.TB, specs ...string) []Rule {
	t.Helper()
	var out []Rule
	for _, s := range specs {
		r, err := ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// dialLog records every dial the proxy makes and can send some addresses
// elsewhere (a test's stand-in for a public server).
type dialLog struct {
	mu       sync.Mutex
	dialed   []string
	redirect map[string]string
}

func (d *dialLog) hook(p *Proxy) {
	p.dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		d.mu.Lock()
		d.dialed = append(d.dialed, address)
		to, ok := d.redirect[address]
		d.mu.Unlock()
		if !ok {
			to = address
		}
		return (&net.Dialer{}).DialContext(ctx, network, to)
	}
}

func (d *dialLog) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.dialed)
}

func TestConnectTunnelCarriesBytesBothWays(t *testing.T) {
	port := echoServer(t, "127.0.0.2")
	tp := startProxy(t, Options{
		Allow:        mustRules(t, "allowed.test:"+strconv.Itoa(port)),
		AllowPrivate: true,
		Resolver:     newResolver(map[string][]string{"allowed.test": {"127.0.0.2"}}),
	}, nil)

	c, br := connect(t, tp.addr, hostPort("allowed.test", port))
	var sent int
	for i, msg := range []string{"ping", strings.Repeat("x", 100<<10), "pong\n"} {
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(br, got); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if string(got) != msg {
			t.Fatalf("message %d came back as %q", i, truncate(string(got), 40))
		}
		sent += len(msg)
	}
	// Half-close: the echo server sees EOF, closes, and the client sees EOF.
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("after half-close: %q, %v; want EOF", rest, err)
	}
	c.Close()

	a := tp.logs.next(t)
	want := Attempt{Method: "CONNECT", Host: "allowed.test", Port: port, IPs: []string{"127.0.0.2"},
		Allowed: true, Code: CodeAllowed, BytesUp: int64(sent), BytesDown: int64(sent)}
	if diff := cmp.Diff(want, a, cmpAttempt); diff != "" {
		t.Errorf("attempt (-want +got):\n%s", diff)
	}
	if !strings.Contains(a.Reason, "allowed by allowed.test:"+strconv.Itoa(port)) {
		t.Errorf("reason %q does not name the rule", a.Reason)
	}
}

// cmpAttempt compares attempts without their times and reasons.
var cmpAttempt = cmp.FilterPath(func(p cmp.Path) bool {
	switch p.Last().String() {
	case ".Time", ".Duration", ".Reason":
		return true
	}
	return false
}, cmp.Ignore())

// rawOrigin is a destination that records the request it gets and answers
// with exactly the bytes given.
func rawOrigin(t testing.TB, ip, answer string) (int, <-chan *http.Request) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan *http.Request, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(guard))
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		got <- req
		io.WriteString(c, answer)
	}()
	return ln.Addr().(*net.TCPAddr).Port, got
}

func TestPlainGETIsForwardedWithoutHopByHopHeaders(t *testing.T) {
	port, got := rawOrigin(t, "127.0.0.3", "HTTP/1.1 200 OK\r\n"+
		"Connection: keep-alive, X-Resp-Hop\r\n"+
		"X-Resp-Hop: secret\r\n"+
		"Keep-Alive: timeout=5\r\n"+
		"Proxy-Authenticate: Basic\r\n"+
		"X-Resp-Keep: yes\r\n"+
		"Content-Length: 19\r\n\r\n"+
		"hello from web.test")

	tp := startProxy(t, Options{
		Allow:        mustRules(t, "web.test:"+strconv.Itoa(port)),
		AllowPrivate: true,
		Resolver:     newResolver(map[string][]string{"web.test": {"127.0.0.3"}}),
	}, nil)
	hp := hostPort("web.test", port)
	resp, body := exchange(t, tp.addr, "GET http://"+hp+"/path/x?q=1 HTTP/1.1\r\n"+
		"Host: somewhere-else.test\r\n"+
		"Connection: keep-alive, X-Hop\r\n"+
		"X-Hop: 1\r\n"+
		"Keep-Alive: 300\r\n"+
		"Proxy-Authorization: Basic c2VjcmV0\r\n"+
		"Proxy-Connection: keep-alive\r\n"+
		"Proxy-Anything: y\r\n"+
		"TE: trailers\r\n"+
		"Upgrade: h2c\r\n"+
		"X-Keep: yes\r\n\r\n")

	if resp.StatusCode != http.StatusOK || body != "hello from web.test" {
		t.Fatalf("response %s %q", resp.Status, body)
	}
	for _, h := range []string{"X-Resp-Hop", "Keep-Alive", "Proxy-Authenticate"} {
		if v := resp.Header.Get(h); v != "" {
			t.Errorf("response header %s: %q reached the client", h, v)
		}
	}
	if resp.Header.Get("X-Resp-Keep") != "yes" {
		t.Errorf("response header X-Resp-Keep was dropped: %v", resp.Header)
	}
	if !resp.Close {
		t.Errorf("response does not close the connection")
	}

	r := <-got
	if r.RequestURI != "/path/x?q=1" {
		t.Errorf("destination saw %q, want origin form /path/x?q=1", r.RequestURI)
	}
	if r.Host != hp {
		t.Errorf("destination saw Host %q, want %q (the URL's)", r.Host, hp)
	}
	if !r.Close {
		t.Errorf("destination was not told the connection closes: %v", r.Header)
	}
	for _, h := range []string{"X-Hop", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Proxy-Anything", "Te", "Upgrade", "User-Agent", "Authorization"} {
		if v, ok := r.Header[h]; ok {
			t.Errorf("header %s: %q reached the destination", h, v)
		}
	}
	if r.Header.Get("X-Keep") != "yes" {
		t.Errorf("X-Keep was dropped: %v", r.Header)
	}

	a := tp.logs.next(t)
	if a.Method != "GET" || !a.Allowed || a.Code != CodeAllowed || a.BytesUp == 0 || a.BytesDown <= int64(len(body)) {
		t.Errorf("attempt %+v", a)
	}
}

func TestPostWithExpectContinue(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Header.Get("Expect") + "|" + string(b)
		w.WriteHeader(http.StatusCreated)
	}))
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	tp := startProxy(t, Options{
		Allow:        mustRules(t, "web.test:"+strconv.Itoa(port)),
		AllowPrivate: true,
		Resolver:     newResolver(map[string][]string{"web.test": {"127.0.0.3"}}),
	}, nil)

	c, err := net.Dial("tcp", tp.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(guard))
	io.WriteString(c, "POST http://"+hostPort("web.test", port)+"/up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
	br := bufio.NewReader(c)
	interim, err := http.ReadResponse(br, nil)
	if err != nil || interim.StatusCode != http.StatusContinue {
		t.Fatalf("before the body: %v, %v; want 100 Continue", interim, err)
	}
	io.WriteString(c, "hello")
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("final response %v, %v", resp, err)
	}
	if s := <-got; s != "|hello" {
		t.Errorf("destination saw Expect|body %q, want |hello", s)
	}
	c.Close()
	if a := tp.logs.next(t); a.Method != "POST" || a.Code != CodeAllowed {
		t.Errorf("attempt %+v", a)
	}
}

// TestGoClient drives the proxy with net/http's own client, plain and TLS.
func TestGoClient(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tls="+strconv.FormatBool(r.TLS != nil))
	})
	plain := httptest.NewUnstartedServer(h)
	secure := httptest.NewUnstartedServer(h)
	for _, s := range []*httptest.Server{plain, secure} {
		ln, err := net.Listen("tcp", "127.0.0.3:0")
		if err != nil {
			t.Fatal(err)
		}
		s.Listener.Close()
		s.Listener = ln
	}
	plain.Start()
	secure.StartTLS()
	defer plain.Close()
	defer secure.Close()
	pport := plain.Listener.Addr().(*net.TCPAddr).Port
	sport := secure.Listener.Addr().(*net.TCPAddr).Port

	// httptest's certificate is for example.com.
	tp := startProxy(t, Options{
		Allow:        mustRules(t, "example.com:"+strconv.Itoa(pport)+","+strconv.Itoa(sport)),
		AllowPrivate: true,
		Resolver:     newResolver(map[string][]string{"example.com": {"127.0.0.3"}}),
	}, nil)
	tr := secure.Client().Transport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: tp.addr})
	client := &http.Client{Transport: tr, Timeout: guard}
	defer tr.CloseIdleConnections()

	for _, tt := range []struct{ url, want string }{
		{"http://example.com:" + strconv.Itoa(pport) + "/", "tls=false"},
		{"https://example.com:" + strconv.Itoa(sport) + "/", "tls=true"},
	} {
		resp, err := client.Get(tt.url)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != tt.want {
			t.Errorf("GET %s: %q, want %q", tt.url, b, tt.want)
		}
	}
	resp, err := client.Get("http://evil.test/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get(HeaderCode) != CodeHostNotAllowed {
		t.Errorf("GET http://evil.test/: %s %s=%q", resp.Status, HeaderCode, resp.Header.Get(HeaderCode))
	}
}

func TestRefusals(t *testing.T) {
	downPort := closedPort(t, "127.0.0.9")
	rules := mustRules(t, "allowed.test:443", "*.wild.test:443", "down.test:"+strconv.Itoa(downPort),
		"nxdomain.test:443", "metadata.google.internal:80", "meta.test:80", "mixed.test:443",
		"10.0.0.1:443", "169.254.169.254:80", "[::1]:443", "[fd00:ec2::254]:80")
	resolver := map[string][]string{
		"allowed.test":             {"127.0.0.2"},
		"wild.test":                {"127.0.0.2"},
		"down.test":                {"127.0.0.9"},
		"meta.test":                {"169.254.169.254"},
		"mixed.test":               {"203.0.113.7", "10.0.0.1"},
		"evil.test":                {"203.0.113.66"},
		"metadata.google.internal": {"203.0.113.254"},
	}
	connect := func(hp string) string { return "CONNECT " + hp + " HTTP/1.1\r\nHost: " + hp + "\r\n\r\n" }
	tests := []struct {
		name    string
		private bool // AllowPrivate
		raw     string
		code    string
		status  int
		method  string
		host    string
		port    int
		reason  string // a part of the reason
	}{
		{"host not allowed", true, connect("evil.test:443"), CodeHostNotAllowed, 403, "CONNECT", "evil.test", 443,
			"evil.test is not in the sandbox's allowlist (allowed: allowed.test:443, *.wild.test:443, down.test:"},
		{"host not allowed, plain", true, "GET http://evil.test/x HTTP/1.1\r\n\r\n", CodeHostNotAllowed, 403, "GET", "evil.test", 80, "not in the sandbox's allowlist"},
		{"port not allowed", true, connect("allowed.test:22"), CodePortNotAllowed, 403, "CONNECT", "allowed.test", 22,
			"port 22 of allowed.test is not allowed (allowed: allowed.test:443)"},
		{"default port is not 443", true, "GET http://allowed.test/ HTTP/1.1\r\n\r\n", CodePortNotAllowed, 403, "GET", "allowed.test", 80, "port 80"},
		{"wildcard does not match its apex", true, connect("wild.test:443"), CodeHostNotAllowed, 403, "CONNECT", "wild.test", 443, "wild.test is not"},
		{"wildcard does not match a look-alike", true, connect("notwild.test:443"), CodeHostNotAllowed, 403, "CONNECT", "notwild.test", 443, ""},
		{"resolve failure", true, connect("nxdomain.test:443"), CodeResolveFailed, 502, "CONNECT", "nxdomain.test", 443, "could not resolve nxdomain.test"},
		{"dial failure", true, connect(hostPort("down.test", downPort)), CodeDialFailed, 502, "CONNECT", "down.test", downPort, "connection refused"},
		{"metadata name, even allowed", true, connect("metadata.google.internal:80"), CodeMetadataAddress, 403, "CONNECT", "metadata.google.internal", 80, "cloud metadata service"},
		{"name resolving to metadata, even with AllowPrivate", true, connect("meta.test:80"), CodeMetadataAddress, 403, "CONNECT", "meta.test", 80,
			"meta.test resolves to 169.254.169.254, a cloud metadata address"},
		{"metadata IP without AllowPrivate", false, connect("169.254.169.254:80"), CodeMetadataAddress, 403, "CONNECT", "169.254.169.254", 80, "is a cloud metadata address"},
		{"metadata IPv4-mapped", false, connect("[::ffff:169.254.169.254]:80"), CodeMetadataAddress, 403, "CONNECT", "169.254.169.254", 80, ""},
		{"metadata IPv6 without AllowPrivate", false, connect("[fd00:ec2::254]:80"), CodeMetadataAddress, 403, "CONNECT", "fd00:ec2::254", 80, ""},
		{"loopback name", false, connect("allowed.test:443"), CodePrivateAddress, 403, "CONNECT", "allowed.test", 443,
			"allowed.test resolves to 127.0.0.2, a loopback address"},
		{"private literal", false, connect("10.0.0.1:443"), CodePrivateAddress, 403, "CONNECT", "10.0.0.1", 443, "10.0.0.1 is a private address"},
		{"loopback IPv6 literal", false, connect("[::1]:443"), CodePrivateAddress, 403, "CONNECT", "::1", 443, ""},
		{"one private answer among public ones", false, connect("mixed.test:443"), CodePrivateAddress, 403, "CONNECT", "mixed.test", 443, "resolves to 10.0.0.1"},
		{"garbage", true, "HELLO\r\n\r\n", CodeBadRequest, 400, "", "", 0, "malformed"},
		{"binary garbage", true, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", CodeBadRequest, 400, "", "", 0, ""},
		{"origin form", true, "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n", CodeBadRequest, 400, "GET", "", 0, "send the absolute URL"},
		{"https through GET", true, "GET https://allowed.test/ HTTP/1.1\r\n\r\n", CodeBadRequest, 400, "GET", "", 0, "CONNECT"},
		{"unknown method with an authority", true, "TUNNEL allowed.test:443 HTTP/1.1\r\n\r\n", CodeBadRequest, 400, "TUNNEL", "", 0, ""},
		{"CONNECT without a port", true, "CONNECT allowed.test HTTP/1.1\r\n\r\n", CodeBadRequest, 400, "CONNECT", "", 0, "not host:port"},
		{"CONNECT to a path", true, "CONNECT /x HTTP/1.1\r\n\r\n", CodeBadRequest, 400, "CONNECT", "", 0, "not host:port"},
		{"CONNECT bad port", true, connect("allowed.test:99999"), CodeBadRequest, 400, "CONNECT", "", 0, "port"},
		{"odd address notation", true, connect("127.1:443"), CodeBadRequest, 400, "CONNECT", "", 0, "non-standard notation"},
		{"zone", true, connect("[fe80::1%25eth0]:443"), CodeBadRequest, 400, "CONNECT", "", 0, ""},
		{"user info", true, "GET http://u:p@allowed.test:443/ HTTP/1.1\r\n\r\n", CodeBadRequest, 400, "GET", "", 0, "user information"},
		{"HTTP/2 preface", true, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", CodeBadRequest, 400, "PRI", "", 0, ""},
		{"oversized head", true, connect("allowed.test:443")[:40] + "X-Big: " + strings.Repeat("a", 40<<10) + "\r\n\r\n", CodeBadRequest, 400, "", "", 0,
			"larger than 32768 bytes"},
		{"head cut short", true, "CONNECT allowed.test:443 HTTP/1.1\r\nHo", CodeBadRequest, 400, "", "", 0, "malformed"},
		{"head without its blank line", true, "CONNECT allowed.test:443 HTTP/1.1\r\nHost: x\r\n", CodeBadRequest, 400, "", "", 0, "closed in the middle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dials dialLog
			res := newResolver(resolver)
			tp := startProxy(t, Options{Allow: rules, AllowPrivate: tt.private, Resolver: res}, dials.hook)
			resp, body := exchangeHalfClosed(t, tp.addr, tt.raw)
			wantRefusal(t, resp, body, tt.code, tt.status)
			if !strings.Contains(body, tt.reason) {
				t.Errorf("body %q does not say %q", body, tt.reason)
			}
			a := tp.logs.next(t)
			want := Attempt{Method: tt.method, Host: tt.host, Port: tt.port, Allowed: false, Code: tt.code, IPs: a.IPs}
			if diff := cmp.Diff(want, a, cmpAttempt); diff != "" {
				t.Errorf("attempt (-want +got):\n%s", diff)
			}
			if !strings.Contains(body, a.Reason) {
				t.Errorf("the log's reason %q differs from the client's %q", a.Reason, body)
			}
			wantDials := 0
			if tt.code == CodeDialFailed {
				wantDials = 1
			}
			if got := dials.list(); len(got) != wantDials {
				t.Errorf("dialed %v; want %d dials", got, wantDials)
			}
			if tt.host == "metadata.google.internal" && res.count(tt.host) != 0 {
				t.Errorf("a metadata name was resolved")
			}
		})
	}
}

// exchangeHalfClosed sends raw, half-closes, and reads the one response:
// a request cut short reaches the proxy as such.
func exchangeHalfClosed(t testing.TB, addr, raw string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(guard))
	go func() {
		io.WriteString(c, raw)
		c.(*net.TCPConn).CloseWrite()
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the response to %q: %v", truncate(raw, 60), err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestWildcardAllowsSubdomains(t *testing.T) {
	port := echoServer(t, "127.0.0.2")
	tp := startProxy(t, Options{
		Allow:        mustRules(t, "*.wild.test:"+strconv.Itoa(port)),
		AllowPrivate: true,
		Resolver:     newResolver(map[string][]string{"sub.wild.test": {"127.0.0.2"}, "a.b.wild.test": {"127.0.0.2"}}),
	}, nil)
	for _, h := range []string{"sub.wild.test", "A.B.Wild.Test."} {
		c, br := connect(t, tp.addr, hostPort(h, port))
		io.WriteString(c, "hi")
		got := make([]byte, 2)
		if _, err := io.ReadFull(br, got); err != nil || string(got) != "hi" {
			t.Errorf("%s: echo %q, %v", h, got, err)
		}
		c.Close()
		if a := tp.logs.next(t); !a.Allowed || a.Host != strings.TrimSuffix(strings.ToLower(h), ".") {
			t.Errorf("%s: attempt %+v", h, a)
		}
	}
}

// TestDialsTheCheckedAddress shows that the proxy resolves once and
// dials the address it checked: a resolver that answers differently the
// second time (DNS rebinding) never gets a say.
func TestDialsTheCheckedAddress(t *testing.T) {
	port := echoServer(t, "127.0.0.2")
	res := newResolver(nil)
	res.answers["public.test"] = [][]string{{"203.0.113.7"}, {"127.0.0.1"}}
	dials := dialLog{redirect: map[string]string{"203.0.113.7:443": hostPort("127.0.0.2", port)}}
	tp := startProxy(t, Options{Allow: mustRules(t, "public.test:443"), Resolver: res}, dials.hook)

	for range 2 {
		c, br := connect(t, tp.addr, "public.test:443")
		io.WriteString(c, "x")
		if b, err := br.ReadByte(); err != nil || b != 'x' {
			t.Fatalf("echo %q, %v", b, err)
		}
		c.Close()
		if a := tp.logs.next(t); !a.Allowed || !slices.Equal(a.IPs, []string{"203.0.113.7"}) {
			t.Fatalf("first attempt %+v", a)
		}
		// The second lookup answers loopback: that attempt is refused.
		resp, body := exchange(t, tp.addr, "CONNECT public.test:443 HTTP/1.1\r\n\r\n")
		wantRefusal(t, resp, body, CodePrivateAddress, 403)
		tp.logs.next(t)
		res.mu.Lock()
		res.calls["public.test"] = 0
		res.mu.Unlock()
	}
	if got, want := dials.list(), []string{"203.0.113.7:443", "203.0.113.7:443"}; !slices.Equal(got, want) {
		t.Errorf("dialed %v, want %v", got, want)
	}
}

func TestMetadataNeedsALiteralRuleAndAllowPrivate(t *testing.T) {
	port := echoServer(t, "127.0.0.2")
	dials := dialLog{redirect: map[string]string{"169.254.169.254:80": hostPort("127.0.0.2", port)}}
	tp := startProxy(t, Options{
		Allow:        mustRules(t, "169.254.169.254:80", "meta.test:80"),
		AllowPrivate: true,
		Resolver:     newResolver(map[string][]string{"meta.test": {"169.254.169.254"}}),
	}, dials.hook)
	c, _ := connect(t, tp.addr, "169.254.169.254:80")
	c.Close()
	if a := tp.logs.next(t); !a.Allowed {
		t.Errorf("literal rule with AllowPrivate: %+v", a)
	}
	resp, body := exchange(t, tp.addr, "CONNECT meta.test:80 HTTP/1.1\r\n\r\n")
	wantRefusal(t, resp, body, CodeMetadataAddress, 403)
	if a := tp.logs.next(t); a.Code != CodeMetadataAddress {
		t.Errorf("name rule: %+v", a)
	}
	if got := dials.list(); !slices.Equal(got, []string{"169.254.169.254:80"}) {
		t.Errorf("dialed %v", got)
	}
}

func TestPublicAddressWithoutAllowPrivate(t *testing.T) {
	port := echoServer(t, "127.0.0.2")
	dials := dialLog{redirect: map[string]string{"[2001:db8::7]:443": hostPort("127.0.0.2", port)}}
	tp := startProxy(t, Options{
		Allow:    mustRules(t, "v6.test:443"),
		Resolver: newResolver(map[string][]string{"v6.test": {"2001:db8::7"}}),
	}, dials.hook)
	c, _ := connect(t, tp.addr, "v6.test:443")
	c.Close()
	if a := tp.logs.next(t); !a.Allowed || !slices.Equal(a.IPs, []string{"2001:db8::7"}) {
		t.Errorf("attempt %+v", a)
	}
}

func TestMaxConns(t *testing.T) {
	port := echoServer(t, "127.0.0.2")
	tp := startProxy(t, Options{
		Allow:        mustRules(t, "allowed.test:"+strconv.Itoa(port)),
		AllowPrivate: true,
		MaxConns:     1,
		Resolver:     newResolver(map[string][]string{"allowed.test": {"127.0.0.2"}}),
	}, nil)
	hp := hostPort("allowed.test", port)
	first, _ := connect(t, tp.addr, hp)

	resp, body := exchange(t, tp.addr, "CONNECT "+hp+" HTTP/1.1\r\n\r\n")
	wantRefusal(t, resp, body, CodeTooManyConnections, 503)
	if a := tp.logs.next(t); a.Code != CodeTooManyConnections || a.Host != "allowed.test" || a.Port != port {
		t.Errorf("refused attempt %+v", a)
	}

	first.Close()
	if a := tp.logs.next(t); !a.Allowed {
		t.Errorf("first attempt %+v", a)
	}
	// Its slot is free again (it is freed before the attempt is logged).
	again, _ := connect(t, tp.addr, hp)
	again.Close()
	if a := tp.logs.next(t); !a.Allowed {
		t.Errorf("third attempt %+v", a)
	}
}

func TestLogSeesEveryAttempt(t *testing.T) {
	port := echoServer(t, "127.0.0.2")
	tp := startProxy(t, Options{
		Allow:        mustRules(t, "allowed.test:"+strconv.Itoa(port), "nxdomain.test"),
		AllowPrivate: true,
		Resolver:     newResolver(map[string][]string{"allowed.test": {"127.0.0.2"}}),
	}, nil)
	hp := hostPort("allowed.test", port)
	// A connection that sends nothing is not an attempt.
	empty, err := net.Dial("tcp", tp.addr)
	if err != nil {
		t.Fatal(err)
	}
	empty.Close()
	c, _ := connect(t, tp.addr, hp)
	c.Close()
	exchange(t, tp.addr, "CONNECT evil.test:443 HTTP/1.1\r\n\r\n")
	exchange(t, tp.addr, "CONNECT "+hostPort("allowed.test", port+1)+" HTTP/1.1\r\n\r\n")
	exchangeHalfClosed(t, tp.addr, "garbage\r\n\r\n")
	exchange(t, tp.addr, "GET http://nxdomain.test/ HTTP/1.1\r\n\r\n")
	tp.Close()

	var got []string
	for _, a := range tp.logs.drain() {
		got = append(got, a.Code)
	}
	slices.Sort(got)
	want := []string{CodeAllowed, CodeBadRequest, CodeHostNotAllowed, CodePortNotAllowed, CodeResolveFailed}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("logged codes (-want +got):\n%s", diff)
	}
}

func TestCloseEndsOpenTunnels(t *testing.T) {
	port := echoServer(t, "127.0.0.2")
	tp := startProxy(t, Options{
		Allow:        mustRules(t, "allowed.test:"+strconv.Itoa(port)),
		AllowPrivate: true,
		Resolver:     newResolver(map[string][]string{"allowed.test": {"127.0.0.2"}}),
	}, nil)
	var conns []net.Conn
	for range 3 {
		c, br := connect(t, tp.addr, hostPort("allowed.test", port))
		defer c.Close()
		io.WriteString(c, "abc")
		got := make([]byte, 3)
		if _, err := io.ReadFull(br, got); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if err := tp.Close(); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		rest, err := io.ReadAll(c)
		if err != nil && !strings.Contains(err.Error(), "reset") {
			t.Errorf("tunnel %d: %v", i, err)
		}
		if len(rest) > 0 {
			t.Errorf("tunnel %d: read %q after Close", i, rest)
		}
	}
	select {
	case err := <-tp.served:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Serve returned %v", err)
		}
		tp.served <- err
	case <-time.After(guard):
		t.Fatal("Serve still running after Close")
	}
	logs := tp.logs.drain()
	if len(logs) != 3 {
		t.Fatalf("%d attempts logged, want 3", len(logs))
	}
	for _, a := range logs {
		if !a.Allowed || a.BytesUp != 3 {
			t.Errorf("attempt %+v", a)
		}
	}
	if _, err := net.Dial("tcp", tp.addr); err == nil {
		t.Errorf("the listener still accepts after Close")
	}
}

func TestIdleTimeoutEndsTunnel(t *testing.T) {
	port := echoServer(t, "127.0.0.2")
	tp := startProxy(t, Options{
		Allow:        mustRules(t, "allowed.test:"+strconv.Itoa(port)),
		AllowPrivate: true,
		IdleTimeout:  50 * time.Millisecond,
		Resolver:     newResolver(map[string][]string{"allowed.test": {"127.0.0.2"}}),
	}, nil)
	c, br := connect(t, tp.addr, hostPort("allowed.test", port))
	defer c.Close()
	if _, err := io.ReadAll(br); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("idle tunnel: %v", err)
	}
	if a := tp.logs.next(t); !a.Allowed || !strings.Contains(a.Reason, "idle") {
		t.Errorf("attempt %+v", a)
	}
}

func TestServeUnixSocket(t *testing.T) {
	port := echoServer(t, "127.0.0.2")
	sink := newSink()
	p, err := New(Options{
		Allow:        mustRules(t, "allowed.test:"+strconv.Itoa(port)),
		AllowPrivate: true,
		Resolver:     newResolver(map[string][]string{"allowed.test": {"127.0.0.2"}}),
		Log:          sink.log,
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "egress.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- p.Serve(ln) }()

	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(guard))
	io.WriteString(c, "CONNECT "+hostPort("allowed.test", port)+" HTTP/1.1\r\n\r\nearly bytes")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT over a Unix socket: %v, %v", resp, err)
	}
	got := make([]byte, len("early bytes"))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "early bytes" {
		t.Fatalf("bytes sent with the CONNECT came back as %q, %v", got, err)
	}
	c.(*net.UnixConn).CloseWrite()
	io.ReadAll(br)
	if a := sink.next(t); !a.Allowed || a.BytesUp != int64(len(got)) || a.BytesDown != int64(len(got)) {
		t.Errorf("attempt %+v", a)
	}
	p.Close()
	if err := <-served; !errors.Is(err, ErrClosed) {
		t.Errorf("Serve returned %v", err)
	}
	if err := p.Serve(ln); !errors.Is(err, ErrClosed) {
		t.Errorf("Serve after Close returned %v", err)
	}
}

func TestUpstreamWithoutAValidResponse(t *testing.T) {
	port, got := rawOrigin(t, "127.0.0.3", "SSH-2.0-not-http\r\n\r\n")
	tp := startProxy(t, Options{
		Allow:        mustRules(t, "web.test:"+strconv.Itoa(port)),
		AllowPrivate: true,
		Resolver:     newResolver(map[string][]string{"web.test": {"127.0.0.3"}}),
	}, nil)
	resp, body := exchange(t, tp.addr, "GET http://"+hostPort("web.test", port)+"/ HTTP/1.1\r\n\r\n")
	wantRefusal(t, resp, body, CodeUpstreamFailed, 502)
	<-got
	// The destination was reached: the attempt counts as allowed.
	if a := tp.logs.next(t); !a.Allowed || a.Code != CodeUpstreamFailed || a.BytesUp == 0 || !strings.Contains(a.Reason, "no valid response") {
		t.Errorf("attempt %+v", a)
	}
}

func TestSlowHeadIsRefused(t *testing.T) {
	tp := startProxy(t, Options{Allow: mustRules(t, "allowed.test")}, func(p *Proxy) { p.headerTimeout = 20 * time.Millisecond })
	c, err := net.Dial("tcp", tp.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(guard))
	io.WriteString(c, "CONNECT allowed.test:443 HTTP/1.1\r\n") // and then nothing
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	wantRefusal(t, resp, string(b), CodeBadRequest, 400)
	if !strings.Contains(string(b), "not complete within 20ms") {
		t.Errorf("body %q", b)
	}
	c.Close()
	if a := tp.logs.next(t); a.Code != CodeBadRequest {
		t.Errorf("attempt %+v", a)
	}
}
