package sqlite_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sentinel-agent/sentinel/internal/memory"
	"github.com/sentinel-agent/sentinel/internal/memory/memorytest"
	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
)

func openMemory(t testing.TB) *sqlite.Store {
	return open(t, filepath.Join(t.TempDir(), "audit.db"), sqlite.Options{})
}

func TestMemoryConformance(t *testing.T) {
	memorytest.Run(t, func(t *testing.T) memory.Store { return openMemory(t) })
}

func TestMemoryDatabase(t *testing.T) {
	memorytest.RunDatabase(t, func(t *testing.T) memory.Store { return openMemory(t) })
}

// TestMemorySearchFolding is SQLite's: unicode61 with remove_diacritics
// folds case and accents in any script.
func TestMemorySearchFolding(t *testing.T) {
	s := openMemory(t)
	memorytest.PutAll(t, s,
		memorytest.Rec("fr", memory.LayerEpisodic, "Le Café était fermé à Noël", 0.5, memorytest.Base),
		memorytest.Rec("ru", memory.LayerEpisodic, "Привет МИР", 0.5, memorytest.Base),
		memorytest.Rec("ja", memory.LayerEpisodic, "東京 タワー", 0.5, memorytest.Base),
	)
	for text, want := range map[string]string{"cafe etait": "fr", "CAFÉ noel": "fr", "мир привет": "ru", "東京": "ja"} {
		if got := memorytest.SearchIDs(t, s, memory.Query{Text: text}); !slices.Equal(got, []string{want}) {
			t.Errorf("SearchMemory(%q) = %v, want [%s]", text, got, want)
		}
	}
}

func TestMemoryReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	s := open(t, path, sqlite.Options{})
	rs := memorytest.FilterRecords()
	memorytest.PutAll(t, s, rs...)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, sqlite.Options{})
	if got := memorytest.SearchIDs(t, s, memory.Query{Text: "billing", MaxLevel: -1}); len(got) != 3 {
		t.Fatalf("after reopening, the text search finds %v", got)
	}
	got, err := s.GetMemory(context.Background(), rs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rs[0], got); diff != "" {
		t.Fatalf("after reopening (-put +got):\n%s", diff)
	}
}
