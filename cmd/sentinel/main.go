// Command sentinel is the Sentinel command line: it decides, explains and
// evaluates tool calls against a policy. All logic lives in internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sentinel-agent/sentinel/internal/cli"
	"github.com/sentinel-agent/sentinel/internal/sandbox"
)

func main() {
	// A sandboxed run re-executes this binary as its init and exec
	// stages; they start here and never return.
	sandbox.Main()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
