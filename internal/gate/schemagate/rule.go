package schemagate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/sentinel-agent/sentinel/internal/decision"
	"go.yaml.in/yaml/v3"
)

// Rule is the schema of one tool: the seed's twelve checks plus an optional
// JSON Schema. Field names refer to top-level keys of the arguments object
// exactly as the host sent them; nested keys are reached only through
// JSONSchema.
//
// A field whose value is JSON null counts as absent for every check.
type Rule struct {
	// Tool is the host tool name the rule applies to ("write_file", "Bash",
	// "mcp__gh__create_issue"); "*" applies it to every tool. Several rules
	// may name the same tool: all of them apply.
	Tool string `json:"tool" yaml:"tool"`

	// Required fields must be present and not null. An empty string is
	// present; use MinLength to refuse it.
	Required []string `json:"required,omitempty" yaml:"required,omitempty"`

	// Types maps a field to one of string, number, integer, boolean, object
	// or array. A field of the wrong type is reported once; its other value
	// checks are then skipped, since they would only repeat the problem.
	Types map[string]string `json:"types,omitempty" yaml:"types,omitempty"`

	// AllowedValues maps a field to the values it may take. Numbers compare
	// by value (1, 1.0 and "1" as a json.Number are equal), arrays and
	// objects by their JSON content.
	AllowedValues map[string][]any `json:"allowed_values,omitempty" yaml:"allowed_values,omitempty"`

	// Min and Max bound numeric fields, inclusive.
	Min map[string]float64 `json:"min,omitempty" yaml:"min,omitempty"`
	Max map[string]float64 `json:"max,omitempty" yaml:"max,omitempty"`

	// MinLength and MaxLength bound the length of strings, counted in runes
	// (Unicode code points, so "héllo" has length 5), and of arrays, counted
	// in elements. Any other value fails a length check.
	MinLength map[string]int `json:"min_length,omitempty" yaml:"min_length,omitempty"`
	MaxLength map[string]int `json:"max_length,omitempty" yaml:"max_length,omitempty"`

	// Patterns maps a field to an RE2 regular expression the value must
	// match. Matching is unanchored, as in Go's regexp.MatchString: write ^
	// and $ when the whole value must match. Numbers and booleans are
	// matched in their JSON text form; other non-strings fail.
	Patterns map[string]string `json:"patterns,omitempty" yaml:"patterns,omitempty"`

	// PathScope lists fields whose path (or list of paths) must resolve
	// inside the workspace. Resolution is lexical: "~" and "~/…" against
	// the home directory, relative paths against the working directory (or
	// the workspace), then cleaned. Symbolic links are the path gate's job.
	PathScope []string `json:"path_scope,omitempty" yaml:"path_scope,omitempty"`

	// PathAllow maps a path field to doublestar globs; when the list is not
	// empty the path must match one of them. PathDeny maps a path field to
	// globs the path must not match.
	//
	// A glob without a slash ("*.key", ".env") is matched against the base
	// name of the path and against its workspace-relative form, so "*.key"
	// matches "a/b/c.key" and ".env" matches "sub/.env". A glob with a slash
	// is matched against the workspace-relative path (".git/**",
	// "src/**/*.go"); for a path outside the workspace it is matched against
	// the absolute path without its leading slash, so "**/credentials/**"
	// still catches "/etc/credentials/x". A glob starting with "/" is
	// matched against the absolute path and one starting with "~/" against
	// the path below the home directory. Matching is case-sensitive.
	PathAllow map[string][]string `json:"path_allow,omitempty" yaml:"path_allow,omitempty"`
	PathDeny  map[string][]string `json:"path_deny,omitempty" yaml:"path_deny,omitempty"`

	// DependsOn maps a field to the fields that become required when it is
	// set: present and not null, false, "", [] or {} (0 counts as set).
	DependsOn map[string][]string `json:"depends_on,omitempty" yaml:"depends_on,omitempty"`

	// MutuallyExclusive lists groups of fields of which at most one may be
	// present.
	MutuallyExclusive [][]string `json:"mutually_exclusive,omitempty" yaml:"mutually_exclusive,omitempty"`

	// MaxSize maps a field to the most bytes its value may have: the bytes
	// of a string, or the length of the JSON encoding of anything else.
	MaxSize map[string]int `json:"max_size,omitempty" yaml:"max_size,omitempty"`

	// Secrets lists fields whose values must be redacted in logs and the
	// audit trail. They never cause a rejection.
	Secrets []string `json:"secrets,omitempty" yaml:"secrets,omitempty"`

	// JSONSchema is a JSON Schema for the whole arguments object, draft
	// 2020-12 unless it names another draft in "$schema". References to
	// other documents are refused: Sentinel loads nothing at decision time
	// nor at compile time. "format" is an annotation, not an assertion.
	JSONSchema json.RawMessage `json:"json_schema,omitempty" yaml:"json_schema,omitempty"`

	// Action is what a violation of this rule asks for. The zero value,
	// decision.Allow, means the default, decision.Deny, as in the seed,
	// which rejects every invalid call; a violation can never allow. Use
	// decision.Notify to only record violations.
	Action decision.Action `json:"action,omitempty" yaml:"action,omitempty"`
}

// Config is the schema gate's part of a policy.
type Config struct {
	Rules []Rule `json:"rules" yaml:"rules"`
}

// ruleYAMLKeys are the keys a rule may have in YAML; anything else is an
// error, as everywhere in Sentinel's configuration.
var ruleYAMLKeys = []string{
	"tool", "required", "types", "allowed_values", "min", "max", "min_length", "max_length",
	"patterns", "path_scope", "path_allow", "path_deny", "depends_on", "mutually_exclusive",
	"max_size", "secrets", "json_schema", "action",
}

// UnmarshalYAML lets a policy write json_schema as an ordinary YAML mapping
// (or as a string holding JSON) and refuses unknown keys, which a custom
// unmarshaler would otherwise let through even under KnownFields.
func (r *Rule) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a schema rule must be a mapping", n.Line)
	}
	rest := *n
	rest.Content = make([]*yaml.Node, 0, len(n.Content))
	var schemaNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(ruleYAMLKeys, k.Value) {
			return fmt.Errorf("line %d: unknown field %q in schema rule (known: %v)", k.Line, k.Value, ruleYAMLKeys)
		}
		if k.Value == "json_schema" {
			schemaNode = v
			continue
		}
		rest.Content = append(rest.Content, k, v)
	}
	type plain Rule
	var p plain
	if err := rest.Decode(&p); err != nil {
		return err
	}
	*r = Rule(p)
	if schemaNode == nil {
		return nil
	}
	raw, err := yamlToJSON(schemaNode)
	if err != nil {
		return fmt.Errorf("line %d: json_schema: %w", schemaNode.Line, err)
	}
	r.JSONSchema = raw
	return nil
}

// MarshalYAML writes json_schema back as a YAML mapping rather than as the
// bytes of a json.RawMessage.
func (r Rule) MarshalYAML() (any, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

func yamlToJSON(n *yaml.Node) (json.RawMessage, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		if !json.Valid([]byte(n.Value)) {
			return nil, fmt.Errorf("the string is not valid JSON; write the schema as a YAML mapping or as JSON text")
		}
		return json.RawMessage(n.Value), nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	v, err := stringKeys(v, 0)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// stringKeys turns the map[any]any that YAML produces for mappings with
// non-string keys into map[string]any, which JSON can encode.
func stringKeys(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			c, err := stringKeys(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			c, err := stringKeys(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			c, err := stringKeys(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

// clone returns a copy of r that shares no maps or slices with it, so that
// a compiled Gate is not changed by later edits of the Config it came from.
func (r Rule) clone() Rule {
	c := r
	c.Required = slices.Clone(r.Required)
	c.Types = maps.Clone(r.Types)
	if r.AllowedValues != nil {
		c.AllowedValues = make(map[string][]any, len(r.AllowedValues))
		for k, v := range r.AllowedValues {
			c.AllowedValues[k] = slices.Clone(v)
		}
	}
	c.Min = maps.Clone(r.Min)
	c.Max = maps.Clone(r.Max)
	c.MinLength = maps.Clone(r.MinLength)
	c.MaxLength = maps.Clone(r.MaxLength)
	c.Patterns = maps.Clone(r.Patterns)
	c.PathScope = slices.Clone(r.PathScope)
	c.PathAllow = cloneLists(r.PathAllow)
	c.PathDeny = cloneLists(r.PathDeny)
	c.DependsOn = cloneLists(r.DependsOn)
	if r.MutuallyExclusive != nil {
		c.MutuallyExclusive = make([][]string, len(r.MutuallyExclusive))
		for i, g := range r.MutuallyExclusive {
			c.MutuallyExclusive[i] = slices.Clone(g)
		}
	}
	c.MaxSize = maps.Clone(r.MaxSize)
	c.Secrets = slices.Clone(r.Secrets)
	c.JSONSchema = slices.Clone(r.JSONSchema)
	return c
}

func cloneLists(m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}
