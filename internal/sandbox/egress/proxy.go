package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"
)

// Resolver looks names up; *net.Resolver is one.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

var _ Resolver = (*net.Resolver)(nil)

// Defaults for Options left zero.
const (
	DefaultDialTimeout = 10 * time.Second
	DefaultIdleTimeout = 5 * time.Minute
	DefaultMaxConns    = 64
)

// Fixed bounds.
const (
	// headerTimeout bounds how long a client may take to send a request head.
	headerTimeout = 10 * time.Second
	// writeTimeout bounds writing a refusal to a client that does not read.
	writeTimeout = 10 * time.Second
	// lingerTimeout and lingerBytes bound draining a refused client's
	// unread bytes, so that closing does not reset the connection before
	// the client has read the answer.
	lingerTimeout = time.Second
	lingerBytes   = 256 << 10
	maxMaxConns   = 1 << 16
)

// Options configure a Proxy. The zero value refuses everything.
type Options struct {
	// Allow lists what the sandbox may reach; nothing else is reachable.
	Allow []Rule
	// AllowPrivate lets allowed destinations be loopback, private,
	// link-local, CGNAT, unspecified, multicast or reserved addresses.
	// Cloud metadata addresses stay refused unless the rule that matches
	// names the address itself as an IP literal; metadata host names
	// (metadata.google.internal, …) are refused always.
	AllowPrivate bool
	// Log is called once for every attempt, allowed or not: refusals when
	// they are answered, allowed ones when they end, with byte counts.
	// Calls are serialised; a slow Log slows the proxy.
	Log func(Attempt)
	// DialTimeout bounds resolving a name and connecting to it (default 10 s).
	DialTimeout time.Duration
	// IdleTimeout ends a tunnel or a plain request when no byte has moved
	// either way for this long (default 5 minutes).
	IdleTimeout time.Duration
	// Resolver looks names up on the proxy's side (default
	// net.DefaultResolver). It is asked for fully qualified names, with
	// their trailing dot ("api.github.com."), so no search list applies.
	Resolver Resolver
	// MaxConns bounds the connections served at once; each carries one
	// request or one tunnel (default 64). Beyond it, clients get 503.
	MaxConns int
}

// Attempt is one request, as Options.Log sees it.
type Attempt struct {
	// Time is when the request arrived; Duration is how long it lasted.
	Time     time.Time
	Duration time.Duration
	// Method is CONNECT, GET, …; empty when the request was unreadable.
	Method string
	// Host and Port are the destination asked for (Host is normalised:
	// lower case, an address in its canonical form).
	Host string
	Port int
	// IPs are the addresses the host resolved to (all of them were checked).
	IPs []string
	// Allowed is true when the destination was reached.
	Allowed bool
	// Code is CodeAllowed or the refusal's code; Reason says why.
	Code   string
	Reason string
	// BytesUp went from the sandbox to the destination, BytesDown back.
	BytesUp, BytesDown int64
}

// ErrClosed is returned by Serve once the proxy is closed.
var ErrClosed = errors.New("egress: proxy closed")

// Proxy is the egress proxy. Its methods are safe for concurrent use.
type Proxy struct {
	allow        []rule
	allowPrivate bool
	log          func(Attempt)
	logMu        sync.Mutex
	resolver     Resolver
	dialTimeout  time.Duration
	idleTimeout  time.Duration
	// headerTimeout is a field so that tests can shorten it.
	headerTimeout time.Duration
	// dial opens connections to checked addresses; tests observe it.
	dial func(ctx context.Context, network, address string) (net.Conn, error)

	// slots admits MaxConns connections; spare lets as many more be told
	// 503 before the rest are simply closed.
	slots chan struct{}
	spare chan struct{}

	ctx    context.Context // cancelled by Close, ends lookups and dials
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup
}

// New checks the options and prepares a proxy. Every problem with them is
// reported at once.
func New(opts Options) (*Proxy, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("egress: "+format, args...))
	}
	if len(opts.Allow) > maxRules {
		bad("%d allow rules, at most %d", len(opts.Allow), maxRules)
		opts.Allow = nil
	}
	p := &Proxy{
		allowPrivate:  opts.AllowPrivate,
		log:           opts.Log,
		resolver:      opts.Resolver,
		dialTimeout:   opts.DialTimeout,
		idleTimeout:   opts.IdleTimeout,
		headerTimeout: headerTimeout,
		listeners:     map[net.Listener]struct{}{},
		conns:         map[net.Conn]struct{}{},
	}
	for i, r := range opts.Allow {
		c, err := compileRule(r)
		if err != nil {
			bad("allow[%d] %q: %w: %s", i, truncate(r.String(), 80), ErrBadRule, err.Error())
			continue
		}
		p.allow = append(p.allow, c)
	}
	if opts.DialTimeout < 0 {
		bad("DialTimeout %s is negative; leave it 0 for %s", opts.DialTimeout, DefaultDialTimeout)
	}
	if opts.IdleTimeout < 0 {
		bad("IdleTimeout %s is negative; leave it 0 for %s", opts.IdleTimeout, DefaultIdleTimeout)
	}
	if opts.MaxConns < 0 || opts.MaxConns > maxMaxConns {
		bad("MaxConns %d is not in 0-%d (0 means %d)", opts.MaxConns, maxMaxConns, DefaultMaxConns)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	p.defaults(opts.MaxConns)
	return p, nil
}

// defaults fills in what the options left zero.
func (p *Proxy) defaults(maxConns int) {
	if p.resolver == nil {
		p.resolver = net.DefaultResolver
	}
	if p.dialTimeout == 0 {
		p.dialTimeout = DefaultDialTimeout
	}
	if p.idleTimeout == 0 {
		p.idleTimeout = DefaultIdleTimeout
	}
	if maxConns == 0 {
		maxConns = DefaultMaxConns
	}
	if p.log == nil {
		p.log = func(Attempt) {}
	}
	p.slots = make(chan struct{}, maxConns)
	p.spare = make(chan struct{}, maxConns)
	p.dial = (&net.Dialer{}).DialContext
	p.ctx, p.cancel = context.WithCancel(context.Background())
}

// Serve accepts connections on ln until Close (then it returns ErrClosed)
// or until ln fails. It may be called for several listeners; Close closes
// them all.
func (p *Proxy) Serve(ln net.Listener) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = ln.Close()
		return ErrClosed
	}
	p.listeners[ln] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.listeners, ln)
		p.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if p.isClosed() {
				return ErrClosed
			}
			if !retryable(err) {
				return fmt.Errorf("egress: accept: %w", err)
			}
			// Out of descriptors or memory: wait for connections to end.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
			case <-p.ctx.Done():
				return ErrClosed
			}
			continue
		}
		backoff = 0
		p.admit(c)
	}
}

// retryable tells the accept errors that pass with time.
func retryable(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// admit starts serving c if a slot is free, refuses it with 503 if a spare
// one is, and otherwise closes it unanswered.
func (p *Proxy) admit(c net.Conn) {
	var slot chan struct{}
	select {
	case p.slots <- struct{}{}:
		slot = p.slots
	default:
		select {
		case p.spare <- struct{}{}:
			slot = p.spare
		default:
			_ = c.Close()
			return
		}
	}
	// The Add happens under the lock that Close takes before it waits,
	// so that Wait never races an Add.
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-slot
		_ = c.Close()
		return
	}
	p.conns[c] = struct{}{}
	p.wg.Add(1)
	p.mu.Unlock()
	go p.serveConn(c, slot)
}

// track registers a connection for Close; it refuses once closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Close stops serving: it closes the listeners, ends every open tunnel and
// request, and returns once their attempts are logged.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.cancel()
		for ln := range p.listeners {
			_ = ln.Close()
		}
		for c := range p.conns {
			_ = c.Close()
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

func (p *Proxy) logAttempt(a Attempt) {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	p.log(a)
}
