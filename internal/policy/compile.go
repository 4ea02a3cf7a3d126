package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/gate/commandgate"
	"github.com/sentinel-agent/sentinel/internal/gate/egressgate"
	"github.com/sentinel-agent/sentinel/internal/gate/pathgate"
	"github.com/sentinel-agent/sentinel/internal/gate/riskgate"
	"github.com/sentinel-agent/sentinel/internal/gate/rulegate"
	"github.com/sentinel-agent/sentinel/internal/gate/schemagate"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// Compiled is a policy prepared for evaluation: every gate built, every
// pattern and expression compiled.
type Compiled struct {
	Policy   *Policy
	Revision string

	Schema  *schemagate.Gate
	Command *commandgate.Gate
	Path    *pathgate.Gate
	Egress  *egressgate.Gate
	Rules   *rulegate.Gate
	Risk    *riskgate.Gate

	// Declared maps custom tool names to kinds for request.Normalize.
	Declared request.Declared

	UnknownTool decision.Action
	Unparseable decision.Action
	Unresolved  decision.Action
	MaxArgBytes int
	Timeout     time.Duration
	// Taint is the action when a session that saw untrusted content and
	// read sensitive data makes a call with an external effect; Allow
	// turns the rule of two off.
	Taint decision.Action
}

// Default values for fields a policy leaves out.
const (
	DefaultMaxArgBytes = 4 << 20
	DefaultTimeout     = time.Second
)

// Options are the facts of the machine a policy is compiled for; the
// policy package never reads them from the environment itself.
type Options struct {
	// TempDir is the machine's temporary directory ($TMPDIR), treated like
	// /tmp: writes there are ordinary.
	TempDir string
}

// Compile prepares a validated policy. It reports every compile problem
// (bad regex, glob, CEL expression, JSON Schema) at once.
func Compile(p *Policy, o Options) (*Compiled, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c := &Compiled{Policy: p, Revision: p.Revision(), Declared: request.Declared{}}
	var errs []error
	wrap := func(section string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", p.source, section, err))
		}
	}
	act := func(s string, def decision.Action) decision.Action {
		if s == "" {
			return def
		}
		a, _ := decision.ParseAction(s) // validated above
		return a
	}

	c.UnknownTool = act(p.Defaults.UnknownTool, decision.Confirm)
	c.Taint = act(p.Taint.Action, decision.Confirm)
	c.Unparseable = act(p.Defaults.Unparseable, decision.Deny)
	c.Unresolved = act(p.Defaults.Unresolved, decision.Notify)
	c.MaxArgBytes = DefaultMaxArgBytes
	if p.Defaults.MaxArgBytes > 0 {
		c.MaxArgBytes = p.Defaults.MaxArgBytes
	}
	c.Timeout = DefaultTimeout
	if p.Defaults.Timeout != "" {
		c.Timeout, _ = parseDuration(p.Defaults.Timeout)
	}

	// Schema.
	var rules []schemagate.Rule
	for _, t := range p.Tools {
		r := schemagate.Rule{
			Tool: t.Tool, Required: t.Required, Types: t.Types, AllowedValues: t.AllowedValues,
			Min: t.Min, Max: t.Max, MinLength: t.MinLength, MaxLength: t.MaxLength, Patterns: t.Patterns,
			PathScope: t.PathScope, PathAllow: t.PathAllow, PathDeny: t.PathDeny, DependsOn: t.DependsOn,
			MutuallyExclusive: t.MutuallyExclusive, MaxSize: t.MaxSize, Secrets: t.Secrets,
			Action: act(t.Action, decision.Deny),
		}
		if t.JSONSchema != nil {
			b, err := json.Marshal(jsonable(t.JSONSchema))
			if err != nil {
				wrap(fmt.Sprintf("tools[%s].json_schema", t.Tool), err)
				continue
			}
			r.JSONSchema = b
		}
		rules = append(rules, r)
		if t.Kind != "" {
			k, _ := request.ParseKind(t.Kind)
			c.Declared[t.Tool] = k
		}
	}
	var err error
	c.Schema, err = schemagate.Compile(schemagate.Config{Rules: rules})
	wrap("tools", err)

	// Command.
	cc := commandgate.Config{Actions: map[string]decision.Action{}, Disabled: map[string]bool{},
		Unparseable: c.Unparseable, Unresolved: c.Unresolved}
	for k, v := range p.Command.Actions {
		cc.Actions[k] = act(v, decision.Deny)
	}
	for _, k := range p.Command.Disabled {
		cc.Disabled[k] = true
	}
	if err := cc.Validate(); err != nil {
		wrap("command", fmt.Errorf("%w (known codes: sentinel explain shows them; see docs/architecture.md)", err))
	}
	c.Command = commandgate.New(cc)

	// Paths.
	pc := pathgate.Default()
	pc.Sensitive = append(pc.Sensitive, p.Paths.Sensitive...)
	pc.SensitiveExceptions = append(pc.SensitiveExceptions, p.Paths.SensitiveExceptions...)
	pc.Protected = append(pc.Protected, p.Paths.Protected...)
	pc.WriteScope = append(pc.WriteScope, p.Paths.WriteScope...)
	pc.TempDir = o.TempDir
	pa := p.Paths.Actions
	pc.OutsideWrite = act(pa["outside_write"], pc.OutsideWrite)
	pc.SystemWrite = act(pa["system_write"], pc.SystemWrite)
	pc.SensitiveRead = act(pa["sensitive_read"], pc.SensitiveRead)
	pc.SensitiveWrite = act(pa["sensitive_write"], pc.SensitiveWrite)
	pc.ProtectedAction = act(pa["protected"], pc.ProtectedAction)
	pc.DynamicWrite = act(pa["dynamic_write"], pc.DynamicWrite)
	c.Path, err = pathgate.Compile(pc)
	wrap("paths", err)

	// Egress.
	ec := egressgate.Default()
	ec.Allow = append(ec.Allow, p.Egress.Allow...)
	ec.Deny = append(ec.Deny, p.Egress.Deny...)
	ec.Default = act(p.Egress.Default, ec.Default)
	if p.Egress.BlockPrivate != nil {
		ec.BlockPrivate = *p.Egress.BlockPrivate
	}
	if len(p.Egress.AllowedSchemes) > 0 {
		ec.AllowedSchemes = p.Egress.AllowedSchemes
	}
	ea := p.Egress.Actions
	ec.PrivateAction = act(ea["private"], ec.PrivateAction)
	ec.MetadataAction = act(ea["metadata"], ec.MetadataAction)
	ec.ListenAction = act(ea["listen"], ec.ListenAction)
	ec.SendUnknownAction = act(ea["send_unknown"], ec.SendUnknownAction)
	ec.SecretAction = act(ea["secret"], ec.SecretAction)
	if c.Path != nil {
		ec.Paths = c.Path
	}
	c.Egress, err = egressgate.Compile(ec)
	wrap("egress", err)

	// Rules.
	var rr []rulegate.Rule
	for _, r := range p.Rules {
		gr := rulegate.Rule{ID: r.ID, Description: r.Description, When: r.When,
			Action: act(r.Action, decision.Deny), Reason: r.Reason, Alternative: r.Alternative}
		for _, ex := range r.Match {
			gr.Match = append(gr.Match, rulegate.Example{Tool: ex.Tool, Args: jsonableMap(ex.Args)})
		}
		for _, ex := range r.NotMatch {
			gr.NotMatch = append(gr.NotMatch, rulegate.Example{Tool: ex.Tool, Args: jsonableMap(ex.Args)})
		}
		rr = append(rr, gr)
	}
	c.Rules, err = rulegate.Compile(rulegate.Config{Rules: rr})
	wrap("rules", err)

	// Risk.
	th := riskgate.DefaultThresholds
	if t := p.Risk.Thresholds; t != nil {
		th = riskgate.Thresholds{Auto: t.Auto, Notify: t.Notify, Deny: t.Deny}
	}
	if c.Path != nil {
		c.Risk, err = riskgate.New(riskgate.Config{Thresholds: th, Classifier: classifier{c.Path}})
		wrap("risk", err)
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Chain returns the gates in evaluation order. The risk gate is last: it
// reads the others' views.
func (c *Compiled) Chain() gate.Chain {
	return gate.Chain{c.Schema, c.Command, c.Path, c.Egress, c.Rules, c.Risk}
}

// classifier adapts the path gate to the risk gate's Classifier.
type classifier struct{ g *pathgate.Gate }

func (c classifier) ClassifyPath(in *gate.Input, p string) riskgate.Class {
	k := c.g.ClassifyIn(in, p)
	return riskgate.Class{InWorkspace: k.InWorkspace, Temp: k.Temp, System: k.System, Sensitive: k.Sensitive}
}

// jsonable converts YAML-decoded values (map[string]any with any keys,
// ints) into JSON-shaped values (map[string]any, float64 where needed).
func jsonable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return jsonableMap(t)
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = jsonable(x)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = jsonable(x)
		}
		return out
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case uint64:
		return float64(t)
	}
	return v
}

func jsonableMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		out[k] = jsonable(x)
	}
	return out
}
