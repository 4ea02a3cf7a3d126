package escape

import (
	"context"
	"errors"
	"os"

	"github.com/sentinel-agent/sentinel/internal/sandbox"
	"github.com/sentinel-agent/sentinel/internal/sandbox/profile"
)

// sentinelRunner runs the script in Sentinel's own sandbox (package
// sandbox), through the same Run that `sentinel run` uses, with the
// Env's profile expressed as a sandbox profile: the default profile's
// layers, the Env's writable and hidden paths, an egress allowlist of
// the one allowed host, and the Limits.
type sentinelRunner struct{}

var _ Runner = sentinelRunner{}

func newSentinelRunner() Runner { return sentinelRunner{} }

func (sentinelRunner) Name() string { return "sentinel" }

func (sentinelRunner) Available() error {
	if _, err := os.Stat("/proc/self/ns/user"); err != nil {
		return errors.New("no user namespaces on this machine")
	}
	return nil
}

func (sentinelRunner) Run(ctx context.Context, env Env, lim Limits, script string) (Result, error) {
	pr := env.Profile()
	p := profile.Default()
	p.Writable = pr.Writable
	p.Hidden = append(p.Hidden, pr.Hidden...)
	p.Network = profile.NetworkAllowlist
	p.AllowPrivate = true // the allowed host is on loopback
	for _, a := range pr.AllowedHosts {
		p.Allow = append(p.Allow, a.String())
	}
	p.Env = append(p.Env, tagVar)
	p.Limits.Wall = lim.WallTime.String()
	p.Limits.Processes = lim.Processes
	p.Limits.Memory = profile.FormatSize(lim.MemoryBytes)
	r, err := p.Resolve("escape", profile.Vars{Workspace: env.Workspace, Home: env.Home, DataDir: env.DataDir})
	if err != nil {
		return Result{}, err
	}
	var stdout, stderr cappedBuffer
	res, err := sandbox.Run(ctx, sandbox.Spec{Argv: []string{"/bin/bash", "-c", script}, Dir: env.Workspace, Profile: r,
		Environ: env.Environ(), Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		return Result{}, err
	}
	return Result{Exit: res.ExitCode, Stdout: stdout.String(), Stderr: stderr.String(), Duration: res.Duration,
		Killed: res.Killed != ""}, nil
}
