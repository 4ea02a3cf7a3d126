package pathgate

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/request"
)

func mustCompile(t testing.TB, cfg Config) *Gate {
	t.Helper()
	g, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// fileInput builds a file call the way the kernel does: one PathRef per
// path with the operation of the kind.
func fileInput(env gate.Env, kind request.Kind, tool string, paths ...string) *gate.Input {
	op := map[request.Kind]analysis.Op{request.KindFileRead: analysis.OpRead, request.KindFileWrite: analysis.OpWrite, request.KindFileDelete: analysis.OpDelete}[kind]
	c := &request.ToolCall{Tool: tool, Kind: kind, Args: map[string]any{request.ArgPath: paths[0]}}
	if len(paths) > 1 {
		c.Args[request.ArgPaths] = paths[1:]
	}
	a := &analysis.Analysis{}
	for _, p := range paths {
		a.Paths = append(a.Paths, analysis.PathRef{Path: p, Op: op, Command: tool})
	}
	return &gate.Input{Call: c, Analysis: a, Env: env, Trace: true}
}

func execInput(env gate.Env, refs ...analysis.PathRef) *gate.Input {
	c := &request.ToolCall{Tool: "Bash", Kind: request.KindExec, Args: map[string]any{request.ArgCommand: "…"}}
	return &gate.Input{Call: c, Analysis: &analysis.Analysis{Paths: refs}, Env: env, Trace: true}
}

func codes(v gate.Verdict) []string {
	var out []string
	for _, r := range v.Reasons {
		if !slices.Contains(out, r.Code) {
			out = append(out, r.Code)
		}
	}
	slices.Sort(out)
	return out
}

func TestCheck(t *testing.T) {
	w := newWorld(t)
	g := mustCompile(t, Default())
	env := w.env
	up := strings.Repeat("../", strings.Count(w.ws, "/"))
	read := func(p string) *gate.Input { return fileInput(env, request.KindFileRead, "read_file", p) }
	write := func(p string) *gate.Input { return fileInput(env, request.KindFileWrite, "write_file", p) }
	del := func(p string) *gate.Input { return fileInput(env, request.KindFileDelete, "delete_file", p) }
	sh := func(refs ...analysis.PathRef) *gate.Input { return execInput(env, refs...) }
	// The test world lives under the temporary directory, which is in the
	// write scope; calls about "outside" use a home that is not.
	away := gate.Env{Workspace: w.ws, Home: "/home/sentinel-test", Cwd: w.ws}
	awayWrite := func(p string) *gate.Input { return fileInput(away, request.KindFileWrite, "write_file", p) }
	awaySh := func(refs ...analysis.PathRef) *gate.Input { return execInput(away, refs...) }
	ref := func(p string, op analysis.Op) analysis.PathRef { return analysis.PathRef{Path: p, Op: op} }

	tests := []struct {
		name       string
		in         *gate.Input
		wantAction decision.Action
		wantCodes  []string
	}{
		// Reads.
		{"read source", read("src/main.go"), decision.Allow, nil},
		{"read /etc/passwd", read("/etc/passwd"), decision.Allow, nil},
		{"read /usr/include", read("/usr/include/stdio.h"), decision.Allow, nil},
		{"read /etc/shadow", read("/etc/shadow"), decision.Deny, []string{CodeSensitive}},
		{"read .env", read(".env"), decision.Deny, []string{CodeSensitive}},
		{"read nested .env.local", read("config/.env.local"), decision.Deny, []string{CodeSensitive}},
		{"read .env.example", read("app/.env.example"), decision.Allow, nil},
		{"read .env.example linked to .env", read(".env.example"), decision.Deny, []string{CodeSensitive}},
		{"read .env.template", read("app/.env.template"), decision.Allow, nil},
		{"read .ENV in capitals", read(".ENV"), decision.Deny, []string{CodeSensitive}},
		{"read key by tilde", read("~/.ssh/id_rsa"), decision.Deny, []string{CodeSensitive}},
		{"read key by $HOME", read("$HOME/.ssh/id_rsa"), decision.Deny, []string{CodeSensitive}},
		{"read public key", read("~/.ssh/id_rsa.pub"), decision.Allow, nil},
		{"read known_hosts", read("~/.ssh/known_hosts"), decision.Allow, nil},
		{"read aws credentials", read("~/.aws/credentials"), decision.Deny, []string{CodeSensitive}},
		{"read pem in workspace", read("certs/server.pem"), decision.Deny, []string{CodeSensitive}},
		{"read certificate pem", read("certs/server-cert.pem"), decision.Allow, nil},
		{"read fullchain pem", read("/etc/letsencrypt/live/x/fullchain.pem"), decision.Allow, nil},
		{"read letsencrypt key", read("/etc/letsencrypt/live/x/privkey.pem"), decision.Deny, []string{CodeSensitive}},
		{"read system CA bundle", read("/etc/ssl/certs/ISRG_Root_X1.pem"), decision.Allow, nil},
		{"read TLS key", read("/etc/ssl/private/server.key"), decision.Deny, []string{CodeSensitive}},
		{"read git config", read(".git/config"), decision.Deny, []string{CodeSensitive}},
		{"read git hook", read(".git/hooks/pre-commit"), decision.Allow, nil},
		{"read sentinel data", read("~/.sentinel/audit.db"), decision.Deny, []string{CodeSensitive}},
		{"read proc environ", read("/proc/self/environ"), decision.Deny, []string{CodeSensitive}},
		{"read shadow through proc root", read("/proc/1/root/etc/shadow"), decision.Deny, []string{CodeSensitive}},
		{"read key through workspace link", read("notes.txt"), decision.Deny, []string{CodeSensitive}},
		{"read /etc through workspace link", read("etc/hosts"), decision.Allow, nil},
		{"read shadow through workspace link", read("etc/shadow"), decision.Deny, []string{CodeSensitive}},
		{"read root's history", read("/root/.bash_history"), decision.Deny, []string{CodeSensitive}},
		{"write into root's home", write("/root/test.out"), decision.Confirm, []string{CodeSystem}},
		{"write root's ssh keys", write("/root/.ssh/authorized_keys"), decision.Deny, []string{CodeSensitive, CodeSystem}},
		{"read outside workspace", read(w.outside + "/file"), decision.Allow, nil},

		// Writes and deletes.
		{"write source", write("src/new.go"), decision.Allow, nil},
		{"write /tmp", write("/tmp/x"), decision.Allow, nil},
		{"write /var/tmp", write("/var/tmp/x"), decision.Allow, nil},
		{"write /dev/null", sh(ref("/dev/null", analysis.OpWrite)), decision.Allow, nil},
		{"write home file", awayWrite("~/notes.txt"), decision.Confirm, []string{CodeOutsideWorkspace}},
		{"write escape to /etc", write(up + "etc/passwd"), decision.Confirm, []string{CodePersistence, CodeSystem}},
		{"write /etc/hosts", write("/etc/hosts"), decision.Confirm, []string{CodePersistence, CodeSystem}},
		{"write through link to /etc", write("etc/hosts"), decision.Deny, []string{CodePersistence, CodeSymlinkEscape}},
		{"write through link staying inside", write("inner/new.go"), decision.Allow, nil},
		{"write .env", write(".env"), decision.Deny, []string{CodeSensitive}},
		{"write .env.example", write("app/.env.example"), decision.Allow, nil},
		{"write .env through an example link", write(".env.example"), decision.Deny, []string{CodeSensitive}},
		{"write git hook", write(".git/hooks/pre-commit"), decision.Deny, []string{CodeSensitive}},
		{"write authorized_keys", awayWrite("~/.ssh/authorized_keys"), decision.Deny, []string{CodeOutsideWorkspace, CodeSensitive}},
		{"overwrite package.json", write("package.json"), decision.Deny, []string{CodeProtected}},
		{"create package.json", write("src/package.json"), decision.Allow, nil},
		{"edit package.json", fileInput(env, request.KindFileWrite, "Edit", "package.json"), decision.Notify, []string{CodeProtected}},
		{"delete package.json", del("package.json"), decision.Deny, []string{CodeProtected}},
		{"delete source", del("src/main.go"), decision.Allow, nil},
		{"delete outside", fileInput(away, request.KindFileDelete, "rm", "/home/sentinel-test/x"), decision.Confirm, []string{CodeOutsideWorkspace}},
		// The test workspace lives under /tmp, so deleting /tmp deletes it.
		{"delete /tmp itself", awaySh(analysis.PathRef{Path: "/tmp", Op: analysis.OpDelete, Recursive: true}), decision.Deny, []string{CodeOutsideWorkspace, CodeWorkspaceRoot}},
		{"delete the workspace by name", sh(analysis.PathRef{Path: w.ws, Op: analysis.OpDelete, Recursive: true}), decision.Deny, []string{CodeWorkspaceRoot}},
		// "." names the workspace's contents (git clean, rm refuses "."):
		// not a delete of the workspace itself.
		{"clean the workspace's contents", sh(analysis.PathRef{Path: ".", Op: analysis.OpDelete, Recursive: true}), decision.Allow, nil},
		{"write a shell start-up file", awayWrite("~/.bashrc"), decision.Confirm, []string{CodeOutsideWorkspace, CodePersistence}},
		{"write a systemd unit", awayWrite("/etc/systemd/system/x.service"), decision.Confirm, []string{CodePersistence, CodeSystem}},
		{"nul byte", read("a\x00.txt"), decision.Deny, []string{CodeNUL}},
		{"too long", read(strings.Repeat("a", MaxPathLen+1)), decision.Deny, []string{CodeInvalid}},
		{"link loop", write("loop1/x"), decision.Deny, []string{CodeInvalid}},

		// Shell paths, wildcards and dynamic parts.
		{"cat ~/.ssh/*", sh(ref("~/.ssh/*", analysis.OpRead)), decision.Deny, []string{CodeSensitive}},
		{"cat /etc/*", sh(ref("/etc/*", analysis.OpRead)), decision.Deny, []string{CodeSensitive}},
		{"cat /etc/host*", sh(ref("/etc/host*", analysis.OpRead)), decision.Allow, nil},
		{"cat *.pem", sh(ref("*.pem", analysis.OpRead)), decision.Deny, []string{CodeSensitive}},
		{"cat src/*", sh(ref("src/*", analysis.OpRead)), decision.Allow, nil},
		{"cat $DIR/.env", sh(analysis.PathRef{Path: "*/.env", Op: analysis.OpRead, Dynamic: true}), decision.Deny, []string{CodeSensitive}},
		{"cat $F", sh(analysis.PathRef{Path: "*", Op: analysis.OpRead, Dynamic: true}), decision.Allow, nil},
		{"rm dist/*", sh(ref("dist/*", analysis.OpDelete)), decision.Allow, nil},
		{"rm * next to package.json", sh(ref("*", analysis.OpDelete)), decision.Deny, []string{CodeProtected}},
		{"rm *.json next to package.json", sh(ref("*.json", analysis.OpDelete)), decision.Deny, []string{CodeProtected}},
		{"rm -r dynamic", sh(analysis.PathRef{Path: "*", Op: analysis.OpDelete, Recursive: true, Dynamic: true}), decision.Notify, []string{CodeDynamic}},
		{"rm -r ./$X", sh(analysis.PathRef{Path: "./*", Op: analysis.OpDelete, Recursive: true, Dynamic: true}), decision.Notify, []string{CodeDynamic}},
		{"rm -r build/$X", sh(analysis.PathRef{Path: "build/*", Op: analysis.OpDelete, Recursive: true, Dynamic: true}), decision.Allow, nil},
		{"rm -r $X/../..", sh(analysis.PathRef{Path: "src/*/../..", Op: analysis.OpDelete, Recursive: true, Dynamic: true}), decision.Notify, []string{CodeDynamic}},
		{"rm /etc/*", sh(ref("/etc/*", analysis.OpDelete)), decision.Deny, []string{CodeSensitive, CodeSystem}},
		{"rm -rf ~", awaySh(analysis.PathRef{Path: "~", Op: analysis.OpDelete, Recursive: true}), decision.Deny, []string{CodeOutsideWorkspace, CodeSensitive}},
		{"rm -rf /usr", sh(analysis.PathRef{Path: "/usr", Op: analysis.OpDelete, Recursive: true}), decision.Deny, []string{CodeSystem}},
		// /usr/local and /opt are the administrator's, not the system's:
		// outside the workspace, but not system writes.
		{"rm /usr/local/bin/x", sh(ref("/usr/local/bin/x", analysis.OpDelete)), decision.Confirm, []string{CodeOutsideWorkspace}},
		{"rm /usr/bin/x", sh(ref("/usr/bin/x", analysis.OpDelete)), decision.Confirm, []string{CodeSystem}},
		{"rm -rf /var/lib", sh(analysis.PathRef{Path: "/var/lib", Op: analysis.OpDelete, Recursive: true}), decision.Deny, []string{CodeSystem}},
		{"rm -rf /usr/local/lib/node_modules/npm", sh(analysis.PathRef{Path: "/usr/local/lib/node_modules/npm", Op: analysis.OpDelete, Recursive: true}), decision.Confirm, []string{CodeOutsideWorkspace}},
		{"rm -rf /opt/*", sh(analysis.PathRef{Path: "/opt/*", Op: analysis.OpDelete, Recursive: true}), decision.Confirm, []string{CodeOutsideWorkspace}},
		{"rm -rf /etc/*", sh(analysis.PathRef{Path: "/etc/*", Op: analysis.OpDelete, Recursive: true}), decision.Deny, []string{CodeSensitive, CodeSystem}},
		{"cat $D/.aws/credentials", sh(analysis.PathRef{Path: "*/.aws/credentials", Op: analysis.OpRead, Dynamic: true}), decision.Deny, []string{CodeSensitive}},
		{"cp $a $a.cp", sh(analysis.PathRef{Path: "*.cp", Op: analysis.OpWrite, Dynamic: true}), decision.Notify, []string{CodeDynamic}},
		{"rm -rf .git", sh(analysis.PathRef{Path: ".git", Op: analysis.OpDelete, Recursive: true}), decision.Allow, nil},
		{"cp -r dist ~/", awaySh(analysis.PathRef{Path: "~", Op: analysis.OpWrite, Recursive: true}), decision.Confirm, []string{CodeOutsideWorkspace}},
		{"rm **/*.pyc", sh(ref("**/*.pyc", analysis.OpDelete)), decision.Allow, nil},
		{"cp -r ~ /tmp reads keys", awaySh(analysis.PathRef{Path: "~", Op: analysis.OpRead, Recursive: true}), decision.Deny, []string{CodeSensitive}},
		{"grep -r /etc unprivileged", sh(analysis.PathRef{Path: "/etc", Op: analysis.OpRead, Recursive: true}), decision.Allow, nil},
		{"sudo grep -r /etc", sh(analysis.PathRef{Path: "/etc", Op: analysis.OpRead, Recursive: true, Privileged: true}), decision.Deny, []string{CodeSensitive}},
		{"grep -r workspace", sh(analysis.PathRef{Path: ".", Op: analysis.OpRead, Recursive: true}), decision.Allow, nil},
		{"ls ~/.ssh", sh(ref("~/.ssh", analysis.OpList)), decision.Allow, nil},
		{"chmod /etc/sudoers", sh(ref("/etc/sudoers", analysis.OpChmod)), decision.Deny, []string{CodeSensitive, CodeSystem}},
		{"exec key", sh(ref("~/.ssh/id_ed25519", analysis.OpExec)), decision.Deny, []string{CodeSensitive}},
		{"write key through link name", sh(ref("notes.txt", analysis.OpWrite)), decision.Deny, []string{CodeSensitive}},
		{"no paths at all", sh(), decision.Allow, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := g.Check(context.Background(), tt.in)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if v.Action != tt.wantAction {
				t.Errorf("action = %v, want %v; reasons %v; notes %q", v.Action, tt.wantAction, v.Reasons, v.Notes)
			}
			if diff := cmp.Diff(tt.wantCodes, codes(v)); diff != "" {
				t.Errorf("codes (-want +got):\n%s\nreasons %v", diff, v.Reasons)
			}
			for _, r := range v.Reasons {
				if r.Gate != "path" || r.Message == "" || r.Detail == "" {
					t.Errorf("reason %+v lacks gate, message or detail", r)
				}
			}
			if n := len(tt.in.Analysis.Paths); len(v.Notes) != n {
				t.Errorf("%d notes for %d paths: %q", len(v.Notes), n, v.Notes)
			}
		})
	}
}

func TestCheckMessages(t *testing.T) {
	w := newWorld(t)
	g := mustCompile(t, Default())
	v, err := g.Check(context.Background(), fileInput(w.env, request.KindFileRead, "read_file", "~/.ssh/id_rsa"))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Reasons) != 1 || !strings.HasPrefix(v.Reasons[0].Message, "reading a private key") {
		t.Errorf("reasons = %v, want one starting with %q", v.Reasons, "reading a private key")
	}
	if v.Risk == nil || v.Risk.Sensitivity != 3 {
		t.Errorf("risk = %+v, want sensitivity 3", v.Risk)
	}
	v, err = g.Check(context.Background(), fileInput(w.env, request.KindFileWrite, "write_file", "/etc/hosts"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Risk == nil || v.Risk.Sensitivity != 2 || v.Risk.Reversibility >= 1 {
		t.Errorf("risk = %+v, want sensitivity 2 and lowered reversibility", v.Risk)
	}
	want := "write \"/etc/hosts\" → /etc/hosts [system]"
	if len(v.Notes) != 1 || v.Notes[0] != want {
		t.Errorf("notes = %q, want %q", v.Notes, want)
	}
	v, err = g.Check(context.Background(), fileInput(w.env, request.KindFileRead, "read_file", "src/main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Risk != nil {
		t.Errorf("risk = %+v for an ordinary read, want none", v.Risk)
	}
}

// TestMessagesBelow: a recursive operation on a directory that holds a
// secret names the directory and what it holds, not the directory as if
// it were the secret.
func TestMessagesBelow(t *testing.T) {
	w := newWorld(t)
	g := mustCompile(t, Default())
	tests := []struct {
		ref  analysis.PathRef
		want string
	}{
		{analysis.PathRef{Path: "~", Op: analysis.OpDelete, Recursive: true, Command: "rm"},
			"deleting ~, which holds an SSH key or configuration file, is refused; ask the user to make this change"},
		{analysis.PathRef{Path: "~", Op: analysis.OpChmod, Recursive: true, Command: "chmod"},
			"changing the mode of ~, which holds an SSH key or configuration file, is refused"},
		{analysis.PathRef{Path: "~", Op: analysis.OpRead, Recursive: true, Command: "grep"},
			"reading ~ recursively, which reaches an SSH key or configuration file, is refused"},
		{analysis.PathRef{Path: "~/.ssh/config", Op: analysis.OpDelete, Command: "rm"},
			"changing an SSH key or configuration file (~/.ssh/config) is refused"},
	}
	for _, tt := range tests {
		v, err := g.Check(context.Background(), execInput(w.env, tt.ref))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range v.Reasons {
			found = found || r.Code == CodeSensitive && strings.HasPrefix(r.Message, tt.want)
		}
		if !found {
			t.Errorf("%s %s: reasons %v, want %s starting %q", tt.ref.Command, tt.ref.Path, v.Reasons, CodeSensitive, tt.want)
		}
	}
}

func TestMessagesFollowActions(t *testing.T) {
	w := newWorld(t)
	cfg := Default()
	cfg.SensitiveRead = decision.Notify
	cfg.OutsideWrite = decision.Deny
	g := mustCompile(t, cfg)
	env := gate.Env{Workspace: w.ws, Home: "/home/sentinel-test", Cwd: w.ws}
	tests := []struct {
		in   *gate.Input
		want string
	}{
		{fileInput(env, request.KindFileRead, "Read", ".env"), "reading an environment file (.env) is allowed and reported"},
		{fileInput(env, request.KindFileWrite, "Write", "~/x"), "writing outside the workspace (/home/sentinel-test/x) is refused; work inside the workspace or a temporary directory"},
	}
	for _, tt := range tests {
		v, err := g.Check(context.Background(), tt.in)
		if err != nil || len(v.Reasons) != 1 || v.Reasons[0].Message != tt.want {
			t.Errorf("reasons = %v, %v; want one with message %q", v.Reasons, err, tt.want)
		}
	}
}

func TestCheckFailsClosed(t *testing.T) {
	w := newWorld(t)
	g := mustCompile(t, Default())
	ctx := context.Background()
	tests := []struct {
		name string
		in   *gate.Input
	}{
		{"file call without analysis", &gate.Input{Call: &request.ToolCall{Kind: request.KindFileRead, Args: map[string]any{"path": ".env"}}, Env: w.env}},
		{"file call with empty analysis", &gate.Input{Call: &request.ToolCall{Kind: request.KindFileRead, Args: map[string]any{"path": ".env"}}, Analysis: &analysis.Analysis{}, Env: w.env}},
		{"file call whose path is missing", &gate.Input{
			Call:     &request.ToolCall{Kind: request.KindFileWrite, Args: map[string]any{"path": ".env", "paths": []string{"b"}}},
			Analysis: &analysis.Analysis{Paths: []analysis.PathRef{{Path: ".env", Op: analysis.OpWrite}}}, Env: w.env}},
		{"file call with the wrong op", &gate.Input{
			Call:     &request.ToolCall{Kind: request.KindFileDelete, Args: map[string]any{"path": "package.json"}},
			Analysis: &analysis.Analysis{Paths: []analysis.PathRef{{Path: "package.json", Op: analysis.OpRead}}}, Env: w.env}},
		{"nil input", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := g.Check(ctx, tt.in)
			if err == nil {
				t.Errorf("Check = %+v, nil; want an error", v)
			}
		})
	}
	// A file call that names no path is bad input: refused with a reason.
	v, err := g.Check(ctx, &gate.Input{Call: &request.ToolCall{Tool: "read_file", Kind: request.KindFileRead, Args: map[string]any{}}, Analysis: &analysis.Analysis{}, Env: w.env})
	if err != nil || v.Action != decision.Deny || len(v.Reasons) != 1 || v.Reasons[0].Code != CodeInvalid {
		t.Errorf("file call without a path: %+v, %v; want deny %s", v, err, CodeInvalid)
	}
	// The same path written differently still counts as covered.
	in := &gate.Input{
		Call:     &request.ToolCall{Kind: request.KindFileRead, Args: map[string]any{"path": "./src/../src/main.go"}},
		Analysis: &analysis.Analysis{Paths: []analysis.PathRef{{Path: "src/main.go", Op: analysis.OpRead}}}, Env: w.env}
	if _, err := g.Check(ctx, in); err != nil {
		t.Errorf("equivalent spelling: %v", err)
	}
}

func TestCheckManyPaths(t *testing.T) {
	w := newWorld(t)
	g := mustCompile(t, Default())
	var refs []analysis.PathRef
	for i := 0; i < 500; i++ {
		refs = append(refs, analysis.PathRef{Path: filepath.Join("/home/sentinel-test", "f", string(rune('a'+i%26)), "x"+strings.Repeat("y", i%7)), Op: analysis.OpWrite})
	}
	v, err := g.Check(context.Background(), execInput(w.env, refs...))
	if err != nil {
		t.Fatal(err)
	}
	if v.Action != decision.Confirm || len(v.Reasons) > maxReasonsPerCode {
		t.Errorf("action %v with %d reasons, want confirm with at most %d", v.Action, len(v.Reasons), maxReasonsPerCode)
	}
	refs = make([]analysis.PathRef, MaxPaths+1)
	for i := range refs {
		refs[i] = analysis.PathRef{Path: "a", Op: analysis.OpRead}
	}
	v, err = g.Check(context.Background(), execInput(w.env, refs...))
	if err != nil || v.Action != decision.Deny || codes(v)[0] != CodeInvalid {
		t.Errorf("too many paths: %v %v, want deny %s", v.Reasons, err, CodeInvalid)
	}
}

func TestClassify(t *testing.T) {
	// Nothing here exists: classification works on names alone.
	env := gate.Env{Workspace: "/home/sentinel-test/ws", Home: "/home/sentinel-test", Cwd: "/home/sentinel-test/ws"}
	g := mustCompile(t, Default())
	type cls struct{ Sensitive, WriteSensitive, Protected, System, InWorkspace, Temp, InWriteScope bool }
	tests := []struct {
		path string
		want cls
	}{
		{"src/main.go", cls{InWorkspace: true}},
		{".env", cls{Sensitive: true, WriteSensitive: true, InWorkspace: true}},
		{".git/hooks/post-merge", cls{WriteSensitive: true, InWorkspace: true}},
		{"package.json", cls{Protected: true, InWorkspace: true}},
		{"/tmp/build.log", cls{Temp: true, InWriteScope: true}},
		{"/etc/passwd", cls{System: true}},
		{"/etc/shadow", cls{Sensitive: true, WriteSensitive: true, System: true}},
		{"/dev/null", cls{InWriteScope: true}},
		{"~/.ssh/id_rsa", cls{Sensitive: true, WriteSensitive: true}},
		{"/", cls{System: true}},
	}
	for _, tt := range tests {
		c := g.Classify(tt.path, env)
		if c.Err != nil {
			t.Errorf("Classify(%q): %v", tt.path, c.Err)
			continue
		}
		got := cls{c.Sensitive, c.WriteSensitive, c.Protected, c.System, c.InWorkspace, c.Temp, c.InWriteScope}
		if got != tt.want {
			t.Errorf("Classify(%q) = %+v, want %+v", tt.path, got, tt.want)
		}
	}
	if c := g.Classify("bad\x00", env); c.Err == nil || !c.Sensitive {
		t.Errorf("Classify of a NUL path = %+v, want an error and Sensitive", c)
	}
	if !g.IsSensitive("~/.aws/config", env) || g.IsSensitive("README.md", env) {
		t.Error("IsSensitive disagrees with the default lists")
	}
}

func TestWorkspaceInSystemDir(t *testing.T) {
	// Containers often work in /usr/src/app: that is the agent's place.
	env := gate.Env{Workspace: "/usr/src/app", Home: "/root", Cwd: "/usr/src/app"}
	g := mustCompile(t, Default())
	v, err := g.Check(context.Background(), fileInput(env, request.KindFileWrite, "write_file", "main.go"))
	if err != nil || v.Action != decision.Allow {
		t.Errorf("write in a workspace under /usr: %v %v, want allow", v.Reasons, err)
	}
	if c := g.Classify("main.go", env); c.System || !c.InWorkspace {
		t.Errorf("Classify = %+v, want InWorkspace and not System", c)
	}
	v, _ = g.Check(context.Background(), fileInput(env, request.KindFileWrite, "write_file", "/usr/src/other/x"))
	if v.Action != decision.Confirm || codes(v)[0] != CodeSystem {
		t.Errorf("write next to the workspace: %v, want confirm %s", v.Reasons, CodeSystem)
	}
}

func TestRunningAsRoot(t *testing.T) {
	// An agent running as root works in root's home: /root/** guards root's
	// files from others, not from the agent itself; ~/.ssh still counts.
	env := gate.Env{Workspace: "/root/app", Home: "/root", Cwd: "/root/app"}
	g := mustCompile(t, Default())
	for _, tt := range []struct {
		path string
		want decision.Action
	}{
		{"main.go", decision.Allow},
		{"/root/.bashrc", decision.Allow},
		{"/root/.ssh/id_rsa", decision.Deny},
		{".env", decision.Deny},
	} {
		v, err := g.Check(context.Background(), fileInput(env, request.KindFileRead, "Read", tt.path))
		if err != nil || v.Action != tt.want {
			t.Errorf("read %s as root: %v %v, want %v", tt.path, v.Reasons, err, tt.want)
		}
	}
	// Another user still may not read root's files.
	env = gate.Env{Workspace: "/home/u/app", Home: "/home/u", Cwd: "/home/u/app"}
	v, _ := g.Check(context.Background(), fileInput(env, request.KindFileRead, "Read", "/root/.bashrc"))
	if v.Action != decision.Deny {
		t.Errorf("read /root/.bashrc as a user: %v, want deny", v.Reasons)
	}
}

func TestCompileReportsEveryProblem(t *testing.T) {
	cfg := Default()
	cfg.Sensitive = append(cfg.Sensitive, "[abc", "a/../b")
	cfg.Protected = []string{"ok.txt", "{a,b"}
	cfg.WriteScope = append(cfg.WriteScope, "")
	cfg.DynamicWrite = decision.Action(9)
	cfg.TempDir = "relative/tmp"
	_, err := Compile(cfg)
	if err == nil {
		t.Fatal("Compile accepted a broken configuration")
	}
	for _, want := range []string{`Sensitive[` + strconv.Itoa(len(Default().Sensitive)) + `] "[abc"`, `"a/../b"`, `Protected[1] "{a,b"`, `WriteScope[`, "DynamicWrite", "TempDir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestConfigForms(t *testing.T) {
	w := newWorld(t)
	cfg := Default()
	cfg.Sensitive = []string{"./secrets/**", "$HOME/vault/*.txt", "/opt/app/{a,b}.conf"}
	cfg.SensitiveExceptions = nil
	cfg.TempDir = w.outside
	g := mustCompile(t, cfg)
	tests := []struct {
		path string
		want bool
	}{
		{"secrets/db.txt", true},
		{"src/secrets/db.txt", false},
		{"~/vault/x.txt", true},
		{"~/vault/x.md", false},
		{"/opt/app/b.conf", true},
		{"/opt/app/c.conf", false},
	}
	for _, tt := range tests {
		if got := g.IsSensitive(tt.path, w.env); got != tt.want {
			t.Errorf("IsSensitive(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
	// Brace alternatives also take part in wildcard matching.
	v, err := g.Check(context.Background(), execInput(w.env, analysis.PathRef{Path: "/opt/app/*", Op: analysis.OpRead}))
	if err != nil || v.Action != decision.Deny {
		t.Errorf("cat /opt/app/* = %v %v, want deny", v.Reasons, err)
	}
	// TempDir joins the write scope and the temporary class.
	if c := g.Classify(w.outside+"/f", w.env); !c.Temp || !c.InWriteScope {
		t.Errorf("Classify(TempDir/f) = %+v, want Temp and InWriteScope", c)
	}
	// Case-sensitive matching when asked.
	cfg = Default()
	cfg.CaseSensitive = true
	g = mustCompile(t, cfg)
	if g.IsSensitive(".ENV", w.env) || !g.IsSensitive(".env", w.env) {
		t.Error("CaseSensitive matching is not exact")
	}
}

func TestProtectedCreateInsideNewDir(t *testing.T) {
	// An overwrite is judged on what is on disk when the call is checked.
	w := newWorld(t)
	g := mustCompile(t, Default())
	if err := os.MkdirAll(w.ws+"/pkg", 0o755); err != nil {
		t.Fatal(err)
	}
	in := fileInput(w.env, request.KindFileWrite, "write_file", "pkg/package.json")
	v, _ := g.Check(context.Background(), in)
	if v.Action != decision.Allow {
		t.Fatalf("creating pkg/package.json: %v", v.Reasons)
	}
	if err := os.WriteFile(w.ws+"/pkg/package.json", []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, _ = g.Check(context.Background(), in)
	if v.Action != decision.Deny {
		t.Fatalf("overwriting pkg/package.json: %v, want deny", v.Reasons)
	}
}
