package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"sort"
)

// Problem kinds, in the words `sentinel audit verify` reports.
const (
	// ProblemChanged: an event's bytes no longer hash to its hash, or its
	// link to the previous event is broken.
	ProblemChanged = "changed"
	// ProblemMissing: sequence numbers skip: events were deleted.
	ProblemMissing = "missing"
	// ProblemReordered: an event appears out of its place.
	ProblemReordered = "reordered"
	// ProblemTruncated: a signed checkpoint vouches for events that are
	// no longer there.
	ProblemTruncated = "truncated"
	// ProblemBadSignature: a checkpoint's signature does not verify or is
	// by a key that is not trusted.
	ProblemBadSignature = "bad signature"
	// ProblemMalformed: a line or row is not an event or a checkpoint.
	ProblemMalformed = "malformed"
	// ProblemUnsigned: more events follow the last trusted checkpoint than
	// the verifier was told to accept. Unsigned events could have been
	// rewritten (and the checkpoints after them dropped) without a trace.
	ProblemUnsigned = "unsigned"
)

// Problem is the first thing wrong with a chain.
type Problem struct {
	Kind    string
	Seq     uint64 // the event (or checkpoint) concerned
	EventID string
	Line    int // 1-based line of an exported file, 0 for a store
	Detail  string
}

func (p *Problem) Error() string {
	where := "event " + shortSeq(p.Seq)
	if p.EventID != "" {
		where += " (" + p.EventID + ")"
	}
	if p.Line > 0 {
		where = fmt.Sprintf("line %d, %s", p.Line, where)
	}
	return fmt.Sprintf("%s: %s: %s", where, p.Kind, p.Detail)
}

// Report is the outcome of a verification.
type Report struct {
	// Events is how many events were checked; First and Last their
	// sequence numbers.
	Events      uint64
	First, Last uint64
	// Checkpoints is how many checkpoints were checked; SignedUpTo the
	// last sequence number a trusted signature vouches for.
	Checkpoints int
	SignedUpTo  uint64
	// SignaturesChecked is false when no trusted key was given: the chain
	// was checked, the signatures only for their form.
	SignaturesChecked bool
	// Keys are the IDs of the keys trusted by the end (rotations add).
	Keys []string
	// Problem is the first problem found, nil when the chain is intact.
	Problem *Problem
}

// OK reports whether the chain verified.
func (r *Report) OK() bool { return r.Problem == nil }

// Verifier checks a chain fed to it in order: events and checkpoints
// interleaved, each checkpoint after the event it names (an anchor
// checkpoint before the first event). It stops at the first problem, but
// looks a few items ahead before calling a gap "missing", so that two
// swapped events are reported as reordered.
type Verifier struct {
	trusted map[string]ed25519.PublicKey
	checked bool
	// maxUnsigned, when not zero, bounds the events after the last
	// trusted checkpoint.
	maxUnsigned uint64

	rep      Report
	started  bool
	prevSeq  uint64
	prevHash string
	line     int
	// pendingCk are checkpoints whose event has not been seen yet.
	pendingCk []*CheckpointBody
	// gap is a provisional "missing" problem: if the expected event turns
	// up within lookahead items it becomes "reordered".
	gap      *Problem
	gapSeen  int
	gapWant  uint64
	finished bool
}

const lookahead = 16

// NewVerifier returns a verifier that trusts the given public keys (and
// keys they rotate to). With none, signatures are checked for form only.
func NewVerifier(trusted ...ed25519.PublicKey) *Verifier {
	v := &Verifier{trusted: map[string]ed25519.PublicKey{}}
	for _, k := range trusted {
		v.trusted[KeyID(k)] = k
	}
	v.checked = len(trusted) > 0
	v.rep.SignaturesChecked = v.checked
	return v
}

// LimitUnsigned makes a chain whose last n+1 or more events are not
// covered by a trusted checkpoint a problem. A writer signs every N events
// and on close, so a longer unsigned tail means checkpoints are missing;
// n = 0 sets no limit.
func (v *Verifier) LimitUnsigned(n uint64) *Verifier {
	v.maxUnsigned = n
	return v
}

// Done reports whether a problem was found (further input is ignored).
func (v *Verifier) Done() bool { return v.rep.Problem != nil }

func (v *Verifier) fail(p *Problem) {
	if v.rep.Problem == nil {
		if p.Line == 0 {
			p.Line = v.line
		}
		v.rep.Problem = p
	}
}

// Line tells the verifier the line number of the next item, for reports
// on files.
func (v *Verifier) Line(n int) { v.line = n }

// Event checks the next event, given as its stored bytes. storedSeq and
// storedHash are what a store's columns say (0 and "" for a file).
func (v *Verifier) Event(body []byte, storedSeq uint64, storedHash string) {
	if v.Done() {
		return
	}
	h, err := parseHead(body)
	if err != nil {
		v.fail(&Problem{Kind: ProblemMalformed, Seq: storedSeq, Detail: err.Error()})
		return
	}
	e := &h
	if v.gap != nil {
		v.gapSeen++
		if e.seq == v.gapWant {
			v.gap.Kind = ProblemReordered
			v.gap.Detail = fmt.Sprintf("event %s appears after event %s", shortSeq(e.seq), shortSeq(v.gap.Seq))
			v.fail(v.gap)
			return
		}
		if v.gapSeen >= lookahead {
			v.fail(v.gap)
		}
		return
	}
	if storedSeq != 0 && storedSeq != e.seq {
		v.fail(&Problem{Kind: ProblemReordered, Seq: storedSeq, EventID: string(e.id),
			Detail: fmt.Sprintf("the row for %s holds event %s", shortSeq(storedSeq), shortSeq(e.seq))})
		return
	}
	// The hash covers every byte of the encoding but itself: any change
	// to the stored bytes shows here.
	if !e.hashOK() {
		v.fail(&Problem{Kind: ProblemChanged, Seq: e.seq, EventID: string(e.id), Detail: "its content no longer matches its hash"})
		return
	}
	if storedHash != "" && storedHash != string(e.hash) {
		v.fail(&Problem{Kind: ProblemChanged, Seq: e.seq, EventID: string(e.id), Detail: "the stored hash column differs from the event's hash"})
		return
	}
	if !v.started {
		v.started = true
		v.rep.First = e.seq
		if e.seq != 1 {
			// The chain must start at an anchor checkpoint.
			if v.prevSeq == 0 || v.prevSeq != e.seq-1 {
				v.fail(&Problem{Kind: ProblemMissing, Seq: e.seq, EventID: string(e.id),
					Detail: fmt.Sprintf("the chain starts at %s with no signed anchor for the events before it", shortSeq(e.seq))})
				return
			}
		}
	} else {
		switch {
		case e.seq <= v.prevSeq:
			v.fail(&Problem{Kind: ProblemReordered, Seq: e.seq, EventID: string(e.id),
				Detail: fmt.Sprintf("event %s appears after event %s", shortSeq(e.seq), shortSeq(v.prevSeq))})
			return
		case e.seq > v.prevSeq+1:
			v.gap = &Problem{Kind: ProblemMissing, Seq: e.seq, EventID: string(e.id), Line: v.line,
				Detail: missingDetail(v.prevSeq+1, e.seq-1)}
			v.gapWant = v.prevSeq + 1
			return
		}
	}
	if string(e.prevHash) != v.prevHash {
		v.fail(&Problem{Kind: ProblemChanged, Seq: e.seq, EventID: string(e.id),
			Detail: "its link to the previous event is broken (the previous event was changed or replaced)"})
		return
	}
	v.prevSeq, v.prevHash = e.seq, string(e.hash)
	v.rep.Events++
	v.rep.Last = e.seq
	// Checkpoints that arrived before their event (a store lists them
	// separately) are checked now.
	kept := v.pendingCk[:0]
	for _, c := range v.pendingCk {
		if c.Seq == e.seq {
			v.checkAgainst(c, v.prevHash)
		} else {
			kept = append(kept, c)
		}
	}
	v.pendingCk = kept
}

func missingDetail(from, to uint64) string {
	if from == to {
		return fmt.Sprintf("event %s is missing", shortSeq(from))
	}
	return fmt.Sprintf("events %s to %s are missing", shortSeq(from), shortSeq(to))
}

// Checkpoint checks a checkpoint, given as its stored bytes.
func (v *Verifier) Checkpoint(body []byte) {
	if v.Done() || v.gap != nil {
		return
	}
	c, err := DecodeCheckpoint(body)
	if err != nil {
		v.fail(&Problem{Kind: ProblemMalformed, Detail: err.Error()})
		return
	}
	v.rep.Checkpoints++
	if enc, err := c.Encode(); err != nil || !bytes.Equal(enc, body) {
		v.fail(&Problem{Kind: ProblemBadSignature, Seq: c.Seq, Detail: "checkpoint " + shortSeq(c.Seq) + " is not in its canonical encoding"})
		return
	}
	if !v.signed(c) {
		return
	}
	switch {
	case !v.started && (v.prevSeq == 0 || c.Seq > v.prevSeq):
		// Before the first event: an anchor the chain continues from.
		v.prevSeq, v.prevHash = c.Seq, c.Hash
		v.rep.SignedUpTo = max(v.rep.SignedUpTo, c.Seq)
	case v.started && c.Seq == v.prevSeq:
		v.checkAgainst(c, v.prevHash)
	case v.started && c.Seq < v.prevSeq:
		// A store lists checkpoints after the events; a file keeps them in
		// place. An older checkpoint than the current event can only be
		// checked against what was seen, which a verifier does not keep:
		// stores feed checkpoints in order (see VerifyStore).
		v.fail(&Problem{Kind: ProblemReordered, Seq: c.Seq,
			Detail: fmt.Sprintf("a checkpoint for %s appears after event %s", shortSeq(c.Seq), shortSeq(v.prevSeq))})
	default:
		v.pendingCk = append(v.pendingCk, c)
	}
}

func (v *Verifier) checkAgainst(c *CheckpointBody, hash string) {
	if c.Hash != hash {
		v.fail(&Problem{Kind: ProblemChanged, Seq: c.Seq,
			Detail: "the signed checkpoint for this event names a different hash: the chain up to here was rewritten"})
		return
	}
	v.rep.SignedUpTo = max(v.rep.SignedUpTo, c.Seq)
}

// signed checks c's signatures: every signature must verify; with trusted
// keys, at least one must be by a trusted key, and a rotation checkpoint
// signed by a trusted key makes its other signers trusted.
func (v *Verifier) signed(c *CheckpointBody) bool {
	if len(c.Signatures) == 0 {
		v.fail(&Problem{Kind: ProblemBadSignature, Seq: c.Seq, Detail: "the checkpoint carries no signature"})
		return false
	}
	var signers []ed25519.PublicKey
	trusted := false
	for _, s := range c.Signatures {
		pub, err := verifySig(c, s)
		if err != nil {
			v.fail(&Problem{Kind: ProblemBadSignature, Seq: c.Seq, Detail: "checkpoint " + shortSeq(c.Seq) + ": " + err.Error()})
			return false
		}
		signers = append(signers, pub)
		if _, ok := v.trusted[s.KeyID]; ok {
			trusted = true
		}
	}
	if v.checked && !trusted {
		v.fail(&Problem{Kind: ProblemBadSignature, Seq: c.Seq,
			Detail: fmt.Sprintf("checkpoint %s is signed only by keys that are not trusted (%s)", shortSeq(c.Seq), c.Signatures[0].KeyID)})
		return false
	}
	if c.Reason == ReasonRotation && (trusted || !v.checked) {
		for _, p := range signers {
			v.trusted[KeyID(p)] = p
		}
	}
	return true
}

// Finish ends the input and returns the report.
func (v *Verifier) Finish() Report {
	if !v.finished {
		v.finished = true
		if v.gap != nil {
			v.fail(v.gap)
		}
		if !v.Done() {
			for _, c := range v.pendingCk {
				v.fail(&Problem{Kind: ProblemTruncated, Seq: c.Seq,
					Detail: fmt.Sprintf("a signed checkpoint vouches for the chain up to %s, but it ends at %s", shortSeq(c.Seq), shortSeq(v.prevSeq))})
				break
			}
		}
		if signed := max(v.rep.SignedUpTo, v.rep.First-min(v.rep.First, 1)); !v.Done() && v.checked && v.maxUnsigned > 0 &&
			v.rep.Events > 0 && v.rep.Last-signed > v.maxUnsigned {
			v.fail(&Problem{Kind: ProblemUnsigned, Seq: signed + 1,
				Detail: fmt.Sprintf("%d events from here on are covered by no trusted checkpoint (at most %d accepted); checkpoints are missing or the log stopped signing", v.rep.Last-signed, v.maxUnsigned)})
		}
	}
	r := v.rep
	for id := range v.trusted {
		r.Keys = append(r.Keys, id)
	}
	sort.Strings(r.Keys)
	return r
}

// VerifyStore checks the whole chain in a store.
func VerifyStore(ctx context.Context, s Store, trusted ...ed25519.PublicKey) (Report, error) {
	return VerifyStoreWith(ctx, s, NewVerifier(trusted...))
}

// VerifyStoreWith checks the whole chain in a store with a configured
// verifier.
func VerifyStoreWith(ctx context.Context, s Store, v *Verifier) (Report, error) {
	cks, err := s.Checkpoints(ctx, 0)
	if err != nil {
		return Report{}, err
	}
	i := 0
	err = s.Scan(ctx, 0, func(r Record) error {
		// Checkpoints for events before this one (an anchor, or the
		// previous event's) go first.
		for i < len(cks) && cks[i].Seq < r.Seq {
			v.Checkpoint(cks[i].Body)
			i++
		}
		v.Event(r.Body, r.Seq, r.Hash)
		if v.Done() {
			return errStop
		}
		// The hash covers the body; queries read the columns beside it.
		// A column changed to hide an event from a filter ("action =
		// deny") is a changed event too.
		if d := columnMismatch(r); d != "" {
			v.fail(&Problem{Kind: ProblemChanged, Seq: r.Seq, EventID: r.EventID, Detail: d})
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop {
		return Report{}, err
	}
	for ; i < len(cks) && !v.Done(); i++ {
		v.Checkpoint(cks[i].Body)
	}
	return v.Finish(), nil
}

type stopErr struct{}

func (stopErr) Error() string { return "stop" }

var errStop error = stopErr{}
