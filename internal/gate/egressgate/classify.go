package egressgate

import (
	"net/netip"
	"strings"
)

// kind is where a destination leads, judged without resolving it.
type kind uint8

const (
	kindPublic kind = iota
	kindLoopback
	kindPrivate
	kindMetadata
)

func (k kind) String() string {
	switch k {
	case kindLoopback:
		return "loopback"
	case kindPrivate:
		return "private"
	case kindMetadata:
		return "metadata"
	}
	return "public"
}

// Cloud metadata endpoints. AWS, GCP, Azure, OpenStack, DigitalOcean and
// Oracle use 169.254.169.254; the others are AWS ECS task metadata
// (169.254.170.2, .23), AWS IPv6 (fd00:ec2::254), Alibaba
// (100.100.100.200), Tencent (169.254.0.23), Scaleway (169.254.42.42) and
// Oracle's legacy address (192.0.0.192).
func metadataAddr(a netip.Addr) bool {
	switch a {
	case netip.AddrFrom4([4]byte{169, 254, 169, 254}),
		netip.AddrFrom4([4]byte{169, 254, 170, 2}),
		netip.AddrFrom4([4]byte{169, 254, 170, 23}),
		netip.AddrFrom4([4]byte{100, 100, 100, 200}),
		netip.AddrFrom4([4]byte{169, 254, 0, 23}),
		netip.AddrFrom4([4]byte{169, 254, 42, 42}),
		netip.AddrFrom4([4]byte{192, 0, 0, 192}),
		netip.AddrFrom16([16]byte{0xfd, 0x00, 0x0e, 0xc2, 14: 0x02, 15: 0x54}):
		return true
	}
	return false
}

func metadataName(h string) bool {
	switch h {
	case "metadata.google.internal", "metadata.goog", "metadata", "instance-data",
		"instance-data.ec2.internal", "metadata.tencentyun.com", "metadata.azure.internal":
		return true
	}
	return false
}

var privatePrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network" (0.0.0.0 itself is loopback)
	netip.MustParsePrefix("10.0.0.0/8"),     // RFC 1918
	netip.MustParsePrefix("100.64.0.0/10"),  // CGNAT
	netip.MustParsePrefix("169.254.0.0/16"), // link-local
	netip.MustParsePrefix("172.16.0.0/12"),  // RFC 1918
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("192.168.0.0/16"), // RFC 1918
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("224.0.0.0/3"),    // multicast, reserved, broadcast
	netip.MustParsePrefix("fc00::/7"),       // unique local
	netip.MustParsePrefix("fe80::/10"),      // link-local
	netip.MustParsePrefix("fec0::/10"),      // site-local (deprecated, still routed in places)
	netip.MustParsePrefix("ff00::/8"),       // multicast
}

// classifyAddr classifies an address, looking through the IPv6 forms that
// carry an IPv4 address inside (mapped, compatible, NAT64, 6to4).
func classifyAddr(a netip.Addr) kind {
	a = a.Unmap()
	if a.Is6() {
		if v4, ok := embeddedV4(a); ok {
			if k := classifyAddr(v4); k != kindPublic {
				return k
			}
		}
	}
	switch {
	case metadataAddr(a):
		return kindMetadata
	case a.IsLoopback() || a.IsUnspecified():
		return kindLoopback
	}
	for _, p := range privatePrefixes {
		if p.Contains(a) {
			return kindPrivate
		}
	}
	return kindPublic
}

var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour  = netip.MustParsePrefix("2002::/16")
	compat     = netip.MustParsePrefix("::/96")
)

func embeddedV4(a netip.Addr) (netip.Addr, bool) {
	b := a.As16()
	switch {
	case nat64.Contains(a), nat64Local.Contains(a), compat.Contains(a) && !a.IsLoopback() && !a.IsUnspecified():
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// privateSuffixes are special-use and conventional internal name spaces.
var privateSuffixes = []string{".internal", ".local", ".lan", ".home.arpa", ".intranet", ".corp"}

// ipEchoSuffixes are public DNS services that answer a name with the
// address written in it ("10.0.0.1.nip.io", "app-169-254-169-254.sslip.io").
var ipEchoSuffixes = []string{".nip.io", ".sslip.io", ".xip.io", ".nip.direct"}

// loopbackNames resolve to 127.0.0.1 by definition or by public record.
var loopbackNames = []string{"localhost", "localtest.me", "lvh.me", "vcap.me"}

// classify classifies a normalised host.
func classify(host string, addr netip.Addr) kind {
	if host == "" {
		return kindPublic
	}
	if addr.IsValid() {
		return classifyAddr(addr)
	}
	if metadataName(host) {
		return kindMetadata
	}
	for _, n := range loopbackNames {
		if host == n || strings.HasSuffix(host, "."+n) {
			return kindLoopback
		}
	}
	for _, s := range ipEchoSuffixes {
		if rest, ok := strings.CutSuffix(host, s); ok {
			if a, ok := echoedAddr(rest); ok {
				return classifyAddr(a)
			}
		}
	}
	for _, s := range privateSuffixes {
		if strings.HasSuffix(host, s) {
			return kindPrivate
		}
	}
	return kindPublic
}

// echoedAddr reads the address an echo-service name carries: the last four
// labels as a dotted quad, or the last label's last four dash-separated
// parts, or eight hex digits.
func echoedAddr(rest string) (netip.Addr, bool) {
	labels := strings.Split(rest, ".")
	if len(labels) >= 4 {
		if a, err := netip.ParseAddr(strings.Join(labels[len(labels)-4:], ".")); err == nil {
			return a, true
		}
	}
	last := labels[len(labels)-1]
	if parts := strings.Split(last, "-"); len(parts) >= 4 {
		if a, err := netip.ParseAddr(strings.Join(parts[len(parts)-4:], ".")); err == nil {
			return a, true
		}
	}
	if strings.Count(last, "-") >= 2 {
		// IPv6 with dashes for colons ("--1" is "::1").
		if a, err := netip.ParseAddr(strings.ReplaceAll(last, "-", ":")); err == nil {
			return a, true
		}
	}
	if len(last) == 8 {
		var b [4]byte
		for i := 0; i < 4; i++ {
			hi, lo := unhex(last[2*i]), unhex(last[2*i+1])
			if hi < 0 || lo < 0 {
				return netip.Addr{}, false
			}
			b[i] = byte(hi<<4 | lo)
		}
		return netip.AddrFrom4(b), true
	}
	return netip.Addr{}, false
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}
