// Package pathgate is Sentinel's path gate. It canonicalises every path a
// call touches (home and $HOME forms, the working directory, "..", symbolic
// links, NUL bytes, length) and judges it against the policy: sensitive
// files may not be read or written, protected files may not be deleted or
// overwritten, writes outside the workspace and its write scope need
// approval, writes to system locations more so, and a write whose target is
// only known at run time is flagged. Shell globs and unresolved parts are
// matched conservatively: "/etc/*" touches /etc/shadow.
//
// The gate must never open, read, write or create a file: the only file
// system calls it makes are Lstat and Readlink, to see where a path really
// leads and whether a protected file a wildcard could name is there. It
// must never reach the network.
package pathgate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// Reason codes.
const (
	CodeSensitive        = "path.sensitive"
	CodeProtected        = "path.protected"
	CodeOutsideWorkspace = "path.outside_workspace"
	CodeSystem           = "path.system"
	CodeNUL              = "path.nul_byte"
	CodeInvalid          = "path.invalid"
	CodeSymlinkEscape    = "path.symlink_escape"
	CodePersistence      = "path.persistence"
	CodeWorkspaceRoot    = "path.workspace_root"
	CodeDynamic          = "path.dynamic"
)

// MaxPaths is the most paths one call may carry; more is refused.
const MaxPaths = 4096

const name = "path"

// Gate is a compiled path gate. It is safe for concurrent use.
type Gate struct {
	cfg  Config
	fold bool

	sensitive, readSensitive, writeSensitive, exceptions []pattern
	protected                                            []pattern
	scope, temp                                          []pattern
	system, systemExceptions, adminAreas, persistence    []pattern

	// matches remembers which pattern of a list matched a canonical path,
	// per home and workspace. It holds only results of pure string
	// matching, never file-system facts, so it cannot go stale; it is
	// dropped whole when it grows past maxMatchMemo entries.
	matches   sync.Map // envKey → *matchMemo
	memoCount atomic.Int64
}

type envKey struct{ home, ws string }

type matchKey struct {
	list *pattern // the list's first element identifies the list
	s    string
}

type matchResult struct {
	p  *pattern
	ok bool
}

type matchMemo struct{ m sync.Map } // matchKey → matchResult

const maxMatchMemo = 1 << 16

func (g *Gate) memoFor(home, ws string) *matchMemo {
	k := envKey{home, ws}
	if m, ok := g.matches.Load(k); ok {
		return m.(*matchMemo)
	}
	m, _ := g.matches.LoadOrStore(k, &matchMemo{})
	return m.(*matchMemo)
}

var _ gate.Gate = (*Gate)(nil)

// Name implements gate.Gate.
func (g *Gate) Name() string { return name }

// Class is what the path gate knows about one path, for other gates and
// the risk score.
type Class struct {
	Resolved Resolved
	// Err is set when the path could not be canonicalised. Sensitive is
	// then true too, so that a caller that ignores Err fails closed.
	Err error
	// Sensitive paths may not be read (nor sent anywhere); WriteSensitive
	// ones may not be written. A path in Config.Sensitive is both.
	Sensitive      bool
	WriteSensitive bool
	// Label names the kind of secret ("a private key") when sensitive.
	Label string
	// Pattern is the configured glob that made the path sensitive or
	// protected.
	Pattern   string
	Protected bool
	// System is a system location outside the workspace (and not one of
	// its writable exceptions such as /dev/null).
	System      bool
	InWorkspace bool
	// Temp is a temporary directory.
	Temp bool
	// InWriteScope is the workspace's write scope or a writable system
	// exception.
	InWriteScope bool
}

// Classify canonicalises p (taken literally, without glob expansion) and
// classifies it.
// ClassifyIn classifies a path of the call being decided, reusing what
// Check already worked out for it (and the file-system look-ups it made).
func (g *Gate) ClassifyIn(in *gate.Input, p string) Class {
	sc := g.sceneFor(in)
	if c, ok := sc.classes[p]; ok {
		return c
	}
	t := sc.literal(p)
	if t.err != nil {
		return Class{Err: t.err, Sensitive: true, WriteSensitive: true, Label: "an invalid path"}
	}
	c := g.classify(sc, &t)
	sc.remember(p, c)
	return c
}

type sceneKey struct{}

// sceneFor returns the call's scene, creating it on first use, so that the
// gate and its callers share one set of look-ups per call.
func (g *Gate) sceneFor(in *gate.Input) *scene {
	if sc, ok := in.Recall(sceneKey{}).(*scene); ok && sc.g == g {
		return sc
	}
	sc := g.newScene(in.Env)
	in.Remember(sceneKey{}, sc)
	return sc
}

// Classify classifies one path on its own, outside any call.
func (g *Gate) Classify(p string, env gate.Env) Class {
	sc := g.newScene(env)
	t := sc.literal(p)
	if t.err != nil {
		return Class{Err: t.err, Sensitive: true, WriteSensitive: true, Label: "an invalid path"}
	}
	return g.classify(sc, &t)
}

// IsSensitive reports whether reading or sending p is refused; an invalid
// path counts as sensitive.
func (g *Gate) IsSensitive(p string, env gate.Env) bool {
	return g.Classify(p, env).Sensitive
}

// effect is what one path asks for.
type effect struct {
	reasons []decision.Reason
	risk    decision.Dimensions
	hasRisk bool
}

func (e *effect) add(code string, a decision.Action, msg, detail string) {
	e.reasons = append(e.reasons, decision.Reason{Gate: name, Code: code, Action: a, Message: msg, Detail: detail})
}

func (e *effect) raise(d decision.Dimensions) {
	if !e.hasRisk || d.Score() > e.risk.Score() {
		e.risk, e.hasRisk = d, true
	}
}

// Risk views, on the risk gate's scale (impact 0..3).
var (
	riskReadSecret   = decision.Dimensions{Impact: 1.5, Reversibility: 0.1, Sensitivity: 3}
	riskWriteSecret  = decision.Dimensions{Impact: 2, Reversibility: 0.3, Sensitivity: 3}
	riskSystemWrite  = decision.Dimensions{Impact: 1, Reversibility: 0.74, Sensitivity: 2}
	riskSystemDelete = decision.Dimensions{Impact: 2.5, Reversibility: 0.3, Sensitivity: 2}
	riskSystemWipe   = decision.Dimensions{Impact: 3, Reversibility: 0.1, Sensitivity: 2}
	riskOutWrite     = decision.Dimensions{Impact: 1.5, Reversibility: 0.6, Sensitivity: 1.5}
	riskProtected    = decision.Dimensions{Impact: 1.5, Reversibility: 0.5, Sensitivity: 1.5}
	riskPersistence  = decision.Dimensions{Impact: 2, Reversibility: 0.5, Sensitivity: 2}
	riskDynamic      = decision.Dimensions{Impact: 1, Reversibility: 0.7, Sensitivity: 1, ErrorRate: 0.5}
)

// Check implements gate.Gate.
func (g *Gate) Check(ctx context.Context, in *gate.Input) (gate.Verdict, error) {
	var v gate.Verdict
	if in == nil {
		return v, errors.New("path gate: no input")
	}
	var refs []analysis.PathRef
	if in.Analysis != nil {
		refs = in.Analysis.Paths
	}
	fileKind := false
	if in.Call != nil {
		switch in.Call.Kind {
		case request.KindFileRead, request.KindFileWrite, request.KindFileDelete:
			fileKind = true
		}
	}
	if len(refs) == 0 && !fileKind {
		return v, nil
	}
	// A fresh scene for every Check: look-ups are shared with ClassifyIn
	// for this call only.
	sc := g.newScene(in.Env)
	in.Remember(sceneKey{}, sc)
	if fileKind {
		if len(in.Call.AllPaths()) == 0 {
			// A file call without a path is malformed input, not an
			// internal failure: refuse it with a reason.
			v.Add(decision.Reason{Gate: name, Code: CodeInvalid, Action: decision.Deny,
				Message: fmt.Sprintf("the %s call (%s) names no path; pass the file's path", in.Call.Tool, in.Call.Kind)})
			return v, nil
		}
		if err := g.covered(sc, in.Call, refs); err != nil {
			return gate.Verdict{}, err
		}
	}
	if len(refs) > MaxPaths {
		v.Add(decision.Reason{Gate: name, Code: CodeInvalid, Action: decision.Deny,
			Message: fmt.Sprintf("the call touches %d paths, more than the %d Sentinel checks; split it into smaller calls", len(refs), MaxPaths)})
		return v, nil
	}
	edit := in.Call != nil && inPlaceEdit(in.Call)
	var worst effect
	var rs reasonSet
	for i := range refs {
		if i%64 == 63 {
			if err := ctx.Err(); err != nil {
				return gate.Verdict{}, err
			}
		}
		ref := &refs[i]
		globbing := ref.Dynamic || (!fileKind && hasMeta(ref.Path))
		var t target
		if globbing {
			t = sc.wildcard(ref.Path, ref.Dynamic)
		} else {
			t = sc.literal(ref.Path)
		}
		var e effect
		note := g.judge(sc, ref, &t, edit, &e, in.Trace)
		if in.Trace {
			v.Notes = append(v.Notes, note)
		}
		for _, r := range e.reasons {
			rs.add(&v, r)
		}
		if e.hasRisk {
			worst.raise(e.risk)
		}
	}
	if worst.hasRisk {
		r := worst.risk
		v.Risk = &r
	}
	return v, nil
}

// reasonSet keeps a verdict's reasons free of repeats and bounded: a
// command touching thousands of paths outside the workspace yields a few
// reasons, not thousands. A reason stricter than any kept one with its
// code is always kept, so the verdict's action stays explained.
type reasonSet struct {
	seen    map[string]bool
	perCode map[string]int
}

const maxReasonsPerCode = 16

func (s *reasonSet) add(v *gate.Verdict, r decision.Reason) {
	if s.seen == nil {
		s.seen, s.perCode = map[string]bool{}, map[string]int{}
	}
	key := r.Code + "\x00" + r.Message
	if s.seen[key] {
		return
	}
	if s.perCode[r.Code] >= maxReasonsPerCode && r.Action <= v.Action {
		return
	}
	s.seen[key] = true
	s.perCode[r.Code]++
	v.Add(r)
}

// covered makes sure every path of a file call is in the analysis with
// the operation its kind implies, so that a gap upstream cannot let a
// file call through unjudged.
func (g *Gate) covered(sc *scene, c *request.ToolCall, refs []analysis.PathRef) error {
	want := analysis.OpRead
	switch c.Kind {
	case request.KindFileWrite:
		want = analysis.OpWrite
	case request.KindFileDelete:
		want = analysis.OpDelete
	}
	paths := c.AllPaths()
	if len(paths) == 0 {
		return fmt.Errorf("path gate: %s call %q names no path", c.Kind, c.Tool)
	}
	if len(paths) > MaxPaths {
		return fmt.Errorf("path gate: %s call names %d paths, more than %d", c.Kind, len(paths), MaxPaths)
	}
	exact := make(map[string]bool, len(refs))
	for _, r := range refs {
		if r.Op == want {
			exact[r.Path] = true
		}
	}
	var canon map[string]bool // built only when a path is not there verbatim
	for _, p := range paths {
		if exact[p] {
			continue
		}
		if canon == nil {
			canon = make(map[string]bool, len(refs))
			for _, r := range refs {
				if r.Op != want {
					continue
				}
				if res, err := sc.r.resolve(r.Path); err == nil {
					canon[res.Abs] = true
				}
			}
		}
		if res, err := sc.r.resolve(p); err == nil && canon[res.Abs] {
			continue
		}
		return fmt.Errorf("path gate: path %q of the %s call has no %s entry in the analysis", clip(p), c.Kind, want)
	}
	return nil
}

// inPlaceEdit reports whether a file.write call changes part of a file
// rather than replacing it.
func inPlaceEdit(c *request.ToolCall) bool {
	if c.Kind != request.KindFileWrite {
		return false
	}
	switch c.Tool {
	case "Edit", "MultiEdit", "NotebookEdit", "edit", "edit_file", "apply_patch":
		return true
	}
	return c.Wrapped != "" && (c.Original["old_string"] != nil || c.Original["edits"] != nil)
}

// judge evaluates one path and returns its note for explain.
func (g *Gate) judge(sc *scene, ref *analysis.PathRef, t *target, edit bool, e *effect, trace bool) string {
	shown := clip(ref.Path)
	if t.err != nil {
		if errors.Is(t.err, ErrNUL) {
			e.add(CodeNUL, decision.Deny, "the path contains a NUL byte and is refused; pass the plain file name",
				fmt.Sprintf("%s %q", ref.Op, ref.Path))
		} else {
			e.add(CodeInvalid, decision.Deny, fmt.Sprintf("the path %q could not be resolved (%v); use a plain path inside the workspace", shown, t.err),
				fmt.Sprintf("%s %q: %v", ref.Op, ref.Path, t.err))
		}
		return fmt.Sprintf("%s %q: invalid: %v", ref.Op, shown, t.err)
	}
	mutating := ref.Op == analysis.OpWrite || ref.Op == analysis.OpDelete || ref.Op == analysis.OpChmod
	reading := ref.Op == analysis.OpRead || ref.Op == analysis.OpExec
	// A recursive read, delete or chmod reaches what lies below the path.
	// For reads only user secrets count unless the read is privileged: an
	// ordinary user's "grep -r x /etc" cannot open /etc/shadow. A
	// recursive write ("cp -r dist ~/") adds below the path and is judged
	// on the path itself.
	recursive := ref.Recursive && (reading || ref.Op == analysis.OpDelete || ref.Op == analysis.OpChmod)
	c := g.classify(sc, t)
	sc.remember(ref.Path, c)
	// below: what is sensitive lies under the path, not the path itself
	// ("rm -rf ~" deletes SSH keys; ~ is not one).
	below := false
	if recursive && !t.bare {
		q := sc.below(t)
		if reading && !c.Sensitive {
			for _, l := range [][]pattern{g.sensitive, g.readSensitive} {
				if p, ok := sc.matchGlob(l, q, "", true, !ref.Privileged); ok {
					c.Sensitive, c.Pattern, c.Label, below = true, p.src, label(p.src), true
					break
				}
			}
		}
		if mutating && !c.WriteSensitive {
			for _, l := range [][]pattern{g.sensitive, g.writeSensitive} {
				if p, ok := sc.matchGlob(l, q, "", true, false); ok {
					c.WriteSensitive, c.Pattern, c.Label, below = true, p.src, label(p.src), true
					break
				}
			}
		}
	}
	abs := clip(t.res.Abs)
	detail := fmt.Sprintf("%s %q → %s", ref.Op, ref.Path, t.res.Abs)
	if ref.Command != "" {
		detail = ref.Command + ": " + detail
	}
	if c.Pattern != "" {
		detail += " (pattern " + c.Pattern + ")"
	}

	switch {
	case reading && c.Sensitive:
		what := "reading " + c.Label + " (" + shown + ")"
		if below {
			what = "reading " + shown + " recursively, which reaches " + c.Label + ","
		}
		e.add(CodeSensitive, g.cfg.SensitiveRead,
			decision.Say(what, g.cfg.SensitiveRead, "ask the user for the specific value you need"), detail)
		e.raise(riskReadSecret)
	case mutating && c.WriteSensitive:
		what := "changing " + c.Label + " (" + shown + ")"
		if below {
			verb := "deleting "
			if ref.Op == analysis.OpChmod {
				verb = "changing the mode of "
			}
			what = verb + shown + ", which holds " + c.Label + ","
		}
		e.add(CodeSensitive, g.cfg.SensitiveWrite,
			decision.Say(what, g.cfg.SensitiveWrite, "ask the user to make this change"), detail)
		e.raise(riskWriteSecret)
	}

	if mutating && c.Protected && ref.Op != analysis.OpChmod {
		switch {
		case ref.Op == analysis.OpDelete:
			e.add(CodeProtected, g.cfg.ProtectedAction,
				decision.Say("deleting the protected file "+shown, g.cfg.ProtectedAction, "edit it instead"), detail)
			e.raise(riskProtected)
		case t.res.Exists || t.glob:
			if edit {
				e.add(CodeProtected, decision.Notify,
					decision.Say("editing the protected file "+shown, decision.Notify, ""), detail)
			} else {
				e.add(CodeProtected, g.cfg.ProtectedAction,
					decision.Say("overwriting the protected file "+shown, g.cfg.ProtectedAction, "change it with an edit instead of rewriting it"), detail)
				e.raise(riskProtected)
			}
		}
	}

	// An empty directory runs nothing: mkdir in a cron or profile tree is
	// a write outside the workspace, not a planted job (what is later
	// written into it is judged then).
	if ref.Op == analysis.OpWrite && !c.WriteSensitive && ref.Command != "mkdir" {
		if p, ok := g.persistent(sc, t); ok {
			e.add(CodePersistence, g.cfg.PersistenceAction,
				decision.Say("changing "+shown+", which runs code at boot, login or on a schedule, or decides who logs in and where names resolve (pattern "+p+")", g.cfg.PersistenceAction, "ask the user to make this change"), detail)
			e.raise(riskPersistence)
		}
	}
	// Deleting the workspace or a directory above it ("rm -rf ../.." from
	// a subdirectory). "/" and system trees have their own codes, and "."
	// is how cleaning tools (git clean) name the workspace's contents.
	if ref.Op == analysis.OpDelete && !t.glob && sc.r.ws != "" && !c.System && t.res.Abs != "/" &&
		strings.TrimSuffix(ref.Path, "/") != "." {
		if a := g.foldS(t.res.Abs); a == g.foldS(sc.r.ws) || strings.HasPrefix(g.foldS(sc.r.ws)+"/", strings.TrimSuffix(a, "/")+"/") {
			e.add(CodeWorkspaceRoot, decision.Deny,
				"deleting "+shown+" removes the whole workspace ("+abs+"); delete specific paths inside it instead", detail)
			e.raise(riskSystemWipe)
		}
	}

	where := g.where(sc, t, &c)
	if mutating {
		g.judgeLocation(sc, ref, t, &c, where, shown, abs, detail, e)
	}
	if !trace {
		return ""
	}
	return fmt.Sprintf("%s %q → %s [%s]", ref.Op, shown, abs, describe(&c, t, where))
}

// place is where a path lies.
type place uint8

const (
	placeUnknown place = iota
	placeWorkspace
	placeScope
	placeSystem
	placeOutside
)

func (g *Gate) where(sc *scene, t *target, c *Class) place {
	switch {
	case t.unknownRoot || t.bare:
		return placeUnknown
	case c.InWorkspace:
		return placeWorkspace
	case c.InWriteScope:
		return placeScope
	case c.System:
		return placeSystem
	}
	return placeOutside
}

func (g *Gate) judgeLocation(sc *scene, ref *analysis.PathRef, t *target, c *Class, where place, shown, abs, detail string, e *effect) {
	del := ref.Op == analysis.OpDelete
	escape := where != placeWorkspace && where != placeUnknown && !t.glob &&
		t.res.ViaSymlink && sc.r.lexInWorkspace(t.res.Lexical)
	if where == placeScope && del && scopeRoot(g.scope, sc, g.foldS(t.res.Abs)) {
		// "rm -rf /tmp" is not a write inside /tmp.
		where = placeOutside
		if _, sys := sc.matchLiteral(g.system, g.foldS(t.res.Abs)); sys {
			where = placeSystem
		}
	}
	switch {
	case where == placeUnknown:
		e.add(CodeDynamic, g.cfg.DynamicWrite,
			decision.Say(verb(ref.Op)+" a path only known at run time ("+shown+")", g.cfg.DynamicWrite, "name the path inside the workspace explicitly"), detail)
		e.raise(riskDynamic)
	case where == placeWorkspace:
		if t.dynamic && t.glob && t.prefix != "" && t.prefix == sc.r.ws {
			// A run-time name directly in the workspace stays in it; the
			// risk gate weighs the uncertainty, so no risk view here.
			e.add(CodeDynamic, g.cfg.DynamicWrite,
				decision.Say(verb(ref.Op)+" a path only known at run time ("+shown+")", g.cfg.DynamicWrite, "name the path inside the workspace explicitly"), detail)
		}
	case where == placeScope:
	case escape:
		e.add(CodeSymlinkEscape, g.cfg.SymlinkEscape,
			decision.Say(verb(ref.Op)+" through "+shown+", a link that leads outside the workspace to "+abs+",", g.cfg.SymlinkEscape, "use the real path if that is intended"), detail)
		e.raise(riskOutWrite)
	case where == placeSystem:
		a := g.cfg.SystemWrite
		d := riskSystemWrite
		if del {
			d = riskSystemDelete
			// Wiping a whole system tree (/usr, /var/lib, /etc/*) is
			// refused; pruning deep inside one (/usr/local/lib/x) asks.
			if ref.Recursive && (t.glob && t.prefix != "" && depth(t.prefix) < 2 || depth(t.res.Abs) <= 2) {
				a, d = decision.Deny, riskSystemWipe
			}
		}
		e.add(CodeSystem, a,
			decision.Say(verb(ref.Op)+" in the system location "+abs, a, "keep changes inside the workspace"), detail)
		e.raise(d)
	default:
		// The risk gate scores writes and deletes outside the workspace
		// from the same classification; no second view here.
		e.add(CodeOutsideWorkspace, g.cfg.OutsideWrite,
			decision.Say(verb(ref.Op)+" outside the workspace ("+abs+")", g.cfg.OutsideWrite, "work inside the workspace or a temporary directory"), detail)
	}
}

// depth counts the components of an absolute path ("/" is 0, "/usr" 1).
func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}

// scopeRoot reports whether s is the directory a scope pattern names
// rather than something inside it.
func scopeRoot(scope []pattern, sc *scene, s string) bool {
	for i := range scope {
		p := &scope[i]
		if p.anchor != anchorAbs {
			continue
		}
		root := strings.TrimSuffix(p.glob, "/**")
		if root != p.glob && root == s {
			return true
		}
	}
	return false
}

func verb(op analysis.Op) string {
	switch op {
	case analysis.OpDelete:
		return "deleting"
	case analysis.OpChmod:
		return "changing permissions"
	}
	return "writing"
}

func describe(c *Class, t *target, where place) string {
	var parts []string
	switch where {
	case placeUnknown:
		parts = append(parts, "location unknown")
	case placeWorkspace:
		parts = append(parts, "workspace")
	case placeScope:
		parts = append(parts, "write scope")
	case placeSystem:
		parts = append(parts, "system")
	case placeOutside:
		parts = append(parts, "outside workspace")
	}
	if c.Temp {
		parts = append(parts, "temporary")
	}
	switch {
	case c.Sensitive && c.WriteSensitive:
		parts = append(parts, "sensitive: "+c.Label)
	case c.Sensitive:
		parts = append(parts, "read-sensitive: "+c.Label)
	case c.WriteSensitive:
		parts = append(parts, "write-sensitive: "+c.Label)
	}
	if c.Protected {
		parts = append(parts, "protected")
	}
	if t.res.ViaSymlink {
		parts = append(parts, "via symlink from "+clip(t.res.Lexical))
	}
	if t.glob {
		parts = append(parts, "wildcard")
	}
	return strings.Join(parts, ", ")
}

// clip shortens a path for messages.
func clip(s string) string {
	const max = 160
	if len(s) <= max {
		return s
	}
	i, j := max/2, len(s)-max/2
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	for j < len(s) && !utf8.RuneStart(s[j]) {
		j++
	}
	return s[:i] + "…" + s[j:]
}

// persistent reports whether a write target is a place that makes code run
// later: shell start-up files, autostart entries, service units, cron and
// launch agents, the preload list, and directories early on every user's
// PATH.
func (g *Gate) persistent(sc *scene, t *target) (string, bool) {
	if t.glob {
		if p, ok := sc.matchGlob(g.persistence, t.comps, "", false, false); ok {
			return p.src, true
		}
		return "", false
	}
	for _, s := range []string{t.res.Abs, t.res.Lexical} {
		if s == "" {
			continue
		}
		if p, ok := sc.matchLiteral(g.persistence, g.foldS(s)); ok {
			return p.src, true
		}
	}
	return "", false
}
