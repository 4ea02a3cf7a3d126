package main

import (
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// result is everything a run measured; it is written as JSON with -json.
// Figures are for the measured part only (after the warmup) unless the
// field says otherwise.
type result struct {
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished"`
	Command    []string  `json:"command"`
	GoVersion  string    `json:"go_version"`
	OS         string    `json:"os"`
	Arch       string    `json:"arch"`
	CPUModel   string    `json:"cpu_model"`
	NumCPU     int       `json:"num_cpu"`
	GOMAXPROCS int       `json:"gomaxprocs"`

	Config resultConfig `json:"config"`

	Interrupted     bool    `json:"interrupted"`
	MeasuredSeconds float64 `json:"measured_seconds"`
	Requests        uint64  `json:"requests"`
	Succeeded       uint64  `json:"succeeded"`
	Errors          uint64  `json:"errors"`
	RequestsPerSec  float64 `json:"requests_per_second"`
	DecisionsPerSec float64 `json:"decisions_per_second"`
	// Status counts responses by HTTP status code; requests that got no
	// response are under "transport_error".
	Status   map[string]uint64 `json:"status"`
	NoAction uint64            `json:"no_action"`
	Actions  map[string]uint64 `json:"actions"`
	Latency  latencyFigures    `json:"latency"`
	// ServiceLatency is measured from the actual send (open loop only):
	// the difference to Latency is time spent waiting to be sent.
	ServiceLatency *latencyFigures `json:"service_latency,omitempty"`

	// Open loop only.
	Scheduled uint64 `json:"scheduled,omitempty"`
	Late      uint64 `json:"late_sends,omitempty"`
	Missed    uint64 `json:"missed_sends,omitempty"`

	Warmup warmupFigures `json:"warmup"`

	ClientCPU *cpuFigures    `json:"client_cpu,omitempty"`
	Server    *serverFigures `json:"server,omitempty"`

	ErrorSamples []failure `json:"error_samples,omitempty"`
	Pass         bool      `json:"pass"`
	FailReasons  []string  `json:"fail_reasons,omitempty"`
}

type resultConfig struct {
	URL             string  `json:"url"`
	Mode            string  `json:"mode"`   // closed or open
	Client          string  `json:"client"` // raw or nethttp
	Rate            int     `json:"rate,omitempty"`
	Conns           int     `json:"conns"`
	DurationSeconds float64 `json:"duration_seconds"`
	WarmupSeconds   float64 `json:"warmup_seconds"`
	TimeoutSeconds  float64 `json:"timeout_seconds"`
	Bodies          string  `json:"bodies"`
	BodyCount       int     `json:"body_count"`
	PID             int     `json:"pid,omitempty"`
}

// latencyFigures are in microseconds: from the send in closed loop, from
// the scheduled send time in open loop. Only successful requests count.
type latencyFigures struct {
	Count  uint64  `json:"count"`
	MinUS  float64 `json:"min_us"`
	MeanUS float64 `json:"mean_us"`
	P50US  float64 `json:"p50_us"`
	P90US  float64 `json:"p90_us"`
	P99US  float64 `json:"p99_us"`
	P999US float64 `json:"p999_us"`
	MaxUS  float64 `json:"max_us"`
}

type warmupFigures struct {
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
}

type cpuFigures struct {
	UserSeconds   float64 `json:"user_seconds"`
	SystemSeconds float64 `json:"system_seconds"`
	TotalSeconds  float64 `json:"total_seconds"`
	// PercentOfCore is the CPU time over the wall time of the measured
	// part: 100 is one core busy throughout.
	PercentOfCore float64 `json:"percent_of_one_core"`
	USPerRequest  float64 `json:"us_per_request"`
}

type serverFigures struct {
	PID         int         `json:"pid"`
	CPU         *cpuFigures `json:"cpu,omitempty"` // user+system together in total_seconds
	RSSBeforeKB uint64      `json:"rss_before_kb,omitempty"`
	RSS         *rssFigures `json:"rss,omitempty"`
	Errors      []string    `json:"errors,omitempty"`
}

type rssFigures struct {
	FirstKB uint64 `json:"first_kb"`
	MinKB   uint64 `json:"min_kb"`
	MaxKB   uint64 `json:"max_kb"`
	LastKB  uint64 `json:"last_kb"`
	// SlopeMiBPerMin is the least-squares slope over the samples; null
	// when there were fewer than two.
	SlopeMiBPerMin *float64    `json:"slope_mib_per_min"`
	Samples        []rssSample `json:"samples"`
}

func newResult(cfg config, nBodies int) *result {
	mode := "closed"
	if cfg.Rate > 0 {
		mode = "open"
	}
	bodies := "builtin"
	if cfg.Bodies != "" {
		bodies = cfg.Bodies
	}
	return &result{
		Command:    cfg.Args,
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		CPUModel:   cpuModel(),
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Config: resultConfig{
			URL: cfg.URL, Mode: mode, Client: cfg.Client, Rate: cfg.Rate, Conns: cfg.Conns,
			DurationSeconds: cfg.Duration.Seconds(), WarmupSeconds: cfg.Warmup.Seconds(),
			TimeoutSeconds: cfg.Timeout.Seconds(), Bodies: bodies, BodyCount: nBodies, PID: cfg.PID,
		},
		Status:  map[string]uint64{},
		Actions: map[string]uint64{},
	}
}

// fill merges the shards into res; window is the measured wall time.
func (r *runner) fill(res *result, window time.Duration) {
	var h, svc histogram
	for _, sh := range r.shards {
		w, m := &sh.phase[warmup], &sh.phase[measured]
		res.Warmup.Requests += w.sent.Load()
		res.Warmup.Errors += w.sent.Load() - w.ok.Load()
		h.merge(&m.hist)
		svc.merge(&m.svc)
		res.Requests += m.sent.Load()
		res.Succeeded += m.ok.Load()
		res.Late += m.late.Load()
		res.NoAction += m.noAction.Load()
		if n := m.transport.Load(); n > 0 {
			res.Status["transport_error"] += n
		}
		if n := m.badStatus.Load(); n > 0 {
			res.Status["invalid_status"] += n
		}
		for code := range m.status {
			if n := m.status[code].Load(); n > 0 {
				res.Status[strconv.Itoa(code)] += n
			}
		}
		for i, name := range actionNames {
			if n := m.actions[i].Load(); n > 0 {
				res.Actions[name] += n
			}
		}
	}
	res.Errors = res.Requests - res.Succeeded
	if window > 0 {
		res.MeasuredSeconds = window.Seconds()
		res.RequestsPerSec = float64(res.Requests) / window.Seconds()
		res.DecisionsPerSec = float64(res.Succeeded) / window.Seconds()
	}
	res.Latency = h.figures()
	if r.cfg.Rate > 0 {
		f := svc.figures()
		res.ServiceLatency = &f
	}
	res.ErrorSamples = r.errs.list()
}

func (h *histogram) figures() latencyFigures {
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	return latencyFigures{
		Count: h.count(), MinUS: us(h.minValue()), MeanUS: us(h.mean()),
		P50US: us(h.quantile(0.5)), P90US: us(h.quantile(0.9)), P99US: us(h.quantile(0.99)),
		P999US: us(h.quantile(0.999)), MaxUS: us(h.maxValue()),
	}
}

func cpuUse(user, sys, wall time.Duration, requests uint64) cpuFigures {
	c := cpuFigures{UserSeconds: user.Seconds(), SystemSeconds: sys.Seconds(), TotalSeconds: (user + sys).Seconds()}
	if wall > 0 {
		c.PercentOfCore = 100 * c.TotalSeconds / wall.Seconds()
	}
	if requests > 0 {
		c.USPerRequest = c.TotalSeconds * 1e6 / float64(requests)
	}
	return c
}

func (s *serverFigures) setRSS(samples []rssSample) {
	if len(samples) == 0 {
		return
	}
	f := &rssFigures{FirstKB: samples[0].KB, MinKB: samples[0].KB, LastKB: samples[len(samples)-1].KB, Samples: samples}
	for _, x := range samples {
		f.MinKB = min(f.MinKB, x.KB)
		f.MaxKB = max(f.MaxKB, x.KB)
	}
	if slope, ok := rssSlope(samples); ok {
		f.SlopeMiBPerMin = &slope
	}
	s.RSS = f
}

// judge decides whether the run passed: every request measured or not
// succeeded, the open-loop schedule was kept, and the server could be
// watched throughout.
func (res *result) judge() {
	var why []string
	if res.Errors > 0 {
		why = append(why, fmt.Sprintf("%d of %d requests failed", res.Errors, res.Requests))
	}
	if res.Warmup.Errors > 0 {
		why = append(why, fmt.Sprintf("%d of %d warmup requests failed", res.Warmup.Errors, res.Warmup.Requests))
	}
	if res.Missed > 0 {
		why = append(why, fmt.Sprintf("%d of %d scheduled requests were never sent: the server could not keep up with -rate", res.Missed, res.Scheduled))
	}
	if res.MeasuredSeconds <= 0 || res.Requests == 0 {
		why = append(why, "nothing was measured (interrupted during the warmup?)")
	}
	if res.Server != nil {
		for _, e := range res.Server.Errors {
			why = append(why, "watching the server: "+e)
		}
	}
	res.FailReasons = why
	res.Pass = len(why) == 0
}

func ms(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.2fs", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.2fms", us/1e3)
	default:
		return fmt.Sprintf("%.0fµs", us)
	}
}

func mib(kb uint64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

// writeText prints the human summary.
func (res *result) writeText(w io.Writer) {
	c := res.Config
	mode := fmt.Sprintf("closed loop, %d connections", c.Conns)
	if c.Mode == "open" {
		mode = fmt.Sprintf("open loop at %d/s over %d connections", c.Rate, c.Conns)
	}
	fmt.Fprintf(w, "POST %s: %s (%s client), %gs measured after %gs warmup, %d %s bodies\n",
		c.URL, mode, c.Client, c.DurationSeconds, c.WarmupSeconds, c.BodyCount, c.Bodies)
	if res.Interrupted {
		fmt.Fprintf(w, "interrupted after %.1fs of measurement\n", res.MeasuredSeconds)
	}
	fmt.Fprintf(w, "requests   %d in %.2fs: %.0f req/s, %.0f decisions/s\n",
		res.Requests, res.MeasuredSeconds, res.RequestsPerSec, res.DecisionsPerSec)
	fmt.Fprintf(w, "status     %s\n", counts(res.Status, nil))
	fmt.Fprintf(w, "actions    %s\n", counts(res.Actions, actionNames[:]))
	lat := func(label string, l latencyFigures, note string) {
		fmt.Fprintf(w, "%-10s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s, %d samples%s)\n",
			label, ms(l.P50US), ms(l.P90US), ms(l.P99US), ms(l.P999US), ms(l.MaxUS), ms(l.MeanUS), l.Count, note)
	}
	if res.ServiceLatency == nil {
		lat("latency", res.Latency, "")
	} else {
		lat("latency", res.Latency, "; from the scheduled send")
		lat("service", *res.ServiceLatency, "; from the actual send")
	}
	if c.Mode == "open" {
		pct := 0.0
		if res.Requests > 0 {
			pct = 100 * float64(res.Late) / float64(res.Requests)
		}
		fmt.Fprintf(w, "schedule   %d scheduled, %d sent late by more than %v (%.2f%%), %d never sent\n",
			res.Scheduled, res.Late, lateAfter, pct, res.Missed)
	}
	if cpu := res.ClientCPU; cpu != nil {
		fmt.Fprintf(w, "client cpu %.1fs user+sys: %.0f%% of one core, %.1fµs per request\n",
			cpu.TotalSeconds, cpu.PercentOfCore, cpu.USPerRequest)
	}
	if s := res.Server; s != nil {
		if cpu := s.CPU; cpu != nil {
			fmt.Fprintf(w, "server cpu %.1fs user+sys: %.0f%% of one core, %.1fµs per request (pid %d)\n",
				cpu.TotalSeconds, cpu.PercentOfCore, cpu.USPerRequest, s.PID)
		}
		if r := s.RSS; r != nil {
			slope := "n/a"
			if r.SlopeMiBPerMin != nil {
				slope = fmt.Sprintf("%+.3f MiB/min", *r.SlopeMiBPerMin)
			}
			fmt.Fprintf(w, "server rss first %s  min %s  max %s  last %s  slope %s (%d samples; %s before the run)\n",
				mib(r.FirstKB), mib(r.MinKB), mib(r.MaxKB), mib(r.LastKB), slope, len(r.Samples), mib(s.RSSBeforeKB))
		}
	}
	if res.Warmup.Errors > 0 {
		fmt.Fprintf(w, "warmup     %d requests, %d failed\n", res.Warmup.Requests, res.Warmup.Errors)
	}
	for _, f := range res.ErrorSamples {
		what := f.Kind
		if f.Status != 0 {
			what = fmt.Sprintf("%s %d", f.Kind, f.Status)
		}
		fmt.Fprintf(w, "error      %s: %s\n", what, strings.TrimSpace(f.Detail))
	}
	if res.Pass {
		fmt.Fprintln(w, "result     PASS")
	} else {
		fmt.Fprintf(w, "result     FAIL: %s\n", strings.Join(res.FailReasons, "; "))
	}
}

// counts formats a map as "k n, k n", in order's order first, then sorted.
func counts(m map[string]uint64, order []string) string {
	if len(m) == 0 {
		return "none"
	}
	var keys []string
	seen := map[string]bool{}
	for _, k := range order {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	keys = append(keys, rest...)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
