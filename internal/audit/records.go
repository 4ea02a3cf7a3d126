package audit

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// CheckAppend reports whether recs continue h exactly and can be kept by
// every store: stores call it inside Append, after the seal. A broken link
// is ErrConflict; a record no store could keep (an empty hash or body, a
// NaN risk, text that is not UTF-8 or holds a NUL byte, a year outside
// 0000–9999, a seq beyond int64) is a plain error.
func CheckAppend(h Head, recs []Record) error {
	for i, r := range recs {
		if r.Seq != h.Seq+1 || r.PrevHash != h.Hash {
			return fmt.Errorf("record %d of %d (seq %d, prev %.16q) does not continue the chain at seq %d, hash %.16q: %w",
				i+1, len(recs), r.Seq, r.PrevHash, h.Seq, h.Hash, ErrConflict)
		}
		if r.Seq > math.MaxInt64 {
			return fmt.Errorf("record seq %d is beyond the largest a store keeps (%d)", r.Seq, int64(math.MaxInt64))
		}
		if r.Hash == "" || len(r.Body) == 0 {
			return fmt.Errorf("record %d has an empty hash or body; seal every record before appending it", r.Seq)
		}
		if math.IsNaN(r.Risk) {
			return fmt.Errorf("record %d has risk NaN; give it a number", r.Seq)
		}
		if f, ok := badText(r); ok {
			return fmt.Errorf("record %d has %s that is not valid UTF-8 or holds a NUL byte; text columns take UTF-8 text only", r.Seq, f)
		}
		if y := r.Time.UTC().Year(); y < 0 || y > 9999 {
			return fmt.Errorf("record %d has time %s; stores keep years 0000 to 9999", r.Seq, r.Time.UTC().Format(time.RFC3339))
		}
		h = Head{Seq: r.Seq, Hash: r.Hash}
	}
	return nil
}

// badText names the first text field of r that PostgreSQL could not
// store, so that every store accepts the same records.
func badText(r Record) (string, bool) {
	for _, f := range [...]struct{ name, v string }{
		{"Hash", r.Hash}, {"PrevHash", r.PrevHash}, {"EventID", r.EventID}, {"Type", r.Type},
		{"DecisionID", r.DecisionID}, {"Session", r.Session}, {"Agent", r.Agent}, {"Tool", r.Tool},
		{"Kind", r.Kind}, {"Action", r.Action}, {"Verify", r.Verify},
	} {
		if !utf8.ValidString(f.v) || strings.IndexByte(f.v, 0) >= 0 {
			return f.name, true
		}
	}
	return "", false
}

// CheckCheckpoint reports whether c can be kept by every store.
func CheckCheckpoint(c Checkpoint) error {
	if c.Seq == 0 || c.Seq > math.MaxInt64 {
		return fmt.Errorf("checkpoint seq %d is out of range; a checkpoint names an event, seq 1 to %d", c.Seq, int64(math.MaxInt64))
	}
	if c.Hash == "" || len(c.Body) == 0 {
		return fmt.Errorf("checkpoint %d has an empty hash or body; store the signed, encoded checkpoint", c.Seq)
	}
	if !utf8.ValidString(c.Hash) || strings.IndexByte(c.Hash, 0) >= 0 {
		return fmt.Errorf("checkpoint %d has a hash that is not valid UTF-8 or holds a NUL byte", c.Seq)
	}
	return nil
}
