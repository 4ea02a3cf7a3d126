package rulegate

import (
	"context"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"cel.dev/cel-go/cel"
	"github.com/google/go-cmp/cmp"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// soundnessRules are expressions of the shapes users write, over every
// variable, including string functions whose cost grows with the input.
var soundnessRules = []string{
	whenForcePush, whenPlainHTTP, whenTerraform, whenNgrok,
	`command.contains("kubectl") && command.contains("--context=prod")`,
	`command.lowerAscii().matches("curl[^|]*\\|\\s*(ba)?sh")`,
	`command.split(" ").exists(w, w == "--force")`,
	`commands.map(c, c.name).join(",").contains("rm,")`,
	`commands.exists(c, c.args.exists(a, a.matches("^-[a-z]*f")))`,
	`commands.exists(c, c.wrappers.exists(w, w == "sudo") && c.depth > 0 && c.via.startsWith("bash"))`,
	`paths.filter(p, p.op == "write" && !p.dynamic).size() > 2`,
	`paths.exists(p, p.path.matches("(^|/)\\.env(\\.|$)"))`,
	`dests.all(d, d.port < 1024 && !d.listens) && dests.exists(d, d.sends && d.data.startsWith("file:"))`,
	`"command.reverse_shell" in findings || unresolved.exists(u, u.contains("$("))`,
	`call.args.command.endsWith(call.args.cwd) || call.tool.upperAscii() == "BASH"`,
	`size(call.original) > 3 && "a" in call.original`,
	`call.original.?a.orValue("") == "y" || get(call.original, "b", "") == "y"`,
	`privileged && reads_env && get(session, "untrusted_seen", false)`,
	`commands.exists(c, c.args.exists(a, paths.exists(p, p.path == a)))`,
}

// TestFastPathSound checks the premise of the uncounted path: on inputs
// within a bound, no rule costs more than its static estimate for that
// bound, and the uncounted answer is the counted one. The property does not
// depend on the bound, so small bounds keep the inputs (filled to the
// bound) quick to build.
func TestFastPathSound(t *testing.T) {
	env := mustEnv(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, when := range soundnessRules {
		t.Run(when, func(t *testing.T) {
			g := mustCompile(t, rule("r", when))
			joint, all := jointAST(env, []Rule{rule("r", when)})
			fast := jointProgram(all, joint)
			for _, b := range []bound{{items: 4, bytes: 16}, {items: 9, bytes: 100}} {
				est := estimate(t, when, b)
				for i := range 100 {
					in := randomInput(rng, b, i%4 == 0)
					if !fits(b, in) {
						t.Fatalf("generated input does not fit %+v", b)
					}
					act := newActivation(g.adapter, in)
					want, cost, err := evalCounted(g.rules[0].prg, act)
					if cost > est {
						t.Fatalf("cost %d exceeds the estimate %d under %+v", cost, est, b)
					}
					out, _, ferr := fast.Eval(act)
					if (err != nil) != (ferr != nil) {
						t.Fatalf("counted error %v, uncounted error %v", err, ferr)
					}
					var res [1]outcome
					if err == nil && (!g.fill(res[:], out) || res[0].matched != want) {
						t.Fatalf("uncounted %v, counted %v", out, want)
					}
				}
			}
		})
	}
}

func mustEnv(t testing.TB) *cel.Env {
	t.Helper()
	env, err := newEnv()
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// randomInput fills an exec call up to b; full makes every list and string
// as large as b allows.
func randomInput(rng *rand.Rand, b bound, full bool) *gate.Input {
	count := func(n uint64) int {
		if full {
			return int(n)
		}
		return rng.IntN(int(n) + 1)
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyz-_./$( |=,"
	str := func() string {
		var sb strings.Builder
		for range count(b.bytes) {
			sb.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		return sb.String()
	}
	strs := func() []string {
		out := make([]string, count(b.items))
		for i := range out {
			out[i] = str()
		}
		return out
	}
	original := map[string]any{"a": str(), "b": []any{str(), 1.0, true}, "c": map[string]any{"d": str()}}
	for i := range count(b.items - 3) {
		original[string(rune('e'+i%20))+str()[:0]+strings.Repeat("k", i)] = str()
	}
	an := &analysis.Analysis{Privileged: rng.IntN(2) == 0, ReadsEnv: rng.IntN(2) == 0, Unresolved: strs()}
	for range count(b.items) {
		an.Commands = append(an.Commands, analysis.Command{Name: str(), Path: str(), Args: strs(),
			Privileged: rng.IntN(2) == 0, Wrappers: strs(), Depth: rng.IntN(4), Via: str()})
	}
	for range count(b.items) {
		an.Paths = append(an.Paths, analysis.PathRef{Path: str(), Op: analysis.OpWrite, Command: str()})
	}
	for range count(b.items) {
		an.Dests = append(an.Dests, analysis.Dest{Raw: str(), Scheme: "https", Host: str(), Port: rng.IntN(65536),
			Sends: rng.IntN(2) == 0, Data: str(), Command: str()})
	}
	for range count(b.items) {
		an.Findings = append(an.Findings, analysis.Finding{Code: str()})
	}
	return &gate.Input{
		Call: &request.ToolCall{Tool: "Bash", Kind: request.KindExec, Args: map[string]any{"command": str()},
			Original: original, Session: str(), Agent: str(), Workspace: str(), Cwd: str()},
		Analysis: an,
	}
}

// TestFitsCoversEveryField makes every string, list and map the rules can
// read one too large, one at a time, and expects fits to notice. A field
// added to the analysis or the call fails here until fits checks it.
func TestFitsCoversEveryField(t *testing.T) {
	b := bound{items: 4, bytes: 8}
	long := strings.Repeat("x", 9)
	// Fields the rules cannot read.
	hidden := map[string]bool{
		"Analysis.ParseError": true, "Finding.Action": true, "Finding.Message": true,
		"Finding.Detail": true, "Finding.Risk": true, "ToolCall.Known": true,
	}

	base := func() *gate.Input {
		return &gate.Input{
			Call: &request.ToolCall{Tool: "t", Kind: request.KindMCP, Args: map[string]any{}, Original: map[string]any{}},
			Analysis: &analysis.Analysis{
				Commands: []analysis.Command{{}}, Paths: []analysis.PathRef{{}},
				Dests: []analysis.Dest{{}}, Findings: []analysis.Finding{{}},
			},
		}
	}
	if !fits(b, base()) {
		t.Fatalf("the small input does not fit")
	}

	// oversize makes the value v (a field) too large; it reports false for
	// kinds that carry no size.
	oversize := func(v reflect.Value) bool {
		switch v.Kind() {
		case reflect.String:
			v.SetString(long)
		case reflect.Slice:
			n := reflect.MakeSlice(v.Type(), int(b.items)+1, int(b.items)+1)
			if v.Type().Elem().Kind() == reflect.String {
				for i := range n.Len() {
					n.Index(i).SetString("s")
				}
			}
			v.Set(n)
		case reflect.Map:
			m := reflect.MakeMap(v.Type())
			for i := range int(b.items) + 1 {
				m.SetMapIndex(reflect.ValueOf(strings.Repeat("k", i+1)), reflect.ValueOf(any("v")))
			}
			v.Set(m)
		default:
			return false
		}
		return true
	}

	type target struct {
		name string
		get  func(in *gate.Input) reflect.Value // the struct whose fields are oversized
	}
	for _, tg := range []target{
		{"ToolCall", func(in *gate.Input) reflect.Value { return reflect.ValueOf(in.Call).Elem() }},
		{"Analysis", func(in *gate.Input) reflect.Value { return reflect.ValueOf(in.Analysis).Elem() }},
		{"Command", func(in *gate.Input) reflect.Value { return reflect.ValueOf(&in.Analysis.Commands[0]).Elem() }},
		{"PathRef", func(in *gate.Input) reflect.Value { return reflect.ValueOf(&in.Analysis.Paths[0]).Elem() }},
		{"Dest", func(in *gate.Input) reflect.Value { return reflect.ValueOf(&in.Analysis.Dests[0]).Elem() }},
		{"Finding", func(in *gate.Input) reflect.Value { return reflect.ValueOf(&in.Analysis.Findings[0]).Elem() }},
	} {
		typ := tg.get(base()).Type()
		for i := range typ.NumField() {
			name := tg.name + "." + typ.Field(i).Name
			if hidden[name] {
				continue
			}
			in := base()
			if !oversize(tg.get(in).Field(i)) {
				continue
			}
			if fits(b, in) {
				t.Errorf("%s is too large but fits does not notice", name)
			}
		}
	}

	// Argument values nest.
	for name, v := range map[string]any{
		"nested string": map[string]any{"a": []any{map[string]any{"b": long}}},
		"long key":      map[string]any{long: 1.0},
		"deep":          deepValue(maxValueDepth + 2),
		"unknown type":  struct{}{},
	} {
		in := base()
		in.Call.Original["v"] = v
		if fits(b, in) {
			t.Errorf("%s: fits", name)
		}
	}
}

func deepValue(depth int) any {
	var v any = "x"
	for range depth {
		v = []any{v}
	}
	return v
}

// TestLargeInputCounted checks that an input beyond the bound takes the
// counted path and gets the same answer.
func TestLargeInputCounted(t *testing.T) {
	g := mustCompile(t, benchRules()...)
	if g.fast == nil {
		t.Fatal("no fast path for the bench rules")
	}
	in := execInput("git push -f "+strings.Repeat("x", int(g.bound.bytes)),
		analysis.Command{Name: "git", Args: []string{"push", "-f", strings.Repeat("x", int(g.bound.bytes))}})
	if fits(g.bound, in) {
		t.Fatal("the large input fits")
	}
	got, err := g.Eval(in)
	if err != nil || !cmp.Equal([]string{"force-push"}, got) {
		t.Errorf("got %v, %v", got, err)
	}

	// A rule that no tier keeps within the limit disables the fast path.
	g = mustCompile(t, append(benchRules(), Rule{ID: "cubic", Action: decision.Deny, Reason: "x",
		When: `unresolved.exists(a, unresolved.exists(b, unresolved.exists(c, a + b + c == "x")))`})...)
	if g.fast != nil {
		t.Errorf("fast path enabled with a rule of cubic cost")
	}
	v, err := g.Check(context.Background(), benchInput())
	if err != nil || len(v.Reasons) != 0 {
		t.Errorf("got %+v, %v", v, err)
	}
}
