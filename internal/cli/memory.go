package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/inject"
	"github.com/sentinel-agent/sentinel/internal/memory"
)

// injectionCheck is the memory's poisoning check: the prompt-injection
// scanner's verdict on what is about to be remembered.
func injectionCheck(text string) (bool, string) {
	r := inject.Scan(text)
	if r.Verdict == inject.VerdictClean {
		return false, ""
	}
	return true, "prompt injection (" + strings.Join(r.Categories, ", ") + ")"
}

// openMemory opens the memory on the data dir's store, writing
// MEMORY.md and the daily logs under DATA_DIR/memory.
func openMemory(sf *storeFlags, st audit.Store, agent string) (*memory.Memory, error) {
	ms, ok := st.(memory.Store)
	if !ok {
		return nil, fmt.Errorf("this store does not keep memory")
	}
	dir, err := sf.dir()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(filepath.Join(dir, "memory")); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return memory.New(ms, memory.Options{Agent: agent, Dir: dir, Injection: injectionCheck}), nil
}

func runMemory(e *env, args []string) int {
	usage := "usage: sentinel memory show [--kind K] | search TEXT | import FILE | export [--format jsonl|markdown] | forget ID | context [--session S] [--budget N] | stats"
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stdout, usage)
		if len(args) == 0 {
			return ExitError
		}
		return ExitOK
	}
	sub, rest := args[0], args[1:]
	f := newFlags("memory " + sub)
	sf := addStoreFlags(f)
	agent := f.String("agent", "default", "whose memory")
	kind := f.String("kind", "", "show: only this kind (preference, fact, rule, project, glossary, or an event type)")
	format := f.String("format", "jsonl", "export: jsonl or markdown")
	session := f.String("session", "main", "context: the session")
	budget := f.String("budget", "2000", "context: the token budget")
	limit := f.String("limit", "20", "search, show: at most this many")
	pos, err := f.parse(rest)
	if err == errHelp {
		fmt.Fprintln(e.stdout, usage)
		f.usage(e.stdout)
		return ExitOK
	}
	if err != nil {
		return fail(e, "memory %s: %v", sub, err)
	}
	n := 20
	if _, err := fmt.Sscanf(*limit, "%d", &n); err != nil || n < 1 || n > 10_000 {
		return fail(e, "memory %s: --limit %q: use 1 to 10000", sub, *limit)
	}
	writes := sub == "import" || sub == "forget"
	st, err := sf.open(e.ctx, writes)
	if err != nil {
		return fail(e, "memory: the store cannot be opened: %v", err)
	}
	defer st.Close()
	m, err := openMemory(sf, st, *agent)
	if err != nil {
		return fail(e, "memory: %v", err)
	}
	ctx := e.ctx
	switch sub {
	case "show":
		recs, err := m.Show(ctx, memory.Query{Kind: *kind, MaxLevel: -1, Limit: n})
		if err != nil {
			return fail(e, "memory show: %v", err)
		}
		printRecords(e, recs)
	case "search":
		if len(pos) == 0 {
			return fail(e, "memory search: give the words to search for")
		}
		recs, err := m.Search(ctx, strings.Join(pos, " "), n)
		if err != nil {
			return fail(e, "memory search: %v", err)
		}
		printRecords(e, recs)
	case "import":
		if len(pos) != 1 {
			return fail(e, "memory import: name the MEMORY.md file to import")
		}
		fh, err := os.Open(pos[0])
		if err != nil {
			return fail(e, "memory import: %v", err)
		}
		defer fh.Close()
		rep, err := m.ImportMarkdown(ctx, fh)
		if err != nil {
			return fail(e, "memory import: %v", err)
		}
		fmt.Fprintf(e.stdout, "%+v\n", rep)
	case "export":
		if err := m.Export(ctx, e.stdout, *format); err != nil {
			return fail(e, "memory export: %v", err)
		}
	case "forget":
		if len(pos) != 1 {
			return fail(e, "memory forget: name the memory's id (sentinel memory show lists them)")
		}
		if err := m.Forget(ctx, pos[0]); err != nil {
			return fail(e, "memory forget: %v", err)
		}
		fmt.Fprintf(e.stdout, "forgot %s\n", pos[0])
	case "context":
		b := 2000
		if _, err := fmt.Sscanf(*budget, "%d", &b); err != nil || b < 1 || b > 100_000 {
			return fail(e, "memory context: --budget %q: use 1 to 100000 tokens", *budget)
		}
		text, err := m.InjectContext(ctx, *session, b)
		if err != nil {
			return fail(e, "memory context: %v", err)
		}
		fmt.Fprint(e.stdout, text)
	case "stats":
		u, err := m.Stats(ctx)
		if err != nil {
			return fail(e, "memory stats: %v", err)
		}
		writeJSON(e.stdout, u)
	default:
		return fail(e, "memory: unknown subcommand %q; %s", sub, usage)
	}
	return ExitOK
}

func printRecords(e *env, recs []memory.Record) {
	if len(recs) == 0 {
		fmt.Fprintln(e.stdout, "no memories")
		return
	}
	for _, r := range recs {
		trust := "trusted"
		if !r.Source.Trusted {
			trust = "untrusted"
		}
		text := strings.ReplaceAll(r.Text, "\n", " ")
		if len(text) > 100 {
			text = text[:100] + "…"
		}
		key := ""
		if r.Key != "" {
			key = r.Key + ": "
		}
		fmt.Fprintf(e.stdout, "%s  %-10s %-9s %.2f  %s%s\n", r.ID, r.Kind, trust, r.Importance, key, text)
	}
}
