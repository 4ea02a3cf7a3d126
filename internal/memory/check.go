package memory

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds on what a memory store accepts, so that one record or query
// cannot make it do unbounded work; the SQLite and PostgreSQL stores
// check records and queries with CheckRecord and CheckQuery.
const (
	// MaxRecordID bounds a record's ID, in bytes.
	MaxRecordID = 256
	// maxMemoryField bounds each of the short strings of a record
	// (kind, scope, agent, session, key, source fields), in bytes.
	maxMemoryField = 4096
	// MaxRecordText bounds a record's key, text, summary and one-liner
	// together, in bytes (package memory keeps texts under 64 KiB). It
	// keeps the tsvector of any record under PostgreSQL's limit of 1 MB;
	// both stores have it, so that what one takes the other takes too.
	MaxRecordText = 256 << 10
	// MaxQueryText and MaxQueryWords bound Query.Text: the words are
	// ANDed, and each is a lookup in the index.
	MaxQueryText  = 4096
	MaxQueryWords = 64
	// memoryDefaultLimit and memoryMaxLimit are Query.Limit's default
	// and cap, as memory.Query documents them.
	memoryDefaultLimit = 100
	memoryMaxLimit     = 10000
	// MaxTouch bounds the IDs of one TouchMemory.
	MaxTouch = 10000
)

// CheckRecord reports what makes r unfit to store, naming the field and
// the accepted values.
func CheckRecord(r Record) error {
	if r.ID == "" {
		return fmt.Errorf("memory record has no ID; give every record a unique ID")
	}
	if len(r.ID) > MaxRecordID {
		return fmt.Errorf("memory record ID %.40q… is %d bytes; at most %d are allowed", r.ID, len(r.ID), MaxRecordID)
	}
	if err := checkString("ID", r.ID); err != nil {
		return fmt.Errorf("memory record %.40q: %w", r.ID, err)
	}
	if r.Layer != LayerEpisodic && r.Layer != LayerSemantic {
		return fmt.Errorf("memory record %s: layer %.40q is not %q or %q", r.ID, r.Layer, LayerEpisodic, LayerSemantic)
	}
	if r.Level < LevelFull || r.Level > LevelOneLine {
		return fmt.Errorf("memory record %s: level %d is not %d (full), %d (summary) or %d (one line)", r.ID, r.Level, LevelFull, LevelSummary, LevelOneLine)
	}
	for _, f := range [...]struct {
		name string
		v    float64
	}{{"importance", r.Importance}, {"confidence", r.Confidence}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 1 {
			return fmt.Errorf("memory record %s: %s is %v; use a number from 0 to 1", r.ID, f.name, f.v)
		}
	}
	if r.Confirmations < 0 || r.Uses < 0 {
		return fmt.Errorf("memory record %s: confirmations %d and uses %d cannot be negative", r.ID, r.Confirmations, r.Uses)
	}
	for _, f := range [...]field{{"kind", r.Kind}, {"scope", r.Scope}, {"agent", r.Agent}, {"session", r.Session}, {"key", r.Key},
		{"source kind", r.Source.Kind}, {"source tool", r.Source.Tool}, {"source session", r.Source.Session}, {"source decision ID", r.Source.DecisionID}} {
		if len(f.v) > maxMemoryField {
			return fmt.Errorf("memory record %s: %s is %d bytes; at most %d are allowed", r.ID, f.name, len(f.v), maxMemoryField)
		}
		if err := checkString(f.name, f.v); err != nil {
			return fmt.Errorf("memory record %s: %w", r.ID, err)
		}
	}
	if n := len(r.Key) + len(r.Text) + len(r.Summary) + len(r.OneLine); n > MaxRecordText {
		return fmt.Errorf("memory record %s: key, text, summary and one-liner are %d bytes together; at most %d are allowed, shorten the text", r.ID, n, MaxRecordText)
	}
	for _, f := range [...]field{{"text", r.Text}, {"summary", r.Summary}, {"one-liner", r.OneLine}} {
		if err := checkString(f.name, f.v); err != nil {
			return fmt.Errorf("memory record %s: %w", r.ID, err)
		}
	}
	for _, f := range [...]struct {
		name string
		t    time.Time
	}{{"created", r.Created}, {"updated", r.Updated}, {"last used", r.LastUsed}} {
		if y := f.t.UTC().Year(); y < 0 || y > 9999 {
			return fmt.Errorf("memory record %s: %s time %v is outside the years 0000–9999 the store keeps", r.ID, f.name, f.t)
		}
	}
	return nil
}

// field is a named string of a record, for CheckRecord's messages.
type field struct{ name, v string }

// checkString refuses what a database cannot hold as text: bytes that
// are not UTF-8, and NUL, which ends a C string (PostgreSQL refuses it).
func checkString(name, v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s is not valid UTF-8", name)
	}
	if i := strings.IndexByte(v, 0); i >= 0 {
		return fmt.Errorf("%s holds a NUL byte at offset %d", name, i)
	}
	return nil
}

// CheckQuery reports what makes q unfit to run and returns its limit.
func CheckQuery(q Query) (limit int, err error) {
	switch {
	case q.Limit < 0:
		return 0, fmt.Errorf("memory query limit %d is negative; use 0 for the default (%d) or a count up to %d", q.Limit, memoryDefaultLimit, memoryMaxLimit)
	case q.MaxLevel < -1:
		return 0, fmt.Errorf("memory query MaxLevel %d is out of range; use -1 for every level, or the highest level to include (0 full, 1 summary, 2 one line)", q.MaxLevel)
	case len(q.Text) > MaxQueryText:
		return 0, fmt.Errorf("memory query text is %d bytes; at most %d are allowed, search for fewer words", len(q.Text), MaxQueryText)
	}
	if n := len(QueryWords(q.Text)); n > MaxQueryWords {
		return 0, fmt.Errorf("memory query text has %d words; at most %d are allowed, search for fewer words", n, MaxQueryWords)
	}
	if q.Limit == 0 {
		return memoryDefaultLimit, nil
	}
	// A larger limit is capped, as in every store (the acceptance suite
	// asks for it): no search returns more than 10,000 records.
	return min(q.Limit, memoryMaxLimit), nil
}

// Storable reports whether v could be a stored string: a lookup of any
// other value finds nothing, without asking the database (PostgreSQL
// refuses such values outright).
func Storable(v string) bool {
	return checkString("", v) == nil
}

// StorableIDs returns the IDs of ids that could be stored.
func StorableIDs(ids []string) []string {
	var out []string
	for _, id := range ids {
		if len(id) <= MaxRecordID && Storable(id) {
			out = append(out, id)
		}
	}
	return out
}

// CleanText turns the bytes of user text that are not UTF-8, and NULs,
// into spaces, so that no input can make the database refuse the query.
func CleanText(text string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(text, " "), "\x00", " ")
}

// QueryWords splits user text into words at white space, after
// CleanText.
func QueryWords(text string) []string {
	return strings.Fields(CleanText(text))
}
