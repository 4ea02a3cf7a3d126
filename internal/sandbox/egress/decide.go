package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"time"
)

// maxAddrs bounds how many resolved addresses are checked and kept; the
// rest are dropped, never dialed. maxDials bounds how many are tried.
const (
	maxAddrs = 32
	maxDials = 4
)

// verdict is an allowed destination: the rule that allowed it and the
// addresses that passed the checks, in the resolver's order.
type verdict struct {
	rule  *rule
	addrs []netip.Addr
}

// decide applies the allowlist and the address checks to t. It fills
// s.at.IPs with what it resolved, so that refusals show it too.
func (s *session) decide(ctx context.Context, t target) (verdict, *refusal) {
	p := s.p
	var r *rule
	hostKnown := false
	for i := range p.allow {
		if !p.allow[i].matchHost(t) {
			continue
		}
		hostKnown = true
		if p.allow[i].allowsPort(t.port) {
			r = &p.allow[i]
			break
		}
	}
	switch {
	case !hostKnown:
		return verdict{}, refuse(CodeHostNotAllowed, "%s is not in the sandbox's allowlist (allowed: %s)", t.host, describeRules(p.allow))
	case r == nil:
		return verdict{}, refuse(CodePortNotAllowed, "port %d of %s is not allowed (allowed: %s)", t.port, t.host, describeRules(matching(p.allow, t)))
	case !t.addr.IsValid() && metadataName(t.host):
		return verdict{}, refuse(CodeMetadataAddress, "%s is a cloud metadata service, which a sandbox never reaches", t.host)
	}

	addrs := []netip.Addr{t.addr}
	if !t.addr.IsValid() {
		var ref *refusal
		if addrs, ref = p.resolve(ctx, t.host); ref != nil {
			return verdict{}, ref
		}
	}
	for _, a := range addrs {
		s.at.IPs = append(s.at.IPs, a.String())
	}

	for _, a := range addrs {
		c := classify(a)
		switch {
		case c == classPublic:
			continue
		case c == classMetadata:
			// The one way to a metadata address: AllowPrivate and a rule
			// that names this very address. A name that resolves there,
			// or a wildcard, never gets through.
			if p.allowPrivate && r.addr.IsValid() && r.addr == a.WithZone("") {
				continue
			}
			return verdict{}, refuse(CodeMetadataAddress, "%s, which a sandbox reaches only through a rule naming that address and allow_private", where(t, a, c))
		case !p.allowPrivate:
			return verdict{}, refuse(CodePrivateAddress, "%s; this sandbox may reach public addresses only (allow_private is off)", where(t, a, c))
		}
	}
	return verdict{rule: r, addrs: addrs}, nil
}

// where says what a destination is, for a refusal reason.
func where(t target, a netip.Addr, c class) string {
	if t.addr.IsValid() {
		return t.host + " is " + c.String()
	}
	return t.host + " resolves to " + a.String() + ", " + c.String()
}

// matching returns the rules that name t's host, for a port refusal.
func matching(rules []rule, t target) []rule {
	var out []rule
	for i := range rules {
		if rules[i].matchHost(t) {
			out = append(out, rules[i])
		}
	}
	return out
}

// resolve looks a name up on the proxy's side, within the dial timeout.
// It asks for the fully qualified name (with the root dot), so that the
// resolver's search list cannot turn an allowed "api" into
// "api.corp.example".
func (p *Proxy) resolve(ctx context.Context, host string) ([]netip.Addr, *refusal) {
	ctx, cancel := context.WithTimeout(ctx, p.dialTimeout)
	defer cancel()
	ips, err := p.resolver.LookupIPAddr(ctx, host+".")
	if err != nil {
		return nil, refuse(CodeResolveFailed, "could not resolve %s: %s", host, truncate(err.Error(), 160))
	}
	if len(ips) == 0 {
		return nil, refuse(CodeResolveFailed, "%s has no addresses", host)
	}
	if len(ips) > maxAddrs {
		ips = ips[:maxAddrs]
	}
	addrs := make([]netip.Addr, 0, len(ips))
	for _, ip := range ips {
		a, ok := netip.AddrFromSlice(ip.IP)
		if !ok {
			return nil, refuse(CodeResolveFailed, "the resolver gave %s an invalid address", host)
		}
		addrs = append(addrs, a.Unmap().WithZone(ip.Zone))
	}
	return addrs, nil
}

// dial connects to one of the checked addresses, never to the name, so
// that nothing the resolver says later can change the destination. Each
// try gets an equal share of what is left of the dial timeout.
func (s *session) dial(ctx context.Context, v verdict, port int) (net.Conn, *refusal) {
	p := s.p
	ctx, cancel := context.WithTimeout(ctx, p.dialTimeout)
	defer cancel()
	addrs := v.addrs
	if len(addrs) > maxDials {
		addrs = addrs[:maxDials]
	}
	var errs []string
	for i, a := range addrs {
		dctx, dcancel := ctx, context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok {
			dctx, dcancel = context.WithTimeout(ctx, time.Until(dl)/time.Duration(len(addrs)-i))
		}
		c, err := p.dial(dctx, "tcp", netip.AddrPortFrom(a, uint16(port)).String())
		dcancel()
		if err == nil {
			return c, nil
		}
		errs = append(errs, truncate(dialError(err), 120))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, refuse(CodeDialFailed, "could not connect to %s port %d: %s", s.at.Host, port, strings.Join(errs, "; "))
}

// dialError keeps the useful end of a dial error ("127.0.0.9:1: connect:
// connection refused").
func dialError(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Addr != nil && oe.Err != nil {
		return oe.Addr.String() + ": " + oe.Err.Error()
	}
	return err.Error()
}
