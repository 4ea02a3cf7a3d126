// Command load drives a running Sentinel server's POST /v1/check and
// reports throughput, latency percentiles, errors by status code, its own
// CPU time and, given the server's pid, the server's CPU time and RSS over
// the run.
//
//	cd bench && go run ./load -url http://127.0.0.1:3300/v1/check -token T -duration 60s \
//	    [-rate 0|N] [-conns 64] [-warmup 5s] [-pid PID] [-bodies FILE.jsonl] [-json out.json] \
//	    [-client raw|nethttp]
//
// With -rate 0 every connection sends back to back (the server's maximum
// throughput); with -rate N the sends follow a fixed schedule of N per
// second and latency is measured from the scheduled time, so a stalled
// server raises the latency instead of quietly lowering the rate. The
// warmup is run before -duration and left out of the figures.
//
// Client and server usually share the machine, so the client's own CPU
// time per request is CPU the server does not get. -client raw keeps it
// small: one TCP connection per worker, prebuilt requests, responses
// parsed in place without allocating. -client nethttp uses Go's net/http,
// for https or a server whose responses raw cannot read.
//
// The exit status is 0 when every request succeeded (HTTP 200 with an
// "action"), 1 when any failed or the schedule could not be kept, and 2
// when the run could not start. Every request is a real decision: the
// server records each in its audit log and may open approvals, so point
// it at a scratch data directory. The server's process is only observed,
// through /proc.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

// Bounds on the command line.
const (
	maxDuration = time.Hour
	maxWarmup   = time.Hour
	maxConns    = 4096
	maxRate     = 1_000_000
	maxTimeout  = 5 * time.Minute
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal the run winds down; a second one kills.
		<-ctx.Done()
		stop()
	}()
	os.Exit(realMain(ctx, os.Args, os.Stdout, os.Stderr))
}

// realMain runs the tool with args (args[0] is the program name) and
// returns the exit status.
func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 2
	}
	var bodies [][]byte
	if cfg.Bodies != "" {
		if bodies, err = loadBodies(cfg.Bodies); err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			return 2
		}
	} else {
		bodies = builtinMix(builtinBodies)
	}
	if cfg.CPUProfile != "" {
		stop, err := startProfile(cfg.CPUProfile)
		if err != nil {
			fmt.Fprintf(stderr, "load: -cpuprofile: %v\n", err)
			return 2
		}
		defer stop()
	}
	res, err := run(ctx, cfg, bodies)
	if err != nil {
		fmt.Fprintf(stderr, "load: the run could not start: %v\n", err)
		return 2
	}
	res.writeText(stdout)
	if cfg.JSONOut != "" {
		if err := writeJSON(cfg.JSONOut, res); err != nil {
			fmt.Fprintf(stderr, "load: -json: %v\n", err)
			return 1
		}
	}
	if !res.Pass {
		return 1
	}
	return 0
}

// startProfile profiles the client itself, to see what a request costs it.
func startProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func writeJSON(path string, res *result) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// parseFlags parses and checks the command line, reporting every problem
// at once.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:3300/v1/check", "the server's check endpoint")
	fs.StringVar(&cfg.Token, "token", "", "bearer token (default $SENTINEL_TOKEN)")
	fs.DurationVar(&cfg.Duration, "duration", 60*time.Second, "measured time after the warmup (max 1h)")
	fs.DurationVar(&cfg.Warmup, "warmup", 5*time.Second, "time sent before measuring starts, left out of the figures")
	fs.IntVar(&cfg.Rate, "rate", 0, "requests/s over all connections; 0 = each connection sends back to back (max 1000000)")
	fs.IntVar(&cfg.Conns, "conns", 64, "concurrent connections (max 4096)")
	fs.IntVar(&cfg.PID, "pid", 0, "server process to sample: RSS once a second and CPU time")
	fs.StringVar(&cfg.Bodies, "bodies", "", "JSONL file of request bodies, one JSON object per line (default: a built-in mix)")
	fs.StringVar(&cfg.JSONOut, "json", "", "write the full result as JSON to this file")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "longest wait for a response's headers")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write this tool's own CPU profile to this file")
	fs.StringVar(&cfg.Client, "client", clientRaw, "HTTP client: raw (lean HTTP/1.1, plain http only) or nethttp (Go's net/http)")
	if err := fs.Parse(args[1:]); err != nil {
		return config{}, err
	}
	if cfg.Token == "" {
		cfg.Token = os.Getenv("SENTINEL_TOKEN")
	}
	cfg.Args = redactToken(args)

	var bad []string
	if fs.NArg() > 0 {
		bad = append(bad, fmt.Sprintf("unexpected argument %q (every option is a -flag)", fs.Arg(0)))
	}
	if u, err := url.Parse(cfg.URL); err != nil {
		bad = append(bad, fmt.Sprintf("-url: %v", err))
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad = append(bad, fmt.Sprintf("-url %q: want http://host:port/path", cfg.URL))
	} else if u.Scheme == "https" && cfg.Client == clientRaw {
		bad = append(bad, fmt.Sprintf("-url %q: -client raw speaks plain http only; use -client nethttp for https", cfg.URL))
	}
	if cfg.Client != clientRaw && cfg.Client != clientNetHTTP {
		bad = append(bad, fmt.Sprintf("-client %q: want %s or %s", cfg.Client, clientRaw, clientNetHTTP))
	}
	if err := checkToken(cfg.Token); err != nil {
		bad = append(bad, err.Error())
	}
	if cfg.Duration <= 0 || cfg.Duration > maxDuration {
		bad = append(bad, fmt.Sprintf("-duration %v: want more than 0 and at most %v", cfg.Duration, maxDuration))
	}
	if cfg.Warmup < 0 || cfg.Warmup > maxWarmup {
		bad = append(bad, fmt.Sprintf("-warmup %v: want 0 to %v", cfg.Warmup, maxWarmup))
	}
	if cfg.Rate < 0 || cfg.Rate > maxRate {
		bad = append(bad, fmt.Sprintf("-rate %d: want 0 (closed loop) to %d", cfg.Rate, maxRate))
	}
	if cfg.Conns < 1 || cfg.Conns > maxConns {
		bad = append(bad, fmt.Sprintf("-conns %d: want 1 to %d", cfg.Conns, maxConns))
	}
	if cfg.PID < 0 {
		bad = append(bad, fmt.Sprintf("-pid %d: want a process id, or 0 for none", cfg.PID))
	}
	if cfg.Timeout <= 0 || cfg.Timeout > maxTimeout {
		bad = append(bad, fmt.Sprintf("-timeout %v: want more than 0 and at most %v", cfg.Timeout, maxTimeout))
	}
	if len(bad) > 0 {
		return config{}, errors.New(strings.Join(bad, "\n  "))
	}
	return cfg, nil
}

// redactToken returns args with the value of -token replaced, so that the
// recorded command line can be shared.
func redactToken(args []string) []string {
	out := append([]string(nil), args...)
	for i := 1; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "token" {
			continue
		}
		if hasValue {
			out[i] = a[:strings.Index(a, "=")+1] + "REDACTED"
		} else if i+1 < len(out) {
			out[i+1] = "REDACTED"
			i++
		}
	}
	return out
}
