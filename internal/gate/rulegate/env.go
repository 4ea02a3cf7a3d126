package rulegate

import (
	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// Limits on a rule's expression, so that loading a policy is bounded too.
const (
	// MaxWhenBytes bounds the length of a rule's expression.
	MaxWhenBytes = 8 << 10
	// maxNesting bounds the parser's recursion depth.
	maxNesting = 64
	// maxNodes bounds the expression's node count after macro expansion.
	maxNodes = 4096
	// maxRegexProgram bounds the compiled size of a constant RE2 pattern.
	maxRegexProgram = 2000
	// interruptEvery is how many comprehension iterations run between two
	// checks of the context.
	interruptEvery = 100
)

// callView is what expressions see as call. It exists because the
// canonical ToolCall hides some fields from JSON (original, known) and
// because call.args must hold every canonical key of the kind.
type callView struct {
	Tool      string         `json:"tool"`
	Kind      string         `json:"kind"`
	Args      map[string]any `json:"args"`
	Original  map[string]any `json:"original"`
	Server    string         `json:"server"`
	Name      string         `json:"name"`
	Wrapped   string         `json:"wrapped"`
	Session   string         `json:"session"`
	Agent     string         `json:"agent"`
	Workspace string         `json:"workspace"`
	Cwd       string         `json:"cwd"`
	Known     bool           `json:"known"`
}

// kindArgs lists, per kind, the canonical string arguments that call.args
// always holds, so that the common rules need no has() guard.
var kindArgs = map[request.Kind][]string{
	request.KindExec:       {request.ArgCommand, request.ArgCwd},
	request.KindFileRead:   {request.ArgPath},
	request.KindFileWrite:  {request.ArgPath, request.ArgContent},
	request.KindFileDelete: {request.ArgPath},
	request.KindNetRequest: {request.ArgURL, request.ArgMethod, request.ArgBody},
	request.KindDBQuery:    {request.ArgQuery, request.ArgDialect},
}

// Variable names, as rules spell them.
const (
	varCall       = "call"
	varCommand    = "command"
	varCommands   = "commands"
	varPaths      = "paths"
	varDests      = "dests"
	varFindings   = "findings"
	varPrivileged = "privileged"
	varReadsEnv   = "reads_env"
	varUnresolved = "unresolved"
	varSession    = "session"
)

// newEnv builds the CEL environment every rule compiles in.
func newEnv() (*cel.Env, error) {
	tags := types.ParseStructTag("json")
	k := cel.TypeParamType("K")
	v := cel.TypeParamType("V")
	return cel.NewEnv(
		ext.NativeTypes(
			types.NativeTypeFor[callView](types.NativeTypeAlias("sentinel.Call"), tags),
			types.NativeTypeFor[analysis.Command](types.NativeTypeAlias("sentinel.Command"), tags),
			types.NativeTypeFor[analysis.PathRef](types.NativeTypeAlias("sentinel.Path"), tags),
			types.NativeTypeFor[analysis.Dest](types.NativeTypeAlias("sentinel.Dest"), tags),
		),
		cel.Variable(varCall, cel.ObjectType("sentinel.Call")),
		cel.Variable(varCommand, cel.StringType),
		cel.Variable(varCommands, cel.ListType(cel.ObjectType("sentinel.Command"))),
		cel.Variable(varPaths, cel.ListType(cel.ObjectType("sentinel.Path"))),
		cel.Variable(varDests, cel.ListType(cel.ObjectType("sentinel.Dest"))),
		cel.Variable(varFindings, cel.ListType(cel.StringType)),
		cel.Variable(varPrivileged, cel.BoolType),
		cel.Variable(varReadsEnv, cel.BoolType),
		cel.Variable(varUnresolved, cel.ListType(cel.StringType)),
		cel.Variable(varSession, cel.MapType(cel.StringType, cel.BoolType)),
		cel.Function("get",
			cel.Overload("get_map_key_default", []*cel.Type{cel.MapType(k, v), k, v}, v,
				cel.FunctionBinding(getOrDefault))),
		ext.Strings(),
		ext.Sets(),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(MaxWhenBytes),
		cel.ParserRecursionLimit(maxNesting),
		cel.ParserErrorRecoveryLimit(8),
		cel.ExpressionNodeLimit(maxNodes),
		cel.RegexProgramSizeLimit(maxRegexProgram),
	)
}

// getOrDefault implements get(map, key, default).
func getOrDefault(args ...ref.Val) ref.Val {
	if len(args) != 3 {
		return types.NoSuchOverloadErr()
	}
	m, ok := args[0].(traits.Mapper)
	if !ok {
		return types.MaybeNoSuchOverloadErr(args[0])
	}
	v, found := m.Find(args[1])
	if found {
		return v
	}
	if types.IsError(v) {
		return v
	}
	return args[2]
}

// activation resolves the variables of one call. It is built once per
// Check and shared by every rule. Each variable is converted to a CEL value
// on first use and kept, so rules that only look at commands never pay for
// the call view, and ten rules over commands convert the list once.
type activation struct {
	adapter types.Adapter
	call    *request.ToolCall
	an      *analysis.Analysis
	session map[string]bool

	view callView
	// vals caches the converted variables, indexed like varNames.
	vals [len(varNames)]ref.Val
}

// varNames lists the variables in the order of activation.vals.
var varNames = [...]string{varCall, varCommand, varCommands, varPaths, varDests,
	varFindings, varPrivileged, varReadsEnv, varUnresolved, varSession}

var _ interpreter.Activation = (*activation)(nil)

func newActivation(adapter types.Adapter, in *gate.Input) *activation {
	a := &activation{adapter: adapter, call: in.Call, an: in.Analysis, session: in.Session}
	if a.call == nil {
		a.call = &request.ToolCall{}
	}
	if a.an == nil {
		a.an = &analysis.Analysis{}
	}
	return a
}

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	i := 0
	for i < len(varNames) && varNames[i] != name {
		i++
	}
	if i == len(varNames) {
		return nil, false
	}
	if v := a.vals[i]; v != nil {
		return v, true
	}
	v := a.convert(name)
	a.vals[i] = v
	return v, true
}

func (a *activation) convert(name string) ref.Val {
	switch name {
	case varCall:
		a.buildView()
		return a.adapter.NativeToValue(&a.view)
	case varCommand:
		if a.call.Kind != request.KindExec {
			return types.String("")
		}
		return types.String(a.call.Command())
	case varCommands:
		return objectList(a.adapter, a.an.Commands)
	case varPaths:
		return objectList(a.adapter, a.an.Paths)
	case varDests:
		return objectList(a.adapter, a.an.Dests)
	case varFindings:
		codes := make([]string, len(a.an.Findings))
		for i, f := range a.an.Findings {
			codes[i] = f.Code
		}
		return types.NewStringList(a.adapter, codes)
	case varPrivileged:
		return types.Bool(a.an.Privileged)
	case varReadsEnv:
		return types.Bool(a.an.ReadsEnv)
	case varUnresolved:
		return types.NewStringList(a.adapter, a.an.Unresolved)
	case varSession:
		return a.adapter.NativeToValue(a.session)
	}
	return types.NewErr("unknown variable %s", name)
}

// objectList converts a list of analysis facts once, pointing at the
// caller's elements rather than copying them.
func objectList[T any](adapter types.Adapter, items []T) ref.Val {
	vals := make([]ref.Val, len(items))
	for i := range items {
		vals[i] = adapter.NativeToValue(&items[i])
	}
	return types.NewRefValList(adapter, vals)
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }

func (a *activation) buildView() {
	c := a.call
	a.view = callView{
		Tool: c.Tool, Kind: string(c.Kind), Args: withKindArgs(c.Kind, c.Args),
		Original: c.Original, Server: c.Server, Name: c.Name, Wrapped: c.Wrapped,
		Session: c.Session, Agent: c.Agent, Workspace: c.Workspace, Cwd: c.Cwd,
		Known: c.Known,
	}
}

// withKindArgs returns args holding every canonical key of the kind. It
// copies only when a key is missing; args itself is never modified, since
// gates share the call.
func withKindArgs(k request.Kind, args map[string]any) map[string]any {
	keys := kindArgs[k]
	missing := false
	for _, key := range keys {
		if _, ok := args[key]; !ok {
			missing = true
			break
		}
	}
	if !missing {
		return args
	}
	out := make(map[string]any, len(args)+len(keys))
	for key, v := range args {
		out[key] = v
	}
	for _, key := range keys {
		if _, ok := out[key]; !ok {
			out[key] = ""
		}
	}
	return out
}
