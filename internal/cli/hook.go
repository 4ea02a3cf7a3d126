package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/hook"
	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// Error codes of the standalone hook's refusals, besides hook.Code*.
const (
	codeHookSetup = "hook.setup_failed"
	codeHookAudit = "hook.audit_unavailable"
)

func runHook(e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		hookUsage(e.stdout)
		if len(args) == 0 {
			return ExitError
		}
		return ExitOK
	}
	switch args[0] {
	case "claude-code":
		return hookClaudeCode(e, args[1:])
	case "install", "uninstall":
		return hookInstall(e, args[0], args[1:])
	}
	return fail(e, "hook: unknown subcommand %q; use claude-code, install claude-code or uninstall claude-code", args[0])
}

func hookUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: sentinel hook claude-code [--server URL] [--data-dir D] [--policy F] [--workspace W] [--timeout 5s]")
	fmt.Fprintln(w, "       sentinel hook install claude-code [--user|--project|--local|--settings FILE] [--server URL | --command CMD | --in-process] [--dry-run]")
	fmt.Fprintln(w, "       sentinel hook uninstall claude-code [--user|--project|--local|--settings FILE] [--command CMD] [--dry-run]")
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "install registers sentinel-hook when it is next to sentinel: it links no kernel or store, so each call starts faster.")
	fmt.Fprintln(w, "  without --server: <dir of sentinel>/sentinel-hook claude-code --local   asks this user's server on a socket in the")
	fmt.Fprintln(w, "                    data dir, started on the first call for the workspace, stopped after 30 idle minutes")
	fmt.Fprintln(w, "  --server URL:     <dir of sentinel>/sentinel-hook claude-code --server URL (token from $SENTINEL_TOKEN)")
	fmt.Fprintln(w, "  without sentinel-hook, or with --in-process: <sentinel> hook claude-code [--server URL]")
}

func hookClaudeCode(e *env, args []string) int {
	f := newFlags("hook claude-code")
	server := f.String("server", "", "ask a Sentinel server (POST URL/v1/check, token from $SENTINEL_TOKEN) instead of deciding here")
	timeout := f.String("timeout", "5s", fmt.Sprintf("deadline for the whole hook call (at most %s); past it the call is refused", hook.MaxTimeout))
	policy := f.String("policy", "", "policy file (default: the built-in policy); standalone only")
	workspace := f.String("workspace", "", "workspace directory (default: $CLAUDE_PROJECT_DIR, else the event's cwd); standalone only")
	sf := addStoreFlags(f)
	pos, err := f.parse(args)
	if err == errHelp {
		hookUsage(e.stdout)
		f.usage(e.stdout)
		return ExitOK
	}
	if err != nil {
		return hook.Refuse(e.stderr, hook.Errorf(hook.CodeUsage, "%v", err))
	}
	if len(pos) > 0 {
		return hook.Refuse(e.stderr, hook.Errorf(hook.CodeUsage, "unexpected argument %q; the event comes on stdin", pos[0]))
	}
	d, err := hook.ParseTimeout(*timeout)
	if err != nil {
		return hook.Refuse(e.stderr, err)
	}
	if *server != "" {
		// The server decides with its own policy and workspace: flags
		// that look as if they applied would mislead.
		if *policy != "" || *workspace != "" {
			return hook.Refuse(e.stderr, hook.Errorf(hook.CodeUsage, "--policy and --workspace apply without --server only; the server uses its own"))
		}
		return hook.RunRemote(e.ctx, e.stdin, e.stdout, e.stderr, hook.RemoteConfig{URL: *server, Token: os.Getenv("SENTINEL_TOKEN"), Timeout: d})
	}
	return hook.Run(e.ctx, e.stdin, e.stdout, e.stderr, d, &hookLocal{e: e, policy: *policy, workspace: *workspace, store: sf})
}

// hookLocal decides with the kernel in process and records into the
// audit log, opened for each call.
type hookLocal struct {
	e         *env
	policy    string
	workspace string
	store     *storeFlags
}

var _ hook.Backend = (*hookLocal)(nil)

// workspaceFor picks the workspace: --workspace, $CLAUDE_PROJECT_DIR, the
// event's cwd, the current directory.
func (h *hookLocal) workspaceFor(in hook.Input) string {
	if h.workspace != "" {
		return h.workspace
	}
	if d := os.Getenv("CLAUDE_PROJECT_DIR"); d != "" {
		return d
	}
	return in.Cwd
}

// hookLinkRecorder records the decision under the tool_use_id Claude Code
// gave the call, so that the PostToolUse outcome (a separate process that
// never sees the kernel's decision id) names the same decision.
type hookLinkRecorder struct {
	rec  kernel.Recorder
	link string
}

func (l *hookLinkRecorder) Record(ctx context.Context, ev audit.Event) error {
	if l.rec == nil {
		return errors.New("the audit log is not open")
	}
	if l.link != "" && ev.Type == audit.TypeDecision {
		ev.DecisionID = l.link
	}
	return l.rec.Record(ctx, ev)
}

// openLog opens the audit log in sync mode: every event durable before
// the hook answers.
func (h *hookLocal) openLog(ctx context.Context) (*audit.Log, func(*env), error) {
	l, st, err := h.store.openLog(ctx)
	if err != nil {
		return nil, nil, hook.Errorf(codeHookAudit, "the audit log cannot be opened: %v", err)
	}
	closeLog := func(e *env) {
		// The event is durable once Record returned; a failed shutdown
		// checkpoint is reported, not turned into a refusal.
		if err := l.Close(ctx); err != nil {
			fmt.Fprintf(e.stderr, "sentinel: closing the audit log: %v\n", err)
		}
		_ = st.Close()
	}
	return l, closeLog, nil
}

// Check decides the call; the decision is recorded under the event's
// tool_use_id link before it is answered.
func (h *hookLocal) Check(ctx context.Context, in hook.Input) (hook.Verdict, error) {
	raw := request.Raw{Tool: in.ToolName, Args: in.ToolInput, Session: in.SessionID, Agent: hook.Agent, Cwd: in.Cwd}
	// The kernel (and its policy) comes first: a broken policy file
	// should not cost opening the store. The recorder gets the log once
	// it is open, before any decision.
	rec := &hookLinkRecorder{link: hook.DecisionID(in.ToolUseID)}
	k, err := newKernelWith(h.policy, h.workspaceFor(in), 0, rec)
	if err != nil {
		return hook.Verdict{}, hook.Errorf(codeHookSetup, "%v", err)
	}
	l, closeLog, err := h.openLog(ctx)
	if err != nil {
		return hook.Verdict{}, err
	}
	defer closeLog(h.e)
	rec.rec = l
	d := k.Decide(ctx, raw)
	return hook.Verdict{Action: d.Action, Reasons: d.Reasons}, nil
}

// Outcome records that the call ran, and what the scan found.
func (h *hookLocal) Outcome(ctx context.Context, in hook.Input, rep hook.Report) error {
	l, closeLog, err := h.openLog(ctx)
	if err != nil {
		return err
	}
	defer closeLog(h.e)
	ev := audit.Event{Type: audit.TypeOutcome, DecisionID: hook.DecisionID(in.ToolUseID), Session: in.SessionID,
		Agent: hook.Agent, Tool: in.ToolName, Execution: &audit.Execution{Status: "ok", DurationMS: in.DurationMS}}
	if !rep.Empty() {
		ev.Verify = &audit.Verify{Status: "warn", Checks: rep.Codes()}
	}
	if err := l.Record(ctx, ev); err != nil {
		return hook.Errorf(codeHookAudit, "the outcome could not be recorded: %v", err)
	}
	return nil
}

func hookInstall(e *env, verb string, args []string) int {
	f := newFlags("hook " + verb)
	user := f.Bool("user", "edit ~/.claude/settings.json (the default)")
	project := f.Bool("project", "edit .claude/settings.json in the current directory (shared with the project)")
	local := f.Bool("local", "edit .claude/settings.local.json in the current directory (yours, not committed)")
	file := f.String("settings", "", "edit this settings file")
	command := f.String("command", "", "the hook command (default: this binary's absolute path followed by \"hook claude-code\"); for uninstall, also remove entries running exactly this")
	var server *string
	var inProcess *bool
	if verb == "install" {
		server = f.String("server", "", "register a hook that asks the Sentinel server at URL: sentinel-hook next to this binary when it is there, else this binary (see above)")
		inProcess = f.Bool("in-process", "register this binary's own hook, which decides in the hook process (no local server, but ~50 ms a call)")
	}
	dry := f.Bool("dry-run", "show what would change and the resulting file; write nothing")
	pos, err := f.parse(args)
	if err == errHelp {
		hookUsage(e.stdout)
		f.usage(e.stdout)
		return ExitOK
	}
	if err != nil {
		return fail(e, "hook %s: %v", verb, err)
	}
	if len(pos) != 1 || pos[0] != "claude-code" {
		return fail(e, "hook %s: name the host: sentinel hook %s claude-code", verb, verb)
	}
	n := 0
	for _, b := range []bool{*user, *project, *local, *file != ""} {
		if b {
			n++
		}
	}
	if n > 1 {
		return fail(e, "hook %s: give at most one of --user, --project, --local and --settings", verb)
	}
	path := *file
	switch {
	case *project:
		path = filepath.Join(".claude", "settings.json")
	case *local:
		path = filepath.Join(".claude", "settings.local.json")
	case path == "":
		home, err := os.UserHomeDir()
		if err != nil {
			return fail(e, "hook %s: no home directory (%v); use --project, --local or --settings", verb, err)
		}
		path = filepath.Join(home, ".claude", "settings.json")
	}
	if path, err = filepath.Abs(path); err != nil {
		return fail(e, "hook %s: %v", verb, err)
	}
	cmd := *command
	opts := hook.FileOptions{DryRun: *dry}
	var res hook.FileResult
	if verb == "install" {
		if cmd != "" && *server != "" {
			return fail(e, "hook install: give --server or --command, not both (--command is the whole command line)")
		}
		if *inProcess && (cmd != "" || *server != "") {
			return fail(e, "hook install: --in-process goes without --server and --command")
		}
		if *server != "" {
			if err := hook.CheckServerURL(*server); err != nil {
				return fail(e, "hook install: %v", err)
			}
		}
		if cmd == "" {
			if cmd, err = hookSelfCommand(*server, *inProcess); err != nil {
				return fail(e, "hook install: %v", err)
			}
		}
		res, err = hook.InstallFile(path, cmd, opts)
	} else {
		res, err = hook.UninstallFile(path, cmd, opts)
	}
	if err != nil {
		return fail(e, "hook %s: %v", verb, err)
	}
	fmt.Fprintf(e.stdout, "%s:\n", res.Path)
	for _, c := range res.Changes {
		fmt.Fprintf(e.stdout, "  %-17s %s\n", c.Event, c.Action)
	}
	switch {
	case !res.Changed && verb == "install":
		fmt.Fprintln(e.stdout, "no change: Sentinel's hooks are already installed")
	case !res.Changed:
		fmt.Fprintln(e.stdout, "no change: there are no Sentinel hooks to remove")
	case *dry:
		fmt.Fprintln(e.stdout, "dry run, nothing written; the file would become:")
		_, _ = e.stdout.Write(res.Content)
	default:
		if res.Backup != "" {
			fmt.Fprintf(e.stdout, "backup: %s\n", res.Backup)
		}
		if verb == "install" {
			fmt.Fprintf(e.stdout, "installed: Claude Code now runs %s\n", cmd)
		} else {
			fmt.Fprintln(e.stdout, "removed")
		}
	}
	return ExitOK
}

// hookSelfCommand is the hook command for the running binary, asking
// server when it is not empty.
func hookSelfCommand(server string, inProcess bool) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find this binary's path (%v); pass --command", err)
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "", fmt.Errorf("this binary is a temporary build (%s, from go run) that will disappear; install sentinel and run it from there, or pass --command", exe)
	}
	if inProcess {
		return hook.CommandFor(exe), nil
	}
	return hookCommandFor(exe, server), nil
}

// hookCommandFor is the hook command for the sentinel binary at exe.
// sentinel-hook next to exe is preferred: it starts without the kernel,
// the stores and the server this binary links in, and asks the server,
// or without one this user's local server (started on demand).
func hookCommandFor(exe, server string) string {
	thin := filepath.Join(filepath.Dir(exe), "sentinel-hook"+filepath.Ext(exe))
	fi, err := os.Stat(thin)
	hasThin := err == nil && fi.Mode().IsRegular() && (runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0)
	switch {
	case server == "" && hasThin:
		return hook.LocalCommandFor(thin)
	case server == "":
		return hook.CommandFor(exe)
	case hasThin:
		return hook.ThinCommandFor(thin, server)
	}
	return hook.RemoteCommandFor(exe, server)
}
