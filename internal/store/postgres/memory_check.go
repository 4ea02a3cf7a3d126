package postgres

import "github.com/sentinel-agent/sentinel/internal/memory"

// The checks every memory store makes, from package memory.
var (
	checkMemory = memory.CheckRecord
	checkQuery  = memory.CheckQuery
	storable    = memory.Storable
	storableIDs = memory.StorableIDs
	queryWords  = memory.QueryWords
	cleanText   = memory.CleanText
)

const (
	maxMemoryID   = memory.MaxRecordID
	maxTouch      = memory.MaxTouch
	maxQueryText  = memory.MaxQueryText
	maxQueryWords = memory.MaxQueryWords
	maxMemoryText = memory.MaxRecordText
)
