// Package baseline is a faithful Go rendering of the seed's deterministic
// guard layer (the "Sentinel AgentOS" sentinel-guard skill, version 0.3.6),
// kept only so that Sentinel can be benchmarked against the approach it
// replaces, in the same process.
//
// The seed decides a tool call by testing the raw command string against a
// list of "dangerous" regular expressions (a match denies) and a list of
// "warning" expressions (a match asks for confirmation), by matching file
// paths against "sensitiveFiles" globs (reads and writes are denied) and by
// comparing file names with "protectedFiles" (deletes are denied). The rules
// come from a guard-rules.json file; the default one embedded here carries
// every entry the seed's README shows, and the remaining entries (the README
// says there are 12 dangerous expressions but lists only some) are
// reconstructed in the same spirit.
//
// Like the seed, the baseline never parses the command: it is a regex list
// pretending to be a shell parser, and it is here precisely to be measured
// as such. It must never be used to guard real tool calls.
package baseline

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Decision is the seed's vocabulary for a verdict.
type Decision string

// The three decisions the seed's guard layer can reach.
const (
	Allow   Decision = "allow"
	Confirm Decision = "confirm"
	Deny    Decision = "deny"
)

// Pattern is one regex rule: in guard-rules.json a two-element array
// ["regex", "description"].
type Pattern struct {
	Regex       string
	Description string
}

// UnmarshalJSON reads the seed's ["regex", "description"] pair.
func (p *Pattern) UnmarshalJSON(data []byte) error {
	var pair []string
	if err := json.Unmarshal(data, &pair); err != nil {
		return fmt.Errorf("pattern must be a [regex, description] pair: %w", err)
	}
	if len(pair) != 2 {
		return fmt.Errorf("pattern must be a [regex, description] pair, got %d elements", len(pair))
	}
	p.Regex, p.Description = pair[0], pair[1]
	return nil
}

// MarshalJSON writes the seed's ["regex", "description"] pair, so that a
// Rules value round-trips and can be handed to other engines as data.
func (p Pattern) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]string{p.Regex, p.Description})
}

// Rules is the content of a guard-rules.json file.
type Rules struct {
	Dangerous      []Pattern `json:"dangerous"`
	Warning        []Pattern `json:"warning"`
	SensitiveFiles []string  `json:"sensitiveFiles"`
	ProtectedFiles []string  `json:"protectedFiles"`
	// Schema holds the seed's schema-gate rules. They belong to a later
	// layer of the seed's pipeline and are accepted but not evaluated.
	Schema json.RawMessage `json:"schema,omitempty"`
}

//go:embed guard-rules.json
var defaultRules []byte

// DefaultRules returns the embedded guard-rules.json: the README's entries
// plus the reconstructed ones (12 dangerous, 8 warning expressions).
func DefaultRules() (Rules, error) { return ParseRules(defaultRules) }

// maxRulesSize bounds a guard-rules.json file; the seed's is a few hundred
// bytes.
const maxRulesSize = 1 << 20

// ParseRules decodes a guard-rules.json document. Unknown fields are errors.
func ParseRules(data []byte) (Rules, error) {
	if len(data) > maxRulesSize {
		return Rules{}, fmt.Errorf("guard rules: %d bytes exceeds the %d-byte limit", len(data), maxRulesSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Rules
	if err := dec.Decode(&r); err != nil {
		return Rules{}, fmt.Errorf("guard rules: %w", err)
	}
	return r, nil
}

// Tool classes. The seed's skill wraps OpenClaw tools; the names below are
// the ones its README uses plus their common spellings in other hosts.
var (
	commandTools = []string{"exec", "bash", "Bash", "shell"}
	readTools    = []string{"read", "read_file", "Read"}
	writeTools   = []string{"write", "write_file", "edit", "edit_file", "Write", "Edit"}
	deleteTools  = []string{"delete", "delete_file"}
)

// Kind says which of the seed's checks apply to a tool.
type Kind int

// The tool kinds.
const (
	Other Kind = iota
	Command
	Read
	Write
	Delete
)

// KindOf classifies a tool name.
func KindOf(tool string) Kind {
	for _, c := range []struct {
		names []string
		kind  Kind
	}{{commandTools, Command}, {readTools, Read}, {writeTools, Write}, {deleteTools, Delete}} {
		for _, n := range c.names {
			if n == tool {
				return c.kind
			}
		}
	}
	return Other
}

// ToolNames returns the tool names of each kind, for engines that must
// implement the same classification.
func ToolNames() map[Kind][]string {
	return map[Kind][]string{
		Command: append([]string(nil), commandTools...),
		Read:    append([]string(nil), readTools...),
		Write:   append([]string(nil), writeTools...),
		Delete:  append([]string(nil), deleteTools...),
	}
}

type compiled struct {
	re   *regexp.Regexp
	desc string
}

// Checker is a compiled rule set. It is safe for concurrent use.
type Checker struct {
	dangerous []compiled
	warning   []compiled
	sensitive []string
	protected []string
}

// New compiles every regex and validates every glob once; Check only
// evaluates them.
func New(r Rules) (*Checker, error) {
	c := &Checker{
		sensitive: append([]string(nil), r.SensitiveFiles...),
		protected: append([]string(nil), r.ProtectedFiles...),
	}
	var errs []error
	compile := func(list string, ps []Pattern) []compiled {
		out := make([]compiled, 0, len(ps))
		for i, p := range ps {
			re, err := regexp.Compile(p.Regex)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s[%d] %q: %w", list, i, p.Regex, err))
				continue
			}
			out = append(out, compiled{re: re, desc: p.Description})
		}
		return out
	}
	c.dangerous = compile("dangerous", r.Dangerous)
	c.warning = compile("warning", r.Warning)
	for i, g := range r.SensitiveFiles {
		if !doublestar.ValidatePattern(g) {
			errs = append(errs, fmt.Errorf("sensitiveFiles[%d] %q: invalid glob", i, g))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("guard rules: %w", err)
	}
	return c, nil
}

// Result is the baseline's answer. Reason is the description of the rule
// that decided, empty when the call is allowed.
type Result struct {
	Decision Decision
	Reason   string
}

// Check decides one tool call the way the seed does: the first dangerous
// match denies, otherwise the first warning match asks for confirmation;
// file tools are checked against the sensitive globs and protected names.
func (c *Checker) Check(tool string, args map[string]any) Result {
	switch KindOf(tool) {
	case Command:
		cmd := StringArg(args, "command")
		for _, p := range c.dangerous {
			if p.re.MatchString(cmd) {
				return Result{Deny, p.desc}
			}
		}
		for _, p := range c.warning {
			if p.re.MatchString(cmd) {
				return Result{Confirm, p.desc}
			}
		}
	case Read, Write:
		path := PathArg(args)
		if path == "" {
			break
		}
		for _, cand := range Candidates(path) {
			for _, g := range c.sensitive {
				// The patterns were validated in New, so the error is nil.
				if ok, _ := doublestar.Match(g, cand); ok {
					return Result{Deny, SensitiveReason(g)}
				}
			}
		}
	case Delete:
		path := PathArg(args)
		if path == "" {
			break
		}
		base := Base(path)
		for _, name := range c.protected {
			if name == path || name == base {
				return Result{Deny, ProtectedReason(name)}
			}
		}
	}
	return Result{Decision: Allow}
}

// SensitiveReason and ProtectedReason word the file-rule reasons; every
// engine implementing these rules uses the same words.
func SensitiveReason(glob string) string { return "敏感文件: " + glob }

// ProtectedReason words the reason for a protected-file delete.
func ProtectedReason(name string) string { return "受保护文件: " + name }

// StringArg returns args[key] if it is a string, "" otherwise.
func StringArg(args map[string]any, key string) string {
	s, _ := args[key].(string)
	return s
}

// PathArg returns the file path of a file tool's arguments: "path", or
// "file_path" as some hosts name it.
func PathArg(args map[string]any) string {
	if p := StringArg(args, "path"); p != "" {
		return p
	}
	return StringArg(args, "file_path")
}

// Base is the last slash-separated element of p, without any cleaning, so
// that a Rego policy can compute the same value with split.
func Base(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// Candidates are the strings a sensitive glob is tried on: the path as
// given, its base name (so ".env" catches "config/.env", as the seed's
// matchBase-style check does), for a relative path the path with a leading
// slash, and each of those with a trailing slash. The last two forms make
// glob libraries agree: doublestar lets "**/" match nothing at the start and
// "/**" match the directory itself, OPA's glob.match needs the slashes.
func Candidates(path string) []string {
	stems := []string{path, Base(path)}
	if !strings.HasPrefix(path, "/") {
		stems = append(stems, "/"+path)
	}
	out := append(make([]string, 0, 2*len(stems)), stems...)
	for _, s := range stems {
		if !strings.HasSuffix(s, "/") {
			out = append(out, s+"/")
		}
	}
	return out
}
