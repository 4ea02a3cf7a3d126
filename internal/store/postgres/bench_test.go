package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/store/postgres"
	"github.com/sentinel-agent/sentinel/internal/store/storetest"
)

// bodySize is the size of a typical decision event's canonical body.
const bodySize = 600

// benchAppend appends b.N batches of n records; building the records
// (hashing included) is left out of the time.
func benchAppend(b *testing.B, s *postgres.Store, n int) {
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
	benchAppend(b, open(b, freshSchema(b)), 1000)
}

// BenchmarkAppendSync1 appends one record per transaction. PostgreSQL
// commits are durable (synchronous_commit on) unless the server says
// otherwise.
func BenchmarkAppendSync1(b *testing.B) {
	benchAppend(b, open(b, freshSchema(b)), 1)
}

// BenchmarkAppend4Writers runs four writers, each with its own store (and
// pool), appending batches of 1 and of 100 records to one chain; they
// queue on the head's row lock. The seal builds the records under the
// lock, as the audit log's does.
func BenchmarkAppend4Writers(b *testing.B) {
	for _, tc := range []struct {
		name  string
		batch int
	}{{"batch1", 1}, {"batch100", 100}} {
		b.Run(tc.name, func(b *testing.B) {
			schema := freshSchema(b)
			stores := make([]*postgres.Store, 4)
			for i := range stores {
				stores[i] = open(b, schema)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			errs := make(chan error, len(stores))
			for i, s := range stores {
				appends := b.N / len(stores)
				if i < b.N%len(stores) {
					appends++
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range appends {
						if _, err := s.Append(ctx, storetest.Bench(tc.batch, bodySize)); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N*tc.batch)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
