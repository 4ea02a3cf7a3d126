package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/store/postgres"
	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
)

// The audit figures of the storage issue, measured in one run:
//
//	go test -run '^$' -bench . -benchtime 3s ./internal/audit
//
// BenchmarkLogBatch and BenchmarkLogSync go through the whole audit path
// (event → canonical encoding → hash chain → SQLite) and report events/s;
// BenchmarkRawSQLiteInsert inserts the same rows with plain database/sql
// in transactions of the same size, the baseline for Sentinel's overhead;
// BenchmarkVerify reports verification throughput; BenchmarkPostgres4Writers
// runs four concurrent logs on one PostgreSQL chain (with
// SENTINEL_TEST_POSTGRES_DSN).

func benchLog(b *testing.B, mode audit.Mode, sync bool) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "audit.db"), sqlite.Options{Sync: sync})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	key, _ := audit.NewKey()
	l, err := audit.Open(ctx, st, audit.Options{Mode: mode, Key: key, CheckpointEvery: 10000})
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]audit.Event, 1000)
	for i := range evs {
		evs[i] = event(i, "bench")
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		ev := evs[i%len(evs)]
		ev.DecisionID = decision.NewID() // as the kernel gives every decision
		if err := l.Record(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.StopTimer()
	_ = l.Close(ctx)
}

// BenchmarkLogBatch: batch mode (group commit every 5 ms or 1000 events).
func BenchmarkLogBatch(b *testing.B) { benchLog(b, audit.Batch, false) }

// BenchmarkLogSync: sync mode, one caller, each event durable
// (synchronous=FULL) before Record returns.
func BenchmarkLogSync(b *testing.B) { benchLog(b, audit.Sync, true) }

// BenchmarkLogSync8 is sync mode with 8 concurrent callers sharing commits.
func BenchmarkLogSync8(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "audit.db"), sqlite.Options{Sync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	l, err := audit.Open(ctx, st, audit.Options{Mode: audit.Sync})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N/8 + 1
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := l.Record(ctx, event(i, "s8")); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(per*8)/time.Since(start).Seconds(), "events/s")
	b.StopTimer()
	_ = l.Close(ctx)
}

// BenchmarkRawSQLiteInsert is the baseline: the same rows (columns and a
// body of the same size, a fresh decision ID each) inserted with database/sql and modernc.org/sqlite
// in WAL mode, 1000 per transaction, no chain.
func BenchmarkRawSQLiteInsert(b *testing.B) {
	path := filepath.Join(b.TempDir(), "raw.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE events(seq INTEGER PRIMARY KEY, hash TEXT, prev_hash TEXT, time TEXT, event_id TEXT, type TEXT,
		decision_id TEXT, session TEXT, agent TEXT, tool TEXT, kind TEXT, action TEXT, risk REAL, verify TEXT, body BLOB)`); err != nil {
		b.Fatal(err)
	}
	for _, c := range rawIndexes {
		if _, err := db.Exec(fmt.Sprintf("CREATE INDEX events_%s ON events(%s)", c, c)); err != nil {
			b.Fatal(err)
		}
	}
	ev := event(1, "raw")
	ev.ID, ev.Time = audit.NewID(), audit.FormatTime(time.Now())
	body, _ := ev.Seal(1, "")
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		stmt, err := tx.Prepare(`INSERT INTO events VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 1000 && i < b.N; j, i = j+1, i+1 {
			if _, err := stmt.Exec(i+1, ev.Hash, ev.PrevHash, ev.Time, ev.ID, ev.Type, decision.NewID(), ev.Session, ev.Agent,
				ev.Tool, ev.Kind, "allow", 0.03, "", body); err != nil {
				b.Fatal(err)
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkVerify checks a 20,000-event SQLite chain end to end (scan,
// decode, canonical re-encoding, hash, links, signatures).
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "audit.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	key, _ := audit.NewKey()
	l, _ := audit.Open(ctx, st, audit.Options{Mode: audit.Batch, Key: key})
	const n = 20000
	for i := 0; i < n; i++ {
		if err := l.Record(ctx, event(i, "v")); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Close(ctx); err != nil {
		b.Fatal(err)
	}
	var exp bytes.Buffer
	if _, err := audit.Export(ctx, st, &exp, time.Time{}); err != nil {
		b.Fatal(err)
	}
	b.Run("store", func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			rep, err := audit.VerifyStore(ctx, st, key.Public())
			if err != nil || !rep.OK() {
				b.Fatal(err, rep.Problem)
			}
		}
		b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "events/s")
	})
	b.Run("file", func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			rep, err := audit.VerifyFile(bytes.NewReader(exp.Bytes()), key.Public())
			if err != nil || !rep.OK() {
				b.Fatal(err, rep.Problem)
			}
		}
		b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "events/s")
	})
}

// BenchmarkPostgres4Writers: four logs (as four processes would have),
// each in batch mode, appending to one chain on PostgreSQL.
func BenchmarkPostgres4Writers(b *testing.B) {
	dsn := os.Getenv("SENTINEL_TEST_POSTGRES_DSN")
	if dsn == "" {
		b.Skip("set SENTINEL_TEST_POSTGRES_DSN")
	}
	ctx := context.Background()
	schema := fmt.Sprintf("bench_audit_%d", time.Now().UnixNano())
	var stores []*postgres.Store
	var logs []*audit.Log
	for w := 0; w < 4; w++ {
		st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
		if err != nil {
			b.Fatal(err)
		}
		l, err := audit.Open(ctx, st, audit.Options{Mode: audit.Batch})
		if err != nil {
			b.Fatal(err)
		}
		stores, logs = append(stores, st), append(logs, l)
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N/4 + 1
	for w := range logs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := logs[w].Record(ctx, event(i, "pg")); err != nil {
					b.Error(err)
					return
				}
			}
			if err := logs[w].Flush(ctx); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(per*4)/time.Since(start).Seconds(), "events/s")
	b.StopTimer()
	for w := range logs {
		_ = logs[w].Close(ctx)
	}
	rep, err := audit.VerifyStore(ctx, stores[0])
	if err != nil || !rep.OK() {
		b.Fatalf("the four-writer chain does not verify: %v %v", err, rep.Problem)
	}
	for _, st := range stores {
		st.Close()
	}
	dropSchema(ctx, dsn, schema)
}

// dropSchema removes a benchmark's schema.
func dropSchema(ctx context.Context, dsn, schema string) {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return
	}
	defer c.Close(ctx)
	_, _ = c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
}

var rawIndexes = []string{"time", "session", "decision_id"}
