package egress

import (
	"bufio"
	"io"
	"net"
	"time"
)

var noDeadline time.Time

// session is one client connection: one request or one tunnel.
type session struct {
	p      *Proxy
	client net.Conn
	at     Attempt
	// head limits the request head; the request body is read through it.
	head *headLimit
}

// serveConn serves one connection, frees its slot, and logs its attempt
// last, so that whoever reads the log sees the slot already free.
func (p *Proxy) serveConn(c net.Conn, slot chan struct{}) {
	defer p.wg.Done()
	s := &session{p: p, client: c, at: Attempt{Time: time.Now()}}
	attempted := s.run(slot == p.slots)
	_ = c.Close()
	p.untrack(c)
	<-slot
	if attempted {
		s.at.Duration = time.Since(s.at.Time)
		p.logAttempt(s.at)
	}
}

// run reads the request, decides, and carries it out or refuses it. It
// returns false when the client sent nothing, which is no attempt at all.
func (s *session) run(admitted bool) bool {
	req, br, ref := s.readHead()
	if req == nil && ref == nil {
		return false
	}
	if req != nil {
		s.at.Method = truncate(req.Method, 32)
	}
	var t target
	if ref == nil {
		t, ref = parseTarget(req)
		s.at.Host, s.at.Port = t.host, t.port
	}
	if ref == nil && !admitted {
		ref = refuse(CodeTooManyConnections, "%d connections are open, the most this sandbox may have; retry when one ends", cap(s.p.slots))
	}
	var v verdict
	if ref == nil {
		v, ref = s.decide(s.p.ctx, t)
	}
	var up net.Conn
	if ref == nil {
		up, ref = s.dial(s.p.ctx, v, t.port)
	}
	if ref != nil {
		s.refuse(ref)
		return true
	}
	if !s.p.track(up) {
		_ = up.Close()
		s.refuse(refuse(CodeDialFailed, "the proxy is shutting down"))
		return true
	}
	defer func() {
		_ = up.Close()
		s.p.untrack(up)
	}()
	s.at.Allowed, s.at.Code = true, CodeAllowed
	s.at.Reason = "allowed by " + v.rule.src.String() + "; connected to " + up.RemoteAddr().String()
	if t.connect {
		s.tunnel(br, up)
	} else {
		s.forward(req, up)
	}
	return true
}

// refuse answers the client with the refusal and records it.
func (s *session) refuse(r *refusal) {
	s.at.Allowed, s.at.Code, s.at.Reason = false, r.code, r.reason
	_ = s.client.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := s.client.Write(r.response()); err == nil {
		linger(s.client)
	}
}

// linger half-closes c and drains what the client still sends (a request
// body, early TLS bytes) for a moment, so that closing c does not reset the
// connection before the client has read the answer.
func linger(c net.Conn) {
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(lingerTimeout))
	_, _ = io.CopyN(io.Discard, c, lingerBytes)
}

// established answers a CONNECT that was allowed.
const established = "HTTP/1.1 200 Connection established\r\n\r\n"

// tunnel carries bytes both ways between the client and the destination,
// starting with what the client sent after its CONNECT head.
func (s *session) tunnel(br *bufio.Reader, up net.Conn) {
	_ = s.client.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := io.WriteString(s.client, established); err != nil {
		s.at.Reason += "; client gone before the tunnel opened"
		return
	}
	_ = s.client.SetWriteDeadline(noDeadline)
	early, _ := br.Peek(br.Buffered())
	var idled bool
	s.at.BytesUp, s.at.BytesDown, idled = pipe(s.client, up, early, s.p.idleTimeout)
	if idled {
		s.at.Reason += "; ended after " + s.p.idleTimeout.String() + " idle"
	}
}
