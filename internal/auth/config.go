package auth

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sentinel-agent/sentinel/internal/yamlpos"
)

// Config is the clients file: who may call the server, and how failed
// attempts are limited. Zero limit fields take the defaults below.
type Config struct {
	Clients []ClientConfig `yaml:"clients" json:"clients"`
	// TrustedProxies are IPs or CIDRs whose X-Forwarded-For is believed.
	TrustedProxies []string `yaml:"trusted_proxies" json:"trusted_proxies"`
	// After MaxFailures failures from one address within Window, the
	// address is refused for Lockout. YAML takes durations as "30s", "1m";
	// JSON as nanoseconds.
	MaxFailures int           `yaml:"max_failures" json:"max_failures"`
	Window      time.Duration `yaml:"failure_window" json:"failure_window"`
	Lockout     time.Duration `yaml:"lockout" json:"lockout"`
	// MaxTrackedIPs bounds the failure table; the least recently seen
	// address is forgotten first.
	MaxTrackedIPs int `yaml:"max_tracked_ips" json:"max_tracked_ips"`
}

// ClientConfig is one named client.
type ClientConfig struct {
	Name   string   `yaml:"name" json:"name"`
	Scopes []string `yaml:"scopes" json:"scopes"`
	// Tokens are hashes, "sha256:<64 hex>". Several at once allow rotation:
	// add the new one, move the client over, remove the old one.
	Tokens []string `yaml:"tokens" json:"tokens"`
}

// Defaults and bounds of the configuration.
const (
	DefaultMaxFailures   = 10
	DefaultWindow        = time.Minute
	DefaultLockout       = time.Minute
	DefaultMaxTrackedIPs = 10_000

	MaxConfigFileSize  = 1 << 20
	maxClients         = 10_000
	maxTokensPerClient = 16
	maxTrustedProxies  = 256
	maxFailuresLimit   = 100
	maxTrackedLimit    = 100_000
	minPeriod          = time.Second
	maxPeriod          = 24 * time.Hour
	maxProblems        = 50
)

// SingleToken is the configuration for one shared token (--token,
// AGENTOS_TOKEN): a client named "token" with every scope. An empty token
// gives a configuration with no clients.
func SingleToken(token string) Config {
	if token == "" {
		return Config{}
	}
	scopes := make([]string, len(knownScopes))
	for i, s := range knownScopes {
		scopes[i] = string(s)
	}
	return Config{Clients: []ClientConfig{{Name: "token", Scopes: scopes, Tokens: []string{HashToken(token)}}}}
}

// Problem is one thing wrong with a configuration. File and Line are set
// when it came from a file.
type Problem struct {
	File    string
	Line    int
	Path    string // like "clients[1].tokens[0]"
	Message string
}

func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			b.WriteString(":" + strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in a configuration.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "\n")
}

func (ps *Problems) add(path, format string, args ...any) {
	if len(*ps) == maxProblems {
		*ps = append(*ps, Problem{Message: "more problems not shown; fix these first"})
	}
	if len(*ps) > maxProblems {
		return
	}
	*ps = append(*ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// LoadConfig reads a YAML clients file. The file must be private (mode 0600
// or stricter): it names the clients and their token hashes.
func LoadConfig(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("cannot read clients file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Config{}, fmt.Errorf("cannot read clients file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return Config{}, fmt.Errorf("clients file %s is not a regular file", path)
	}
	// Windows has no such permission bits; there the ACL is the operator's.
	if perm := st.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return Config{}, fmt.Errorf("clients file %s has mode %04o, readable by others; it names clients and token hashes, so make it private: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigFileSize+1))
	if err != nil {
		return Config{}, fmt.Errorf("cannot read clients file %s: %w", path, err)
	}
	if len(data) > MaxConfigFileSize {
		return Config{}, fmt.Errorf("clients file %s is larger than %d bytes", path, MaxConfigFileSize)
	}
	return ParseConfig(path, data)
}

// ParseConfig decodes and validates a YAML clients file; name is used in
// messages. Unknown fields are errors, and every problem is reported with
// its line.
func ParseConfig(name string, data []byte) (Config, error) {
	if len(data) > MaxConfigFileSize {
		return Config{}, Problems{{File: name, Message: fmt.Sprintf("larger than %d bytes", MaxConfigFileSize)}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		p := yamlProblem(name, cleanYAMLErr(err))
		p.Message = "not valid YAML: " + p.Message
		return Config{}, Problems{p}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return Config{}, Problems{{File: name, Message: `the file is empty; list the clients under "clients:"`}}
	}
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, yamlProblems(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Config{}, Problems{{File: name, Message: "more than one YAML document; keep one"}}
	}
	if _, err := compile(cfg); err != nil {
		var ps Problems
		if errors.As(err, &ps) {
			lines := indexLines(&root)
			for i := range ps {
				ps[i].File = name
				ps[i].Line = lines.Find(ps[i].Path)
			}
			return Config{}, ps
		}
		return Config{}, err
	}
	return cfg, nil
}

var (
	yamlLineRE      = regexp.MustCompile(`^line (\d+): (.*)$`)
	yamlFieldRE     = regexp.MustCompile(`^field (\S+) not found in type auth\.(\w+)$`)
	yamlUnmarshalRE = regexp.MustCompile("^cannot unmarshal !!(\\w+) (?:`[^`]*` )?into (.+)$")
	yamlQuotedRE    = regexp.MustCompile("`[^`]*`")
)

var knownFields = map[string]string{
	"Config":       "clients, trusted_proxies, max_failures, failure_window, lockout, max_tracked_ips",
	"ClientConfig": "name, scopes, tokens",
}

var expected = map[string]string{
	"time.Duration":       "a duration like 30s, 1m or 1h",
	"[]string":            `a list (one "- item" per line, or [a, b])`,
	"[]auth.ClientConfig": `a list of clients (one "- name: …" per client)`,
	"int":                 "a whole number",
	"string":              "a string",
}

var yamlKinds = map[string]string{
	"str": "a string", "int": "a number", "float": "a number", "bool": "a boolean",
	"map": "a mapping", "seq": "a list", "null": "nothing",
}

// yamlProblems turns decoder errors into problems with lines. The decoder
// quotes the start of a bad value, which may be a token pasted in the wrong
// place, so messages drop every quoted value.
func yamlProblems(name string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return Problems{yamlProblem(name, cleanYAMLErr(err))}
	}
	var ps Problems
	for i, e := range te.Errors {
		if i == maxProblems {
			ps = append(ps, Problem{File: name, Message: fmt.Sprintf("%d more problems not shown; fix these first", len(te.Errors)-i)})
			break
		}
		p := yamlProblem(name, e)
		if m := yamlFieldRE.FindStringSubmatch(p.Message); m != nil {
			p.Message = fmt.Sprintf("unknown field %s; known fields here: %s", quoteShort(m[1]), knownFields[m[2]])
		} else if m := yamlUnmarshalRE.FindStringSubmatch(p.Message); m != nil {
			want, ok := expected[m[2]]
			if !ok {
				want = m[2]
			}
			found, ok := yamlKinds[m[1]]
			if !ok {
				found = "a YAML " + m[1]
			}
			p.Message = fmt.Sprintf("expected %s, found %s", want, found)
		}
		p.Message = yamlQuotedRE.ReplaceAllString(p.Message, "a value")
		ps = append(ps, p)
	}
	return ps
}

func yamlProblem(name, msg string) Problem {
	p := Problem{File: name, Message: msg}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Message = m[2]
	}
	return p
}

func cleanYAMLErr(err error) string {
	return yamlQuotedRE.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "a value")
}

// lineIndex maps paths like "clients[1].tokens[0]" to lines.
type lineIndex = yamlpos.Lines

func indexLines(root *yaml.Node) lineIndex { return yamlpos.Index(root, 8) }

// snapshot is a compiled, immutable configuration.
type snapshot struct {
	byHash  map[[32]byte]*tokenEntry
	proxies []netip.Prefix
	limits  limits
}

type tokenEntry struct {
	hash   [32]byte
	client *Client
	index  int // position in Config.Clients, for messages
}

type limits struct {
	maxFailures int
	window      time.Duration
	lockout     time.Duration
	maxTracked  int
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}$`)

// compile validates cfg and builds its snapshot, reporting every problem.
func compile(cfg Config) (*snapshot, error) {
	var ps Problems
	if len(cfg.Clients) > maxClients {
		ps.add("clients", "%d clients; at most %d are allowed", len(cfg.Clients), maxClients)
		return nil, ps
	}
	if len(cfg.TrustedProxies) > maxTrustedProxies {
		ps.add("trusted_proxies", "%d entries; at most %d are allowed (use CIDRs)", len(cfg.TrustedProxies), maxTrustedProxies)
		return nil, ps
	}
	s := &snapshot{byHash: make(map[[32]byte]*tokenEntry)}
	names := make(map[string]int, len(cfg.Clients))
	for i, cc := range cfg.Clients {
		at := "clients[" + strconv.Itoa(i) + "]"
		c := &Client{Name: cc.Name}
		switch {
		case cc.Name == "":
			ps.add(at+".name", "the client has no name; give it one (letters, digits and . _ @ : -)")
		case !nameRE.MatchString(cc.Name):
			ps.add(at+".name", "name %s: use 1 to 64 letters, digits and . _ @ : -, starting with a letter or digit", quoteShort(cc.Name))
		default:
			if j, dup := names[cc.Name]; dup {
				ps.add(at+".name", "name %q is also used by clients[%d]; names must be unique", cc.Name, j)
			}
			names[cc.Name] = i
		}
		if len(cc.Scopes) == 0 {
			ps.add(at+".scopes", "client %s has no scopes; give it at least one of: %s", quoteShort(cc.Name), scopeList())
		}
		for j, sc := range cc.Scopes {
			scope, err := ParseScope(sc)
			if err != nil {
				ps.add(at+".scopes["+strconv.Itoa(j)+"]", "%v", err)
				continue
			}
			if !slices.Contains(c.Scopes, scope) {
				c.Scopes = append(c.Scopes, scope)
			}
		}
		switch {
		case len(cc.Tokens) == 0:
			ps.add(at+".tokens", "client %s has no tokens; make one with \"sentinel token new --name %s\"", quoteShort(cc.Name), cc.Name)
		case len(cc.Tokens) > maxTokensPerClient:
			ps.add(at+".tokens", "%d tokens; at most %d (remove the ones rotated out)", len(cc.Tokens), maxTokensPerClient)
			continue
		}
		for j, h := range cc.Tokens {
			tat := at + ".tokens[" + strconv.Itoa(j) + "]"
			sum, err := parseHash(h)
			if err != nil {
				ps.add(tat, "%v", err)
				continue
			}
			if prev, ok := s.byHash[sum]; ok {
				if prev.index != i {
					ps.add(tat, "this hash is also a token of clients[%d] (%s); a token must identify one client", prev.index, quoteShort(prev.client.Name))
				}
				continue
			}
			s.byHash[sum] = &tokenEntry{hash: sum, client: c, index: i}
		}
	}
	for i, p := range cfg.TrustedProxies {
		pfx, err := parseProxy(p)
		if err != nil {
			ps.add("trusted_proxies["+strconv.Itoa(i)+"]", "%v", err)
			continue
		}
		s.proxies = append(s.proxies, pfx)
	}
	s.limits = limitsOf(cfg, &ps)
	if len(ps) > 0 {
		return nil, ps
	}
	return s, nil
}

// limitsOf applies the defaults to the limiter fields and checks them.
func limitsOf(cfg Config, ps *Problems) limits {
	l := limits{maxFailures: cfg.MaxFailures, window: cfg.Window, lockout: cfg.Lockout, maxTracked: cfg.MaxTrackedIPs}
	if l.maxFailures == 0 {
		l.maxFailures = DefaultMaxFailures
	}
	if l.window == 0 {
		l.window = DefaultWindow
	}
	if l.lockout == 0 {
		l.lockout = DefaultLockout
	}
	if l.maxTracked == 0 {
		l.maxTracked = DefaultMaxTrackedIPs
	}
	if l.maxFailures < 1 || l.maxFailures > maxFailuresLimit {
		ps.add("max_failures", "%d: use 1 to %d (default %d)", l.maxFailures, maxFailuresLimit, DefaultMaxFailures)
	}
	if l.window < minPeriod || l.window > maxPeriod {
		ps.add("failure_window", "%s: use %s to %s (default %s)", l.window, minPeriod, maxPeriod, DefaultWindow)
	}
	if l.lockout < minPeriod || l.lockout > maxPeriod {
		ps.add("lockout", "%s: use %s to %s (default %s)", l.lockout, minPeriod, maxPeriod, DefaultLockout)
	}
	if l.maxTracked < 1 || l.maxTracked > maxTrackedLimit {
		ps.add("max_tracked_ips", "%d: use 1 to %d (default %d)", l.maxTracked, maxTrackedLimit, DefaultMaxTrackedIPs)
	}
	return l
}

// parseHash reads "sha256:<64 hex>". Its errors never quote the value: it
// may be a raw token put where its hash belongs.
func parseHash(h string) ([32]byte, error) {
	var sum [32]byte
	if strings.HasPrefix(h, TokenPrefix) {
		return sum, errors.New(`this is a raw token, not its hash; never store tokens here: put the "sha256:…" line that "sentinel token new" printed (or "sentinel token hash" computes)`)
	}
	hexPart, ok := strings.CutPrefix(h, "sha256:")
	if !ok || len(hexPart) != 2*len(sum) {
		return sum, errors.New(`not a token hash; expected "sha256:" and 64 hex digits, as "sentinel token new" prints`)
	}
	if _, err := hex.Decode(sum[:], []byte(hexPart)); err != nil {
		return sum, errors.New(`not a token hash: after "sha256:" only the hex digits 0-9 and a-f may follow`)
	}
	return sum, nil
}

func parseProxy(s string) (netip.Prefix, error) {
	bad := fmt.Errorf("%s is neither an IP address nor a CIDR (like 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32)", quoteShort(s))
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, bad
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return p, bad
		}
		a = a.Unmap()
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	if p.Bits() == 0 {
		return p, fmt.Errorf("%s trusts every address, so any client could pick its own address with X-Forwarded-For; list your proxies", quoteShort(s))
	}
	return p.Masked(), nil
}
