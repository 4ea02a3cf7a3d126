package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/evaluator"
	"github.com/sentinel-agent/sentinel/internal/pipeline"
	"github.com/sentinel-agent/sentinel/internal/snapshot"
)

// maxProfileEvents bounds the audit events status and profile read.
const maxProfileEvents = 2_000_000

// loadEvaluatorEvents reads the audit events since a time and maps them
// to the evaluator's input, oldest first.
func loadEvaluatorEvents(ctx context.Context, st audit.Store, since time.Time) ([]evaluator.Event, error) {
	var out []evaluator.Event
	var after uint64
	for {
		recs, err := st.Query(ctx, audit.Filter{Since: since, AfterSeq: after, Limit: 10_000})
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			var ev audit.Event
			if err := json.Unmarshal(r.Body, &ev); err != nil {
				return nil, fmt.Errorf("audit event %d: %v", r.Seq, err)
			}
			if e, ok := evaluator.FromAudit(&ev); ok {
				out = append(out, e)
			}
			after = r.Seq
		}
		if len(recs) < 10_000 || len(out) >= maxProfileEvents {
			return out, nil
		}
	}
}

func qualityProfile(e *env, name string, args []string) (evaluator.Profile, string, int) {
	f := newFlags(name)
	sf := addStoreFlags(f)
	since := f.String("since", "720h", "read the audit events of this long (a Go duration)")
	format := f.String("format", "text", "text or json")
	session := f.String("session", "", "only this session (profile)")
	agent := f.String("agent", "", "only this agent (profile)")
	pos, err := f.parse(args)
	if err == errHelp {
		fmt.Fprintf(e.stdout, "usage: sentinel %s [--since 720h] [--format text|json] [--session S] [--agent A] [store flags]\n", name)
		f.usage(e.stdout)
		return evaluator.Profile{}, "", ExitOK
	}
	if err != nil {
		return evaluator.Profile{}, "", fail(e, "%s: %v", name, err)
	}
	d, err := time.ParseDuration(*since)
	if err != nil || d <= 0 {
		return evaluator.Profile{}, "", fail(e, "%s: --since %q: use a positive duration such as 24h or 720h", name, *since)
	}
	if *format != "text" && *format != "json" {
		return evaluator.Profile{}, "", fail(e, "%s: --format %q: use text or json", name, *format)
	}
	st, err := sf.open(e.ctx, false)
	if err != nil {
		return evaluator.Profile{}, "", fail(e, "%s: the audit store cannot be opened: %v", name, err)
	}
	defer st.Close()
	evs, err := loadEvaluatorEvents(e.ctx, st, time.Now().Add(-d))
	if err != nil {
		return evaluator.Profile{}, "", fail(e, "%s: reading the audit log: %v", name, err)
	}
	kept := evs[:0]
	for _, ev := range evs {
		if (*session == "" || ev.Session == *session) && (*agent == "" || ev.Agent == *agent) {
			kept = append(kept, ev)
		}
	}
	if len(pos) > 0 {
		return evaluator.Profile{}, "", fail(e, "%s: unexpected argument %q", name, pos[0])
	}
	return evaluator.ProfileOf(kept, evaluator.Options{Now: time.Now()}), *format, -1
}

func runStatus(e *env, args []string) int {
	p, format, code := qualityProfile(e, "status", args)
	if code >= 0 {
		return code
	}
	if format == "json" {
		writeJSON(e.stdout, p)
		return ExitOK
	}
	fmt.Fprint(e.stdout, evaluator.Report(p))
	return ExitOK
}

func runProfile(e *env, args []string) int {
	p, format, code := qualityProfile(e, "profile", args)
	if code >= 0 {
		return code
	}
	if format == "json" {
		writeJSON(e.stdout, p)
		return ExitOK
	}
	fmt.Fprint(e.stdout, evaluator.Report(p))
	return ExitOK
}

func runFeedback(e *env, args []string) int {
	f := newFlags("feedback")
	sf := addStoreFlags(f)
	session := f.String("session", "", "the session the signal is about (required)")
	agent := f.String("agent", "", "the agent of that session")
	pos, err := f.parse(args)
	if err == errHelp {
		fmt.Fprintln(e.stdout, "usage: sentinel feedback SIGNAL --session S [--agent A]")
		fmt.Fprintln(e.stdout, "signals: "+signalList())
		f.usage(e.stdout)
		return ExitOK
	}
	if err != nil {
		return fail(e, "feedback: %v", err)
	}
	if len(pos) != 1 {
		return fail(e, "feedback: name one signal: %s", signalList())
	}
	sig, err := evaluator.ParseSignal(pos[0])
	if err != nil {
		return fail(e, "feedback: %v", err)
	}
	if *session == "" {
		return fail(e, "feedback: --session is required: a signal is about one session")
	}
	l, st, err := sf.openLog(e.ctx)
	if err != nil {
		return fail(e, "feedback: the audit log cannot be opened: %v", err)
	}
	defer st.Close()
	err = l.Record(e.ctx, audit.Event{Type: audit.TypeFeedback, Session: *session, Agent: *agent,
		Feedback: &audit.Feedback{Signal: string(sig), Strength: sig.Strength()}})
	if cerr := l.Close(e.ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(e, "feedback: %v", err)
	}
	fmt.Fprintf(e.stdout, "recorded %s (%+.2f) for session %s\n", sig, sig.Strength(), *session)
	return ExitOK
}

func signalList() string {
	var names []string
	for _, s := range evaluator.Signals() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// openSnapshots opens the snapshot store in the data dir.
func openSnapshots(sf *storeFlags) (*snapshot.Store, error) {
	dir, err := sf.dir()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "snapshots"), 0o700); err != nil {
		return nil, err
	}
	return snapshot.Open(filepath.Join(dir, "snapshots"), snapshot.Options{})
}

func runRollback(e *env, args []string) int {
	f := newFlags("rollback")
	sf := addStoreFlags(f)
	dry := f.Bool("dry-run", "show what would be restored; change nothing")
	by := f.String("as", os.Getenv("USER"), "who asks for the rollback (recorded in the audit log)")
	pos, err := f.parse(args)
	if err == errHelp {
		fmt.Fprintln(e.stdout, "usage: sentinel rollback DECISION_ID [--dry-run] [--as NAME]")
		f.usage(e.stdout)
		return ExitOK
	}
	if err != nil {
		return fail(e, "rollback: %v", err)
	}
	if len(pos) != 1 {
		return fail(e, "rollback: name the decision whose changes to undo (sentinel audit list shows ids)")
	}
	snaps, err := openSnapshots(sf)
	if err != nil {
		return fail(e, "rollback: the snapshot store cannot be opened: %v", err)
	}
	opts := pipeline.Options{Snapshots: snaps}
	var closeLog func()
	if !*dry {
		l, st, err := sf.openLog(e.ctx)
		if err != nil {
			return fail(e, "rollback: the audit log cannot be opened, so the rollback could not be recorded: %v", err)
		}
		opts.Recorder = l
		closeLog = func() {
			if err := l.Close(e.ctx); err != nil {
				fmt.Fprintf(e.stderr, "sentinel: rollback: closing the audit log: %v\n", err)
			}
			st.Close()
		}
	}
	rep, err := pipeline.New(opts).Rollback(e.ctx, pos[0], *dry, *by)
	if closeLog != nil {
		closeLog()
	}
	verb := "restored"
	if *dry {
		verb = "would restore"
	}
	for _, o := range rep.Restored {
		fmt.Fprintf(e.stdout, "%s  %s (%s: %s)\n", verb, o.Path, o.Change, o.Action)
	}
	for _, o := range rep.Failed {
		fmt.Fprintf(e.stdout, "FAILED    %s (%s: %s)\n", o.Path, o.Change, o.Action)
	}
	fmt.Fprintf(e.stdout, "%d %s, %d failed, %d unchanged\n", len(rep.Restored), verb, len(rep.Failed), rep.Unchanged)
	if err != nil {
		return fail(e, "rollback: %v", err)
	}
	return ExitOK
}
