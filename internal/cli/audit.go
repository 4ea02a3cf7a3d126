package cli

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/store/postgres"
	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
)

// ExitBroken is `sentinel audit verify`'s exit code for a chain that does
// not verify (1 stays "could not run").
const ExitBroken = 4

// storeFlags locate the data dir and the store.
type storeFlags struct {
	dataDir *string
	kind    *string
	dsn     *string
	key     *string
}

func addStoreFlags(f *flagSet) *storeFlags {
	return &storeFlags{
		dataDir: f.String("data-dir", "", "Sentinel's data directory (default $SENTINEL_HOME, else ~/.sentinel)"),
		kind:    f.String("store", "", "where the audit log lives: sqlite (default, in the data dir) or postgres ($SENTINEL_STORE)"),
		dsn:     f.String("dsn", "", "PostgreSQL connection string for --store postgres ($SENTINEL_POSTGRES_DSN)"),
		key:     f.String("key", "", "the checkpoint signing key file (default $SENTINEL_AUDIT_KEY_FILE, else DATA_DIR/audit.key, created with mode 0600)"),
	}
}

// dataDir resolves --data-dir, $SENTINEL_HOME, ~/.sentinel.
func (s *storeFlags) dir() (string, error) {
	if *s.dataDir != "" {
		return *s.dataDir, nil
	}
	if d := os.Getenv("SENTINEL_HOME"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no data dir: set --data-dir or SENTINEL_HOME (%v)", err)
	}
	return filepath.Join(home, ".sentinel"), nil
}

func (s *storeFlags) keyPath() (string, error) {
	if *s.key != "" {
		return *s.key, nil
	}
	if k := os.Getenv("SENTINEL_AUDIT_KEY_FILE"); k != "" {
		return k, nil
	}
	d, err := s.dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, audit.KeyFileName), nil
}

// open opens the audit store. sync asks SQLite for durable commits.
func (s *storeFlags) open(ctx context.Context, sync bool) (audit.Store, error) {
	kind := *s.kind
	if kind == "" {
		kind = os.Getenv("SENTINEL_STORE")
	}
	switch kind {
	case "", "sqlite":
		d, err := s.dir()
		if err != nil {
			return nil, err
		}
		return sqlite.Open(ctx, filepath.Join(d, "audit.db"), sqlite.Options{Sync: sync})
	case "postgres", "postgresql":
		dsn := *s.dsn
		if dsn == "" {
			dsn = os.Getenv("SENTINEL_POSTGRES_DSN")
		}
		if dsn == "" {
			return nil, errors.New("--store postgres needs --dsn or SENTINEL_POSTGRES_DSN")
		}
		return postgres.Open(ctx, dsn, postgres.Options{})
	}
	return nil, fmt.Errorf("--store %q: use sqlite or postgres", kind)
}

// signingKey loads (or, when create is set, makes) the signing key.
func (s *storeFlags) signingKey(create bool) (*audit.Key, error) {
	p, err := s.keyPath()
	if err != nil {
		return nil, err
	}
	if create {
		return audit.LoadOrCreateKey(p)
	}
	return audit.LoadKey(p)
}

// openLog opens the store and a sync log on it, for commands that record.
func (s *storeFlags) openLog(ctx context.Context) (*audit.Log, audit.Store, error) {
	return s.openLogMode(ctx, audit.Sync)
}

// openLogMode opens the store and a log in the given mode on it.
func (s *storeFlags) openLogMode(ctx context.Context, mode audit.Mode) (*audit.Log, audit.Store, error) {
	st, err := s.open(ctx, mode == audit.Sync)
	if err != nil {
		return nil, nil, err
	}
	key, err := s.signingKey(true)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	l, err := audit.Open(ctx, st, audit.Options{Mode: mode, Key: key})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return l, st, nil
}

// auditModeUsage describes --audit-mode for the long-running commands.
const auditModeUsage = "batch (group commit every few ms, the answer does not wait for it; fail closed once the store fails) or sync (each decision durable before its answer)"

// parseAuditMode reads --audit-mode.
func parseAuditMode(flag, v string) (audit.Mode, error) {
	switch v {
	case "batch":
		return audit.Batch, nil
	case "sync":
		return audit.Sync, nil
	}
	return 0, fmt.Errorf("%s %q: use batch or sync", flag, v)
}

func runAudit(e *env, args []string) int {
	sub := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "list":
		return auditList(e, args)
	case "stats":
		return auditStats(e, args)
	case "export":
		return auditExport(e, args)
	case "verify":
		return auditVerify(e, args)
	case "prune":
		return auditPrune(e, args)
	case "rotate-key":
		return auditRotate(e, args)
	case "public-key":
		return auditPublicKey(e, args)
	}
	return fail(e, "audit: unknown subcommand %q; use list, stats, export, verify, prune, rotate-key or public-key", sub)
}

// filterFlags are the query filters of list and stats.
type filterFlags struct {
	session, agent, tool, action, verify, minRisk, since, until *string
}

func addFilterFlags(f *flagSet) *filterFlags {
	return &filterFlags{
		session: f.String("session", "", "only this session"),
		agent:   f.String("agent", "", "only this agent"),
		tool:    f.String("tool", "", "only this tool"),
		action:  f.String("action", "", "only this action (allow, notify, confirm, deny)"),
		verify:  f.String("verify", "", "only outcome events with this verify status (pass, warn, fail)"),
		minRisk: f.String("min-risk", "", "only risk scores at or above this"),
		since:   f.String("since", "", "from this time (RFC 3339, or a duration back from now: 24h, 7d)"),
		until:   f.String("until", "", "before this time (RFC 3339, or a duration back from now)"),
	}
}

func (ff *filterFlags) filter(now time.Time) (audit.Filter, error) {
	f := audit.Filter{Session: *ff.session, Agent: *ff.agent, Tool: *ff.tool, Action: *ff.action, Verify: *ff.verify}
	if f.Action != "" && !contains([]string{"allow", "notify", "confirm", "deny"}, f.Action) {
		return f, fmt.Errorf("--action %q: use allow, notify, confirm or deny", f.Action)
	}
	if *ff.minRisk != "" {
		r, err := strconv.ParseFloat(*ff.minRisk, 64)
		if err != nil || r < 0 {
			return f, fmt.Errorf("--min-risk %q is not a non-negative number", *ff.minRisk)
		}
		f.MinRisk, f.HasMinRisk = r, true
	}
	var err error
	if f.Since, err = parseWhen(*ff.since, now); err != nil {
		return f, fmt.Errorf("--since: %w", err)
	}
	if f.Until, err = parseWhen(*ff.until, now); err != nil {
		return f, fmt.Errorf("--until: %w", err)
	}
	return f, nil
}

// parseWhen reads RFC 3339 or a duration back from now ("90m", "24h", "7d").
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := parseAge(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-11-21T08:00:00Z) nor a duration (24h, 7d)", s)
}

// parseAge reads a Go duration or a number of days ("30d").
func parseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (90m, 24h, 7d)", s)
	}
	return d, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func auditList(e *env, args []string) int {
	f := newFlags("audit list")
	sf := addStoreFlags(f)
	ff := addFilterFlags(f)
	limit := f.String("limit", "20", "how many events (at most 10000)")
	after := f.String("after", "", "page forward: events after this sequence number")
	format := f.String("format", "text", "text or json")
	if _, err := f.parse(args); err != nil {
		return flagErr(e, f, "audit list", err)
	}
	filter, err := ff.filter(time.Now())
	if err != nil {
		return fail(e, "audit list: %v", err)
	}
	n, err := strconv.Atoi(*limit)
	if err != nil || n < 1 || n > 10000 {
		return fail(e, "audit list: --limit %q must be a number from 1 to 10000", *limit)
	}
	filter.Limit = n
	if *after != "" {
		s, err := strconv.ParseUint(*after, 10, 64)
		if err != nil {
			return fail(e, "audit list: --after %q is not a sequence number", *after)
		}
		filter.AfterSeq = s
	} else {
		// The newest events, printed oldest first.
		filter.Desc = true
	}
	if *format != "text" && *format != "json" {
		return fail(e, "audit list: --format %q: use text or json", *format)
	}
	st, err := sf.open(e.ctx, false)
	if err != nil {
		return fail(e, "audit list: %v", err)
	}
	defer st.Close()
	recs, err := st.Query(e.ctx, filter)
	if err != nil {
		return fail(e, "audit list: %v", err)
	}
	if filter.Desc {
		sort.Slice(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
	}
	if *format == "json" {
		out := make([]json.RawMessage, 0, len(recs))
		for _, r := range recs {
			out = append(out, json.RawMessage(r.Body))
		}
		writeJSON(e.stdout, map[string]any{"events": out, "count": len(out)})
		return ExitOK
	}
	if len(recs) == 0 {
		fmt.Fprintln(e.stdout, "no events")
		return ExitOK
	}
	for _, r := range recs {
		writeEventLine(e.stdout, r)
	}
	return ExitOK
}

func writeEventLine(w io.Writer, r audit.Record) {
	ev, err := audit.Decode(r.Body)
	what := ""
	if err == nil {
		switch {
		case ev.Decision != nil && len(ev.Decision.Reasons) > 0:
			what = ev.Decision.Reasons[0].Code
		case ev.Verify != nil:
			what = "verify " + ev.Verify.Status
		case ev.Execution != nil:
			what = "execution " + ev.Execution.Status
		}
	}
	action := r.Action
	if action == "" {
		action = r.Type
	}
	fmt.Fprintf(w, "%6d  %s  %-7s %5.2f  %-12s %-14s %s\n", r.Seq, r.Time.Format(time.RFC3339), action, r.Risk,
		clipText(r.Tool, 12), clipText(r.Session, 14), what)
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func auditStats(e *env, args []string) int {
	f := newFlags("audit stats")
	sf := addStoreFlags(f)
	ff := addFilterFlags(f)
	high := f.String("high-risk", "4", "risk score counted as high")
	format := f.String("format", "text", "text or json")
	if _, err := f.parse(args); err != nil {
		return flagErr(e, f, "audit stats", err)
	}
	filter, err := ff.filter(time.Now())
	if err != nil {
		return fail(e, "audit stats: %v", err)
	}
	h, err := strconv.ParseFloat(*high, 64)
	if err != nil || h < 0 {
		return fail(e, "audit stats: --high-risk %q is not a non-negative number", *high)
	}
	st, err := sf.open(e.ctx, false)
	if err != nil {
		return fail(e, "audit stats: %v", err)
	}
	defer st.Close()
	s, err := st.Stats(e.ctx, filter, h)
	if err != nil {
		return fail(e, "audit stats: %v", err)
	}
	if *format == "json" {
		writeJSON(e.stdout, map[string]any{"total": s.Total, "by_action": s.ByAction, "by_tool": s.ByTool,
			"failures": s.Failures, "high_risk": s.HighRisk, "high_risk_threshold": h})
		return ExitOK
	}
	fmt.Fprintf(e.stdout, "events     %d\nhigh risk  %d (score ≥ %g)\nfailures   %d (verify failed)\n", s.Total, s.HighRisk, h, s.Failures)
	fmt.Fprintln(e.stdout, "by action")
	for _, k := range sortedKeys(s.ByAction) {
		fmt.Fprintf(e.stdout, "  %-8s %d\n", k, s.ByAction[k])
	}
	fmt.Fprintln(e.stdout, "by tool")
	for _, k := range sortedKeys(s.ByTool) {
		fmt.Fprintf(e.stdout, "  %-16s %d\n", k, s.ByTool[k])
	}
	return ExitOK
}

func sortedKeys(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func auditExport(e *env, args []string) int {
	f := newFlags("audit export")
	sf := addStoreFlags(f)
	format := f.String("format", "jsonl", "jsonl (the only format: one canonical event or checkpoint per line)")
	since := f.String("since", "", "leave out events before this time (RFC 3339 or a duration back from now)")
	output := f.String("output", "", "write to this file instead of standard output")
	if _, err := f.parse(args); err != nil {
		return flagErr(e, f, "audit export", err)
	}
	if *format != "jsonl" {
		return fail(e, "audit export: --format %q: only jsonl is supported", *format)
	}
	t, err := parseWhen(*since, time.Now())
	if err != nil {
		return fail(e, "audit export: --since: %v", err)
	}
	st, err := sf.open(e.ctx, false)
	if err != nil {
		return fail(e, "audit export: %v", err)
	}
	defer st.Close()
	w := e.stdout
	var file *os.File
	if *output != "" {
		file, err = os.OpenFile(*output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fail(e, "audit export: %v", err)
		}
		w = file
	}
	n, err := audit.Export(e.ctx, st, w, t)
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fail(e, "audit export: %v", err)
	}
	fmt.Fprintf(e.stderr, "exported %d events\n", n)
	return ExitOK
}

func auditVerify(e *env, args []string) int {
	f := newFlags("audit verify")
	sf := addStoreFlags(f)
	file := f.String("file", "", "verify this exported JSON Lines file instead of the store")
	pubFile := f.String("public-key", "", "the public key to trust (a file with \"ed25519:BASE64\"); default: the data dir's signing key")
	format := f.String("format", "text", "text or json")
	maxUnsigned := f.String("max-unsigned", "2000", "fail when more events than this follow the last trusted checkpoint (the log signs every 1000 and on close; 0: no limit)")
	if _, err := f.parse(args); err != nil {
		return flagErr(e, f, "audit verify", err)
	}
	limit, err := strconv.ParseUint(*maxUnsigned, 10, 64)
	if err != nil {
		return fail(e, "audit verify: --max-unsigned %q is not a number", *maxUnsigned)
	}
	var trusted []ed25519.PublicKey
	switch {
	case *pubFile != "":
		b, err := os.ReadFile(*pubFile)
		if err != nil {
			return fail(e, "audit verify: --public-key: %v", err)
		}
		pub, err := audit.ParsePublic(b)
		if err != nil {
			return fail(e, "audit verify: --public-key %s: %v", *pubFile, err)
		}
		trusted = append(trusted, pub)
	default:
		// The data dir's key and the keys it rotated away from.
		k, err := sf.signingKey(false)
		if err != nil {
			return fail(e, "audit verify: no key to check signatures with: %v (give --public-key)", err)
		}
		trusted = append(trusted, k.Public())
		path, _ := sf.keyPath()
		olds, _ := filepath.Glob(path + ".*.old")
		for _, o := range olds {
			ok, err := audit.LoadKey(o)
			if err != nil {
				return fail(e, "audit verify: %v", err)
			}
			trusted = append(trusted, ok.Public())
		}
	}
	v := audit.NewVerifier(trusted...).LimitUnsigned(limit)
	var rep audit.Report
	if *file != "" {
		fh, ferr := os.Open(*file)
		if ferr != nil {
			return fail(e, "audit verify: %v", ferr)
		}
		rep, err = audit.VerifyFileWith(fh, v)
		fh.Close()
	} else {
		st, oerr := sf.open(e.ctx, false)
		if oerr != nil {
			return fail(e, "audit verify: %v", oerr)
		}
		rep, err = audit.VerifyStoreWith(e.ctx, st, v)
		st.Close()
	}
	if err != nil {
		return fail(e, "audit verify: %v", err)
	}
	if *format == "json" {
		out := map[string]any{"ok": rep.OK(), "events": rep.Events, "first": rep.First, "last": rep.Last,
			"checkpoints": rep.Checkpoints, "signed_up_to": rep.SignedUpTo, "keys": rep.Keys}
		if rep.Problem != nil {
			out["problem"] = map[string]any{"kind": rep.Problem.Kind, "seq": rep.Problem.Seq, "event_id": rep.Problem.EventID,
				"line": rep.Problem.Line, "detail": rep.Problem.Detail}
		}
		writeJSON(e.stdout, out)
	} else if rep.OK() {
		fmt.Fprintf(e.stdout, "intact: %s (#%d to #%d), %s, signed up to #%d by %s\n",
			plural(rep.Events, "event"), rep.First, rep.Last, plural(uint64(rep.Checkpoints), "checkpoint"), rep.SignedUpTo, strings.Join(rep.Keys, ", "))
		if rep.SignedUpTo < rep.Last {
			fmt.Fprintf(e.stdout, "note: events after #%d are chained but not yet covered by a signed checkpoint\n", rep.SignedUpTo)
		}
	} else {
		fmt.Fprintf(e.stdout, "BROKEN: %v\n", rep.Problem)
	}
	if !rep.OK() {
		return ExitBroken
	}
	return ExitOK
}

func auditPrune(e *env, args []string) int {
	f := newFlags("audit prune")
	sf := addStoreFlags(f)
	age := f.String("max-age", "", "drop events older than this (90d, 720h)")
	count := f.String("max-events", "", "keep only this many newest events")
	if _, err := f.parse(args); err != nil {
		return flagErr(e, f, "audit prune", err)
	}
	var r audit.Retention
	var err error
	if *age != "" {
		if r.MaxAge, err = parseAge(*age); err != nil {
			return fail(e, "audit prune: --max-age: %v", err)
		}
	}
	if *count != "" {
		if r.MaxEvents, err = strconv.ParseUint(*count, 10, 64); err != nil || r.MaxEvents == 0 {
			return fail(e, "audit prune: --max-events %q must be a positive number", *count)
		}
	}
	st, err := sf.open(e.ctx, true)
	if err != nil {
		return fail(e, "audit prune: %v", err)
	}
	defer st.Close()
	key, err := sf.signingKey(false)
	if err != nil {
		return fail(e, "audit prune: %v", err)
	}
	n, err := audit.Prune(e.ctx, st, key, r, time.Now())
	if err != nil {
		return fail(e, "audit prune: %v", err)
	}
	fmt.Fprintf(e.stdout, "pruned %d events; the rest starts from a signed anchor\n", n)
	return ExitOK
}

func auditRotate(e *env, args []string) int {
	f := newFlags("audit rotate-key")
	sf := addStoreFlags(f)
	if _, err := f.parse(args); err != nil {
		return flagErr(e, f, "audit rotate-key", err)
	}
	path, err := sf.keyPath()
	if err != nil {
		return fail(e, "audit rotate-key: %v", err)
	}
	old, err := audit.LoadKey(path)
	if err != nil {
		return fail(e, "audit rotate-key: %v", err)
	}
	next, err := audit.NewKey()
	if err != nil {
		return fail(e, "audit rotate-key: %v", err)
	}
	st, err := sf.open(e.ctx, true)
	if err != nil {
		return fail(e, "audit rotate-key: %v", err)
	}
	defer st.Close()
	if err := audit.Rotate(e.ctx, st, old, next, time.Now()); err != nil {
		return fail(e, "audit rotate-key: %v", err)
	}
	// Keep the old key beside the new one; replace atomically.
	if err := os.WriteFile(path+"."+old.ID()+".old", old.MarshalPrivate(), 0o600); err != nil {
		return fail(e, "audit rotate-key: saving the old key: %v", err)
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, next.MarshalPrivate(), 0o600); err != nil {
		return fail(e, "audit rotate-key: %v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(e, "audit rotate-key: %v", err)
	}
	fmt.Fprintf(e.stdout, "rotated: %s → %s (the rotation checkpoint is signed by both)\n", old.ID(), next.ID())
	return ExitOK
}

func auditPublicKey(e *env, args []string) int {
	f := newFlags("audit public-key")
	sf := addStoreFlags(f)
	if _, err := f.parse(args); err != nil {
		return flagErr(e, f, "audit public-key", err)
	}
	k, err := sf.signingKey(false)
	if err != nil {
		return fail(e, "audit public-key: %v", err)
	}
	_, _ = e.stdout.Write(audit.MarshalPublic(k.Public()))
	return ExitOK
}

// plural renders "1 event", "2 events".
func plural(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatUint(n, 10) + " " + noun + "s"
}

// flagErr prints help or a flag error.
func flagErr(e *env, f *flagSet, name string, err error) int {
	if err == errHelp {
		fmt.Fprintf(e.stdout, "usage: sentinel %s [flags]\n", name)
		f.usage(e.stdout)
		return ExitOK
	}
	return fail(e, "%s: %v", name, err)
}
