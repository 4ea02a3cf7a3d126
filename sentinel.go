// Package sentinel is the embeddable Go API of Sentinel, a deterministic
// guard for the tool calls of AI agents.
//
// Build a Guard from a policy (the built-in recommended one, a YAML file,
// or the seed's guard-rules.json) and call Check before running any tool:
//
//	g, err := sentinel.New(sentinel.Options{Workspace: "/path/to/project"})
//	d, err := g.Check(ctx, sentinel.Call{Tool: "exec", Args: map[string]any{"command": "rm -rf /"}})
//	if d.Action.Blocks() { … refuse, or ask a human when d.Action == sentinel.Confirm … }
//
// Check never returns "allow" because of an internal problem: errors,
// panics, timeouts and malformed calls all end in Deny, with a reason.
//
// Execute decides a call and runs it only when it may run, recording how
// it ran in the audit log; Wrap does the same for a tool function in one
// line. Package client talks to a remote Sentinel server instead.
package sentinel

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/inject"
	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/memory"
	"github.com/sentinel-agent/sentinel/internal/pipeline"
	"github.com/sentinel-agent/sentinel/internal/policy"
	"github.com/sentinel-agent/sentinel/internal/request"
	"github.com/sentinel-agent/sentinel/internal/snapshot"
	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
)

// Action is what to do with a call.
type Action = decision.Action

// The actions, from the most permissive to the strictest.
const (
	Allow   = decision.Allow
	Notify  = decision.Notify
	Confirm = decision.Confirm
	Deny    = decision.Deny
)

// Decision is the answer for one call: the action, the risk score with its
// dimensions, the reasons (each with a gate, a stable code and a message),
// the decision's own id (unique, sorting by time), and the policy revision.
type Decision = decision.Decision

// Reason explains one contribution to a decision.
type Reason = decision.Reason

// Call is a tool call as an agent host sends it. Tool is the host's tool
// name ("exec", "Bash", "write_file", "mcp__github__create_issue"); Args
// are its arguments as decoded from JSON.
type Call struct {
	Tool    string
	Args    map[string]any
	Session string
	Agent   string
	// Cwd is the directory the call runs in, if the host says so.
	Cwd string
}

// Policy is a parsed, validated policy.
type Policy struct{ p *policy.Policy }

// BuiltinPolicy returns the built-in recommended policy.
func BuiltinPolicy() *Policy { return &Policy{policy.Builtin()} }

// LoadPolicy reads a policy file: YAML, or the seed's guard-rules.json.
func LoadPolicy(path string) (*Policy, error) {
	p, err := policy.Load(path)
	if err != nil {
		return nil, err
	}
	return &Policy{p}, nil
}

// ParsePolicy parses a YAML policy; name is used in error messages.
func ParsePolicy(name string, data []byte) (*Policy, error) {
	p, err := policy.Parse(name, data)
	if err != nil {
		return nil, err
	}
	return &Policy{p}, nil
}

// Revision is the policy's content hash, as it appears in decisions.
func (p *Policy) Revision() string { return p.p.Revision() }

// Options configure a Guard.
type Options struct {
	// Policy defaults to the built-in recommended policy.
	Policy *Policy
	// Workspace is the directory the agent works in; required.
	Workspace string
	// Home is the user's home directory for "~"; defaults to $HOME.
	Home string
	// CacheSize keeps that many decisions for repeated identical calls.
	CacheSize int
	// DataDir, when set, records every decision in a tamper-evident audit
	// log there (SQLite audit.db, checkpoints signed with audit.key, both
	// created with owner-only permissions). A decision that cannot be
	// recorded is a Deny. Close the guard to sign the last checkpoint.
	DataDir string
	// AuditBatch commits audit events in groups every few milliseconds
	// instead of before Check returns; a failing store still makes Check
	// deny.
	AuditBatch bool
	// RollbackRisk is the risk score from which Execute rolls a call back
	// by itself when its verification fails (with a DataDir); 0 means 7,
	// a negative value never.
	RollbackRisk float64
	// Approve is asked by Execute (and Wrap) whether a confirm decision may
	// run: true runs the call, false or an error refuses it. Without it a
	// confirm is never run by Execute (ErrNeedsApproval). Check ignores it.
	Approve func(ctx context.Context, c Call, d Decision) (bool, error)
}

// Guard decides tool calls. It is safe for concurrent use.
type Guard struct {
	k       *kernel.Kernel
	log     *audit.Log
	st      audit.Store
	approve func(ctx context.Context, c Call, d Decision) (bool, error)

	// For Command: the sandbox profiles and the paths they refer to.
	pol                      *policy.Policy
	workspace, home, dataDir string
	// pipe snapshots, verifies and rolls back around Execute's calls
	// when the guard has a data dir; nil otherwise.
	pipe *pipeline.Pipeline
	// mem is the agents' memory on the data dir's store.
	mem *memory.Memory
}

// New builds a Guard. It compiles the policy and runs every rule's
// examples; an invalid policy is an error.
func New(opts Options) (*Guard, error) {
	p := opts.Policy
	if p == nil {
		p = BuiltinPolicy()
	}
	if opts.Home == "" {
		opts.Home, _ = os.UserHomeDir()
	}
	g := &Guard{approve: opts.Approve, pol: p.p, workspace: opts.Workspace, home: opts.Home, dataDir: opts.DataDir}
	var rec kernel.Recorder
	if opts.DataDir != "" {
		ctx := context.Background()
		st, err := sqlite.Open(ctx, filepath.Join(opts.DataDir, "audit.db"), sqlite.Options{Sync: !opts.AuditBatch})
		if err != nil {
			return nil, err
		}
		key, err := audit.LoadOrCreateKey(filepath.Join(opts.DataDir, audit.KeyFileName))
		if err != nil {
			st.Close()
			return nil, err
		}
		mode := audit.Sync
		if opts.AuditBatch {
			mode = audit.Batch
		}
		l, err := audit.Open(ctx, st, audit.Options{Mode: mode, Key: key})
		if err != nil {
			st.Close()
			return nil, err
		}
		g.log, g.st, rec = l, st, l
		snaps, err := openSnapshots(opts.DataDir)
		if err != nil {
			_ = g.Close(ctx)
			return nil, err
		}
		g.pipe = pipeline.New(pipeline.Options{Snapshots: snaps, Recorder: l, RollbackRisk: opts.RollbackRisk})
		memDir := filepath.Join(opts.DataDir, "memory")
		if err := os.MkdirAll(memDir, 0o700); err != nil {
			_ = g.Close(ctx)
			return nil, err
		}
		g.mem = memory.New(st, memory.Options{Dir: memDir, Injection: injectionCheck})
	}
	k, err := kernel.New(p.p, kernel.Options{Workspace: opts.Workspace, Home: opts.Home, CacheSize: opts.CacheSize,
		TempDir: os.TempDir(), Recorder: rec})
	if err != nil {
		_ = g.Close(context.Background())
		return nil, err
	}
	g.k = k
	return g, nil
}

// Memory is the agents' layered memory: working memory per session,
// episodic events that compress and fade, semantic preferences, facts,
// rules, projects and a glossary, with provenance; InjectContext returns
// the block to put before the model's prompt.
type Memory = memory.Memory

// MemorySource says where a memory came from; memories from tools are
// untrusted and never injected as instructions.
type MemorySource = memory.Source

// Memory returns the guard's memory, kept in the data dir's store. A
// guard without a DataDir has none.
func (g *Guard) Memory() (*Memory, error) {
	if g.mem == nil {
		return nil, errors.New("sentinel: memory needs a DataDir")
	}
	return g.mem, nil
}

// injectionCheck flags what memory is asked to keep when the prompt
// injection scanner finds instructions in it.
func injectionCheck(text string) (bool, string) {
	r := inject.Scan(text)
	if r.Verdict == inject.VerdictClean {
		return false, ""
	}
	return true, "prompt injection (" + strings.Join(r.Categories, ", ") + ")"
}

// openSnapshots opens the snapshot store in the data dir.
func openSnapshots(dataDir string) (*snapshot.Store, error) {
	dir, err := filepath.Abs(filepath.Join(dataDir, "snapshots"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return snapshot.Open(dir, snapshot.Options{})
}

// Close flushes the audit log, signs its closing checkpoint and closes the
// store. A guard without a DataDir has nothing to close.
func (g *Guard) Close(ctx context.Context) error {
	if g.log == nil {
		return nil
	}
	err := g.log.Close(ctx)
	if cerr := g.st.Close(); err == nil {
		err = cerr
	}
	g.log = nil
	return err
}

// ErrUndecided is returned (wrapped, together with a Deny decision) when
// the guard could not decide: a malformed call, an internal error, a
// timeout, or a policy that failed to reload.
var ErrUndecided = errors.New("sentinel: the call could not be decided and is denied")

// Check decides one call. The returned Decision is always usable; err is
// non-nil only when the decision is a fail-closed Deny (see ErrUndecided).
func (g *Guard) Check(ctx context.Context, c Call) (Decision, error) {
	d, _, err := g.check(ctx, c)
	return d, err
}

// check decides c and returns the kernel's view of it too.
func (g *Guard) check(ctx context.Context, c Call) (Decision, *kernel.Trace, error) {
	d, tr := g.k.DecideTrace(ctx, request.Raw{Tool: c.Tool, Args: c.Args, Session: c.Session, Agent: c.Agent, Cwd: c.Cwd})
	for _, r := range d.Reasons {
		if r.Gate == "kernel" && r.Code != "request.unknown_tool" || strings.HasSuffix(r.Code, "gate_error") {
			return d, tr, errors.Join(ErrUndecided, errors.New(r.Code+": "+r.Message))
		}
	}
	return d, tr, nil
}

// Reload replaces the policy. If the new policy is invalid the error is
// returned and the guard denies every call until a valid one is loaded.
func (g *Guard) Reload(p *Policy) error { return g.k.Reload(p.p) }

// Revision returns the revision of the policy in force.
func (g *Guard) Revision() string { return g.k.Revision() }
