package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// config is a validated command line.
type config struct {
	URL        string
	Token      string
	Duration   time.Duration // the measured part, after the warmup
	Warmup     time.Duration
	Rate       int // requests/s over all workers; 0 = closed loop
	Conns      int
	PID        int // 0 = no server process to watch
	Timeout    time.Duration
	Client     string // clientRaw or clientNetHTTP
	Bodies     string // file name; "" = the built-in mix
	JSONOut    string
	CPUProfile string
	Args       []string // the command line as recorded in the result

	sampleEvery time.Duration // RSS sampling interval; 1 s unless a test says otherwise
}

const (
	maxResponse  = 1 << 20
	maxErrorLogs = 5
	errBodyShown = 512
	// lateAfter is how far behind its schedule a send may start before it
	// counts as late.
	lateAfter = time.Millisecond
	// sendGrace is how long after the end an open-loop worker may still
	// send requests scheduled inside the run; what is left is missed.
	sendGrace = time.Second
	// unreachablePause is how long a closed-loop worker waits after a
	// request that got no response.
	unreachablePause = 10 * time.Millisecond
	dialTimeout      = 5 * time.Second
	userAgent        = "sentinel-load"
)

// The HTTP clients -client chooses from.
const (
	clientRaw     = "raw"
	clientNetHTTP = "nethttp"
)

// client is one worker's connection to the server. roundTrip sends the
// request for body i and returns the status and the response body, which
// is valid until the next call; an error means no usable response came
// back. Neither method may be called concurrently.
type client interface {
	roundTrip(i int) (status int, body []byte, err error)
	close()
}

// actionNames are the decisions counted by name, in report order; any
// other action string is counted as "other".
var actionNames = [...]string{"allow", "notify", "confirm", "deny", "other"}

// counters are one phase's figures (warmup or measured) for a shard of
// workers. Workers share shards so that thousands of connections do not
// cost thousands of histograms.
type counters struct {
	hist      histogram // latency of successful requests, from the scheduled send
	svc       histogram // the same from the actual send; open loop only
	sent      atomic.Uint64
	ok        atomic.Uint64
	late      atomic.Uint64
	transport atomic.Uint64 // no complete HTTP response
	noAction  atomic.Uint64 // 200 without a usable "action"
	status    [600]atomic.Uint64
	badStatus atomic.Uint64 // a status code outside 0..599
	actions   [len(actionNames)]atomic.Uint64
}

type shard struct {
	phase [2]counters // warmup, measured
}

const (
	warmup = iota
	measured
)

// failure is one failed request kept for the report.
type failure struct {
	Kind   string `json:"kind"` // transport, status, no_action
	Status int    `json:"status,omitempty"`
	Detail string `json:"detail"`
}

// errorLog keeps the first few failures; after that adding is one atomic
// load.
type errorLog struct {
	n  atomic.Int32
	mu sync.Mutex
	l  []failure
}

func (e *errorLog) add(kind string, status int, prefix string, detail []byte) {
	if e.n.Load() >= maxErrorLogs {
		return
	}
	d := prefix + string(detail[:min(len(detail), errBodyShown)])
	if len(detail) > errBodyShown {
		d += "…"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.l) < maxErrorLogs {
		e.l = append(e.l, failure{Kind: kind, Status: status, Detail: d})
		e.n.Store(int32(len(e.l)))
	}
}

func (e *errorLog) list() []failure {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]failure(nil), e.l...)
}

// startError is a run that could not begin: the server is unreachable or
// refuses the requests, or the process to watch cannot be read.
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// runner holds what the workers share.
type runner struct {
	cfg    config
	bodies [][]byte
	url    string
	shards []*shard
	errs   errorLog

	// -client nethttp
	tr     *http.Transport
	header http.Header
	// -client raw
	addr string   // host:port to dial
	reqs [][]byte // the complete request for each body

	next     atomic.Uint64 // the next ticket: body index and, in open loop, schedule slot
	stopped  atomic.Bool
	stopCh   chan struct{}
	stopTime atomic.Int64 // nanoseconds after start

	start, warmEnd, end time.Time
}

func (r *runner) stop() {
	if r.stopped.CompareAndSwap(false, true) {
		r.stopTime.Store(int64(time.Since(r.start)))
		close(r.stopCh)
	}
}

// run drives the server and returns the figures. A non-nil error means
// the run could not start (a *startError); failures of single requests
// are counted in the result. Cancelling ctx ends the run early; requests
// in flight still complete and count.
func run(ctx context.Context, cfg config, bodies [][]byte) (*result, error) {
	if len(bodies) == 0 {
		return nil, &startError{errors.New("no request bodies")}
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, &startError{fmt.Errorf("-url: %w", err)}
	}
	if cfg.sampleEvery <= 0 {
		cfg.sampleEvery = time.Second
	}
	r := &runner{
		cfg:    cfg,
		bodies: bodies,
		url:    u.String(),
		stopCh: make(chan struct{}),
	}
	switch cfg.Client {
	case clientRaw:
		if r.addr, r.reqs, err = buildRawRequests(u, cfg.Token, bodies); err != nil {
			return nil, &startError{err}
		}
	case clientNetHTTP:
		r.header = newHeader(cfg.Token)
		r.tr = newTransport(cfg)
		defer r.tr.CloseIdleConnections()
	default:
		return nil, &startError{fmt.Errorf("-client %q: want %s or %s", cfg.Client, clientRaw, clientNetHTTP)}
	}

	if err := r.preflight(ctx); err != nil {
		return nil, &startError{err}
	}
	if cfg.PID > 0 {
		if err := checkPID(cfg.PID); err != nil {
			return nil, &startError{err}
		}
	}

	nShards := min(cfg.Conns, 2*runtime.GOMAXPROCS(0))
	r.shards = make([]*shard, nShards)
	for i := range r.shards {
		r.shards[i] = new(shard)
	}
	res := newResult(cfg, len(bodies))
	var before uint64
	if cfg.PID > 0 {
		before, _ = readRSS(cfg.PID)
	}

	r.start = time.Now()
	r.warmEnd = r.start.Add(cfg.Warmup)
	r.end = r.warmEnd.Add(cfg.Duration)

	// An interrupt stops new sends.
	watchDone := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			r.stop()
		case <-watchDone:
		}
	}()
	// Open-loop workers give up on a backlog they cannot send in time.
	endTimer := time.AfterFunc(time.Until(r.end.Add(sendGrace)), r.stop)

	m := r.startMeasuring()

	var wg sync.WaitGroup
	for w := range cfg.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.worker(r.shards[w%nShards])
		}()
	}
	wg.Wait()
	finished := time.Now()
	endTimer.Stop()
	close(watchDone)
	interrupted := ctx.Err() != nil
	r.stop()
	m.finish(finished)

	res.Started, res.Finished = r.start, finished
	res.Interrupted = interrupted
	measuredEnd := r.end
	if interrupted {
		if at := r.start.Add(time.Duration(r.stopTime.Load())); at.Before(measuredEnd) {
			measuredEnd = at
		}
	}
	r.fill(res, measuredEnd.Sub(r.warmEnd))
	if cfg.Rate > 0 {
		// After an interrupt, only sends due a grace period before it
		// count as missed: the others were cut off, not left behind.
		due := measuredEnd.Sub(r.start)
		if interrupted {
			due -= sendGrace
		}
		res.Scheduled = ticketsBetween(cfg.Warmup, max(due, cfg.Warmup), cfg.Rate)
		res.Missed = res.Scheduled - min(res.Scheduled, res.Requests)
	}
	m.report(res, before)
	res.judge()
	return res, nil
}

// measurement is what is taken at the end of the warmup and compared at
// the end: CPU times and the server's RSS.
type measurement struct {
	r       *runner
	done    chan struct{}
	sampler *rssSampler
	sampled chan struct{}
	taken   bool
	user0   time.Duration
	sys0    time.Duration
	srv0    time.Duration
	srvErr  error
	srv1    time.Duration
	wall    time.Duration
	user1   time.Duration
	sys1    time.Duration
}

func (r *runner) startMeasuring() *measurement {
	m := &measurement{r: r, done: make(chan struct{}), sampled: make(chan struct{})}
	if r.cfg.PID > 0 {
		m.sampler = &rssSampler{pid: r.cfg.PID, every: r.cfg.sampleEvery}
	}
	go func() {
		defer close(m.done)
		t := time.NewTimer(time.Until(r.warmEnd))
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.stopCh:
			close(m.sampled)
			return
		}
		m.taken = true
		m.user0, m.sys0 = selfCPU()
		if m.sampler == nil {
			close(m.sampled)
			return
		}
		m.srv0, m.srvErr = procCPU(r.cfg.PID)
		// Sampling ends at the end of the run, or earlier on an interrupt.
		stop := make(chan struct{})
		go func() {
			t := time.NewTimer(time.Until(r.end))
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.stopCh:
			}
			close(stop)
		}()
		go func() {
			defer close(m.sampled)
			m.sampler.run(stop)
		}()
	}()
	return m
}

// finish takes the closing figures once the workers are done.
func (m *measurement) finish(at time.Time) {
	<-m.done
	if !m.taken {
		return
	}
	m.wall = at.Sub(m.r.warmEnd)
	m.user1, m.sys1 = selfCPU()
	if m.sampler != nil && m.srvErr == nil {
		m.srv1, m.srvErr = procCPU(m.r.cfg.PID)
	}
	<-m.sampled
}

func (m *measurement) report(res *result, rssBefore uint64) {
	if !m.taken || m.wall <= 0 {
		return
	}
	c := cpuUse(m.user1-m.user0, m.sys1-m.sys0, m.wall, res.Requests)
	res.ClientCPU = &c
	if m.sampler == nil {
		return
	}
	srv := &serverFigures{PID: m.r.cfg.PID, RSSBeforeKB: rssBefore}
	if m.srvErr != nil {
		srv.Errors = append(srv.Errors, "CPU time: "+m.srvErr.Error())
	} else {
		c := cpuUse(m.srv1-m.srv0, 0, m.wall, res.Requests)
		srv.CPU = &c
	}
	samples, err := m.sampler.result()
	if err != nil {
		srv.Errors = append(srv.Errors, err.Error())
	}
	srv.setRSS(samples)
	res.Server = srv
}

// ticketsBetween counts the open-loop sends scheduled in [from, to).
func ticketsBetween(from, to time.Duration, rate int) uint64 {
	return firstTicketAt(to, rate) - firstTicketAt(from, rate)
}

// firstTicketAt is the first ticket whose scheduled offset is ≥ at.
func firstTicketAt(at time.Duration, rate int) uint64 {
	if at <= 0 {
		return 0
	}
	// offset(i) = i·1e9/rate, rounded down; start from the estimate and
	// step to the exact boundary.
	i := uint64(at) * uint64(rate) / uint64(time.Second)
	for i > 0 && offset(i-1, rate) >= at {
		i--
	}
	for offset(i, rate) < at {
		i++
	}
	return i
}

func offset(ticket uint64, rate int) time.Duration {
	return time.Duration(ticket * uint64(time.Second) / uint64(rate))
}

// worker sends requests one after another on its own connection until the
// run ends.
func (r *runner) worker(sh *shard) {
	// Every request ends by this deadline, even one whose server stalls in
	// the middle of a response body. One context per worker: the transport
	// registers each request with its parent context, and a shared parent
	// would be one more lock for all workers to take.
	ctx, cancel := context.WithDeadline(context.Background(), r.end.Add(sendGrace+r.cfg.Timeout))
	defer cancel()
	c := r.newClient(ctx)
	defer c.close()
	total := r.cfg.Warmup + r.cfg.Duration
	var timer *time.Timer
	for !r.stopped.Load() {
		t := r.next.Add(1) - 1
		body := int(t % uint64(len(r.bodies)))
		var intended time.Time
		if r.cfg.Rate > 0 {
			off := offset(t, r.cfg.Rate)
			if off >= total {
				return
			}
			intended = r.start.Add(off)
			if d := time.Until(intended); d > 0 {
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				select {
				case <-timer.C:
				case <-r.stopCh:
					return
				}
			}
		}
		sent := time.Now()
		if r.cfg.Rate == 0 {
			if !sent.Before(r.end) {
				return
			}
			intended = sent
		}
		phase := warmup
		if !intended.Before(r.warmEnd) {
			phase = measured
		}
		k := &sh.phase[phase]
		k.sent.Add(1)
		if sent.Sub(intended) > lateAfter {
			k.late.Add(1)
		}
		ok, reached := r.exchange(c, k, body)
		if ok {
			done := time.Now()
			k.hist.record(done.Sub(intended))
			if r.cfg.Rate > 0 {
				k.svc.record(done.Sub(sent))
			}
		}
		if !reached && r.cfg.Rate == 0 {
			// A server that went away fails the run already; retrying
			// at once would only spin on refused connections.
			time.Sleep(unreachablePause)
		}
	}
}

// exchange sends body i and counts the outcome; it reports whether the
// request succeeded and whether any response came back.
func (r *runner) exchange(c client, k *counters, body int) (ok, reached bool) {
	status, resp, err := c.roundTrip(body)
	switch {
	case err != nil:
		k.transport.Add(1)
		r.errs.add("transport", 0, err.Error(), nil)
		return false, false
	case status < 0 || status >= len(k.status):
		k.badStatus.Add(1)
		r.errs.add("status", status, "", resp)
		return false, true
	}
	k.status[status].Add(1)
	if status != http.StatusOK {
		r.errs.add("status", status, "", resp)
		return false, true
	}
	a, problem := actionOf(resp)
	if problem != "" {
		k.noAction.Add(1)
		r.errs.add("no_action", status, problem+": ", resp)
		return false, true
	}
	k.actions[a].Add(1)
	k.ok.Add(1)
	return true, true
}

// preflight sends one request before the run so that a server that is
// down or refuses the token stops the tool with a clear message instead
// of a run full of errors.
func (r *runner) preflight(ctx context.Context) error {
	// A timer rather than a deadline: cancelling the context of a request
	// whose response is already read can make the transport drop the
	// connection instead of keeping it for the run.
	ctx, cancel := context.WithCancel(ctx)
	t := time.AfterFunc(r.cfg.Timeout, cancel)
	defer t.Stop()
	c := r.newClient(ctx)
	defer c.close()
	status, resp, err := c.roundTrip(0)
	var pe *protocolError
	switch {
	case errors.As(err, &pe):
		return fmt.Errorf("%s answered the first request with a response -client raw cannot read: %w", r.url, err)
	case err != nil:
		return fmt.Errorf("cannot reach %s: %w (is the server running and listening there?)", r.url, err)
	}
	shown := resp
	if len(shown) > errBodyShown {
		shown = shown[:errBodyShown]
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%s refused the request with HTTP %d: check -token (or $SENTINEL_TOKEN): %s", r.url, status, shown)
	case status != http.StatusOK:
		return fmt.Errorf("%s answered the first request with HTTP %d, want 200: %s", r.url, status, shown)
	}
	if _, problem := actionOf(resp); problem != "" {
		return fmt.Errorf("%s answered the first request with 200 but %s: %s", r.url, problem, shown)
	}
	return nil
}

// newClient opens nothing yet: a client connects on its first request. ctx
// bounds every request it sends.
func (r *runner) newClient(ctx context.Context) client {
	if r.cfg.Client == clientRaw {
		return newRawConn(ctx, r.addr, r.reqs, r.cfg.Timeout)
	}
	return newHTTPConn(ctx, r)
}
