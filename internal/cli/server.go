package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-agent/sentinel/internal/approval"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/auth"
	"github.com/sentinel-agent/sentinel/internal/evaluator"
	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/pipeline"
	"github.com/sentinel-agent/sentinel/internal/policy"
	"github.com/sentinel-agent/sentinel/internal/server"
	"github.com/sentinel-agent/sentinel/internal/sharedpolicy"
	"github.com/sentinel-agent/sentinel/internal/taint"
)

// serverFlags are sentinel server's flags.
type serverFlags struct {
	addr, workspace, policy, clients, token, auditMode, logFormat, approvalTTL, debugAddr *string
	socket, idleExit                                                                      *string
	noApprovals, sharedPolicy, sharedSessions                                             *bool
	store                                                                                 *storeFlags
}

func addServerFlags(f *flagSet) *serverFlags {
	return &serverFlags{
		addr:           f.String("addr", "127.0.0.1:3300", "address to listen on; a non-loopback address needs authentication (--clients or --token)"),
		workspace:      f.String("workspace", "", "workspace directory relative paths resolve against (default: the current directory)"),
		policy:         f.String("policy", "", "policy file, watched and reloaded on change and on SIGHUP (default: the built-in policy)"),
		clients:        f.String("clients", "", "clients file: named clients, hashed tokens, scopes (default: DATA_DIR/clients.yaml when it exists)"),
		token:          f.String("token", "", "single-token mode: one client with every scope ($SENTINEL_TOKEN, or the seed's $AGENTOS_TOKEN)"),
		auditMode:      f.String("audit-mode", "batch", auditModeUsage),
		logFormat:      f.String("log-format", "json", "request log format on stderr: json or text"),
		approvalTTL:    f.String("approval-ttl", "15m", "how long a pending approval waits before it expires (expired means denied)"),
		debugAddr:      f.String("debug-addr", "", "serve Go's pprof profiles on this loopback address (e.g. 127.0.0.1:6060); off by default"),
		socket:         f.String("socket", "", "listen on this Unix socket instead of --addr: mode 0600 in a 0700 directory, so only this user connects and no token is needed"),
		idleExit:       f.String("idle-exit", "", "stop after this long without a request (servers started on demand, such as sentinel-hook --local's)"),
		noApprovals:    f.Bool("no-approvals", "leave confirm decisions to the host's own prompt instead of opening approvals"),
		sharedSessions: f.Bool("shared-sessions", "keep the sessions' taint flags in the store, for replicas on one store: the rule of two sees what a session did on every replica (one store read for a call with an external effect while its session lacks a flag; a store that cannot be read counts as both flags)"),
		sharedPolicy:   f.Bool("shared-policy", "keep the policy in the store, for replicas on one store: the newest stored revision is in force (the policy file follows it), and a change through any replica's API or file is stored and brought in by the others within seconds"),
		store:          addStoreFlags(f),
	}
}

// authConfig builds the authenticator from --clients / --token.
func (sf *serverFlags) authConfig(dataDir string) (auth.Config, string, error) {
	token := *sf.token
	if token == "" {
		token = os.Getenv("SENTINEL_TOKEN")
	}
	if token == "" {
		token = os.Getenv("AGENTOS_TOKEN")
	}
	path := *sf.clients
	if path == "" {
		if p := filepath.Join(dataDir, "clients.yaml"); fileExists(p) {
			path = p
		}
	}
	switch {
	case token != "" && path != "":
		return auth.Config{}, "", fmt.Errorf("both a token and a clients file (%s) are given; use one", path)
	case token != "":
		if err := auth.Weak(token); err != nil {
			return auth.Config{}, "", fmt.Errorf("the token is too weak: %v; make one with \"sentinel token new\"", err)
		}
		return auth.SingleToken(token), "", nil
	case path != "":
		cfg, err := auth.LoadConfig(path)
		return cfg, path, err
	}
	return auth.Config{}, "", nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// isLoopback reports whether addr's host is a loopback address or name.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func runServer(e *env, args []string) int {
	f := newFlags("server")
	sf := addServerFlags(f)
	if _, err := f.parse(args); err == errHelp {
		fmt.Fprintln(e.stdout, "usage: sentinel server [flags]")
		f.usage(e.stdout)
		return ExitOK
	} else if err != nil {
		return fail(e, "server: %v", err)
	}
	// Request logs go through a buffer flushed every 200 ms: one write
	// call per line costs more than the line at thousands of requests a
	// second.
	logOut := newFlushWriter(e.stderr, 200*time.Millisecond)
	defer logOut.Close()
	var handler slog.Handler
	switch *sf.logFormat {
	case "json":
		handler = slog.NewJSONHandler(logOut, nil)
	case "text":
		handler = slog.NewTextHandler(logOut, nil)
	default:
		return fail(e, "server: --log-format %q: use json or text", *sf.logFormat)
	}
	log := slog.New(handler)
	mode, err := parseAuditMode("--audit-mode", *sf.auditMode)
	if err != nil {
		return fail(e, "server: %v", err)
	}
	tuneGC()
	ttl, err := time.ParseDuration(*sf.approvalTTL)
	if err != nil || ttl <= 0 {
		return fail(e, "server: --approval-ttl %q: use a positive duration such as 15m", *sf.approvalTTL)
	}
	dataDir, err := sf.store.dir()
	if err != nil {
		return fail(e, "server: %v", err)
	}
	acfg, clientsPath, err := sf.authConfig(dataDir)
	if err != nil {
		return fail(e, "server: %v", err)
	}
	authn, err := auth.New(acfg)
	if err != nil {
		return fail(e, "server: %v", err)
	}
	var idle time.Duration
	if *sf.idleExit != "" {
		if idle, err = time.ParseDuration(*sf.idleExit); err != nil || idle <= 0 {
			return fail(e, "server: --idle-exit %q: use a positive duration such as 30m", *sf.idleExit)
		}
	}
	if *sf.socket == "" && !authn.Enabled() && !isLoopback(*sf.addr) {
		return fail(e, "server: refusing to listen on %s without authentication: configure clients (--clients, see \"sentinel token new\") or --token, or listen on 127.0.0.1", *sf.addr)
	}

	ctx := e.ctx
	st, err := sf.store.open(ctx, mode == audit.Sync)
	if err != nil {
		return fail(e, "server: the store cannot be opened: %v", err)
	}
	defer st.Close()
	key, err := sf.store.signingKey(true)
	if err != nil {
		return fail(e, "server: %v", err)
	}
	var srvp atomic.Pointer[server.Server]
	// A server's batches commit every 20 ms (or 1,000 events): under load
	// bigger batches cost the writer less per event, and a batch-mode
	// answer never waits for the commit anyway.
	alog, err := audit.Open(ctx, st, audit.Options{Mode: mode, Key: key, Window: 20 * time.Millisecond,
		OnCommit: func(n int, d time.Duration, err error) {
			if s := srvp.Load(); s != nil {
				s.ObserveCommit(n, d, err)
			}
		},
		Alert: func(err error) { log.Error("audit store failing", "error", err.Error()) },
	})
	if err != nil {
		return fail(e, "server: %v", err)
	}
	workspace := *sf.workspace
	if workspace == "" {
		if workspace, err = os.Getwd(); err != nil {
			return fail(e, "server: %v", err)
		}
	}
	p, src, err := readPolicy(*sf.policy)
	if err != nil {
		_ = alog.Close(ctx)
		return fail(e, "server: %v", err)
	}
	home, _ := os.UserHomeDir()
	var tracker *taint.Tracker
	if *sf.sharedSessions {
		ts, ok := st.(taint.Shared)
		if !ok {
			_ = alog.Close(ctx)
			return fail(e, "server: --shared-sessions: the store does not keep session flags")
		}
		var lastWarn atomic.Int64
		tracker = taint.New(taint.Options{Shared: ts, OnSharedError: func(err error) {
			// At most one line every 10 s: a failing store is met on
			// every call.
			if now := time.Now().UnixNano(); now-lastWarn.Load() > int64(10*time.Second) {
				lastWarn.Store(now)
				log.Warn("the shared session flags failed; calls with an external effect ask a human meanwhile", "error", err.Error())
			}
		}})
	}
	k, err := kernel.New(p, kernel.Options{Workspace: workspace, Home: home, CacheSize: 4096, KeepLastGood: true,
		TempDir: os.TempDir(), Recorder: alog, Taint: tracker})
	if err != nil {
		_ = alog.Close(ctx)
		return fail(e, "server: %v", err)
	}
	var svc *approval.Service
	if !*sf.noApprovals {
		ast, ok := st.(approval.Store)
		if !ok {
			_ = alog.Close(ctx)
			return fail(e, "server: the store does not keep approvals; run with --no-approvals")
		}
		svc = approval.New(ast, approval.Options{TTL: ttl})
	}
	holder := server.NewPolicyHolder(k, *sf.policy, src, p)
	if *sf.sharedPolicy {
		ps, ok := st.(sharedpolicy.Store)
		if !ok {
			_ = alog.Close(ctx)
			return fail(e, "server: --shared-policy: the store does not keep policies")
		}
		if err := holder.Share(ctx, ps, time.Now); err != nil {
			_ = alog.Close(ctx)
			return fail(e, "server: --shared-policy: %v", err)
		}
		log.Info("policy shared through the store", "revision", holder.SharedRevision(), "policy", k.Revision())
	}
	reg := prometheus.NewRegistry()
	snaps, err := openSnapshots(sf.store)
	if err != nil {
		_ = alog.Close(ctx)
		return fail(e, "server: the snapshot store cannot be opened: %v", err)
	}
	pipe := pipeline.New(pipeline.Options{Snapshots: snaps, Recorder: alog})
	// The quality profile starts from the last week of the audit log.
	agg, err := evaluator.NewAggregator(evaluator.Options{})
	if err != nil {
		_ = alog.Close(ctx)
		return fail(e, "server: %v", err)
	}
	if evs, err := loadEvaluatorEvents(ctx, st, time.Now().Add(-7*24*time.Hour)); err != nil {
		log.Warn("the quality profile starts empty: reading the audit log failed", "error", err.Error())
	} else {
		for _, ev := range evs {
			_ = agg.Ingest(ev)
		}
	}
	mem, err := openMemory(sf.store, st, "default")
	if err != nil {
		_ = alog.Close(ctx)
		return fail(e, "server: the memory cannot be opened: %v", err)
	}
	srv, err := server.New(server.Options{Kernel: k, Log: alog, Store: st, Keys: []ed25519.PublicKey{key.Public()},
		Approvals: svc, Auth: authn, Policy: holder, Registry: reg, Logger: log, Version: Version, Pipeline: pipe, Evaluator: agg,
		Memory: mem})
	if err != nil {
		_ = alog.Close(ctx)
		return fail(e, "server: %v", err)
	}
	srvp.Store(srv)

	if *sf.debugAddr != "" {
		if !isLoopback(*sf.debugAddr) {
			_ = alog.Close(ctx)
			return fail(e, "server: --debug-addr %s is not a loopback address; profiles are for this machine only", *sf.debugAddr)
		}
		dl, err := net.Listen("tcp", *sf.debugAddr)
		if err != nil {
			_ = alog.Close(ctx)
			return fail(e, "server: --debug-addr: %v", err)
		}
		defer dl.Close()
		dm := http.NewServeMux()
		dm.HandleFunc("/debug/pprof/", pprof.Index)
		dm.HandleFunc("/debug/pprof/profile", pprof.Profile)
		dm.HandleFunc("/debug/pprof/trace", pprof.Trace)
		dm.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		go func() { _ = http.Serve(dl, dm) }()
	}
	var ln net.Listener
	where := "http://"
	if *sf.socket != "" {
		var closeLn func()
		ln, closeLn, err = listenUnix(*sf.socket)
		if err != nil {
			_ = alog.Close(ctx)
			return fail(e, "server: --socket: %v", err)
		}
		defer closeLn()
		where = "unix:"
	} else if ln, err = net.Listen("tcp", *sf.addr); err != nil {
		_ = alog.Close(ctx)
		return fail(e, "server: %v", err)
	}
	api := srv.Handler()
	var idleC <-chan struct{}
	if idle > 0 {
		it := newIdleTracker()
		api = it.wrap(api)
		stopIdle := make(chan struct{})
		defer close(stopIdle)
		idleC = it.after(idle, stopIdle)
	}
	hs := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 90 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(handler, slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(e.stdout, "sentinel server listening on %s%s (policy %s, audit %s in %s mode, auth %s)\n",
		where, ln.Addr(), k.Revision(), storeName(st), *sf.auditMode, authName(authn, *sf.socket != ""))

	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	go holder.Watch(bg, 2*time.Second, log)
	go holder.Follow(bg, 2*time.Second, log)
	if tracker != nil {
		// Sessions that never ended: their flags live a day, as in memory.
		go every(bg, time.Hour, func() {
			if _, err := st.(taint.Shared).PruneSessionFlags(bg, time.Now().Add(-24*time.Hour)); err != nil && bg.Err() == nil {
				log.Warn("pruning shared session flags", "error", err.Error())
			}
		})
	}
	// Each agent's last day against its week before: alerts go to the
	// audit log.
	go watchDrift(bg, st, alog, 10*time.Minute, log)
	if svc != nil {
		// Expired approvals are marked as they are met; this keeps the
		// pending count (and the operators' list) current in between.
		go every(bg, 30*time.Second, func() {
			if _, err := svc.ExpireDue(bg); err != nil && bg.Err() == nil {
				log.Warn("expiring approvals", "error", err.Error())
			}
		})
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-bg.Done():
				return
			case <-hup:
			}
			if ok, err := holder.ReloadFile(); err != nil {
				log.Error("SIGHUP: the policy file was refused; the previous policy stays in force", "error", err.Error())
			} else if ok {
				log.Info("SIGHUP: policy reloaded", "revision", k.Revision())
			}
			if clientsPath != "" {
				if cfg, err := auth.LoadConfig(clientsPath); err != nil {
					log.Error("SIGHUP: the clients file was refused; the previous clients stay", "error", err.Error())
				} else if err := authn.Update(cfg); err != nil {
					log.Error("SIGHUP: the clients file was refused; the previous clients stay", "error", err.Error())
				} else {
					log.Info("SIGHUP: clients reloaded", "clients", len(cfg.Clients))
				}
			}
		}
	}()
	if clientsPath != "" {
		go server.WatchFile(bg, clientsPath, 2*time.Second, func() {
			cfg, err := auth.LoadConfig(clientsPath)
			if err == nil {
				err = authn.Update(cfg)
			}
			if err != nil {
				log.Error("the clients file changed but was refused; the previous clients stay", "error", err.Error())
				return
			}
			log.Info("clients reloaded", "clients", len(cfg.Clients))
		})
	}

	code := ExitOK
	select {
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(e.stderr, "sentinel server: %v\n", err)
			code = ExitError
		}
	case <-ctx.Done():
	case <-idleC:
		log.Info("no request for a while; stopping", "idle_exit", idle.String())
	}
	// Drain: stop accepting, let requests in flight finish, then flush
	// the audit log and sign the shutdown checkpoint.
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		fmt.Fprintf(e.stderr, "sentinel server: shutdown: %v\n", err)
		code = ExitError
	}
	if err := alog.Close(sctx); err != nil {
		fmt.Fprintf(e.stderr, "sentinel server: the audit log did not close cleanly: %v\n", err)
		code = ExitError
	}
	fmt.Fprintln(e.stdout, "sentinel server stopped")
	return code
}

// readPolicy loads the named policy (or the built-in one) with its text.
func readPolicy(path string) (*policy.Policy, []byte, error) {
	if path == "" {
		return policy.Builtin(), policy.BuiltinSource(), nil
	}
	p, err := policy.Load(path)
	if err != nil {
		return nil, nil, err
	}
	src, err := os.ReadFile(path)
	return p, src, err
}

func storeName(st audit.Store) string {
	if n, ok := st.(interface{ Path() string }); ok {
		return "sqlite " + n.Path()
	}
	return "postgres"
}

func authName(a *auth.Authenticator, socket bool) string {
	switch {
	case a.Enabled():
		return "on"
	case socket:
		return "off (owner-only socket)"
	}
	return "off (loopback only)"
}

// tuneGC trades memory for CPU unless the operator set GOGC or GOMEMLIMIT:
// a decision allocates ~28 KB of short-lived garbage, and at the default
// GOGC=100 collection takes a quarter of the server's CPU (measured: 193
// µs of CPU per request at GOGC=100, 148 µs at 400). The memory limit
// keeps the larger heap bounded; near it the collector runs more often.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(512 << 20)
	}
}

// flushWriter buffers writes and flushes them every interval, when the
// buffer is large, and on Close. It is safe for concurrent use.
type flushWriter struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	stop chan struct{}
	done chan struct{}
}

// flushAt is the buffer size that triggers an immediate flush.
const flushAt = 64 << 10

func newFlushWriter(w io.Writer, every time.Duration) *flushWriter {
	f := &flushWriter{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-f.stop:
				return
			case <-t.C:
				f.Flush()
			}
		}
	}()
	return f
}

func (f *flushWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = append(f.buf, p...)
	if len(f.buf) >= flushAt {
		f.flushLocked()
	}
	return len(p), nil
}

// Flush writes out what is buffered.
func (f *flushWriter) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushLocked()
}

func (f *flushWriter) flushLocked() {
	if len(f.buf) > 0 {
		_, _ = f.w.Write(f.buf)
		f.buf = f.buf[:0]
	}
}

// Close stops the flusher and writes out the rest.
func (f *flushWriter) Close() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
		<-f.done
	}
	f.Flush()
}

// every calls fn every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}
