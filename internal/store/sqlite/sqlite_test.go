package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/store/migrate"
	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
	"github.com/sentinel-agent/sentinel/internal/store/storetest"
)

func open(t testing.TB, path string, opts sqlite.Options) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	var paths sync.Map // *testing.T → database path, so that a second open reopens
	storetest.Run(t, func(t *testing.T) audit.Store {
		p, _ := paths.LoadOrStore(t, filepath.Join(t.TempDir(), "audit.db"))
		return open(t, p.(string), sqlite.Options{})
	})
}

func TestStoreSync(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite in synchronous=FULL mode is slow on some disks")
	}
	var paths sync.Map
	storetest.Run(t, func(t *testing.T) audit.Store {
		p, _ := paths.LoadOrStore(t, filepath.Join(t.TempDir(), "audit.db"))
		return open(t, p.(string), sqlite.Options{Sync: true})
	})
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "audit")
	s := open(t, filepath.Join(dir, "audit.db"), sqlite.Options{})
	if _, err := s.Append(context.Background(), storetest.Bench(3, 200)); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		dir:                                   0o700 | os.ModeDir,
		filepath.Join(dir, "audit.db"):        0o600,
		filepath.Join(dir, "audit.db-wal"):    0o600,
		filepath.Join(dir, "audit.db-shm"):    0o600,
		filepath.Join(filepath.Dir(dir)):      0o700 | os.ModeDir,
		filepath.Join(dir, "..", "audit"):     0o700 | os.ModeDir,
		filepath.Join(dir, "audit.db") + "-x": 0,
	} {
		fi, err := os.Stat(path)
		if want == 0 {
			if err == nil {
				t.Errorf("%s exists", path)
			}
			continue
		}
		if err != nil {
			t.Errorf("stat: %v", err)
			continue
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode(), want)
		}
	}
	if s.Path() != filepath.Join(dir, "audit.db") {
		t.Errorf("Path() = %q", s.Path())
	}
}

func TestPathWithSpecialCharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a dir?x=1#frag%20", "audit.db")
	s := open(t, path, sqlite.Options{})
	if _, err := s.Append(context.Background(), storetest.Bench(1, 100)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 && !exists(path+"-wal") {
		t.Fatalf("the database is not at %s: %v", path, err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestOpenErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	notDB := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database ", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		path string
		opts sqlite.Options
		want string
	}{
		"empty path":          {"", sqlite.Options{}, "path is empty"},
		"parent is a file":    {filepath.Join(notDir, "audit.db"), sqlite.Options{}, "creating the directory"},
		"not a database":      {notDB, sqlite.Options{}, notDB},
		"negative read conns": {filepath.Join(t.TempDir(), "a.db"), sqlite.Options{ReadConns: -1}, "ReadConns"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := sqlite.Open(context.Background(), tt.path, tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	open(t, path, sqlite.Options{}).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'later')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(context.Background(), path, sqlite.Options{})
	if !errors.Is(err, migrate.ErrTooNew) || !strings.Contains(err.Error(), "999") {
		t.Fatalf("Open of a newer database = %v, want ErrTooNew naming version 999", err)
	}
}

// TestTimeNanoseconds checks what the shared suite cannot ask of every
// store: SQLite keeps times to the nanosecond, and filters at that
// precision.
func TestTimeNanoseconds(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "audit.db"), sqlite.Options{})
	ctx := context.Background()
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 999999998, time.UTC)
	var want []audit.Record
	_, err := s.Append(ctx, func(h audit.Head) ([]audit.Record, error) {
		want = storetest.Batch(h, 3, 100)
		for i := range want {
			want[i].Time = t0.Add(time.Duration(i)) // 1 ns apart, across a second boundary
		}
		return want, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Query(ctx, audit.Filter{Since: t0.Add(1), Until: t0.Add(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Seq != 2 || !got[0].Time.Equal(want[1].Time) || got[0].Time.Nanosecond() != 999999999 {
		t.Fatalf("Query of a 1 ns window = %+v, want record 2 at %v", got, want[1].Time)
	}
	all, err := s.Query(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range all {
		if !r.Time.Equal(want[i].Time) {
			t.Errorf("record %d time %v, want %v", r.Seq, r.Time, want[i].Time)
		}
	}
}

// TestHelperProcess is not a test: TestProcessesAppendConcurrently runs
// the test binary again as a writer process.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv("SENTINEL_SQLITE_HELPER_DB")
	if path == "" {
		t.Skip("only runs as a writer process of TestProcessesAppendConcurrently")
	}
	appends, _ := strconv.Atoi(os.Getenv("SENTINEL_SQLITE_HELPER_APPENDS"))
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Wait for the go: the parent closes stdin once every writer runs.
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	total := 0
	for j := range appends {
		n := 1 + j%4
		_, err := s.Append(context.Background(), func(h audit.Head) ([]audit.Record, error) {
			recs := storetest.Batch(h, n, 300)
			for i := range recs {
				recs[i].Agent = os.Getenv("SENTINEL_SQLITE_HELPER_ID")
			}
			return recs, nil
		})
		if err != nil {
			fmt.Fprintf(os.Stderr, "append %d: %v\n", j, err)
			os.Exit(3)
		}
		total += n
		// A pause, as real writers have between group commits, lets the
		// others in: SQLite's busy wait is not fair to a waiting process.
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	fmt.Printf("appended %d\n", total)
	os.Exit(0)
}

func TestProcessesAppendConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	open(t, path, sqlite.Options{}).Close() // migrate once, so the writers race on appends only
	const procs, appends = 4, 250
	cmds := make([]*exec.Cmd, procs)
	outs := make([]strings.Builder, procs)
	var gates []io.Closer
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SENTINEL_SQLITE_HELPER_DB="+path, fmt.Sprintf("SENTINEL_SQLITE_HELPER_ID=w%d", i), fmt.Sprintf("SENTINEL_SQLITE_HELPER_APPENDS=%d", appends))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		gates = append(gates, stdin)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for _, g := range gates {
		g.Close()
	}
	total := 0
	wrote := map[string]int{}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer %d: %v\n%s", i, err, outs[i].String())
		}
		var n int
		if _, err := fmt.Sscanf(outs[i].String(), "appended %d", &n); err != nil {
			t.Fatalf("writer %d said %q", i, outs[i].String())
		}
		total += n
		wrote[fmt.Sprintf("w%d", i)] = n
	}

	s := open(t, path, sqlite.Options{})
	h, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var recs []audit.Record
	if err := s.Scan(context.Background(), 0, func(r audit.Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if h.Seq != uint64(total) || len(recs) != total {
		t.Fatalf("%d processes appended %d records; the head is at %d and %d are stored", procs, total, h.Seq, len(recs))
	}
	storetest.CheckChain(t, audit.Head{}, recs)
	stored, switches := map[string]int{}, 0
	for i, r := range recs {
		stored[r.Agent]++
		if i > 0 && r.Agent != recs[i-1].Agent {
			switches++
		}
	}
	for w, n := range wrote {
		if stored[w] != n {
			t.Errorf("writer %s appended %d records, %d are stored", w, n, stored[w])
		}
	}
	t.Logf("%d records from %d processes; the writer changed %d times along the chain", total, procs, switches)
}
