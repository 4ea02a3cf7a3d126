package sentinel

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/sentinel-agent/sentinel/internal/sandbox"
	"github.com/sentinel-agent/sentinel/internal/sandbox/profile"
)

// SandboxMain must be the first call in main of a program that runs
// commands in the sandbox (Guard.Command with the sandbox mode): the
// sandbox re-executes the program as its init and exec stages, which
// start here and never return. In any other process it returns at once.
// Without it, sandboxed commands are refused.
func SandboxMain() { sandbox.Main() }

// CommandOptions say how Guard.Command runs a command.
type CommandOptions struct {
	// Profile names a sandbox profile of the guard's policy; "" is
	// "default" (workspace and a private /tmp writable, credentials
	// hidden, no network).
	Profile string
	// Mode is "sandbox" (the default), "direct" (no isolation, the
	// profile's environment and wall time only) or "dry-run" (run
	// nothing; the output describes what would run).
	Mode string
	// Dir is the working directory (default: the guard's workspace).
	Dir string
	// Stdin is the command's input (default: none).
	Stdin io.Reader
	// MaxOutput bounds the output kept, stdout and stderr together
	// (default 1 MiB); the rest is dropped and Result.Output says so.
	MaxOutput int
}

// ExitError is Command's error for a command that ran and failed.
type ExitError struct {
	// Code is the exit code (128+N for signal N).
	Code int
	// Killed is "timeout", "memory" or "cpu" when a profile limit ended
	// the run.
	Killed string
}

func (e *ExitError) Error() string {
	if e.Killed != "" {
		return fmt.Sprintf("sentinel: the command was killed (%s limit); exit code %d", e.Killed, e.Code)
	}
	return fmt.Sprintf("sentinel: the command exited with code %d", e.Code)
}

// Command returns a tool function for Execute that runs argv the way
// opts say, with the guard's sandbox profile, and returns its output
// (stdout and stderr, interleaved). A command that exits non-zero or is
// killed returns an *ExitError along with its output; one that could not
// start (not found, a bad profile, a sandbox layer this machine lacks)
// returns that error.
//
//	d, res, err := g.Execute(ctx, call, g.Command([]string{"go", "test", "./..."}, sentinel.CommandOptions{}))
func (g *Guard) Command(argv []string, opts CommandOptions) func(context.Context) (Result, error) {
	return func(ctx context.Context) (Result, error) {
		pr, err := g.pol.SandboxProfile(opts.Profile)
		if err != nil {
			return Result{}, fmt.Errorf("sentinel: %w", err)
		}
		name := opts.Profile
		if name == "" {
			name = profile.DefaultName
		}
		data := g.dataDir
		if data == "" {
			// No data dir of its own: hide the one the CLI uses.
			data = os.Getenv("SENTINEL_HOME")
			if data == "" && g.home != "" {
				data = filepath.Join(g.home, ".sentinel")
			}
		}
		r, err := pr.Resolve(name, profile.Vars{Workspace: g.workspace, Home: g.home, DataDir: data})
		if err != nil {
			return Result{}, fmt.Errorf("sentinel: %w", err)
		}
		mode := sandbox.Sandboxed
		if opts.Mode != "" {
			if mode, err = sandbox.ParseMode(opts.Mode); err != nil {
				return Result{}, fmt.Errorf("sentinel: %w", err)
			}
		}
		max := opts.MaxOutput
		if max <= 0 {
			max = 1 << 20
		}
		out := &capped{max: max}
		dir := opts.Dir
		if dir == "" {
			dir = g.workspace
		}
		res, err := sandbox.Run(ctx, sandbox.Spec{Argv: argv, Dir: dir, Profile: r, Mode: mode, Stdin: opts.Stdin, Stdout: out, Stderr: out})
		if err != nil {
			return Result{}, fmt.Errorf("sentinel: %w", err)
		}
		if res.Plan != nil {
			return Result{Output: fmt.Sprintf("dry run: %s (%s) in %s; profile %s; writable %v; hidden %v; network %s",
				argv, res.Plan.Path, res.Plan.Dir, res.Plan.Profile, res.Plan.Writable, res.Plan.Hidden, res.Plan.Network)}, nil
		}
		result := Result{Output: out.String()}
		if res.ExitCode != 0 || res.Killed != "" {
			return result, &ExitError{Code: res.ExitCode, Killed: res.Killed}
		}
		return result, nil
	}
}

// capped keeps the first max bytes written to it.
type capped struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	max     int
	dropped int
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.max - c.buf.Len()
	if room >= len(p) {
		c.buf.Write(p)
	} else {
		if room > 0 {
			c.buf.Write(p[:room])
		}
		c.dropped += len(p) - max(room, 0)
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped > 0 {
		return c.buf.String() + fmt.Sprintf("\n[sentinel: %d more bytes of output dropped]", c.dropped)
	}
	return c.buf.String()
}
