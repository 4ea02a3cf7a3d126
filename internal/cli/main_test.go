package cli

import (
	"os"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/sandbox"
)

// TestMain lets the sandbox's re-executed stages (sentinel run, doctor's
// probe) start in this test binary as they do in sentinel.
func TestMain(m *testing.M) {
	sandbox.Main()
	os.Exit(m.Run())
}
