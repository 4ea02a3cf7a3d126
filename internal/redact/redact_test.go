package redact

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestText(t *testing.T) {
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0." + rA[:43]
	pem := "-----BEGIN RSA PRIVATE KEY-----\n" + rB[:64] + "\n" + rB[64:100] + "\n-----END RSA PRIVATE KEY-----"
	for _, c := range []struct {
		name, in, want string
	}{
		{"clean", "ls -la /home/dev && git status", "ls -la /home/dev && git status"},
		{"empty", "", ""},
		{"github token", "export GITHUB_TOKEN=ghp_" + rA[:36], "export GITHUB_TOKEN=[REDACTED:github-pat]"},
		{"url password only", "git clone https://bob:" + rA[:20] + "@git.example.org/r.git", "git clone https://bob:[REDACTED:url-password]@git.example.org/r.git"},
		{"database url", "DATABASE_URL=postgres://app:" + rA[:16] + "@db:5432/app?sslmode=disable", "DATABASE_URL=postgres://app:[REDACTED:db-password]@db:5432/app?sslmode=disable"},
		{"bearer jwt keeps scheme", "Authorization: Bearer " + jwt, "Authorization: Bearer [REDACTED:jwt]"},
		{"basic auth", "curl -H 'Authorization: Basic " + rB[:20] + "==' https://x", "curl -H 'Authorization: Basic [REDACTED:auth-header]' https://x"},
		{"pem block whole", "key:\n" + pem + "\ndone", "key:\n[REDACTED:private-key]\ndone"},
		{"password assignment", `db.password = "` + rA[:12] + `"`, `db.password = "[REDACTED:generic-secret]"`},
		{"token inside assignment is typed", `token: "ghp_` + rA[:36] + `"`, `token: "[REDACTED:github-pat]"`},
		{"curl user", "curl -u admin:" + rA[:14] + " https://api", "curl -u admin:[REDACTED:cli-password] https://api"},
		{"query token", "GET /v1/items?access_token=" + rA[:32] + "&page=2", "GET /v1/items?access_token=[REDACTED:url-query-secret]&page=2"},
		{"aws pair", "aws_access_key_id=AKIA" + "Z4QXH7N2KD5LW3YB\naws_secret_access_key=" + rB[40:80], "aws_access_key_id=[REDACTED:aws-access-key]\naws_secret_access_key=[REDACTED:aws-secret-key]"},
		{"reference kept", "password: ${DB_PASSWORD}", "password: ${DB_PASSWORD}"},
		{"aws doc example kept", "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"},
		{"placeholder kept", "OPENAI_API_KEY=your-api-key", "OPENAI_API_KEY=your-api-key"},
		{"already redacted", "token=[REDACTED:github-pat] and [REDACTED:jwt]", "token=[REDACTED:github-pat] and [REDACTED:jwt]"},
		{"two secrets", "a=sk_live_" + rA[:24] + " b=glpat-" + rA[30:50], "a=[REDACTED:stripe-key] b=[REDACTED:gitlab-pat]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, fs := Text(c.in)
			if got != c.want {
				t.Errorf("Text(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
			if (len(fs) == 0) != (c.in == c.want) {
				t.Errorf("findings %v do not agree with the output", fs)
			}
			checkFindings(t, c.in, got, fs)
		})
	}
}

// checkFindings asserts the contract of findings: in order, disjoint,
// within the input, and exactly the ranges that were replaced.
func checkFindings(t *testing.T, in, out string, fs []Finding) {
	t.Helper()
	prev := 0
	for _, f := range fs {
		if f.Start < prev || f.End <= f.Start || f.End > len(in) {
			t.Fatalf("finding %+v out of order or out of range (previous end %d, input %d bytes)", f, prev, len(in))
		}
		prev = f.End
	}
	if len(fs) > 0 {
		if got := apply(in, fs); got != out {
			t.Fatalf("applying findings gives %q, Text gave %q", got, out)
		}
	}
}

func TestTextFindings(t *testing.T) {
	in := "x=ghp_" + rA[:36] + " y=AKIA" + "Z4QXH7N2KD5LW3YB"
	_, fs := Text(in)
	want := []Finding{
		{Rule: "github-pat", Start: 2, End: 42},
		{Rule: "aws-access-key", Start: 45, End: 65},
	}
	if diff := cmp.Diff(want, fs); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if in[fs[0].Start:fs[0].End] != "ghp_"+rA[:36] {
		t.Errorf("first finding covers %q", in[fs[0].Start:fs[0].End])
	}
}

// TestIdempotent redacts every rule example twice: the second pass must
// find nothing, so no placeholder or leftover matches a rule.
func TestIdempotent(t *testing.T) {
	for _, r := range builtinSet().rules {
		for _, h := range append(append([]string{}, r.hits...), r.misses...) {
			once, _ := Text(h)
			twice, fs := Text(once)
			if len(fs) > 0 || twice != once {
				t.Errorf("%s: Text(%q) = %q, then %q with %v", r.id, h, once, twice, fs)
			}
		}
	}
}

// TestLongInput scans a 2 MiB text in full: secrets at both ends and a
// PEM block longer than the match window are all found.
func TestLongInput(t *testing.T) {
	filler := strings.Repeat("lorem ipsum dolor sit amet, key=value token count 42\n", 2<<20/53)
	var body strings.Builder
	for i := 0; i < 40; i++ {
		body.WriteString(rB[:64] + "\n")
	}
	pem := "-----BEGIN PRIVATE KEY-----\n" + body.String() + "-----END PRIVATE KEY-----"
	in := "ghp_" + rA[:36] + "\n" + filler + pem + "\n" + filler + "sk_live_" + rA[:30]
	got, fs := Text(in)
	var rules []string
	for _, f := range fs {
		rules = append(rules, f.Rule)
	}
	if diff := cmp.Diff([]string{"github-pat", "private-key", "stripe-key"}, rules); diff != "" {
		t.Fatalf("rules (-want +got):\n%s", diff)
	}
	if strings.Contains(got, rB[:64]) || len(got) >= len(in) {
		t.Errorf("key material left in the output")
	}
	checkFindings(t, in, got, fs)
}

func TestSplitWords(t *testing.T) {
	for in, want := range map[string][]string{
		"aws_secret_access_key": {"aws", "secret", "access", "key"},
		"X-Api-Key":             {"x", "api", "key"},
		"mySecretString":        {"my", "secret", "string"},
		"APIKey":                {"api", "key"},
		"bot_token1":            {"bot", "token", "1"},
		"SONAR.LOGIN":           {"sonar", "login"},
		"":                      nil,
	} {
		if diff := cmp.Diff(want, splitWords(in)); diff != "" {
			t.Errorf("splitWords(%q) (-want +got):\n%s", in, diff)
		}
	}
}

func TestClassifyKey(t *testing.T) {
	for key, want := range map[string]kind{
		"password":          kindPass,
		"DB_PASSWORD":       kindPass,
		"passwd":            kindPass,
		"client_secret":     kindToken,
		"X-Api-Key":         kindToken,
		"apiKey":            kindToken,
		"HEROKU_KEY":        kindToken,
		"GITHUB_TOKEN":      kindToken,
		"user_auth":         kindToken,
		"secret_key_base":   kindToken,
		"max_tokens":        kindNone,
		"token_type":        kindNone,
		"secret_name":       kindNone,
		"public_key":        kindNone,
		"primaryKey":        kindNone,
		"key":               kindNone,
		"passwordVariable":  kindNone,
		"credentialsId":     kindNone,
		"access_token_url":  kindNone,
		"keyboard_shortcut": kindNone,
		"KeyMeshing":        kindNone,
		// The head of a compound name decides, before a preposition.
		"keyVaultToStoreSecrets": kindNone,
		"pathToSecret":           kindNone,
		"secretForApp":           kindToken,
		"sign_in_token":          kindToken,
		// CSRF tokens are bound to a session cookie.
		"csrf-token":  kindNone,
		"XSRF_TOKEN":  kindNone,
		"accessToken": kindToken,
	} {
		if got := classifyKey(key); got != want {
			t.Errorf("classifyKey(%q) = %d, want %d", key, got, want)
		}
	}
}

func TestEntropy(t *testing.T) {
	for in, want := range map[string]float64{"": 0, "aaaa": 0, "ab": 1, "abcd": 2, "0123456789abcdef": 4} {
		if got := entropy(in); got != want {
			t.Errorf("entropy(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestCompileReportsEveryProblem(t *testing.T) {
	_, err := compile([]rule{
		{id: "Bad_ID", keywords: []string{"ab"}, pattern: `ab`},
		{id: "dup", keywords: []string{"ab"}, pattern: `ab`},
		{id: "dup", keywords: []string{"AB"}, pattern: `(`},
		{id: "nokeys", pattern: `x`},
	})
	if err == nil {
		t.Fatal("compile accepted invalid rules")
	}
	for _, want := range []string{`"Bad_ID"`, `duplicate id`, `keyword "AB"`, `does not compile`, `"nokeys": no keywords`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestFakePlaceholder checks that only placeholders Sentinel writes are
// skipped: a secret dressed up as one is still redacted.
func TestFakePlaceholder(t *testing.T) {
	in := "[REDACTED:key-" + rH[:32] + "] and [REDACTED:github-pat]"
	got, fs := Text(in)
	want := "[REDACTED:[REDACTED:mailgun-api-key]] and [REDACTED:github-pat]"
	if got != want || len(fs) != 1 {
		t.Errorf("Text(%q) = %q, %v; want %q", in, got, fs, want)
	}
}

// TestBuiltinRegexpsCompile compiles every built-in rule's expressions,
// which matching otherwise does only when a rule's keywords first occur.
func TestBuiltinRegexpsCompile(t *testing.T) {
	for _, c := range builtinSet().rules {
		if _, err := compileRegexps(c.pattern); err != nil {
			t.Errorf("rule %s: %v", c.id, err)
		}
	}
}
