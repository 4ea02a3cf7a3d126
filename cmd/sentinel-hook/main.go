// Command sentinel-hook is Claude Code's hook for a Sentinel server: it
// reads the hook event on stdin, asks the server (POST /v1/check or
// /v1/outcome) and prints Claude Code's answer.
//
//	sentinel-hook claude-code --server URL [--timeout 5s]
//	sentinel-hook claude-code --local [--data-dir D] [--policy F] [--workspace W] [--sentinel PATH] [--idle-exit 30m] [--timeout 5s]
//
// With --server it asks a running server (token from $SENTINEL_TOKEN).
// With --local it asks this user's own server on a Unix socket in the
// data dir, starting `sentinel server` (next to this binary, or
// --sentinel) for the workspace and policy on the first call; that
// server stops after --idle-exit without calls. This is the standalone
// hook without the cost of compiling the policy and opening the store on
// every call.
//
// It does what `sentinel hook claude-code [--server URL]` does, but links
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
	"path/filepath"
	"syscall"

	"github.com/sentinel-agent/sentinel/internal/hook"
)

const usage = "usage: sentinel-hook claude-code --server URL [--timeout 5s] (the client token comes from $SENTINEL_TOKEN) | " +
	"sentinel-hook claude-code --local [--data-dir D] [--policy F] [--workspace W] [--sentinel PATH] [--idle-exit 30m] [--timeout 5s]"

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
	local := fs.Bool("local", false, "")
	dataDir := fs.String("data-dir", "", "")
	policy := fs.String("policy", "", "")
	workspace := fs.String("workspace", "", "")
	sentinel := fs.String("sentinel", "", "")
	idleExit := fs.Duration("idle-exit", hook.DefaultIdleExit, "")
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
	d, err := hook.ParseTimeout(*timeout)
	if err != nil {
		return hook.Refuse(stderr, err)
	}
	if *local {
		if *server != "" {
			return usageError(stderr, "give --server or --local, not both")
		}
		cfg := hook.LocalConfig{DataDir: *dataDir, Policy: *policy, Workspace: *workspace, Sentinel: *sentinel, Timeout: d, IdleExit: *idleExit, Getenv: getenv}
		if *idleExit <= 0 {
			return usageError(stderr, "--idle-exit wants a positive duration such as 30m")
		}
		if cfg.DataDir == "" {
			cfg.DataDir = defaultDataDir(getenv)
		}
		if cfg.Sentinel == "" {
			cfg.Sentinel = besideMe("sentinel")
		}
		return hook.RunLocal(ctx, stdin, stdout, stderr, cfg)
	}
	if *dataDir != "" || *policy != "" || *workspace != "" || *sentinel != "" || *idleExit != hook.DefaultIdleExit {
		return usageError(stderr, "--data-dir, --policy, --workspace, --sentinel and --idle-exit go with --local; a --server uses its own")
	}
	if *server == "" {
		return usageError(stderr, "give --server URL or --local")
	}
	return hook.RunRemote(ctx, stdin, stdout, stderr, hook.RemoteConfig{URL: *server, Token: getenv("SENTINEL_TOKEN"), Timeout: d})
}

// defaultDataDir is sentinel's: $SENTINEL_HOME, else ~/.sentinel.
func defaultDataDir(getenv func(string) string) string {
	if d := getenv("SENTINEL_HOME"); d != "" {
		return d
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".sentinel")
	}
	return ""
}

// besideMe is the path of name in this binary's directory.
func besideMe(name string) string {
	exe, err := os.Executable()
	if err != nil {
		return name
	}
	return filepath.Join(filepath.Dir(exe), name)
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
