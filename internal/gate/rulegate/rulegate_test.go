package rulegate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/request"
)

// The four rules the package documentation shows.
const (
	whenForcePush = `commands.exists(c, c.name == "git" && "push" in c.args && ("--force" in c.args || "-f" in c.args))`
	whenPlainHTTP = `call.kind == "net.request" && call.args.url.startsWith("http://")`
	whenTerraform = `paths.exists(p, p.op == "write" && p.path.endsWith(".tf"))`
	whenNgrok     = `dests.exists(d, d.host.endsWith(".ngrok.io"))`
)

func rule(id, when string) Rule {
	return Rule{ID: id, When: when, Action: decision.Deny, Reason: "no " + id + "."}
}

func mustCompile(t testing.TB, rules ...Rule) *Gate {
	t.Helper()
	g, err := Compile(Config{Rules: rules})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return g
}

// execInput is what the kernel would build for a shell line, with the
// analysis filled by hand.
func execInput(cmd string, cmds ...analysis.Command) *gate.Input {
	return &gate.Input{
		Call: &request.ToolCall{Tool: "Bash", Kind: request.KindExec,
			Args: map[string]any{"command": cmd}, Original: map[string]any{"command": cmd}, Known: true},
		Analysis: &analysis.Analysis{Commands: cmds},
	}
}

func TestCompileReportsEveryProblem(t *testing.T) {
	cfg := Config{Rules: []Rule{
		rule("syntax", `call.kind == `),
		rule("not-bool", `command`),
		rule("undeclared", `true && cal.kind == "exec"`),
		rule("dup", `privileged`),
		rule("dup", `reads_env`),
		{ID: "no-reason", When: `privileged`, Action: decision.Deny},
		rule("Bad ID", `privileged`),
		{When: `privileged`, Action: decision.Deny, Reason: "x"},
		{ID: "allow", When: `privileged`, Action: decision.Allow, Reason: "x"},
		rule("typo", `commands.exists(c, c.nmae == "rm")`),
		rule("eval_error", `privileged`),
		rule("empty-when", ` `),
		{ID: "bad-example", When: `privileged`, Action: decision.Deny, Reason: "x", Match: []Example{{Tool: ""}}},
	}}
	g, err := Compile(cfg)
	if g != nil {
		t.Fatalf("Compile returned a gate despite errors")
	}
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("error is %T, want Problems: %v", err, err)
	}
	type row struct {
		Rule, Field  string
		Index        int
		Line, Column int
	}
	var got []row
	for _, p := range probs {
		got = append(got, row{p.Rule, p.Field, p.Index, p.Line, p.Column})
	}
	want := []row{
		{"syntax", "when", 0, 1, 14},
		{"not-bool", "when", 1, 0, 0},
		{"undeclared", "when", 2, 1, 9},
		{"dup", "id", 4, 0, 0},
		{"no-reason", "reason", 5, 0, 0},
		{"Bad ID", "id", 6, 0, 0},
		{"", "id", 7, 0, 0},
		{"allow", "action", 8, 0, 0},
		{"typo", "when", 9, 1, 21},
		{"eval_error", "id", 10, 0, 0},
		{"empty-when", "when", 11, 0, 0},
		{"bad-example", "match", 12, 0, 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s\nfull error:\n%v", diff, err)
	}

	msg := err.Error()
	for _, frag := range []string{
		`rule "syntax": when: ERROR: <input>:1:14: Syntax error`,
		`rule "not-bool": when: must be a boolean expression, this one is of type string`,
		`rule "undeclared": when: ERROR: <input>:1:9: undeclared reference to 'cal' (did you mean 'call'?)`,
		`rule "dup": id: rule #4 already uses this id`,
		`rule "no-reason": reason: is required`,
		`rule "Bad ID": id: "Bad ID" is not valid`,
		`rule #8: id: is required`,
		`rule "allow": action: must be notify, confirm or deny, got allow`,
		`rule "typo": when: ERROR: <input>:1:21: undefined field 'nmae'`,
		`rule "eval_error": id: "eval_error" is reserved`,
		`rule "empty-when": when: is required`,
		`rule "bad-example": match: example 1 has no tool`,
	} {
		if !strings.Contains(msg, frag) {
			t.Errorf("error does not contain %q; it is:\n%s", frag, msg)
		}
	}
}

func TestCompileLimits(t *testing.T) {
	long := "privileged" + strings.Repeat(" || privileged", MaxWhenBytes/14+1)
	deep := strings.Repeat("(", 200) + "true" + strings.Repeat(")", 200)
	for _, tc := range []struct{ name, when, want string }{
		{"too long", long, "bytes long, the limit is"},
		{"too deep", deep, "when: ERROR: expression recursion limit exceeded: 64"},
		{"huge regex", `command.matches("x{1000}y{1000}z{1000}")`, "regex program size 3002 exceeds limit of 2000"},
		{"bad regex", `command.matches("[")`, "error parsing regexp: missing closing ]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(Config{Rules: []Rule{rule("r", tc.when)}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDocumentedRules(t *testing.T) {
	g := mustCompile(t,
		rule("force-push", whenForcePush),
		rule("plain-http", whenPlainHTTP),
		rule("terraform", whenTerraform),
		rule("ngrok", whenNgrok),
	)
	net := func(url string) *gate.Input {
		return &gate.Input{Call: &request.ToolCall{Tool: "web_fetch", Kind: request.KindNetRequest,
			Args: map[string]any{"url": url}}, Analysis: &analysis.Analysis{}}
	}
	for _, tc := range []struct {
		name string
		in   *gate.Input
		want []string
	}{
		{"force push", execInput("git push -f origin main",
			analysis.Command{Name: "git", Args: []string{"push", "-f", "origin", "main"}}), []string{"force-push"}},
		{"force push under sudo in a list", execInput("cd x && sudo git push --force",
			analysis.Command{Name: "cd", Args: []string{"x"}},
			analysis.Command{Name: "git", Args: []string{"push", "--force"}, Privileged: true, Wrappers: []string{"sudo"}}),
			[]string{"force-push"}},
		{"plain push", execInput("git push origin main",
			analysis.Command{Name: "git", Args: []string{"push", "origin", "main"}}), nil},
		{"force without push", execInput("git -f status",
			analysis.Command{Name: "git", Args: []string{"status", "-f"}}), nil},
		{"http", net("http://example.com/a"), []string{"plain-http"}},
		{"https", net("https://example.com/a"), nil},
		{"net request without url", &gate.Input{Call: &request.ToolCall{Tool: "fetch", Kind: request.KindNetRequest,
			Args: map[string]any{}}}, nil},
		{"http in an exec is not a net.request", execInput("curl http://x.io"), nil},
		{"terraform write", &gate.Input{Call: &request.ToolCall{Tool: "Write", Kind: request.KindFileWrite,
			Args: map[string]any{"path": "infra/main.tf", "content": "x"}},
			Analysis: &analysis.Analysis{Paths: []analysis.PathRef{{Path: "infra/main.tf", Op: analysis.OpWrite}}}},
			[]string{"terraform"}},
		{"terraform read", &gate.Input{Call: &request.ToolCall{Tool: "Read", Kind: request.KindFileRead},
			Analysis: &analysis.Analysis{Paths: []analysis.PathRef{{Path: "infra/main.tf", Op: analysis.OpRead}}}},
			nil},
		{"ngrok and force push together", &gate.Input{
			Call: &request.ToolCall{Tool: "Bash", Kind: request.KindExec, Args: map[string]any{"command": "…"}},
			Analysis: &analysis.Analysis{
				Commands: []analysis.Command{{Name: "git", Args: []string{"push", "-f"}}},
				Dests:    []analysis.Dest{{Raw: "https://a1b2.ngrok.io/x", Scheme: "https", Host: "a1b2.ngrok.io", Sends: true}},
			}}, []string{"force-push", "ngrok"}},
		{"ngrok lookalike", &gate.Input{Call: &request.ToolCall{Kind: request.KindExec},
			Analysis: &analysis.Analysis{Dests: []analysis.Dest{{Host: "ngrok.io.evil.com"}}}}, nil},
		{"no call, no analysis", &gate.Input{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := g.Eval(tc.in)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("matched (-want +got):\n%s", diff)
			}
		})
	}
}

// TestVariables pins every variable and field the documentation promises.
func TestVariables(t *testing.T) {
	in := &gate.Input{
		Call: &request.ToolCall{
			Tool: "mcp__github__create_issue", Kind: request.KindMCP,
			Args:     map[string]any{"title": "x", "labels": []any{"bug"}, "n": 3.0},
			Original: map[string]any{"title": "x", "force": true},
			Server:   "github", Name: "create_issue", Wrapped: "tool_call",
			Session: "s1", Agent: "claude", Workspace: "/w", Cwd: "/w/sub", Known: true,
		},
		Analysis: &analysis.Analysis{
			Commands: []analysis.Command{{Name: "rm", Path: "/bin/rm", Args: []string{"-rf", "/"}, Privileged: true,
				Wrappers: []string{"sudo", "env"}, Depth: 1, Dynamic: true, Via: "bash -c"}},
			Paths: []analysis.PathRef{{Path: "/", Op: analysis.OpDelete, Recursive: true, Privileged: true,
				Dynamic: true, Command: "rm"}},
			Dests: []analysis.Dest{{Raw: "10.0.0.1:4444", Scheme: "tcp", Host: "10.0.0.1", Port: 4444,
				Sends: true, Listens: true, Data: "env", Command: "nc"}},
			Findings:   []analysis.Finding{{Code: "command.reverse_shell"}, {Code: "command.recursive_delete_root"}},
			Privileged: true, ReadsEnv: true, Unresolved: []string{"$X"},
		},
	}
	true_ := []string{
		`call.tool == "mcp__github__create_issue"`,
		`call.kind == "mcp"`,
		`call.args.title == "x" && "bug" in call.args.labels && call.args.n == 3`,
		`call.original.force == true`,
		`call.server == "github" && call.name == "create_issue" && call.wrapped == "tool_call"`,
		`call.session == "s1" && call.agent == "claude" && call.workspace == "/w" && call.cwd == "/w/sub"`,
		`call.known`,
		`command == ""`,
		`commands.exists(c, c.name == "rm" && c.path == "/bin/rm" && c.args == ["-rf", "/"] && c.privileged &&
			c.wrappers[0] == "sudo" && c.depth == 1 && c.dynamic && c.via == "bash -c")`,
		`paths.all(p, p.path == "/" && p.op == "delete" && p.recursive && p.privileged && p.dynamic && p.command == "rm")`,
		`dests.exists_one(d, d.raw == "10.0.0.1:4444" && d.scheme == "tcp" && d.host == "10.0.0.1" && d.port == 4444 &&
			d.sends && d.listens && d.data == "env" && d.command == "nc")`,
		`"command.reverse_shell" in findings && size(findings) == 2`,
		`privileged && reads_env && unresolved == ["$X"]`,
		`size(session) == 0 && !("untrusted_seen" in session)`,
		// Safe access to keys that may be absent.
		`!has(call.args.url) && has(call.original.force)`,
		`get(call.original, "force", false) == true && get(call.original, "missing", "d") == "d"`,
		`call.original.?missing.orValue(7) == 7`,
		`get(session, "untrusted_seen", false) == false`,
		// Extension libraries.
		`call.tool.split("__")[1].upperAscii() == "GITHUB"`,
		`sets.intersects(commands[0].args, ["-rf", "-fr"])`,
		`findings.filter(f, f.startsWith("command.")).size() == 2`,
		`commands[0].args.join(" ").matches("^-rf /$")`,
	}
	for _, when := range true_ {
		t.Run(when, func(t *testing.T) {
			g := mustCompile(t, rule("r", when))
			got, err := g.Eval(in)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if len(got) != 1 {
				t.Errorf("expression is false, want true")
			}
		})
	}
}

func TestKindArgsAlwaysPresent(t *testing.T) {
	for _, tc := range []struct {
		kind request.Kind
		when string
	}{
		{request.KindExec, `call.args.command == "" && call.args.cwd == "" && command == ""`},
		{request.KindFileRead, `call.args.path == ""`},
		{request.KindFileWrite, `call.args.path == "" && call.args.content == ""`},
		{request.KindFileDelete, `call.args.path == ""`},
		{request.KindNetRequest, `call.args.url == "" && call.args.method == "" && call.args.body == ""`},
		{request.KindDBQuery, `call.args.query == "" && call.args.dialect == ""`},
		{request.KindMCP, `size(call.args) == 0`},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			args := map[string]any{}
			in := &gate.Input{Call: &request.ToolCall{Tool: "t", Kind: tc.kind, Args: args}}
			got, err := mustCompile(t, rule("r", tc.when)).Eval(in)
			if err != nil || len(got) != 1 {
				t.Fatalf("got %v, %v; want a match", got, err)
			}
			if len(args) != 0 {
				t.Errorf("the call's args were modified: %v", args)
			}
		})
	}
}

func TestCheckReasons(t *testing.T) {
	g := mustCompile(t,
		Rule{ID: "no-force-push", When: whenForcePush, Action: decision.Deny,
			Reason: "Force pushes rewrite shared history.", Alternative: "git push --force-with-lease",
			Description: "protect main"},
		Rule{ID: "note-git", When: `commands.exists(c, c.name == "git")`, Action: decision.Notify, Reason: "git used."},
		Rule{ID: "ask-sudo", When: `privileged`, Action: decision.Confirm, Reason: "Runs as root."},
	)
	in := execInput("git push -f", analysis.Command{Name: "git", Args: []string{"push", "-f"}})
	v, err := g.Check(context.Background(), in)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	want := gate.Verdict{Action: decision.Deny, Reasons: []decision.Reason{
		{Gate: "rules", Code: "rules.no-force-push", Action: decision.Deny,
			Message:     "Force pushes rewrite shared history. Instead: git push --force-with-lease",
			Detail:      "rule no-force-push (protect main) matched: " + whenForcePush,
			Alternative: "git push --force-with-lease"},
		{Gate: "rules", Code: "rules.note-git", Action: decision.Notify, Message: "git used.",
			Detail: `rule note-git matched: commands.exists(c, c.name == "git")`},
	}}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}

	v, err = g.Check(context.Background(), execInput("ls", analysis.Command{Name: "ls"}))
	if err != nil || v.Action != decision.Allow || len(v.Reasons) != 0 {
		t.Errorf("ls: got %+v, %v; want allow with no reasons", v, err)
	}
	if g.Name() != "rules" {
		t.Errorf("Name() = %q", g.Name())
	}
}

func TestEvalErrorDenies(t *testing.T) {
	g := mustCompile(t,
		Rule{ID: "reads-missing", When: `call.original.force == true`, Action: decision.Notify, Reason: "x"},
		Rule{ID: "wrong-type", When: `call.args.command.startsWith("x") || call.original.n.startsWith("x")`, Action: decision.Notify, Reason: "x"},
		Rule{ID: "fine", When: `command == "ls"`, Action: decision.Notify, Reason: "ls."},
	)
	in := execInput("ls")
	in.Call.Original = map[string]any{"n": 1.0}
	v, err := g.Check(context.Background(), in)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if v.Action != decision.Deny {
		t.Errorf("action = %v, want deny", v.Action)
	}
	var codes, details []string
	for _, r := range v.Reasons {
		codes = append(codes, r.Code)
		details = append(details, r.Detail)
	}
	if diff := cmp.Diff([]string{"rules.eval_error", "rules.eval_error", "rules.fine"}, codes); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	for i, want := range []string{"rule reads-missing: no such key: force", "rule wrong-type: no such overload"} {
		if !strings.HasPrefix(details[i], want) {
			t.Errorf("detail %d = %q, want prefix %q", i, details[i], want)
		}
		if v.Reasons[i].Action != decision.Deny || !strings.Contains(v.Reasons[i].Message, "could not be evaluated") {
			t.Errorf("reason %d = %+v", i, v.Reasons[i])
		}
	}

	matched, err := g.Eval(in)
	if diff := cmp.Diff([]string{"fine"}, matched); diff != "" {
		t.Errorf("Eval matched (-want +got):\n%s", diff)
	}
	if err == nil || !strings.Contains(err.Error(), `rule "reads-missing"`) || !strings.Contains(err.Error(), `rule "wrong-type"`) {
		t.Errorf("Eval error = %v, want both failing rules named", err)
	}
}

func TestCostLimit(t *testing.T) {
	// Three nested comprehensions over 100 unresolved items: a million
	// steps, far beyond the default limit.
	const when = `unresolved.exists(a, unresolved.exists(b, unresolved.exists(c, a + b + c == "never")))`
	in := execInput("x")
	for i := range 100 {
		in.Analysis.Unresolved = append(in.Analysis.Unresolved, fmt.Sprint(i))
	}

	t.Run("default", func(t *testing.T) {
		g := mustCompile(t, rule("expensive", when))
		v, err := g.Check(context.Background(), in)
		if err != nil {
			t.Fatalf("Check: %v", err)
		}
		if len(v.Reasons) != 1 || v.Reasons[0].Code != CodeEvalError || v.Action != decision.Deny ||
			!strings.Contains(v.Reasons[0].Detail, "cost limit exceeded") {
			t.Errorf("verdict = %+v, want one eval_error deny for the cost limit", v)
		}
	})
	t.Run("raised", func(t *testing.T) {
		g, err := Compile(Config{Rules: []Rule{rule("expensive", when)}, CostLimit: 100_000_000})
		if err != nil {
			t.Fatal(err)
		}
		in.Analysis.Unresolved = in.Analysis.Unresolved[:10]
		got, err := g.Eval(in)
		if err != nil || len(got) != 0 {
			t.Errorf("got %v, %v; want no match and no error under a raised limit", got, err)
		}
	})
	t.Run("small input stays under the default", func(t *testing.T) {
		in.Analysis.Unresolved = in.Analysis.Unresolved[:10]
		got, err := mustCompile(t, rule("expensive", when)).Eval(in)
		if err != nil || len(got) != 0 {
			t.Errorf("got %v, %v", got, err)
		}
	})
}

func TestCheckHonoursContext(t *testing.T) {
	// Under a limit too high to stop them, both paths must still stop at
	// the deadline: 300 items do not fit any bound, so the first is
	// counted; 64 items do, so the second runs uncounted.
	for _, tc := range []struct {
		name  string
		items int
		when  string
		fast  bool
	}{
		{"counted", 300, `unresolved.exists(a, unresolved.exists(b, unresolved.exists(c, a + b + c == "never")))`, false},
		{"uncounted", 64, `unresolved.exists(a, unresolved.exists(b, unresolved.exists(c, unresolved.exists(d, a + b + c + d == "never"))))`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := execInput("x")
			for i := range tc.items {
				in.Analysis.Unresolved = append(in.Analysis.Unresolved, fmt.Sprint(i))
			}
			g, err := Compile(Config{Rules: []Rule{rule("slow", tc.when)}, CostLimit: 1 << 62})
			if err != nil {
				t.Fatal(err)
			}
			if got := g.fast != nil && fits(g.bound, in); got != tc.fast {
				t.Fatalf("fast path = %v, want %v", got, tc.fast)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = g.Check(ctx, in)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want the deadline", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Check took %v after its deadline", d)
			}
		})
	}
	g := mustCompile(t, rule("r", "privileged"))
	if _, err := g.Check(context.Background(), nil); err == nil {
		t.Errorf("nil input: want an error")
	}
}

// buildExample turns an example into an input the way the kernel would,
// with a toy analysis: words of the command line become one command per
// "&&"-separated part.
func buildExample(ex Example) (*gate.Input, error) {
	c, err := request.Normalize(request.Raw{Tool: ex.Tool, Args: ex.Args}, nil)
	if err != nil {
		return nil, err
	}
	an := &analysis.Analysis{}
	if c.Kind == request.KindExec {
		for _, part := range strings.Split(c.Command(), "&&") {
			f := strings.Fields(part)
			if len(f) == 0 {
				continue
			}
			an.Commands = append(an.Commands, analysis.Command{Name: f[0], Args: f[1:]})
		}
	}
	if p := c.Path(); p != "" {
		op := analysis.OpRead
		if c.Kind == request.KindFileWrite {
			op = analysis.OpWrite
		}
		an.Paths = append(an.Paths, analysis.PathRef{Path: p, Op: op})
	}
	return &gate.Input{Call: &c, Analysis: an}, nil
}

func TestCheckExamples(t *testing.T) {
	good := Rule{ID: "no-force-push", When: whenForcePush, Action: decision.Deny, Reason: "x",
		Match: []Example{
			{Tool: "exec", Args: map[string]any{"command": "git push -f"}},
			{Tool: "Bash", Args: map[string]any{"command": "cd x && git push --force origin"}},
		},
		NotMatch: []Example{
			{Tool: "exec", Args: map[string]any{"command": "git push"}},
			{Tool: "read_file", Args: map[string]any{"path": "git push -f"}},
		},
	}
	g := mustCompile(t, good, Rule{ID: "tf", When: whenTerraform, Action: decision.Confirm, Reason: "x",
		Match:    []Example{{Tool: "write_file", Args: map[string]any{"path": "a.tf", "content": ""}}},
		NotMatch: []Example{{Tool: "read_file", Args: map[string]any{"path": "a.tf"}}}})
	if err := g.CheckExamples(buildExample); err != nil {
		t.Fatalf("CheckExamples on correct rules: %v", err)
	}

	bad := good
	bad.ID = "no-force-push"
	bad.When = `commands.exists(c, c.name == "git" && "--force" in c.args)`
	bad.Match = append(bad.Match, Example{Tool: "exec", Args: map[string]any{"command": "git push -f"}})
	bad.NotMatch = append(bad.NotMatch,
		Example{Tool: "exec", Args: map[string]any{"command": "git fetch --force"}},
		Example{Tool: "tool_call", Args: map[string]any{}})
	g = mustCompile(t, bad, Rule{ID: "missing-key", When: `call.original.x == 1`, Action: decision.Deny, Reason: "x",
		Match: []Example{{Tool: "exec"}}})
	err := g.CheckExamples(buildExample)
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want Problems", err)
	}
	var got []string
	for _, p := range probs {
		got = append(got, p.Error())
	}
	want := []string{
		`rule "no-force-push": match example 1 (exec {"command":"git push -f"}) did not match`,
		`rule "no-force-push": match example 3 (exec {"command":"git push -f"}) did not match`,
		`rule "no-force-push": not_match example 3 (exec {"command":"git fetch --force"}) matched`,
		`rule "no-force-push": not_match example 4 (tool_call {}) could not be built: bad argument: tool_call needs the inner tool's name in "id"`,
		`rule "missing-key": match example 1 (exec {}) could not be evaluated: no such key: x`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if probs[0].Field != "match" || probs[2].Field != "not_match" || probs[4].Index != 1 {
		t.Errorf("problem fields: %+v", probs)
	}
}

func TestRulesIsACopy(t *testing.T) {
	r := Rule{ID: "a", When: "privileged", Action: decision.Confirm, Reason: "root.",
		Match: []Example{{Tool: "exec", Args: map[string]any{"command": "sudo ls"}}}}
	g := mustCompile(t, r, rule("b", "reads_env"))
	got := g.Rules()
	if diff := cmp.Diff([]Rule{r, rule("b", "reads_env")}, got); diff != "" {
		t.Errorf("Rules (-want +got):\n%s", diff)
	}
	got[0].ID = "changed"
	if g.Rules()[0].ID != "a" {
		t.Errorf("Rules() exposes the gate's own slice")
	}
}

func TestConcurrentCheck(t *testing.T) {
	g := mustCompile(t, benchRules()...)
	in := benchInput()
	want, err := g.Check(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan gate.Verdict)
	for range 8 {
		go func() {
			var last gate.Verdict
			for range 200 {
				last, _ = g.Check(context.Background(), in)
			}
			done <- last
		}()
	}
	for range 8 {
		if diff := cmp.Diff(want, <-done); diff != "" {
			t.Errorf("concurrent verdict differs:\n%s", diff)
		}
	}
}

// benchRules are ten rules of the kinds users write.
func benchRules() []Rule {
	return []Rule{
		rule("force-push", whenForcePush),
		rule("plain-http", whenPlainHTTP),
		rule("terraform", whenTerraform),
		rule("ngrok", whenNgrok),
		rule("curl-pipe-sh", `commands.exists(c, c.name in ["sh", "bash"] && c.via == "pipe") && commands.exists(c, c.name == "curl")`),
		rule("root-rm", `commands.exists(c, c.name == "rm" && c.privileged)`),
		rule("kubectl-prod", `command.contains("kubectl") && command.contains("--context=prod")`),
		rule("reverse-shell", `"command.reverse_shell" in findings`),
		rule("env-exfil", `reads_env && dests.exists(d, d.sends)`),
		rule("dotenv", `paths.exists(p, p.path.matches("(^|/)\\.env(\\.|$)"))`),
	}
}

// benchInput is a typical exec call: a build-and-test line.
func benchInput() *gate.Input {
	return &gate.Input{
		Call: &request.ToolCall{Tool: "Bash", Kind: request.KindExec,
			Args:     map[string]any{"command": "cd app && go test ./... | tee out.txt"},
			Original: map[string]any{"command": "cd app && go test ./... | tee out.txt", "description": "run tests"},
			Known:    true},
		Analysis: &analysis.Analysis{
			Commands: []analysis.Command{
				{Name: "cd", Args: []string{"app"}},
				{Name: "go", Args: []string{"test", "./..."}},
				{Name: "tee", Args: []string{"out.txt"}},
			},
			Paths: []analysis.PathRef{
				{Path: "app", Op: analysis.OpList, Command: "cd"},
				{Path: "out.txt", Op: analysis.OpWrite, Command: "tee"},
			},
		},
	}
}

// BenchmarkCheck runs ten rules over a typical exec call: jointly without
// cost counting (what Check does for such a call), jointly with counting
// (what it does for a large input), and one rule at a time (the fallback).
func BenchmarkCheck(b *testing.B) {
	in := benchInput()
	ctx := context.Background()
	for _, mode := range []string{"uncounted", "counted", "one-by-one"} {
		b.Run(mode, func(b *testing.B) {
			g := mustCompile(b, benchRules()...)
			if g.fast == nil || !fits(g.bound, in) {
				b.Fatalf("the bench input does not take the fast path")
			}
			switch mode {
			case "counted":
				g.fast = nil
			case "one-by-one":
				g.fast, g.all = nil, nil
			}
			b.ReportAllocs()
			for b.Loop() {
				v, err := g.Check(ctx, in)
				if err != nil || len(v.Reasons) != 0 {
					b.Fatalf("Check: %+v, %v", v, err)
				}
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	rules := benchRules()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(Config{Rules: rules}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestJointProgramMatchesRulesAlone(t *testing.T) {
	rules := []Rule{
		rule("comment", "privileged // a trailing comment must not swallow the rest"),
		rule("multi-line", "commands.exists(c,\n  c.name == \"git\")"),
		rule("never", `!privileged`),
		rule("force-push", whenForcePush),
	}
	in := execInput("sudo git push -f", analysis.Command{Name: "git", Args: []string{"push", "-f"}, Privileged: true})
	in.Analysis.Privileged = true
	want := []string{"comment", "multi-line", "force-push"}

	g := mustCompile(t, rules...)
	if g.all == nil {
		t.Fatalf("the joint program was not built")
	}
	got, err := g.Eval(in)
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("joint: got %v, %v; want %v", got, err, want)
	}

	// The rules cost 1, 9, 2 and 21 units: together they exceed a limit of 25 that
	// each stays within, so the joint evaluation fails and the rules are
	// judged one by one, with the same answer and no eval error.
	g, err = Compile(Config{Rules: rules, CostLimit: 25})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range g.rules {
		if _, err := r.eval(context.Background(), newActivation(g.adapter, in)); err != nil {
			t.Fatalf("rule %s alone: %v", r.rule.ID, err)
		}
	}
	if _, _, err := g.all.Eval(newActivation(g.adapter, in)); err == nil {
		t.Fatalf("the joint program stayed within the limit; the test needs it to exceed it")
	}
	got, err = g.Eval(in)
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("one by one: got %v, %v; want %v", got, err, want)
	}
}

// TestEmptyInput: a call without analysis (or without anything) reads as
// empty values, not as errors, on both evaluation paths.
func TestEmptyInput(t *testing.T) {
	g := mustCompile(t, rule("empty", `size(call.args) == 0 && size(call.original) == 0 && call.tool == "" &&
		command == "" && size(commands) == 0 && size(paths) == 0 && size(dests) == 0 && size(findings) == 0 &&
		!privileged && !reads_env && size(unresolved) == 0 && size(session) == 0`))
	for _, counted := range []bool{false, true} {
		if counted {
			g.fast = nil
		}
		got, err := g.Eval(&gate.Input{})
		if err != nil || !cmp.Equal([]string{"empty"}, got) {
			t.Errorf("counted=%v: got %v, %v", counted, got, err)
		}
	}
}

// TestReadsSession: a rule naming the session variable makes the gate
// read the session's flags; the call's session id does not.
func TestReadsSession(t *testing.T) {
	for _, tc := range []struct {
		when string
		want bool
	}{
		{`get(session, "untrusted", false) && call.kind == "exec"`, true},
		{`session.sensitive`, true},
		{`call.session == "s1"`, false},
		{`call.kind == "exec" && call.args.command.contains("session")`, false},
	} {
		if got := mustCompile(t, rule("r", tc.when)).ReadsSession(); got != tc.want {
			t.Errorf("%s: ReadsSession = %v, want %v", tc.when, got, tc.want)
		}
	}
	if (*Gate)(nil).ReadsSession() {
		t.Error("a nil gate reads the session")
	}
}
