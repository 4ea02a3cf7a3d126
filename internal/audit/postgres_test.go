package audit_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/store/postgres"
)

// TestPostgresFourLogsOneChain has four logs — four Sentinel replicas,
// each with its own connection pool — append to one PostgreSQL chain at
// once, two in sync and two in batch mode, all signing checkpoints with
// the shared key, and verifies the result.
func TestPostgresFourLogsOneChain(t *testing.T) {
	dsn := os.Getenv("SENTINEL_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set SENTINEL_TEST_POSTGRES_DSN to run against PostgreSQL")
	}
	ctx := context.Background()
	schema := fmt.Sprintf("audit_test_%d", time.Now().UnixNano())
	t.Cleanup(func() { dropSchema(ctx, dsn, schema) })
	key, err := audit.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	const per = 250
	var wg sync.WaitGroup
	var stores []*postgres.Store
	for w := 0; w < 4; w++ {
		st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, st)
		mode := []audit.Mode{audit.Sync, audit.Batch}[w%2]
		l, err := audit.Open(ctx, st, audit.Options{Mode: mode, Key: key, CheckpointEvery: 100})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := l.Record(ctx, event(i, fmt.Sprint("r", w))); err != nil {
					t.Error(err)
					return
				}
			}
			if err := l.Close(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rep, err := audit.VerifyStore(ctx, stores[0], key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Events != 4*per || rep.SignedUpTo != 4*per {
		t.Fatalf("four replicas: %+v, problem %v", rep, rep.Problem)
	}
	for _, st := range stores {
		st.Close()
	}
}
