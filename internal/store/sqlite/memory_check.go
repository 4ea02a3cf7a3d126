package sqlite

import (
	"strings"

	"github.com/sentinel-agent/sentinel/internal/memory"
)

// The checks every memory store makes, from package memory.
var (
	checkMemory = memory.CheckRecord
	checkQuery  = memory.CheckQuery
	storable    = memory.Storable
	storableIDs = memory.StorableIDs
	queryWords  = memory.QueryWords
)

const (
	maxMemoryID   = memory.MaxRecordID
	maxTouch      = memory.MaxTouch
	maxQueryText  = memory.MaxQueryText
	maxQueryWords = memory.MaxQueryWords
	maxMemoryText = memory.MaxRecordText
)

// ftsQuery turns user text into an FTS5 query that matches the records
// holding every word, whatever the text holds: each word becomes a
// quoted string (FTS5's syntax, AND, OR, NOT, NEAR, *, ^, :, parentheses,
// is literal inside one), which the tokenizer splits as it split the
// stored text ("user@example.com" is the phrase "user example com"). A
// word with no letters or digits is an empty phrase, which FTS5 drops;
// text of such words alone matches nothing.
func ftsQuery(text string) string {
	words := queryWords(text)
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(w, `"`, `""`))
		b.WriteByte('"')
	}
	return b.String()
}
