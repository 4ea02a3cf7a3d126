package mcpguard

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/sentinel-agent/sentinel/internal/hook"
	"github.com/sentinel-agent/sentinel/internal/mcpguard/pin"
)

// Bounds on a tool definition. A tool over any of them is withheld.
const (
	MaxDescription = 64 << 10
	MaxTitle       = 1 << 10
	MaxSchema      = 192 << 10
	MaxSchemaDepth = 32
)

// Codes of why a tool is withheld or a call refused.
const (
	CodeToolFlagged     = "mcp.tool_flagged"      // poisoned on first sight, never approved
	CodeToolChanged     = "mcp.tool_changed"      // definition differs from the approved one
	CodeToolInvalid     = "mcp.tool_invalid"      // a name or definition the proxy cannot pin
	CodeToolTooLarge    = "mcp.tool_too_large"    // over a bound above
	CodeToolDuplicate   = "mcp.tool_duplicate"    // listed twice by the upstream
	CodeToolUnknown     = "mcp.tool_unknown"      // not in the upstream's listing
	CodeToolShadows     = "mcp.tool_shadows"      // same name as a tool of another pinned server
	CodeToolPinned      = "mcp.tool_pinned"       // first sight, clean: pinned and trusted
	CodeToolReverted    = "mcp.tool_reverted"     // the approved definition is back
	CodeToolApproved    = "mcp.tool_approved"     // an operator approved the current definition
	CodePinUnavailable  = "mcp.pin_unavailable"   // the pin store failed
	CodeToolsTruncated  = "mcp.tools_truncated"   // the upstream lists more than MaxTools
	CodeBadArguments    = "mcp.bad_arguments"     // arguments that are not a JSON object
	CodeConfirmDeclined = "mcp.confirm_declined"  // the user declined or cancelled
	CodeConfirmNoClient = "mcp.confirm_no_client" // confirm, but the client cannot ask its user
	CodeConfirmFailed   = "mcp.confirm_failed"    // asking the user failed
	CodeInternal        = "mcp.internal"          // the proxy failed; the call is refused
)

// Check is what the proxy learned about one tool definition.
type Check struct {
	Name string
	// Hash is the hex SHA-256 of Definition; empty when Problem is set.
	Hash string
	// Definition is the canonical JSON of what the model sees of the
	// tool: name, title, description, annotations, input and output
	// schemas.
	Definition json.RawMessage
	// Findings are the poisoning codes (injection.*, hidden.*).
	Findings []string
	// Problem is set (CodeToolInvalid, CodeToolTooLarge) when the tool
	// cannot be pinned at all; Detail says why.
	Problem, Detail string
}

// annotations are the tool's hints with the specification's defaults
// filled in, so that spelling a default out does not change the hash.
type annotations struct {
	Destructive bool   `json:"destructiveHint"`
	Idempotent  bool   `json:"idempotentHint"`
	OpenWorld   bool   `json:"openWorldHint"`
	ReadOnly    bool   `json:"readOnlyHint"`
	Title       string `json:"title,omitempty"`
}

// CheckTool canonicalises t, hashes the result and scans it for
// poisoning.
func CheckTool(t *mcp.Tool) Check {
	if t == nil {
		return Check{Problem: CodeToolInvalid, Detail: "the upstream listed a null tool"}
	}
	c := Check{Name: t.Name}
	if !pin.ValidTool(t.Name) {
		c.Problem, c.Detail = CodeToolInvalid, fmt.Sprintf("tool name %.80q is not 1-%d letters, digits, '_', '-' or '.'", t.Name, pin.MaxToolLen)
		return c
	}
	var ann *annotations
	title := t.Title
	if a := t.Annotations; a != nil {
		ann = &annotations{Destructive: a.DestructiveHint == nil || *a.DestructiveHint, Idempotent: a.IdempotentHint,
			OpenWorld: a.OpenWorldHint == nil || *a.OpenWorldHint, ReadOnly: a.ReadOnlyHint, Title: a.Title}
		title += "\n" + a.Title
	}
	switch {
	case len(t.Description) > MaxDescription:
		c.Problem, c.Detail = CodeToolTooLarge, fmt.Sprintf("the description is %d bytes; at most %d", len(t.Description), MaxDescription)
	case len(title) > MaxTitle:
		c.Problem, c.Detail = CodeToolTooLarge, fmt.Sprintf("the titles are %d bytes; at most %d", len(title), MaxTitle)
	}
	if c.Problem != "" {
		return c
	}
	in, err := canonicalSchema(t.InputSchema)
	if err != nil {
		c.Problem, c.Detail = problemOf(err), "input schema: "+err.Error()
		return c
	}
	var out json.RawMessage
	if t.OutputSchema != nil {
		if out, err = canonicalSchema(t.OutputSchema); err != nil {
			c.Problem, c.Detail = problemOf(err), "output schema: "+err.Error()
			return c
		}
	}
	def := struct {
		Name         string          `json:"name"`
		Title        string          `json:"title,omitempty"`
		Description  string          `json:"description"`
		Annotations  *annotations    `json:"annotations,omitempty"`
		InputSchema  json.RawMessage `json:"inputSchema"`
		OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	}{t.Name, t.Title, t.Description, ann, in, out}
	raw, err := marshal(def)
	if err != nil {
		c.Problem, c.Detail = CodeToolInvalid, err.Error()
		return c
	}
	// Re-encoding through the canonical encoder sorts the outer keys too.
	if c.Definition, err = canonical(raw); err != nil || len(c.Definition) > pin.MaxDefinition {
		c.Problem, c.Detail = CodeToolTooLarge, fmt.Sprintf("the definition is over %d bytes", pin.MaxDefinition)
		c.Definition = nil
		return c
	}
	sum := sha256.Sum256(c.Definition)
	c.Hash = hex.EncodeToString(sum[:])
	schemas := []json.RawMessage{in}
	if out != nil {
		schemas = append(schemas, out)
	}
	r := hook.ScanTool(t.Description+"\n"+title, schemas...)
	c.Findings = append(append(c.Findings, r.Injections...), r.Hidden...)
	if r.Truncated {
		// Bounds keep definitions far below what a scan reads; if one
		// was not read whole, it was not checked.
		c.Findings = append(c.Findings, "scan.truncated")
	}
	return c
}

var (
	errTooLarge = errors.New("too large")
	errTooDeep  = errors.New("too deep")
)

func problemOf(err error) string {
	if errors.Is(err, errTooLarge) || errors.Is(err, errTooDeep) {
		return CodeToolTooLarge
	}
	return CodeToolInvalid
}

// canonicalSchema encodes a schema canonically; it must be a JSON object.
func canonicalSchema(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, errors.New("missing (a tool's input schema is a JSON object)")
	}
	raw, err := marshal(v)
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxSchema {
		return nil, fmt.Errorf("%w: %d bytes; at most %d", errTooLarge, len(raw), MaxSchema)
	}
	if b := bytes.TrimSpace(raw); len(b) == 0 || b[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	return canonical(raw)
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// canonical re-encodes a JSON value: objects with their keys sorted
// bytewise, no insignificant space, strings escaped as encoding/json does
// without HTML escaping, numbers as encoding/json writes a float64. Nesting deeper than
// MaxSchemaDepth is refused, and so is a duplicate key, which decoders
// resolve differently.
func canonical(raw []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b bytes.Buffer
	if err := canonValue(dec, &b, 0); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return b.Bytes(), nil
}

func canonValue(dec *json.Decoder, b *bytes.Buffer, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxSchemaDepth {
			return fmt.Errorf("%w: nested deeper than %d", errTooDeep, MaxSchemaDepth)
		}
		if t == '[' {
			b.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				if err := canonValue(dec, b, depth+1); err != nil {
					return err
				}
			}
			_, err := dec.Token()
			b.WriteByte(']')
			return err
		}
		type member struct {
			key string
			val []byte
		}
		var ms []member
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k := kt.(string)
			if seen[k] {
				return fmt.Errorf("duplicate key %.60q", k)
			}
			seen[k] = true
			var vb bytes.Buffer
			if err := canonValue(dec, &vb, depth+1); err != nil {
				return err
			}
			ms = append(ms, member{k, vb.Bytes()})
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		sort.Slice(ms, func(i, j int) bool { return ms[i].key < ms[j].key })
		b.WriteByte('{')
		for i, m := range ms {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, m.key)
			b.WriteByte(':')
			b.Write(m.val)
		}
		b.WriteByte('}')
		return nil
	case string:
		writeString(b, t)
	case json.Number:
		// As encoding/json writes a float64, which is what the SDK's
		// client decodes every number into: 1e2 and 100 are one schema.
		if f, err := strconv.ParseFloat(t.String(), 64); err == nil {
			enc, _ := marshal(f)
			b.Write(enc)
		} else {
			b.WriteString(t.String())
		}
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case nil:
		b.WriteString("null")
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	enc, _ := marshal(s)
	b.Write(enc)
}
