// Package cli implements the sentinel command line: one file per command
// group, a shared flag parser that accepts flags anywhere before the
// positional arguments' "--", and the exit-code contract (0 allow or
// notify, 2 deny, 3 confirm, 1 usage or internal error).
//
// Main takes its streams and arguments as parameters and never calls
// os.Exit, so every command is testable in process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/policy"
)

// Version is set at build time with -ldflags "-X …/internal/cli.Version=v1.2.3".
var Version = "dev"

// Exit codes.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitDeny    = 2
	ExitConfirm = 3
)

// env is what a command runs with.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(e *env, args []string) int
}

func commands() []command {
	return []command{
		{"check", "decide one tool call: sentinel check [flags] TOOL [key=value ...] | --stdin", runCheck},
		{"explain", "show gate by gate how a call is decided (same inputs as check)", runExplain},
		{"validate", "run the schema checks only: sentinel validate TOOL [key=value ...]", runValidate},
		{"risk", "print the risk score of a call: sentinel risk TOOL [key=value ...]", runRisk},
		{"eval", "measure on labelled data: sentinel eval [--kind calls|secrets|injection] [flags] FILE.jsonl ...", runEval},
		{"policy", "policy lint FILE | policy show", runPolicy},
		{"audit", "the audit log: audit list|stats|export|verify|prune|rotate-key|public-key [flags]", runAudit},
		{"stats", "audit log statistics (same as audit stats)", auditStats},
		{"server", "serve the HTTP API: sentinel server [--addr 127.0.0.1:3300] [--data-dir D] [--policy F] [--store sqlite|postgres --dsn …]", runServer},
		{"approvals", "human approvals: approvals list|approve|deny [flags]", runApprovals},
		{"hook", "agent host hooks: hook claude-code (reads the hook event on stdin) | hook install|uninstall claude-code", runHook},
		{"mcp", "MCP guard proxy and tool pins: mcp proxy [flags] -- CMD | mcp pins list|show|approve", runMCP},
		{"token", "client tokens: token new --name NAME --scopes check,audit:read", runToken},
		{"status", "the agents' quality status report from the audit log: sentinel status [--since 720h] [--format text|json]", runStatus},
		{"profile", "quality profile: sentinel profile [--session S] [--agent A] [--format json]", runProfile},
		{"feedback", "record an implicit feedback signal: sentinel feedback SIGNAL --session S", runFeedback},
		{"rollback", "undo a call's file changes from its snapshot: sentinel rollback DECISION_ID [--dry-run]", runRollback},
		{"memory", "the agents' memory: memory show|search|import|export|forget|context|stats", runMemory},
		{"scan", "find secrets and prompt injections in a text: sentinel scan [--kind secrets|injection|all] [--format text|json] FILE|-", runScan},
		{"run", "run a command in the sandbox: sentinel run [--profile P] [--workspace DIR] [--mode sandbox|direct|dry-run] [--trace] -- CMD [ARG ...]", runRun},
		{"doctor", "check the server's configuration, data dir, store, tokens and bind address", runDoctor},
		{"version", "print the version", func(e *env, _ []string) int { fmt.Fprintln(e.stdout, "sentinel", Version); return ExitOK }},
		{"help", "show this help", nil},
	}
}

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] && c.run != nil {
			return c.run(e, args[1:])
		}
	}
	fmt.Fprintf(stderr, "sentinel: unknown command %q; run \"sentinel help\" for the list\n", args[0])
	return ExitError
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "sentinel: a deterministic guard for AI agents' tool calls")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "exit codes: 0 allow or notify, 2 deny, 3 confirm, 1 usage or internal error")
}

// flagSet is a tiny flag parser that accepts "--name value", "--name=value"
// and boolean "--name" anywhere among the arguments, so that
// "sentinel check exec command=ls --format json" works. Arguments after a
// lone "--" are positional.
type flagSet struct {
	name    string
	strs    map[string]*string
	bools   map[string]*bool
	helps   map[string]string
	ordered []string
}

func newFlags(name string) *flagSet {
	return &flagSet{name: name, strs: map[string]*string{}, bools: map[string]*bool{}, helps: map[string]string{}}
}

func (f *flagSet) String(name, def, help string) *string {
	v := def
	f.strs[name] = &v
	f.helps[name] = help
	f.ordered = append(f.ordered, name)
	return &v
}

func (f *flagSet) Bool(name, help string) *bool {
	v := false
	f.bools[name] = &v
	f.helps[name] = help
	f.ordered = append(f.ordered, name)
	return &v
}

func (f *flagSet) usage(w io.Writer) {
	for _, n := range f.ordered {
		if _, ok := f.bools[n]; ok {
			fmt.Fprintf(w, "  --%s\n        %s\n", n, f.helps[n])
		} else {
			fmt.Fprintf(w, "  --%s VALUE\n        %s\n", n, f.helps[n])
		}
	}
}

var errHelp = errors.New("help requested")

func (f *flagSet) parse(args []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if a == "-h" || a == "--help" {
			return nil, errHelp
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		val, hasVal := "", false
		if i := strings.IndexByte(name, '='); i >= 0 {
			name, val, hasVal = name[:i], name[i+1:], true
		}
		if b, ok := f.bools[name]; ok {
			if hasVal {
				v, err := strconv.ParseBool(val)
				if err != nil {
					return nil, fmt.Errorf("flag --%s takes true or false, got %q", name, val)
				}
				*b = v
			} else {
				*b = true
			}
			continue
		}
		s, ok := f.strs[name]
		if !ok {
			return nil, fmt.Errorf("unknown flag %s for %q (known: %s)", a, f.name, f.known())
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			val = args[i]
		}
		*s = val
	}
	return pos, nil
}

func (f *flagSet) known() string {
	var out []string
	for _, n := range f.ordered {
		out = append(out, "--"+n)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// guardFlags are the flags every deciding command shares.
type guardFlags struct {
	policy    *string
	workspace *string
	format    *string
}

func addGuardFlags(f *flagSet, workspaceHelp string) guardFlags {
	return guardFlags{
		policy:    f.String("policy", "", "policy file (YAML, or the seed's guard-rules.json); default: the built-in policy"),
		workspace: f.String("workspace", "", workspaceHelp),
		format:    f.String("format", "text", "output format: text or json"),
	}
}

func (g guardFlags) checkFormat() error {
	if *g.format != "text" && *g.format != "json" {
		return fmt.Errorf("--format must be text or json, got %q", *g.format)
	}
	return nil
}

// loadPolicy reads the named policy or the built-in one.
func loadPolicy(path string) (*policy.Policy, error) {
	if path == "" {
		return policy.Builtin(), nil
	}
	return policy.Load(path)
}

// newKernel builds a kernel for a command.
func newKernel(policyPath, workspace string, cacheSize int) (*kernel.Kernel, error) {
	return newKernelWith(policyPath, workspace, cacheSize, nil)
}

// newKernelWith builds a kernel that records its decisions with rec.
func newKernelWith(policyPath, workspace string, cacheSize int, rec kernel.Recorder) (*kernel.Kernel, error) {
	p, err := loadPolicy(policyPath)
	if err != nil {
		return nil, err
	}
	if workspace == "" {
		workspace, err = os.Getwd()
		if err != nil {
			return nil, err
		}
	}
	st, err := os.Stat(workspace)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", workspace, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("workspace %s is not a directory", workspace)
	}
	home, _ := os.UserHomeDir()
	if home != "" {
		if r, err := filepath.EvalSymlinks(home); err == nil {
			home = r
		}
	}
	return kernel.New(p, kernel.Options{Workspace: workspace, Home: home, CacheSize: cacheSize, TempDir: os.TempDir(), Recorder: rec})
}

// exitFor maps an action to the exit code contract.
func exitFor(a decision.Action) int {
	switch a {
	case decision.Deny:
		return ExitDeny
	case decision.Confirm:
		return ExitConfirm
	}
	return ExitOK
}

func fail(e *env, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "sentinel: "+format+"\n", args...)
	return ExitError
}
