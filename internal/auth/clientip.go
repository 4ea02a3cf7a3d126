package auth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds the X-Forwarded-For entries examined.
const maxForwardedHops = 32

// addr is a client address: parsed when possible, else the raw peer string
// (a Unix socket, say).
type addr struct {
	ip  netip.Addr
	raw string
}

func (a addr) String() string {
	if a.ip.IsValid() {
		return a.ip.String()
	}
	return a.raw
}

// limitKey is the failure limiter's bucket for a. IPv6 addresses are
// grouped by /64, the block one host usually gets, so that walking through
// its own addresses does not give a client fresh counters.
func (a addr) limitKey() string {
	switch {
	case a.ip.Is4():
		return a.ip.String()
	case a.ip.Is6():
		return netip.PrefixFrom(a.ip, 64).Masked().String()
	}
	const max = 64
	if len(a.raw) > max {
		return "raw:" + a.raw[:max]
	}
	return "raw:" + a.raw
}

func normalize(ip netip.Addr) netip.Addr {
	return ip.Unmap().WithZone("")
}

func trusted(proxies []netip.Prefix, ip netip.Addr) bool {
	for _, p := range proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientAddr is the peer's address unless the peer is a trusted proxy; then
// X-Forwarded-For is walked from the right (the entry the nearest proxy
// added) past trusted proxies to the first untrusted address. A malformed
// entry stops the walk at the last trusted hop: everything left of it may
// have been written by the client.
func clientAddr(proxies []netip.Prefix, r *http.Request) addr {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return addr{raw: host}
	}
	last := normalize(ip)
	if len(proxies) == 0 || !trusted(proxies, last) {
		return addr{ip: last}
	}
	vals := r.Header.Values("X-Forwarded-For")
	hops := 0
	for i := len(vals) - 1; i >= 0; i-- {
		rest := vals[i]
		for {
			j := strings.LastIndexByte(rest, ',')
			hop, ok := parseHop(strings.TrimSpace(rest[j+1:]))
			hops++
			if !ok || hops > maxForwardedHops {
				return addr{ip: last}
			}
			if !trusted(proxies, hop) {
				return addr{ip: hop}
			}
			last = hop
			if j < 0 {
				break
			}
			rest = rest[:j]
		}
	}
	return addr{ip: last}
}

// parseHop reads one X-Forwarded-For entry: an IP, or IP:port as some
// proxies write it.
func parseHop(s string) (netip.Addr, bool) {
	if len(s) > 64 {
		return netip.Addr{}, false
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		return normalize(ip), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalize(ap.Addr()), true
	}
	return netip.Addr{}, false
}
