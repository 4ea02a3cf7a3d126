package verify

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Claim is what a tool call says, or implies, it did. Relative paths are
// relative to Options.Workdir.
type Claim struct {
	// Created must exist after the call.
	Created []string `json:"created,omitempty"`
	// Modified must differ from the pre-call snapshot.
	Modified []string `json:"modified,omitempty"`
	// Deleted must be gone.
	Deleted []string `json:"deleted,omitempty"`
	// ExpectResult says the tool should have produced output; Result is
	// that output.
	ExpectResult bool   `json:"expect_result,omitempty"`
	Result       string `json:"result,omitempty"`
	// ResultFormat is "json", "yaml" or "" (not checked).
	ResultFormat string `json:"result_format,omitempty"`
	// Publish, when set, says a package version was published to an npm
	// registry.
	Publish *Publish `json:"publish,omitempty"`
	// Push, when set, says a commit was pushed to a git remote branch.
	Push *Push `json:"push,omitempty"`
	// LintFiles are the files to lint, type-check and parse by extension;
	// nil means Created and Modified.
	LintFiles []string `json:"lint_files,omitempty"`
}

// Publish is a claimed npm publication.
type Publish struct {
	// Registry is the registry's base URL ("https://registry.npmjs.org").
	Registry string `json:"registry"`
	// Package is the package name, scoped or not ("@scope/name").
	Package string `json:"package"`
	// Version is the version that must now be in the registry.
	Version string `json:"version"`
}

// Push is a claimed git push.
type Push struct {
	// Dir is the local repository (default Options.Workdir).
	Dir string `json:"dir,omitempty"`
	// Remote is a remote name or URL (default "origin").
	Remote string `json:"remote,omitempty"`
	// Branch is the remote branch, without refs/heads/ (default: the
	// branch checked out in Dir).
	Branch string `json:"branch,omitempty"`
	// Commit is the commit that must be the remote branch's tip, in full
	// or abbreviated (default: Dir's HEAD).
	Commit string `json:"commit,omitempty"`
}

// Before is the pre-call snapshot. State reports whether path (absolute
// and clean) existed before the call and the lower-case hex SHA-256 of its
// content; ok is false when the snapshot did not record the path.
type Before interface {
	State(path string) (exists bool, sha256 string, ok bool)
}

// lintFiles returns the files the lint, typecheck and format checks read,
// absolute and each once.
func (r *runner) lintFiles() []string {
	files := r.claim.LintFiles
	if files == nil {
		files = append(append([]string(nil), r.claim.Created...), r.claim.Modified...)
	}
	var out []string
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		if f = r.abs(f); !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// validate rejects a claim no check can work with; the publish and push
// claims are checked by their own checks so that the others still run.
func (c Claim) validate(o Options) error {
	var errs []error
	n := len(c.Created) + len(c.Modified) + len(c.Deleted) + len(c.LintFiles)
	if n > o.MaxPaths {
		errs = append(errs, fmt.Errorf("claim names %d paths, more than the limit of %d (Options.MaxPaths): verify in batches", n, o.MaxPaths))
	}
	for _, list := range []struct {
		field string
		paths []string
	}{{"Created", c.Created}, {"Modified", c.Modified}, {"Deleted", c.Deleted}, {"LintFiles", c.LintFiles}} {
		for i, p := range list.paths {
			switch {
			case p == "":
				errs = append(errs, fmt.Errorf("claim %s[%d] is empty: name a file", list.field, i))
			case strings.ContainsRune(p, 0):
				errs = append(errs, fmt.Errorf("claim %s[%d] %q contains a NUL byte", list.field, i, p))
			}
		}
	}
	if _, err := resultFormat(c.ResultFormat); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// resultFormat normalises a claimed result format.
func resultFormat(f string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(f)) {
	case "":
		return "", nil
	case "json":
		return "json", nil
	case "yaml", "yml":
		return "yaml", nil
	}
	return "", fmt.Errorf("claim ResultFormat %q is unknown: use \"json\", \"yaml\" or \"\"", f)
}

// abs anchors a claimed path at the working directory.
func (r *runner) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(r.opts.Workdir, p)
}
