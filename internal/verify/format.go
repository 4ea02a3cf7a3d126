package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkNonEmpty warns when a tool that should have produced output did
// not: the call may have silently done nothing.
func checkNonEmpty(_ context.Context, r *runner) tally {
	var t tally
	if !r.claim.ExpectResult {
		return t
	}
	if strings.TrimSpace(r.claim.Result) == "" {
		t.add(Warn, "non_empty.empty", "the tool was expected to return a result and returned nothing (or only white space)")
		return t
	}
	t.add(Pass, "", "")
	t.passed = fmt.Sprintf("the result has %d bytes", len(r.claim.Result))
	return t
}

// checkFormat parses the result in its claimed format, and the claimed
// JSON and YAML files.
func checkFormat(_ context.Context, r *runner) tally {
	var t tally
	n := 0
	// validate has already accepted the format.
	if f, _ := resultFormat(r.claim.ResultFormat); f != "" {
		n++
		switch {
		case int64(len(r.claim.Result)) > r.opts.MaxFileBytes:
			t.add(Fail, "format.too_large", fmt.Sprintf("the result has %d bytes, more than the %d that are parsed (Options.MaxFileBytes)", len(r.claim.Result), r.opts.MaxFileBytes))
		default:
			if err := parse(f, "", []byte(r.claim.Result)); err != nil {
				t.add(Fail, "format.invalid_result", fmt.Sprintf("the result is not valid %s: %v", strings.ToUpper(f), err))
			} else {
				t.add(Pass, "", "")
			}
		}
	}
	for _, p := range r.lintFiles() {
		f := fileFormat(p)
		if f == "" {
			continue
		}
		n++
		data, err := readFile(p, r.opts.MaxFileBytes)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			t.add(Skip, "format.missing_file", fmt.Sprintf("%s: not parsed, there is no such file", p))
		case errors.Is(err, errTooLarge):
			t.add(Fail, "format.too_large", fmt.Sprintf("%s: not parsed: %v", p, err))
		case err != nil:
			t.add(Fail, "format.unreadable", fmt.Sprintf("%s: not parsed: %v", p, err))
		default:
			if err := parse(f, p, data); err != nil {
				t.add(Fail, "format.invalid_file", fmt.Sprintf("%s: not valid %s: %v", p, strings.ToUpper(strings.TrimSuffix(f, "c")), err))
			} else {
				t.add(Pass, "", "")
			}
		}
	}
	t.passed = fmt.Sprintf("%d document(s) parse", n)
	return t
}

// fileFormat names the parser for a file: "json", "jsonc" (JSON with
// comments, for the configuration files whose tools accept them), "yaml"
// or "" (not parsed).
func fileFormat(p string) string {
	base := strings.ToLower(filepath.Base(p))
	switch filepath.Ext(base) {
	case ".json":
		if jsoncFile(p, base) {
			return "jsonc"
		}
		return "json"
	case ".jsonc":
		return "jsonc"
	case ".yaml", ".yml":
		return "yaml"
	}
	return ""
}

// jsoncFile reports configuration files that their tools read as JSON
// with comments and trailing commas; strict JSON would reject them
// wrongly.
func jsoncFile(p, base string) bool {
	for _, prefix := range []string{"tsconfig", "jsconfig", "devcontainer", ".devcontainer"} {
		if strings.HasPrefix(base, prefix) {
			return true
		}
	}
	return filepath.Base(filepath.Dir(p)) == ".vscode"
}

// parse checks data in format f; name is the file, for messages.
func parse(f, name string, data []byte) error {
	switch f {
	case "json":
		return parseJSON(data)
	case "jsonc":
		return parseJSON(stripJSONC(data))
	case "yaml":
		return parseYAML(data)
	}
	return fmt.Errorf("no parser for %q", f)
}

func parseJSON(data []byte) error {
	if json.Valid(data) {
		return nil
	}
	var v any
	err := json.Unmarshal(data, &v)
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := position(data, syn.Offset)
		return fmt.Errorf("line %d, column %d: %v", line, col, syn)
	}
	if err == nil { // cannot happen when Valid said no; fail closed anyway
		err = errors.New("rejected by the JSON validator")
	}
	return err
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}

// parseYAML decodes every document in data; yaml.v3 bounds alias
// expansion, so a "billion laughs" document fails instead of exploding.
func parseYAML(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		// Decoding into a Node does not resolve aliases; decoding the
		// node does, and that is where expansion is bounded.
		var v any
		if err := n.Decode(&v); err != nil {
			return err
		}
	}
}

// stripJSONC removes comments and trailing commas outside strings, keeping
// every newline so that error positions still match the file.
func stripJSONC(data []byte) []byte {
	out := make([]byte, 0, len(data))
	inString, escaped := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
			out = append(out, c)
		case c == '/' && i+1 < len(data) && data[i+1] == '/':
			for i < len(data) && data[i] != '\n' {
				out = append(out, ' ')
				i++
			}
			if i < len(data) {
				out = append(out, '\n')
			}
		case c == '/' && i+1 < len(data) && data[i+1] == '*':
			end := bytes.Index(data[i+2:], []byte("*/"))
			if end < 0 {
				return append(out, data[i:]...) // unterminated: let the parser say so
			}
			for _, b := range data[i : i+2+end+2] {
				if b == '\n' {
					out = append(out, '\n')
				} else {
					out = append(out, ' ')
				}
			}
			i += 2 + end + 1
		case c == ',' && trailingComma(data[i+1:]):
			out = append(out, ' ')
		default:
			out = append(out, c)
		}
	}
	return out
}

// trailingComma reports whether only white space and comments separate a
// comma from a closing bracket.
func trailingComma(rest []byte) bool {
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == '/' && i+1 < len(rest) && rest[i+1] == '/':
			for i < len(rest) && rest[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(rest) && rest[i+1] == '*':
			end := bytes.Index(rest[i+2:], []byte("*/"))
			if end < 0 {
				return false
			}
			i += 2 + end + 1
		default:
			return c == '}' || c == ']'
		}
	}
	return false
}
