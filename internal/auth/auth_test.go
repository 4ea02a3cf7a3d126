package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

// clock is a fake clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func mustToken(t testing.TB) (string, string) {
	t.Helper()
	tok, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	return tok, hash
}

func mustNew(t testing.TB, cfg Config, c *clock) *Authenticator {
	t.Helper()
	var opts []Option
	if c != nil {
		opts = append(opts, WithClock(c.now))
	}
	a, err := New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func request(remote, authz string, xff ...string) *http.Request {
	r := httptest.NewRequest("GET", "/v1/check", nil)
	r.RemoteAddr = remote
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	for _, x := range xff {
		r.Header.Add("X-Forwarded-For", x)
	}
	return r
}

// wantError checks that err is an *Error with the code and status.
func wantError(t *testing.T, err error, code string, status int) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *auth.Error", err, err)
	}
	if e.Code != code || e.Status != status {
		t.Fatalf("got %s/%d (%q), want %s/%d", e.Code, e.Status, e.Message, code, status)
	}
	return e
}

func TestAuthenticate(t *testing.T) {
	agentTok, agentHash := mustToken(t)
	opsTok, opsHash := mustToken(t)
	unknownTok, _ := mustToken(t)
	cfg := Config{Clients: []ClientConfig{
		{Name: "agent", Scopes: []string{"check", "check"}, Tokens: []string{agentHash}},
		{Name: "ops", Scopes: []string{"admin"}, Tokens: []string{opsHash}},
	}}
	// A high limit keeps the failure limiter out of this table.
	cfg.MaxFailures = 100
	a := mustNew(t, cfg, newClock())

	for _, tc := range []struct {
		name    string
		headers []string // Authorization values; none means no header
		client  string   // want success as this client
		code    string
		token   string // must not appear in the error
	}{
		{name: "valid", headers: []string{"Bearer " + agentTok}, client: "agent"},
		{name: "lowercase scheme", headers: []string{"bearer " + opsTok}, client: "ops"},
		{name: "uppercase scheme", headers: []string{"BEARER " + agentTok}, client: "agent"},
		{name: "no header", code: CodeMissingToken},
		{name: "empty header", headers: []string{""}, code: CodeMissingToken},
		{name: "unknown token", headers: []string{"Bearer " + unknownTok}, code: CodeInvalidToken, token: unknownTok},
		{name: "basic scheme", headers: []string{"Basic " + agentTok}, code: CodeInvalidToken, token: agentTok},
		{name: "no scheme", headers: []string{agentTok}, code: CodeInvalidToken, token: agentTok},
		{name: "scheme only", headers: []string{"Bearer"}, code: CodeInvalidToken},
		{name: "scheme and space only", headers: []string{"Bearer "}, code: CodeInvalidToken},
		{name: "two spaces", headers: []string{"Bearer  " + agentTok}, code: CodeInvalidToken, token: agentTok},
		{name: "trailing space", headers: []string{"Bearer " + agentTok + " "}, code: CodeInvalidToken, token: agentTok},
		{name: "no space", headers: []string{"Bearer" + agentTok}, code: CodeInvalidToken, token: agentTok},
		{name: "tab separator", headers: []string{"Bearer\t" + agentTok}, code: CodeInvalidToken, token: agentTok},
		{name: "token with prefix junk", headers: []string{"Bearer x" + agentTok}, code: CodeInvalidToken, token: agentTok},
		{name: "too long", headers: []string{"Bearer " + strings.Repeat("a", MaxTokenLen+1)}, code: CodeInvalidToken},
		{name: "non-ASCII", headers: []string{"Bearer " + agentTok + "é"}, code: CodeInvalidToken, token: agentTok},
		{name: "two headers", headers: []string{"Bearer " + agentTok, "Bearer " + agentTok}, code: CodeInvalidToken, token: agentTok},
		{name: "hash instead of token", headers: []string{"Bearer " + agentHash}, code: CodeInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := request("192.0.2.1:5555", "")
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			c, err := a.Authenticate(r)
			if tc.client != "" {
				if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				if c.Name != tc.client {
					t.Fatalf("client %q, want %q", c.Name, tc.client)
				}
				return
			}
			wantError(t, err, tc.code, http.StatusUnauthorized)
			if c.Name != "" || c.Scopes != nil {
				t.Errorf("refused request still returned client %+v", c)
			}
			if tc.token != "" && strings.Contains(err.Error(), tc.token) {
				t.Errorf("error echoes the token: %v", err)
			}
		})
	}
}

func TestAuthenticateReturnsACopy(t *testing.T) {
	tok, hash := mustToken(t)
	a := mustNew(t, Config{Clients: []ClientConfig{{Name: "agent", Scopes: []string{"check"}, Tokens: []string{hash}}}}, nil)
	c, err := a.Authenticate(request("192.0.2.1:1", "Bearer "+tok))
	if err != nil {
		t.Fatal(err)
	}
	c.Scopes[0] = ScopeAdmin
	c2, err := a.Authenticate(request("192.0.2.1:1", "Bearer "+tok))
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.Scopes; !slices.Equal(got, []Scope{ScopeCheck}) {
		t.Fatalf("scopes after a caller changed its copy: %v, want [check]", got)
	}
}

func TestRequire(t *testing.T) {
	a := mustNew(t, Config{}, nil)
	agent := Client{Name: "agent", Scopes: []Scope{ScopeCheck}}
	admin := Client{Name: "root", Scopes: []Scope{ScopeAdmin}}
	for _, tc := range []struct {
		c    Client
		s    Scope
		want bool
	}{
		{agent, ScopeCheck, true},
		{agent, ScopeAuditRead, false},
		{agent, ScopeAdmin, false},
		{admin, ScopeCheck, true},
		{admin, ScopeAuditRead, true},
		{admin, ScopeApprovals, true},
		{admin, ScopeMemory, true},
		{admin, ScopeAdmin, true},
		{admin, Scope("made:up"), false},
		{Client{}, ScopeCheck, false},
	} {
		err := a.Require(tc.c, tc.s)
		if tc.want {
			if err != nil {
				t.Errorf("Require(%s, %s): %v", tc.c.Name, tc.s, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("Require(%s, %s) = nil, want auth.forbidden_scope", tc.c.Name, tc.s)
			continue
		}
		e := wantError(t, err, CodeForbiddenScope, http.StatusForbidden)
		if !strings.Contains(e.Message, string(tc.s)) {
			t.Errorf("message %q does not name scope %q", e.Message, tc.s)
		}
	}
}

func TestParseScope(t *testing.T) {
	for _, s := range KnownScopes() {
		got, err := ParseScope(string(s))
		if err != nil || got != s {
			t.Errorf("ParseScope(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "Check", "audit", "audit:write", " check"} {
		_, err := ParseScope(s)
		if err == nil {
			t.Errorf("ParseScope(%q) succeeded", s)
			continue
		}
		if !strings.Contains(err.Error(), "audit:read") || !strings.Contains(err.Error(), "approvals:decide") {
			t.Errorf("ParseScope(%q) error does not list the known scopes: %v", s, err)
		}
	}
}

func TestRotation(t *testing.T) {
	oldTok, oldHash := mustToken(t)
	newTok, newHash := mustToken(t)
	cfg := func(hashes ...string) Config {
		return Config{Clients: []ClientConfig{{Name: "ci", Scopes: []string{"check"}, Tokens: hashes}}}
	}
	a := mustNew(t, cfg(oldHash), newClock())
	check := func(step, tok string, ok bool) {
		t.Helper()
		c, err := a.Authenticate(request("192.0.2.1:1", "Bearer "+tok))
		if ok && (err != nil || c.Name != "ci") {
			t.Fatalf("%s: got %+v, %v; want client ci", step, c, err)
		}
		if !ok {
			wantError(t, err, CodeInvalidToken, http.StatusUnauthorized)
		}
	}
	check("before", oldTok, true)
	check("before", newTok, false)
	if err := a.Update(cfg(oldHash, newHash)); err != nil {
		t.Fatal(err)
	}
	check("both", oldTok, true)
	check("both", newTok, true)
	if err := a.Update(cfg(newHash)); err != nil {
		t.Fatal(err)
	}
	check("after", oldTok, false)
	check("after", newTok, true)
}

func TestUpdateInvalidKeepsOld(t *testing.T) {
	tok, hash := mustToken(t)
	_, other := mustToken(t)
	good := Config{Clients: []ClientConfig{{Name: "ci", Scopes: []string{"check"}, Tokens: []string{hash}}}}
	a := mustNew(t, good, nil)
	for _, bad := range []Config{
		{Clients: []ClientConfig{{Name: "ci", Scopes: []string{"check"}, Tokens: []string{"sha256:nothex"}}}},
		{Clients: []ClientConfig{{Name: "ci", Scopes: []string{"root"}, Tokens: []string{other}}}},
		{Clients: good.Clients, TrustedProxies: []string{"10.0.0.0/33"}},
		{Clients: good.Clients, MaxFailures: -1},
	} {
		if err := a.Update(bad); err == nil {
			t.Fatalf("Update(%+v) accepted an invalid config", bad)
		}
		if c, err := a.Authenticate(request("192.0.2.1:1", "Bearer "+tok)); err != nil || c.Name != "ci" {
			t.Fatalf("after a refused Update: %+v, %v; want the old config", c, err)
		}
	}
}

func TestNewValidation(t *testing.T) {
	_, h1 := mustToken(t)
	_, h2 := mustToken(t)
	rawTok, _ := mustToken(t)
	ok := ClientConfig{Name: "a", Scopes: []string{"check"}, Tokens: []string{h1}}
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"no name", Config{Clients: []ClientConfig{{Scopes: []string{"check"}, Tokens: []string{h1}}}}, []string{"clients[0].name", "no name"}},
		{"bad name", Config{Clients: []ClientConfig{{Name: "a b", Scopes: []string{"check"}, Tokens: []string{h1}}}}, []string{`"a b"`, "letters, digits"}},
		{"duplicate name", Config{Clients: []ClientConfig{ok, {Name: "a", Scopes: []string{"check"}, Tokens: []string{h2}}}}, []string{"clients[1].name", "also used by clients[0]"}},
		{"no scopes", Config{Clients: []ClientConfig{{Name: "a", Tokens: []string{h1}}}}, []string{"no scopes", "audit:read"}},
		{"unknown scope", Config{Clients: []ClientConfig{{Name: "a", Scopes: []string{"check", "root"}, Tokens: []string{h1}}}}, []string{"clients[0].scopes[1]", `unknown scope "root"`}},
		{"no tokens", Config{Clients: []ClientConfig{{Name: "a", Scopes: []string{"check"}}}}, []string{"no tokens", "sentinel token new --name a"}},
		{"bad hash", Config{Clients: []ClientConfig{{Name: "a", Scopes: []string{"check"}, Tokens: []string{"sha256:abc"}}}}, []string{"clients[0].tokens[0]", "64 hex digits"}},
		{"non-hex hash", Config{Clients: []ClientConfig{{Name: "a", Scopes: []string{"check"}, Tokens: []string{"sha256:" + strings.Repeat("g", 64)}}}}, []string{"hex digits"}},
		{"md5", Config{Clients: []ClientConfig{{Name: "a", Scopes: []string{"check"}, Tokens: []string{"md5:" + strings.Repeat("a", 32)}}}}, []string{"not a token hash"}},
		{"raw token", Config{Clients: []ClientConfig{{Name: "a", Scopes: []string{"check"}, Tokens: []string{rawTok}}}}, []string{"raw token"}},
		{"shared hash", Config{Clients: []ClientConfig{ok, {Name: "b", Scopes: []string{"check"}, Tokens: []string{h2, h1}}}}, []string{"clients[1].tokens[1]", "also a token of clients[0]"}},
		{"too many tokens", Config{Clients: []ClientConfig{{Name: "a", Scopes: []string{"check"}, Tokens: slices.Repeat([]string{h1}, 17)}}}, []string{"at most 16"}},
		{"bad proxy", Config{Clients: []ClientConfig{ok}, TrustedProxies: []string{"10.0.0.0/8", "proxy.local"}}, []string{"trusted_proxies[1]", "neither an IP address nor a CIDR"}},
		{"trust all", Config{Clients: []ClientConfig{ok}, TrustedProxies: []string{"0.0.0.0/0"}}, []string{"trusts every address"}},
		{"negative failures", Config{Clients: []ClientConfig{ok}, MaxFailures: -3}, []string{"max_failures", "use 1 to 100"}},
		{"huge table", Config{Clients: []ClientConfig{ok}, MaxTrackedIPs: 1 << 30}, []string{"max_tracked_ips"}},
		{"tiny window", Config{Clients: []ClientConfig{ok}, Window: time.Millisecond}, []string{"failure_window"}},
		{"long lockout", Config{Clients: []ClientConfig{ok}, Lockout: 48 * time.Hour}, []string{"lockout"}},
		{"all at once", Config{Clients: []ClientConfig{{Name: "", Scopes: []string{"x"}, Tokens: []string{"y"}}}}, []string{"no name", `unknown scope "x"`, "not a token hash"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil {
				t.Fatal("New accepted the config")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), rawTok) {
				t.Errorf("error echoes a raw token:\n%v", err)
			}
		})
	}
}

func TestEnabledAndSingleToken(t *testing.T) {
	a := mustNew(t, Config{}, nil)
	if a.Enabled() {
		t.Error("Enabled() with no clients")
	}
	if _, err := a.Authenticate(request("192.0.2.1:1", "Bearer anything-at-all-goes-here-0123456789")); err == nil {
		t.Error("a config with no clients authenticated a request")
	}
	if len(SingleToken("").Clients) != 0 {
		t.Error("SingleToken(\"\") has clients")
	}
	const tok = "an-operator-chosen-token-4f9a1c7e2b"
	a = mustNew(t, SingleToken(tok), nil)
	if !a.Enabled() {
		t.Error("Enabled() false with a token")
	}
	c, err := a.Authenticate(request("192.0.2.1:1", "Bearer "+tok))
	if err != nil || c.Name != "token" {
		t.Fatalf("got %+v, %v; want client \"token\"", c, err)
	}
	for _, s := range KnownScopes() {
		if !c.Has(s) {
			t.Errorf("single-token client lacks %s", s)
		}
	}
}

func TestRateLimit(t *testing.T) {
	tok, hash := mustToken(t)
	clk := newClock()
	a := mustNew(t, Config{Clients: []ClientConfig{{Name: "ci", Scopes: []string{"check"}, Tokens: []string{hash}}}}, clk)
	const ip = "198.51.100.7:4000"
	bad := "Bearer snt_wrong"
	for i := 0; i < DefaultMaxFailures; i++ {
		_, err := a.Authenticate(request(ip, bad))
		wantError(t, err, CodeInvalidToken, http.StatusUnauthorized)
		clk.advance(time.Second)
	}
	// Locked: even the valid token is refused, from any port of that IP.
	_, err := a.Authenticate(request("198.51.100.7:4001", "Bearer "+tok))
	e := wantError(t, err, CodeRateLimited, http.StatusTooManyRequests)
	if e.RetryAfter != DefaultLockout-time.Second {
		t.Errorf("RetryAfter %v, want %v", e.RetryAfter, DefaultLockout-time.Second)
	}
	if strings.Contains(e.Message, tok) {
		t.Errorf("message echoes the token: %q", e.Message)
	}
	// Another address is unaffected.
	if _, err := a.Authenticate(request("198.51.100.8:4000", "Bearer "+tok)); err != nil {
		t.Fatalf("other address: %v", err)
	}
	clk.advance(DefaultLockout - 2*time.Second)
	_, err = a.Authenticate(request(ip, "Bearer "+tok))
	e = wantError(t, err, CodeRateLimited, http.StatusTooManyRequests)
	if e.RetryAfter != time.Second {
		t.Errorf("RetryAfter %v, want 1s", e.RetryAfter)
	}
	clk.advance(time.Second)
	if _, err := a.Authenticate(request(ip, "Bearer "+tok)); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	// The lockout cleared the count: one failure does not lock again.
	_, err = a.Authenticate(request(ip, bad))
	wantError(t, err, CodeInvalidToken, http.StatusUnauthorized)
	if _, err := a.Authenticate(request(ip, "Bearer "+tok)); err != nil {
		t.Fatalf("one failure after the lockout: %v", err)
	}
}

func TestRateLimitWindow(t *testing.T) {
	_, hash := mustToken(t)
	clients := []ClientConfig{{Name: "ci", Scopes: []string{"check"}, Tokens: []string{hash}}}
	fail := func(a *Authenticator, ip string) error {
		_, err := a.Authenticate(request(ip, "Bearer snt_wrong"))
		return err
	}
	t.Run("failures that leave the window do not count", func(t *testing.T) {
		clk := newClock()
		a := mustNew(t, Config{Clients: clients, MaxFailures: 3, Window: 10 * time.Second}, clk)
		for i := 0; i < 10; i++ {
			wantError(t, fail(a, "192.0.2.1:1"), CodeInvalidToken, http.StatusUnauthorized)
			clk.advance(5 * time.Second) // at most two failures in any 10s
		}
	})
	t.Run("the window slides", func(t *testing.T) {
		clk := newClock()
		a := mustNew(t, Config{Clients: clients, MaxFailures: 3, Window: 10 * time.Second}, clk)
		fail(a, "192.0.2.1:1") // t=0, leaves the window at t=10
		clk.advance(9 * time.Second)
		fail(a, "192.0.2.1:1") // t=9
		clk.advance(time.Second)
		fail(a, "192.0.2.1:1") // t=10: only two in the window
		wantError(t, fail(a, "192.0.2.1:1"), CodeInvalidToken, http.StatusUnauthorized)
		wantError(t, fail(a, "192.0.2.1:1"), CodeRateLimited, http.StatusTooManyRequests)
	})
}

func TestRateLimitSuccessDoesNotReset(t *testing.T) {
	tok, hash := mustToken(t)
	a := mustNew(t, Config{Clients: []ClientConfig{{Name: "ci", Scopes: []string{"check"}, Tokens: []string{hash}}}, MaxFailures: 3}, newClock())
	const ip = "192.0.2.9:1"
	for i := 0; i < 2; i++ {
		a.Authenticate(request(ip, "Bearer snt_guess"))
		if _, err := a.Authenticate(request(ip, "Bearer "+tok)); err != nil {
			t.Fatal(err)
		}
	}
	a.Authenticate(request(ip, "Bearer snt_guess"))
	_, err := a.Authenticate(request(ip, "Bearer "+tok))
	wantError(t, err, CodeRateLimited, http.StatusTooManyRequests)
}

func TestRateLimitIgnoresMissingAndForbidden(t *testing.T) {
	tok, hash := mustToken(t)
	a := mustNew(t, Config{Clients: []ClientConfig{{Name: "ci", Scopes: []string{"check"}, Tokens: []string{hash}}}, MaxFailures: 1}, newClock())
	for i := 0; i < 5; i++ {
		_, err := a.Authenticate(request("192.0.2.1:1", ""))
		wantError(t, err, CodeMissingToken, http.StatusUnauthorized)
	}
	c, err := a.Authenticate(request("192.0.2.1:1", "Bearer "+tok))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Require(c, ScopeAdmin); err == nil {
		t.Fatal("Require admin succeeded for a check client")
	}
	if _, err := a.Authenticate(request("192.0.2.1:1", "Bearer "+tok)); err != nil {
		t.Fatalf("missing tokens or scopes counted as failures: %v", err)
	}
}

func TestRateLimitCannotBeDodged(t *testing.T) {
	tok, hash := mustToken(t)
	clients := []ClientConfig{{Name: "ci", Scopes: []string{"check"}, Tokens: []string{hash}}}
	t.Run("X-Forwarded-For without trusted proxies", func(t *testing.T) {
		a := mustNew(t, Config{Clients: clients, MaxFailures: 3}, newClock())
		for i := 0; i < 3; i++ {
			a.Authenticate(request("203.0.113.50:1", "Bearer snt_guess", fmt.Sprintf("198.51.100.%d", i)))
		}
		_, err := a.Authenticate(request("203.0.113.50:1", "Bearer "+tok, "198.51.100.200"))
		wantError(t, err, CodeRateLimited, http.StatusTooManyRequests)
	})
	t.Run("X-Forwarded-For from an untrusted peer", func(t *testing.T) {
		a := mustNew(t, Config{Clients: clients, MaxFailures: 3, TrustedProxies: []string{"10.0.0.0/8"}}, newClock())
		for i := 0; i < 3; i++ {
			a.Authenticate(request("203.0.113.50:1", "Bearer snt_guess", fmt.Sprintf("198.51.100.%d", i)))
		}
		_, err := a.Authenticate(request("203.0.113.50:1", "Bearer "+tok, "198.51.100.200"))
		wantError(t, err, CodeRateLimited, http.StatusTooManyRequests)
	})
	t.Run("addresses of one IPv6 /64", func(t *testing.T) {
		a := mustNew(t, Config{Clients: clients, MaxFailures: 3}, newClock())
		for i := 1; i <= 3; i++ {
			a.Authenticate(request(fmt.Sprintf("[2001:db8:1:2::%x]:1", i), "Bearer snt_guess"))
		}
		_, err := a.Authenticate(request("[2001:db8:1:2:ffff::1]:1", "Bearer "+tok))
		wantError(t, err, CodeRateLimited, http.StatusTooManyRequests)
		if _, err := a.Authenticate(request("[2001:db8:1:3::1]:1", "Bearer "+tok)); err != nil {
			t.Fatalf("another /64 was locked: %v", err)
		}
	})
	t.Run("IPv4-mapped IPv6 is the IPv4 address", func(t *testing.T) {
		a := mustNew(t, Config{Clients: clients, MaxFailures: 2}, newClock())
		a.Authenticate(request("192.0.2.1:1", "Bearer snt_guess"))
		a.Authenticate(request("[::ffff:192.0.2.1]:1", "Bearer snt_guess"))
		_, err := a.Authenticate(request("192.0.2.1:2", "Bearer "+tok))
		wantError(t, err, CodeRateLimited, http.StatusTooManyRequests)
	})
}

func TestRateLimitBehindProxy(t *testing.T) {
	tok, hash := mustToken(t)
	a := mustNew(t, Config{
		Clients:        []ClientConfig{{Name: "ci", Scopes: []string{"check"}, Tokens: []string{hash}}},
		TrustedProxies: []string{"10.0.0.0/8"},
		MaxFailures:    2,
	}, newClock())
	for i := 0; i < 2; i++ {
		a.Authenticate(request("10.0.0.1:1", "Bearer snt_guess", "198.51.100.1"))
	}
	_, err := a.Authenticate(request("10.0.0.2:1", "Bearer "+tok, "198.51.100.1"))
	wantError(t, err, CodeRateLimited, http.StatusTooManyRequests)
	// The proxy's other clients are not locked out with it.
	if _, err := a.Authenticate(request("10.0.0.1:1", "Bearer "+tok, "198.51.100.2")); err != nil {
		t.Fatalf("another client behind the proxy: %v", err)
	}
}

func TestRateLimitTableIsBounded(t *testing.T) {
	tok, hash := mustToken(t)
	clk := newClock()
	a := mustNew(t, Config{Clients: []ClientConfig{{Name: "ci", Scopes: []string{"check"}, Tokens: []string{hash}}}, MaxFailures: 1}, clk)
	const attacker = "203.0.113.1:1"
	a.Authenticate(request(attacker, "Bearer snt_guess"))
	for i := 0; i < 20_000; i++ {
		ip := fmt.Sprintf("10.%d.%d.%d:1", i>>16, (i>>8)&0xff, i&0xff)
		_, err := a.Authenticate(request(ip, "Bearer snt_guess"))
		wantError(t, err, CodeInvalidToken, http.StatusUnauthorized)
		if i%1000 == 0 {
			// The attacker keeps trying while locked out, which keeps its
			// entry recent.
			_, err := a.Authenticate(request(attacker, "Bearer "+tok))
			wantError(t, err, CodeRateLimited, http.StatusTooManyRequests)
		}
	}
	if n := a.lim.len(); n != DefaultMaxTrackedIPs {
		t.Errorf("tracked %d addresses, want the bound %d", n, DefaultMaxTrackedIPs)
	}
	_, err := a.Authenticate(request(attacker, "Bearer "+tok))
	wantError(t, err, CodeRateLimited, http.StatusTooManyRequests)
	// The newest flood address is still locked; the oldest was forgotten.
	_, err = a.Authenticate(request("10.0.78.31:1", "Bearer "+tok)) // i = 19999
	wantError(t, err, CodeRateLimited, http.StatusTooManyRequests)
	if _, err := a.Authenticate(request("10.0.0.1:1", "Bearer "+tok)); err != nil {
		t.Errorf("the oldest address was not evicted: %v", err)
	}
}

func TestLockoutSurvivesUpdate(t *testing.T) {
	tok, hash := mustToken(t)
	cfg := Config{Clients: []ClientConfig{{Name: "ci", Scopes: []string{"check"}, Tokens: []string{hash}}}, MaxFailures: 1}
	a := mustNew(t, cfg, newClock())
	a.Authenticate(request("192.0.2.1:1", "Bearer snt_guess"))
	cfg.MaxFailures = 5
	if err := a.Update(cfg); err != nil {
		t.Fatal(err)
	}
	_, err := a.Authenticate(request("192.0.2.1:1", "Bearer "+tok))
	wantError(t, err, CodeRateLimited, http.StatusTooManyRequests)
}

func TestClientIP(t *testing.T) {
	proxies := []string{"10.0.0.0/8", "2001:db8::/32", "192.0.2.7", "::ffff:172.16.0.0/108"}
	var chain []string
	for i := 1; i <= 40; i++ {
		chain = append(chain, fmt.Sprintf("10.0.0.%d", i))
	}
	for _, tc := range []struct {
		name    string
		proxies []string
		remote  string
		xff     []string
		want    string
	}{
		{"no proxies ignore XFF", nil, "203.0.113.5:1234", []string{"198.51.100.1"}, "203.0.113.5"},
		{"no proxies, even from a private peer", nil, "10.0.0.1:1", []string{"198.51.100.1"}, "10.0.0.1"},
		{"untrusted peer", proxies, "203.0.113.5:1", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trusted peer", proxies, "10.0.0.1:1", []string{"198.51.100.9"}, "198.51.100.9"},
		{"trusted peer without XFF", proxies, "10.0.0.1:1", nil, "10.0.0.1"},
		{"rightmost untrusted wins", proxies, "10.0.0.1:1", []string{"6.6.6.6, 198.51.100.9, 10.1.1.1"}, "198.51.100.9"},
		{"all trusted", proxies, "10.0.0.1:1", []string{"10.2.2.2, 10.1.1.1"}, "10.2.2.2"},
		{"malformed in the middle", proxies, "10.0.0.1:1", []string{"198.51.100.9, nonsense, 10.1.1.1"}, "10.1.1.1"},
		{"malformed rightmost", proxies, "10.0.0.1:1", []string{"198.51.100.9, nonsense"}, "10.0.0.1"},
		{"empty entry", proxies, "10.0.0.1:1", []string{"198.51.100.9,,10.1.1.1"}, "10.1.1.1"},
		{"empty header", proxies, "10.0.0.1:1", []string{""}, "10.0.0.1"},
		{"several headers", proxies, "10.0.0.1:1", []string{"6.6.6.6, 198.51.100.1", "10.1.1.1"}, "198.51.100.1"},
		{"entry with port", proxies, "10.0.0.1:1", []string{"198.51.100.9:443"}, "198.51.100.9"},
		{"IPv6 entry with port", proxies, "10.0.0.1:1", []string{"[2a00:1450::5]:443"}, "2a00:1450::5"},
		{"IPv6 peer and entry", proxies, "[2001:db8::1]:443", []string{"2a00:1450::5"}, "2a00:1450::5"},
		{"IPv6 untrusted peer", proxies, "[2a00::1]:443", []string{"198.51.100.9"}, "2a00::1"},
		{"IPv6 zone", proxies, "[fe80::1%eth0]:443", nil, "fe80::1"},
		{"IPv4-mapped peer", proxies, "[::ffff:10.0.0.1]:1", []string{"198.51.100.9"}, "198.51.100.9"},
		{"IPv4-mapped proxy CIDR", proxies, "172.16.0.9:1", []string{"198.51.100.9"}, "198.51.100.9"},
		{"IPv4-mapped entry", proxies, "10.0.0.1:1", []string{"::ffff:198.51.100.9"}, "198.51.100.9"},
		{"single trusted IP", proxies, "192.0.2.7:1", []string{"198.51.100.3"}, "198.51.100.3"},
		{"next to the single trusted IP", proxies, "192.0.2.8:1", []string{"198.51.100.3"}, "192.0.2.8"},
		{"too many hops", proxies, "10.0.0.1:1", []string{"198.51.100.9, " + strings.Join(chain, ", ")}, "10.0.0.9"},
		{"unix socket", proxies, "@", []string{"198.51.100.9"}, "@"},
		{"no port", nil, "203.0.113.5", nil, "203.0.113.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := mustNew(t, Config{TrustedProxies: tc.proxies}, nil)
			if got := a.ClientIP(request(tc.remote, "", tc.xff...)); got != tc.want {
				t.Errorf("ClientIP = %q, want %q", got, tc.want)
			}
		})
	}
}

func writeFile(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "clients.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	agentTok, agentHash := mustToken(t)
	opsTok, opsHash := mustToken(t)
	_, oldHash := mustToken(t)
	p := writeFile(t, fmt.Sprintf(`# who may call the server
clients:
  - name: agent-1
    scopes: [check]
    tokens:
      - %s
  - name: ops@example
    scopes: [audit:read, approvals:decide]
    tokens: [%s, %s]
trusted_proxies: [10.0.0.0/8, "2001:db8::1"]
max_failures: 5
failure_window: 30s
lockout: 2m
max_tracked_ips: 500
`, agentHash, oldHash, opsHash), 0o600)
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxFailures != 5 || cfg.Window != 30*time.Second || cfg.Lockout != 2*time.Minute || cfg.MaxTrackedIPs != 500 || len(cfg.TrustedProxies) != 2 {
		t.Errorf("limits not read: %+v", cfg)
	}
	a := mustNew(t, cfg, nil)
	for tok, want := range map[string]string{agentTok: "agent-1", opsTok: "ops@example"} {
		c, err := a.Authenticate(request("192.0.2.1:1", "Bearer "+tok))
		if err != nil || c.Name != want {
			t.Errorf("got %+v, %v; want %s", c, err, want)
		}
	}
	c, _ := a.Authenticate(request("192.0.2.1:1", "Bearer "+opsTok))
	if !c.Has(ScopeAuditRead) || !c.Has(ScopeApprovals) || c.Has(ScopeCheck) {
		t.Errorf("ops scopes: %v", c.Scopes)
	}
}

// TestScopeImplications: admin holds everything, audit:read also metrics
// (as before metrics was a scope), metrics nothing else.
func TestScopeImplications(t *testing.T) {
	for _, tt := range []struct {
		holds Scope
		want  []Scope
	}{
		{ScopeAdmin, KnownScopes()},
		{ScopeAuditRead, []Scope{ScopeAuditRead, ScopeMetrics}},
		{ScopeMetrics, []Scope{ScopeMetrics}},
		{ScopeCheck, []Scope{ScopeCheck}},
	} {
		c := Client{Name: "c", Scopes: []Scope{tt.holds}}
		for _, s := range KnownScopes() {
			if got, want := c.Has(s), slices.Contains(tt.want, s); got != want {
				t.Errorf("a client with %s: Has(%s) = %v, want %v", tt.holds, s, got, want)
			}
		}
	}
	if (Client{Scopes: []Scope{ScopeAdmin}}).Has("audit:write") {
		t.Error("an unknown scope is held")
	}
}

func TestLoadConfigErrors(t *testing.T) {
	rawTok, hash := mustToken(t)
	_, hash2 := mustToken(t)
	for _, tc := range []struct {
		name    string
		content string
		mode    os.FileMode
		want    []string
	}{
		{"unknown client field", "clients:\n  - name: a\n    scope: [check]\n    tokens: [" + hash + "]\n", 0o600,
			[]string{"clients.yaml:3:", `unknown field "scope"`, "name, scopes, tokens"}},
		{"unknown top-level field", "clients: []\ntrusted_proxy: [10.0.0.1]\n", 0o600,
			[]string{":2:", `unknown field "trusted_proxy"`, "trusted_proxies"}},
		{"bad hash", "clients:\n  - name: a\n    scopes: [check]\n    tokens:\n      - " + hash + "\n      - sha256:0123\n", 0o600,
			[]string{":6:", "clients[0].tokens[1]", "64 hex digits"}},
		{"raw token", "clients:\n  - name: a\n    scopes: [check]\n    tokens:\n      - " + rawTok + "\n", 0o600,
			[]string{":5:", "raw token"}},
		{"token as a scalar", "clients:\n  - name: a\n    scopes: [check]\n    tokens: " + rawTok + "\n", 0o600,
			[]string{":4:", "expected a list", "found a string"}},
		{"bad scope", "clients:\n  - name: a\n    scopes:\n      - check\n      - audit:write\n    tokens: [" + hash + "]\n", 0o600,
			[]string{":5:", `unknown scope "audit:write"`, "audit:read"}},
		{"shared hash", "clients:\n  - name: a\n    scopes: [check]\n    tokens: [" + hash + "]\n  - name: b\n    scopes: [check]\n    tokens: [" + hash2 + ", " + hash + "]\n", 0o600,
			[]string{":7:", "also a token of clients[0]"}},
		{"duplicate names", "clients:\n  - name: a\n    scopes: [check]\n    tokens: [" + hash + "]\n  - name: a\n    scopes: [check]\n    tokens: [" + hash2 + "]\n", 0o600,
			[]string{":5:", "names must be unique"}},
		{"bad duration", "clients: []\nlockout: soon\n", 0o600, []string{":2:", "duration like 30s"}},
		{"number for a duration", "clients: []\nfailure_window: 60\n", 0o600, []string{":2:", "duration like 30s", "found a number"}},
		{"clients as a mapping", "clients:\n  name: a\n", 0o600, []string{":2:", "list of clients", "found a mapping"}},
		{"bad proxy", "clients: []\ntrusted_proxies:\n  - 10.0.0.0/8\n  - 10.0.0.300\n", 0o600, []string{":4:", "neither an IP"}},
		{"not YAML", "clients: [\n", 0o600, []string{"not valid YAML"}},
		{"empty", "", 0o600, []string{"empty"}},
		{"two documents", "clients: []\n---\nclients: []\n", 0o600, []string{"more than one YAML document"}},
		{"group readable", "clients: []\n", 0o640, []string{"mode 0640", "chmod 600"}},
		{"world readable", "clients: []\n", 0o644, []string{"mode 0644", "chmod 600"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(writeFile(t, tc.content, tc.mode))
			if err == nil {
				t.Fatal("LoadConfig succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), rawTok[:len(TokenPrefix)+3]) {
				t.Errorf("error echoes part of a token:\n%v", err)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := LoadConfig(filepath.Join(t.TempDir(), "nope.yaml"))
		if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
			t.Fatalf("error %v does not name the file", err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		_, err := LoadConfig(writeFile(t, "# "+strings.Repeat("x", MaxConfigFileSize)+"\nclients: []\n", 0o600))
		if err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("got %v, want a size error", err)
		}
	})
	t.Run("private file with no clients", func(t *testing.T) {
		cfg, err := LoadConfig(writeFile(t, "clients: []\n", 0o400))
		if err != nil {
			t.Fatal(err)
		}
		if a := mustNew(t, cfg, nil); a.Enabled() {
			t.Error("Enabled() with no clients")
		}
	})
}

var tokenRE = regexp.MustCompile(`^snt_[A-Za-z0-9_-]{43}$`)

func TestNewToken(t *testing.T) {
	tok, hash := mustToken(t)
	tok2, _ := mustToken(t)
	if !tokenRE.MatchString(tok) {
		t.Errorf("token %q does not match %s", tok, tokenRE)
	}
	if hash != HashToken(tok) || !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(hash) {
		t.Errorf("hash %q is not HashToken(token)", hash)
	}
	if tok == tok2 {
		t.Error("two tokens are equal")
	}
	if err := Weak(tok); err != nil {
		t.Errorf("Weak(NewToken()) = %v", err)
	}
	if got := HashToken("abc"); got != "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashToken(abc) = %s", got)
	}
	if _, _, err := newToken(iotest.ErrReader(errors.New("no entropy"))); err == nil || !strings.Contains(err.Error(), "no entropy") {
		t.Errorf("newToken with a failing reader: %v", err)
	}
}

func TestWeak(t *testing.T) {
	for _, tc := range []struct {
		token string
		want  string // "" for strong
	}{
		{"short-but-random-9fQ2", "at least 32"},
		{strings.Repeat("a", 40), "distinct"},
		{"passwordpasswordpasswordpassword", "distinct"},
		{"abcdefghijabcdefghijabcdefghijabcd", "pattern"},
		{"abcdefghijklmnopqrstuvwxyz0123456789", "consecutive"},
		{strings.Repeat("a", 40) + "x1y2z3w4", "consecutive"},
		{"aaQaaWaaEaaRaaTaaYaaUaaIaaOaaaaa", "variety"},
		{"token with spaces in it 1234567890", "space"},
		{strings.Repeat("Zq9x", 130), "over 512"},
		{"3f9c1a7e5b2d8046c9e1f7a3b5d20846", ""}, // 128 bits as hex
		{"correct-horse-battery-staple-2026-Xq", ""},
	} {
		err := Weak(tc.token)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Weak(%q) = %v, want nil", tc.token, err)
		case tc.want != "" && err == nil:
			t.Errorf("Weak(%q) = nil, want an error about %q", tc.token, tc.want)
		case err != nil && !strings.Contains(err.Error(), tc.want):
			t.Errorf("Weak(%q) = %v, want it to mention %q", tc.token, err, tc.want)
		case err != nil && strings.Contains(err.Error(), tc.token):
			t.Errorf("Weak(%q) echoes the token", tc.token)
		}
	}
	for i := 0; i < 200; i++ {
		tok, _ := mustToken(t)
		if err := Weak(tok); err != nil {
			t.Fatalf("Weak(%q) = %v for a random token", tok, err)
		}
	}
}

// TestConcurrentUpdate runs Authenticate against Update; under -race it
// checks that swapping the snapshot is free of data races, and always that
// every answer matches one of the two configurations.
func TestConcurrentUpdate(t *testing.T) {
	tokA, hashA := mustToken(t)
	tokB, hashB := mustToken(t)
	cfgs := []Config{
		{Clients: []ClientConfig{{Name: "ci", Scopes: []string{"check"}, Tokens: []string{hashA}}}, MaxFailures: 100},
		{Clients: []ClientConfig{{Name: "ci", Scopes: []string{"check"}, Tokens: []string{hashA, hashB}}}, MaxFailures: 100},
	}
	a := mustNew(t, cfgs[0], nil)
	done := make(chan struct{})
	updated := make(chan struct{})
	go func() {
		defer close(updated)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			if err := a.Update(cfgs[i%2]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var readers sync.WaitGroup
	for w := 0; w < 4; w++ {
		readers.Add(1)
		go func(w int) {
			defer readers.Done()
			for i := 0; i < 500; i++ {
				if c, err := a.Authenticate(request(fmt.Sprintf("192.0.2.%d:1", w), "Bearer "+tokA)); err != nil || c.Name != "ci" {
					t.Errorf("token A, present in both configs: %+v, %v", c, err)
					return
				}
				if _, err := a.Authenticate(request(fmt.Sprintf("198.51.100.%d:1", i%200), "Bearer "+tokB)); err != nil {
					var e *Error
					if !errors.As(err, &e) || e.Code != CodeInvalidToken {
						t.Errorf("token B: %v", err)
						return
					}
				}
			}
		}(w)
	}
	readers.Wait()
	close(done)
	<-updated
}

func FuzzAuthenticate(f *testing.F) {
	const tok = "snt_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
	f.Add("Bearer " + tok)
	f.Add("bearer " + tok)
	f.Add("BeArEr " + tok)
	f.Add("Bearer  " + tok)
	f.Add("Bearer " + tok + "\x00")
	f.Add("Bearer " + HashToken(tok))
	f.Add("Basic dXNlcjpwYXNz")
	f.Add("Bearer ")
	f.Add("")
	f.Add("Bearer " + strings.Repeat("A", 600))
	f.Fuzz(func(t *testing.T, header string) {
		a, err := New(Config{Clients: []ClientConfig{{Name: "k", Scopes: []string{"check"}, Tokens: []string{HashToken(tok)}}}})
		if err != nil {
			t.Fatal(err)
		}
		r := request("192.0.2.1:1", "")
		r.Header["Authorization"] = []string{header}
		c, err := a.Authenticate(r)
		if err == nil {
			if len(header) <= len(bearer) || !strings.EqualFold(header[:len(bearer)], bearer) || HashToken(header[len(bearer):]) != HashToken(tok) {
				t.Fatalf("authenticated %q as %+v, but its token is not configured", header, c)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || (e.Code != CodeInvalidToken && e.Code != CodeMissingToken) {
			t.Fatalf("header %q: unexpected error %#v", header, err)
		}
		if c.Name != "" {
			t.Fatalf("refused %q but returned client %+v", header, c)
		}
		if len(header) > len(bearer)+8 && strings.Contains(e.Message, header[len(bearer):]) {
			t.Fatalf("message %q echoes the token", e.Message)
		}
	})
}

func TestProblemsAreBounded(t *testing.T) {
	_, hash := mustToken(t)
	var cfg Config
	var file strings.Builder
	file.WriteString("clients:\n")
	for i := 0; i < 500; i++ {
		cfg.Clients = append(cfg.Clients, ClientConfig{Name: fmt.Sprint("c", i), Scopes: []string{"nope"}, Tokens: []string{hash}})
		fmt.Fprintf(&file, "  - name: c%d\n    bogus: 1\n", i)
	}
	_, err := New(cfg)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != maxProblems+1 || !strings.Contains(ps[maxProblems].Message, "not shown") {
		t.Errorf("New: %d problems, want %d and a note", len(ps), maxProblems+1)
	}
	_, err = ParseConfig("clients.yaml", []byte(file.String()))
	if !errors.As(err, &ps) || len(ps) != maxProblems+1 || !strings.Contains(ps[maxProblems].Message, "not shown") {
		t.Errorf("ParseConfig: %d problems, want %d and a note", len(ps), maxProblems+1)
	}
}
