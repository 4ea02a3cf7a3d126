package egress

import (
	"bufio"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Bounds on what a client may send before the proxy decides.
const (
	// maxHeadBytes bounds a request line and its headers together.
	maxHeadBytes = 32 << 10
	// maxResponseHeadBytes bounds a destination's response head.
	maxResponseHeadBytes = 256 << 10
)

var errHeadTooLarge = errors.New("head too large")

// headLimit reads at most n bytes, then fails; once a head is read, the
// limit is lifted for the body. It also counts what it read, to tell a
// client that sent nothing from one that sent half a request.
type headLimit struct {
	r    io.Reader
	n    int64
	read int64
	hit  bool
	// touch, when set, is told of every read that returns bytes.
	touch func()
}

func (l *headLimit) Read(p []byte) (int, error) {
	if l.n <= 0 {
		l.hit = true
		return 0, errHeadTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	l.read += int64(n)
	if n > 0 && l.touch != nil {
		l.touch()
	}
	return n, err
}

func (l *headLimit) lift() { l.n = math.MaxInt64 }

// readHead reads one request head from the client within p.headerTimeout.
// It returns nil and no refusal when the client sent nothing at all.
func (s *session) readHead() (*http.Request, *bufio.Reader, *refusal) {
	c := s.client
	_ = c.SetReadDeadline(time.Now().Add(s.p.headerTimeout))
	lim := &headLimit{r: c, n: maxHeadBytes}
	s.head = lim
	br := bufio.NewReaderSize(lim, 4096)
	req, err := http.ReadRequest(br)
	if err != nil {
		switch {
		case lim.hit:
			return nil, nil, refuse(CodeBadRequest, "request head is larger than %d bytes", maxHeadBytes)
		case lim.read == 0:
			return nil, nil, nil
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, nil, refuse(CodeBadRequest, "request head not complete within %s", s.p.headerTimeout)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, nil, refuse(CodeBadRequest, "connection closed in the middle of the request head")
		}
		return nil, nil, refuse(CodeBadRequest, "malformed request: %s", truncate(err.Error(), 160))
	}
	_ = c.SetReadDeadline(noDeadline)
	lim.lift()
	return req, br, nil
}

// target is where a request wants to go.
type target struct {
	connect bool
	host    string     // normalised name, or the address as text
	addr    netip.Addr // valid when the request names an address
	port    int
}

// parseTarget reads the destination of a CONNECT (authority form) or of a
// plain HTTP request (absolute form). Everything else is a bad request.
func parseTarget(req *http.Request) (target, *refusal) {
	if req.ProtoMajor != 1 {
		return target{}, refuse(CodeBadRequest, "protocol %q is not served; speak HTTP/1.1", truncate(req.Proto, 16))
	}
	var host, port string
	t := target{connect: req.Method == http.MethodConnect}
	if t.connect {
		raw := req.RequestURI
		h, p, err := net.SplitHostPort(raw)
		if err != nil || strings.Contains(raw, "/") {
			return target{}, refuse(CodeBadRequest, "CONNECT target %q is not host:port", truncate(raw, 80))
		}
		if p == "" {
			return target{}, refuse(CodeBadRequest, "CONNECT target %q has no port", truncate(raw, 80))
		}
		host, port = h, p
	} else {
		u := req.URL
		switch {
		case u == nil || u.Scheme == "":
			return target{}, refuse(CodeBadRequest, "%s %q is not a proxy request; send the absolute URL (GET http://host/path) or CONNECT host:port",
				truncate(req.Method, 16), truncate(req.RequestURI, 80))
		case u.Scheme == "https":
			return target{}, refuse(CodeBadRequest, "https URLs go through CONNECT host:443, not %s", truncate(req.Method, 16))
		case u.Scheme != "http":
			return target{}, refuse(CodeBadRequest, "scheme %q is not served; use http:// or CONNECT", truncate(u.Scheme, 16))
		case u.User != nil:
			return target{}, refuse(CodeBadRequest, "the URL carries user information; send credentials in an Authorization header")
		case u.Host == "" || u.Opaque != "":
			return target{}, refuse(CodeBadRequest, "URL %q names no host", truncate(req.RequestURI, 80))
		}
		host, port = u.Hostname(), u.Port()
		if port == "" {
			port = "80"
		}
	}
	n, err := parsePort(port)
	if err != nil {
		return target{}, refuse(CodeBadRequest, "%s", err.Error())
	}
	t.port = n
	if t.host, t.addr, err = normalizeHost(host); err != nil {
		return target{}, refuse(CodeBadRequest, "host %q: %s", truncate(host, 80), err.Error())
	}
	return t, nil
}

// normalizeHost reads a request's host: an IP address (brackets already
// removed) or a DNS name, lower-cased without its trailing dot.
func normalizeHost(h string) (string, netip.Addr, error) {
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			return "", netip.Addr{}, errors.New("an address with a zone is never allowed")
		}
		a = a.Unmap()
		return a.String(), a, nil
	}
	name := strings.ToLower(strings.TrimSuffix(h, "."))
	if err := checkName(name); err != nil {
		return "", netip.Addr{}, err
	}
	return name, netip.Addr{}, nil
}
