package postgres

import (
	"fmt"
	"math"

	"github.com/sentinel-agent/sentinel/internal/audit"
)

// checkRecords is audit.CheckAppend with the store's name on the error.
func checkRecords(h audit.Head, recs []audit.Record) error {
	if err := audit.CheckAppend(h, recs); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// checkCheckpoint is audit.CheckCheckpoint with the store's name on the
// error.
func checkCheckpoint(c audit.Checkpoint) error {
	if err := audit.CheckCheckpoint(c); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// clamp converts a seq bound to PostgreSQL's BIGINT range.
func clamp(seq uint64) int64 {
	return int64(min(seq, math.MaxInt64))
}
