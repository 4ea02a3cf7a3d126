package verify

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Options configure Run. The zero value is usable: every unset field takes
// the default named on it.
type Options struct {
	// Linters and Typecheckers list, by file extension with its dot
	// (".go"), the commands run on each claimed file of that kind. A nil
	// map means DefaultLinters() or DefaultTypecheckers(); an empty map
	// turns the check off. A finding is WARN for a linter and FAIL for a
	// type checker unless the command sets Severity.
	Linters      map[string][]Command
	Typecheckers map[string][]Command
	// Timeout bounds each command and each HTTP request (default 2m).
	Timeout time.Duration
	// Workdir anchors relative claim paths and is where commands run
	// (default: the current directory).
	Workdir string
	// HTTPClient fetches registry metadata (default: a client with
	// Timeout). Set one with credentials for a private registry.
	HTTPClient *http.Client
	// Git is the git binary (default "git", looked up on PATH).
	Git string
	// MaxPaths bounds the paths one claim may name (default 10000).
	MaxPaths int
	// MaxFileBytes bounds a file that is hashed or parsed, and the result
	// that is parsed (default 64 MiB).
	MaxFileBytes int64
	// MaxOutputBytes bounds what is kept of one command's output (default
	// 64 KiB).
	MaxOutputBytes int
	// MaxRegistryBytes bounds a registry response body (default 32 MiB:
	// the full metadata of a package with thousands of versions).
	MaxRegistryBytes int64
}

// Command is one linter or type checker invocation. In Argv and Dir,
// "{file}" becomes the claimed file's absolute path and "{dir}" its
// directory. A command naming {file} runs once per file, one naming only
// {dir} once per directory, any other once per Run; identical invocations
// run once.
type Command struct {
	// Name is shown in reasons (default Argv[0]).
	Name string
	// Argv is the program and its arguments; no shell is involved.
	Argv []string
	// Dir is where the command runs (default Workdir).
	Dir string
	// Env is added to the inherited environment.
	Env []string
	// OutputIsFinding makes any output a finding even on exit status 0
	// (gofmt -l lists the files it would change and exits 0).
	OutputIsFinding bool
	// Requires names a file that must exist in the command's directory or
	// one of its parents for the command to apply (go vet needs a go.mod,
	// tsc without a tsconfig.json only prints its help); when it is
	// missing the command is SKIP.
	Requires string
	// Severity is the status of a finding (default: WARN for a linter,
	// FAIL for a type checker).
	Severity Status
}

func (c Command) name() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Argv[0]
}

// DefaultLinters returns the linters used when Options.Linters is nil:
// gofmt for Go and eslint for JavaScript. Each is SKIP when not installed.
func DefaultLinters() map[string][]Command {
	eslint := []Command{{Argv: []string{"eslint", "--no-color", "{file}"}}}
	return map[string][]Command{
		// -d rather than -l: the diff says what is wrong, and is just as
		// empty when nothing is.
		".go":  {{Name: "gofmt", Argv: []string{"gofmt", "-d", "{file}"}, OutputIsFinding: true}},
		".js":  eslint,
		".jsx": eslint,
		".mjs": eslint,
		".cjs": eslint,
	}
}

// DefaultTypecheckers returns the type checkers used when
// Options.Typecheckers is nil: go vet on the file's package (in a module)
// and tsc on the project of Workdir's tsconfig.json.
func DefaultTypecheckers() map[string][]Command {
	tsc := []Command{{
		Name:     "tsc",
		Argv:     []string{"tsc", "--noEmit", "--pretty", "false"},
		Requires: "tsconfig.json",
	}}
	return map[string][]Command{
		".go": {{
			Name:     "go vet",
			Argv:     []string{"go", "vet", "."},
			Dir:      "{dir}",
			Requires: "go.mod",
			// A go.mod must not make verification fetch and run a toolchain.
			Env: []string{"GOTOOLCHAIN=local"},
		}},
		".ts":  tsc,
		".tsx": tsc,
	}
}

// withDefaults is the named step that fills unset fields and rejects
// values that cannot work. It returns a copy.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Linters == nil {
		o.Linters = DefaultLinters()
	}
	if o.Typecheckers == nil {
		o.Typecheckers = DefaultTypecheckers()
	}
	errs = append(errs, validateCommands("Linters", o.Linters), validateCommands("Typecheckers", o.Typecheckers))
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.Workdir == "" {
		wd, err := os.Getwd()
		if err != nil {
			errs = append(errs, fmt.Errorf("options: no Workdir and no current directory: %w", err))
		}
		o.Workdir = wd
	}
	if abs, err := filepath.Abs(o.Workdir); err == nil {
		o.Workdir = abs
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.Timeout}
	}
	if o.Git == "" {
		o.Git = "git"
	}
	if o.MaxPaths == 0 {
		o.MaxPaths = 10000
	}
	if o.MaxFileBytes == 0 {
		o.MaxFileBytes = 64 << 20
	}
	if o.MaxOutputBytes == 0 {
		o.MaxOutputBytes = 64 << 10
	}
	if o.MaxRegistryBytes == 0 {
		o.MaxRegistryBytes = 32 << 20
	}
	if o.Timeout < 0 || o.MaxPaths < 0 || o.MaxFileBytes < 0 || o.MaxOutputBytes < 0 || o.MaxRegistryBytes < 0 {
		errs = append(errs, errors.New("options: Timeout and the Max limits must not be negative (0 takes the default)"))
	}
	return o, errors.Join(errs...)
}

func validateCommands(field string, m map[string][]Command) error {
	var errs []error
	for ext, cmds := range m {
		if !strings.HasPrefix(ext, ".") || len(ext) < 2 || strings.ContainsAny(ext, `/\`) || ext != strings.ToLower(ext) {
			errs = append(errs, fmt.Errorf("options: %s key %q: want a lower-case file extension with its dot, like \".go\"", field, ext))
		}
		for i, c := range cmds {
			if len(c.Argv) == 0 || c.Argv[0] == "" {
				errs = append(errs, fmt.Errorf("options: %s[%q][%d]: Argv is empty: name the program to run", field, ext, i))
			}
			switch c.Severity {
			case "", Warn, Fail:
			default:
				errs = append(errs, fmt.Errorf("options: %s[%q][%d]: Severity %q: want %q or %q", field, ext, i, c.Severity, Warn, Fail))
			}
		}
	}
	return errors.Join(errs...)
}
