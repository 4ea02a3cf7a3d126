package sqlite_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/store/sqlite"
	"github.com/sentinel-agent/sentinel/internal/store/storetest"
	"github.com/sentinel-agent/sentinel/internal/taint"
)

func TestSessionFlags(t *testing.T) {
	var paths sync.Map // *testing.T → database path, so that a second open is a second replica
	storetest.RunSessionFlags(t, func(t *testing.T) taint.Shared {
		p, _ := paths.LoadOrStore(t, filepath.Join(t.TempDir(), "audit.db"))
		return open(t, p.(string), sqlite.Options{})
	})
}
