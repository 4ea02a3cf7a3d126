package egress

import (
	"net/netip"
)

// class is where an address leads. Everything but classPublic needs
// AllowPrivate, and classMetadata needs more (see decide).
type class uint8

const (
	classPublic class = iota
	classLoopback
	classUnspecified
	classPrivate
	classUniqueLocal
	classLinkLocal
	classShared
	classMulticast
	classReserved
	classMetadata
)

// String completes "... resolves to 10.0.0.1, " in refusal reasons.
func (c class) String() string {
	switch c {
	case classLoopback:
		return "a loopback address"
	case classUnspecified:
		return "an unspecified (this-host) address"
	case classPrivate:
		return "a private address"
	case classUniqueLocal:
		return "a unique local (fc00::/7) address"
	case classLinkLocal:
		return "a link-local address"
	case classShared:
		return "a carrier-grade NAT (100.64.0.0/10) address"
	case classMulticast:
		return "a multicast address"
	case classReserved:
		return "a reserved address"
	case classMetadata:
		return "a cloud metadata address"
	}
	return "a public address"
}

// Cloud metadata endpoints: 169.254.169.254 (AWS, GCP, Azure, OpenStack,
// DigitalOcean, Oracle), AWS ECS task metadata (169.254.170.2, .23), AWS
// IPv6 (fd00:ec2::254), Alibaba (100.100.100.200), Tencent (169.254.0.23),
// Scaleway (169.254.42.42) and Oracle's legacy address (192.0.0.192).
var metadataAddrs = []netip.Addr{
	netip.AddrFrom4([4]byte{169, 254, 169, 254}),
	netip.AddrFrom4([4]byte{169, 254, 170, 2}),
	netip.AddrFrom4([4]byte{169, 254, 170, 23}),
	netip.AddrFrom4([4]byte{100, 100, 100, 200}),
	netip.AddrFrom4([4]byte{169, 254, 0, 23}),
	netip.AddrFrom4([4]byte{169, 254, 42, 42}),
	netip.AddrFrom4([4]byte{192, 0, 0, 192}),
	netip.MustParseAddr("fd00:ec2::254"),
}

// metadataName tells whether a normalised host name is a cloud metadata
// service. These are refused by name, before any resolution, whatever the
// rules and AllowPrivate say.
func metadataName(h string) bool {
	switch h {
	case "metadata.google.internal", "metadata.goog", "metadata", "instance-data",
		"instance-data.ec2.internal", "metadata.tencentyun.com", "metadata.azure.internal":
		return true
	}
	return false
}

var ranges = []struct {
	p netip.Prefix
	c class
}{
	{netip.MustParsePrefix("0.0.0.0/8"), classUnspecified}, // "this network"; Linux connects 0.x to the host itself
	{netip.MustParsePrefix("10.0.0.0/8"), classPrivate},
	{netip.MustParsePrefix("100.64.0.0/10"), classShared},
	{netip.MustParsePrefix("169.254.0.0/16"), classLinkLocal},
	{netip.MustParsePrefix("172.16.0.0/12"), classPrivate},
	{netip.MustParsePrefix("192.0.0.0/24"), classReserved}, // IETF protocol assignments
	{netip.MustParsePrefix("192.168.0.0/16"), classPrivate},
	{netip.MustParsePrefix("198.18.0.0/15"), classReserved}, // benchmarking, often used inside data centres
	{netip.MustParsePrefix("224.0.0.0/4"), classMulticast},
	{netip.MustParsePrefix("240.0.0.0/4"), classReserved}, // including the broadcast address
	{netip.MustParsePrefix("fc00::/7"), classUniqueLocal},
	{netip.MustParsePrefix("fe80::/10"), classLinkLocal},
	{netip.MustParsePrefix("fec0::/10"), classPrivate}, // site-local: deprecated, still routed in places
	{netip.MustParsePrefix("ff00::/8"), classMulticast},
}

// classify says where an address leads, looking through the IPv6 forms
// that carry an IPv4 address (mapped, compatible, NAT64, 6to4): the
// stricter of the two answers wins.
func classify(a netip.Addr) class {
	a = a.WithZone("").Unmap()
	if a.Is6() {
		if v4, ok := embeddedV4(a); ok {
			if c := classify(v4); c != classPublic {
				return c
			}
		}
	}
	for _, m := range metadataAddrs {
		if a == m {
			return classMetadata
		}
	}
	switch {
	case a.IsLoopback():
		return classLoopback
	case a.IsUnspecified():
		return classUnspecified
	}
	for _, r := range ranges {
		if r.p.Contains(a) {
			return r.c
		}
	}
	return classPublic
}

var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour  = netip.MustParsePrefix("2002::/16")
	compat     = netip.MustParsePrefix("::/96")
)

// embeddedV4 returns the IPv4 address an IPv6 address routes to, if any.
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
