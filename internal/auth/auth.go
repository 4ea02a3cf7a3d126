package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Stable error codes.
const (
	CodeMissingToken   = "auth.missing_token"
	CodeInvalidToken   = "auth.invalid_token"
	CodeForbiddenScope = "auth.forbidden_scope"
	CodeRateLimited    = "auth.rate_limited"
)

// MaxTokenLen is the longest bearer token considered; longer ones are
// refused before hashing.
const MaxTokenLen = 512

// Error is a refusal: Code is stable, Message is safe to show the client
// (it never contains a token), Status is the HTTP status to answer with and
// RetryAfter is set for auth.rate_limited.
type Error struct {
	Code       string
	Message    string
	Status     int
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func invalidToken(msg string) *Error {
	return &Error{Code: CodeInvalidToken, Message: msg, Status: http.StatusUnauthorized}
}

// missingToken is a fresh value each time: callers may hold or change it.
func missingToken() *Error {
	return &Error{
		Code:    CodeMissingToken,
		Message: `this endpoint needs an "Authorization: Bearer <token>" header`,
		Status:  http.StatusUnauthorized,
	}
}

// Authenticator checks bearer tokens. It is safe for concurrent use.
type Authenticator struct {
	snap atomic.Pointer[snapshot]
	lim  *limiter
	now  func() time.Time
}

// Option configures an Authenticator.
type Option func(*Authenticator)

// WithClock makes the authenticator read time from now (tests use a fake
// clock to drive the failure limiter).
func WithClock(now func() time.Time) Option {
	return func(a *Authenticator) {
		if now != nil {
			a.now = now
		}
	}
}

// New validates cfg and returns an authenticator for it.
func New(cfg Config, opts ...Option) (*Authenticator, error) {
	s, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	a := &Authenticator{now: time.Now}
	for _, o := range opts {
		o(a)
	}
	a.lim = newLimiter(a.now())
	a.snap.Store(s)
	return a, nil
}

// Update replaces the configuration atomically. An invalid cfg is refused
// and the current one stays. Failure counters and lockouts carry over.
func (a *Authenticator) Update(cfg Config) error {
	s, err := compile(cfg)
	if err != nil {
		return err
	}
	a.snap.Store(s)
	return nil
}

// Enabled reports whether any client is configured. With none, every
// request fails to authenticate; the caller decides whether to ask at all.
func (a *Authenticator) Enabled() bool {
	return len(a.snap.Load().byHash) > 0
}

// ClientIP returns the address the request came from: the connection's
// peer, or, when that peer is a trusted proxy, the first untrusted address
// in X-Forwarded-For counted from the right.
func (a *Authenticator) ClientIP(r *http.Request) string {
	return clientAddr(a.snap.Load().proxies, r).String()
}

// Authenticate returns the client whose token the request carries. Every
// refusal is an *Error. An address that failed too often recently is
// refused with auth.rate_limited even when its token is valid.
func (a *Authenticator) Authenticate(r *http.Request) (Client, error) {
	if r == nil {
		return Client{}, missingToken()
	}
	s := a.snap.Load()
	key := clientAddr(s.proxies, r).limitKey()
	now := a.now()
	if wait := a.lim.retryAfter(key, now); wait > 0 {
		return Client{}, &Error{
			Code:       CodeRateLimited,
			Message:    fmt.Sprintf("too many failed authentication attempts from this address; retry in %ds", int64((wait+time.Second-1)/time.Second)),
			Status:     http.StatusTooManyRequests,
			RetryAfter: wait,
		}
	}
	c, e := s.lookup(r.Header.Values("Authorization"))
	if e != nil {
		// A missing header is a misconfigured client, not a guess at a
		// secret. Success deliberately leaves the counter alone: a holder
		// of one valid token must not be able to reset it between guesses
		// at others.
		if e.Code == CodeInvalidToken {
			a.lim.fail(key, now, s.limits)
		}
		return Client{}, e
	}
	return c, nil
}

// Require returns nil when c holds s and an auth.forbidden_scope *Error
// naming the scope otherwise.
func (a *Authenticator) Require(c Client, s Scope) error {
	if c.Has(s) {
		return nil
	}
	return &Error{
		Code:    CodeForbiddenScope,
		Message: fmt.Sprintf("client %s lacks the %s scope", quoteShort(c.Name), quoteShort(string(s))),
		Status:  http.StatusForbidden,
	}
}

const bearer = "Bearer "

func (s *snapshot) lookup(vals []string) (Client, *Error) {
	switch {
	case len(vals) == 0 || len(vals) == 1 && vals[0] == "":
		return Client{}, missingToken()
	case len(vals) > 1:
		return Client{}, invalidToken("send one Authorization header, not several")
	}
	v := vals[0]
	if len(v) <= len(bearer) || !strings.EqualFold(v[:len(bearer)], bearer) {
		return Client{}, invalidToken(`the Authorization header must be "Bearer <token>"`)
	}
	tok := v[len(bearer):]
	if len(tok) > MaxTokenLen || !visibleASCII(tok) {
		return Client{}, invalidToken("the bearer token is malformed")
	}
	sum := sha256.Sum256([]byte(tok))
	e := s.byHash[sum]
	// The map finds the candidate; the constant-time comparison is what
	// accepts it, so that acceptance never depends on an early-exit compare.
	if e == nil || subtle.ConstantTimeCompare(e.hash[:], sum[:]) != 1 {
		return Client{}, invalidToken("the bearer token is not valid")
	}
	return Client{Name: e.client.Name, Scopes: slices.Clone(e.client.Scopes)}, nil
}

// visibleASCII reports whether s is made of printable, non-space ASCII: no
// token Sentinel issues has anything else, and a space here means a
// malformed header.
func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
