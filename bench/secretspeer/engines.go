package secretspeer

import (
	"fmt"

	"github.com/zricethezav/gitleaks/v8/detect"

	"github.com/sentinel-agent/sentinel/internal/redact"
)

// Engine is a secret detector under comparison. Count returns the number
// of secrets it finds in a text.
type Engine struct {
	Name  string
	Count func(text string) int
}

// Sentinel is Sentinel's redactor: redact.Text, which also builds the
// redacted copy of the text, as every caller in Sentinel needs it.
func Sentinel() Engine {
	return Engine{Name: "sentinel", Count: func(text string) int {
		_, fs := redact.Text(text)
		return len(fs)
	}}
}

// Gitleaks is gitleaks' detector with its built-in rules
// (detect.NewDetectorDefaultConfig) scanning a string (DetectString), as
// a program embedding gitleaks would call it. The detector is built once;
// building it parses and compiles all rules.
func Gitleaks() (Engine, error) {
	d, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		return Engine{}, fmt.Errorf("gitleaks default config: %w", err)
	}
	return Engine{Name: "gitleaks", Count: func(text string) int {
		return len(d.DetectString(text))
	}}, nil
}
