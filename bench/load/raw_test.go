package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

// rawServer is a minimal HTTP/1.1 server: it reads each request (headers
// and a Content-Length body) and answers with what respond returns for the
// nth request, written piece bytes at a time (0: in one write), closing
// the connection after it when respond says so. It allocates nothing per
// request, so that the client's allocations can be counted.
type rawServer struct {
	ln        net.Listener
	respond   func(n int64) (resp []byte, closeAfter bool)
	piece     int
	requests  atomic.Int64
	conns     atomic.Int64
	malformed atomic.Int64

	mu   sync.Mutex
	open []net.Conn
	wg   sync.WaitGroup
}

func newRawServer(t *testing.T, piece int, respond func(n int64) ([]byte, bool)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, respond: respond, piece: piece}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			s.mu.Lock()
			s.open = append(s.open, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.open {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
		if n := s.malformed.Load(); n > 0 {
			t.Errorf("the server got %d malformed requests", n)
		}
	})
	return s
}

func (s *rawServer) url() string { return "http://" + s.ln.Addr().String() + "/v1/check" }

func (s *rawServer) serve(c net.Conn) {
	br := bufio.NewReaderSize(c, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		if !bytes.Equal(line, []byte("POST /v1/check HTTP/1.1\r\n")) {
			s.malformed.Add(1)
			return
		}
		length := -1
		for {
			if line, err = br.ReadSlice('\n'); err != nil {
				return
			}
			if len(line) <= 2 {
				break
			}
			const cl = "content-length:"
			if len(line) > len(cl) && equalFold(line[:len(cl)], cl) {
				length = 0
				for _, ch := range bytes.TrimSpace(line[len(cl):]) {
					length = length*10 + int(ch-'0')
				}
			}
		}
		if length < 0 {
			s.malformed.Add(1)
			return
		}
		if _, err := br.Discard(length); err != nil {
			return
		}
		resp, closeAfter := s.respond(s.requests.Add(1))
		step := s.piece
		if step <= 0 {
			step = len(resp)
		}
		for i := 0; i < len(resp); i += step {
			if _, err := c.Write(resp[i:min(i+step, len(resp))]); err != nil {
				return
			}
		}
		if closeAfter {
			return
		}
	}
}

func response(status int, body string, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", status, http.StatusText(status), len(body))
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n" + body)
	return b.Bytes()
}

// newTestRawConn is a raw client for u sending bodies.
func newTestRawConn(t *testing.T, ctx context.Context, u string, timeout time.Duration, bodies [][]byte) *rawConn {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	addr, reqs, err := buildRawRequests(pu, "T", bodies)
	if err != nil {
		t.Fatal(err)
	}
	c := newRawConn(ctx, addr, reqs, timeout)
	t.Cleanup(c.close)
	return c
}

func TestBuildRawRequests(t *testing.T) {
	bodies := [][]byte{[]byte(`{"tool":"Bash","args":{"command":"ls"}}`), []byte(`{}`)}
	u, _ := url.Parse("http://127.0.0.1:3300/v1/check?x=1")
	addr, reqs, err := buildRawRequests(u, "s3cret", bodies)
	if err != nil {
		t.Fatal(err)
	}
	if addr != "127.0.0.1:3300" {
		t.Errorf("addr = %q", addr)
	}
	want := "POST /v1/check?x=1 HTTP/1.1\r\nHost: 127.0.0.1:3300\r\nUser-Agent: sentinel-load\r\nContent-Type: application/json\r\n" +
		"Authorization: Bearer s3cret\r\nContent-Length: 2\r\n\r\n{}"
	if string(reqs[1]) != want {
		t.Errorf("request =\n%q\nwant\n%q", reqs[1], want)
	}
	// What net/http's server parser makes of it.
	for i, raw := range reqs {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(req.Body)
		if req.Method != "POST" || req.Host != "127.0.0.1:3300" || req.Header.Get("Authorization") != "Bearer s3cret" ||
			req.Header.Get("Content-Type") != "application/json" || !bytes.Equal(body, bodies[i]) {
			t.Errorf("request %d parsed as %s %s %v %q", i, req.Method, req.Host, req.Header, body)
		}
	}
	// Appending to one request must not overwrite the next.
	if cap(reqs[0]) != len(reqs[0]) {
		t.Errorf("request 0 has spare capacity %d", cap(reqs[0])-len(reqs[0]))
	}

	u, _ = url.Parse("http://[::1]")
	addr, reqs, err = buildRawRequests(u, "", bodies[1:])
	if err != nil {
		t.Fatal(err)
	}
	if want := "POST / HTTP/1.1\r\nHost: [::1]\r\nUser-Agent: sentinel-load\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"; addr != "[::1]:80" || string(reqs[0]) != want {
		t.Errorf("addr %q, request %q; want [::1]:80, %q", addr, reqs[0], want)
	}

	for _, tc := range []struct{ url, token, want string }{
		{"https://127.0.0.1:1/v1/check", "", "plain HTTP only"},
		{"http://127.0.0.1:1/v1/check", "a\nb", "control character"},
	} {
		u, _ := url.Parse(tc.url)
		if _, _, err := buildRawRequests(u, tc.token, bodies); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s, token %q: err = %v, want %q", tc.url, tc.token, err, tc.want)
		}
	}
}

// readCases are responses and what the raw client must make of them.
var readCases = []struct {
	name   string
	in     string
	status int
	body   string
	keep   bool
	err    string // a fragment of the error; "" for none
	proto  bool   // the error is a *protocolError
}{
	{name: "ok", in: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n{\"action\":\"allow\"}", status: 200, body: `{"action":"allow"}`, keep: true},
	{name: "no reason", in: "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n{}", status: 200, body: "{}", keep: true},
	{name: "bare LF", in: "HTTP/1.1 200 OK\nContent-Length: 2\n\n{}", status: 200, body: "{}", keep: true},
	{name: "header case and space", in: "HTTP/1.1 200 OK\r\ncontent-LENGTH: \t 2 \r\nX-Empty:\r\n\r\n{}", status: 200, body: "{}", keep: true},
	{name: "same length twice", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", status: 200, body: "{}", keep: true},
	{name: "error status", in: "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 7\r\n\r\nfailed\n", status: 500, body: "failed\n", keep: true},
	{name: "empty body", in: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", status: 200, body: "", keep: true},
	{name: "no content", in: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, body: "", keep: true},
	{name: "connection close", in: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", status: 200, body: "{}", keep: false},
	{name: "close in a list", in: "HTTP/1.1 200 OK\r\nConnection: Keep-Alive , CLOSE\r\nContent-Length: 2\r\n\r\n{}", status: 200, body: "{}", keep: false},
	{name: "HTTP/1.0", in: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", status: 200, body: "{}", keep: false},
	{name: "HTTP/1.0 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}", status: 200, body: "{}", keep: true},
	{name: "interim", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", status: 200, body: "{}", keep: true},

	{name: "chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", status: 200, err: "Transfer-Encoding", proto: true},
	{name: "chunked with length", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", status: 200, err: "Transfer-Encoding", proto: true},
	{name: "no length", in: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}", status: 200, err: "no Content-Length", proto: true},
	{name: "too long", in: "HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n{}", status: 200, err: "Content-Length 1048577 is more than", proto: true},
	{name: "negative length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}", status: 200, err: `invalid Content-Length "-1"`, proto: true},
	{name: "signed length", in: "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n{}", status: 200, err: "invalid Content-Length", proto: true},
	{name: "empty length", in: "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n{}", status: 200, err: "invalid Content-Length", proto: true},
	{name: "huge length", in: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n{}", status: 200, err: "invalid Content-Length", proto: true},
	{name: "two lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", status: 200, err: "two Content-Lengths, 2 and 3", proto: true},
	{name: "HTTP/2", in: "HTTP/2 200 OK\r\n\r\n", err: "malformed status line", proto: true},
	{name: "short status", in: "HTTP/1.1 20 OK\r\n\r\n", err: "malformed status line", proto: true},
	{name: "long status", in: "HTTP/1.1 2000 OK\r\n\r\n", err: "malformed status line", proto: true},
	{name: "zero status", in: "HTTP/1.1 099 OK\r\n\r\n", err: "malformed status line", proto: true},
	{name: "glued reason", in: "HTTP/1.1 200OK\r\n\r\n", err: "malformed status line", proto: true},
	{name: "not HTTP", in: "SSH-2.0-OpenSSH_9.6\r\n", err: "malformed status line", proto: true},
	{name: "folded header", in: "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\n{}", status: 200, err: "malformed header line", proto: true},
	{name: "no colon", in: "HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\n{}", status: 200, err: "malformed header line", proto: true},
	{name: "many headers", in: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: a\r\n", maxHeaderLines+1) + "Content-Length: 2\r\n\r\n{}", status: 200, err: "more than 100 header lines", proto: true},
	{name: "long header", in: "HTTP/1.1 200 OK\r\nX-A: " + strings.Repeat("a", rawReadBuffer) + "\r\nContent-Length: 2\r\n\r\n{}", status: 200, err: "longer than 4096 bytes", proto: true},
	{name: "switching", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", status: 101, err: "switched protocols", proto: true},
	{name: "endless interim", in: strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", maxInterim+2), status: 100, err: "interim", proto: true},
	{name: "extra bytes", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n", status: 200, body: "{}", err: "unexpected bytes after", proto: true},
	{name: "nothing", in: "", err: "closed the connection without a response"},
	{name: "cut in status", in: "HTTP/1.1 2", err: "unexpected EOF"},
	{name: "cut in headers", in: "HTTP/1.1 200 OK\r\nContent-Len", status: 200, err: "unexpected EOF"},
	{name: "cut in body", in: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"a\"", status: 200, err: "10-byte body: unexpected EOF"},
}

func TestReadResponse(t *testing.T) {
	for _, tc := range readCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, split := range []bool{false, true} {
				var src io.Reader = strings.NewReader(tc.in)
				if split {
					if tc.name == "extra bytes" {
						continue // seen only when they arrive with the body
					}
					src = iotest.OneByteReader(src)
				}
				rr := respReader{br: bufio.NewReaderSize(src, rawReadBuffer)}
				status, body, keep, err := rr.read()
				var pe *protocolError
				switch {
				case tc.err == "" && err != nil:
					t.Fatalf("split %v: %v", split, err)
				case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
					t.Fatalf("split %v: err = %v, want %q", split, err, tc.err)
				case err != nil && errors.As(err, &pe) != tc.proto:
					t.Errorf("split %v: %v: protocol error %v, want %v", split, err, !tc.proto, tc.proto)
				}
				if status != tc.status || (err == nil && (string(body) != tc.body || keep != tc.keep)) {
					t.Errorf("split %v: got %d %q keep %v, want %d %q keep %v", split, status, body, keep, tc.status, tc.body, tc.keep)
				}
				if err != nil && keep {
					t.Errorf("split %v: keeps the connection after %v", split, err)
				}
			}
		})
	}
}

func FuzzReadResponse(f *testing.F) {
	for _, tc := range readCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		read := func(src io.Reader) (int, []byte, bool, error) {
			rr := respReader{br: bufio.NewReaderSize(src, rawReadBuffer)}
			status, body, keep, err := rr.read()
			if err == nil && (status < 200 || status > 999 || len(body) > maxResponse || !bytes.Contains(in, body)) {
				t.Fatalf("accepted status %d with a %d-byte body not from the input", status, len(body))
			}
			if err != nil && keep {
				t.Fatalf("keeps the connection after %v", err)
			}
			return status, bytes.Clone(body), keep, err
		}
		s1, b1, k1, err1 := read(bytes.NewReader(in))
		s2, b2, k2, err2 := read(iotest.OneByteReader(bytes.NewReader(in)))
		// How the bytes arrive must not change what is read, except that
		// bytes beyond the response are seen only when they come with it.
		if err1 == nil && (err2 != nil || s1 != s2 || !bytes.Equal(b1, b2) || k1 != k2) {
			t.Fatalf("whole: %d %q %v; byte by byte: %d %q %v %v", s1, b1, k1, s2, b2, k2, err2)
		}
	})
}

func TestRawRoundTripAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	resp := response(200, `{"decision_id":"d-1","action":"allow","reasons":[]}`)
	srv := newRawServer(t, 0, func(int64) ([]byte, bool) { return resp, false })
	bodies := builtinMix(64)
	c := newTestRawConn(t, context.Background(), srv.url(), 10*time.Second, bodies)
	i := 0
	roundTrip := func() {
		status, body, err := c.roundTrip(i % len(bodies))
		i++
		if err != nil || status != 200 {
			t.Fatalf("roundTrip = %d, %v", status, err)
		}
		if a, problem := actionOf(body); problem != "" || actionNames[a] != "allow" {
			t.Fatalf("response %q: %s", body, problem)
		}
	}
	roundTrip() // connects
	if n := testing.AllocsPerRun(1000, roundTrip); n != 0 {
		t.Errorf("a raw round trip allocates %v times", n)
	}
	if got := srv.conns.Load(); got != 1 {
		t.Errorf("%d connections for one client, want 1", got)
	}
}

// A chunked response is an error that ends the connection; the next
// request connects again.
func TestRawChunked(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"action":`)
		w.(http.Flusher).Flush() // the length is not known yet: chunked
		io.WriteString(w, `"allow"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	c := newTestRawConn(t, context.Background(), srv.URL+"/v1/check", 10*time.Second, builtinMix(2))
	for i := range 2 {
		status, _, err := c.roundTrip(i)
		var pe *protocolError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "Transfer-Encoding") || !strings.Contains(err.Error(), "-client nethttp") {
			t.Errorf("request %d: err = %v, want a protocol error naming Transfer-Encoding and -client nethttp", i, err)
		}
		if status != 200 || c.nc != nil {
			t.Errorf("request %d: status %d, connection kept %v", i, status, c.nc != nil)
		}
	}
	if got := conns.Load(); got != 2 {
		t.Errorf("%d connections for 2 requests, want 2", got)
	}

	// A server the raw client cannot read stops the run before it starts,
	// and net/http reads it.
	cfg := testConfig(srv.URL, clientRaw)
	if _, err := run(context.Background(), cfg, builtinMix(2)); err == nil || !strings.Contains(err.Error(), "-client raw cannot read") {
		t.Errorf("run with -client raw: err = %v", err)
	}
	tr := newTransport(cfg)
	defer tr.CloseIdleConnections()
	hc := newHTTPConn(context.Background(), &runner{url: srv.URL, tr: tr, header: newHeader("T"), bodies: builtinMix(1)})
	if status, body, err := hc.roundTrip(0); err != nil || status != 200 || string(body) != `{"action":"allow"}` {
		t.Errorf("net/http: %d %q %v", status, body, err)
	}
}

// A server that closes the connection after each response and says so is
// served without a single error, one connection per request.
func TestRawConnectionClose(t *testing.T) {
	t.Run("raw server", func(t *testing.T) {
		resp := response(200, `{"action":"allow"}`, "Connection: close")
		srv := newRawServer(t, 0, func(int64) ([]byte, bool) { return resp, true })
		c := newTestRawConn(t, context.Background(), srv.url(), 10*time.Second, builtinMix(20))
		for i := range 20 {
			if status, body, err := c.roundTrip(i); err != nil || status != 200 || string(body) != `{"action":"allow"}` {
				t.Fatalf("request %d: %d %q %v", i, status, body, err)
			}
		}
		if got := srv.conns.Load(); got != 20 {
			t.Errorf("%d connections for 20 requests, want 20", got)
		}
	})
	t.Run("run", func(t *testing.T) {
		d := &decider{}
		srv := httptest.NewUnstartedServer(d)
		srv.Config.SetKeepAlivesEnabled(false)
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				d.conns.Add(1)
			}
		}
		srv.Start()
		t.Cleanup(srv.Close)
		for _, rate := range []int{0, 200} {
			before := d.requests.Load()
			cfg := testConfig(srv.URL, clientRaw)
			cfg.Rate = rate
			res, err := run(context.Background(), cfg, builtinMix(100))
			if err != nil {
				t.Fatal(err)
			}
			if !res.Pass || res.Errors != 0 || res.Succeeded == 0 {
				t.Errorf("rate %d: pass %v, %d errors of %d: %+v", rate, res.Pass, res.Errors, res.Requests, res.ErrorSamples)
			}
			if got, want := d.requests.Load()-before, int64(1+res.Warmup.Requests+res.Requests); got != want {
				t.Errorf("rate %d: server saw %d requests, the report accounts for %d", rate, got, want)
			}
		}
		if d.conns.Load() != d.requests.Load() {
			t.Errorf("%d connections for %d requests, want one each", d.conns.Load(), d.requests.Load())
		}
	})
}

// A server that closes the connection without saying so costs the next
// request, which fails as a transport error; the one after reconnects.
func TestRawSilentClose(t *testing.T) {
	resp := response(200, `{"action":"allow"}`)
	srv := newRawServer(t, 0, func(int64) ([]byte, bool) { return resp, true })
	c := newTestRawConn(t, context.Background(), srv.url(), 10*time.Second, builtinMix(1))
	for i := range 6 {
		status, _, err := c.roundTrip(0)
		if ok := err == nil && status == 200; ok != (i%2 == 0) {
			t.Errorf("request %d: %d %v; want every other request to fail", i, status, err)
		}
	}
	if got := srv.conns.Load(); got != 3 {
		t.Errorf("%d connections, want 3", got)
	}
}

// Responses written a few bytes at a time, split anywhere, including in
// the middle of a line ending, read the same as whole ones.
func TestRawSplitWrites(t *testing.T) {
	big := strings.Repeat("x", 20_000)
	resps := []struct {
		raw  []byte
		body string
	}{
		{response(200, `{"action":"allow"}`), `{"action":"allow"}`},
		{response(200, `{"action":"deny","reasons":[{"code":"command.recursive_delete_root"}]}`, "X-Request-Id: r-1", "connection: keep-alive"),
			`{"action":"deny","reasons":[{"code":"command.recursive_delete_root"}]}`},
		{response(200, ""), ""},
		{response(200, `{"action":"notify","pad":"`+big+`"}`), `{"action":"notify","pad":"` + big + `"}`},
		{[]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\nContent-Length: 17\n\n{\"action\":\"deny\"}"), `{"action":"deny"}`},
	}
	for _, piece := range []int{1, 3} {
		srv := newRawServer(t, piece, func(n int64) ([]byte, bool) { return resps[(n-1)%int64(len(resps))].raw, false })
		c := newTestRawConn(t, context.Background(), srv.url(), 10*time.Second, builtinMix(4))
		for i := range 2 * len(resps) {
			want := resps[i%len(resps)].body
			status, body, err := c.roundTrip(i % 4)
			if err != nil || status != 200 || string(body) != want {
				t.Fatalf("piece %d, response %d: %d %.80q %v; want 200 %.80q", piece, i, status, body, err, want)
			}
		}
		if got := srv.conns.Load(); got != 1 {
			t.Errorf("piece %d: %d connections, want 1", piece, got)
		}
	}
}

func TestRawTimeoutAndCancel(t *testing.T) {
	// A server that reads and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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
				io.Copy(io.Discard, c)
			}()
		}
	}()
	u := "http://" + ln.Addr().String() + "/v1/check"

	c := newTestRawConn(t, context.Background(), u, 20*time.Millisecond, builtinMix(1))
	if _, _, err := c.roundTrip(0); !errors.Is(err, os.ErrDeadlineExceeded) || c.nc != nil {
		t.Errorf("err = %v, connection kept %v; want a timeout that drops the connection", err, c.nc != nil)
	}

	// Cancelling the context ends a request in flight.
	ctx, cancel := context.WithCancel(context.Background())
	c = newTestRawConn(t, ctx, u, time.Minute, builtinMix(1))
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, _, err := c.roundTrip(0); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("err = %v, want the request ended by the cancel", err)
	}
	if _, _, err := c.roundTrip(0); !errors.Is(err, context.Canceled) {
		t.Errorf("after the cancel: err = %v, want %v", err, context.Canceled)
	}
}
