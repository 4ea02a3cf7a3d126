package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/audit"
	"github.com/sentinel-agent/sentinel/internal/store/storetest"
)

// TestPragmas checks that every connection, not only the first, runs with
// the settings the store relies on.
func TestPragmas(t *testing.T) {
	for _, tt := range []struct {
		sync bool
		want int
	}{{false, 1}, {true, 2}} {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "audit.db"), Options{Sync: tt.sync, ReadConns: 3})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		check := func(name string, db *sql.DB, conns int, queryOnly int) {
			ctx := context.Background()
			var held []*sql.Conn
			for range conns {
				c, err := db.Conn(ctx) // distinct connections while held
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, c)
				var mode string
				var syncMode, busy, fk, qo int
				for q, dst := range map[string]any{"PRAGMA journal_mode": &mode, "PRAGMA synchronous": &syncMode,
					"PRAGMA busy_timeout": &busy, "PRAGMA foreign_keys": &fk, "PRAGMA query_only": &qo} {
					if err := c.QueryRowContext(ctx, q).Scan(dst); err != nil {
						t.Fatalf("%s: %s: %v", name, q, err)
					}
				}
				if mode != "wal" || syncMode != tt.want || busy != busyTimeout || fk != 1 || qo != queryOnly {
					t.Errorf("%s (Sync %v) connection %d: journal_mode %s synchronous %d busy_timeout %d foreign_keys %d query_only %d",
						name, tt.sync, len(held), mode, syncMode, busy, fk, qo)
				}
			}
			for _, c := range held {
				c.Close()
			}
		}
		check("writer", s.w, 1, 0)
		check("reader", s.r, 3, 1)
	}
}

func TestInsertChunks(t *testing.T) {
	if got := insertSQL(2); got != "INSERT INTO events ("+columns+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?),(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)" {
		t.Fatalf("insertSQL(2) = %s", got)
	}
	if 15*chunkSizes[0] > 32766 {
		t.Fatalf("a chunk of %d records needs %d parameters, more than SQLite allows", chunkSizes[0], 15*chunkSizes[0])
	}
	for i := 1; i < len(chunkSizes); i++ {
		if chunkSizes[i] != chunkSizes[i-1]/2 {
			t.Fatalf("chunkSizes %v are not halving down to 1; some batch sizes would not split into them", chunkSizes)
		}
	}
	if chunkSizes[len(chunkSizes)-1] != 1 {
		t.Fatalf("chunkSizes %v do not end in 1", chunkSizes)
	}
}

// TestScanAcrossGaps: Scan fetches pages ahead assuming contiguous seqs;
// where records are missing (deleted behind the store's back) it must
// still return exactly the stored records, in order, and leave no fetch
// running when it returns.
func TestScanAcrossGaps(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "audit.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 3*scanPage + 500
	if _, err := s.Append(ctx, storetest.Bench(n, 50)); err != nil {
		t.Fatal(err)
	}
	gone := map[uint64]bool{}
	for _, r := range [][2]uint64{{scanPage, scanPage + 500}, {2*scanPage - 1, 2*scanPage + 1}, {3 * scanPage, 3 * scanPage}} {
		if _, err := s.w.ExecContext(ctx, "DELETE FROM events WHERE seq BETWEEN ? AND ?", r[0], r[1]); err != nil {
			t.Fatal(err)
		}
		for q := r[0]; q <= r[1]; q++ {
			gone[q] = true
		}
	}
	for _, from := range []uint64{0, 1, scanPage + 1, 2*scanPage - 1, n - 10} {
		var got []uint64
		if err := s.Scan(ctx, from, func(r audit.Record) error {
			got = append(got, r.Seq)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var want []uint64
		for q := max(from, 1); q <= n; q++ {
			if !gone[q] {
				want = append(want, q)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("Scan(%d) returned %d records (first %v), want %d (first %v)", from, len(got), got[:min(3, len(got))], len(want), want[:min(3, len(want))])
		}
		if inUse := s.r.Stats().InUse; inUse != 0 {
			t.Errorf("Scan(%d) returned with %d read connections still in use", from, inUse)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err = s.Scan(ctx, 0, func(audit.Record) error {
		if calls++; calls == scanPage+10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != scanPage+10 {
		t.Fatalf("Scan with a callback failing at call %d = %v after %d calls", scanPage+10, err, calls)
	}
	if inUse := s.r.Stats().InUse; inUse != 0 {
		t.Errorf("a stopped Scan left %d read connections in use", inUse)
	}
}
