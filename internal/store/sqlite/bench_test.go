package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/store/storetest"
)

// bodySize is the size of a typical decision event's canonical body.
const bodySize = 600

func benchStore(b *testing.B, opts Options) *Store {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "audit.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchAppend appends b.N batches of n records; building the records
// (hashing included) is left out of the time.
func benchAppend(b *testing.B, s *Store, n int) {
	ctx := context.Background()
	var h audit.Head
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		recs := storetest.Batch(h, n, bodySize)
		b.StartTimer()
		var err error
		if h, err = s.Append(ctx, func(audit.Head) ([]audit.Record, error) { return recs, nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkAppendBatch1000(b *testing.B) {
	b.Run("normal", func(b *testing.B) { benchAppend(b, benchStore(b, Options{}), 1000) })
	b.Run("sync", func(b *testing.B) { benchAppend(b, benchStore(b, Options{Sync: true}), 1000) })
}

func BenchmarkAppendSync1(b *testing.B) {
	benchAppend(b, benchStore(b, Options{Sync: true}), 1)
}

func BenchmarkAppendNormal1(b *testing.B) {
	benchAppend(b, benchStore(b, Options{}), 1)
}

// BenchmarkRawInsertBatch1000 inserts the rows Append inserts, with the
// same pragmas, in one transaction of plain database/sql and no chain
// logic: the baseline for Append's overhead. "row" runs one prepared
// single-row INSERT per record, "multirow" the store's multi-row INSERTs.
func BenchmarkRawInsertBatch1000(b *testing.B) {
	for _, mode := range []string{"row", "multirow"} {
		b.Run(mode, func(b *testing.B) {
			s := benchStore(b, Options{})
			db := s.w
			ctx := context.Background()
			var h audit.Head
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				recs := storetest.Batch(h, 1000, bodySize)
				h = audit.Head{Seq: recs[len(recs)-1].Seq, Hash: recs[len(recs)-1].Hash}
				b.StartTimer()
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				if mode == "row" {
					err = insertRows(ctx, tx, recs)
				} else {
					err = s.insert(ctx, tx, recs)
				}
				if err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func insertRows(ctx context.Context, tx *sql.Tx, recs []audit.Record) error {
	stmt, err := tx.PrepareContext(ctx, insertSQL(1))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range recs {
		if _, err := stmt.ExecContext(ctx, int64(r.Seq), r.Hash, r.PrevHash, r.Time.UTC().Format(timeLayout), r.EventID, r.Type,
			r.DecisionID, r.Session, r.Agent, r.Tool, r.Kind, r.Action, r.Risk, r.Verify, r.Body); err != nil {
			return err
		}
	}
	return nil
}
