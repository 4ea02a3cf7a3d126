package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/auth"
)

func runTokenCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}
	code = runToken(e, args)
	return code, out.String(), errb.String()
}

func TestTokenNew(t *testing.T) {
	code, out, errOut := runTokenCmd(t, "", "new", "--name", "ci-bot", "--scopes", "check, audit:read")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	token := strings.TrimSuffix(out, "\n")
	if !regexp.MustCompile(`^snt_[A-Za-z0-9_-]{43}$`).MatchString(token) {
		t.Fatalf("stdout is not just a token: %q", out)
	}
	if strings.Contains(errOut, token) {
		t.Fatalf("stderr repeats the token:\n%s", errOut)
	}
	for _, want := range []string{"- name: ci-bot", "scopes: [check, audit:read]", "tokens: [" + auth.HashToken(token) + "]"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	// Pasted under "clients:", the snippet is a clients file the token works with.
	p := filepath.Join(t.TempDir(), "clients.yaml")
	if err := os.WriteFile(p, []byte("clients:\n"+errOut), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := auth.LoadConfig(p)
	if err != nil {
		t.Fatalf("the printed snippet does not load: %v\n%s", err, errOut)
	}
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/v1/audit", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	c, err := a.Authenticate(r)
	if err != nil {
		t.Fatalf("the new token does not authenticate: %v", err)
	}
	if c.Name != "ci-bot" || !c.Has(auth.ScopeCheck) || !c.Has(auth.ScopeAuditRead) || c.Has(auth.ScopeAdmin) {
		t.Errorf("client %+v, want ci-bot with check and audit:read", c)
	}
}

func TestTokenNewDefaultsToCheck(t *testing.T) {
	code, _, errOut := runTokenCmd(t, "", "new", "--name=agent-7")
	if code != ExitOK || !strings.Contains(errOut, "scopes: [check]") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}

func TestTokenHash(t *testing.T) {
	const tok = "snt_Qm9vLWJhci1iYXotcXV1eC1xdXV4LXF1dXgtcXV1eA"
	code, out, errOut := runTokenCmd(t, tok+"\n", "hash")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got := strings.TrimSpace(out); got != auth.HashToken(tok) {
		t.Errorf("hash %q, want %q", got, auth.HashToken(tok))
	}
	if errOut != "" {
		t.Errorf("unexpected stderr for a strong token: %s", errOut)
	}
	code, out, errOut = runTokenCmd(t, "short\n", "hash")
	if code != ExitOK || strings.TrimSpace(out) != auth.HashToken("short") || !strings.Contains(errOut, "at least 32") {
		t.Errorf("weak token: exit %d, stdout %q, stderr %q; want the hash and a warning", code, out, errOut)
	}
}

func TestTokenErrors(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		stdin string
		want  []string
	}{
		{nil, "", []string{"missing subcommand", "token new"}},
		{[]string{"frob"}, "", []string{`unknown subcommand "frob"`}},
		{[]string{"new"}, "", []string{"--name is required"}},
		{[]string{"new", "--name", "a b"}, "", []string{`name "a b"`, "letters, digits"}},
		{[]string{"new", "--name", "x", "--scopes", "check,root"}, "", []string{`unknown scope "root"`, "audit:read"}},
		{[]string{"new", "--name", "x", "--scopes", " , "}, "", []string{"no scopes"}},
		{[]string{"new", "--name", "x", "extra"}, "", []string{`unexpected argument "extra"`}},
		{[]string{"new", "--nmae", "x"}, "", []string{"unknown flag --nmae"}},
		{[]string{"hash", "snt_secret"}, "", []string{"on stdin, not as an argument"}},
		{[]string{"hash"}, "", []string{"stdin is empty"}},
		{[]string{"hash"}, strings.Repeat("x", auth.MaxTokenLen+1), []string{"longer than 512"}},
	} {
		code, out, errOut := runTokenCmd(t, tc.stdin, tc.args...)
		if code != ExitError {
			t.Errorf("token %v: exit %d, want %d", tc.args, code, ExitError)
		}
		if out != "" {
			t.Errorf("token %v: printed %q on stdout on failure", tc.args, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("token %v: stderr lacks %q:\n%s", tc.args, w, errOut)
			}
		}
		if strings.Contains(errOut, "snt_secret") {
			t.Errorf("token %v: stderr echoes the token", tc.args)
		}
	}
}

func TestTokenHelp(t *testing.T) {
	code, out, _ := runTokenCmd(t, "", "new", "--help")
	if code != ExitOK || !strings.Contains(out, "--name") || !strings.Contains(out, "approvals:decide") {
		t.Errorf("exit %d, help:\n%s", code, out)
	}
}
