package egress

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fuzzResolver answers every name: sub-domains of wild.test with one
// public address, allowed.test with another, private.test with a private
// one, anything else with a third public address. Only the policy can
// keep a dial from happening.
type fuzzResolver struct{}

func (fuzzResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	host = strings.TrimSuffix(host, ".")
	ip := "203.0.113.66"
	switch {
	case host == "allowed.test":
		ip = "203.0.113.10"
	case strings.HasSuffix(host, ".wild.test"):
		ip = "203.0.113.11"
	case host == "private.test":
		ip = "10.0.0.1"
	case host == "rebind.test":
		return []net.IPAddr{{IP: net.ParseIP("203.0.113.12")}, {IP: net.ParseIP("127.0.0.1")}}, nil
	}
	return []net.IPAddr{{IP: net.ParseIP(ip)}}, nil
}

// fuzzAllowedDials is everything the fuzz rules may ever dial.
var fuzzAllowedDials = map[string]bool{
	"203.0.113.10:80": true, "203.0.113.10:443": true,
	"203.0.113.11:443": true, "203.0.113.11:8080": true,
	"203.0.113.7:22": true,
}

var fuzzRules = []string{"allowed.test", "*.wild.test:443,8080", "203.0.113.7:22", "private.test",
	"metadata.google.internal", "rebind.test", "169.254.169.254:80", "[::1]:443"}

// fakeOrigin stands in for a destination: it reads a request if there is
// one, answers, and hangs up.
func fakeOrigin(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, 1<<20))
	}
	_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
}

func FuzzProxyRequest(f *testing.F) {
	for _, s := range []string{
		"CONNECT allowed.test:443 HTTP/1.1\r\nHost: allowed.test:443\r\n\r\n\x16\x03\x01hello",
		"CONNECT a.wild.test:8080 HTTP/1.1\r\n\r\n",
		"CONNECT wild.test:443 HTTP/1.1\r\n\r\n",
		"CONNECT 203.0.113.7:22 HTTP/1.0\r\n\r\nSSH-2.0-x\r\n",
		"CONNECT [::ffff:203.0.113.7]:22 HTTP/1.1\r\n\r\n",
		"CONNECT private.test:443 HTTP/1.1\r\n\r\n",
		"CONNECT rebind.test:443 HTTP/1.1\r\n\r\n",
		"CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\n",
		"CONNECT metadata.google.internal:80 HTTP/1.1\r\n\r\n",
		"GET http://allowed.test/x?y=1 HTTP/1.1\r\nHost: evil.test\r\nConnection: close, X-A\r\nX-A: 1\r\n\r\n",
		"POST http://allowed.test/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"POST http://allowed.test/ HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
		"POST http://allowed.test/ HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET http://evil.test/ HTTP/1.1\r\n\r\nGET http://allowed.test/ HTTP/1.1\r\n\r\n",
		"GET http://allowed.test@evil.test/ HTTP/1.1\r\n\r\n",
		"GET http://evil.test#@allowed.test/ HTTP/1.1\r\n\r\n",
		"GET http://%61llowed.test/ HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n",
		"GET https://allowed.test/ HTTP/1.1\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"CONNECT allowed.test:443 HTTP/1.1\r\nX: " + strings.Repeat("a", 33<<10) + "\r\n\r\n",
		"\x00\xff garbage",
		"",
	} {
		f.Add([]byte(s))
	}
	rules := make([]Rule, 0, len(fuzzRules))
	for _, s := range fuzzRules {
		r, err := ParseRule(s)
		if err != nil {
			f.Fatal(err)
		}
		rules = append(rules, r)
	}
	// A Unix socket, as in production: it half-closes, so a request cut
	// short ends at once, and it leaves no TIME_WAIT behind.
	ln, err := net.Listen("unix", filepath.Join(f.TempDir(), "egress.sock"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ln.Close() })

	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := New(Options{Allow: rules, Resolver: fuzzResolver{}, DialTimeout: time.Second, IdleTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		p.headerTimeout = time.Second
		var mu sync.Mutex
		var dialed []string
		p.dial = func(_ context.Context, _, address string) (net.Conn, error) {
			mu.Lock()
			dialed = append(dialed, address)
			mu.Unlock()
			if !fuzzAllowedDials[address] {
				return nil, &net.OpError{Op: "dial", Err: io.EOF} // never reached by a correct proxy
			}
			near, far := net.Pipe()
			go fakeOrigin(far)
			return near, nil
		}

		client, err := net.Dial("unix", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		server, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		p.admit(server)
		_ = client.SetDeadline(time.Now().Add(5 * time.Second))
		go func() {
			_, _ = client.Write(data)
			_ = client.(*net.UnixConn).CloseWrite()
		}()
		answer, _ := io.ReadAll(client)
		client.Close()

		closed := make(chan struct{})
		go func() { _ = p.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatalf("the proxy is still busy with %q", truncate(string(data), 80))
		}

		mu.Lock()
		defer mu.Unlock()
		for _, d := range dialed {
			if !fuzzAllowedDials[d] {
				t.Fatalf("dialed %s for %q", d, truncate(string(data), 200))
			}
		}
		if len(answer) > 0 && !bytes.HasPrefix(answer, []byte("HTTP/1.")) {
			t.Fatalf("answer %q is not HTTP", truncate(string(answer), 80))
		}
		if len(dialed) > 1 {
			t.Fatalf("dialed %v for one request", dialed)
		}
	})
}
