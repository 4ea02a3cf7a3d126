package egressgate

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/sentinel-agent/sentinel/internal/analysis"
)

// Limits on one destination.
const (
	// MaxDestLen is the longest destination string accepted, in bytes.
	MaxDestLen = 8192
	// MaxHostLen is the longest host name after normalisation (DNS).
	MaxHostLen  = 253
	maxLabelLen = 63
)

// ErrInvalid is wrapped by every ParseDest error.
var ErrInvalid = errors.New("invalid destination")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// defaultPorts are the ports a URL scheme implies.
var defaultPorts = map[string]int{
	"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21, "ftps": 990,
	"ssh": 22, "sftp": 22, "scp": 22, "git": 9418, "git+ssh": 22, "ssh+git": 22,
	"git+https": 443, "git+http": 80, "rsync": 873, "telnet": 23, "gopher": 70,
	"dict": 2628, "ldap": 389, "ldaps": 636, "tftp": 69, "smb": 445, "redis": 6379,
}

// special schemes are parsed the way browsers and curl do: any run of
// slashes or backslashes may precede the host, and a backslash ends it.
func special(scheme string) bool {
	switch scheme {
	case "http", "https", "ws", "wss", "ftp", "ftps", "file", "gopher":
		return true
	}
	return false
}

// opaque schemes carry no host ("mailto:x@y", "data:…").
func opaque(scheme string) bool {
	switch scheme {
	case "data", "javascript", "vbscript", "mailto", "about", "blob", "urn", "tel", "sms":
		return true
	}
	return false
}

// ParseDest parses a destination as a tool or a command names it: a URL
// ("https://u:p@Host:8080/x", "file:///etc/passwd"), an scp or ssh target
// ("user@host", "git@github.com:org/repo"), "host:22", "10.0.0.1",
// "[::1]:80" or a bare IPv6 address. Credentials are dropped.
//
// The host is normalised so that one name has one spelling: letters are
// mapped and lower-cased the way IDNA does (NFKC, so full-width letters and
// dots become ASCII), international names become "xn--" labels,
// percent-escapes are decoded, trailing dots are removed, and IPv4 in any
// notation browsers accept ("2130706433", "0x7f.1", "017700000001",
// "127.1") becomes a dotted quad; IPv4-mapped IPv6 becomes IPv4 too. When
// the scheme implies a port and none is given, Port is that default.
//
// ParseDest never resolves a name.
func ParseDest(raw string) (analysis.Dest, error) {
	d := analysis.Dest{Raw: raw}
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return d, invalid("empty")
	case len(s) > MaxDestLen:
		return d, invalid("longer than %d bytes", MaxDestLen)
	case !utf8.ValidString(s):
		return d, invalid("not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return d, invalid("contains a control character")
		}
	}

	rest := s
	authority := true // whether rest starts with an authority
	scp := false      // "host:path" is allowed
	if i := strings.IndexByte(s, ':'); i > 0 && validScheme(s[:i]) {
		scheme := strings.ToLower(s[:i])
		after := s[i+1:]
		switch {
		case special(scheme):
			d.Scheme = scheme
			rest = strings.TrimLeft(after, `/\`)
			if scheme == "file" {
				// file://host/path names a host only in theory.
				authority = strings.HasPrefix(after, "//") && !strings.HasPrefix(after, "///")
				if authority {
					rest = after[2:]
				}
			}
		case strings.HasPrefix(after, "//"):
			d.Scheme = scheme
			rest = after[2:]
		case opaque(scheme):
			d.Scheme = scheme
			authority = false
		default:
			// "localhost:8080", or "host:path" as scp and git write it.
			scp = true
		}
	} else {
		scp = true
		if strings.HasPrefix(s, "//") {
			rest = s[2:]
			scp = false
		}
	}
	if d.Scheme != "" && d.Port == 0 {
		d.Port = defaultPorts[d.Scheme]
	}
	if !authority {
		return d, nil
	}
	end := strings.IndexAny(rest, `/?#\`)
	if end >= 0 {
		rest = rest[:end]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	host, port, err := splitHostPort(rest, scp)
	if err != nil {
		return d, err
	}
	if host == "" {
		if d.Scheme == "file" {
			return d, nil
		}
		return d, invalid("no host")
	}
	h, err := NormalizeHost(host)
	if err != nil {
		return d, err
	}
	d.Host = h
	if port >= 0 {
		d.Port = port
	}
	return d, nil
}

// splitHostPort splits "host", "host:port", "[v6]:port" or a bare IPv6
// address. port is -1 when none is given; with scp, text after the colon
// that is not a number is a path and ignored.
func splitHostPort(s string, scp bool) (host string, port int, err error) {
	port = -1
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, invalid("unclosed [ in host")
		}
		host, after := s[:end+1], s[end+1:]
		if after == "" {
			return host, -1, nil
		}
		if after[0] != ':' {
			return "", 0, invalid("text after ]")
		}
		p, perr := parsePort(after[1:])
		if perr != nil && !scp {
			return "", 0, perr
		}
		if perr != nil {
			return host, -1, nil
		}
		return host, p, nil
	}
	if strings.Count(s, ":") > 1 {
		// A bare IPv6 address cannot carry a port.
		return s, -1, nil
	}
	host, ps, found := strings.Cut(s, ":")
	if !found {
		return host, -1, nil
	}
	p, perr := parsePort(ps)
	switch {
	case perr == nil:
		return host, p, nil
	case scp && !allDigits(ps):
		return host, -1, nil
	}
	return "", 0, perr
}

func parsePort(s string) (int, error) {
	if s == "" {
		return -1, nil
	}
	if !allDigits(s) || len(s) > 5 {
		return 0, invalid("port %q is not a number from 0 to 65535", clip(s))
	}
	n, _ := strconv.Atoi(s)
	if n > 65535 {
		return 0, invalid("port %d is out of range", n)
	}
	return n, nil
}

func validScheme(s string) bool {
	if s == "" || len(s) > 32 || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NormalizeHost returns the canonical spelling of a host: an IPv4 dotted
// quad, a compressed IPv6 address without brackets or zone, or a
// lower-case ASCII domain name without trailing dots.
func NormalizeHost(h string) (string, error) {
	if h == "" {
		return "", invalid("empty host")
	}
	if len(h) > MaxDestLen {
		return "", invalid("host too long")
	}
	if strings.HasPrefix(h, "[") {
		if !strings.HasSuffix(h, "]") {
			return "", invalid("unclosed [ in host")
		}
		h = h[1 : len(h)-1]
		a, err := parseIPv6(h)
		if err != nil {
			return "", err
		}
		return a.String(), nil
	}
	if strings.IndexByte(h, ':') >= 0 {
		a, err := parseIPv6(h)
		if err != nil {
			return "", err
		}
		return a.String(), nil
	}
	if strings.IndexByte(h, '%') >= 0 {
		dec, err := unescape(h)
		if err != nil {
			return "", err
		}
		if strings.IndexByte(dec, ':') >= 0 {
			return "", invalid("escaped colon in host")
		}
		h = dec
	}
	if !isASCII(h) {
		h = norm.NFKC.String(h)
		h = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".").Replace(h)
	}
	h = strings.ToLower(h)
	h = strings.TrimRight(h, ".")
	if h == "" {
		return "", invalid("empty host")
	}
	for _, r := range h {
		if r <= 0x20 || r == 0x7f || strings.ContainsRune("#%/:<>?@[\\]^|*\"'`{}", r) {
			return "", invalid("host contains %q", r)
		}
	}
	if a, isIP, err := parseIPv4(h); isIP {
		if err != nil {
			return "", err
		}
		return a.String(), nil
	}
	labels := strings.Split(h, ".")
	for i, l := range labels {
		if l == "" {
			return "", invalid("empty label in host %q", clip(h))
		}
		if !isASCII(l) {
			enc, err := punycode(l)
			if err != nil {
				return "", err
			}
			labels[i] = "xn--" + enc
		}
		if len(labels[i]) > maxLabelLen {
			return "", invalid("label longer than %d bytes", maxLabelLen)
		}
	}
	h = strings.Join(labels, ".")
	if len(h) > MaxHostLen {
		return "", invalid("host longer than %d bytes", MaxHostLen)
	}
	return h, nil
}

func parseIPv6(h string) (netip.Addr, error) {
	if i := strings.IndexByte(h, '%'); i >= 0 {
		h = h[:i] // zone ("%eth0", "%25eth0"): the address is what counts
	}
	a, err := netip.ParseAddr(h)
	if err != nil || !a.Is6() {
		return netip.Addr{}, invalid("bad IPv6 address %q", clip(h))
	}
	return a.Unmap(), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// unescape decodes percent-escapes in a host, as browsers do.
func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", invalid("bad percent-escape in host")
		}
		v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
		b.WriteByte(byte(v))
		i += 2
	}
	out := b.String()
	if !utf8.ValidString(out) {
		return "", invalid("percent-escapes in host are not UTF-8")
	}
	return out, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// parseIPv4 reads a host the way the WHATWG URL standard does: when its
// last label is a number (decimal, 0x-hex or 0-octal) the host is an IPv4
// address of one to four parts, the last part filling the remaining bytes.
// isIP reports whether the host is meant as an address at all; err is set
// when it is but does not parse.
func parseIPv4(h string) (a netip.Addr, isIP bool, err error) {
	parts := strings.Split(h, ".")
	if !numeric(parts[len(parts)-1]) {
		return netip.Addr{}, false, nil
	}
	if len(parts) > 4 {
		return netip.Addr{}, true, invalid("IPv4 address %q has more than four parts", clip(h))
	}
	var nums [4]uint64
	for i, p := range parts {
		n, ok := ipv4Number(p)
		if !ok {
			return netip.Addr{}, true, invalid("bad IPv4 part %q", clip(p))
		}
		nums[i] = n
	}
	last := len(parts) - 1
	for _, n := range nums[:last] {
		if n > 255 {
			return netip.Addr{}, true, invalid("IPv4 part out of range in %q", clip(h))
		}
	}
	if nums[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, true, invalid("IPv4 address %q is out of range", clip(h))
	}
	v := nums[last]
	for i := 0; i < last; i++ {
		v += nums[i] << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true, nil
}

// numeric reports whether a label is an IPv4 number in form (all decimal
// digits, or 0x followed by hex digits).
func numeric(s string) bool {
	if s == "" {
		return false
	}
	if allDigits(s) {
		return true
	}
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		for i := 2; i < len(s); i++ {
			if !isHex(s[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func ipv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := 10
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		s, base = s[2:], 16
		if s == "" {
			return 0, true
		}
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return 0, true
	}
	if len(s) > 12 {
		return 0, false // beyond any IPv4 value in every base
	}
	n, err := strconv.ParseUint(s, base, 64)
	return n, err == nil
}

// punycode encodes one label with the Bootstring parameters of RFC 3492.
func punycode(label string) (string, error) {
	const (
		base, tmin, tmax, skew, damp = 36, 1, 26, 38, 700
		initialBias, initialN        = 72, 128
	)
	runes := []rune(label)
	if len(runes) > maxLabelLen {
		return "", invalid("label longer than %d characters", maxLabelLen)
	}
	var out []byte
	for _, r := range runes {
		if r < 0x80 {
			out = append(out, byte(r))
		}
	}
	b := len(out)
	h := b
	if b > 0 {
		out = append(out, '-')
	}
	digit := func(d int) byte {
		if d < 26 {
			return byte('a' + d)
		}
		return byte('0' + d - 26)
	}
	adapt := func(delta, numPoints int, first bool) int {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / numPoints
		k := 0
		for delta > ((base-tmin)*tmax)/2 {
			delta /= base - tmin
			k += base
		}
		return k + (base-tmin+1)*delta/(delta+skew)
	}
	n, delta, bias := initialN, 0, initialBias
	for h < len(runes) {
		m := int(utf8.MaxRune) + 1
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
			}
			if int(r) != n {
				continue
			}
			q := delta
			for k := base; ; k += base {
				t := k - bias
				if t < tmin {
					t = tmin
				} else if t > tmax {
					t = tmax
				}
				if q < t {
					break
				}
				out = append(out, digit(t+(q-t)%(base-t)))
				q = (q - t) / (base - t)
			}
			out = append(out, digit(q))
			bias = adapt(delta, h+1, h == b)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return string(out), nil
}

func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
