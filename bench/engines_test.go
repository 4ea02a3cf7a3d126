package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sentinel-agent/sentinel"
	"github.com/sentinel-agent/sentinel/bench/baseline"
	"github.com/sentinel-agent/sentinel/bench/opapeer"
)

// corpusDir is where the shared evaluation corpora live, relative to this
// module; SENTINEL_CORPUS_DIR overrides it.
func corpusDir() string {
	if d := os.Getenv("SENTINEL_CORPUS_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "corpus")
}

// row is one tool call of a corpus file.
type row struct {
	ID       string         `json:"id"`
	Tool     string         `json:"tool"`
	Args     map[string]any `json:"args"`
	Expect   string         `json:"expect"`
	Category string         `json:"category"`
}

// maxLine bounds one JSONL line; the longest corpus row is a few KiB.
const maxLine = 1 << 20

// loadCorpus reads a JSONL corpus file. ok is false when the file is absent.
func loadCorpus(t testing.TB, rel string) (rows []row, ok bool) {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir(), rel))
	if os.IsNotExist(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s:%d: %v", rel, n, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return rows, true
}

// execArgs turns every row into the arguments of an "exec" call, built once
// so that no engine pays for building them.
func execArgs(rows []row) []map[string]any {
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		cmd, _ := r.Args["command"].(string)
		out[i] = map[string]any{"command": cmd}
	}
	return out
}

// engine decides an "exec" call and names the action it reached: "allow",
// "notify", "confirm" or "deny". err reports a call the engine could not
// decide (Sentinel still returns Deny for it).
type engine struct {
	name   string
	decide func(ctx context.Context, args map[string]any) (action string, err error)
}

// blocks is the quality measure shared by all engines: the call does not
// run without a human, or does not run at all.
func blocks(action string) bool { return action == "confirm" || action == "deny" }

// sentinelEngine builds a Guard with the built-in policy, a temporary
// workspace and home, and the given decision cache size.
func sentinelEngine(t testing.TB, name string, cacheSize int) engine {
	t.Helper()
	g, err := sentinel.New(sentinel.Options{Workspace: t.TempDir(), Home: t.TempDir(), CacheSize: cacheSize})
	if err != nil {
		t.Fatalf("sentinel.New: %v", err)
	}
	return engine{name, func(ctx context.Context, args map[string]any) (string, error) {
		d, err := g.Check(ctx, sentinel.Call{Tool: "exec", Args: args})
		return d.Action.String(), err
	}}
}

func seedEngine(t testing.TB) engine {
	t.Helper()
	r, err := baseline.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	c, err := baseline.New(r)
	if err != nil {
		t.Fatal(err)
	}
	return engine{"regex-seed", func(_ context.Context, args map[string]any) (string, error) {
		return string(c.Check("exec", args).Decision), nil
	}}
}

func opaEngine(t testing.TB) engine {
	t.Helper()
	r, err := baseline.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	p, err := opapeer.New(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return engine{"opa", func(ctx context.Context, args map[string]any) (string, error) {
		res, err := p.Check(ctx, "exec", args)
		return string(res.Decision), err
	}}
}

// allEngines returns the four engines in the order the results list them.
func allEngines(t testing.TB) []engine {
	return []engine{
		sentinelEngine(t, "sentinel", 0),
		sentinelEngine(t, "sentinel-cached", cachedSize),
		seedEngine(t),
		opaEngine(t),
	}
}

// cachedSize holds every NL2Bash command, so a warm cache answers all.
const cachedSize = 16384
