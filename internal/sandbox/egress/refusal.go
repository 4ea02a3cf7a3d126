package egress

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Codes an Attempt (and the X-Sentinel-Egress header of a refusal) carries.
const (
	// CodeAllowed: the request was allowed and its destination reached.
	CodeAllowed = "egress.allowed"
	// CodeHostNotAllowed: no rule names the host (403).
	CodeHostNotAllowed = "egress.host_not_allowed"
	// CodePortNotAllowed: a rule names the host, none allows the port (403).
	CodePortNotAllowed = "egress.port_not_allowed"
	// CodePrivateAddress: the destination is loopback, private, link-local,
	// CGNAT, unspecified, multicast or reserved, and AllowPrivate is off (403).
	CodePrivateAddress = "egress.private_address"
	// CodeMetadataAddress: the destination is a cloud metadata service (403).
	CodeMetadataAddress = "egress.metadata_address"
	// CodeResolveFailed: the allowed name did not resolve (502).
	CodeResolveFailed = "egress.resolve_failed"
	// CodeDialFailed: no checked address accepted a connection (502).
	CodeDialFailed = "egress.dial_failed"
	// CodeUpstreamFailed: a plain HTTP request was allowed and sent, but
	// the destination gave no valid response head (502). Its Attempt has
	// Allowed set: the destination was reached.
	CodeUpstreamFailed = "egress.upstream_failed"
	// CodeBadRequest: not a request this proxy serves (400).
	CodeBadRequest = "egress.bad_request"
	// CodeTooManyConnections: MaxConns connections are already open (503).
	CodeTooManyConnections = "egress.too_many_connections"
)

// HeaderCode is the response header that carries a refusal's code.
const HeaderCode = "X-Sentinel-Egress"

// refusal is a "no" (or a failure that ends in one): a code and a reason
// that both the client and the log see.
type refusal struct {
	code   string
	reason string
}

func refuse(code, format string, args ...any) *refusal {
	return &refusal{code: code, reason: oneLine(fmt.Sprintf(format, args...))}
}

// status is the HTTP status a code answers with.
func status(code string) int {
	switch code {
	case CodeBadRequest:
		return http.StatusBadRequest
	case CodeResolveFailed, CodeDialFailed, CodeUpstreamFailed:
		return http.StatusBadGateway
	case CodeTooManyConnections:
		return http.StatusServiceUnavailable
	}
	return http.StatusForbidden
}

// response renders the refusal as a complete HTTP/1.1 response that closes
// the connection.
func (r *refusal) response() []byte {
	body := "sentinel egress: " + r.code + ": " + r.reason + "\n"
	st := status(r.code)
	var b strings.Builder
	b.WriteString("HTTP/1.1 ")
	b.WriteString(strconv.Itoa(st))
	b.WriteByte(' ')
	b.WriteString(http.StatusText(st))
	b.WriteString("\r\nContent-Type: text/plain; charset=utf-8\r\n")
	b.WriteString(HeaderCode + ": " + r.code + "\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(body)
	return []byte(b.String())
}

// maxReason bounds a reason's length; a reason may quote the client.
const maxReason = 512

// oneLine makes s safe to put in a response body line and a log field:
// control characters become spaces and the length is bounded.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return truncate(s, maxReason)
}
