package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sentinel-agent/sentinel/internal/audit"
)

// base is the time of the first test event; its nanoseconds check that
// stores keep at least microseconds.
var base = time.Date(2025, 6, 7, 8, 9, 10, 123456789, time.UTC)

// event is what a test event carries besides its chain fields.
type event struct {
	Type, DecisionID, Session, Agent, Tool, Kind, Action, Verify string
	Risk                                                         float64
	Time                                                         time.Time
	// Extra is appended to the body as raw bytes.
	Extra []byte
}

// Hash is the test chain's hash: SHA-256 over the previous hash, a zero
// byte and the body. Stores never compute it; the suite checks it on
// every record it reads back.
func Hash(prev string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// body encodes an event the way a real seal would: the chain position
// first, then the fields, then Extra.
func body(seq uint64, prev string, e event) []byte {
	b := fmt.Appendf(nil, `{"seq":%d,"prev":%q,"type":%q,"decision":%q,"session":%q,"agent":%q,"tool":%q,"kind":%q,"action":%q,"verify":%q,"risk":%v,"time":%q}`,
		seq, prev, e.Type, e.DecisionID, e.Session, e.Agent, e.Tool, e.Kind, e.Action, e.Verify, e.Risk, e.Time.Format(time.RFC3339Nano))
	return append(b, e.Extra...)
}

// seal returns a Seal that chains evs after the head it is given and
// keeps what it returned in *out.
func seal(evs []event, out *[]audit.Record) audit.Seal {
	return func(h audit.Head) ([]audit.Record, error) {
		recs := records(h, len(evs), func(i int) event { return evs[i] })
		if out != nil {
			*out = recs
		}
		return recs, nil
	}
}

// records builds n records chained after h; ev gives the i-th event.
func records(h audit.Head, n int, ev func(i int) event) []audit.Record {
	recs := make([]audit.Record, n)
	prev := h.Hash
	for i := range recs {
		e := ev(i)
		seq := h.Seq + uint64(i) + 1
		b := body(seq, prev, e)
		hash := Hash(prev, b)
		recs[i] = audit.Record{
			Seq: seq, Hash: hash, PrevHash: prev, Time: e.Time,
			EventID: fmt.Sprintf("ev-%d", seq), Type: e.Type, DecisionID: e.DecisionID,
			Session: e.Session, Agent: e.Agent, Tool: e.Tool, Kind: e.Kind,
			Action: e.Action, Risk: e.Risk, Verify: e.Verify, Body: b,
		}
		prev = hash
	}
	return recs
}

// payload returns a body of about size bytes for benchmarks and load
// tests: a typical decision event padded with printable text.
func payload(i, size int) event {
	e := event{
		Type: "decision", DecisionID: fmt.Sprintf("d-%d", i), Session: fmt.Sprintf("s-%d", i%16),
		Agent: "agent-1", Tool: "shell", Kind: "exec", Action: "allow", Risk: float64(i%100) / 100,
		Time: base.Add(time.Duration(i) * time.Millisecond),
	}
	pad := size - len(body(0, "", e)) - 64 - 8
	for len(e.Extra) < pad {
		e.Extra = append(e.Extra, "abcdefghijklmnopqrstuvwxyz0123456789"...)
	}
	if pad >= 0 {
		e.Extra = e.Extra[:pad]
	}
	return e
}

// Batch returns n records of about size bytes each chained after h, as
// benchmarks and load tests of every store append them.
func Batch(h audit.Head, n, size int) []audit.Record {
	return records(h, n, func(i int) event { return payload(int(h.Seq)+i, size) })
}

// Bench returns a Seal appending Batch(head, n, size).
func Bench(n, size int) audit.Seal {
	return func(h audit.Head) ([]audit.Record, error) { return Batch(h, n, size), nil }
}

// appendEvents appends evs in one Append and returns the records sealed.
func appendEvents(t *testing.T, s audit.Store, evs ...event) []audit.Record {
	t.Helper()
	var recs []audit.Record
	h, err := s.Append(context.Background(), seal(evs, &recs))
	if err != nil {
		t.Fatalf("Append of %d records: %v", len(evs), err)
	}
	if len(recs) > 0 && (h.Seq != recs[len(recs)-1].Seq || h.Hash != recs[len(recs)-1].Hash) {
		t.Fatalf("Append returned head %+v, want the last record's %d/%s", h, recs[len(recs)-1].Seq, recs[len(recs)-1].Hash)
	}
	return recs
}

// scan returns every record with Seq ≥ from.
func scan(t *testing.T, s audit.Store, from uint64) []audit.Record {
	t.Helper()
	var got []audit.Record
	if err := s.Scan(context.Background(), from, func(r audit.Record) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatalf("Scan(%d): %v", from, err)
	}
	return got
}

// head returns the store's head.
func head(t *testing.T, s audit.Store) audit.Head {
	t.Helper()
	h, err := s.Head(context.Background())
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return h
}

// sameRecords fails t unless got equals want. A store may keep Time at
// microsecond precision only (PostgreSQL), so a time equal to want's
// truncated to microseconds counts as equal; it must be in UTC either way.
func sameRecords(t *testing.T, what string, got, want []audit.Record) {
	t.Helper()
	w := make([]audit.Record, len(want))
	copy(w, want)
	for i := range w {
		if i < len(got) {
			if got[i].Time.Location() != time.UTC {
				t.Errorf("%s: record %d has Time in %v, want UTC", what, got[i].Seq, got[i].Time.Location())
			}
			if tr := w[i].Time.Truncate(time.Microsecond); got[i].Time.Equal(tr) {
				w[i].Time = got[i].Time
			}
		}
	}
	// Bodies are compared apart: cmp walks byte slices one element at a
	// time, which is slow for large bodies.
	for i := range min(len(w), len(got)) {
		if !bytes.Equal(w[i].Body, got[i].Body) {
			t.Fatalf("%s: record %d body differs: got %d bytes %s, want %d bytes %s",
				what, got[i].Seq, len(got[i].Body), clip(got[i].Body), len(w[i].Body), clip(w[i].Body))
		}
	}
	if diff := cmp.Diff(w, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(audit.Record{}, "Body")); diff != "" {
		t.Fatalf("%s: records differ (-want +got):\n%s", what, diff)
	}
}

// seqs lists the records' sequence numbers.
func seqs(recs []audit.Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

// CheckChain fails t unless recs form a gap-free chain after h whose
// links and test hashes are consistent.
func CheckChain(t testing.TB, h audit.Head, recs []audit.Record) {
	t.Helper()
	for i, r := range recs {
		if r.Seq != h.Seq+1 || r.PrevHash != h.Hash {
			t.Fatalf("record %d (index %d) has seq %d prev %.12s, want seq %d prev %.12s", r.Seq, i, r.Seq, r.PrevHash, h.Seq+1, h.Hash)
		}
		if got := Hash(r.PrevHash, r.Body); got != r.Hash {
			t.Fatalf("record %d: hash %.12s does not match its body (%.12s)", r.Seq, r.Hash, got)
		}
		h = audit.Head{Seq: r.Seq, Hash: r.Hash}
	}
}

// clip quotes the start of b for a failure message.
func clip(b []byte) string {
	if len(b) > 80 {
		return fmt.Sprintf("%q…", b[:80])
	}
	return fmt.Sprintf("%q", b)
}
