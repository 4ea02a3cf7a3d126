// Command sentinel-hook is Claude Code's hook for a running Sentinel
// server: it reads the hook event on stdin, asks the server
// (POST /v1/check or /v1/outcome, token from $SENTINEL_TOKEN) and prints
// Claude Code's answer.
//
//	sentinel-hook claude-code --server URL [--timeout 5s]
//
// It does what `sentinel hook claude-code --server URL` does, but links
// only the hook protocol: no kernel, policy, store or server, whose
// package initialisation would cost every tool call several milliseconds.
// It must never import them (deps_test.go checks). Every failure, usage
// errors included, exits 2, the one exit code that makes Claude Code
// block the call rather than run it.
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sentinel-agent/sentinel/internal/hook"
)

const usage = "usage: sentinel-hook claude-code --server URL [--timeout 5s] (the client token comes from $SENTINEL_TOKEN)"

func main() {
	// A hook killed by a signal would exit with a code Claude Code
	// ignores; cancelling turns it into a refusal.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] != "claude-code" {
		return usageError(stderr, "name the host first: claude-code")
	}
	fs := flag.NewFlagSet("sentinel-hook claude-code", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	server := fs.String("server", "", "")
	timeout := fs.String("timeout", hook.DefaultTimeout.String(), "")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			// Even help exits 2: with exit 0, Claude Code would take the
			// text for an answer and run the call.
			return usageError(stderr, "help requested")
		}
		return usageError(stderr, err.Error())
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "unexpected argument "+quote(fs.Arg(0))+"; the event comes on stdin")
	}
	if *server == "" {
		return usageError(stderr, "--server is required")
	}
	d, err := hook.ParseTimeout(*timeout)
	if err != nil {
		return hook.Refuse(stderr, err)
	}
	return hook.RunRemote(ctx, stdin, stdout, stderr, hook.RemoteConfig{URL: *server, Token: getenv("SENTINEL_TOKEN"), Timeout: d})
}

func usageError(stderr io.Writer, msg string) int {
	return hook.Refuse(stderr, hook.Errorf(hook.CodeUsage, "%s; %s", msg, usage))
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80]
	}
	return `"` + s + `"`
}
