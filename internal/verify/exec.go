package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode/utf8"
)

// errNotInstalled marks a tool that is not on PATH: the check is SKIP,
// never PASS.
var errNotInstalled = errors.New("not installed")

// ran is what one command did.
type ran struct {
	output string // stdout and stderr interleaved, clipped
	exit   int
}

// runCommand runs argv without a shell in dir, with env added to the
// inherited environment, for at most timeout. It fails with
// errNotInstalled when the program cannot be found, and with another error
// when the program could not run or finish; a non-zero exit status is not
// an error.
func runCommand(ctx context.Context, timeout time.Duration, maxOut int, dir string, env, argv []string) (ran, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		// exec.ErrDot (found only in the current directory) counts as not
		// installed: verification never runs a binary the agent could
		// have planted in its working directory.
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, exec.ErrDot) || errors.Is(err, fs.ErrNotExist) {
			return ran{}, fmt.Errorf("%s is %w (not on PATH)", argv[0], errNotInstalled)
		}
		return ran{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out := &capped{max: maxOut}
	cmd.Stdout, cmd.Stderr = out, out
	killGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		return ran{output: out.String()}, fmt.Errorf("did not finish within %s: %w", timeout, context.Cause(ctx))
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if !exit.Exited() {
			return ran{output: out.String()}, fmt.Errorf("killed: %v", exit)
		}
		return ran{output: out.String(), exit: exit.ExitCode()}, nil
	}
	if err != nil {
		return ran{output: out.String()}, err
	}
	return ran{output: out.String()}, nil
}

// capped keeps the first max bytes written to it and counts the rest.
type capped struct {
	max     int
	buf     []byte
	dropped int
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.max - len(c.buf)
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		c.buf = append(c.buf, p[:room]...)
	}
	c.dropped += len(p) - max(room, 0)
	return len(p), nil
}

func (c *capped) String() string {
	s := strings.ToValidUTF8(string(c.buf), "\uFFFD")
	if c.dropped > 0 {
		s += fmt.Sprintf("\n… (%d more bytes)", c.dropped)
	}
	return s
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
