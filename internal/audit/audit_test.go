package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/request"
)

var t0 = time.Date(2026, 11, 21, 8, 0, 0, 123456789, time.UTC)

// clock returns a deterministic clock advancing 1 ms per call.
func clock() func() time.Time {
	var mu sync.Mutex
	t := t0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

func sampleEvent(i int) Event {
	return Event{
		ID: fmt.Sprintf("e_%04d", i), Type: TypeDecision, DecisionID: fmt.Sprintf("d_%04d", i),
		Session: "s1", Agent: "a1", Tool: "exec", Kind: "exec",
		Args: json.RawMessage(fmt.Sprintf(`{"command":"ls -la dir%d"}`, i)),
		Decision: &Decision{Action: "allow", Risk: Risk{Score: 0.12, Impact: 0.5, Reversibility: 0.95, Sensitivity: 1},
			Reasons: []Reason{}},
		PolicyRevision: "sha256:0123456789abcdef",
	}
}

// fill writes n events through a sync log with a key and closes it.
func fill(t *testing.T, s Store, key *Key, n, every int) {
	t.Helper()
	ctx := context.Background()
	l, err := Open(ctx, s, Options{Mode: Sync, Key: key, CheckpointEvery: uint64(every), Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := l.Record(ctx, sampleEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func mustKey(t *testing.T) *Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestChainVerifies(t *testing.T) {
	s := newMemStore()
	key := mustKey(t)
	fill(t, s, key, 25, 10)
	rep, err := VerifyStore(context.Background(), s, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("intact chain reported broken: %v", rep.Problem)
	}
	if rep.Events != 25 || rep.First != 1 || rep.Last != 25 {
		t.Fatalf("report counts: %+v", rep)
	}
	// Checkpoints at 10, 20 and the shutdown one at 25.
	if rep.Checkpoints != 3 || rep.SignedUpTo != 25 {
		t.Fatalf("checkpoints %d signed up to %d, want 3 and 25", rep.Checkpoints, rep.SignedUpTo)
	}
	// Each event links to the one before.
	var prev string
	_ = s.Scan(context.Background(), 0, func(r Record) error {
		if r.PrevHash != prev {
			t.Errorf("event %d links to %q, want %q", r.Seq, r.PrevHash, prev)
		}
		prev = r.Hash
		return nil
	})
}

func TestVerifyRefusesAnUntrustedKey(t *testing.T) {
	s := newMemStore()
	fill(t, s, mustKey(t), 5, 2)
	rep, err := VerifyStore(context.Background(), s, mustKey(t).Public())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Problem.Kind != ProblemBadSignature {
		t.Fatalf("a chain signed by another key verified: %+v", rep.Problem)
	}
}

// TestTamperInStore flips every byte of one event's body, and one byte of
// every other event, and expects each change to be caught at that event.
func TestTamperInStore(t *testing.T) {
	base := newMemStore()
	key := mustKey(t)
	fill(t, base, key, 12, 5)
	check := func(name string, mutate func(s *memStore) uint64, kinds ...string) {
		t.Helper()
		s := clone(base)
		want := mutate(s)
		rep, err := VerifyStore(context.Background(), s, key.Public())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rep.OK() {
			t.Fatalf("%s: tampering not detected", name)
		}
		if rep.Problem.Seq != want {
			t.Fatalf("%s: reported at event %d, want %d (%v)", name, rep.Problem.Seq, want, rep.Problem)
		}
		if len(kinds) > 0 && !contains(kinds, rep.Problem.Kind) {
			t.Fatalf("%s: kind %q, want one of %v (%v)", name, rep.Problem.Kind, kinds, rep.Problem)
		}
	}
	body := base.recs[6].Body
	for i := range body {
		check(fmt.Sprintf("flip byte %d of event 7", i), func(s *memStore) uint64 {
			s.recs[6].Body[i] ^= 0x01
			return 7
		}, ProblemChanged, ProblemMalformed, ProblemReordered)
	}
	for e := range base.recs {
		check(fmt.Sprintf("flip one byte of event %d", e+1), func(s *memStore) uint64 {
			b := s.recs[e].Body
			b[len(b)/2] ^= 0x20
			return uint64(e + 1)
		})
	}
	check("delete event 4", func(s *memStore) uint64 {
		s.recs = append(s.recs[:3], s.recs[4:]...)
		return 5
	}, ProblemMissing)
	check("swap events 8 and 9 with their rows", func(s *memStore) uint64 {
		s.recs[7], s.recs[8] = s.recs[8], s.recs[7]
		return 9
	}, ProblemReordered)
	check("swap bodies of rows 8 and 9", func(s *memStore) uint64 {
		s.recs[7].Body, s.recs[8].Body = s.recs[8].Body, s.recs[7].Body
		return 8
	}, ProblemReordered, ProblemChanged)
	check("truncate the last three events", func(s *memStore) uint64 {
		s.recs = s.recs[:9]
		return 10 // the first signed checkpoint past the new end
	}, ProblemTruncated)
	check("rewrite event 3 and re-hash everything after it", func(s *memStore) uint64 {
		// An attacker without the key recomputes the whole chain; the
		// signed checkpoint at 5 no longer matches.
		var prev string
		for i := range s.recs {
			e, _ := Decode(s.recs[i].Body)
			if i == 2 {
				e.Agent = "someone-else"
				s.recs[i].Agent = e.Agent // and its column, as a careful attacker would
			}
			body, _ := e.Seal(e.Seq, prev)
			s.recs[i].Body, s.recs[i].Hash, s.recs[i].PrevHash = body, e.Hash, prev
			prev = e.Hash
		}
		return 5
	}, ProblemChanged)
	// The columns queries filter on are checked against the bodies: a
	// deny turned into an allow for "audit list --action deny" to miss.
	check("change the action column of event 6", func(s *memStore) uint64 {
		s.recs[5].Action = "allow"
		if e, _ := Decode(s.recs[5].Body); e.Decision == nil || e.Decision.Action == "allow" {
			s.recs[5].Action = "deny"
		}
		return 6
	}, ProblemChanged)
	check("change the session column of event 2", func(s *memStore) uint64 {
		s.recs[1].Session = "other"
		return 2
	}, ProblemChanged)
	check("move event 7's time column", func(s *memStore) uint64 {
		s.recs[6].Time = s.recs[6].Time.Add(-time.Hour)
		return 7
	}, ProblemChanged)
	check("forge a checkpoint signature", func(s *memStore) uint64 {
		c := s.cks[10]
		var cb CheckpointBody
		_ = json.Unmarshal(c.Body, &cb)
		sig := []byte(cb.Signatures[0].Sig)
		sig[3] ^= 0x01
		cb.Signatures[0].Sig = string(sig)
		c.Body, _ = cb.Encode()
		s.cks[10] = c
		return 10
	}, ProblemBadSignature)
}

func clone(m *memStore) *memStore {
	c := newMemStore()
	for _, r := range m.recs {
		r.Body = append([]byte(nil), r.Body...)
		c.recs = append(c.recs, r)
	}
	for k, v := range m.cks {
		v.Body = append([]byte(nil), v.Body...)
		c.cks[k] = v
	}
	return c
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func export(t *testing.T, s Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Export(context.Background(), s, &buf, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExportVerifies(t *testing.T) {
	s := newMemStore()
	key := mustKey(t)
	fill(t, s, key, 12, 5)
	data := export(t, s)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	if len(lines) != 12+3 { // checkpoints at 5, 10 and 12
		t.Fatalf("export has %d lines, want 15", len(lines))
	}
	rep, err := VerifyFile(bytes.NewReader(data), key.Public())
	if err != nil || !rep.OK() || rep.Events != 12 || rep.SignedUpTo != 12 {
		t.Fatalf("export does not verify: %+v %v", rep, err)
	}
	// Every single-byte change anywhere in the file is caught.
	for i := range data {
		if data[i] == '\n' && i == len(data)-1 {
			continue
		}
		m := append([]byte(nil), data...)
		m[i] ^= 0x04
		rep, err := VerifyFile(bytes.NewReader(m), key.Public())
		if err == nil && rep.OK() {
			t.Fatalf("flipping byte %d (%q) of the export went unnoticed", i, data[i])
		}
	}
	// Removing a line, swapping two, or cutting the tail is named.
	drop := func(n int) []byte {
		out := append([][]byte(nil), lines[:n]...)
		return append(bytes.Join(append(out, lines[n+1:]...), []byte("\n")), '\n')
	}
	rep, _ = VerifyFile(bytes.NewReader(drop(3)), key.Public())
	if rep.OK() || rep.Problem.Kind != ProblemMissing || rep.Problem.Seq != 5 {
		t.Fatalf("dropped line: %+v", rep.Problem)
	}
	sw := append([][]byte(nil), lines...)
	sw[1], sw[2] = sw[2], sw[1]
	rep, _ = VerifyFile(bytes.NewReader(bytes.Join(sw, []byte("\n"))), key.Public())
	if rep.OK() || rep.Problem.Kind != ProblemReordered {
		t.Fatalf("swapped lines: %+v", rep.Problem)
	}
	// Cut after event 8 (line 9): checkpoint 10 goes too, but the last
	// checkpoint line left in place proves the cut.
	cut := append(bytes.Join(lines[:9], []byte("\n")), '\n')
	cut = append(cut, lines[len(lines)-1]...)
	rep, _ = VerifyFile(bytes.NewReader(cut), key.Public())
	if rep.OK() || rep.Problem.Kind != ProblemTruncated {
		t.Fatalf("truncated export: %+v", rep.Problem)
	}
}

func TestRetentionKeepsTheRestVerifiable(t *testing.T) {
	s := newMemStore()
	key := mustKey(t)
	fill(t, s, key, 40, 10)
	n, err := Prune(context.Background(), s, key, Retention{MaxEvents: 15}, t0.Add(time.Hour))
	if err != nil || n != 25 {
		t.Fatalf("pruned %d (%v), want 25", n, err)
	}
	rep, err := VerifyStore(context.Background(), s, key.Public())
	if err != nil || !rep.OK() || rep.First != 26 || rep.Events != 15 {
		t.Fatalf("after pruning: %+v %v", rep, err)
	}
	// The pruned export verifies on its own, from its anchor.
	rep, err = VerifyFile(bytes.NewReader(export(t, s)), key.Public())
	if err != nil || !rep.OK() || rep.First != 26 {
		t.Fatalf("pruned export: %+v %v", rep, err)
	}
	// Without the anchor the start of the chain is unaccounted for.
	delete(s.cks, 25)
	delete(s.cks, 20)
	delete(s.cks, 10)
	rep, _ = VerifyStore(context.Background(), s, key.Public())
	if rep.OK() || rep.Problem.Kind != ProblemMissing {
		t.Fatalf("a pruned chain without its anchor verified: %+v", rep.Problem)
	}
}

func TestRotationCarriesTrust(t *testing.T) {
	s := newMemStore()
	old, next := mustKey(t), mustKey(t)
	fill(t, s, old, 6, 2)
	if err := Rotate(context.Background(), s, old, next, t0); err != nil {
		t.Fatal(err)
	}
	fill(t, s, next, 6, 100)
	rep, err := VerifyStore(context.Background(), s, old.Public())
	if err != nil || !rep.OK() || rep.SignedUpTo != 12 || len(rep.Keys) != 2 {
		t.Fatalf("rotated chain with the old key: %+v %v", rep, err)
	}
	// Trusting only the new key, the checkpoints before the rotation
	// (signed by the old key alone) are not trusted.
	rep, _ = VerifyStore(context.Background(), s, next.Public())
	if rep.OK() {
		t.Fatal("checkpoints signed only by the old key were trusted on the new key alone")
	}
}

func TestSyncFailsClosedAndBatchRetries(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	l, err := Open(ctx, s, Options{Mode: Sync})
	if err != nil {
		t.Fatal(err)
	}
	s.fail = errors.New("disk full")
	if err := l.Record(ctx, sampleEvent(1)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("sync append to a failing store: %v", err)
	}
	s.fail = nil
	if err := l.Record(ctx, sampleEvent(2)); err != nil {
		t.Fatal(err)
	}
	_ = l.Close(ctx)

	// Batch, fail-closed: after a failed commit new events are refused,
	// and what was queued is retried, not lost.
	s2 := newMemStore()
	bl, err := Open(ctx, s2, Options{Mode: Batch, Window: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s2.mu.Lock()
	s2.fail = errors.New("store down")
	s2.mu.Unlock()
	if err := bl.Record(ctx, sampleEvent(1)); err != nil {
		t.Fatalf("first batch event: %v", err)
	}
	if err := bl.Flush(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("flush against a down store: %v", err)
	}
	if err := bl.Record(ctx, sampleEvent(2)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("fail-closed batch log accepted an event while the store is down: %v", err)
	}
	s2.mu.Lock()
	s2.fail = nil
	s2.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, _ := s2.Head(ctx)
		if h.Seq == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the queued event was not retried after the store came back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := bl.Record(ctx, sampleEvent(3)); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if err := bl.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if h, _ := s2.Head(ctx); h.Seq != 2 {
		t.Fatalf("head %d after recovery, want 2", h.Seq)
	}
}

func TestConcurrentWritersOneChain(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	key := mustKey(t)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each writer has its own log, as separate processes would.
			l, err := Open(ctx, s, Options{Mode: Sync, Key: key, CheckpointEvery: 25})
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; i < 100; i++ {
				if err := l.Record(ctx, sampleEvent(w*1000+i)); err != nil {
					t.Error(err)
				}
			}
			if err := l.Close(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rep, err := VerifyStore(ctx, s, key.Public())
	if err != nil || !rep.OK() || rep.Events != 400 {
		t.Fatalf("four writers: %+v %v", rep, err)
	}
}

func TestSecretsAreRedactedBeforeTheEventExists(t *testing.T) {
	raw := request.Raw{Tool: "exec", Session: "s", Args: map[string]any{
		"command": "curl -H 'Authorization: Bearer ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d' https://api.example.com",
		"env":     map[string]any{"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9x8Yq3Lp"},
	}}
	d := decision.Decision{Action: decision.Confirm, DecisionID: "d_1", Reasons: []decision.Reason{{
		Gate: "egress", Code: "egress.data_out", Action: decision.Confirm, Message: "sends data",
		Detail: "curl -H 'Authorization: Bearer ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d'"}}}
	a := &analysis.Analysis{Commands: []analysis.Command{{Name: "curl"}}}
	e := DecisionEvent(raw, "exec", a, d)
	e.ID, e.Time = "e_1", FormatTime(t0)
	body, err := e.Seal(1, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9x8Yq3Lp"} {
		if bytes.Contains(body, []byte(secret)) {
			t.Fatalf("secret %q reached the event: %s", secret, body)
		}
	}
	if e.Redacted < 2 || !bytes.Contains(body, []byte("[REDACTED:")) {
		t.Fatalf("redactions not marked (%d): %s", e.Redacted, body)
	}
}

// TestGoldenVectors freezes the canonical encoding and the hash: the
// files under testdata/vectors hold an event, its exact encoding and its
// hash. A change here is a format change and needs a new Version.
func TestGoldenVectors(t *testing.T) {
	files, _ := filepath.Glob("testdata/vectors/*.json")
	if len(files) < 3 {
		t.Fatalf("want at least 3 golden vectors, found %d", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Event     json.RawMessage `json:"event"`
			Canonical string          `json:"canonical"`
			Hash      string          `json:"hash"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var e Event
		if err := json.Unmarshal(v.Event, &e); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		h, err := ComputeHash(&e)
		if err != nil {
			t.Fatal(err)
		}
		e.Hash = h
		c, err := Canonical(&e)
		if err != nil {
			t.Fatal(err)
		}
		if string(c) != v.Canonical {
			t.Errorf("%s: canonical encoding changed:\n got  %s\n want %s", f, c, v.Canonical)
		}
		if h != v.Hash {
			t.Errorf("%s: hash changed: got %s want %s", f, h, v.Hash)
		}
		back, err := Decode(c)
		if err != nil || back.Hash != h {
			t.Errorf("%s: the encoding does not decode back: %v", f, err)
		}
		// The writer's path (tail encoded early, head added when sealing)
		// produces the same bytes.
		s := e
		sealed, err := s.Seal(e.Seq, e.PrevHash)
		if err != nil || string(sealed) != v.Canonical || s.Hash != v.Hash {
			t.Errorf("%s: Seal differs from the canonical encoding:\n got  %s\n want %s", f, sealed, v.Canonical)
		}
		if hd, err := parseHead(sealed); err != nil || !hd.hashOK() || string(hd.hash) != v.Hash || hd.seq != e.Seq || string(hd.prevHash) != e.PrevHash {
			t.Errorf("%s: the verifier reads the encoding differently: %+v %v", f, hd, err)
		}
	}
}

func TestDecodeRefusesNewerVersionsAndUnknownFields(t *testing.T) {
	for _, in := range []string{`{"v":2,"seq":1}`, `{"v":1,"seq":1,"extra":true}`, `{"v":0}`, `[]`, ``} {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%q) accepted", in)
		}
	}
	if !strings.Contains(fmt.Sprint(func() error { _, err := Decode([]byte(`{"v":9}`)); return err }()), "version 9") {
		t.Error("a newer version is not named in the error")
	}
}

func TestLongArgumentsAreClipped(t *testing.T) {
	content := strings.Repeat("line of a large file\n", 2000) + "token ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"
	e := DecisionEvent(request.Raw{Tool: "write_file", Args: map[string]any{"path": "big.txt", "content": content}}, "file.write", nil,
		decision.Decision{Action: decision.Allow})
	if len(e.Args) > 4<<10 {
		t.Fatalf("a %d-byte argument took %d bytes in the event", len(content), len(e.Args))
	}
	if !bytes.Contains(e.Args, []byte(fmt.Sprintf("[%d bytes, sha256:", len(content)))) || bytes.Contains(e.Args, []byte("ghp_")) {
		t.Fatalf("clipped argument: %s", e.Args)
	}
}

// slowStore delays every append, to fill a batch log's queue.
type slowStore struct {
	*memStore
	delay time.Duration
}

func (s slowStore) Append(ctx context.Context, seal Seal) (Head, error) {
	time.Sleep(s.delay)
	return s.memStore.Append(ctx, seal)
}

func TestFullQueueWaitsThenRecords(t *testing.T) {
	ctx := context.Background()
	s := slowStore{newMemStore(), 20 * time.Millisecond}
	l, err := Open(ctx, s, Options{Mode: Batch, QueueMax: 10, BatchMax: 10, Window: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// Far more than the queue holds: callers wait for room instead of
	// being refused, and every event lands.
	for i := 0; i < 100; i++ {
		if err := l.Record(ctx, sampleEvent(i)); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Head(ctx); h.Seq != 100 {
		t.Fatalf("head %d, want 100", h.Seq)
	}
	// A store that never catches up within the wait: refused, fail-closed.
	s2 := slowStore{newMemStore(), 3 * time.Second}
	l2, _ := Open(ctx, s2, Options{Mode: Batch, QueueMax: 1, BatchMax: 1, Window: time.Millisecond})
	_ = l2.Record(ctx, sampleEvent(1)) // taken by the writer
	time.Sleep(10 * time.Millisecond)
	_ = l2.Record(ctx, sampleEvent(2)) // fills the queue
	start := time.Now()
	if err := l2.Record(ctx, sampleEvent(3)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a full queue accepted an event: %v", err)
	}
	if waited := time.Since(start); waited < maxQueueWait/2 {
		t.Fatalf("refused after %v without waiting for room", waited)
	}
}

// TestUnsignedTailIsBounded: an attacker who rewrites the chain after some
// point and drops the checkpoints that would show it leaves a long
// unsigned tail; a verifier told how long a tail to accept catches it.
func TestUnsignedTailIsBounded(t *testing.T) {
	s := newMemStore()
	key := mustKey(t)
	fill(t, s, key, 30, 10)
	// Rewrite events 11..30, re-hash them and drop checkpoints 20 and 30.
	prev := s.recs[9].Hash
	for i := 10; i < len(s.recs); i++ {
		e, _ := Decode(s.recs[i].Body)
		e.Agent = "rewritten"
		body, _ := e.Seal(e.Seq, prev)
		s.recs[i].Body, s.recs[i].Hash, s.recs[i].PrevHash, s.recs[i].Agent = body, e.Hash, prev, e.Agent
		prev = e.Hash
	}
	delete(s.cks, 20)
	delete(s.cks, 30)
	ctx := context.Background()
	rep, err := VerifyStore(ctx, s, key.Public())
	if err != nil || !rep.OK() || rep.SignedUpTo != 10 {
		t.Fatalf("without a limit the rewrite is only visible as an unsigned tail: %+v %v", rep, err)
	}
	rep, _ = VerifyStoreWith(ctx, s, NewVerifier(key.Public()).LimitUnsigned(15))
	if rep.OK() || rep.Problem.Kind != ProblemUnsigned || rep.Problem.Seq != 11 {
		t.Fatalf("a 20-event unsigned tail passed a limit of 15: %+v", rep.Problem)
	}
	// A tail within the limit (the writer simply has not signed yet) is fine.
	rep, _ = VerifyStoreWith(ctx, s, NewVerifier(key.Public()).LimitUnsigned(20))
	if !rep.OK() {
		t.Fatalf("a 20-event tail failed a limit of 20: %v", rep.Problem)
	}
	// The same holds for an export with every checkpoint removed.
	var kept [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(export(t, s)), []byte("\n")) {
		if !bytes.Contains(l, []byte(`"type":"checkpoint"`)) {
			kept = append(kept, l)
		}
	}
	rep, _ = VerifyFileWith(bytes.NewReader(bytes.Join(kept, []byte("\n"))), NewVerifier(key.Public()).LimitUnsigned(15))
	if rep.OK() || rep.Problem.Kind != ProblemUnsigned || rep.Problem.Seq != 1 {
		t.Fatalf("an export stripped of its checkpoints verified: %+v", rep.Problem)
	}
}
