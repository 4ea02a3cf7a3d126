// Package server is Sentinel as a service: the HTTP API (v1 and the
// seed's endpoints) over the kernel, the audit log and the approvals, with
// scoped token auth, Prometheus metrics and structured logs.
//
// Every route is declared once in the table that routes() returns, with
// the scope it needs; the table is what the mux serves, what the tests walk
// to prove that only /health and /ready are open, and what is checked
// against api/openapi.yaml.
package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-agent/sentinel/internal/approval"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/auth"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/evaluator"
	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/memory"
	"github.com/sentinel-agent/sentinel/internal/pipeline"
)

// Options configure a Server.
type Options struct {
	// Kernel decides calls. It should record into Log (kernel.Options.
	// Recorder) and keep the last good policy on a failed reload.
	Kernel *kernel.Kernel
	// Log is the audit log outcome and session events go to; Store is
	// what audit queries and verification read. Without them the audit
	// routes answer 503 and outcomes cannot be recorded.
	Log   *audit.Log
	Store audit.Store
	// Keys verify the audit chain's checkpoints.
	Keys []ed25519.PublicKey
	// Approvals turns confirm decisions into pending approvals; nil leaves
	// confirm as the host's own question.
	Approvals *approval.Service
	// Critical says which confirm decisions need two approvers (default:
	// risk score ≥ 8, or an irreversible high-impact effect).
	Critical func(decision.Decision) bool
	// Auth authenticates requests; nil or one without clients means no
	// authentication (only for loopback; the command refuses otherwise).
	Auth *auth.Authenticator
	// Policy holds the policy text for the policy routes and reloads the
	// kernel; required.
	Policy *PolicyHolder
	// Registry receives the metrics and serves /metrics.
	Registry *prometheus.Registry
	// Logger gets one line per request; default slog.Default().
	Logger *slog.Logger
	// MaxBody bounds request bodies (default 1 MiB).
	MaxBody int64
	// MaxWait bounds a long-poll (default 60 s).
	MaxWait time.Duration
	// Version is reported by /health and build_info.
	Version string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Pipeline snapshots the files a call may change when it is decided
	// and verifies (and rolls back) when its outcome is reported; nil
	// leaves both out.
	Pipeline *pipeline.Pipeline
	// Memory is the agents' memory behind /v1/memory and the seed's
	// /memory routes; nil answers 501.
	Memory *memory.Memory
	// Evaluator keeps the quality profile current from the events the
	// server records (and the kernel's decisions, when its Recorder
	// feeds it); nil gives the server an empty one.
	Evaluator *evaluator.Aggregator
}

// Server serves the API. Create it with New.
type Server struct {
	opts    Options
	k       *kernel.Kernel
	log     *slog.Logger
	m       *metrics
	started time.Time
	handler http.Handler

	readyMu  sync.Mutex
	readyAt  time.Time
	readyErr error

	recentOnce sync.Once
	calls      *recentCalls
}

// New checks the options and builds the handler.
func New(opts Options) (*Server, error) {
	if opts.Kernel == nil {
		return nil, errors.New("server: a kernel is required")
	}
	if opts.Policy == nil {
		return nil, errors.New("server: a policy holder is required")
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 60 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Critical == nil {
		opts.Critical = DefaultCritical
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.Evaluator == nil {
		agg, err := evaluator.NewAggregator(evaluator.Options{})
		if err != nil {
			return nil, err
		}
		opts.Evaluator = agg
	}
	s := &Server{opts: opts, k: opts.Kernel, log: opts.Logger, started: opts.Now()}
	m, err := newMetrics(opts.Registry, s)
	if err != nil {
		return nil, err
	}
	s.m = m
	s.handler = s.mux()
	return s, nil
}

// DefaultCritical: a confirm needs two approvers when its risk score is 8
// or more, or when it is irreversible with the highest impact.
func DefaultCritical(d decision.Decision) bool {
	r := d.Risk
	return r.Score >= 8 || r.Dimensions.Impact >= 3 && r.Dimensions.Reversibility == 0
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// handlerFunc is a route's handler: it writes a success itself and returns
// an error for everything else (an *apiError, or any error, which becomes
// a 500 "internal").
type handlerFunc func(w http.ResponseWriter, r *http.Request, c auth.Client) error

// route is one entry of the route table.
type route struct {
	method  string
	path    string     // ServeMux pattern without the method
	scope   auth.Scope // "" only for public routes
	public  bool
	name    string // operation id, as in api/openapi.yaml
	handler handlerFunc
}

// routes is the route table.
func (s *Server) routes() []route {
	return []route{
		{method: "GET", path: "/health", public: true, name: "health", handler: s.health},
		{method: "GET", path: "/ready", public: true, name: "ready", handler: s.ready},
		{method: "GET", path: "/metrics", scope: auth.ScopeMetrics, name: "metrics", handler: s.metricsHandler},

		{method: "POST", path: "/v1/check", scope: auth.ScopeCheck, name: "check", handler: s.check},
		{method: "POST", path: "/v1/outcome", scope: auth.ScopeCheck, name: "outcome", handler: s.outcome},
		{method: "POST", path: "/v1/sessions/{id}/end", scope: auth.ScopeCheck, name: "endSession", handler: s.endSession},
		{method: "POST", path: "/v1/feedback", scope: auth.ScopeCheck, name: "feedback", handler: s.feedback},
		{method: "POST", path: "/v1/memory", scope: auth.ScopeMemory, name: "memoryWrite", handler: s.memoryWrite},
		{method: "GET", path: "/v1/memory/context", scope: auth.ScopeMemory, name: "memoryContext", handler: s.memoryContext},
		{method: "GET", path: "/v1/memory/search", scope: auth.ScopeMemory, name: "memorySearch", handler: s.memorySearch},
		{method: "DELETE", path: "/v1/memory/{id}", scope: auth.ScopeMemory, name: "memoryForget", handler: s.memoryForget},
		{method: "GET", path: "/v1/profile", scope: auth.ScopeAuditRead, name: "profile", handler: s.profile},
		{method: "GET", path: "/v1/report", scope: auth.ScopeAuditRead, name: "report", handler: s.report},
		{method: "POST", path: "/v1/rollback/{decision_id}", scope: auth.ScopeApprovals, name: "rollback", handler: s.rollback},

		{method: "GET", path: "/v1/approvals", scope: auth.ScopeApprovals, name: "listApprovals", handler: s.listApprovals},
		{method: "GET", path: "/v1/approvals/{id}", scope: auth.ScopeApprovals, name: "getApproval", handler: s.getApproval},
		{method: "GET", path: "/v1/approvals/{id}/wait", scope: auth.ScopeCheck, name: "waitApproval", handler: s.waitApproval},
		{method: "POST", path: "/v1/approvals/{id}/approve", scope: auth.ScopeApprovals, name: "approve", handler: s.approve},
		{method: "POST", path: "/v1/approvals/{id}/deny", scope: auth.ScopeApprovals, name: "deny", handler: s.deny},

		{method: "GET", path: "/v1/audit", scope: auth.ScopeAuditRead, name: "queryAudit", handler: s.queryAudit},
		{method: "GET", path: "/v1/audit/stats", scope: auth.ScopeAuditRead, name: "auditStats", handler: s.auditStats},
		{method: "POST", path: "/v1/audit/verify", scope: auth.ScopeAuditRead, name: "verifyAudit", handler: s.verifyAudit},

		{method: "GET", path: "/v1/policy", scope: auth.ScopeAuditRead, name: "getPolicy", handler: s.getPolicy},
		{method: "PUT", path: "/v1/policy", scope: auth.ScopeAdmin, name: "putPolicy", handler: s.putPolicy},
		{method: "PATCH", path: "/v1/policy", scope: auth.ScopeAdmin, name: "patchPolicy", handler: s.patchPolicy},

		// The seed's endpoints, with the seed's shapes.
		{method: "POST", path: "/pipeline/pre", scope: auth.ScopeCheck, name: "seedPre", handler: s.seedPre},
		{method: "POST", path: "/pipeline/post", scope: auth.ScopeCheck, name: "seedPost", handler: s.seedPost},
		{method: "GET", path: "/pipeline/report", scope: auth.ScopeAuditRead, name: "seedReport", handler: s.report},
		{method: "GET", path: "/pipeline/profile", scope: auth.ScopeAuditRead, name: "seedProfile", handler: s.profile},
		{method: "GET", path: "/guard/schema", scope: auth.ScopeAuditRead, name: "seedGetSchema", handler: s.seedGetSchema},
		{method: "POST", path: "/guard/schema", scope: auth.ScopeAdmin, name: "seedPostSchema", handler: s.seedPostSchema},
		{method: "GET", path: "/audit", scope: auth.ScopeAuditRead, name: "seedAudit", handler: s.seedAudit},
		{method: "POST", path: "/feedback", scope: auth.ScopeCheck, name: "seedFeedback", handler: s.seedFeedback},
		{method: "POST", path: "/session/end", scope: auth.ScopeCheck, name: "seedSessionEnd", handler: s.seedSessionEnd},
		{method: "POST", path: "/memory/preference", scope: auth.ScopeMemory, name: "seedMemoryPreference", handler: s.seedMemoryPreference},
		{method: "POST", path: "/memory/fact", scope: auth.ScopeMemory, name: "seedMemoryFact", handler: s.seedMemoryFact},
		{method: "POST", path: "/memory/rule", scope: auth.ScopeMemory, name: "seedMemoryRule", handler: s.seedMemoryRule},
		{method: "GET", path: "/memory/context", scope: auth.ScopeMemory, name: "seedMemoryContext", handler: s.seedMemoryContext},
	}
}

// mux registers every path once, dispatching on the method itself so that
// a wrong method gets the API's JSON error rather than the mux's text.
func (s *Server) mux() http.Handler {
	mux := http.NewServeMux()
	byPath := map[string][]route{}
	var order []string
	for _, rt := range s.routes() {
		if _, ok := byPath[rt.path]; !ok {
			order = append(order, rt.path)
		}
		byPath[rt.path] = append(byPath[rt.path], rt)
	}
	for _, p := range order {
		rts := byPath[p]
		mux.Handle(p, s.dispatch(p, rts))
	}
	mux.Handle("/", s.wrap("notFound", "", func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "request.not_found", "no route %s %s; see api/openapi.yaml for the API", r.Method, r.URL.Path)
	}))
	return mux
}

func (s *Server) dispatch(path string, rts []route) http.Handler {
	allowed := ""
	handlers := map[string]http.Handler{}
	for _, rt := range rts {
		if allowed != "" {
			allowed += ", "
		}
		allowed += rt.method
		handlers[rt.method] = s.wrap(rt.name, path, s.authorize(rt))
	}
	wrong := s.wrap("methodNotAllowed", path, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allowed)
		return errorf(http.StatusMethodNotAllowed, "request.method_not_allowed", "%s does not take %s; use %s", path, r.Method, allowed)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := handlers[r.Method]; ok {
			h.ServeHTTP(w, r)
			return
		}
		wrong.ServeHTTP(w, r)
	})
}

// anonymous is the client of an unauthenticated server (loopback only).
var anonymous = auth.Client{Name: "anonymous", Scopes: []auth.Scope{auth.ScopeAdmin}}

// authorize authenticates the request (unless the route is public) and
// checks the route's scope.
func (s *Server) authorize(rt route) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if rt.public {
			return rt.handler(w, r, auth.Client{})
		}
		c := anonymous
		if a := s.opts.Auth; a != nil && a.Enabled() {
			var err error
			if c, err = a.Authenticate(r); err != nil {
				s.m.authFailures.WithLabelValues(authCode(err)).Inc()
				return authError(err)
			}
			if err := a.Require(c, rt.scope); err != nil {
				s.m.authFailures.WithLabelValues(authCode(err)).Inc()
				return authError(err)
			}
		}
		setClient(r, c.Name)
		return rt.handler(w, r, c)
	}
}

// requestInfo is what the logging middleware learns from inner layers.
type requestInfo struct {
	client string
}

type infoKey struct{}

func setClient(r *http.Request, name string) {
	if ri, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
		ri.client = name
	}
}

// statusWriter remembers the status code.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// wrap adds the request id, the body limit, panic recovery, error
// rendering, metrics and the log line.
func (s *Server) wrap(name, path string, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		ri := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, ri))
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
		sw := &statusWriter{ResponseWriter: w}
		err := func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					s.log.Error("handler panic", "request_id", id, "route", name, "panic", fmt.Sprint(p))
					err = errorf(http.StatusInternalServerError, "internal", "an internal error occurred (request %s)", id)
				}
			}()
			return h(sw, r)
		}()
		if err != nil {
			s.writeErr(sw, r, id, err)
		}
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		d := time.Since(start)
		s.m.observeHTTP(name, code, d)
		lvl := slog.LevelInfo
		if code >= 500 {
			lvl = slog.LevelError
		}
		// Log lines carry no header, body or query values: tokens and
		// call arguments never reach the log.
		s.log.LogAttrs(r.Context(), lvl, "request", slog.String("request_id", id), slog.String("route", name),
			slog.String("method", r.Method), slog.String("path", path), slog.Int("status", code),
			slog.Duration("duration", d), slog.String("client", ri.client))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}

// health is /health: the process is up.
func (s *Server) health(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	return writeJSON(w, http.StatusOK, map[string]any{
		"ok": true, "uptime": s.opts.Now().Sub(s.started).Seconds(), "version": s.opts.Version,
	})
}

// readyTTL is how long a readiness probe's answer is reused, so that a
// probe flood does not become a store flood.
const readyTTL = 500 * time.Millisecond

// ready is /ready: the store answers and the audit log accepts events.
func (s *Server) ready(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	if err := s.readiness(r.Context()); err != nil {
		return writeJSON(w, http.StatusServiceUnavailable, map[string]any{
			"ready": false, "error": apiErrorBody{Code: "server.not_ready", Message: err.Error()},
		})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"ready": true, "policy_revision": s.k.Revision()})
}

func (s *Server) readiness(ctx context.Context) error {
	s.readyMu.Lock()
	defer s.readyMu.Unlock()
	now := time.Now()
	if !s.readyAt.IsZero() && now.Sub(s.readyAt) < readyTTL {
		return s.readyErr
	}
	s.readyAt, s.readyErr = now, s.probe(ctx)
	return s.readyErr
}

func (s *Server) probe(ctx context.Context) error {
	if s.opts.Store != nil {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := s.opts.Store.Head(ctx); err != nil {
			s.m.storeErrors.WithLabelValues("ready").Inc()
			return fmt.Errorf("the audit store does not answer: %v", err)
		}
	}
	if s.opts.Log != nil {
		if err := s.opts.Log.Err(); err != nil {
			return fmt.Errorf("the audit log cannot write: %v", err)
		}
	}
	return nil
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request, _ auth.Client) error {
	s.m.promHandler.ServeHTTP(w, r)
	return nil
}

// queryInt parses an integer query parameter within [lo, hi].
func queryInt(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errorf(http.StatusBadRequest, "request.invalid_parameter", "query parameter %s=%q: want a whole number from %d to %d", name, v, lo, hi)
	}
	return n, nil
}
