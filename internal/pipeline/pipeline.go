// Package pipeline runs what surrounds a decided tool call: before it, a
// snapshot of the files the call may change; after it, verification of
// what the call claims (the eight checks of package verify) against that
// snapshot; on a failed verification of a high-risk call, an automatic
// rollback; and the audit events of each step. Rollback can also be asked
// for by decision id.
//
// Which files are at risk comes from the decision's analysis: the paths
// a command writes, deletes or changes the mode of, and the file of a
// write or delete tool. What a call claims comes from the tool: a Write
// claims its file exists, an Edit that its file changed, a delete that
// its file is gone; a command claims what its analysis names as created
// or deleted only when it ran without error.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/request"
	"github.com/sentinel-agent/sentinel/internal/snapshot"
	"github.com/sentinel-agent/sentinel/internal/verify"
)

// Recorder keeps audit events; *audit.Log is one.
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) error
}

// DefaultRollbackRisk is the risk score from which a failed verification
// rolls the call back by itself (the risk gate's confirm threshold in the
// built-in policy is 3; 7 is a call the policy considers dangerous).
const DefaultRollbackRisk = 7.0

// Options configure a Pipeline.
type Options struct {
	// Snapshots keeps the snapshots; nil disables snapshots (and so the
	// changed check and rollback).
	Snapshots *snapshot.Store
	// Verify configures the checks (linters, timeouts, HTTP client).
	Verify verify.Options
	// Recorder records the verify and rollback events; nil records none.
	Recorder Recorder
	// RollbackRisk is the risk score from which a failed verification
	// rolls back by itself; 0 means DefaultRollbackRisk, a negative value
	// never rolls back automatically.
	RollbackRisk float64
}

// Pipeline is safe for concurrent use.
type Pipeline struct {
	opts Options
}

// New returns a pipeline.
func New(opts Options) *Pipeline {
	if opts.RollbackRisk == 0 {
		opts.RollbackRisk = DefaultRollbackRisk
	}
	return &Pipeline{opts: opts}
}

// AtRisk lists the files a call may change: what its analysis says it
// writes, deletes or changes the mode of, and a write or delete tool's
// own path; relative paths resolve against workspace.
func AtRisk(c *request.ToolCall, a *analysis.Analysis, workspace string) []string {
	var out []string
	add := func(p string) {
		if p == "" || strings.ContainsAny(p, "*?[") {
			return
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(workspace, p)
		}
		p = filepath.Clean(p)
		for _, x := range out {
			if x == p {
				return
			}
		}
		out = append(out, p)
	}
	if c != nil && (c.Kind == request.KindFileWrite || c.Kind == request.KindFileDelete) {
		add(c.String(request.ArgPath))
	}
	if a != nil {
		for _, p := range a.Paths {
			if p.Op == analysis.OpWrite || p.Op == analysis.OpDelete || p.Op == analysis.OpChmod {
				if !p.Dynamic {
					add(p.Path)
				}
			}
		}
	}
	return out
}

// Pre takes the snapshot of the files the call may change, under the
// decision's id. A call that changes no file has no snapshot (nil, nil);
// paths outside the workspace are left out (the snapshot store keeps the
// workspace only).
func (p *Pipeline) Pre(ctx context.Context, decisionID, workspace string, c *request.ToolCall, a *analysis.Analysis) (*snapshot.Snapshot, error) {
	if p.opts.Snapshots == nil {
		return nil, nil
	}
	var paths []string
	for _, f := range AtRisk(c, a, workspace) {
		if within(f, workspace) {
			paths = append(paths, f)
		}
	}
	if len(paths) == 0 {
		return nil, nil
	}
	return p.opts.Snapshots.Take(ctx, decisionID, workspace, paths)
}

func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// ClaimFor is what a call claims once it ran: files a Write created or
// changed, an Edit changed, a delete removed; what a command's analysis
// says it created or deleted, when it succeeded; and output when the tool
// is one that answers (a read, a fetch, a query).
func ClaimFor(c *request.ToolCall, a *analysis.Analysis, workspace, result string, ok bool, snap *snapshot.Snapshot) verify.Claim {
	var cl verify.Claim
	if c == nil {
		return cl
	}
	abs := func(p string) string {
		if !filepath.IsAbs(p) {
			p = filepath.Join(workspace, p)
		}
		return filepath.Clean(p)
	}
	existed := func(p string) bool {
		if snap == nil {
			return false
		}
		rel, err := filepath.Rel(snap.Workspace, p)
		if err != nil {
			return false
		}
		rel = filepath.ToSlash(rel)
		for _, f := range snap.Files {
			if f.Path == rel {
				return f.Exists
			}
		}
		return false
	}
	switch c.Kind {
	case request.KindFileWrite:
		if path := c.String(request.ArgPath); path != "" {
			path = abs(path)
			// A Write whose content equals what was there is not a
			// change: only a file that did not exist must now exist.
			if existed(path) && !strings.EqualFold(c.Tool, "Write") {
				cl.Modified = append(cl.Modified, path)
			} else {
				cl.Created = append(cl.Created, path)
			}
		}
	case request.KindFileDelete:
		if path := c.String(request.ArgPath); path != "" {
			cl.Deleted = append(cl.Deleted, abs(path))
		}
	case request.KindFileRead, request.KindNetRequest, request.KindDBQuery:
		cl.ExpectResult, cl.Result = true, result
	case request.KindExec:
		if ok && a != nil {
			for _, pr := range a.Paths {
				if pr.Dynamic || strings.ContainsAny(pr.Path, "*?[") {
					continue
				}
				if pr.Op == analysis.OpDelete && pr.Command == "rm" {
					cl.Deleted = append(cl.Deleted, abs(pr.Path))
				}
			}
			dir := workspace
			if c.Cwd != "" {
				dir = abs(c.Cwd)
			}
			for _, cmd := range a.Commands {
				if cmd.Dynamic || cmd.Depth > 0 {
					continue
				}
				switch {
				case cmd.Name == "git" && firstVerb(cmd.Args) == "push" && cl.Push == nil:
					cl.Push = pushClaim(cmd.Args, dir)
				case (cmd.Name == "npm" || cmd.Name == "pnpm" || cmd.Name == "yarn") && firstVerb(cmd.Args) == "publish" && cl.Publish == nil:
					cl.Publish = publishClaim(cmd.Args, dir)
				}
			}
		}
	}
	return cl
}

// firstVerb is a command's first argument that is not an option.
func firstVerb(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

// pushClaim is what `git push [remote [branch]]` claims: the remote's
// branch now has the local commit. A refspec with a colon, a force push
// of a deletion or --all/--tags/--mirror is not checked (nil).
func pushClaim(args []string, dir string) *verify.Push {
	var pos []string
	for _, a := range args {
		switch {
		case a == "--all" || a == "--tags" || a == "--mirror" || a == "--delete" || a == "-d":
			return nil
		case strings.HasPrefix(a, "-"):
			continue
		default:
			pos = append(pos, a)
		}
	}
	// pos[0] is "push".
	p := &verify.Push{Dir: dir}
	if len(pos) > 1 {
		p.Remote = pos[1]
	}
	if len(pos) > 2 {
		ref := strings.TrimPrefix(pos[2], "+")
		if strings.Contains(ref, ":") || ref == "HEAD" {
			return nil
		}
		p.Branch = strings.TrimPrefix(ref, "refs/heads/")
	}
	if len(pos) > 3 {
		return nil
	}
	return p
}

// publishClaim is what `npm publish` claims: the package.json's name and
// version are in the registry (--registry, else npm's default).
func publishClaim(args []string, dir string) *verify.Publish {
	reg := "https://registry.npmjs.org"
	pkgDir := dir
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--registry" && i+1 < len(args):
			reg = args[i+1]
			i++
		case strings.HasPrefix(a, "--registry="):
			reg = strings.TrimPrefix(a, "--registry=")
		case strings.HasPrefix(a, "-"):
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) > 1 {
		// `npm publish <folder>`; a tarball is not read.
		if strings.HasSuffix(pos[1], ".tgz") {
			return nil
		}
		pkgDir = pos[1]
		if !filepath.IsAbs(pkgDir) {
			pkgDir = filepath.Join(dir, pkgDir)
		}
	}
	var pkg struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	data, err := readSmall(filepath.Join(pkgDir, "package.json"), 1<<20)
	if err != nil || json.Unmarshal(data, &pkg) != nil || pkg.Name == "" || pkg.Version == "" {
		return nil
	}
	return &verify.Publish{Registry: reg, Package: pkg.Name, Version: pkg.Version}
}

// readSmall reads a file of at most max bytes.
func readSmall(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, errors.New("too large")
	}
	return data, nil
}

// Before adapts a snapshot to verify.Before.
type Before struct{ Snap *snapshot.Snapshot }

// State reports a path's recorded state: absolute paths under the
// snapshot's workspace.
func (b Before) State(path string) (exists bool, sha256 string, ok bool) {
	if b.Snap == nil {
		return false, "", false
	}
	rel, err := filepath.Rel(b.Snap.Workspace, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return false, "", false
	}
	rel = filepath.ToSlash(rel)
	for _, f := range b.Snap.Files {
		if f.Path == rel {
			return f.Exists, f.SHA256, true
		}
	}
	return false, "", false
}

// Snapshot returns the snapshot taken for a decision (or call id), or an
// error when there is none.
func (p *Pipeline) Snapshot(id string) (*snapshot.Snapshot, error) {
	if p.opts.Snapshots == nil {
		return nil, errors.New("snapshots are not enabled")
	}
	return p.opts.Snapshots.ByDecision(id)
}

// ErrNotRecorded is wrapped by Post's error when the outcome event could
// not be recorded.
var ErrNotRecorded = errors.New("pipeline: the outcome could not be recorded")

// PostResult is what Post found and did.
type PostResult struct {
	// Event is the outcome event Post recorded.
	Event    audit.Event      `json:"-"`
	Verify   verify.Report    `json:"verify"`
	Rollback *snapshot.Report `json:"rollback,omitempty"`
	// RollbackErr is why an automatic rollback did not complete.
	RollbackErr string `json:"rollback_error,omitempty"`
}

// Post verifies a call that ran against its claim and snapshot, records
// the verification, and rolls back a failed high-risk call.
func (p *Pipeline) Post(ctx context.Context, d decision.Decision, ev audit.Event, snap *snapshot.Snapshot, cl verify.Claim) (PostResult, error) {
	var before verify.Before
	if snap != nil {
		before = Before{Snap: snap}
	}
	res := PostResult{Verify: verify.Run(ctx, cl, before, p.opts.Verify)}
	ev.Type = audit.TypeOutcome
	ev.DecisionID = d.DecisionID
	ev.Verify = toAuditVerify(res.Verify)
	var errs []error
	if p.opts.RollbackRisk > 0 && res.Verify.Status == verify.Fail && d.Risk.Score >= p.opts.RollbackRisk && snap != nil && p.opts.Snapshots != nil {
		rep, err := p.opts.Snapshots.Restore(ctx, snap, snapshot.RestoreOptions{})
		res.Rollback = &rep
		ev.Rollback = toAuditRollback(rep, err)
		if err != nil {
			res.RollbackErr = err.Error()
			errs = append(errs, fmt.Errorf("automatic rollback: %w", err))
		}
	}
	if p.opts.Recorder != nil {
		if err := p.opts.Recorder.Record(ctx, ev); err != nil {
			errs = append(errs, fmt.Errorf("%w: %w", ErrNotRecorded, err))
		}
	}
	res.Event = ev
	return res, errors.Join(errs...)
}

// Rollback restores the snapshot taken for a decision and records it.
func (p *Pipeline) Rollback(ctx context.Context, decisionID string, dryRun bool, by string) (snapshot.Report, error) {
	if p.opts.Snapshots == nil {
		return snapshot.Report{}, errors.New("rollback: snapshots are not enabled")
	}
	snap, err := p.opts.Snapshots.ByDecision(decisionID)
	if err != nil {
		return snapshot.Report{}, fmt.Errorf("rollback: %w", err)
	}
	rep, err := p.opts.Snapshots.Restore(ctx, snap, snapshot.RestoreOptions{DryRun: dryRun})
	if !dryRun && p.opts.Recorder != nil {
		rb := toAuditRollback(rep, err)
		ev := audit.Event{Type: audit.TypeOutcome, DecisionID: decisionID, Agent: by, Rollback: rb,
			Execution: &audit.Execution{Status: "skipped", Result: "manual rollback"}}
		if rerr := p.opts.Recorder.Record(ctx, ev); rerr != nil {
			err = errors.Join(err, fmt.Errorf("recording the rollback: %w", rerr))
		}
	}
	return rep, err
}

func toAuditVerify(r verify.Report) *audit.Verify {
	v := &audit.Verify{Status: string(r.Status)}
	for _, c := range r.Checks {
		s := c.Name + ":" + string(c.Status)
		if c.Code != "" {
			s += ":" + c.Code
		}
		v.Checks = append(v.Checks, s)
	}
	return v
}

func toAuditRollback(rep snapshot.Report, err error) *audit.Rollback {
	rb := &audit.Rollback{Status: "done"}
	for _, o := range rep.Restored {
		rb.Files = append(rb.Files, o.Path)
	}
	if err != nil || len(rep.Failed) > 0 {
		rb.Status = "failed"
		var why []string
		for _, o := range rep.Failed {
			why = append(why, o.Path+": "+o.Action)
		}
		if err != nil {
			why = append(why, err.Error())
		}
		rb.Error = strings.Join(why, "; ")
	}
	return rb
}
