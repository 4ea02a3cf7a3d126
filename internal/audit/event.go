package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Version is the event format this package writes. Readers accept it and
// refuse anything newer.
const Version = 1

// Event types.
const (
	// TypeDecision is a decided tool call.
	TypeDecision = "decision"
	// TypeOutcome fills the later stages' slots (approval, execution,
	// verify, rollback) for a decision: the log is append-only, so a later
	// stage writes a new event naming the decision rather than changing
	// the old one.
	TypeOutcome = "outcome"
	// TypeSession marks a session's end (Session names it).
	TypeSession = "session"
	// TypeFeedback is an implicit feedback signal about a session's
	// agent (Feedback), as the user's behaviour showed it.
	TypeFeedback = "feedback"
	// TypeAlert is a warning Sentinel raised about an agent (Alert):
	// its behaviour drifted from its own baseline.
	TypeAlert = "alert"
)

// Event is one audit record, shaped on OPA's decision-log event. Its
// canonical encoding (see Canonical) is what is hashed, stored and
// exported; the field order below is that encoding's order and is frozen
// by the golden vectors in testdata/vectors.
type Event struct {
	V        int    `json:"v"`
	Seq      uint64 `json:"seq"`
	PrevHash string `json:"prev_hash"`
	ID       string `json:"id"`
	// Time is RFC 3339 in UTC with nanoseconds (see FormatTime).
	Time       string `json:"time"`
	Type       string `json:"type"`
	DecisionID string `json:"decision_id,omitempty"`
	Session    string `json:"session,omitempty"`
	Agent      string `json:"agent,omitempty"`
	Tool       string `json:"tool,omitempty"`
	Kind       string `json:"kind,omitempty"`
	// Args are the call's arguments with every secret replaced by a typed
	// placeholder before the event exists; Redacted counts the values
	// replaced.
	Args           json.RawMessage `json:"args,omitempty"`
	Redacted       int             `json:"redacted,omitempty"`
	Analysis       *Analysis       `json:"analysis,omitempty"`
	Decision       *Decision       `json:"decision,omitempty"`
	PolicyRevision string          `json:"policy_revision,omitempty"`
	Approval       *Approval       `json:"approval,omitempty"`
	Execution      *Execution      `json:"execution,omitempty"`
	Verify         *Verify         `json:"verify,omitempty"`
	Rollback       *Rollback       `json:"rollback,omitempty"`
	Feedback       *Feedback       `json:"feedback,omitempty"`
	Alert          *Alert          `json:"alert,omitempty"`
	// Hash is the hex SHA-256 of the canonical encoding of the event
	// without Hash; PrevHash is the previous event's Hash ("" for the
	// first event of a chain).
	Hash string `json:"hash,omitempty"`
}

// Analysis summarises what the kernel saw in the call.
type Analysis struct {
	Commands   []string `json:"commands,omitempty"`
	Paths      []string `json:"paths,omitempty"` // "op path"
	Dests      []string `json:"dests,omitempty"`
	Findings   []string `json:"findings,omitempty"`
	Unresolved int      `json:"unresolved,omitempty"`
	ParseError string   `json:"parse_error,omitempty"`
}

// Decision is the kernel's answer as the audit log keeps it.
type Decision struct {
	Action  string   `json:"action"`
	Risk    Risk     `json:"risk"`
	Reasons []Reason `json:"reasons"`
}

// Risk is the score and its dimensions.
type Risk struct {
	Score         float64 `json:"score"`
	Impact        float64 `json:"impact"`
	Reversibility float64 `json:"reversibility"`
	Sensitivity   float64 `json:"sensitivity"`
	ErrorRate     float64 `json:"error_rate"`
}

// Reason is one gate's reason, with what it alone asked for.
type Reason struct {
	Gate    string `json:"gate"`
	Code    string `json:"code"`
	Action  string `json:"action"`
	Message string `json:"message"`
	Detail  string `json:"detail,omitempty"`
}

// Approval is a human's answer to a confirm.
type Approval struct {
	Status   string `json:"status"` // approved, denied, expired
	Approver string `json:"approver,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Time     string `json:"time,omitempty"`
}

// Execution is how the call ran.
type Execution struct {
	Status     string `json:"status"` // ok, error, timeout, skipped
	DurationMS int64  `json:"duration_ms,omitempty"`
	Retries    int    `json:"retries,omitempty"`
	Error      string `json:"error,omitempty"`
	Result     string `json:"result,omitempty"`
}

// Verify is what verification found.
type Verify struct {
	Status string   `json:"status"` // pass, warn, fail
	Checks []string `json:"checks,omitempty"`
}

// Rollback is what was restored.
type Rollback struct {
	Status string   `json:"status"` // done, failed
	Files  []string `json:"files,omitempty"`
	Error  string   `json:"error,omitempty"`
}

// Feedback is one implicit feedback signal.
type Feedback struct {
	Signal   string  `json:"signal"`
	Strength float64 `json:"strength"`
}

// Alert is a warning about an agent's behaviour.
type Alert struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  string `json:"detail,omitempty"`
}

// FormatTime renders t the way events carry it: UTC, RFC 3339 with exactly
// nine fractional digits, so that the text sorts like the time.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
}

// ParseTime reads a time written by FormatTime.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("audit: bad event time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// Canonical returns the canonical encoding of e: compact JSON with the
// fields in declaration order, empty optional fields omitted, no HTML
// escaping, numbers as Go's shortest round-trip form, and Args re-encoded
// with object keys sorted and numbers kept as written. The encoding is
// specified here and frozen by golden vectors: changing it is a new
// Version.
func Canonical(e *Event) ([]byte, error) {
	c := *e
	if len(c.Args) > 0 {
		a, err := canonicalJSON(c.Args)
		if err != nil {
			return nil, fmt.Errorf("audit: event args are not valid JSON: %w", err)
		}
		c.Args = a
	}
	b, err := encodeCompact(&c)
	if err != nil {
		return nil, fmt.Errorf("audit: encoding event: %w", err)
	}
	return b, nil
}

// canonicalJSON re-encodes a JSON value with sorted object keys, compact,
// numbers as written.
func canonicalJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return encodeCompact(v)
}

// ComputeHash returns the hash e must carry: SHA-256 over the canonical
// encoding of e with Hash empty.
func ComputeHash(e *Event) (string, error) {
	c := *e
	c.Hash = ""
	b, err := Canonical(&c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Seal assigns e its place after (seq-1, prev) and its hash, and returns
// its canonical encoding.
func (e *Event) Seal(seq uint64, prev string) ([]byte, error) {
	e.Hash = ""
	tail, err := e.encodeTail()
	if err != nil {
		return nil, err
	}
	body, h := sealTail(seq, prev, tail)
	e.V, e.Seq, e.PrevHash, e.Hash = Version, seq, prev, h
	return body, nil
}

// headPrefix is how the canonical encoding of an event with V, Seq and
// PrevHash zero begins; the rest of it (from "id") does not depend on the
// event's place in the chain.
const headPrefix = `{"v":0,"seq":0,"prev_hash":"",`

// encodeTail returns the canonical encoding of e without Hash, from its
// "id" field on: the part of the encoding that a writer can build before
// it knows where in the chain the event goes.
func (e *Event) encodeTail() ([]byte, error) {
	c := *e
	c.V, c.Seq, c.PrevHash, c.Hash = 0, 0, "", ""
	b, err := Canonical(&c)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, []byte(headPrefix)) {
		return nil, fmt.Errorf("audit: unexpected event encoding %.40q", b)
	}
	return b[len(headPrefix):], nil
}

// sealTail completes an encoding from encodeTail for its place in the
// chain: it writes the head fields, hashes the encoding without Hash, and
// appends Hash as the last field — exactly Canonical of the sealed event.
func sealTail(seq uint64, prev string, tail []byte) ([]byte, string) {
	body := make([]byte, 0, len(tail)+len(prev)+len(hashSuffixStart)+sha256.Size*2+40)
	body = append(body, `{"v":`...)
	body = strconv.AppendInt(body, Version, 10)
	body = append(body, `,"seq":`...)
	body = strconv.AppendUint(body, seq, 10)
	body = append(body, `,"prev_hash":"`...)
	body = append(body, prev...)
	body = append(body, `",`...)
	body = append(body, tail...)
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	body = append(body[:len(body)-1], hashSuffixStart...)
	body = append(body, h...)
	body = append(body, `"}`...)
	return body, h
}

const hashSuffixStart = `,"hash":"`

// head is what verification reads of an event without decoding it.
type head struct {
	v   int
	seq uint64
	// prevHash, id and hash point into the encoding.
	prevHash []byte
	id       []byte
	hash     []byte
	// unhashed is the encoding without Hash, which Hash covers.
	unhashed []byte
}

// parseHead reads the fields of a canonical event encoding that the chain
// depends on, by position: the encoding is canonical, so they are first
// (v, seq, prev_hash, id) and last (hash). It does not check the rest of
// the event: the hash covers every byte of it.
func parseHead(b []byte) (head, error) {
	var h head
	bad := func(what string) (head, error) {
		return head{}, fmt.Errorf("audit: not a canonical event (%s)", what)
	}
	rest, ok := bytes.CutPrefix(b, []byte(`{"v":`))
	if !ok {
		return bad("it does not start with the version")
	}
	n, rest, ok := cutUint(rest)
	if !ok || n < 1 || n > Version {
		return bad("unsupported version")
	}
	h.v = int(n)
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"seq":`)); !ok {
		return bad("no sequence number")
	}
	if h.seq, rest, ok = cutUint(rest); !ok {
		return bad("bad sequence number")
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"prev_hash":"`)); !ok {
		return bad("no previous hash")
	}
	i := bytes.IndexByte(rest, '"')
	if i != 0 && i != sha256.Size*2 || !isHex(rest[:i]) {
		return bad("bad previous hash")
	}
	h.prevHash, rest = rest[:i], rest[i+1:]
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"id":"`)); !ok {
		return bad("no event id")
	}
	if i = bytes.IndexByte(rest, '"'); i < 0 {
		return bad("unterminated event id")
	}
	h.id = rest[:min(i, 64)]
	const tailLen = len(hashSuffixStart) + sha256.Size*2 + 2
	if len(b) < tailLen || !bytes.HasPrefix(b[len(b)-tailLen:], []byte(hashSuffixStart)) || !bytes.HasSuffix(b, []byte(`"}`)) {
		return bad("it does not end with the hash")
	}
	hx := b[len(b)-tailLen+len(hashSuffixStart) : len(b)-2]
	if !isHex(hx) {
		return bad("bad hash")
	}
	h.hash = hx
	h.unhashed = b[:len(b)-tailLen]
	return h, nil
}

// hashOK reports whether the encoding without Hash (with its closing
// brace) hashes to Hash.
func (h *head) hashOK() bool {
	d := sha256.New()
	d.Write(h.unhashed)
	d.Write([]byte{'}'})
	var sum [sha256.Size]byte
	var hx [sha256.Size * 2]byte
	hex.Encode(hx[:], d.Sum(sum[:0]))
	return bytes.Equal(hx[:], h.hash)
}

func cutUint(b []byte) (uint64, []byte, bool) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == 0 || i > 19 || i > 1 && b[0] == '0' {
		return 0, b, false
	}
	n, err := strconv.ParseUint(string(b[:i]), 10, 64)
	return n, b[i:], err == nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown
// fields and trailing data; what names v in errors.
func decodeStrict(b []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("audit: not %s: %w", what, err)
	}
	if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return fmt.Errorf("audit: not %s: %d bytes of trailing data", what, len(rest))
	}
	return nil
}

// Decode reads an event from its canonical encoding, refusing unknown
// fields and newer versions.
func Decode(b []byte) (*Event, error) {
	var e Event
	if err := decodeStrict(b, &e, "an event"); err != nil {
		return nil, err
	}
	if e.V < 1 || e.V > Version {
		return nil, fmt.Errorf("audit: event version %d is not supported (this build reads 1..%d)", e.V, Version)
	}
	return &e, nil
}

// row builds the store's row for e sealed at seq after prev with hash h.
func (e *Event) row(seq uint64, prev, h string, t time.Time, body []byte) Record {
	r := Record{
		Seq: seq, Hash: h, PrevHash: prev, Time: t, EventID: e.ID, Type: e.Type,
		DecisionID: e.DecisionID, Session: e.Session, Agent: e.Agent, Tool: e.Tool, Kind: e.Kind, Body: body,
	}
	if e.Decision != nil {
		r.Action = e.Decision.Action
		r.Risk = e.Decision.Risk.Score
	}
	if e.Verify != nil {
		r.Verify = e.Verify.Status
	}
	return r
}

// shortSeq renders a sequence number for messages.
func shortSeq(s uint64) string { return "#" + strconv.FormatUint(s, 10) }
