package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func runHook(t *testing.T, stdin string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

const preEvent = `{"session_id":"s1","cwd":"/w","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"},"tool_use_id":"toolu_1"}`

func TestUsageErrorsRefuse(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no arguments", nil, "name the host"},
		{"other host", []string{"openclaw", "--server", "http://127.0.0.1:1"}, "name the host"},
		{"flags before the host", []string{"--server", "http://127.0.0.1:1", "claude-code"}, "name the host"},
		{"no server", []string{"claude-code"}, "give --server URL or --local"},
		{"unknown flag", []string{"claude-code", "--server", "http://127.0.0.1:1", "--store", "x"}, "not defined: -store"},
		{"local flag with a server", []string{"claude-code", "--server", "http://127.0.0.1:1", "--policy", "p.yaml"}, "go with --local"},
		{"server and local", []string{"claude-code", "--server", "http://127.0.0.1:1", "--local"}, "not both"},
		{"no idle exit", []string{"claude-code", "--local", "--idle-exit", "0s"}, "--idle-exit wants a positive duration"},
		{"extra argument", []string{"claude-code", "--server", "http://127.0.0.1:1", "event.json"}, `unexpected argument "event.json"`},
		{"bad timeout", []string{"claude-code", "--server", "http://127.0.0.1:1", "--timeout", "1h"}, "--timeout"},
		{"bad URL", []string{"claude-code", "--server", "127.0.0.1:3300"}, "want an http:// or https:// URL"},
		// Help too: an exit 0 with text would let the call run.
		{"help", []string{"claude-code", "-h"}, "usage: sentinel-hook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runHook(t, preEvent, nil, tc.args...)
			if code != 2 || out != "" || !strings.Contains(errs, "hook.usage") || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d stdout %q stderr %q; want exit 2, hook.usage and %q", code, out, errs, tc.want)
			}
		})
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		_, _ = io.WriteString(w, `{"action":"deny","reasons":[{"code":"command.x","message":"no"}]}`)
	}))
	defer srv.Close()
	code, out, errs := runHook(t, preEvent, map[string]string{"SENTINEL_TOKEN": "tok-9"}, "claude-code", "--server", srv.URL, "--timeout", "2s")
	if code != 0 || !strings.Contains(out, `"permissionDecision":"deny"`) || !strings.Contains(out, "command.x") {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
	if auth != "Bearer tok-9" {
		t.Errorf("Authorization %q", auth)
	}
}
