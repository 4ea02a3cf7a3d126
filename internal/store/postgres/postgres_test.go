package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/store/migrate"
	"github.com/sentinel-agent/sentinel/internal/store/postgres"
	"github.com/sentinel-agent/sentinel/internal/store/storetest"
)

// dsn returns the test database, or skips t when there is none.
func dsn(t testing.TB) string {
	t.Helper()
	d := os.Getenv("SENTINEL_TEST_POSTGRES_DSN")
	if d == "" {
		t.Skip("set SENTINEL_TEST_POSTGRES_DSN to a PostgreSQL database to run this test")
	}
	return d
}

// freshSchema returns a new schema name and drops the schema when t ends.
func freshSchema(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "sentinel_test_" + hex.EncodeToString(b)
	d := dsn(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, d)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

func open(t testing.TB, schema string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn(t), postgres.Options{Schema: schema})
	if err != nil {
		t.Fatalf("Open(schema %s): %v", schema, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	dsn(t)
	var schemas sync.Map // *testing.T → schema, so that a second open reopens
	storetest.Run(t, func(t *testing.T) audit.Store {
		schema, ok := schemas.Load(t)
		if !ok {
			schema = freshSchema(t)
			schemas.Store(t, schema)
		}
		return open(t, schema.(string))
	})
}

// TestMicroseconds documents what the suite allows: PostgreSQL keeps
// times to the microsecond, truncating.
func TestMicroseconds(t *testing.T) {
	s := open(t, freshSchema(t))
	ctx := context.Background()
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))
	if _, err := s.Append(ctx, func(h audit.Head) ([]audit.Record, error) {
		recs := storetest.Batch(h, 1, 100)
		recs[0].Time = t0
		return recs, nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Query(ctx, audit.Filter{Since: t0, Until: t0.Add(time.Microsecond)})
	if err != nil || len(got) != 1 {
		t.Fatalf("Query of the record's microsecond = %d records, %v", len(got), err)
	}
	if want := time.Date(2025, 1, 2, 2, 4, 5, 123456000, time.UTC); got[0].Time != want {
		t.Fatalf("stored time %v, want %v", got[0].Time, want)
	}
}

func TestSchemasAreSeparate(t *testing.T) {
	a, b := open(t, freshSchema(t)), open(t, freshSchema(t))
	ctx := context.Background()
	if _, err := a.Append(ctx, storetest.Bench(3, 100)); err != nil {
		t.Fatal(err)
	}
	if h, err := b.Head(ctx); err != nil || h.Seq != 0 {
		t.Fatalf("Head of the other schema = %+v, %v; want it empty", h, err)
	}
	if h, err := a.Head(ctx); err != nil || h.Seq != 3 {
		t.Fatalf("Head = %+v, %v; want 3", h, err)
	}
}

func TestOpenErrors(t *testing.T) {
	d := dsn(t)
	for name, tt := range map[string]struct {
		dsn  string
		opts postgres.Options
		want string
	}{
		"schema with a quote":   {d, postgres.Options{Schema: `a"b`}, "not a lower-case identifier"},
		"schema upper case":     {d, postgres.Options{Schema: "Audit"}, "not a lower-case identifier"},
		"schema too long":       {d, postgres.Options{Schema: strings.Repeat("a", 64)}, "not a lower-case identifier"},
		"negative max conns":    {d, postgres.Options{MaxConns: -1}, "MaxConns"},
		"max conns too large":   {d, postgres.Options{MaxConns: 1 << 20}, "MaxConns"},
		"bad connection string": {"postgres://u:secret@host:notaport/db", postgres.Options{}, "connection string is not valid: invalid port"},
		// pgx cannot tell this is a password, so its own message quotes it.
		"password without =":      {"host=h password secret", postgres.Options{}, "connection string is not valid"},
		"unterminated quote":      {"host=h password='secret", postgres.Options{}, "unterminated quoted string"},
		"bad pool setting":        {"user=u password=secret host=h pool_max_conns=x", postgres.Options{}, "cannot parse pool_max_conns"},
		"bad percent in password": {"postgres://u:s%zzsecret@h/db", postgres.Options{}, "invalid percent-encoded token in password"},
		"nobody listening":        {"postgres://postgres:secret@127.0.0.1:1/test?sslmode=disable&connect_timeout=5", postgres.Options{}, "connecting"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := postgres.Open(context.Background(), tt.dsn, tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open error %q does not mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("Open error %q shows the password", err)
			}
		})
	}
}

// TestServerErrorsHideThePassword opens a database that does not exist
// with a password in the URL: the server's refusal must not carry it.
func TestServerErrorsHideThePassword(t *testing.T) {
	u, err := url.Parse(dsn(t))
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		t.Skip("SENTINEL_TEST_POSTGRES_DSN is not a postgres:// URL")
	}
	name := "postgres"
	if u.User != nil && u.User.Username() != "" {
		name = u.User.Username()
	}
	u.User = url.UserPassword(name, "secret-pw-6fd1")
	u.Path = "/sentinel_no_such_database"
	s, err := postgres.Open(context.Background(), u.String(), postgres.Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open of a database that does not exist succeeded")
	}
	if !strings.Contains(err.Error(), "sentinel_no_such_database") {
		t.Errorf("Open error %q does not name the database", err)
	}
	if strings.Contains(err.Error(), "secret-pw-6fd1") {
		t.Errorf("Open error %q shows the password", err)
	}
}

func TestPoolSize(t *testing.T) {
	d := dsn(t)
	schema := freshSchema(t)
	for _, tt := range []struct {
		dsn      string
		maxConns int
		want     int
	}{
		{d, 0, 4},
		{d, 1, 1},
		{d, 9, 9},
		// Options.MaxConns takes the place of the connection string's.
		{d + "&pool_max_conns=7", 0, 4},
		{d + "&pool_max_conns=7", 2, 2},
	} {
		s, err := postgres.Open(context.Background(), tt.dsn, postgres.Options{Schema: schema, MaxConns: tt.maxConns})
		if err != nil {
			t.Fatal(err)
		}
		got := postgres.PoolSize(s)
		s.Close()
		if got != tt.want {
			t.Errorf("MaxConns %d with %q: the pool opens up to %d connections, want %d", tt.maxConns, tt.dsn, got, tt.want)
		}
	}
}

// backends counts the server's connections named app, and those of them
// waiting for a lock.
func backends(t *testing.T, c *pgx.Conn, app string) (total, waiting int) {
	t.Helper()
	err := c.QueryRow(context.Background(), "SELECT COUNT(*), COUNT(*) FILTER (WHERE wait_event_type = 'Lock') FROM pg_stat_activity WHERE application_name = $1",
		app).Scan(&total, &waiting)
	if err != nil {
		t.Fatal(err)
	}
	return total, waiting
}

// until polls cond for at most 30 seconds.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for tries := 0; !cond(); tries++ {
		if tries > 3000 {
			t.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func connect(t *testing.T) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// TestMaxConnsBoundsTheStore queues appends behind one that holds the
// head's lock: with MaxConns 2, one more reaches the server and waits for
// the lock, the others wait for a connection.
func TestMaxConnsBoundsTheStore(t *testing.T) {
	schema := freshSchema(t)
	app := "sentinel_bound_" + schema
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn(t)+"&application_name="+app, postgres.Options{Schema: schema, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	locked, release := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 4)
	go func() {
		_, err := s.Append(ctx, func(h audit.Head) ([]audit.Record, error) {
			close(locked)
			<-release
			return storetest.Batch(h, 1, 100), nil
		})
		errs <- err
	}()
	<-locked
	for range 3 {
		go func() {
			_, err := s.Append(ctx, storetest.Bench(1, 100))
			errs <- err
		}()
	}
	c := connect(t)
	until(t, "an append waits for the lock", func() bool { _, w := backends(t, c, app); return w >= 1 })
	if total, waiting := backends(t, c, app); total != 2 || waiting != 1 {
		t.Errorf("with MaxConns 2 and four appends under way: %d connections, %d waiting for the lock; want 2 and 1", total, waiting)
	}
	close(release)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if h, err := s.Head(ctx); err != nil || h.Seq != 4 {
		t.Fatalf("Head = %+v, %v; want 4", h, err)
	}
}

// TestReplacesDroppedConnections has the server drop the store's idle
// connection. The pool checks a connection idle for over a second before
// handing it out; one dropped sooner fails the call that meets it. Either
// way the next call must run on a new connection.
func TestReplacesDroppedConnections(t *testing.T) {
	schema := freshSchema(t)
	app := "sentinel_drop_" + schema
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn(t)+"&application_name="+app, postgres.Options{Schema: schema, MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Append(ctx, storetest.Bench(2, 100)); err != nil {
		t.Fatal(err)
	}
	c := connect(t)
	var pid uint32
	if err := c.QueryRow(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", app).Scan(&pid); err != nil {
		t.Fatalf("finding the store's one connection: %v", err)
	}
	if _, err := c.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	until(t, "the server closes the connection", func() bool { n, _ := backends(t, c, app); return n == 0 })

	if _, err := s.Head(ctx); err != nil {
		t.Logf("the call that met the dropped connection: %v", err)
	}
	if h, err := s.Head(ctx); err != nil || h.Seq != 2 {
		t.Fatalf("Head after the server dropped the connection = %+v, %v; want 2", h, err)
	}
	var now uint32
	if err := c.QueryRow(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", app).Scan(&now); err != nil {
		t.Fatalf("finding the store's new connection: %v", err)
	}
	if now == pid {
		t.Fatal("the dropped connection is still in use")
	}
	if _, err := s.Append(ctx, storetest.Bench(1, 100)); err != nil {
		t.Fatalf("Append on the new connection: %v", err)
	}
}

func TestClose(t *testing.T) {
	schema := freshSchema(t)
	app := "sentinel_close_" + schema
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn(t)+"&application_name="+app, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, storetest.Bench(1, 100)); err != nil {
		t.Fatal(err)
	}
	c := connect(t)
	if n, _ := backends(t, c, app); n == 0 {
		t.Fatal("the store holds no idle connection after an append")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	until(t, "the store's connections are gone", func() bool { n, _ := backends(t, c, app); return n == 0 })
	if _, err := s.Head(ctx); err == nil || !strings.Contains(err.Error(), "store is closed") {
		t.Fatalf("Head on a closed store = %v, want an error saying it is closed", err)
	}
	if _, err := s.Append(ctx, storetest.Bench(1, 100)); err == nil || !strings.Contains(err.Error(), "store is closed") {
		t.Fatalf("Append on a closed store = %v, want an error saying it is closed", err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	schema := freshSchema(t)
	open(t, schema).Close()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "INSERT INTO "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" (version, applied_at) VALUES (999, now())"); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(ctx, dsn(t), postgres.Options{Schema: schema})
	if !errors.Is(err, migrate.ErrTooNew) || !strings.Contains(err.Error(), "999") {
		t.Fatalf("Open of a newer schema = %v, want ErrTooNew naming version 999", err)
	}
}

// TestConcurrentOpen starts several stores on one new schema at once, as
// replicas starting together do: the schema and its migrations must be
// created exactly once.
func TestConcurrentOpen(t *testing.T) {
	schema := freshSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), dsn(t), postgres.Options{Schema: schema})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
}

// TestReplicasAppendConcurrently runs writers with a pool each, as
// separate replicas would, against one chain.
func TestReplicasAppendConcurrently(t *testing.T) {
	schema := freshSchema(t)
	const writers, appends = 4, 60
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		s := open(t, schema)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range appends {
				_, err := s.Append(context.Background(), func(h audit.Head) ([]audit.Record, error) {
					recs := storetest.Batch(h, 1+j%4, 300)
					for i := range recs {
						recs[i].Agent = fmt.Sprintf("w%d", w)
					}
					return recs, nil
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d append %d: %w", w, j, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s := open(t, schema)
	var recs []audit.Record
	if err := s.Scan(context.Background(), 0, func(r audit.Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	perWriter := 0
	for j := range appends {
		perWriter += 1 + j%4
	}
	h, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.Seq != uint64(writers*perWriter) || len(recs) != writers*perWriter {
		t.Fatalf("%d writers appended %d records; head at %d, %d stored", writers, writers*perWriter, h.Seq, len(recs))
	}
	storetest.CheckChain(t, audit.Head{}, recs)
	stored, switches := map[string]int{}, 0
	for i, r := range recs {
		stored[r.Agent]++
		if i > 0 && r.Agent != recs[i-1].Agent {
			switches++
		}
	}
	for w := range writers {
		if n := stored[fmt.Sprintf("w%d", w)]; n != perWriter {
			t.Errorf("writer w%d appended %d records, %d are stored", w, perWriter, n)
		}
	}
	t.Logf("the writer changed %d times along the chain of %d", switches, len(recs))
}

// TestCancelWhileWaitingForTheLock checks that an Append queued behind
// another writer's lock gives up when its context ends, and writes
// nothing.
func TestCancelWhileWaitingForTheLock(t *testing.T) {
	schema := freshSchema(t)
	s := open(t, schema)
	ctx := context.Background()
	if _, err := s.Append(ctx, storetest.Bench(2, 100)); err != nil {
		t.Fatal(err)
	}
	locked, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := s.Append(ctx, func(h audit.Head) ([]audit.Record, error) {
			close(locked)
			<-release
			return storetest.Batch(h, 1, 100), nil
		})
		done <- err
	}()
	<-locked
	app := "sentinel_waiter_" + schema
	other, err := postgres.Open(ctx, dsn(t)+"&application_name="+app, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	wctx, cancel := context.WithCancel(ctx)
	waiting := make(chan error)
	go func() {
		_, err := other.Append(wctx, func(h audit.Head) ([]audit.Record, error) { return storetest.Batch(h, 1, 100), nil })
		waiting <- err
	}()
	// Cancel only once the second Append waits on the lock.
	c, err := pgx.Connect(ctx, dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for tries := 0; ; tries++ {
		var n int
		if err := c.QueryRow(ctx, "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if tries > 3000 {
			t.Fatal("the second Append never waited for the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-waiting; err == nil {
		t.Fatal("an Append whose context ended while it waited for the lock succeeded")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the Append holding the lock: %v", err)
	}
	if h, err := other.Head(ctx); err != nil || h.Seq != 3 {
		t.Fatalf("Head = %+v, %v; want 3: the cancelled Append must write nothing", h, err)
	}
}
