// Package egressgate is Sentinel's egress gate. It judges every network
// destination a call names, from a fetch tool's URL or from what the shell
// analyser found in a command (curl, wget, nc, ssh, scp, git remotes, DNS
// lookups): deny and allow lists of names, wildcards, CIDRs and ports; a
// guard against private and cloud-metadata addresses in any notation
// (decimal, octal, hex, IPv4-mapped IPv6, names that embed an address);
// listeners; data flowing out to destinations nobody allowed; and URL
// schemes that turn a fetch into a file read or a request smuggler.
//
// The gate must never resolve a name or open a connection: a name is judged
// as a name, so that the same call gets the same answer everywhere. It does
// no I/O at all.
package egressgate

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/redact"
	"github.com/sentinel-agent/sentinel/internal/request"
	"github.com/sentinel-agent/sentinel/internal/taint"
)

// Reason codes.
const (
	CodeDenied         = "egress.denied_destination"
	CodeNotAllowlisted = "egress.not_allowlisted"
	CodePrivate        = "egress.private_address"
	CodeMetadata       = "egress.metadata_address"
	CodeListener       = "egress.listener"
	CodeDataOut        = "egress.data_out"
	CodeScheme         = "egress.scheme"
	CodeInvalidURL     = "egress.invalid_url"
	CodeSecretOut      = "egress.secret_out"
)

// MaxDests is the most destinations one call may carry; more is refused.
const MaxDests = 1024

const name = "egress"

// SensitivePaths tells whether a file is a secret, so that sending it out
// weighs more. The path gate implements it.
type SensitivePaths interface {
	IsSensitive(p string, env gate.Env) bool
}

// Config is the egress gate's policy.
//
// Allow and Deny entries are one of:
//
//	"example.com"      that host exactly
//	"*.example.com"    its subdomains, not the host itself
//	".example.com"     the host and its subdomains
//	"*"                every destination
//	"10.0.0.0/8"       addresses in a CIDR; a bare address is a /32 or /128
//	"example.com:22"   any of the above limited to one port ("[::1]:8080")
//	"https://x.io"     a URL: its host and (default) port
//
// Names are normalised like destinations (IDNA, case, trailing dots, IPv4
// notations). A deny entry with a port also matches a destination whose port
// is unknown; an allow entry with a port does not.
//
// Compile uses the actions exactly as given; the zero Action is Allow, so
// start from Default and change what you need.
type Config struct {
	Allow []string
	// Deny wins over Allow.
	Deny []string
	// Default is for destinations in neither list. Anything stricter than
	// Allow makes Allow an allowlist (egress.not_allowlisted).
	Default decision.Action
	// BlockPrivate guards private addresses (RFC 1918, CGNAT, link-local,
	// IPv6 ULA and site-local, and names under .internal, .local, .lan,
	// .home.arpa, .intranet and .corp) with PrivateAction. Loopback is
	// never private: local development servers are fine. An allowed
	// destination is not guarded.
	BlockPrivate  bool
	PrivateAction decision.Action
	// PrivateExecAction is used instead of PrivateAction for private
	// addresses named in shell commands, when it is milder; default Notify.
	PrivateExecAction decision.Action
	// MetadataAction is for cloud metadata endpoints (169.254.169.254,
	// fd00:ec2::254, 100.100.100.200, 169.254.170.2, metadata.google.internal
	// …). It applies even to allowed destinations.
	MetadataAction decision.Action
	// ListenAction is for listeners and bind shells.
	ListenAction decision.Action
	// SendUnknownAction is for data sent to a destination not allowed
	// (loopback excepted).
	SendUnknownAction decision.Action
	// AllowedSchemes are the URL schemes a destination may use. A URL with
	// another scheme (file:, gopher:, dict:, ldap: …) gets SchemeAction.
	// For commands only schemes written as "scheme://" count: "tcp" or
	// "dns" are how the shell analyser labels what nc or dig do.
	AllowedSchemes []string
	SchemeAction   decision.Action
	// Paths, when set, tells which sent files are secrets.
	Paths SensitivePaths
	// SecretAction is for a call that sends data or acts outside the
	// machine with a credential written in its arguments: exfiltration,
	// whatever the destination.
	SecretAction decision.Action
}

// Default returns the recommended configuration: every public destination
// is allowed, private ones need approval, metadata endpoints are refused,
// listeners need approval, data going out is reported, and the well-known
// collection services that exist to receive exfiltrated data or
// out-of-band callbacks are denied.
func Default() Config {
	return Config{
		Deny: []string{
			".webhook.site", ".requestbin.net", ".requestbin.com", ".pipedream.net",
			".requestcatcher.com", ".hookbin.com", ".beeceptor.com", ".mockbin.org",
			".burpcollaborator.net", ".oastify.com", ".interact.sh", ".interactsh.com",
			".oast.fun", ".oast.live", ".oast.me", ".oast.online", ".oast.pro", ".oast.site",
			".canarytokens.com", ".dnslog.cn", ".ceye.io", ".dnslog.link",
		},
		Default:           decision.Allow,
		BlockPrivate:      true,
		PrivateAction:     decision.Confirm,
		PrivateExecAction: decision.Notify,
		MetadataAction:    decision.Deny,
		ListenAction:      decision.Confirm,
		SendUnknownAction: decision.Notify,
		SecretAction:      decision.Deny,
		AllowedSchemes: []string{
			"http", "https", "ws", "wss", "ssh", "sftp", "scp", "git", "git+ssh", "ssh+git",
			"git+https", "git+http", "ftp", "ftps", "rsync", "s3", "gs",
		},
		SchemeAction: decision.Deny,
	}
}

// Gate is a compiled egress gate. It is safe for concurrent use.
type Gate struct {
	cfg     Config
	allow   ruleSet
	deny    ruleSet
	schemes map[string]bool
}

var _ gate.Gate = (*Gate)(nil)

// Name implements gate.Gate.
func (g *Gate) Name() string { return name }

// Compile validates cfg and prepares the gate. Every bad entry is
// reported, each naming its list and position.
func Compile(cfg Config) (*Gate, error) {
	var errs []error
	g := &Gate{cfg: cfg, schemes: map[string]bool{}}
	g.allow = compileRules("Allow", cfg.Allow, &errs)
	g.deny = compileRules("Deny", cfg.Deny, &errs)
	for i, s := range cfg.AllowedSchemes {
		l := strings.ToLower(strings.TrimSpace(s))
		if !validScheme(l) {
			errs = append(errs, fmt.Errorf("AllowedSchemes[%d] %q: not a URL scheme", i, s))
			continue
		}
		g.schemes[l] = true
	}
	for _, a := range []struct {
		name string
		v    decision.Action
	}{
		{"Default", cfg.Default}, {"PrivateAction", cfg.PrivateAction}, {"MetadataAction", cfg.MetadataAction},
		{"ListenAction", cfg.ListenAction}, {"SendUnknownAction", cfg.SendUnknownAction}, {"SchemeAction", cfg.SchemeAction},
		{"SecretAction", cfg.SecretAction},
	} {
		if a.v < decision.Allow || a.v > decision.Deny {
			errs = append(errs, fmt.Errorf("%s: invalid action %d", a.name, int(a.v)))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("egress gate configuration: %w", errors.Join(errs...))
	}
	return g, nil
}

// entry is one list entry's port limit and source text.
type entry struct {
	port int // 0: any port
	src  string
}

// ruleSet is a compiled Allow or Deny list.
type ruleSet struct {
	any     []entry
	exact   map[string][]entry // host or canonical address
	sub     map[string][]entry // "*.x": strict subdomains of x
	apexSub map[string][]entry // ".x": x and its subdomains
	cidrs   []cidrEntry
}

type cidrEntry struct {
	prefix netip.Prefix
	entry
}

func compileRules(list string, in []string, errs *[]error) ruleSet {
	rs := ruleSet{exact: map[string][]entry{}, sub: map[string][]entry{}, apexSub: map[string][]entry{}}
	for i, src := range in {
		if err := rs.add(src); err != nil {
			*errs = append(*errs, fmt.Errorf("%s[%d] %q: %w", list, i, src, err))
		}
	}
	return rs
}

func (rs *ruleSet) add(src string) error {
	s := strings.TrimSpace(src)
	if s == "" {
		return errors.New("empty entry")
	}
	if strings.Contains(s, "://") {
		d, err := ParseDest(s)
		if err != nil {
			return err
		}
		if d.Host == "" {
			return errors.New("URL names no host")
		}
		return rs.addHost(d.Host, d.Port, src)
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		rs.cidrs = append(rs.cidrs, cidrEntry{p.Masked(), entry{0, src}})
		return nil
	}
	// A port, unless the colon belongs to a bare IPv6 address.
	host, port := s, 0
	if i := strings.LastIndexByte(s, ':'); i >= 0 && allDigits(s[i+1:]) && s[i+1:] != "" &&
		(strings.Count(s, ":") == 1 || strings.HasPrefix(s, "[")) {
		n, err := parsePort(s[i+1:])
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("port 0 matches nothing")
		}
		host, port = s[:i], n
	}
	if p, err := netip.ParsePrefix(host); err == nil {
		rs.cidrs = append(rs.cidrs, cidrEntry{p.Masked(), entry{port, src}})
		return nil
	}
	return rs.addHost(host, port, src)
}

func (rs *ruleSet) addHost(host string, port int, src string) error {
	e := entry{port, src}
	switch {
	case host == "*":
		rs.any = append(rs.any, e)
		return nil
	case strings.HasPrefix(host, "*."):
		h, err := ruleName(host[2:])
		if err != nil {
			return err
		}
		rs.sub[h] = append(rs.sub[h], e)
		return nil
	case strings.HasPrefix(host, "."):
		h, err := ruleName(host[1:])
		if err != nil {
			return err
		}
		rs.apexSub[h] = append(rs.apexSub[h], e)
		return nil
	}
	if strings.ContainsAny(host, "*?") {
		return errors.New(`only a leading "*." wildcard is supported`)
	}
	h, err := NormalizeHost(host)
	if err != nil {
		return err
	}
	rs.exact[h] = append(rs.exact[h], e)
	return nil
}

// ruleName normalises the name part of a wildcard entry, which must not be
// an address.
func ruleName(s string) (string, error) {
	h, err := NormalizeHost(s)
	if err != nil {
		return "", err
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return "", errors.New("a wildcard needs a domain name, not an address (use a CIDR)")
	}
	return h, nil
}

// match returns the entry matching a normalised host and port. With
// unknownPortMatches, an entry limited to a port also matches a
// destination whose port is unknown.
func (rs *ruleSet) match(host string, addr netip.Addr, port int, unknownPortMatches bool) (string, bool) {
	ok := func(es []entry) (string, bool) {
		for _, e := range es {
			if e.port == 0 || e.port == port || port == 0 && unknownPortMatches {
				return e.src, true
			}
		}
		return "", false
	}
	if src, m := ok(rs.any); m {
		return src, true
	}
	if src, m := ok(rs.exact[host]); m {
		return src, true
	}
	if addr.IsValid() {
		for _, c := range rs.cidrs {
			if c.prefix.Contains(addr) {
				if src, m := ok([]entry{c.entry}); m {
					return src, true
				}
			}
		}
		return "", false
	}
	if src, m := ok(rs.apexSub[host]); m {
		return src, true
	}
	// Walk up the labels: a.b.example.com → b.example.com → example.com → com.
	for h := host; ; {
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
		if src, m := ok(rs.sub[h]); m {
			return src, true
		}
		if src, m := ok(rs.apexSub[h]); m {
			return src, true
		}
	}
	return "", false
}

// target is one destination ready to be judged.
type target struct {
	d      analysis.Dest
	host   string     // normalised, "" when there is none
	addr   netip.Addr // set when host is an address
	port   int
	scheme string
	url    bool // the scheme was written as "scheme:" in a URL
	err    error
}

// Risk views, on the risk gate's scale (impact 0..3).
var (
	riskSend       = decision.Dimensions{Impact: 1, Reversibility: 0.5, Sensitivity: 1}
	riskSendData   = decision.Dimensions{Impact: 1, Reversibility: 0.4, Sensitivity: 1.5}
	riskSendSecret = decision.Dimensions{Impact: 2.5, Reversibility: 0, Sensitivity: 3}
	riskMetadata   = decision.Dimensions{Impact: 2.5, Reversibility: 0.2, Sensitivity: 3}
	riskPrivate    = decision.Dimensions{Impact: 1.5, Reversibility: 0.5, Sensitivity: 2}
	riskListen     = decision.Dimensions{Impact: 2, Reversibility: 0.5, Sensitivity: 2}
	riskDenied     = decision.Dimensions{Impact: 2, Reversibility: 0.3, Sensitivity: 2}
)

// RequestDest is the destination of a net.request call: its URL, and
// whether it sends data (a body, or a method that carries one).
func RequestDest(c *request.ToolCall) (analysis.Dest, error) {
	d, err := ParseDest(c.URL())
	if err != nil {
		return analysis.Dest{Raw: c.URL(), Command: c.Tool}, err
	}
	d.Command = c.Tool
	m := strings.ToUpper(c.String(request.ArgMethod))
	d.Sends = c.String(request.ArgBody) != "" || m == "POST" || m == "PUT" || m == "PATCH"
	return d, nil
}

// Check implements gate.Gate.
func (g *Gate) Check(ctx context.Context, in *gate.Input) (gate.Verdict, error) {
	var v gate.Verdict
	if in == nil {
		return v, errors.New("egress gate: no input")
	}
	var dests []analysis.Dest
	if in.Analysis != nil {
		dests = in.Analysis.Dests
	}
	netCall := in.Call != nil && in.Call.Kind == request.KindNetRequest
	if netCall {
		// The URL is judged as the call states it, whatever the analysis
		// made of it.
		u := in.Call.URL()
		d, err := RequestDest(in.Call)
		if err != nil {
			v.Add(decision.Reason{Gate: name, Code: CodeInvalidURL, Action: decision.Deny,
				Message: fmt.Sprintf("the URL %q is not valid; send a plain http or https URL", clip(u)), Detail: err.Error()})
			v.Notes = append(v.Notes, fmt.Sprintf("url %q: invalid: %v", clip(u), err))
		} else if !hasDest(dests, d) {
			dests = append([]analysis.Dest{d}, dests...)
		}
	}
	if len(dests) > MaxDests {
		v.Add(decision.Reason{Gate: name, Code: CodeInvalidURL, Action: decision.Deny,
			Message: fmt.Sprintf("the call names %d network destinations, more than the %d Sentinel checks; split it", len(dests), MaxDests)})
		return v, nil
	}
	var worst decision.Dimensions
	hasRisk := false
	raise := func(d decision.Dimensions) {
		if !hasRisk || d.Score() > worst.Score() {
			worst, hasRisk = d, true
		}
	}
	seen := map[string]bool{}
	add := func(r decision.Reason) {
		if k := r.Code + "\x00" + r.Message; !seen[k] {
			seen[k] = true
			v.Add(r)
		}
	}
	for i := range dests {
		if i%64 == 63 {
			if err := ctx.Err(); err != nil {
				return gate.Verdict{}, err
			}
		}
		t := g.target(dests[i], netCall)
		note := g.judge(&t, netCall, in.Env, add, raise)
		v.Notes = append(v.Notes, note)
	}
	if effect, what := taint.Effect(in.Call, in.Analysis); effect {
		if rules := secretsIn(in.Call); len(rules) > 0 {
			add(decision.Reason{Gate: name, Code: CodeSecretOut, Action: g.cfg.SecretAction,
				Message: decision.Say("sending a credential ("+strings.Join(rules, ", ")+") written in the arguments of a call that "+what,
					g.cfg.SecretAction, "refer to the credential through the tool's own configuration or an environment variable the user set"),
				Detail: "secrets found in the arguments of a call with an external effect"})
			raise(decision.Dimensions{Impact: 3, Reversibility: 0, Sensitivity: 3})
		}
	}
	if hasRisk {
		v.Risk = &worst
	}
	return v, nil
}

// maxSecretScan bounds the argument text scanned for credentials.
const maxSecretScan = 1 << 20

// secretsIn returns the rule ids of the credentials written in the call's
// string arguments (at most maxSecretScan bytes of them).
func secretsIn(c *request.ToolCall) []string {
	if c == nil {
		return nil
	}
	var rules []string
	budget := maxSecretScan
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if budget <= 0 || depth > 16 {
			return
		}
		switch x := v.(type) {
		case string:
			if len(x) > budget {
				x = x[:budget]
			}
			budget -= len(x)
			_, fs := redact.Text(x)
			for _, f := range fs {
				if !slices.Contains(rules, f.Rule) {
					rules = append(rules, f.Rule)
				}
			}
		case map[string]any:
			for _, e := range x {
				walk(e, depth+1)
			}
		case []any:
			for _, e := range x {
				walk(e, depth+1)
			}
		}
	}
	walk(c.Args, 0)
	slices.Sort(rules)
	return rules
}

func hasDest(ds []analysis.Dest, d analysis.Dest) bool {
	for _, x := range ds {
		if x.Raw == d.Raw && (x.Host == d.Host || x.Host == "") {
			return true
		}
	}
	return false
}

// target normalises a destination. Destinations from the shell analyser
// carry a host already; those without one are parsed from Raw.
func (g *Gate) target(d analysis.Dest, netCall bool) target {
	t := target{d: d, port: d.Port, scheme: strings.ToLower(d.Scheme)}
	if i := strings.Index(d.Raw, "://"); i > 0 && validScheme(d.Raw[:i]) {
		t.url = true
	} else if netCall {
		t.url = true
	}
	host := d.Host
	if host == "" && d.Raw != "" && !d.Listens {
		p, err := ParseDest(d.Raw)
		if err != nil {
			t.err = err
			return t
		}
		host, t.port = p.Host, p.Port
		if t.scheme == "" {
			t.scheme = p.Scheme
		}
	}
	if host == "" {
		return t
	}
	h, err := NormalizeHost(host)
	if err != nil {
		// Judge what is there by name: a host built at run time still
		// sends data somewhere.
		t.err = err
		t.host = strings.ToLower(host)
		return t
	}
	t.host = h
	if a, err := netip.ParseAddr(h); err == nil {
		t.addr = a
	}
	if t.port == 0 {
		t.port = defaultPorts[t.scheme]
	}
	return t
}

// judge evaluates one destination and returns its note for explain.
func (g *Gate) judge(t *target, netCall bool, env gate.Env, add func(decision.Reason), raise func(decision.Dimensions)) string {
	d := &t.d
	shown := clip(d.Raw)
	if shown == "" {
		shown = clip(t.host)
	}
	detail := fmt.Sprintf("%s → %s", d.Raw, hostPort(t))
	if d.Command != "" {
		detail = d.Command + ": " + detail
	}
	var tags []string

	if t.err != nil && t.host == "" {
		if netCall {
			add(decision.Reason{Gate: name, Code: CodeInvalidURL, Action: decision.Deny,
				Message: fmt.Sprintf("the URL %q is not valid; send a plain http or https URL", shown), Detail: detail + ": " + t.err.Error()})
		}
		tags = append(tags, "invalid: "+t.err.Error())
		// A send or listener is still one, wherever it goes.
	}
	if t.scheme != "" && t.url && !g.schemes[t.scheme] {
		add(decision.Reason{Gate: name, Code: CodeScheme, Action: g.cfg.SchemeAction,
			Message: decision.Say("fetching a "+t.scheme+": URL", g.cfg.SchemeAction, "use http or https"), Detail: detail})
		raise(riskDenied)
		tags = append(tags, "scheme "+t.scheme+" refused")
	}

	k := classify(t.host, t.addr)
	allowedBy, allowed := "", false
	denied := false
	if t.host != "" {
		if src, ok := g.deny.match(t.host, t.addr, t.port, true); ok {
			add(decision.Reason{Gate: name, Code: CodeDenied, Action: decision.Deny,
				Message: "contacting " + clip(t.host) + " is refused: it is on the deny list", Detail: detail + " (deny " + src + ")"})
			raise(riskDenied)
			tags = append(tags, "denied by "+src)
			denied = true
		}
	}
	if t.host != "" && !denied {
		allowedBy, allowed = g.allow.match(t.host, t.addr, t.port, false)
		if allowed {
			tags = append(tags, "allowed by "+allowedBy)
		}
		tags = append(tags, k.String())
		switch {
		case k == kindMetadata:
			add(decision.Reason{Gate: name, Code: CodeMetadata, Action: g.cfg.MetadataAction,
				Message: decision.Say("contacting "+clip(t.host)+", a cloud metadata endpoint that hands out credentials,", g.cfg.MetadataAction, ""), Detail: detail})
			raise(riskMetadata)
		case k == kindPrivate && g.cfg.BlockPrivate && !allowed:
			// The private-address guard is against request forgery: HTTP
			// to internal services. A shell command that logs in to a
			// named LAN host (ssh, scp, rsync, git over ssh) says where it
			// goes, and is reported rather than stopped unless the policy
			// says so.
			act := g.cfg.PrivateAction
			if !netCall && t.scheme != "http" && t.scheme != "https" && g.cfg.PrivateExecAction < act {
				act = g.cfg.PrivateExecAction
			}
			add(decision.Reason{Gate: name, Code: CodePrivate, Action: act,
				Message: decision.Say("contacting the private network address "+clip(t.host), act, "ask the user to allow it in the egress policy"), Detail: detail})
			if act >= decision.Confirm {
				raise(riskPrivate)
			}
		}
		if !allowed && g.cfg.Default != decision.Allow && k != kindMetadata {
			add(decision.Reason{Gate: name, Code: CodeNotAllowlisted, Action: g.cfg.Default,
				Message: decision.Say("contacting "+clip(t.host)+", which is not on the allowlist,", g.cfg.Default, "ask for it to be added"), Detail: detail})
			raise(riskDenied)
		}
	}
	if d.Listens {
		add(decision.Reason{Gate: name, Code: CodeListener, Action: g.cfg.ListenAction,
			Message: decision.Say("opening a network listener ("+shown+")", g.cfg.ListenAction, ""), Detail: detail})
		raise(riskListen)
		tags = append(tags, "listens")
	}
	if d.Sends && !allowed && k != kindLoopback {
		what := "data"
		r := riskSend
		switch {
		case d.Data == "env":
			what, r = "environment variables", riskSendSecret
		case strings.HasPrefix(d.Data, "file:"):
			f := strings.TrimPrefix(d.Data, "file:")
			what, r = "the file "+clip(f), riskSendData
			if g.cfg.Paths != nil && g.cfg.Paths.IsSensitive(f, env) {
				r = riskSendSecret
			}
		}
		dest := t.host
		if dest == "" {
			dest = shown
		}
		add(decision.Reason{Gate: name, Code: CodeDataOut, Action: g.cfg.SendUnknownAction,
			Message: decision.Say("sending "+what+" to "+clip(dest)+", which is not on the allowlist,", g.cfg.SendUnknownAction, ""), Detail: detail + " (data " + orUnknown(d.Data) + ")"})
		raise(r)
		tags = append(tags, "sends "+orUnknown(d.Data))
	}
	return fmt.Sprintf("dest %q → %s [%s]", shown, hostPort(t), strings.Join(tags, ", "))
}

func orUnknown(s string) string {
	if s == "" {
		return "data"
	}
	return s
}

func hostPort(t *target) string {
	h := t.host
	if h == "" {
		h = "(no host)"
	}
	if t.addr.Is6() {
		h = "[" + h + "]"
	}
	if t.port > 0 {
		h += ":" + strconv.Itoa(t.port)
	}
	if t.scheme != "" {
		h = t.scheme + "://" + h
	}
	return h
}
