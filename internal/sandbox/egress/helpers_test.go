package egress

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// guard bounds every wait in the tests, so that a bug shows as a failure
// rather than a hang; no test asserts how fast anything is.
const guard = 10 * time.Second

// fakeResolver answers from a table and counts lookups. A name may have
// several answers, given one after the other (the last one repeats).
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]string
	calls   map[string]int
}

func newResolver(m map[string][]string) *fakeResolver {
	r := &fakeResolver{answers: map[string][][]string{}, calls: map[string]int{}}
	for k, v := range m {
		r.answers[k] = [][]string{v}
	}
	return r
}

func (r *fakeResolver) LookupIPAddr(_ context.Context, fqdn string) ([]net.IPAddr, error) {
	host, ok := strings.CutSuffix(fqdn, ".")
	if !ok {
		return nil, fmt.Errorf("asked for %q, not a fully qualified name", fqdn)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	seq, ok := r.answers[host]
	n := r.calls[host]
	r.calls[host]++
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	ans := seq[min(n, len(seq)-1)]
	var out []net.IPAddr
	for _, s := range ans {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

func (r *fakeResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[host]
}

// logSink collects attempts.
type logSink struct{ ch chan Attempt }

func newSink() *logSink { return &logSink{ch: make(chan Attempt, 1000)} }

// log keeps the first 1000 attempts and drops the rest (benchmarks make
// more than a test reads).
func (l *logSink) log(a Attempt) {
	select {
	case l.ch <- a:
	default:
	}
}

func (l *logSink) next(t testing.TB) Attempt {
	t.Helper()
	select {
	case a := <-l.ch:
		return a
	case <-time.After(guard):
		t.Fatal("no attempt logged")
		return Attempt{}
	}
}

// drain returns what was logged so far; call it after Close.
func (l *logSink) drain() []Attempt {
	var out []Attempt
	for {
		select {
		case a := <-l.ch:
			out = append(out, a)
		default:
			return out
		}
	}
}

type testProxy struct {
	*Proxy
	addr   string
	logs   *logSink
	served chan error
}

// startProxy serves a proxy on 127.0.0.1; tweak may adjust it before it
// serves. Cleanup closes it and checks that Serve said ErrClosed.
func startProxy(t testing.TB, opts Options, tweak func(*Proxy)) *testProxy {
	t.Helper()
	sink := newSink()
	opts.Log = sink.log
	p, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if tweak != nil {
		tweak(p)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &testProxy{Proxy: p, addr: ln.Addr().String(), logs: sink, served: make(chan error, 1)}
	go func() { tp.served <- p.Serve(ln) }()
	t.Cleanup(func() {
		_ = p.Close()
		select {
		case err := <-tp.served:
			if !errors.Is(err, ErrClosed) {
				t.Errorf("Serve returned %v, want ErrClosed", err)
			}
		case <-time.After(guard):
			t.Error("Serve did not return after Close")
		}
	})
	return tp
}

// echoServer listens on ip and echoes every connection until EOF.
func echoServer(t testing.TB, ip string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
				_ = c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// closedPort returns a port on ip that nothing listens on.
func closedPort(t testing.TB, ip string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// exchange sends raw bytes to the proxy and reads one response.
func exchange(t testing.TB, addr, raw string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(guard))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
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

// connect opens a tunnel through the proxy and returns it once the proxy
// said 200.
func connect(t testing.TB, addr, hostport string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(guard))
	if _, err := io.WriteString(c, "CONNECT "+hostport+" HTTP/1.1\r\nHost: "+hostport+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("CONNECT %s: %s %s", hostport, resp.Status, b)
	}
	return c, br
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// wantRefusal checks a refusal's status, header and body.
func wantRefusal(t testing.TB, resp *http.Response, body, code string, st int) {
	t.Helper()
	if resp.StatusCode != st {
		t.Errorf("status %d, want %d (body %q)", resp.StatusCode, st, body)
	}
	if got := resp.Header.Get(HeaderCode); got != code {
		t.Errorf("%s: %q, want %q", HeaderCode, got, code)
	}
	if !strings.HasPrefix(body, "sentinel egress: "+code+": ") || strings.Count(body, "\n") != 1 || !strings.HasSuffix(body, "\n") {
		t.Errorf("body %q is not one line starting with the code %s", body, code)
	}
}
