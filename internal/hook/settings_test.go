package hook

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const cmdA = "/usr/local/bin/sentinel hook claude-code"

// existing is a settings file with other keys and other hooks, including a
// group that mixes someone else's hook with an old Sentinel entry.
const existing = `{
  "model": "opus",
  "permissions": {"allow": ["Bash(npm run test:*)"], "deny": []},
  "env": {"FOO": "1"},
  "hooks": {
    "PreToolUse": [
      {"matcher": "Bash", "hooks": [{"type": "command", "command": "~/bin/lint-bash.sh", "timeout": 10}]}
    ],
    "Stop": [
      {"hooks": [{"type": "command", "command": "say done"}]}
    ]
  },
  "cleanupPeriodDays": 30.50
}
`

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

func TestInstallFresh(t *testing.T) {
	out, cs, err := Install(nil, cmdA)
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "*",
        "hooks": [
          {
            "type": "command",
            "command": "/usr/local/bin/sentinel hook claude-code",
            "timeout": 30
          }
        ]
      }
    ],
    "PostToolUse": [
      {
        "matcher": "*",
        "hooks": [
          {
            "type": "command",
            "command": "/usr/local/bin/sentinel hook claude-code",
            "timeout": 30
          }
        ]
      }
    ],
    "UserPromptSubmit": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "/usr/local/bin/sentinel hook claude-code",
            "timeout": 30
          }
        ]
      }
    ]
  }
}
`
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("fresh install (-want +got):\n%s", diff)
	}
	wantCs := []Change{{EventPreToolUse, ChangeAdded}, {EventPostToolUse, ChangeAdded}, {EventUserPromptSubmit, ChangeAdded}}
	if diff := cmp.Diff(wantCs, cs); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestInstallKeepsEverythingElse(t *testing.T) {
	out, _, err := Install([]byte(existing), cmdA)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	// Key order and numbers as written survive.
	if !(strings.Index(s, `"model"`) < strings.Index(s, `"permissions"`) && strings.Index(s, `"env"`) < strings.Index(s, `"hooks"`) &&
		strings.Index(s, `"hooks"`) < strings.Index(s, `"cleanupPeriodDays"`)) {
		t.Errorf("key order changed:\n%s", s)
	}
	if !strings.Contains(s, "30.50") {
		t.Errorf("number text changed:\n%s", s)
	}
	v := decodeAny(t, out).(map[string]any)
	pre := v["hooks"].(map[string]any)["PreToolUse"].([]any)
	if len(pre) != 2 || pre[0].(map[string]any)["matcher"] != "Bash" {
		t.Errorf("the existing PreToolUse entry is not kept first: %v", pre)
	}
	// Removing ours again gives back exactly what was there.
	back, cs, err := Uninstall(out, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(decodeAny(t, []byte(existing)), decodeAny(t, back)); diff != "" {
		t.Errorf("install then uninstall changed the file (-before +after):\n%s", diff)
	}
	for _, c := range cs {
		if c.Action != ChangeRemoved {
			t.Errorf("uninstall: %v", cs)
		}
	}
}

func TestInstallIdempotent(t *testing.T) {
	once, _, err := Install([]byte(existing), cmdA)
	if err != nil {
		t.Fatal(err)
	}
	twice, cs, err := Install(once, cmdA)
	if err != nil {
		t.Fatal(err)
	}
	if string(once) != string(twice) {
		t.Errorf("second install changed the file")
	}
	for _, c := range cs {
		if c.Action != ChangeUnchanged {
			t.Errorf("second install: %v", cs)
		}
	}
}

func TestInstallReplacesOlderEntry(t *testing.T) {
	old := `{"hooks":{"PreToolUse":[{"matcher":"*","hooks":[
		{"type":"command","command":"/opt/old/sentinel hook claude-code --server http://x","timeout":30},
		{"type":"command","command":"audit-log.sh"}]}]}}`
	out, cs, err := Install([]byte(old), cmdA)
	if err != nil {
		t.Fatal(err)
	}
	if cs[0] != (Change{EventPreToolUse, ChangeUpdated}) {
		t.Errorf("changes: %v", cs)
	}
	s := string(out)
	if strings.Contains(s, "/opt/old/sentinel") || strings.Count(s, cmdA) != 3 || !strings.Contains(s, "audit-log.sh") {
		t.Errorf("the old entry is not replaced exactly:\n%s", s)
	}
}

func TestUninstallKeepsOthers(t *testing.T) {
	mixed := `{"hooks":{"PreToolUse":[{"matcher":"*","hooks":[
		{"type":"command","command":"'/home/u/my tools/sentinel' hook claude-code"},
		{"type":"command","command":"audit-log.sh"}]}],
		"PostToolUse":[{"matcher":"*","hooks":[{"type":"command","command":"custom-guard"}]}]}}`
	out, cs, err := Uninstall([]byte(mixed), "custom-guard")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"hooks":{"PreToolUse":[{"matcher":"*","hooks":[{"type":"command","command":"audit-log.sh"}]}]}}`
	if diff := cmp.Diff(decodeAny(t, []byte(want)), decodeAny(t, out)); diff != "" {
		t.Errorf("uninstall (-want +got):\n%s", diff)
	}
	wantCs := []Change{{EventPreToolUse, ChangeRemoved}, {EventPostToolUse, ChangeRemoved}, {EventUserPromptSubmit, ChangeAbsent}}
	if diff := cmp.Diff(wantCs, cs); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	// Nothing of ours: the bytes come back as they were.
	same, _, err := Uninstall([]byte(existing), "")
	if err != nil || string(same) != existing {
		t.Errorf("uninstall without our entries changed the file: %v", err)
	}
}

func TestSettingsRefused(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not JSON", `{"model": "opus",}`, "not valid JSON"},
		{"comments", "// mine\n{}", "not valid JSON"},
		{"array", `[]`, "want a JSON object"},
		{"hooks a list", `{"hooks":[]}`, `"hooks" is an array`},
		{"event not a list", `{"hooks":{"PreToolUse":{}}}`, `"PreToolUse" is an object`},
		{"duplicate key", `{"hooks":{},"hooks":{}}`, "appears twice"},
		{"trailing data", `{} {}`, "more than one JSON value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Install([]byte(tc.in), cmdA)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestIsSentinelCommand(t *testing.T) {
	for cmd, want := range map[string]bool{
		"sentinel hook claude-code":                                   true,
		"/usr/local/bin/sentinel hook claude-code --server http://x":  true,
		"'/home/u/my tools/sentinel' hook claude-code":                true,
		"go run ./cmd/sentinel hook claude-code":                      true,
		"sentinel hook install claude-code":                           false,
		"/opt/bin/sentinel-hook claude-code --server http://x":        true,
		"'/opt/my tools/sentinel-hook' claude-code --server http://x": true,
		"sentinel-hook --server http://x":                             false,
		"sentinel-hook install claude-code":                           false,
		"other-guard hook claude-code":                                false,
		"sentinel check --stdin":                                      false,
		"":                                                            false,
	} {
		if got := IsSentinelCommand(cmd); got != want {
			t.Errorf("IsSentinelCommand(%q) = %v", cmd, got)
		}
	}
	if got := CommandFor("/opt/my tools/sentinel"); got != `'/opt/my tools/sentinel' hook claude-code` || !IsSentinelCommand(got) {
		t.Errorf("CommandFor with a space: %s", got)
	}
	if got := CommandFor("/usr/bin/sentinel"); got != "/usr/bin/sentinel hook claude-code" {
		t.Errorf("CommandFor: %s", got)
	}
	for _, tc := range []struct{ got, want string }{
		{RemoteCommandFor("/usr/bin/sentinel", "http://127.0.0.1:3300"), "/usr/bin/sentinel hook claude-code --server http://127.0.0.1:3300"},
		{ThinCommandFor("/usr/bin/sentinel-hook", "http://127.0.0.1:3300"), "/usr/bin/sentinel-hook claude-code --server http://127.0.0.1:3300"},
		{ThinCommandFor("/opt/my tools/sentinel-hook", "https://guard.example/a b"), `'/opt/my tools/sentinel-hook' claude-code --server 'https://guard.example/a b'`},
	} {
		if tc.got != tc.want || !IsSentinelCommand(tc.got) {
			t.Errorf("got %s, want %s (recognised: %v)", tc.got, tc.want, IsSentinelCommand(tc.got))
		}
	}
}

var fixedNow = func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) }

func TestInstallFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".claude", "settings.json")

	// A fresh file in a missing directory: created, private, no backup.
	res, err := InstallFile(path, cmdA, FileOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || !res.Changed || res.Backup != "" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("fresh: %+v, %v, mode %v", res, err, fi.Mode())
	}

	// An existing file keeps its mode; the old content is backed up.
	if err := os.WriteFile(path, []byte(existing), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = InstallFile(path, cmdA, FileOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	wantBak := path + ".bak-20260304T050607Z"
	if res.Backup != wantBak {
		t.Errorf("backup %q, want %q", res.Backup, wantBak)
	}
	if b, err := os.ReadFile(wantBak); err != nil || string(b) != existing {
		t.Errorf("backup content: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	now, _ := os.ReadFile(path)
	if !strings.Contains(string(now), cmdA) || !strings.Contains(string(now), "lint-bash.sh") {
		t.Errorf("installed file:\n%s", now)
	}

	// Again: nothing changes, no second backup.
	res, err = InstallFile(path, cmdA, FileOptions{Now: fixedNow})
	if err != nil || res.Changed || res.Backup != "" {
		t.Errorf("second install: %+v, %v", res, err)
	}
	if matches, _ := filepath.Glob(path + ".bak-*"); len(matches) != 1 {
		t.Errorf("backups: %v", matches)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".settings.json.tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// Uninstall restores the original content, with a second backup.
	res, err = UninstallFile(path, "", FileOptions{Now: fixedNow})
	if err != nil || !res.Changed || res.Backup != wantBak+"-2" {
		t.Fatalf("uninstall: %+v, %v", res, err)
	}
	after, _ := os.ReadFile(path)
	if diff := cmp.Diff(decodeAny(t, []byte(existing)), decodeAny(t, after)); diff != "" {
		t.Errorf("after uninstall (-want +got):\n%s", diff)
	}
}

func TestInstallFileRefusesInvalidJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.json")
	bad := []byte(`{"model": "opus"`)
	if err := os.WriteFile(path, bad, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := InstallFile(path, cmdA, FileOptions{Now: fixedNow})
	if err == nil || !strings.Contains(err.Error(), "not valid JSON") || !strings.Contains(err.Error(), "left unchanged") {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != string(bad) {
		t.Error("the invalid file was changed")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("files were added next to it: %v", entries)
	}
}

func TestInstallFileDryRunAndSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "claude.json")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte(existing), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "settings.json")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	res, err := InstallFile(link, cmdA, FileOptions{DryRun: true, Now: fixedNow})
	if err != nil || !res.Changed || !strings.Contains(string(res.Content), cmdA) {
		t.Fatalf("dry run: %+v, %v", res, err)
	}
	if b, _ := os.ReadFile(real); string(b) != existing {
		t.Error("the dry run wrote the file")
	}
	if res, err = InstallFile(link, cmdA, FileOptions{Now: fixedNow}); err != nil || res.Path != real {
		t.Fatalf("install through a symlink: %+v, %v", res, err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced by a file")
	}
	if b, _ := os.ReadFile(real); !strings.Contains(string(b), cmdA) {
		t.Error("the symlink's target was not edited")
	}
}

func TestUninstallFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.json")
	res, err := UninstallFile(path, "", FileOptions{})
	if err != nil || res.Changed {
		t.Fatalf("%+v, %v", res, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("uninstall created the file")
	}
}

func TestInstallSwitchesToThinHook(t *testing.T) {
	full := CommandFor("/usr/bin/sentinel")
	thin := ThinCommandFor("/usr/bin/sentinel-hook", "http://127.0.0.1:3300")
	data, _, err := Install(nil, full)
	if err != nil {
		t.Fatal(err)
	}
	data, cs, err := Install(data, thin)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Action != ChangeUpdated {
			t.Errorf("%s: %s, want %s", c.Event, c.Action, ChangeUpdated)
		}
	}
	if strings.Contains(string(data), full) || strings.Count(string(data), thin) != len(installed) {
		t.Errorf("after switching:\n%s", data)
	}
	// Uninstall without a command still finds the thin hook.
	data, cs, err = Uninstall(data, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Action != ChangeRemoved {
			t.Errorf("uninstall %s: %s, want %s", c.Event, c.Action, ChangeRemoved)
		}
	}
	if strings.Contains(string(data), "sentinel-hook") {
		t.Errorf("after uninstall:\n%s", data)
	}
}
