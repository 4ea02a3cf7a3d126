package server

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sentinel-agent/sentinel/internal/decision"
)

// metrics are the server's Prometheus collectors, all registered on the
// injected registry (never the global one), so that several servers can
// live in one process (tests, replicas).
type metrics struct {
	decisions     *prometheus.CounterVec
	decisionTime  prometheus.Histogram
	httpRequests  *prometheus.CounterVec
	httpTime      *prometheus.HistogramVec
	authFailures  *prometheus.CounterVec
	storeErrors   *prometheus.CounterVec
	outcomes      *prometheus.CounterVec
	policyReloads *prometheus.CounterVec
	auditCommit   prometheus.Histogram
	promHandler   http.Handler
}

// Buckets from 10 µs to ~2.6 s: decisions take tens of microseconds, HTTP
// requests and store commits up to seconds.
var latencyBuckets = prometheus.ExponentialBuckets(10e-6, 4, 10)

func newMetrics(reg *prometheus.Registry, s *Server) (*metrics, error) {
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sentinel_decisions_total",
			Help: "Decisions by action and by the gate of the deciding reason (none when no gate spoke)."}, []string{"action", "gate"}),
		decisionTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sentinel_decision_duration_seconds",
			Help: "Time the kernel took to decide a call, audit record included.", Buckets: latencyBuckets}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sentinel_http_requests_total",
			Help: "HTTP requests by route and status code."}, []string{"route", "code"}),
		httpTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sentinel_http_request_duration_seconds",
			Help: "HTTP request latency by route.", Buckets: latencyBuckets}, []string{"route"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sentinel_auth_failures_total",
			Help: "Refused requests by auth error code."}, []string{"code"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sentinel_store_errors_total",
			Help: "Store errors by what was being done (audit, approvals, ready)."}, []string{"op"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sentinel_outcomes_total",
			Help: "Reported call outcomes by status."}, []string{"status"}),
		policyReloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sentinel_policy_reloads_total",
			Help: "Policy replacements and reloads by result (ok, refused)."}, []string{"result"}),
		auditCommit: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sentinel_audit_append_duration_seconds",
			Help: "Time the audit store took to commit one batch.", Buckets: latencyBuckets}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sentinel_build_info",
		Help: "Always 1; the labels say which build runs."}, []string{"version", "goversion"})
	build.WithLabelValues(s.opts.Version, runtime.Version()).Set(1)
	cs := []prometheus.Collector{m.decisions, m.decisionTime, m.httpRequests, m.httpTime, m.authFailures, m.storeErrors,
		m.outcomes, m.policyReloads, m.auditCommit, build,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sentinel_audit_lag_events",
			Help: "Audit events accepted but not yet committed."}, func() float64 {
			if s.opts.Log == nil {
				return 0
			}
			return float64(s.opts.Log.Stats().Waiting)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sentinel_audit_failing",
			Help: "1 while the audit log refuses events because its store fails."}, func() float64 {
			if s.opts.Log == nil || !s.opts.Log.Stats().Failing {
				return 0
			}
			return 1
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sentinel_approvals_pending",
			Help: "Approvals waiting for a human (-1 when the store cannot say)."}, func() float64 {
			if s.opts.Approvals == nil {
				return 0
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			n, err := s.opts.Approvals.CountPending(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.promHandler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m, nil
}

func (m *metrics) observeDecision(d decision.Decision, took time.Duration) {
	gate := "none"
	if len(d.Reasons) > 0 {
		gate = d.Reasons[0].Gate
	}
	m.decisions.WithLabelValues(d.Action.String(), gate).Inc()
	m.decisionTime.Observe(took.Seconds())
}

func (m *metrics) observeHTTP(route string, code int, took time.Duration) {
	m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.httpTime.WithLabelValues(route).Observe(took.Seconds())
}

// ObserveCommit is the audit log's OnCommit hook.
func (s *Server) ObserveCommit(events int, took time.Duration, err error) {
	s.m.auditCommit.Observe(took.Seconds())
	if err != nil {
		s.m.storeErrors.WithLabelValues("audit").Inc()
	}
}
