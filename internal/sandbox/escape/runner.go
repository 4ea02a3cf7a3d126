package escape

import (
	"context"
	"errors"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Runner executes a script under one sandbox. Run must enforce, as far as
// the sandbox can express them, env.Profile() and the Limits; start the
// script with `bash -c` in env.Workspace with env.Environ() (the tag in it
// is how the host finds what a run left behind); and end every process it
// started by the time it returns, or by ctx's deadline at the latest.
// A sandbox refusing something is a Result, not an error: error means the
// runner could not run the script at all.
type Runner interface {
	Name() string
	// Available says why the runner cannot be used here, or nil.
	Available() error
	Run(ctx context.Context, env Env, lim Limits, script string) (Result, error)
}

// runners lists every runner, in the order of the table's columns. A new
// sandbox joins the suite and the start-up benchmark by being added here
// (Sentinel's own: newSentinelRunner() from runner_sentinel.go).
func runners() []Runner {
	return []Runner{directRunner{}, newSentinelRunner(), newSRTRunner()}
}

// mustBlockAll names the runners under which every case must be blocked and
// every baseline action must work (Sentinel's own goes here: "sentinel").
// srt is deliberately absent: it is the peer, recorded and not judged.
var mustBlockAll = map[string]bool{"sentinel": true}

// maxOutput bounds what a run's stdout and stderr each keep.
const maxOutput = 1 << 20

// termGrace is how long a run has between SIGTERM at its wall limit and
// SIGKILL: long enough for a sandbox's own launcher to stop its child and
// clean up after it (srt gives its child 2s).
const termGrace = 3 * time.Second

// runCommand runs cmd in a process group of its own. At the wall limit it
// sends the group SIGTERM and, termGrace later, SIGKILL; when ctx ends it
// sends SIGKILL at once; once the command has exited it sends SIGKILL
// again, for whatever it left behind in the group. cmd must not be started
// and must have no SysProcAttr, Stdout or Stderr of its own.
func runCommand(ctx context.Context, cmd *exec.Cmd, wall time.Duration) (Result, error) {
	var stdout, stderr cappedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A process that escaped the group may hold the output pipes open; do
	// not wait for it longer than this.
	cmd.WaitDelay = 2 * time.Second

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Result{}, err
	}
	pgid := cmd.Process.Pid
	killGroup := func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) }
	var killed atomic.Bool
	term := time.AfterFunc(wall, func() {
		killed.Store(true)
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
	})
	kill := time.AfterFunc(wall+termGrace, killGroup)
	stop := context.AfterFunc(ctx, killGroup)
	err := cmd.Wait()
	res := Result{Duration: time.Since(start)}
	term.Stop()
	kill.Stop()
	stop()
	killGroup()

	res.Killed = killed.Load()
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	res.Exit = cmd.ProcessState.ExitCode()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) && !errors.Is(err, exec.ErrWaitDelay) {
		return res, err
	}
	return res, nil
}

// cappedBuffer keeps the first maxOutput bytes written to it and drops the
// rest, so a script cannot make the harness hold unbounded output.
type cappedBuffer struct {
	mu        sync.Mutex
	buf       []byte
	truncated bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := maxOutput - len(b.buf)
	if len(p) > room {
		b.buf = append(b.buf, p[:max(room, 0)]...)
		b.truncated = true
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.truncated {
		return string(b.buf) + "\n[output truncated]\n"
	}
	return string(b.buf)
}
