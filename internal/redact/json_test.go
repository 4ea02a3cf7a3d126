package redact

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestJSON(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		count          int
	}{
		{"clean compact", `{ "b": 1, "a": [true, null, 2.50e3, "x"] }`, `{"b":1,"a":[true,null,2.50e3,"x"]}`, 0},
		{"secret key", `{"user":"bob","password":"hunter2"}`, `{"user":"bob","password":"[REDACTED:secret-field]"}`, 1},
		{"folded key names", `{"X-Api-Key":"abc","client_secret":"def","Set-Cookie":"sid=1"}`, `{"X-Api-Key":"[REDACTED:secret-field]","client_secret":"[REDACTED:secret-field]","Set-Cookie":"[REDACTED:secret-field]"}`, 3},
		{"number under secret key", `{"pin":1234,"token":987654321}`, `{"pin":1234,"token":"[REDACTED:secret-field]"}`, 1},
		{"nested under secret key", `{"credentials":{"user":"u","list":["a",{"x":"y"}],"ok":true}}`, `{"credentials":{"user":"[REDACTED:secret-field]","list":["[REDACTED:secret-field]",{"x":"[REDACTED:secret-field]"}],"ok":true}}`, 3},
		{"not secret keys", `{"max_tokens":4096,"token_type":"bearer","secret_name":"db"}`, `{"max_tokens":4096,"token_type":"bearer","secret_name":"db"}`, 0},
		{"text rules in values", `{"cmd":"export GITHUB_TOKEN=ghp_` + rA[:36] + `"}`, `{"cmd":"export GITHUB_TOKEN=[REDACTED:github-pat]"}`, 1},
		{"text rules in keys", `{"ghp_` + rA[:36] + `":1}`, `{"[REDACTED:github-pat]":1}`, 1},
		{"escaped newlines reach the PEM rule", `{"k":"-----BEGIN PRIVATE KEY-----\n` + rB[:64] + `\n-----END PRIVATE KEY-----\n"}`, `{"k":"[REDACTED:private-key]\n"}`, 1},
		{"empty secret kept", `{"password":""}`, `{"password":""}`, 0},
		{"placeholder kept", `{"password":"[REDACTED:secret-field]"}`, `{"password":"[REDACTED:secret-field]"}`, 0},
		{"html and unicode kept", `{"a":"<b>&amp;</b> é \u2028 \u0001"}`, `{"a":"<b>&amp;</b> é \u2028 \u0001"}`, 0},
		{"duplicate keys kept", `{"a":1,"a":2}`, `{"a":1,"a":2}`, 0},
		{"top-level string", `"Bearer ` + rA[:40] + `"`, `"Bearer [REDACTED:bearer-token]"`, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, n, err := JSON([]byte(c.in))
			if err != nil {
				t.Fatalf("JSON(%s): %v", c.in, err)
			}
			if string(got) != c.want || n != c.count {
				t.Errorf("JSON(%s)\n got %s (%d redacted)\nwant %s (%d redacted)", c.in, got, n, c.want, c.count)
			}
			if !json.Valid(got) {
				t.Errorf("output is not valid JSON: %s", got)
			}
			again, n2, err := JSON(got)
			if err != nil || string(again) != string(got) || n2 != 0 {
				t.Errorf("second pass changed the output: %s (%d, %v)", again, n2, err)
			}
		})
	}
}

func TestJSONInvalid(t *testing.T) {
	for _, in := range []string{
		``, `{`, `{"a":}`, `{"a" 1}`, `[1,]`, `{"a":1}{"b":2}`, `{"a":1} x`, `tru`, `"unterminated`, `{1:2}`,
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	} {
		out, n, err := JSON([]byte(in))
		if err == nil {
			t.Errorf("JSON(%.40q) = %s, %d; want an error", in, out, n)
			continue
		}
		if !strings.Contains(err.Error(), "redact.Text") || !strings.Contains(err.Error(), "near byte") {
			t.Errorf("error %q should say where and how to recover", err)
		}
	}
}

func TestJSONDepthLimit(t *testing.T) {
	ok := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, _, err := JSON([]byte(ok)); err != nil {
		t.Errorf("nesting of %d levels rejected: %v", maxDepth, err)
	}
}

func TestSecretKey(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "Password": true, "DB_PASSWORD": true, "X-Api-Key": true, "api-key": true,
		"apikey": true, "aws_secret_access_key": true, "Authorization": true, "Set-Cookie": true,
		"github_token": true, "client.secret": true, "private_key": true,
		"max_tokens": false, "token_type": false, "secret_name": false, "public_key": false,
		"keyboard": false, "passport": false, "": false,
	} {
		if got := SecretKey(name); got != want {
			t.Errorf("SecretKey(%q) = %v, want %v", name, got, want)
		}
	}
}
