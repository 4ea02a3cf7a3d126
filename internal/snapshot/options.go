package snapshot

import (
	"errors"
	"fmt"
	"time"
)

// Options bound a Store. Zero fields take the defaults below.
type Options struct {
	// MaxFileSize is the largest file whose content is copied (default
	// 10 MiB); larger ones are hashed only, and their File says so.
	MaxFileSize int64
	// MaxFiles bounds the entries of one snapshot (default 2000) and the
	// created entries one Diff lists.
	MaxFiles int
	// MaxBytes bounds the object store (default 1 GiB); GC drops the
	// oldest snapshots until their objects fit.
	MaxBytes int64
	// GitPath is the git binary; empty looks "git" up in PATH. A git that
	// cannot be found means snapshots without git state, not an error.
	GitPath string
	// NoGit leaves git out entirely.
	NoGit bool
	// GitTimeout bounds each git command (default 10s).
	GitTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// The defaults, and the largest values accepted.
const (
	DefaultMaxFileSize = 10 << 20
	DefaultMaxFiles    = 2000
	DefaultMaxBytes    = 1 << 30
	DefaultGitTimeout  = 10 * time.Second

	maxMaxFiles = 1_000_000
)

// validate reports every problem with the options at once. It does not
// change them.
func (o Options) validate() error {
	var errs []error
	if o.MaxFileSize < 0 {
		errs = append(errs, fmt.Errorf("MaxFileSize %d is negative; use 0 for the default of 10 MiB", o.MaxFileSize))
	}
	if o.MaxFiles < 0 || o.MaxFiles > maxMaxFiles {
		errs = append(errs, fmt.Errorf("MaxFiles %d is out of range; use 0 for the default of %d, or up to %d", o.MaxFiles, DefaultMaxFiles, maxMaxFiles))
	}
	if o.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxBytes %d is negative; use 0 for the default of 1 GiB", o.MaxBytes))
	}
	if o.GitTimeout < 0 {
		errs = append(errs, fmt.Errorf("GitTimeout %v is negative; use 0 for the default of %v", o.GitTimeout, DefaultGitTimeout))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: options: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.MaxFileSize == 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxFiles == 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.GitTimeout == 0 {
		o.GitTimeout = DefaultGitTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
