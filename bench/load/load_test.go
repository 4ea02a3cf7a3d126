package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 100_000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 50_000 * time.Microsecond},
		{0.9, 90_000 * time.Microsecond},
		{0.99, 99_000 * time.Microsecond},
		{0.999, 99_900 * time.Microsecond},
		{1, 100_000 * time.Microsecond},
	} {
		got := h.quantile(tc.q)
		// A percentile is the top of its bucket: never below the true
		// value, at most 1/histSub above it.
		if got < tc.want || float64(got) > float64(tc.want)*(1+1.0/histSub) {
			t.Errorf("quantile(%v) = %v, want %v to %v", tc.q, got, tc.want, time.Duration(float64(tc.want)*(1+1.0/histSub)))
		}
	}
	if got, want := h.maxValue(), 100*time.Millisecond; got != want {
		t.Errorf("max = %v, want %v", got, want)
	}
	if got, want := h.minValue(), time.Microsecond; got != want {
		t.Errorf("min = %v, want %v", got, want)
	}
	if got, want := h.mean(), 50_000_500*time.Nanosecond; got != want {
		t.Errorf("mean = %v, want %v", got, want)
	}
	if got := h.count(); got != 100_000 {
		t.Errorf("count = %d, want 100000", got)
	}
}

func TestHistogramSmallValuesExact(t *testing.T) {
	var h histogram
	for _, v := range []time.Duration{5, 5, 5, 7, 200} {
		h.record(v)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.2, 5}, {0.6, 5}, {0.8, 7}, {1, 200}} {
		if got := h.quantile(tc.q); got != tc.want {
			t.Errorf("quantile(%v) = %d, want %d", tc.q, got, tc.want)
		}
	}
	var empty histogram
	if empty.quantile(0.5) != 0 || empty.minValue() != 0 || empty.mean() != 0 {
		t.Error("an empty histogram reports non-zero figures")
	}
}

func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<43; v = v*17/16 + 1 {
		i := bucketOf(v)
		if i < prev || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d after %d (of %d buckets)", v, i, prev, histBuckets)
		}
		prev = i
		if v > histMaxValue {
			if i != histBuckets-1 {
				t.Fatalf("bucketOf(%d) = %d, want the last bucket", v, i)
			}
			continue
		}
		hi := bucketHigh(i)
		if hi < v || (i > 0 && bucketHigh(i-1) >= v) {
			t.Fatalf("%d is in bucket %d, which ends at %d (previous ends at %d)", v, i, hi, bucketHigh(i-1))
		}
		if v >= histExact && float64(hi-v) > float64(v)/histSub {
			t.Fatalf("bucket of %d ends at %d: wider than 1/%d", v, hi, histSub)
		}
	}
	if got := bucketHigh(histBuckets - 1); got != histMaxValue {
		t.Errorf("the last bucket ends at %d, want %d", got, uint64(histMaxValue))
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all histogram
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i*i) * time.Microsecond
		all.record(d)
		if i%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	var m histogram
	m.merge(&a)
	m.merge(&b)
	if m != all {
		t.Errorf("merged histogram differs: count %d/%d, min %v/%v, max %v/%v, p99 %v/%v",
			m.count(), all.count(), m.minValue(), all.minValue(), m.maxValue(), all.maxValue(), m.quantile(.99), all.quantile(.99))
	}
}

func TestRSSSlope(t *testing.T) {
	line := func(perMin float64) []rssSample {
		var s []rssSample
		for sec := 0; sec <= 600; sec += 10 {
			s = append(s, rssSample{T: float64(sec), KB: uint64(1024 * (100 + perMin*float64(sec)/60))})
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		samples []rssSample
		want    float64
		ok      bool
	}{
		{"growing 2 MiB/min", line(2), 2, true},
		{"flat", line(0), 0, true},
		{"shrinking", line(-0.5), -0.5, true},
		{"noisy but flat", []rssSample{{0, 1000}, {60, 1100}, {120, 1000}, {180, 1100}}, 100.0 / 1024 * 0.2, true},
		{"one sample", []rssSample{{0, 1000}}, 0, false},
		{"no time passed", []rssSample{{5, 1000}, {5, 2000}}, 0, false},
		{"none", nil, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := rssSlope(tc.samples)
			if ok != tc.ok || math.Abs(got-tc.want) > 1e-3 {
				t.Errorf("rssSlope = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestRSSSampler(t *testing.T) {
	kb, err := readRSS(os.Getpid())
	if err != nil || kb == 0 {
		t.Fatalf("readRSS(self) = %d, %v", kb, err)
	}
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Fatalf("procCPU(self): %v", err)
	}
	s := &rssSampler{pid: os.Getpid(), every: 10 * time.Millisecond}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { s.run(stop); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := s.result()
		if len(got) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	<-done
	samples, err := s.result()
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < 3 {
		t.Fatalf("%d samples, want at least 3", len(samples))
	}
	for i, x := range samples {
		if x.KB == 0 || (i > 0 && x.T <= samples[i-1].T) {
			t.Errorf("sample %d = %+v after %+v", i, x, samples[max(i-1, 0)])
		}
	}

	// A process that does not exist cannot be watched.
	const gone = 1<<31 - 2
	if err := checkPID(gone); err == nil || !strings.Contains(err.Error(), "no such process") {
		t.Errorf("checkPID(%d) = %v, want no such process", gone, err)
	}
	s = &rssSampler{pid: gone, every: time.Millisecond}
	s.run(make(chan struct{})) // returns on the first failed read
	if samples, err := s.result(); err == nil || len(samples) != 0 {
		t.Errorf("sampling a missing process: %d samples, err %v", len(samples), err)
	}
}

func TestActionOf(t *testing.T) {
	for _, tc := range []struct {
		body    string
		want    string // an action name, or a fragment of the problem
		problem bool
	}{
		{`{"action":"allow"}`, "allow", false},
		{` { "decision_id" : "d-1", "action" : "deny" , "reasons":[{"code":"x","action":"allow"}]}`, "deny", false},
		{`{"reasons":[{"action":"allow"}],"nested":{"action":"x"},"s":"\"action\":","n":-1.5e3,"t":true,"z":null,"action":"confirm"}`, "confirm", false},
		{`{"action":"notify","action2":1}`, "notify", false},
		{`{"action":"escalate"}`, "other", false},
		{`{"reasons":[{"action":"allow"}]}`, `no "action"`, true},
		{`{}`, `no "action"`, true},
		{`{"action":""}`, "empty", true},
		{`{"action":3}`, "not a string", true},
		{`[{"action":"allow"}]`, "not a JSON object", true},
		{`{"action":"allow"`, "not JSON", true},
		{``, "not JSON", true},
		{`<html>`, "not JSON", true},
	} {
		i, problem := actionOf([]byte(tc.body))
		switch {
		case tc.problem && !strings.Contains(problem, tc.want):
			t.Errorf("actionOf(%s) = %q, want a problem containing %q", tc.body, problem, tc.want)
		case !tc.problem && (problem != "" || actionNames[i] != tc.want):
			t.Errorf("actionOf(%s) = %d %q, want %s", tc.body, i, problem, tc.want)
		}
	}
}

func TestActionOfAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	body := []byte(`{"decision_id":"d-1","action":"deny","reasons":[{"gate":"command","code":"command.recursive_delete_root"}]}`)
	if n := testing.AllocsPerRun(100, func() { actionOf(body) }); n != 0 {
		t.Errorf("actionOf allocates %v times per call", n)
	}
}

func TestReadBodies(t *testing.T) {
	got, err := readBodies("b.jsonl", strings.NewReader("{\"tool\": \"Bash\",\n\n  \"x\":1}\n"))
	if err == nil {
		t.Errorf("a body split over lines was accepted: %q", got)
	}
	got, err = readBodies("b.jsonl", strings.NewReader("{\"tool\": \"Bash\", \"args\": {\"command\": \"ls\"}}\n\n  {\"tool\":\"Read\"}  \n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"tool":"Bash","args":{"command":"ls"}}`, `{"tool":"Read"}`}
	if len(got) != len(want) || string(got[0]) != want[0] || string(got[1]) != want[1] {
		t.Errorf("bodies = %q, want %q", got, want)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"not an object", "{\"a\":1}\n[1,2]\n", "b.jsonl:2: not a JSON object"},
		{"broken", "{\"a\":1}\n\n{\"a\":\n", "b.jsonl:3: not a JSON object"},
		{"empty", "\n\n", "no request bodies"},
		{"too long", "{\"a\":\"" + strings.Repeat("x", maxBodyBytes) + "\"}\n", "b.jsonl:1: line longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readBodies("b.jsonl", strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := loadBodies(filepath.Join(t.TempDir(), "missing.jsonl")); err == nil || !strings.Contains(err.Error(), "-bodies") {
		t.Errorf("missing file: %v", err)
	}
}

func TestBuiltinMix(t *testing.T) {
	bodies := builtinMix(5000)
	if len(bodies) != 5000 {
		t.Fatalf("%d bodies, want 5000", len(bodies))
	}
	distinct := map[string]bool{}
	tools := map[string]int{}
	risky := 0
	for _, b := range bodies {
		var c struct {
			Tool    string         `json:"tool"`
			Args    map[string]any `json:"args"`
			Session string         `json:"session"`
			Agent   string         `json:"agent"`
		}
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if c.Tool == "" || len(c.Args) == 0 || !strings.HasPrefix(c.Session, "s-") || c.Agent != "load" {
			t.Fatalf("incomplete body %s", b)
		}
		tools[c.Tool]++
		distinct[string(b)] = true
		if cmd, _ := c.Args["command"].(string); cmd == "rm -rf /" || strings.Contains(cmd, "| sh") {
			risky++
		}
	}
	for _, tool := range []string{"Bash", "Read", "Write", "Edit"} {
		if tools[tool] == 0 {
			t.Errorf("no %s calls in the mix: %v", tool, tools)
		}
	}
	if tools["Bash"] < len(bodies)/2 {
		t.Errorf("Bash is %d of %d calls, want most", tools["Bash"], len(bodies))
	}
	if risky == 0 || risky > len(bodies)/10 {
		t.Errorf("%d risky commands of %d, want a few", risky, len(bodies))
	}
	// Most calls differ, so a decision cache cannot answer them all; about
	// a fifth are the same few commands repeated in a session.
	if len(distinct) < len(bodies)*7/10 || len(distinct) == len(bodies) {
		t.Errorf("%d distinct bodies of %d", len(distinct), len(bodies))
	}
	if again := builtinMix(5000); !bytes.Equal(again[4999], bodies[4999]) {
		t.Error("the built-in mix is not the same from run to run")
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"load", "-url", "http://127.0.0.1:1/v1/check", "-token", "s3cret", "-rate", "5000", "-conns", "8"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Token != "s3cret" || cfg.Rate != 5000 || cfg.Conns != 8 || cfg.Duration != time.Minute || cfg.Warmup != 5*time.Second || cfg.Client != clientRaw {
		t.Errorf("cfg = %+v", cfg)
	}
	if strings.Contains(strings.Join(cfg.Args, " "), "s3cret") {
		t.Errorf("the recorded command line shows the token: %q", cfg.Args)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-duration", "2h"}, "-duration 2h0m0s"},
		{[]string{"-duration", "0s"}, "-duration 0s"},
		{[]string{"-conns", "5000"}, "-conns 5000"},
		{[]string{"-conns", "0"}, "-conns 0"},
		{[]string{"-rate", "2000000"}, "-rate 2000000"},
		{[]string{"-rate", "-1"}, "-rate -1"},
		{[]string{"-warmup", "-1s"}, "-warmup -1s"},
		{[]string{"-url", "127.0.0.1:3300"}, "-url"},
		{[]string{"-timeout", "0s"}, "-timeout 0s"},
		{[]string{"-pid", "-3"}, "-pid -3"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-client", "curl"}, `-client "curl": want raw or nethttp`},
		{[]string{"-client", "raw", "-url", "https://127.0.0.1:1/v1/check"}, "use -client nethttp for https"},
		{[]string{"-token", "T\r\nX-Evil: 1"}, "-token has a control character at byte 1"},
		{[]string{"-token", strings.Repeat("t", maxToken+1)}, "-token is 8193 bytes"},
	} {
		_, err := parseFlags(append([]string{"load"}, tc.args...), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.args, err, tc.want)
		}
	}
	// Every problem is reported at once.
	_, err = parseFlags([]string{"load", "-conns", "0", "-rate", "-1"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-conns") || !strings.Contains(err.Error(), "-rate") {
		t.Errorf("two problems: %v", err)
	}
}

func TestRedactToken(t *testing.T) {
	got := redactToken([]string{"load", "-token", "a", "--token=b", "-url", "u", "-token"})
	want := []string{"load", "-token", "REDACTED", "--token=REDACTED", "-url", "u", "-token"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("redactToken = %q, want %q", got, want)
	}
}

func TestTicketsBetween(t *testing.T) {
	for _, rate := range []int{1, 3, 7, 300, 999_983, 1_000_000} {
		for _, span := range [][2]time.Duration{{0, time.Second}, {time.Second, 3 * time.Second}, {333 * time.Millisecond, 1777 * time.Millisecond}} {
			// Count by brute force: the tickets whose offset falls in the span.
			var want uint64
			for i := uint64(0); offset(i, rate) < span[1]; i++ {
				if offset(i, rate) >= span[0] {
					want++
				}
			}
			if got := ticketsBetween(span[0], span[1], rate); got != want {
				t.Errorf("rate %d, %v: %d tickets, want %d", rate, span, got, want)
			}
		}
	}
}

// decider is a stand-in for the server: it checks the token, counts
// requests and connections, and answers with a decision unless fail says
// otherwise.
type decider struct {
	requests atomic.Int64
	conns    atomic.Int64
	fail     func(n int64) (status int, body string, failed bool)
}

func (d *decider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := d.requests.Add(1)
	if r.Header.Get("Authorization") != "Bearer T" {
		http.Error(w, `{"error":{"code":"auth.invalid_token"}}`, http.StatusUnauthorized)
		return
	}
	var call struct {
		Tool string         `json:"tool"`
		Args map[string]any `json:"args"`
	}
	if err := json.NewDecoder(r.Body).Decode(&call); err != nil || call.Tool == "" {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if d.fail != nil {
		if status, body, failed := d.fail(n); failed {
			w.WriteHeader(status)
			io.WriteString(w, body)
			return
		}
	}
	action := "allow"
	if cmd, _ := call.Args["command"].(string); strings.HasPrefix(cmd, "rm -rf") {
		action = "deny"
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"decision_id":"d-%d","action":%q,"reasons":[]}`, n, action)
}

func newDecider(t *testing.T, fail func(int64) (int, string, bool)) (*decider, *httptest.Server) {
	d := &decider{fail: fail}
	srv := httptest.NewUnstartedServer(d)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			d.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return d, srv
}

func testConfig(url, client string) config {
	return config{URL: url + "/v1/check", Token: "T", Duration: time.Second, Warmup: 200 * time.Millisecond,
		Conns: 4, Timeout: 10 * time.Second, Client: client}
}

// forEachClient runs test once with each -client.
func forEachClient(t *testing.T, test func(t *testing.T, client string)) {
	for _, c := range []string{clientRaw, clientNetHTTP} {
		t.Run(c, func(t *testing.T) { test(t, c) })
	}
}

func TestRunClosedLoop(t *testing.T) {
	forEachClient(t, func(t *testing.T, client string) {
		d, srv := newDecider(t, nil)
		cfg := testConfig(srv.URL, client)
		cfg.PID = os.Getpid()
		cfg.sampleEvery = 50 * time.Millisecond
		bodies := append(builtinMix(100), []byte(`{"tool":"Bash","args":{"command":"rm -rf /"},"session":"s-1","agent":"load"}`))
		res, err := run(context.Background(), cfg, bodies)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Pass || res.Errors != 0 {
			t.Fatalf("run failed: %v, samples %+v", res.FailReasons, res.ErrorSamples)
		}
		if res.Requests < 10 {
			t.Errorf("%d requests in a second, want at least 10", res.Requests)
		}
		// The server saw the preflight, the warmup and the measured requests.
		if got, want := d.requests.Load(), int64(1+res.Warmup.Requests+res.Requests); got != want {
			t.Errorf("server saw %d requests, the report accounts for %d", got, want)
		}
		if res.ServiceLatency != nil {
			t.Error("a closed-loop run reports a separate service latency")
		}
		if res.Status["200"] != res.Requests || res.Succeeded != res.Requests || res.Latency.Count != res.Succeeded {
			t.Errorf("status %v, %d requests, %d succeeded, %d latencies", res.Status, res.Requests, res.Succeeded, res.Latency.Count)
		}
		if res.Actions["allow"]+res.Actions["deny"] != res.Succeeded || res.Actions["deny"] == 0 {
			t.Errorf("actions %v for %d decisions", res.Actions, res.Succeeded)
		}
		if res.MeasuredSeconds != 1 || math.Abs(res.RequestsPerSec-float64(res.Requests)) > 1e-6 {
			t.Errorf("%d requests in %vs at %v/s", res.Requests, res.MeasuredSeconds, res.RequestsPerSec)
		}
		l := res.Latency
		if !(l.MinUS > 0 && l.MinUS <= l.P50US && l.P50US <= l.P90US && l.P90US <= l.P99US && l.P99US <= l.P999US && l.P999US <= l.MaxUS) {
			t.Errorf("latency figures out of order: %+v", l)
		}
		// Keep-alive: one connection per worker, give or take the odd one
		// net/http drops when its writer goroutine is starved for 50 ms.
		if got, sent := d.conns.Load(), d.requests.Load(); got > int64(cfg.Conns)+sent/20 {
			t.Errorf("%d connections opened for %d workers and %d requests", got, cfg.Conns, sent)
		}
		// The raw client never drops a healthy connection: one per worker
		// and one for the preflight.
		if got := d.conns.Load(); client == clientRaw && got != int64(cfg.Conns)+1 {
			t.Errorf("raw client: %d connections opened for %d workers and the preflight", got, cfg.Conns)
		}
		if res.Config.Client != client {
			t.Errorf("result records client %q, want %q", res.Config.Client, client)
		}
		if res.ClientCPU == nil || res.ClientCPU.TotalSeconds <= 0 {
			t.Errorf("client CPU = %+v", res.ClientCPU)
		}
		if res.Server == nil || res.Server.RSS == nil || len(res.Server.RSS.Samples) < 2 || res.Server.RSS.SlopeMiBPerMin == nil || res.Server.CPU == nil {
			t.Fatalf("server figures = %+v", res.Server)
		}
		if r := res.Server.RSS; r.MinKB == 0 || r.MinKB > r.FirstKB || r.MaxKB < r.LastKB {
			t.Errorf("rss figures = %+v", r)
		}
		var out bytes.Buffer
		res.writeText(&out)
		for _, want := range []string{"closed loop, 4 connections (" + client + " client)", "req/s", "p99", "server rss", "PASS"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("summary lacks %q:\n%s", want, out.String())
			}
		}
	})
}

func TestRunOpenLoop(t *testing.T) {
	forEachClient(t, func(t *testing.T, client string) {
		d, srv := newDecider(t, nil)
		cfg := testConfig(srv.URL, client)
		cfg.Rate = 300
		cfg.Conns = 8
		res, err := run(context.Background(), cfg, builtinMix(100))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Pass {
			t.Fatalf("run failed: %v", res.FailReasons)
		}
		// The schedule fixes the counts: 0.2 s of warmup and 1 s measured at 300/s.
		if res.Warmup.Requests != 60 || res.Requests != 300 || res.Scheduled != 300 || res.Missed != 0 {
			t.Errorf("warmup %d, measured %d, scheduled %d, missed %d; want 60, 300, 300, 0",
				res.Warmup.Requests, res.Requests, res.Scheduled, res.Missed)
		}
		if got := d.requests.Load(); got != 361 {
			t.Errorf("server saw %d requests, want 361", got)
		}
		if res.Latency.Count != 300 || res.Late > res.Requests {
			t.Errorf("%d latencies, %d late", res.Latency.Count, res.Late)
		}
		// No request is sent before its time, so service latency never exceeds
		// latency from the schedule.
		if s, l := res.ServiceLatency, res.Latency; s == nil || s.Count != 300 || s.P50US > l.P50US || s.P99US > l.P99US || s.MaxUS > l.MaxUS {
			t.Errorf("service latency %+v, latency %+v", s, l)
		}
		var out bytes.Buffer
		res.writeText(&out)
		if !strings.Contains(out.String(), "open loop at 300/s") || !strings.Contains(out.String(), "300 scheduled") {
			t.Errorf("summary:\n%s", out.String())
		}
	})
}

func TestRunCountsErrors(t *testing.T) {
	forEachClient(t, func(t *testing.T, client string) {
		// Every tenth request fails; the first is the preflight and succeeds.
		d, srv := newDecider(t, func(n int64) (int, string, bool) {
			return http.StatusInternalServerError, `{"error":{"code":"internal"}}`, n%10 == 0
		})
		out := filepath.Join(t.TempDir(), "out.json")
		var stdout, stderr bytes.Buffer
		code := realMain(context.Background(), []string{"load", "-url", srv.URL + "/v1/check", "-token", "T",
			"-duration", "1s", "-warmup", "0s", "-rate", "200", "-conns", "4", "-json", out, "-client", client}, &stdout, &stderr)
		if code != 1 {
			t.Fatalf("exit %d, want 1; stderr: %s", code, stderr.String())
		}
		if got := d.requests.Load(); got != 201 {
			t.Fatalf("server saw %d requests, want 201", got)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var res result
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		if res.Pass || res.Requests != 200 || res.Errors != 20 || res.Status["500"] != 20 || res.Status["200"] != 180 || res.Succeeded != 180 {
			t.Errorf("pass %v, %d requests, %d errors, %d succeeded, status %v", res.Pass, res.Requests, res.Errors, res.Succeeded, res.Status)
		}
		if len(res.ErrorSamples) == 0 || res.ErrorSamples[0].Status != 500 || !strings.Contains(res.ErrorSamples[0].Detail, "internal") {
			t.Errorf("error samples = %+v", res.ErrorSamples)
		}
		if len(res.FailReasons) == 0 || !strings.Contains(res.FailReasons[0], "20 of 200 requests failed") {
			t.Errorf("fail reasons = %q", res.FailReasons)
		}
		if res.GoVersion == "" || res.CPUModel == "" || res.Started.IsZero() || strings.Contains(strings.Join(res.Command, " "), " T ") {
			t.Errorf("run description: go %q, cpu %q, started %v, command %q", res.GoVersion, res.CPUModel, res.Started, res.Command)
		}
		if !strings.Contains(stdout.String(), "FAIL") || !strings.Contains(stdout.String(), "status 500") {
			t.Errorf("summary:\n%s", stdout.String())
		}
	})
}

func TestRunCountsMissingAction(t *testing.T) {
	forEachClient(t, func(t *testing.T, client string) {
		_, srv := newDecider(t, func(n int64) (int, string, bool) {
			return http.StatusOK, `{"decision_id":"d"}`, n%5 == 0
		})
		cfg := testConfig(srv.URL, client)
		cfg.Rate = 100
		cfg.Warmup = 0
		res, err := run(context.Background(), cfg, builtinMix(10))
		if err != nil {
			t.Fatal(err)
		}
		// Requests 2..101 reach the run; 5, 10, …, 100 have no action.
		if res.Pass || res.NoAction != 20 || res.Errors != 20 || res.Status["200"] != 100 {
			t.Errorf("pass %v, no action %d, errors %d, status %v", res.Pass, res.NoAction, res.Errors, res.Status)
		}
		if len(res.ErrorSamples) == 0 || res.ErrorSamples[0].Kind != "no_action" {
			t.Errorf("error samples = %+v", res.ErrorSamples)
		}
	})
}

func TestRunCannotStart(t *testing.T) {
	forEachClient(t, func(t *testing.T, client string) {
		_, srv := newDecider(t, nil)
		closed := httptest.NewServer(http.NotFoundHandler())
		closed.Close()
		missing := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(missing.Close)
		for _, tc := range []struct {
			name string
			cfg  func(*config)
			want string
		}{
			{"unreachable", func(c *config) { c.URL = closed.URL + "/v1/check" }, "cannot reach"},
			{"wrong token", func(c *config) { c.Token = "wrong" }, "check -token"},
			{"not found", func(c *config) { c.URL = missing.URL + "/v1/check" }, "HTTP 404"},
			{"bad pid", func(c *config) { c.PID = 1<<31 - 2 }, "no such process"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cfg := testConfig(srv.URL, client)
				tc.cfg(&cfg)
				_, err := run(context.Background(), cfg, builtinMix(10))
				var se *startError
				if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("err = %v, want a start error containing %q", err, tc.want)
				}
			})
		}
		var stderr bytes.Buffer
		if code := realMain(context.Background(), []string{"load", "-url", closed.URL, "-client", client}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "could not start") {
			t.Errorf("exit %d, stderr %q; want 2 and a clear message", code, stderr.String())
		}
	})
}

func TestRunInterrupted(t *testing.T) {
	forEachClient(t, func(t *testing.T, client string) {
		_, srv := newDecider(t, nil)
		for _, rate := range []int{0, 50} {
			cfg := testConfig(srv.URL, client)
			cfg.Duration = time.Hour
			cfg.Rate = rate
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(700*time.Millisecond, cancel)
			res, err := run(ctx, cfg, builtinMix(10))
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if !res.Interrupted || res.MeasuredSeconds <= 0 || res.MeasuredSeconds > 60 || res.Requests == 0 || res.Errors != 0 {
				t.Errorf("rate %d: interrupted %v after %vs, %d requests, %d errors", rate, res.Interrupted, res.MeasuredSeconds, res.Requests, res.Errors)
			}
			if rate > 0 && res.Missed != 0 {
				t.Errorf("rate %d: %d of %d missed after an interrupt", rate, res.Missed, res.Scheduled)
			}
		}
	})
}

func TestRunCountsTransportErrors(t *testing.T) {
	forEachClient(t, func(t *testing.T, client string) {
		// From the 50th request on, the server drops the connection unanswered.
		_, srv := newDecider(t, func(n int64) (int, string, bool) {
			if n >= 50 {
				panic(http.ErrAbortHandler)
			}
			return 0, "", false
		})
		cfg := testConfig(srv.URL, client)
		cfg.Warmup = 0
		res, err := run(context.Background(), cfg, builtinMix(10))
		if err != nil {
			t.Fatal(err)
		}
		if res.Pass || res.Status["transport_error"] == 0 || res.Succeeded != res.Status["200"] || res.Errors != res.Status["transport_error"] {
			t.Errorf("pass %v, status %v, %d errors", res.Pass, res.Status, res.Errors)
		}
		if len(res.ErrorSamples) == 0 || res.ErrorSamples[0].Kind != "transport" {
			t.Errorf("error samples = %+v", res.ErrorSamples)
		}
	})
}
