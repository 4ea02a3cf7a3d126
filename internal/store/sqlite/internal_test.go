package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
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
