package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// newTransport is the shared keep-alive transport of -client nethttp: one
// idle connection kept per worker, so that every worker keeps its own.
func newTransport(cfg config) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          cfg.Conns,
		MaxIdleConnsPerHost:   cfg.Conns,
		MaxConnsPerHost:       cfg.Conns,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
		DisableCompression:    true,
	}
}

func newHeader(token string) http.Header {
	h := http.Header{
		"Content-Type": {"application/json"},
		"User-Agent":   {userAgent},
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}

// httpConn is one worker's request template and response buffer for
// -client nethttp. A request costs a shallow copy of the template and a
// reader over the prebuilt body on top of what net/http allocates. The body
// must be a *bytes.Reader: net/http then writes headers and body with one
// write instead of flushing the headers first, which halves the client's
// syscalls.
type httpConn struct {
	tr     *http.Transport
	tmpl   *http.Request
	bodies [][]byte
	buf    []byte
}

var _ client = (*httpConn)(nil)

func newHTTPConn(ctx context.Context, r *runner) *httpConn {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, nil)
	if err != nil {
		panic(err) // the URL was parsed already
	}
	req.Header = r.header.Clone()
	return &httpConn{tr: r.tr, tmpl: req, bodies: r.bodies, buf: make([]byte, 4<<10)}
}

func (c *httpConn) roundTrip(i int) (int, []byte, error) {
	// A fresh request each time: the transport may still hold the last one
	// after RoundTrip returns.
	req := new(http.Request)
	*req = *c.tmpl
	body := c.bodies[i]
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	resp, err := c.tr.RoundTrip(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	n := 0
	for {
		if n == len(c.buf) {
			if n >= maxResponse {
				return resp.StatusCode, c.buf[:n], fmt.Errorf("HTTP %d response larger than %d bytes", resp.StatusCode, maxResponse)
			}
			c.buf = append(c.buf, make([]byte, min(len(c.buf), maxResponse-len(c.buf)))...)
		}
		m, err := resp.Body.Read(c.buf[n:])
		n += m
		if err == io.EOF {
			return resp.StatusCode, c.buf[:n], nil
		}
		if err != nil {
			return resp.StatusCode, c.buf[:n], fmt.Errorf("reading the HTTP %d response: %w", resp.StatusCode, err)
		}
	}
}

// close leaves the connection in the transport's pool: the runner closes
// the pool at the end.
func (c *httpConn) close() {}
