package secretspeer

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir is where the shared evaluation corpora live, relative to this
// package; SENTINEL_CORPUS_DIR overrides it.
func corpusDir() string {
	if d := os.Getenv("SENTINEL_CORPUS_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "corpus")
}

// row is one text of a corpus file. Label is "secret" or "no_secret" in
// the secrets corpus and "benign" in the developer text.
type row struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Label    string `json:"label"`
	Category string `json:"category"`
}

const (
	secretsFile = "secrets/gitleaks_rule_examples.jsonl"
	// synthFile holds gitleaks' generated examples: its tokens match
	// gitleaks' patterns by construction, so it measures coverage only.
	synthFile  = "secrets/gitleaks_rule_examples_synthetic.jsonl"
	benignFile = "prompt_injection/benign_dev_text/benign_dev_text.jsonl"
)

// maxLine bounds one JSONL line; the longest row is a few KiB.
const maxLine = 1 << 22

// load reads a JSONL corpus file, or skips the test when it is absent.
func load(tb testing.TB, rel string) []row {
	tb.Helper()
	f, err := os.Open(filepath.Join(corpusDir(), rel))
	if os.IsNotExist(err) {
		tb.Skipf("corpus %s not available (set SENTINEL_CORPUS_DIR)", rel)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			tb.Fatalf("%s:%d: %v", rel, n, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	return rows
}

// texts returns the rows' texts.
func texts(rows []row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Text
	}
	return out
}

// cleanText is about 4 KiB of an agent's shell session with no secret in
// it: commands, test output, a diff and a config file that names
// credentials without holding any.
var cleanText = func() string {
	lines := []string{
		"$ cd ~/src/inventory && git status --short",
		" M internal/store/postgres.go",
		" M internal/api/handlers.go",
		"?? internal/api/handlers_test.go",
		"$ go test ./internal/... -run TestHandlers -count=1",
		"ok  \tgithub.com/acme/inventory/internal/api\t0.412s",
		"ok  \tgithub.com/acme/inventory/internal/store\t1.108s",
		"--- PASS: TestCreateItem (0.01s)",
		"--- PASS: TestListItems/pagination (0.00s)",
		"$ git diff --stat",
		" internal/api/handlers.go | 24 ++++++++++++++++--------",
		" 1 file changed, 16 insertions(+), 8 deletions(-)",
		"$ cat config/app.yaml",
		"server:",
		"  listen: 127.0.0.1:8080",
		"  read_timeout: 5s",
		"database:",
		"  host: db.internal",
		"  user: inventory",
		"  password_file: /run/secrets/db_password",
		"  max_open_conns: 20",
		"$ rg -n 'func (h \\*Handler)' internal/api",
		"internal/api/handlers.go:42:func (h *Handler) CreateItem(w http.ResponseWriter, r *http.Request) {",
		"internal/api/handlers.go:88:func (h *Handler) ListItems(w http.ResponseWriter, r *http.Request) {",
		"$ curl -s http://127.0.0.1:8080/healthz",
		`{"status":"ok","version":"1.14.2","uptime_s":5123}`,
		"$ docker compose ps",
		"NAME                 IMAGE              STATUS         PORTS",
		"inventory-db-1       postgres:16        Up 2 hours     5432/tcp",
	}
	var b strings.Builder
	for b.Len() < 4096 {
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()[:4096]
}()

// keywordText is 16 KiB dense with the words and prefixes detectors look
// for (password, token, api_key, Bearer, ghp_, AKIA, BEGIN …) and no
// secret: references, placeholders and public keys only.
var keywordText = func() string {
	lines := []string{
		"password = ${DB_PASSWORD}",
		`api_key: "<your-api-key>"`,
		`token: "{{ .Values.token }}"`,
		`curl -H "Authorization: Bearer $API_TOKEN" https://api.example.com/v1/items`,
		`curl -u "$USER:$PASS" https://registry.example.com`,
		"export AWS_SECRET_ACCESS_KEY=$(vault kv get -field=secret aws/prod)",
		"aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
		"GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		"secret_name = \"prod-db-credentials\"",
		"max_tokens: 4096",
		"token_type: bearer",
		"-----BEGIN PUBLIC KEY-----",
		"the key was rotated; see the secrets manager for the new credentials",
		"client_secret: ${OAUTH_CLIENT_SECRET}",
		"private_key_path = \"~/.ssh/id_ed25519\"",
		"SLACK_BOT_TOKEN=xoxb-your-bot-token",
		"OPENAI_API_KEY=sk-...",
		"passwd: changeme",
	}
	var b strings.Builder
	for b.Len() < 16<<10 {
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}()
