// Package kernel is Sentinel's decision pipeline: it normalises a raw call,
// analyses it (the shell analyser for exec calls; paths and destinations
// for file and network calls), runs the compiled policy's gates in order,
// and returns the strictest verdict as a Decision with every reason, the
// risk score, a content-derived decision id and the policy revision.
//
// The kernel fails closed: a gate error or panic, a timeout, input that
// cannot be normalised, arguments over the size limit, or a policy that
// failed to reload all end in deny with a reason. It does no I/O of its
// own beyond what the path gate needs to resolve symlinks; storage, audit
// and approvals are layered on top by other packages.
package kernel

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/gate/egressgate"
	"github.com/sentinel-agent/sentinel/internal/gate/rulegate"
	"github.com/sentinel-agent/sentinel/internal/policy"
	"github.com/sentinel-agent/sentinel/internal/request"
	"github.com/sentinel-agent/sentinel/internal/shell"
	"github.com/sentinel-agent/sentinel/internal/taint"
)

// Options configure a kernel. Workspace and Home are the world the calls
// are judged in; the kernel never reads them from the environment itself.
type Options struct {
	// Workspace is the directory agents work in. Relative paths in calls
	// resolve against it (or against the call's cwd when that is inside).
	Workspace string
	// Home is the user's home directory, for "~" and $HOME.
	Home string
	// CacheSize is the number of decisions kept for repeated identical
	// calls; 0 disables the cache.
	CacheSize int
	// KeepLastGood keeps deciding with the previous policy when a reload
	// fails. When false (the default) a failed reload makes every call
	// deny with "policy.invalid" until a valid policy is loaded.
	KeepLastGood bool
	// TempDir is the machine's temporary directory ($TMPDIR); writes there
	// are as ordinary as writes to /tmp.
	TempDir string
	// Shell bounds the shell analyser.
	Shell shell.Options
	// Recorder, when set, records every decision (not explanations) in
	// the audit log. A decision it cannot record is denied: nothing runs
	// unrecorded.
	Recorder Recorder
	// Taint holds the sessions' flags for the rule of two; nil gives the
	// kernel a tracker of its own (in memory, per process).
	Taint *taint.Tracker
}

// Recorder keeps the audit record of decisions; *audit.Log is one.
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) error
}

// CodeAuditUnavailable is the reason code of a call denied because the
// audit log could not record it.
const CodeAuditUnavailable = "audit.unavailable"

// Kernel decides tool calls. It is safe for concurrent use.
type Kernel struct {
	opts     Options
	env      gate.Env
	analyzer *shell.Analyzer
	state    atomic.Pointer[state]
	cache    *cache
	taint    *taint.Tracker
}

type state struct {
	c     *policy.Compiled
	chain gate.Chain
	// broken is set when the last reload failed and KeepLastGood is off.
	broken error
}

// New compiles the policy, checks every rule's examples, and returns a
// kernel. An invalid policy is an error: there is no kernel to fail open.
func New(p *policy.Policy, opts Options) (*Kernel, error) {
	if opts.Workspace == "" {
		return nil, errors.New("kernel: a workspace directory is required")
	}
	ws, err := filepath.Abs(opts.Workspace)
	if err != nil {
		return nil, fmt.Errorf("kernel: workspace %q: %w", opts.Workspace, err)
	}
	if r, err := filepath.EvalSymlinks(ws); err == nil {
		ws = r
	}
	home := "/nonexistent-home"
	if opts.Home != "" {
		if home, err = filepath.Abs(opts.Home); err != nil {
			return nil, fmt.Errorf("kernel: home %q: %w", opts.Home, err)
		}
		if r, err := filepath.EvalSymlinks(home); err == nil {
			home = r
		}
	}
	k := &Kernel{
		opts:     opts,
		env:      gate.Env{Workspace: ws, Home: home, Cwd: ws, Resolved: true},
		analyzer: shell.New(opts.Shell),
		taint:    opts.Taint,
	}
	if k.taint == nil {
		k.taint = taint.New(taint.Options{})
	}
	if opts.CacheSize > 0 {
		k.cache = newCache(opts.CacheSize)
	}
	st, err := k.compile(p)
	if err != nil {
		return nil, err
	}
	k.state.Store(st)
	return k, nil
}

func (k *Kernel) compile(p *policy.Policy) (*state, error) {
	c, err := policy.Compile(p, policy.Options{TempDir: k.opts.TempDir})
	if err != nil {
		return nil, err
	}
	st := &state{c: c, chain: c.Chain()}
	if err := c.Rules.CheckExamples(func(ex rulegate.Example) (*gate.Input, error) {
		in, _, err := k.prepare(st, request.Raw{Tool: ex.Tool, Args: ex.Args}, -1)
		return in, err
	}); err != nil {
		return nil, fmt.Errorf("%s: rule examples: %w", p.Source(), err)
	}
	return st, nil
}

// Reload replaces the policy. On failure the error is returned and,
// unless KeepLastGood is set, every later call is denied with
// "policy.invalid" until a reload succeeds.
func (k *Kernel) Reload(p *policy.Policy) error {
	st, err := k.compile(p)
	if err != nil {
		if !k.opts.KeepLastGood {
			old := k.state.Load()
			k.state.Store(&state{c: old.c, chain: old.chain, broken: err})
		}
		return err
	}
	k.state.Store(st)
	if k.cache != nil {
		k.cache.clear()
	}
	return nil
}

// Revision returns the current policy revision.
func (k *Kernel) Revision() string { return k.state.Load().c.Revision }

// Compiled returns the compiled policy in force.
func (k *Kernel) Compiled() *policy.Compiled { return k.state.Load().c }

// Env returns the world calls are judged in.
func (k *Kernel) Env() gate.Env { return k.env }

// Trace is everything the kernel saw while deciding, for explain and the
// audit log.
type Trace struct {
	Call     *request.ToolCall
	Analysis *analysis.Analysis
	Env      gate.Env
	Results  []gate.Result
}

// Decide decides one call and, with a Recorder, records it. A call it
// lets run (or asks about) sets its session's taint flags.
func (k *Kernel) Decide(ctx context.Context, raw request.Raw) decision.Decision {
	d, _ := k.DecideTrace(ctx, raw)
	return d
}

// DecideTrace is Decide, also returning the normalised call and its
// analysis (nil when the call could not be analysed), for what runs
// around the call: snapshots and verification.
func (k *Kernel) DecideTrace(ctx context.Context, raw request.Raw) (decision.Decision, *Trace) {
	d, tr := k.decide(ctx, raw, false)
	if k.opts.Recorder == nil {
		k.expose(raw.Session, tr, d)
		return d, tr
	}
	var kind string
	var a *analysis.Analysis
	if tr != nil {
		if tr.Call != nil {
			kind = string(tr.Call.Kind)
		}
		a = tr.Analysis
	}
	if err := k.opts.Recorder.Record(ctx, audit.DecisionEvent(raw, kind, a, d)); err != nil {
		return denyDecision(d.PolicyRevision, d.DecisionID, decision.Reason{Gate: "kernel", Code: CodeAuditUnavailable, Action: decision.Deny,
			Message: "the audit log could not record this call, so it is refused; check the data dir or the database",
			Detail:  err.Error()}), tr
	}
	k.expose(raw.Session, tr, d)
	return d, tr
}

// Explain decides one call and returns the trace; it bypasses the cache.
func (k *Kernel) Explain(ctx context.Context, raw request.Raw) (decision.Decision, *Trace) {
	return k.decide(ctx, raw, true)
}

func (k *Kernel) decide(ctx context.Context, raw request.Raw, trace bool) (d decision.Decision, tr *Trace) {
	st := k.state.Load()
	rev := st.c.Revision
	id := decision.NewID()
	defer func() {
		if p := recover(); p != nil {
			d = denyDecision(rev, id, decision.Reason{Gate: "kernel", Code: "kernel.panic", Action: decision.Deny,
				Message: "an internal error occurred; the call is refused",
				Detail:  fmt.Sprintf("%v\n%s", p, debug.Stack())})
			tr = &Trace{Env: k.env}
		}
	}()
	if st.broken != nil {
		return denyDecision(rev, id, decision.Reason{Gate: "kernel", Code: "policy.invalid", Action: decision.Deny,
			Message: "the policy failed to load; every call is refused until it is fixed",
			Detail:  st.broken.Error()}), &Trace{Env: k.env}
	}
	key, size, err := callKey(rev, raw)
	if err != nil {
		return denyDecision(rev, id, decision.Reason{Gate: "kernel", Code: "request.invalid", Action: decision.Deny,
			Message: "the call's arguments cannot be encoded", Detail: err.Error()}), &Trace{Env: k.env}
	}
	// The session's taint flags are part of the call: rules may read them.
	// Shared flags are read from the store only when a rule reads them;
	// the rule of two reads them for calls with an external effect.
	sess := k.taint.State(raw.Session)
	if st.c.Rules.ReadsSession() {
		sess = k.taint.Current(ctx, raw.Session)
	}
	if sess.Untrusted {
		key += "+u"
	}
	if sess.Sensitive {
		key += "+s"
	}
	if !trace && k.cache != nil {
		if cv, ok := k.cache.get(key); ok {
			d = cv.d
			d.DecisionID = id // the verdict repeats; the decision is a new one
			d.Reasons = slices.Clone(d.Reasons)
			k.ruleOfTwo(ctx, st, raw.Session, sess, cv.call, cv.a, &d)
			return d, &Trace{Call: cv.call, Analysis: cv.a}
		}
	}
	// The policy's timeout is checked when the gates are done rather than
	// with a context timer: every gate's work is bounded by input limits,
	// and a timer per decision would cost more than most decisions.
	start := time.Now()
	in, pre, err := k.prepare(st, raw, size)
	if err != nil {
		r := decision.Reason{Gate: "kernel", Code: "request.invalid", Action: decision.Deny,
			Message: "the call is malformed: " + err.Error(), Detail: err.Error()}
		if errors.Is(err, errTooLarge) {
			r.Code, r.Message = "request.too_large", err.Error()
		}
		return denyDecision(rev, id, r), &Trace{Env: k.env}
	}
	in.Trace = trace
	if raw.Session != "" {
		in.Session = sess.Map()
	}
	action, reasons, results := st.chain.Run(ctx, in)
	for _, r := range pre {
		action = decision.Stricter(action, r.Action)
	}
	reasons = append(pre, reasons...)
	var risk decision.Risk
	for _, res := range results {
		if res.Gate == "risk" && res.Verdict.Risk != nil {
			risk = decision.Risk{Score: res.Verdict.Risk.Score(), Dimensions: *res.Verdict.Risk}
		}
	}
	d = decision.Decision{Action: action, Risk: risk, Reasons: sortReasons(reasons), DecisionID: id, PolicyRevision: rev}
	if (ctx.Err() != nil || st.c.Timeout > 0 && time.Since(start) > st.c.Timeout) && !timedOut(d.Reasons) {
		// Whatever the gates said, a decision that ran out of time is not
		// trusted.
		d.Action = decision.Deny
		d.Reasons = append([]decision.Reason{{Gate: "kernel", Code: "kernel.timeout", Action: decision.Deny,
			Message: "the decision did not finish in time; the call is refused"}}, d.Reasons...)
	}
	if k.cache != nil && d.Action == action {
		k.cache.put(key, cached{d: d, kind: string(in.Call.Kind), a: in.Analysis, call: in.Call})
	}
	k.ruleOfTwo(ctx, st, raw.Session, sess, in.Call, in.Analysis, &d)
	if trace {
		tr = &Trace{Call: in.Call, Analysis: in.Analysis, Env: in.Env, Results: results}
	} else {
		tr = &Trace{Call: in.Call, Analysis: in.Analysis}
	}
	return d, tr
}

var errTooLarge = errors.New("arguments too large")

// CodeRuleOfTwo is the reason code of the taint check.
const CodeRuleOfTwo = "taint.rule_of_two"

// ruleOfTwo adds the taint reason to d when the call has an external
// effect and its session has seen untrusted content and read sensitive
// data. A repeated call (from the cache) is checked again: the session
// may have changed since. With shared flags, a session that does not
// carry both here is completed from the store (other replicas may have
// set them).
func (k *Kernel) ruleOfTwo(ctx context.Context, st *state, session string, sess taint.State, call *request.ToolCall, a *analysis.Analysis, d *decision.Decision) {
	act := st.c.Taint
	if act == decision.Allow || d.Action == decision.Deny || !(sess.Untrusted && sess.Sensitive) && !k.taint.Shared() {
		return
	}
	effect, what := taint.Effect(call, a)
	if !effect {
		return
	}
	if !(sess.Untrusted && sess.Sensitive) {
		if sess = k.taint.Current(ctx, session); !(sess.Untrusted && sess.Sensitive) {
			return
		}
	}
	var saw, read []string
	for _, s := range sess.Sources {
		ref := s.Tool + ": " + s.Reason
		if s.DecisionID != "" {
			ref += " (" + s.DecisionID + ")"
		}
		if s.Flag == taint.Untrusted {
			saw = append(saw, ref)
		} else {
			read = append(read, ref)
		}
	}
	d.Reasons = sortReasons(append(d.Reasons, decision.Reason{Gate: "taint", Code: CodeRuleOfTwo, Action: act,
		Message: "this call " + what + " after the session saw untrusted content and read sensitive data; " +
			"an injected instruction could be leaking it, so a human must agree",
		Detail: "untrusted: " + strings.Join(saw, "; ") + " | sensitive: " + strings.Join(read, "; ")}))
	d.Action = decision.Stricter(d.Action, act)
}

// expose sets the session's flags from a call the kernel let run (or
// asks a human about): what it reads and what its output brings in.
func (k *Kernel) expose(session string, tr *Trace, d decision.Decision) {
	if session == "" || tr == nil || tr.Call == nil || d.Action == decision.Deny {
		return
	}
	for _, s := range taint.Exposure(tr.Call, tr.Analysis, d.Reasons) {
		s.DecisionID = d.DecisionID
		k.taint.Mark(session, s)
	}
}

// Observe sets a session's flags from what a call's output held, as a
// host reports it after the call ran (an injection found in a web page,
// a secret in a file's content).
func (k *Kernel) Observe(session, tool, decisionID string, f taint.Flag, why string) {
	k.taint.Mark(session, taint.Source{Flag: f, Tool: tool, DecisionID: decisionID, Reason: why})
}

// Session returns a session's taint flags.
func (k *Kernel) Session(session string) taint.State { return k.taint.State(session) }

// EndSession forgets a session's flags.
func (k *Kernel) EndSession(session string) { k.taint.End(session) }

func timedOut(rs []decision.Reason) bool {
	for _, r := range rs {
		if r.Code == "kernel.timeout" {
			return true
		}
	}
	return false
}

// prepare normalises and analyses a call. The returned reasons come from
// the kernel itself (unknown tool) and join the gates' reasons.
// size is the JSON size of the call's arguments when the caller already
// knows it, or -1.
func (k *Kernel) prepare(st *state, raw request.Raw, size int) (*gate.Input, []decision.Reason, error) {
	if max := st.c.MaxArgBytes; max > 0 {
		if size < 0 {
			b, err := json.Marshal(raw.Args)
			if err != nil {
				return nil, nil, err
			}
			size = len(b)
		}
		if size > max {
			return nil, nil, fmt.Errorf("%w: the arguments are %d bytes of JSON, the limit is %d", errTooLarge, size, max)
		}
	}
	call, err := request.Normalize(raw, st.c.Declared)
	if err != nil {
		return nil, nil, err
	}
	if call.Workspace == "" {
		call.Workspace = k.env.Workspace
	}
	env := k.env
	cwd := call.Cwd
	if c := call.String(request.ArgCwd); c != "" {
		cwd = c
	}
	if cwd != "" {
		if !filepath.IsAbs(cwd) {
			cwd = filepath.Join(env.Workspace, cwd)
		}
		env.Cwd = filepath.Clean(cwd)
	}
	var pre []decision.Reason
	if !call.Known {
		pre = append(pre, decision.Reason{Gate: "kernel", Code: "request.unknown_tool", Action: st.c.UnknownTool,
			Message: fmt.Sprintf("tool %q is not known to the policy; declare it under tools with its kind", call.Tool)})
	}
	a := k.analyze(&call)
	if call.Kind == request.KindFileWrite {
		if r, ok := k.plantedCode(&call, env); ok {
			pre = append(pre, r)
		}
	}
	return &gate.Input{Call: &call, Analysis: a, Env: env}, pre, nil
}

// plantedCode judges what a file tool writes into a place whose content
// runs later (a crontab, a shell start-up file, a program on PATH) the way
// the shell analyser judges "echo … >> ~/.bashrc": remote code planted
// there is refused, and a program that would shadow a system command on
// PATH is asked about.
func (k *Kernel) plantedCode(c *request.ToolCall, env gate.Env) (decision.Reason, bool) {
	content := c.String(request.ArgContent)
	if content == "" {
		return decision.Reason{}, false
	}
	for _, p := range c.AllPaths() {
		forms := []string{p}
		if env.Home != "" && strings.HasPrefix(p, env.Home+"/") {
			forms = append(forms, "~/"+strings.TrimPrefix(p, env.Home+"/"))
		}
		for _, f := range forms {
			if k.analyzer.PlantsRemoteCode(f, content) {
				return decision.Reason{Gate: "path", Code: "path.remote_code_planted", Action: decision.Deny,
					Message: "this writes code that downloads and runs remote content into " + p + ", where it runs later; it is refused",
					Detail:  c.Tool + ": " + p}, true
			}
		}
		for _, f := range forms {
			if name, ok := shell.ShadowedCommand(f); ok {
				return decision.Reason{Gate: "path", Code: "path.persistence", Action: decision.Confirm,
					Message: "this puts a program named " + name + " in " + filepath.Dir(p) + ", ahead of the system's " + name + " on PATH; install it under another name",
					Detail:  c.Tool + ": " + p}, true
			}
		}
	}
	return decision.Reason{}, false
}

// analyze builds the facts for a call.
func (k *Kernel) analyze(c *request.ToolCall) *analysis.Analysis {
	switch c.Kind {
	case request.KindExec:
		return k.analyzer.Analyze(envPrefix(c) + c.Command())
	case request.KindFileRead, request.KindFileWrite, request.KindFileDelete:
		op := analysis.OpRead
		switch c.Kind {
		case request.KindFileWrite:
			op = analysis.OpWrite
		case request.KindFileDelete:
			op = analysis.OpDelete
		}
		a := &analysis.Analysis{}
		for _, p := range c.AllPaths() {
			a.Paths = append(a.Paths, analysis.PathRef{Path: p, Op: op, Command: c.Tool})
		}
		for _, p := range c.Deletes() {
			a.Paths = append(a.Paths, analysis.PathRef{Path: p, Op: analysis.OpDelete, Command: c.Tool})
		}
		return a
	case request.KindNetRequest:
		a := &analysis.Analysis{}
		if c.URL() != "" {
			// An unparseable URL is kept raw here; the egress gate
			// refuses it.
			d, _ := egressgate.RequestDest(c)
			a.Dests = append(a.Dests, d)
		}
		return a
	case request.KindMCP, request.KindOther:
		a := analyzeGeneric(c)
		// A tool of unknown kind that takes a shell command (an MCP
		// server's "run", "shell", "terminal" tool) is judged by that
		// command too, as an exec call would be.
		for _, key := range shellArgKeys {
			if cmd, ok := c.Args[key].(string); ok && cmd != "" {
				sh := k.analyzer.Analyze(cmd)
				a.Commands = append(a.Commands, sh.Commands...)
				a.Paths = append(a.Paths, sh.Paths...)
				a.Dests = append(a.Dests, sh.Dests...)
				for _, f := range sh.Findings {
					a.AddFinding(f)
				}
				a.Privileged = a.Privileged || sh.Privileged
				a.ReadsEnv = a.ReadsEnv || sh.ReadsEnv
				a.Unresolved = append(a.Unresolved, sh.Unresolved...)
				if a.ParseError == "" {
					a.ParseError = sh.ParseError
				}
				break
			}
		}
		return a
	}
	return &analysis.Analysis{}
}

// envPrefix turns an exec call's environment argument into export
// statements in front of its command, so that LD_PRELOAD, BASH_ENV and the
// like are judged as if the command had set them itself.
func envPrefix(c *request.ToolCall) string {
	env, _ := c.Args[request.ArgEnv].(map[string]any)
	if len(env) == 0 {
		return ""
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if !isEnvName(k) {
			continue
		}
		v := fmt.Sprint(env[k])
		b.WriteString("export " + k + "='" + strings.ReplaceAll(v, "'", `'\''`) + "'; ")
	}
	return b.String()
}

func isEnvName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i, r := range s {
		if r != '_' && (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// pathKeys and urlKeys are argument names that, in tools Sentinel has no
// adapter for (MCP servers, custom tools), name files and destinations.
var (
	pathKeys = map[string]bool{"path": true, "file": true, "file_path": true, "filepath": true, "filePath": true, "filename": true,
		"source": true, "destination": true, "dest": true, "target": true, "directory": true, "dir": true, "src": true, "dst": true,
		"paths": true, "files": true}
	urlKeys = map[string]bool{"url": true, "uri": true, "endpoint": true, "href": true, "webhook": true}
)

// analyzeGeneric finds paths and destinations in the arguments of a tool
// without an adapter, so that "mcp__fs__read_file {path: ~/.ssh/id_rsa}"
// meets the path gate like Read does. The operation is read unless the
// tool's name says it writes or deletes.
// shellArgKeys are the argument names under which tools of unknown kind
// pass a shell command, in order of preference.
var shellArgKeys = []string{"command", "cmd", "script", "shell_command"}

func analyzeGeneric(c *request.ToolCall) *analysis.Analysis {
	a := &analysis.Analysis{}
	name := strings.ToLower(c.Tool)
	op := analysis.OpRead
	switch {
	case containsAny(name, "delete", "remove", "unlink", "rmdir", "trash"):
		op = analysis.OpDelete
	case containsAny(name, "write", "edit", "create", "save", "put", "append", "move", "rename", "copy", "upload", "patch", "mkdir"):
		op = analysis.OpWrite
	}
	keys := make([]string, 0, len(c.Args))
	for k := range c.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var vals []string
		switch v := c.Args[k].(type) {
		case string:
			vals = []string{v}
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					vals = append(vals, s)
				}
			}
		}
		for _, v := range vals {
			if v == "" || len(a.Paths)+len(a.Dests) >= 256 {
				continue
			}
			switch {
			case urlKeys[k] || strings.Contains(v, "://"):
				d, err := egressgate.ParseDest(v)
				if err != nil {
					d = analysis.Dest{Raw: v}
				}
				d.Command = c.Tool
				a.Dests = append(a.Dests, d)
			case pathKeys[k]:
				a.Paths = append(a.Paths, analysis.PathRef{Path: v, Op: op, Command: c.Tool})
			}
		}
	}
	return a
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func denyDecision(rev, id string, r decision.Reason) decision.Decision {
	return decision.Decision{Action: decision.Deny, Reasons: []decision.Reason{r}, DecisionID: id, PolicyRevision: rev,
		Risk: decision.Risk{Score: 0, Dimensions: decision.Dimensions{}}}
}

// sortReasons puts the strictest reasons first, keeping gate order within
// an action, so that the first reason is the one that decided.
func sortReasons(rs []decision.Reason) []decision.Reason {
	out := make([]decision.Reason, 0, len(rs))
	for a := decision.Deny; a >= decision.Allow; a-- {
		for _, r := range rs {
			if r.Action == a {
				out = append(out, r)
			}
		}
	}
	return out
}

// callKey is a content hash of everything a decision depends on, and the
// JSON size of the arguments. Each field is written with its length in
// front, so that no two different calls hash the same stream.
func callKey(rev string, raw request.Raw) (string, int, error) {
	args, err := json.Marshal(raw.Args)
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, f := range []string{rev, raw.Tool, raw.Session, raw.Agent, raw.Workspace, raw.Cwd} {
		field([]byte(f))
	}
	field(args)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])), len(args), nil
}
