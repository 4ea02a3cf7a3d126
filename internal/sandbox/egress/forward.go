package egress

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
)

// hopByHop headers concern one connection, not the request (RFC 9110
// 7.6.1), plus the older Proxy-Connection; every Proxy-* header goes too,
// so that nothing meant for this proxy reaches the destination.
var hopByHop = []string{"connection", "proxy-connection", "keep-alive", "te", "trailer",
	"transfer-encoding", "upgrade"}

// stripHopByHop removes hop-by-hop headers, those the Connection header
// names, and every Proxy-* header, whatever their case.
func stripHopByHop(h http.Header) {
	drop := map[string]bool{}
	for _, k := range hopByHop {
		drop[k] = true
	}
	for k, vs := range h {
		if !strings.EqualFold(k, "Connection") {
			continue
		}
		for _, v := range vs {
			for _, f := range strings.Split(v, ",") {
				if f = strings.TrimSpace(f); f != "" {
					drop[strings.ToLower(f)] = true
				}
			}
		}
	}
	for k := range h {
		lk := strings.ToLower(k)
		if drop[lk] || strings.HasPrefix(lk, "proxy-") {
			delete(h, k)
		}
	}
}

// maxInterim bounds the 1xx responses skipped before the final one.
const maxInterim = 8

// forward sends one plain HTTP request to the destination and its response
// back, then closes: one request per connection keeps every request
// checked and leaves nothing to smuggle behind a first one.
func (s *session) forward(req *http.Request, up net.Conn) {
	w := watchIdle(s.p.idleTimeout, s.client, up)
	defer func() {
		if w.stop() {
			s.at.Reason += "; ended after " + s.p.idleTimeout.String() + " idle"
		}
	}()
	if s.head != nil {
		s.head.touch = w.touch // a slow request body counts as activity
	}

	expect := req.ProtoAtLeast(1, 1) && strings.EqualFold(strings.TrimSpace(req.Header.Get("Expect")), "100-continue")
	stripHopByHop(req.Header)
	req.Header.Del("Expect")
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header["User-Agent"] = []string{""} // keeps Request.Write from adding Go's
	}
	req.Close = true
	req.RequestURI = ""

	upw := &countWriter{w: up, watch: w}
	dw := &countWriter{w: s.client, watch: w}
	defer func() { s.at.BytesUp, s.at.BytesDown = upw.n, dw.n }()
	if expect {
		// The body follows only once the client hears this; the
		// destination hears no Expect and needs no interim answer.
		if _, err := io.WriteString(s.client, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			return
		}
	}
	bw := bufio.NewWriterSize(upw, 4096)
	err := req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		s.upstreamFailed(dw, "could not send the request: "+truncate(err.Error(), 160))
		return
	}

	rlim := &headLimit{r: up, n: maxResponseHeadBytes, touch: w.touch}
	rbr := bufio.NewReaderSize(rlim, 4096)
	var resp *http.Response
	for i := 0; ; i++ {
		resp, err = http.ReadResponse(rbr, req)
		if err != nil {
			if rlim.hit {
				s.upstreamFailed(dw, "the response head is larger than 256 KiB")
			} else {
				s.upstreamFailed(dw, "no valid response: "+truncate(err.Error(), 160))
			}
			return
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		if i == maxInterim {
			s.upstreamFailed(dw, "more than 8 interim (1xx) responses")
			return
		}
	}
	rlim.lift()
	defer resp.Body.Close()
	stripHopByHop(resp.Header)
	resp.Close = true
	if err := resp.Write(dw); err != nil {
		s.at.Reason += "; response cut short: " + truncate(err.Error(), 120)
		return
	}
	_ = up.Close() // done with it; the client may take a moment to hang up
	linger(s.client)
}

// upstreamFailed answers 502 when the destination was reached but did not
// answer properly; the attempt stays allowed.
func (s *session) upstreamFailed(dw *countWriter, reason string) {
	r := refuse(CodeUpstreamFailed, "%s", reason)
	s.at.Code, s.at.Reason = r.code, s.at.Reason+"; "+r.reason
	if dw.n == 0 {
		if _, err := s.client.Write(r.response()); err == nil {
			linger(s.client)
		}
	}
}

// countWriter counts what it writes and tells the idle watch.
type countWriter struct {
	w     io.Writer
	n     int64
	watch *idleWatch
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if n > 0 {
		c.watch.touch()
	}
	return n, err
}
