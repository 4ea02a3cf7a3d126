package migrate_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sentinel-agent/sentinel/internal/store/migrate"
	_ "modernc.org/sqlite"
)

func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func files(kv ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := 0; i+1 < len(kv); i += 2 {
		fsys["m/"+kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
	}
	return fsys
}

var twoSteps = files(
	"0001_things.sql", "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT);",
	"0002_more.sql", "ALTER TABLE things ADD COLUMN size INTEGER; CREATE INDEX things_name ON things (name);",
)

func TestLoad(t *testing.T) {
	ms, err := migrate.Load(twoSteps, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 1 || ms[1].Version != 2 || ms[1].Name != "0002_more.sql" || !strings.Contains(ms[1].SQL, "ALTER TABLE") {
		t.Fatalf("Load = %+v", ms)
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"gap", files("0001_a.sql", "SELECT 1;", "0003_c.sql", "SELECT 1;"), `"0003_c.sql" has version 3 where version 2`},
		{"repeat", files("0001_a.sql", "SELECT 1;", "0001_b.sql", "SELECT 1;"), `"0001_b.sql" has version 1 where version 2`},
		{"not numbered", files("0001_a.sql", "SELECT 1;", "extra.sql", "SELECT 1;"), `"extra.sql" in "m" is not a migration`},
		{"zero", files("0000_a.sql", "SELECT 1;"), `"0000_a.sql" in "m" is not a migration`},
		{"not sql", files("0001_a.txt", "SELECT 1;"), `"0001_a.txt" in "m" is not a migration`},
		{"empty", files("0001_a.sql", " \n"), `"0001_a.sql" is empty`},
		{"missing dir", fstest.MapFS{}, `reading migrations in "m"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := migrate.Load(tt.fsys, "m")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load error = %v, want it to contain %s", err, tt.want)
			}
		})
	}
}

func mustLoad(t *testing.T, fsys fstest.MapFS) []migrate.Migration {
	t.Helper()
	ms, err := migrate.Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func versions(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT version, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v, at string
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		got = append(got, v+"@"+at)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestApplyInOrderOnce(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, filepath.Join(t.TempDir(), "db"))
	clock := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	opts := migrate.Options{TimeType: "TEXT", Now: func() time.Time { return clock }}

	n, err := migrate.Apply(ctx, migrate.SQL(db), mustLoad(t, twoSteps), opts)
	if err != nil || n != 2 {
		t.Fatalf("first Apply = %d, %v; want 2, nil", n, err)
	}
	if _, err := db.Exec("INSERT INTO things (name, size) VALUES ('a', 1)"); err != nil {
		t.Fatalf("the migrated table lacks what both steps added: %v", err)
	}
	n, err = migrate.Apply(ctx, migrate.SQL(db), mustLoad(t, twoSteps), opts)
	if err != nil || n != 0 {
		t.Fatalf("second Apply = %d, %v; want 0, nil", n, err)
	}

	three := files("0003_third.sql", "CREATE TABLE third (x INTEGER);")
	for k, v := range twoSteps {
		three[k] = v
	}
	clock = clock.Add(time.Hour)
	n, err = migrate.Apply(ctx, migrate.SQL(db), mustLoad(t, three), opts)
	if err != nil || n != 1 {
		t.Fatalf("Apply with a third file = %d, %v; want 1, nil", n, err)
	}
	got := versions(t, db)
	want := []string{"1@2025-03-04T05:06:07.000000008Z", "2@2025-03-04T05:06:07.000000008Z", "3@2025-03-04T06:06:07.000000008Z"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("schema_migrations = %v, want %v", got, want)
	}

	// The binary that knows two versions must refuse the database now at three.
	_, err = migrate.Apply(ctx, migrate.SQL(db), mustLoad(t, twoSteps), opts)
	if !errors.Is(err, migrate.ErrTooNew) || !strings.Contains(err.Error(), "version 3") || !strings.Contains(err.Error(), "up to 2") {
		t.Fatalf("Apply by an older binary = %v, want ErrTooNew naming versions 3 and 2", err)
	}
}

func TestApplyFailureRollsBackTheStep(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, filepath.Join(t.TempDir(), "db"))
	bad := files(
		"0001_ok.sql", "CREATE TABLE ok (x INTEGER);",
		"0002_bad.sql", "CREATE TABLE half (x INTEGER); INSERT INTO nowhere VALUES (1);",
	)
	n, err := migrate.Apply(ctx, migrate.SQL(db), mustLoad(t, bad), migrate.Options{TimeType: "TEXT"})
	if err == nil || n != 1 || !strings.Contains(err.Error(), "0002_bad.sql") {
		t.Fatalf("Apply = %d, %v; want 1 and an error naming 0002_bad.sql", n, err)
	}
	if got := versions(t, db); len(got) != 1 || !strings.HasPrefix(got[0], "1@") {
		t.Fatalf("schema_migrations = %v, want only version 1", got)
	}
	var tables int
	if err := db.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'").Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("table of the failed step: count %d, err %v; want it rolled back", tables, err)
	}
}

func TestApplyRejectsBadOptions(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "db"))
	for _, typ := range []string{"", "TEXT); DROP TABLE x; --"} {
		_, err := migrate.Apply(context.Background(), migrate.SQL(db), mustLoad(t, twoSteps), migrate.Options{TimeType: typ})
		if err == nil || !strings.Contains(err.Error(), "TimeType") {
			t.Errorf("TimeType %q: err = %v, want a TimeType error", typ, err)
		}
	}
	ms := mustLoad(t, twoSteps)
	ms[0], ms[1] = ms[1], ms[0]
	if _, err := migrate.Apply(context.Background(), migrate.SQL(db), ms, migrate.Options{TimeType: "TEXT"}); err == nil {
		t.Error("Apply accepted migrations out of order")
	}
}

func TestApplyConcurrentMigrators(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	ms := mustLoad(t, twoSteps)
	const migrators = 6
	// The database exists in WAL mode before the migrators start, as
	// sqlite.Open leaves it: switching a new file to WAL does not wait on
	// the busy handler, and sqlite.Open retries that step itself.
	if _, err := openSQLite(t, path).Exec("PRAGMA journal_mode=WAL"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	counts := make([]int, migrators)
	errs := make([]error, migrators)
	for i := range migrators {
		db := openSQLite(t, path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], errs[i] = migrate.Apply(context.Background(), migrate.SQL(db), ms, migrate.Options{TimeType: "TEXT"})
		}()
	}
	wg.Wait()
	total := 0
	for i := range migrators {
		if errs[i] != nil {
			t.Fatalf("migrator %d: %v", i, errs[i])
		}
		total += counts[i]
	}
	if total != 2 {
		t.Fatalf("migrators applied %d steps in all, want each of the 2 exactly once", total)
	}
}
