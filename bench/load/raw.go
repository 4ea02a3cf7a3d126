package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// -client raw speaks just enough HTTP/1.1 to measure a server: every
// request is prebuilt, written with one Write, and its response is read
// from a reused buffer, so that a request costs the client two syscalls
// and no allocation. It accepts only what a Sentinel server sends: a
// Content-Length body, no chunking, no pipelining.
const (
	// maxRawBytes bounds the prebuilt requests, held for the whole run.
	maxRawBytes = 1 << 30
	// rawReadBuffer bounds a status or header line.
	rawReadBuffer  = 4 << 10
	maxHeaderLines = 100
	// maxInterim bounds the 1xx responses skipped before the final one.
	maxInterim = 8
	maxToken   = 8 << 10
)

// protocolError is a response the raw client cannot read: malformed, or
// framed in a way it does not support.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

func protoErrorf(format string, args ...any) error {
	return &protocolError{fmt.Sprintf(format, args...)}
}

// checkToken rejects a token that cannot be sent in a header line.
func checkToken(token string) error {
	if len(token) > maxToken {
		return fmt.Errorf("-token is %d bytes, more than the %d allowed", len(token), maxToken)
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c < ' ' || c == 0x7f {
			return fmt.Errorf("-token has a control character at byte %d; a bearer token is printable text", i)
		}
	}
	return nil
}

// buildRawRequests returns the address to dial for u and the complete
// request for each body, all in one allocation.
func buildRawRequests(u *url.URL, token string, bodies [][]byte) (addr string, reqs [][]byte, err error) {
	if u.Scheme != "http" {
		return "", nil, fmt.Errorf("-client raw speaks plain HTTP only, not %s: use -client nethttp for %s", u.Scheme, u.Redacted())
	}
	if err := checkToken(token); err != nil {
		return "", nil, err
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	addr = net.JoinHostPort(u.Hostname(), port)
	head := fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nContent-Type: application/json\r\n",
		u.RequestURI(), u.Host, userAgent)
	if token != "" {
		head = fmt.Appendf(head, "Authorization: Bearer %s\r\n", token)
	}
	head = append(head, "Content-Length: "...)
	total := 0
	for _, b := range bodies {
		total += len(head) + len(strconv.Itoa(len(b))) + len("\r\n\r\n") + len(b)
		if total > maxRawBytes {
			return "", nil, fmt.Errorf("the prebuilt requests would exceed %d MiB: use fewer -bodies, or -client nethttp", maxRawBytes>>20)
		}
	}
	arena := make([]byte, 0, total)
	reqs = make([][]byte, len(bodies))
	for i, b := range bodies {
		start := len(arena)
		arena = append(arena, head...)
		arena = strconv.AppendInt(arena, int64(len(b)), 10)
		arena = append(arena, "\r\n\r\n"...)
		arena = append(arena, b...)
		reqs[i] = arena[start:len(arena):len(arena)]
	}
	return addr, reqs, nil
}

// rawConn is one worker's connection for -client raw. It dials on first
// use and again after any error or a response that ends the connection.
type rawConn struct {
	resp    respReader
	ctx     context.Context
	end     time.Time // ctx's deadline, or zero
	addr    string
	reqs    [][]byte
	timeout time.Duration
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)

	nc      net.Conn
	unwatch func() bool
}

var _ client = (*rawConn)(nil)

func newRawConn(ctx context.Context, addr string, reqs [][]byte, timeout time.Duration) *rawConn {
	end, _ := ctx.Deadline()
	return &rawConn{
		resp:    respReader{br: bufio.NewReaderSize(nil, rawReadBuffer), buf: make([]byte, 4<<10)},
		ctx:     ctx,
		end:     end,
		addr:    addr,
		reqs:    reqs,
		timeout: timeout,
		dial:    (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
	}
}

func (c *rawConn) roundTrip(i int) (int, []byte, error) {
	if c.nc == nil {
		if err := c.connect(); err != nil {
			return 0, nil, err
		}
	}
	status, body, keep, err := c.exchange(c.reqs[i])
	if err != nil || !keep {
		c.close()
	}
	return status, body, err
}

func (c *rawConn) connect() error {
	nc, err := c.dial(c.ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.nc = nc
	// Cancelling ctx ends a request in flight, as it does for net/http.
	c.unwatch = context.AfterFunc(c.ctx, func() { nc.Close() })
	c.resp.br.Reset(nc)
	return nil
}

// exchange writes req and reads its response. The timeout covers both,
// and no request outlives ctx's deadline.
func (c *rawConn) exchange(req []byte) (status int, body []byte, keep bool, err error) {
	deadline := time.Now().Add(c.timeout)
	if !c.end.IsZero() && c.end.Before(deadline) {
		deadline = c.end
	}
	if err := c.nc.SetDeadline(deadline); err != nil {
		return 0, nil, false, err
	}
	if _, err := c.nc.Write(req); err != nil {
		return 0, nil, false, fmt.Errorf("sending the request: %w", err)
	}
	return c.resp.read()
}

func (c *rawConn) close() {
	if c.nc == nil {
		return
	}
	c.unwatch()
	c.nc.Close()
	c.nc = nil
	c.resp.br.Reset(nil)
}

// respReader reads HTTP/1.1 responses from br; the body of the last one
// is in buf, which grows to the largest body seen (at most maxResponse).
type respReader struct {
	br  *bufio.Reader
	buf []byte
}

// head is what the raw client keeps of a response's status line and
// headers.
type head struct {
	status           int
	length           int64 // -1: no Content-Length
	transferEncoding bool
	close            bool // Connection: close, or HTTP/1.0 without keep-alive
}

// read reads one response and reports whether the connection may carry
// another request. The body is valid until the next call.
func (rr *respReader) read() (status int, body []byte, keep bool, err error) {
	var h head
	for interim := 0; ; interim++ {
		if h, err = rr.readHead(); err != nil {
			return h.status, nil, false, err
		}
		if h.status >= 200 {
			break
		}
		if h.status == 101 {
			return h.status, nil, false, protoErrorf("the server switched protocols (HTTP 101)")
		}
		if interim == maxInterim {
			return h.status, nil, false, protoErrorf("more than %d interim (1xx) responses", maxInterim)
		}
	}
	n := h.length
	switch {
	case h.transferEncoding:
		return h.status, nil, false, protoErrorf("the HTTP %d response has a Transfer-Encoding (chunked?); -client raw reads only responses with a Content-Length: use -client nethttp", h.status)
	case h.status == 204 || h.status == 304:
		n = 0
	case n < 0:
		return h.status, nil, false, protoErrorf("the HTTP %d response has no Content-Length; -client raw needs one: use -client nethttp", h.status)
	case n > maxResponse:
		return h.status, nil, false, protoErrorf("the HTTP %d response's Content-Length %d is more than the %d allowed", h.status, n, maxResponse)
	}
	if int(n) > cap(rr.buf) {
		rr.buf = make([]byte, n)
	}
	body = rr.buf[:n]
	if _, err := io.ReadFull(rr.br, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return h.status, nil, false, fmt.Errorf("reading the HTTP %d response's %d-byte body: %w", h.status, n, err)
	}
	// Nothing was asked for beyond this response.
	if extra := rr.br.Buffered(); extra > 0 {
		return h.status, body, false, protoErrorf("%d unexpected bytes after the HTTP %d response's %d-byte body", extra, h.status, n)
	}
	return h.status, body, !h.close, nil
}

func (rr *respReader) readHead() (head, error) {
	h := head{length: -1}
	line, err := rr.line()
	switch {
	case err == io.EOF:
		return h, fmt.Errorf("the server closed the connection without a response: %w", io.EOF)
	case err != nil:
		return h, fmt.Errorf("reading the status line: %w", err)
	}
	// "HTTP/1.1 200 OK"; the reason phrase is optional.
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
		!isDigit(line[9]) || line[9] == '0' || !isDigit(line[10]) || !isDigit(line[11]) || (len(line) > 12 && line[12] != ' ') {
		return h, protoErrorf("malformed status line %q", clip(line))
	}
	h.status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	http10 := line[7] == '0'
	keepAlive := false
	for n := 0; ; n++ {
		line, err := rr.line()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return h, fmt.Errorf("reading the HTTP %d response's headers: %w", h.status, err)
		}
		if len(line) == 0 {
			break
		}
		if n == maxHeaderLines {
			return h, protoErrorf("the HTTP %d response has more than %d header lines", h.status, maxHeaderLines)
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || line[0] == ' ' || line[0] == '\t' {
			return h, protoErrorf("malformed header line %q in the HTTP %d response", clip(line), h.status)
		}
		name, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
		switch {
		case equalFold(name, "content-length"):
			v, ok := parseLength(value)
			if !ok {
				return h, protoErrorf("invalid Content-Length %q in the HTTP %d response", clip(value), h.status)
			}
			if h.length >= 0 && h.length != v {
				return h, protoErrorf("the HTTP %d response has two Content-Lengths, %d and %d", h.status, h.length, v)
			}
			h.length = v
		case equalFold(name, "transfer-encoding"):
			h.transferEncoding = true
		case equalFold(name, "connection"):
			h.close = h.close || hasToken(value, "close")
			keepAlive = keepAlive || hasToken(value, "keep-alive")
		}
	}
	if http10 && !keepAlive {
		h.close = true
	}
	return h, nil
}

// line returns the next line without its line ending, valid until the
// next read; io.EOF means the connection ended before the line began.
func (rr *respReader) line() ([]byte, error) {
	b, err := rr.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, protoErrorf("a response line is longer than %d bytes", rr.br.Size())
	case err == io.EOF && len(b) > 0:
		return nil, io.ErrUnexpectedEOF
	case err != nil:
		return nil, err
	}
	b = b[:len(b)-1]
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return b, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseLength parses a Content-Length: decimal digits only.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// equalFold compares b with lower, which is lowercase ASCII, ignoring case.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated list v holds token.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		item := v
		if i := bytes.IndexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if equalFold(bytes.Trim(item, " \t"), token) {
			return true
		}
	}
	return false
}

// clip shortens what an error message quotes from a response.
func clip(b []byte) []byte {
	const shown = 100
	if len(b) > shown {
		return b[:shown]
	}
	return b
}
