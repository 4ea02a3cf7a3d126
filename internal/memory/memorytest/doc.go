// Package memorytest is the acceptance suite every memory.Store must pass:
// the in-memory store, SQLite (FTS5) and PostgreSQL (tsvector). A store's
// own test calls Run with a function that opens it on a fresh, empty
// database.
//
// The suite pins the semantics store.go documents, and the ones it leaves
// to convention, so that every store answers alike:
//
//   - PutMemory replaces the whole record with the same ID (no merge);
//     GetMemory and DeleteMemory of a missing ID wrap memory.ErrNotFound.
//   - Every record field round-trips (times compared with Equal, at whole
//     seconds so that microsecond stores pass; a zero LastUsed stays zero).
//   - Query filters combine with AND; an empty string field does not
//     filter; MaxLevel 0 keeps only full records and -1 keeps all; After
//     and Before are strict (Created > After, Created < Before), and a zero
//     time does not filter.
//   - Without Text, results are ordered by Importance (highest first), then
//     by Created (newest first); Limit keeps the first records of that
//     order. Limit 0 means 100 and no call returns more than 10,000.
//   - With Text, a record is returned only if it contains every word of the
//     query (case-insensitively; punctuation in the query separates words
//     and is never query syntax). The relevance order itself is the
//     store's own: the suite checks only what any sensible ranking gives
//     (the set of records returned, never their order among equals).
//   - TouchMemory adds one to Uses and sets LastUsed on each named record,
//     atomically, and changes nothing else.
//   - MemoryStats counts records by layer and sums the bytes of Text,
//     Summary and OneLine.
//   - Every method is safe for concurrent use, and every method given an
//     ended context fails rather than acting.
package memorytest
