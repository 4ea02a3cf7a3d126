package server

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sentinel-agent/sentinel/internal/approval"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/auth"
	"github.com/sentinel-agent/sentinel/internal/kernel"
	"github.com/sentinel-agent/sentinel/internal/policy"
	"github.com/sentinel-agent/sentinel/internal/sharedpolicy"
	"github.com/sentinel-agent/sentinel/internal/store/postgres"
)

// sharedStore is what a replica needs from its store.
type sharedStore interface {
	audit.Store
	approval.Store
	sharedpolicy.Store
}

// replica is one server process's worth of parts on a shared store.
type replica struct {
	ts     *httptest.Server
	log    *audit.Log
	key    *audit.Key
	policy *PolicyHolder
}

func startReplica(t *testing.T, st sharedStore, cfg auth.Config) *replica {
	return startReplicaWith(t, st, cfg, false)
}

// startReplicaWith starts a replica; with sharePolicy its policy lives in
// the store and follows it every 20 ms until the test ends.
func startReplicaWith(t *testing.T, st sharedStore, cfg auth.Config, sharePolicy bool) *replica {
	t.Helper()
	ctx := context.Background()
	key, err := audit.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	alog, err := audit.Open(ctx, st, audit.Options{Mode: audit.Batch, Key: key, Window: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := policy.Builtin()
	k, err := kernel.New(p, kernel.Options{Workspace: t.TempDir(), CacheSize: 64, KeepLastGood: true, Recorder: alog})
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	holder := NewPolicyHolder(k, "", policy.BuiltinSource(), p)
	if sharePolicy {
		if err := holder.Share(ctx, st, nil); err != nil {
			t.Fatal(err)
		}
		fctx, stop := context.WithCancel(context.Background())
		t.Cleanup(stop)
		go holder.Follow(fctx, 20*time.Millisecond, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	}
	srv, err := New(Options{Kernel: k, Log: alog, Store: st, Approvals: approval.New(st, approval.Options{TTL: time.Minute, Poll: 20 * time.Millisecond}),
		Auth: authn, Policy: holder, Registry: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return &replica{ts: httptest.NewServer(srv.Handler()), log: alog, key: key, policy: holder}
}

// TestReplicasSharePolicy: with the policy in the store, a change through
// one replica's API is in force on the other within a few polls; two
// changes from the same base race and one wins; a replica started later
// comes up with the newest revision, not its own file.
func TestReplicasSharePolicy(t *testing.T) {
	dsn := pgDSN(t)
	ctx := context.Background()
	schema := fmt.Sprintf("server_policy_%d", time.Now().UnixNano())
	defer dropSchema(t, dsn, schema)
	cfg, tokens := clients(t)
	open := func() sharedStore {
		st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	var reps []*replica
	for range 2 {
		r := startReplicaWith(t, open(), cfg, true)
		defer r.ts.Close()
		reps = append(reps, r)
	}
	a, b := reps[0].ts.URL, reps[1].ts.URL
	if ra, rb := reps[0].policy.SharedRevision(), reps[1].policy.SharedRevision(); ra != 1 || rb != 1 {
		t.Fatalf("shared revisions at start: %d and %d, want 1 and 1 (the first seeds, the second joins)", ra, rb)
	}
	status := `{"tool":"Bash","args":{"command":"git status"}}`
	if _, d := call(t, b, tokens["agent"], "POST", "/v1/check", status); d["action"] != "allow" {
		t.Fatalf("git status on b before the change: %v", d["action"])
	}
	_, cur := call(t, a, tokens["reader"], "GET", "/v1/policy", "")
	base := cur["hash"].(string)
	patch := func(id string) string {
		return `{"base_hash":"` + base + `","patch":{"rules":[{"id":"` + id + `","when":"call.kind == 'exec' && call.args.command.contains('git status')","action":"deny","reason":"not today","match":[{"tool":"Bash","args":{"command":"git status"}}],"not_match":[{"tool":"Bash","args":{"command":"ls"}}]}]}}`
	}
	if code, out := call(t, a, tokens["admin"], "PATCH", "/v1/policy", patch("no-status")); code != 200 {
		t.Fatalf("patch on a: %d %v", code, out)
	}
	newHash := ""
	if _, now := call(t, a, tokens["reader"], "GET", "/v1/policy", ""); now["hash"] != base {
		newHash, _ = now["hash"].(string)
	} else {
		t.Fatal("the patch did not change a's policy")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, d := call(t, b, tokens["agent"], "POST", "/v1/check", status)
		_, now := call(t, b, tokens["reader"], "GET", "/v1/policy", "")
		if d["action"] == "deny" && now["hash"] == newHash {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b did not bring in a's change: git status %v, policy %v", d["action"], now["hash"])
		}
		time.Sleep(20 * time.Millisecond)
	}
	// b now holds revision 2; a change sent to b with the old base is a
	// conflict, and one with the new base wins on either replica.
	if code, out := call(t, b, tokens["admin"], "PATCH", "/v1/policy", patch("stale")); code != 409 {
		t.Errorf("a patch on b from the old base: %d %v, want 409", code, out)
	}
	// Racing from one base: exactly one replica stores revision 3.
	base = newHash
	codes := make(chan int, 2)
	for i, url := range []string{a, b} {
		go func() {
			code, _ := call(t, url, tokens["admin"], "PATCH", "/v1/policy", patch(fmt.Sprintf("race-%d", i)))
			codes <- code
		}()
	}
	c1, c2 := <-codes, <-codes
	if !(c1 == 200 && c2 == 409 || c1 == 409 && c2 == 200) {
		t.Errorf("two patches from one base: %d and %d, want one 200 and one 409", c1, c2)
	}
	latest, err := open().LatestPolicy(ctx)
	if err != nil || latest.Seq != 3 {
		t.Fatalf("newest stored revision: %+v %v, want 3", latest.Seq, err)
	}
	// A replica started now, with the built-in policy of its own, comes
	// up with revision 3.
	c := startReplicaWith(t, open(), cfg, true)
	defer c.ts.Close()
	if got := c.policy.SharedRevision(); got != 3 {
		t.Errorf("a replica started later holds revision %d, want 3", got)
	}
	if _, now := call(t, c.ts.URL, tokens["reader"], "GET", "/v1/policy", ""); now["hash"] != latest.Hash {
		t.Errorf("a replica started later serves %v, want the stored %s", now["hash"], latest.Hash)
	}
}

// clients makes the auth config every replica shares and the tokens.
func clients(t *testing.T) (auth.Config, map[string]string) {
	t.Helper()
	var cfg auth.Config
	tokens := map[string]string{}
	for name, scopes := range clientScopes {
		tok, hash, err := auth.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		tokens[name] = tok
		cfg.Clients = append(cfg.Clients, auth.ClientConfig{Name: name, Scopes: scopes, Tokens: []string{hash}})
	}
	return cfg, tokens
}

// call sends a request to base as the client with token.
func call(t *testing.T, base, token, method, path, body string) (int, map[string]any) {
	t.Helper()
	f := &fixture{t: t, ts: &httptest.Server{URL: base}, tokens: map[string]string{"c": token}}
	return f.do("c", method, path, body)
}

func pgDSN(t *testing.T) string {
	dsn := os.Getenv("SENTINEL_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set SENTINEL_TEST_POSTGRES_DSN to run the PostgreSQL tests")
	}
	return dsn
}

func dropSchema(t *testing.T, dsn, schema string) {
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Logf("dropping %s: %v", schema, err)
		return
	}
	defer c.Close(context.Background())
	_, _ = c.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
}

// TestReplicasSharePostgres: two servers on one PostgreSQL both decide;
// an approval opened through one is decided through the other exactly
// once, racing; the audit of both verifies as one chain.
func TestReplicasSharePostgres(t *testing.T) {
	dsn := pgDSN(t)
	ctx := context.Background()
	schema := fmt.Sprintf("server_replicas_%d", time.Now().UnixNano())
	defer dropSchema(t, dsn, schema)
	cfg, tokens := clients(t)
	var reps []*replica
	for range 2 {
		st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		r := startReplica(t, st, cfg)
		defer r.ts.Close()
		reps = append(reps, r)
	}
	a, b := reps[0].ts.URL, reps[1].ts.URL
	for i, base := range []string{a, b} {
		code, out := call(t, base, tokens["agent"], "POST", "/v1/check", `{"tool":"Bash","args":{"command":"go test ./..."}}`)
		if code != 200 || out["action"] != "allow" {
			t.Fatalf("replica %d: check: %d %v", i, code, out)
		}
	}
	push := `{"tool":"Bash","args":{"command":"git push --force origin main"},"session":"s1","agent":"a"}`
	_, out := call(t, a, tokens["agent"], "POST", "/v1/check", push)
	ap, _ := out["approval"].(map[string]any)
	if out["action"] != "confirm" || ap == nil {
		t.Fatalf("the confirm call through A: %v", out)
	}
	id := ap["id"].(string)
	// Both replicas see the one pending approval; the same call through B
	// does not open another.
	_, outB := call(t, b, tokens["agent"], "POST", "/v1/check", push)
	if outB["approval"].(map[string]any)["id"] != id {
		t.Fatalf("through B the same call got approval %v, want %s", outB["approval"], id)
	}
	// Operators race on both replicas; exactly one decision wins.
	var wg sync.WaitGroup
	type res struct {
		code int
		out  map[string]any
	}
	results := make(chan res, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base, verb, who := a, "approve", "ops"
			if i%2 == 1 {
				base, who = b, "ops2"
			}
			if i%4 == 3 {
				verb = "deny"
			}
			code, out := call(t, base, tokens[who], "POST", "/v1/approvals/"+id+"/"+verb, fmt.Sprintf(`{"approver":"op%d"}`, i))
			results <- res{code, out}
		}()
	}
	wg.Wait()
	close(results)
	wins, lost := 0, 0
	var final string
	for r := range results {
		switch {
		case r.code == 200:
			wins++
			final, _ = r.out["status"].(string)
		case r.code == 409 && errCode(r.out) == "approval.decided":
			lost++
		default:
			t.Errorf("a racing vote got %d %v", r.code, r.out)
		}
	}
	if wins != 1 || lost != 15 {
		t.Fatalf("%d votes won and %d lost, want exactly 1 and 15", wins, lost)
	}
	_, got := call(t, b, tokens["ops"], "GET", "/v1/approvals/"+id, "")
	if got["status"] != final {
		t.Fatalf("B says the approval is %v, the winning vote said %s", got["status"], final)
	}
	// The agent comes back through B with the approval.
	withID := strings.TrimSuffix(push, "}") + `,"approval_id":"` + id + `"}`
	_, out = call(t, b, tokens["agent"], "POST", "/v1/check", withID)
	want := map[string]string{"approved": "allow", "denied": "deny"}[final]
	if out["action"] != want {
		t.Fatalf("the call after a %s approval: %v, want %s", final, out["action"], want)
	}
	for _, r := range reps {
		if err := r.log.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := audit.VerifyStore(ctx, st, []ed25519.PublicKey{reps[0].key.Public(), reps[1].key.Public()}...)
	if err != nil || !rep.OK() {
		t.Fatalf("the shared chain does not verify: %v %v", err, rep.Problem)
	}
	// 2 allows + 2 confirms + the decision behind the approved call, the
	// approval outcome, and (approved) the authorization's outcome.
	if rep.Events < 6 {
		t.Fatalf("the chain holds %d events, want at least 6", rep.Events)
	}
}

// proxy is a TCP relay to PostgreSQL that can be cut, as a database
// restart or a network partition would.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// cut drops every connection and refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// TestStoreOutage: the store goes away mid-run. /ready turns unready,
// decisions fail closed (deny, audit.unavailable), service resumes when
// the store is back, and every decision the server answered with (other
// than the fail-closed denials it could not record) is in the chain.
func TestStoreOutage(t *testing.T) {
	dsn := pgDSN(t)
	ctx := context.Background()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	u.Host = px.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	schema := fmt.Sprintf("server_outage_%d", time.Now().UnixNano())
	defer dropSchema(t, dsn, schema)
	st, err := postgres.Open(ctx, u.String(), postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, tokens := clients(t)
	r := startReplica(t, st, cfg)
	defer r.ts.Close()

	acked := map[string]bool{}
	check := func(i int) map[string]any {
		_, out := call(t, r.ts.URL, tokens["agent"], "POST", "/v1/check", fmt.Sprintf(`{"tool":"Bash","args":{"command":"go test ./pkg%d"}}`, i))
		if id, _ := out["decision_id"].(string); id != "" && !hasCode(out, kernel.CodeAuditUnavailable) {
			acked[id] = true
		}
		return out
	}
	for i := range 50 {
		if out := check(i); out["action"] != "allow" {
			t.Fatalf("before the outage: %v", out)
		}
	}
	px.cut()
	waitFor(t, "/ready to turn unready", func() bool {
		code, _ := call(t, r.ts.URL, "", "GET", "/ready", "")
		return code == 503
	})
	i := 1000
	waitFor(t, "decisions to fail closed", func() bool {
		i++
		out := check(i)
		return out["action"] == "deny" && hasCode(out, kernel.CodeAuditUnavailable)
	})
	for j := range 20 {
		if out := check(2000 + j); out["action"] != "deny" {
			t.Fatalf("during the outage a call got %v", out["action"])
		}
	}
	px.restore()
	waitFor(t, "/ready to recover", func() bool {
		code, _ := call(t, r.ts.URL, "", "GET", "/ready", "")
		return code == 200
	})
	waitFor(t, "decisions to resume", func() bool {
		i++
		return check(i)["action"] == "allow"
	})
	for j := range 50 {
		if out := check(3000 + j); out["action"] != "allow" {
			t.Fatalf("after the outage: %v", out)
		}
	}
	if err := r.log.Close(ctx); err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	if err := st.Scan(ctx, 0, func(rec audit.Record) error {
		stored[rec.DecisionID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for id := range acked {
		if !stored[id] {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d answered decisions are missing from the audit chain", lost, len(acked))
	}
	rep, err := audit.VerifyStore(ctx, st, r.key.Public())
	if err != nil || !rep.OK() {
		t.Fatalf("the chain does not verify after the outage: %v %v", err, rep.Problem)
	}
	t.Logf("%d answered decisions, all in the chain of %d events", len(acked), rep.Events)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
