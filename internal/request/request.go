// Package request defines the canonical ToolCall every gate sees and
// Normalize, which maps the tool names and argument shapes of the hosts
// Sentinel sits in front of (Claude Code, OpenClaw, MCP, the seed's SDK and
// the evaluation vocabulary) onto a small set of kinds with canonical
// arguments.
//
// It is a leaf: standard library only, no I/O. Normalize never touches the
// file system; paths are canonicalised later by the path gate.
package request

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Kind is the canonical class of a tool call.
type Kind string

// The canonical kinds.
const (
	KindExec       Kind = "exec"
	KindFileRead   Kind = "file.read"
	KindFileWrite  Kind = "file.write"
	KindFileDelete Kind = "file.delete"
	KindNetRequest Kind = "net.request"
	KindDBQuery    Kind = "db.query"
	KindMCP        Kind = "mcp"
	KindOther      Kind = "other"
)

// Kinds lists every kind, for validation and documentation.
var Kinds = []Kind{KindExec, KindFileRead, KindFileWrite, KindFileDelete, KindNetRequest, KindDBQuery, KindMCP, KindOther}

// ParseKind validates a kind name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown kind %q (want one of %s)", s, kindList())
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Canonical argument names.
const (
	ArgCommand = "command"
	ArgCwd     = "cwd"
	ArgEnv     = "env"
	ArgPath    = "path"
	ArgPaths   = "paths"   // extra paths a single call touches (apply_patch)
	ArgDeletes = "deletes" // paths a write call deletes (apply_patch "*** Delete File:")
	ArgContent = "content"
	ArgURL     = "url"
	ArgMethod  = "method"
	ArgBody    = "body"
	ArgQuery   = "query"
	ArgDialect = "dialect"
)

// Raw is a tool call as a host sent it.
type Raw struct {
	Tool      string         `json:"tool"`
	Args      map[string]any `json:"args"`
	Session   string         `json:"session,omitempty"`
	Agent     string         `json:"agent,omitempty"`
	Workspace string         `json:"workspace,omitempty"`
	// Cwd is where the call runs, when the host says so (Claude Code's cwd).
	Cwd string `json:"cwd,omitempty"`
}

// ToolCall is the canonical call.
type ToolCall struct {
	// Tool is the host's tool name, unchanged ("Bash", "write_file").
	Tool string `json:"tool"`
	// Kind is the canonical class.
	Kind Kind `json:"kind"`
	// Args holds the canonical arguments for the kind (see the Arg*
	// constants); for mcp and other kinds it is the original arguments.
	Args map[string]any `json:"args"`
	// Original is the arguments as the host sent them; the schema gate
	// validates these against the tool's declared schema.
	Original map[string]any `json:"-"`
	// Server and Name are set for MCP tools (mcp__server__name).
	Server string `json:"server,omitempty"`
	Name   string `json:"name,omitempty"`
	// Wrapped names the wrapper tool when the call came inside one
	// (OpenClaw's tool_call).
	Wrapped   string `json:"wrapped,omitempty"`
	Session   string `json:"session,omitempty"`
	Agent     string `json:"agent,omitempty"`
	Workspace string `json:"workspace,omitempty"`
	Cwd       string `json:"cwd,omitempty"`
	// Known is false when no adapter and no declaration recognised the tool.
	Known bool `json:"-"`
}

// String returns the canonical string argument key, or "".
func (c *ToolCall) String(key string) string {
	if c == nil || c.Args == nil {
		return ""
	}
	s, _ := c.Args[key].(string)
	return s
}

// Command returns the shell command of an exec call.
func (c *ToolCall) Command() string { return c.String(ArgCommand) }

// Path returns the primary path of a file call.
func (c *ToolCall) Path() string { return c.String(ArgPath) }

// URL returns the destination of a net.request call.
func (c *ToolCall) URL() string { return c.String(ArgURL) }

// AllPaths returns the primary path followed by any extra paths.
func (c *ToolCall) AllPaths() []string {
	var out []string
	if p := c.Path(); p != "" {
		out = append(out, p)
	}
	if extra, ok := c.Args[ArgPaths].([]string); ok {
		out = append(out, extra...)
	}
	return out
}

// Limits bound what Normalize accepts, so that no single input can make
// later stages do unbounded work.
const (
	MaxToolNameLen = 256
	MaxDepth       = 4 // nesting of wrapper tools
)

// Errors returned by Normalize. They are wrapped with detail.
var (
	ErrNoTool      = errors.New("tool name is empty")
	ErrBadArgument = errors.New("bad argument")
)

// adapter maps one host tool name to a kind and renames arguments.
type adapter struct {
	kind Kind
	// rename maps canonical arg -> candidate host keys, first present wins.
	rename map[string][]string
	// post runs after renaming (Edit, apply_patch).
	post func(raw map[string]any, out map[string]any) error
}

var (
	execArgs = map[string][]string{
		ArgCommand: {"command", "cmd", "script"},
		ArgCwd:     {"cwd", "workdir", "working_directory", "dir"},
		ArgEnv:     {"env"},
	}
	readArgs   = map[string][]string{ArgPath: {"path", "file_path", "filePath", "file", "filename", "notebook_path"}}
	writeArgs  = map[string][]string{ArgPath: {"path", "file_path", "filePath", "file", "filename", "notebook_path"}, ArgContent: {"content", "contents", "text", "data", "new_source"}}
	deleteArgs = map[string][]string{ArgPath: {"path", "file_path", "filePath", "file", "filename", "target"}}
	netArgs    = map[string][]string{ArgURL: {"url", "uri", "href", "endpoint"}, ArgMethod: {"method"}, ArgBody: {"body", "data", "payload"}}
	dbArgs     = map[string][]string{ArgQuery: {"query", "sql", "cypher", "statement"}, ArgDialect: {"dialect", "language"}}
)

// adapters is keyed by the exact host tool name. Claude Code's names are
// capitalised, OpenClaw's and the seed's are lower-case; both are listed
// explicitly so that a lookalike name ("BASH") is not silently mapped.
var adapters = map[string]adapter{
	// Evaluation vocabulary and the seed.
	"exec":         {kind: KindExec, rename: execArgs},
	"shell":        {kind: KindExec, rename: execArgs},
	"bash":         {kind: KindExec, rename: execArgs},
	"run_command":  {kind: KindExec, rename: execArgs},
	"read_file":    {kind: KindFileRead, rename: readArgs},
	"read":         {kind: KindFileRead, rename: readArgs},
	"write_file":   {kind: KindFileWrite, rename: writeArgs},
	"write":        {kind: KindFileWrite, rename: writeArgs},
	"edit":         {kind: KindFileWrite, rename: writeArgs, post: editPost},
	"edit_file":    {kind: KindFileWrite, rename: writeArgs, post: editPost},
	"apply_patch":  {kind: KindFileWrite, rename: map[string][]string{}, post: patchPost},
	"delete_file":  {kind: KindFileDelete, rename: deleteArgs},
	"delete":       {kind: KindFileDelete, rename: deleteArgs},
	"rm":           {kind: KindFileDelete, rename: deleteArgs},
	"unlink":       {kind: KindFileDelete, rename: deleteArgs},
	"http_request": {kind: KindNetRequest, rename: netArgs},
	"web_fetch":    {kind: KindNetRequest, rename: netArgs},
	"fetch":        {kind: KindNetRequest, rename: netArgs},
	"db_query":     {kind: KindDBQuery, rename: dbArgs},
	"sql_query":    {kind: KindDBQuery, rename: dbArgs},
	"cypher_query": {kind: KindDBQuery, rename: dbArgs},
	// Claude Code.
	"Bash":         {kind: KindExec, rename: execArgs},
	"Read":         {kind: KindFileRead, rename: readArgs},
	"Write":        {kind: KindFileWrite, rename: writeArgs},
	"Edit":         {kind: KindFileWrite, rename: writeArgs, post: editPost},
	"MultiEdit":    {kind: KindFileWrite, rename: writeArgs, post: editPost},
	"NotebookEdit": {kind: KindFileWrite, rename: writeArgs},
	"WebFetch":     {kind: KindNetRequest, rename: netArgs},
	// Claude Code's search tools read what is under their path (the
	// working directory when it is absent).
	"Glob": {kind: KindFileRead, rename: searchArgs, post: searchPost},
	"Grep": {kind: KindFileRead, rename: searchArgs, post: searchPost},
	"LS":   {kind: KindFileRead, rename: searchArgs, post: searchPost},
}

// searchPost makes a search without a path search the working directory,
// as the host does.
func searchPost(_, out map[string]any) error {
	if _, ok := out[ArgPath]; !ok {
		out[ArgPath] = "."
	}
	return nil
}

// searchArgs are the arguments of tools that search or list a tree.
var searchArgs = map[string][]string{ArgPath: {"path"}}

// Known reports whether a host tool name has a built-in adapter (or is an
// MCP tool or a wrapper).
func Known(tool string) bool {
	if _, ok := adapters[tool]; ok {
		return true
	}
	if tool == "tool_call" {
		return true
	}
	_, _, ok := splitMCP(tool)
	return ok
}

// BuiltinTools lists the host tool names with built-in adapters, sorted.
func BuiltinTools() []string {
	out := make([]string, 0, len(adapters))
	for k := range adapters {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Declared lets a policy teach Normalize about custom tools: name → kind.
type Declared map[string]Kind

// Normalize maps a raw host call onto a ToolCall. It returns an error only
// for input that cannot be a call at all (no tool name, a wrapper without
// an inner tool, a canonical argument of the wrong type); an unrecognised
// tool becomes KindOther with Known false, and the kernel decides what
// unknown tools get.
func Normalize(r Raw, declared Declared) (ToolCall, error) {
	return normalize(r, declared, 0)
}

func normalize(r Raw, declared Declared, depth int) (ToolCall, error) {
	if strings.ContainsAny(r.Tool, "\x00\n\r\t") {
		return ToolCall{}, fmt.Errorf("tool name %q contains control characters", r.Tool)
	}
	tool := strings.TrimSpace(r.Tool)
	if tool == "" {
		return ToolCall{}, ErrNoTool
	}
	if len(tool) > MaxToolNameLen {
		return ToolCall{}, fmt.Errorf("tool name is %d bytes long, the limit is %d", len(tool), MaxToolNameLen)
	}
	args := r.Args
	if args == nil {
		args = map[string]any{}
	}
	c := ToolCall{
		Tool: tool, Original: args,
		Session: r.Session, Agent: r.Agent, Workspace: r.Workspace, Cwd: r.Cwd,
	}

	// OpenClaw calls deferred tools through a wrapper; judge the inner call.
	if tool == "tool_call" {
		if depth >= MaxDepth {
			return ToolCall{}, fmt.Errorf("tool_call wrappers nested deeper than %d", MaxDepth)
		}
		inner, _ := args["id"].(string)
		if inner == "" {
			inner, _ = args["tool"].(string)
		}
		if inner == "" {
			inner, _ = args["name"].(string)
		}
		if inner == "" {
			return ToolCall{}, fmt.Errorf("%w: tool_call needs the inner tool's name in \"id\"", ErrBadArgument)
		}
		innerArgs, ok := args["args"].(map[string]any)
		if !ok && args["args"] != nil {
			return ToolCall{}, fmt.Errorf("%w: tool_call \"args\" must be an object, got %s", ErrBadArgument, typeName(args["args"]))
		}
		r2 := r
		r2.Tool, r2.Args = inner, innerArgs
		ic, err := normalize(r2, declared, depth+1)
		if err != nil {
			return ToolCall{}, err
		}
		ic.Wrapped = "tool_call"
		return ic, nil
	}

	if server, name, ok := splitMCP(tool); ok {
		c.Kind, c.Server, c.Name, c.Known = KindMCP, server, name, true
		if k, ok := declared[tool]; ok {
			c.Kind = k
			return mapByKind(c, k)
		}
		c.Args = args
		return c, nil
	}

	if k, ok := declared[tool]; ok {
		c.Kind, c.Known = k, true
		return mapByKind(c, k)
	}
	a, ok := adapters[tool]
	if !ok {
		c.Kind, c.Args = KindOther, args
		return c, nil
	}
	c.Kind, c.Known = a.kind, true
	out, err := rename(args, a.rename)
	if err != nil {
		return ToolCall{}, err
	}
	if a.post != nil {
		if err := a.post(args, out); err != nil {
			return ToolCall{}, err
		}
	}
	c.Args = out
	return c, nil
}

// mapByKind maps a declared tool's arguments with the generic adapter of
// its kind.
func mapByKind(c ToolCall, k Kind) (ToolCall, error) {
	var ren map[string][]string
	switch k {
	case KindExec:
		ren = execArgs
	case KindFileRead:
		ren = readArgs
	case KindFileWrite:
		ren = writeArgs
	case KindFileDelete:
		ren = deleteArgs
	case KindNetRequest:
		ren = netArgs
	case KindDBQuery:
		ren = dbArgs
	default:
		c.Args = c.Original
		return c, nil
	}
	out, err := rename(c.Original, ren)
	if err != nil {
		return ToolCall{}, err
	}
	c.Args = out
	return c, nil
}

func rename(args map[string]any, ren map[string][]string) (map[string]any, error) {
	out := make(map[string]any, len(ren))
	for canon, keys := range ren {
		for _, k := range keys {
			v, ok := args[k]
			if !ok || v == nil {
				continue
			}
			switch canon {
			case ArgEnv:
				m, ok := v.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%w: %q must be an object of strings, got %s", ErrBadArgument, k, typeName(v))
				}
				out[canon] = m
			default:
				s, ok := scalarString(v)
				if !ok {
					return nil, fmt.Errorf("%w: %q must be a string, got %s", ErrBadArgument, k, typeName(v))
				}
				// NUL bytes and other oddities are kept as they are: the
				// gates must see exactly what the tool would receive.
				out[canon] = s
			}
			break
		}
	}
	return out, nil
}

// editPost: Edit carries new_string (and MultiEdit edits[]); the content
// that lands on disk is what the content checks must see.
func editPost(raw, out map[string]any) error {
	var parts []string
	if s, ok := raw["new_string"].(string); ok {
		parts = append(parts, s)
	}
	if edits, ok := raw["edits"].([]any); ok {
		for _, e := range edits {
			if m, ok := e.(map[string]any); ok {
				if s, ok := m["new_string"].(string); ok {
					parts = append(parts, s)
				}
			}
		}
	}
	if len(parts) > 0 {
		if prev, ok := out[ArgContent].(string); ok {
			parts = append([]string{prev}, parts...)
		}
		out[ArgContent] = strings.Join(parts, "\n")
	}
	return nil
}

// patchPost extracts the files an OpenClaw/Codex apply_patch touches. The
// envelope is "*** Begin Patch" with "*** Add File: p", "*** Update File: p",
// "*** Delete File: p" and "*** Move to: p" lines; unified diffs ("+++ b/p")
// are accepted too.
func patchPost(raw, out map[string]any) error {
	var patch string
	for _, k := range []string{"input", "patch", "diff", "content"} {
		if s, ok := raw[k].(string); ok {
			patch = s
			break
		}
	}
	if patch == "" {
		return fmt.Errorf("%w: apply_patch needs the patch text in \"input\"", ErrBadArgument)
	}
	var paths, deletes, added []string
	seen := map[string]bool{}
	add := func(p string) {
		p = strings.TrimSpace(p)
		if p == "" || p == "/dev/null" || seen[p] {
			return
		}
		seen[p] = true
		paths = append(paths, p)
	}
	for _, line := range strings.Split(patch, "\n") {
		switch {
		case strings.HasPrefix(line, "*** Add File:"):
			add(strings.TrimPrefix(line, "*** Add File:"))
		case strings.HasPrefix(line, "*** Update File:"):
			add(strings.TrimPrefix(line, "*** Update File:"))
		case strings.HasPrefix(line, "*** Delete File:"):
			p := strings.TrimSpace(strings.TrimPrefix(line, "*** Delete File:"))
			add(p)
			if p != "" {
				deletes = append(deletes, p)
			}
		case strings.HasPrefix(line, "*** Move to:"):
			add(strings.TrimPrefix(line, "*** Move to:"))
		case strings.HasPrefix(line, "+++ "):
			p := strings.TrimSpace(strings.TrimPrefix(line, "+++ "))
			if i := strings.IndexByte(p, '\t'); i >= 0 {
				p = p[:i]
			}
			add(strings.TrimPrefix(p, "b/"))
		case strings.HasPrefix(line, "+") && !strings.HasPrefix(line, "+++"):
			added = append(added, line[1:])
		}
	}
	if len(paths) == 0 {
		return fmt.Errorf("%w: apply_patch names no file (expected \"*** Update File: path\" or \"+++ b/path\" lines)", ErrBadArgument)
	}
	out[ArgPath] = paths[0]
	if len(paths) > 1 {
		out[ArgPaths] = paths[1:]
	}
	out[ArgContent] = strings.Join(added, "\n")
	if len(deletes) > 0 {
		out[ArgDeletes] = deletes
	}
	return nil
}

// Deletes returns the paths a write call deletes on the way.
func (c *ToolCall) Deletes() []string {
	d, _ := c.Args[ArgDeletes].([]string)
	return d
}

// splitMCP splits "mcp__server__tool". Server names may not contain "__";
// tool names may.
func splitMCP(tool string) (server, name string, ok bool) {
	rest, found := strings.CutPrefix(tool, "mcp__")
	if !found {
		return "", "", false
	}
	server, name, found = strings.Cut(rest, "__")
	if !found || server == "" || name == "" {
		return "", "", false
	}
	return server, name, true
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64, int, int64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// scalarString accepts strings, and numbers and booleans written where a
// string belongs (a CLI's key=value typing, a host's sloppy JSON), in their
// JSON spelling.
func scalarString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case int:
		return strconv.Itoa(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case json.Number:
		return t.String(), true
	}
	return "", false
}
