package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/sandbox"
	"github.com/sentinel-agent/sentinel/internal/sandbox/profile"
)

// ExitRunFailed is sentinel run's exit code when the command could not
// be run at all (as env and container runtimes use 125–127).
const (
	ExitRunFailed   = 125
	ExitRunNotFound = 127
)

func runRun(e *env, args []string) int {
	f := newFlags("run")
	pol := f.String("policy", "", "policy file with the sandbox profiles (default: the built-in policy)")
	prof := f.String("profile", profile.DefaultName, "sandbox profile from the policy's sandbox.profiles")
	ws := f.String("workspace", "", "the workspace, writable in the default profile (default: the current directory)")
	mode := f.String("mode", string(sandbox.Sandboxed), "sandbox, direct (no isolation) or dry-run (show what would run)")
	trace := f.Bool("trace", "record the files, processes and connections of the run (in the report)")
	reportTo := f.String("report", "", "write the run's JSON report (layers, exit, trace, egress) to this file; - for stderr")
	dataDir := f.String("data-dir", "", "Sentinel's data dir, hidden from the command (default $SENTINEL_HOME, else ~/.sentinel)")
	pos, err := f.parse(args)
	if err == errHelp {
		fmt.Fprintln(e.stdout, "usage: sentinel run [--policy F] [--profile P] [--workspace DIR] [--mode sandbox|direct|dry-run] [--trace] [--report FILE] -- CMD [ARG ...]")
		f.usage(e.stdout)
		return ExitOK
	}
	if err != nil {
		return runFail(e, "%v", err)
	}
	if len(pos) == 0 {
		return runFail(e, "name the command: sentinel run [flags] -- CMD [ARG ...]")
	}
	m, err := sandbox.ParseMode(*mode)
	if err != nil {
		return runFail(e, "--mode: %v", err)
	}
	p, err := loadPolicy(*pol)
	if err != nil {
		return runFail(e, "%v", err)
	}
	pr, err := p.SandboxProfile(*prof)
	if err != nil {
		return runFail(e, "--profile: %v", err)
	}
	workspace := *ws
	if workspace == "" {
		if workspace, err = os.Getwd(); err != nil {
			return runFail(e, "%v", err)
		}
	}
	if workspace, err = filepath.Abs(workspace); err != nil {
		return runFail(e, "--workspace: %v", err)
	}
	if st, err := os.Stat(workspace); err != nil || !st.IsDir() {
		return runFail(e, "--workspace %s is not a directory", workspace)
	}
	home, _ := os.UserHomeDir()
	sf := &storeFlags{dataDir: dataDir}
	data, err := sf.dir()
	if err != nil {
		return runFail(e, "%v", err)
	}
	if data, err = filepath.Abs(data); err != nil {
		return runFail(e, "--data-dir: %v", err)
	}
	r, err := pr.Resolve(*prof, profile.Vars{Workspace: workspace, Home: home, DataDir: data})
	if err != nil {
		return runFail(e, "%v", err)
	}
	res, err := sandbox.Run(e.ctx, sandbox.Spec{Argv: pos, Dir: workspace, Profile: r, Mode: m, Trace: *trace,
		Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr})
	if err != nil {
		if errors.Is(err, sandbox.ErrNotFound) {
			fmt.Fprintf(e.stderr, "sentinel run: %v\n", err)
			return ExitRunNotFound
		}
		return runFail(e, "%v", err)
	}
	if *reportTo != "" {
		if err := writeRunReport(e, *reportTo, res); err != nil {
			return runFail(e, "--report: %v", err)
		}
	}
	if m == sandbox.DryRun {
		printPlan(e.stdout, res)
		return ExitOK
	}
	for _, l := range res.Layers {
		if !l.Enforced {
			fmt.Fprintf(e.stderr, "sentinel run: best effort: %s was not enforced (%s)\n", l.Name, l.Detail)
		}
	}
	if len(res.Dropped) > 0 {
		fmt.Fprintf(e.stderr, "sentinel run: kept out of the environment (they hold credentials): %s\n", strings.Join(res.Dropped, ", "))
	}
	switch res.Killed {
	case "timeout":
		fmt.Fprintf(e.stderr, "sentinel run: killed at the profile's wall time (%s)\n", r.Wall)
	case "memory":
		fmt.Fprintf(e.stderr, "sentinel run: killed for exceeding the profile's memory limit (%d MiB)\n", r.Memory>>20)
	case "cpu":
		fmt.Fprintf(e.stderr, "sentinel run: killed for exceeding the profile's CPU time (%s)\n", r.CPU)
	}
	return res.ExitCode
}

func runFail(e *env, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "sentinel run: "+format+"\n", args...)
	return ExitRunFailed
}

func writeRunReport(e *env, to string, res *sandbox.Result) error {
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if to == "-" {
		_, err = e.stderr.Write(data)
		return err
	}
	return os.WriteFile(to, data, 0o600)
}

func printPlan(w io.Writer, res *sandbox.Result) {
	p := res.Plan
	fmt.Fprintf(w, "would run %s (%s) in %s with profile %q\n", strings.Join(res.Argv, " "), p.Path, p.Dir, p.Profile)
	fmt.Fprintf(w, "  writable:  %s\n", strings.Join(p.Writable, ", "))
	fmt.Fprintf(w, "  read-only: %s\n", strings.Join(p.ReadOnly, ", "))
	fmt.Fprintf(w, "  hidden:    %s\n", strings.Join(p.Hidden, ", "))
	net := p.Network
	if len(p.Allow) > 0 {
		net += " (" + strings.Join(p.Allow, ", ") + ")"
	}
	fmt.Fprintf(w, "  network:   %s\n", net)
	fmt.Fprintf(w, "  env:       %s\n", strings.Join(res.Env, ", "))
	if len(res.Dropped) > 0 {
		fmt.Fprintf(w, "  kept out:  %s (they hold credentials)\n", strings.Join(res.Dropped, ", "))
	}
	fmt.Fprintf(w, "  limits:    %s\n", p.Limits)
}
