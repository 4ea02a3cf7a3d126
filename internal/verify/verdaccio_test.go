//go:build unix

package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestPublishVerdaccio publishes real packages with npm to a real
// registry, Verdaccio (pinned in e2e-hosts), on loopback, and verifies the
// claims against it.
func TestPublishVerdaccio(t *testing.T) {
	node, verdaccio := os.Getenv("SENTINEL_E2E_NODE"), os.Getenv("SENTINEL_E2E_VERDACCIO")
	npm, npmErr := exec.LookPath("npm")
	if node == "" || verdaccio == "" || npmErr != nil {
		msg := "set SENTINEL_E2E_NODE=e2e-hosts/node_modules/.bin/node and SENTINEL_E2E_VERDACCIO=e2e-hosts/node_modules/.bin/verdaccio (npm ci in e2e-hosts), with npm on PATH, to verify publishes against a real registry"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	reg := startVerdaccio(t, node, verdaccio)
	token := addUser(t, reg)
	npmrc := write(t, filepath.Join(t.TempDir(), "npmrc"), fmt.Sprintf("//%s/:_authToken=%s\n", strings.TrimPrefix(reg, "http://"), token))
	publish(t, npm, reg, npmrc, "sentinel-verify-probe", "1.2.3")
	publish(t, npm, reg, npmrc, "@sentinel-verify/probe", "0.1.0")

	tests := []struct {
		name      string
		p         Publish
		status    Status
		code      string
		reasonHas string
	}{
		{"published version", Publish{Registry: reg, Package: "sentinel-verify-probe", Version: "1.2.3"}, Pass, "", "sentinel-verify-probe@1.2.3 is in"},
		{"published scoped version", Publish{Registry: reg + "/", Package: "@sentinel-verify/probe", Version: "0.1.0"}, Pass, "", "@sentinel-verify/probe@0.1.0"},
		{"version never published", Publish{Registry: reg, Package: "sentinel-verify-probe", Version: "1.2.4"}, Fail, "publish.version_missing", "not version 1.2.4"},
		{"package never published", Publish{Registry: reg, Package: "sentinel-verify-ghost", Version: "1.0.0"}, Fail, "publish.not_found", "has no package sentinel-verify-ghost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			r := Run(context.Background(), Claim{Publish: &p}, nil, offline(t.TempDir()))
			assertCheck(t, r, CheckPublish, tt.status, tt.code, tt.reasonHas)
		})
	}
}

// startVerdaccio runs Verdaccio on a free loopback port with its storage
// and users in a temporary directory, and returns its URL once it answers.
func startVerdaccio(t *testing.T, node, verdaccio string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	config := write(t, filepath.Join(dir, "config.yaml"), fmt.Sprintf(`storage: %s
auth:
  htpasswd:
    file: %s
    max_users: 10
uplinks: {}
packages:
  '**':
    access: $all
    publish: $authenticated
web:
  enable: false
log: { type: stdout, format: pretty, level: warn }
`, filepath.Join(dir, "storage"), filepath.Join(dir, "htpasswd")))

	var out lockedBuffer
	cmd := exec.Command(node, verdaccio, "--config", config, "--listen", addr)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start verdaccio: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})

	url := "http://" + addr
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("verdaccio exited: %v\n%s", err, out.String())
		default:
		}
		if resp, err := http.Get(url + "/-/ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("verdaccio did not answer on %s:\n%s", url, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// addUser registers a user the way npm adduser does and returns its token.
func addUser(t *testing.T, reg string) string {
	t.Helper()
	body := `{"name": "verify", "password": "verify-password-1"}`
	req, err := http.NewRequest(http.MethodPut, reg+"/-/user/org.couchdb.user:verify", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusCreated || got.Token == "" {
		t.Fatalf("adduser: %s, %v, token %q", resp.Status, err, got.Token)
	}
	return got.Token
}

// publish writes a one-file package and publishes it with npm.
func publish(t *testing.T, npm, reg, npmrc, name, version string) {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "package.json"), fmt.Sprintf(`{"name": %q, "version": %q, "description": "verify test", "license": "MIT"}`, name, version))
	write(t, filepath.Join(dir, "index.js"), "module.exports = 1;\n")
	cmd := exec.Command(npm, "publish", "--registry", reg+"/", "--userconfig", npmrc, "--ignore-scripts", "--access", "public")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_cache="+filepath.Join(dir, ".npm-cache"), "npm_config_update_notifier=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm publish %s@%s: %v\n%s", name, version, err, out)
	}
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
