package policy

import (
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/sandbox/profile"
)

func TestSandboxProfiles(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`version: 1
extends: builtin
sandbox:
  profiles:
    build:
      writable: ["${workspace}", "~/.cache/go-build"]
      network: allowlist
      allow: ["proxy.golang.org", "*.npmjs.org:443"]
      limits: {memory: 4GiB, processes: 1024, wall: 30m}
`))
	if err != nil {
		t.Fatal(err)
	}
	build, err := p.SandboxProfile("build")
	if err != nil {
		t.Fatal(err)
	}
	r, err := build.Resolve("build", profile.Vars{Workspace: "/w", Home: "/h", DataDir: "/d"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Network != profile.NetworkAllowlist || r.Memory != 4<<30 || r.Processes != 1024 || r.Writable[1] != "/h/.cache/go-build" {
		t.Errorf("resolved build profile: %+v", r)
	}
	// What the profile leaves unset comes from the default.
	if len(r.Hidden) == 0 || r.Hidden[0] != "/h/.ssh" || len(r.Env) == 0 || r.OpenFiles != 1024 {
		t.Errorf("build profile lacks the default's hidden paths, env or limits: %+v", r)
	}
	// The built-in default is there unless replaced.
	def, err := p.SandboxProfile("")
	if err != nil || def.Network != profile.NetworkNone || len(def.Hidden) == 0 {
		t.Errorf("default profile = %+v, %v", def, err)
	}
	if _, err := p.SandboxProfile("ci"); err == nil || !strings.Contains(err.Error(), "known: default, build") {
		t.Errorf("unknown profile: %v; want the known names", err)
	}
}

func TestSandboxProfileProblems(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"net:\n      network: wifi\n", "sandbox.profiles.net"},
		{"net:\n      network: wifi\n", `network: "wifi": use none, localhost or allowlist`},
		{"x:\n      allow: [example.com]\n", "applies to network: allowlist only"},
		{"x:\n      network: allowlist\n      allow: ['*']\n", "a bare * would allow everything"},
		{"x:\n      writable: [relative/dir]\n", "is not absolute"},
		{"x:\n      writable: [/]\n", "whole file system writable"},
		{"x:\n      limits: {memory: lots}\n", "limits.memory"},
		{"x:\n      limits: {wall: -1s}\n", "limits.wall"},
		{"Bad_Name:\n      network: none\n", "profile name"},
		{"x:\n      networks: none\n", `unknown field "networks"`},
	} {
		_, err := Parse("p.yaml", []byte("version: 1\nsandbox:\n  profiles:\n    "+tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v; want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestSandboxProfilesMerge(t *testing.T) {
	base, err := Parse("base.yaml", []byte("version: 1\nsandbox:\n  profiles:\n    a: {network: none}\n    b: {network: none}\n"))
	if err != nil {
		t.Fatal(err)
	}
	over, err := Parse("over.yaml", []byte("version: 1\nsandbox:\n  profiles:\n    b: {network: localhost, localhost_ports: [5432]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	m := merge(base, over)
	if m.Sandbox.Profiles["a"].Network != "none" || m.Sandbox.Profiles["b"].Network != "localhost" {
		t.Errorf("merged profiles: %+v", m.Sandbox.Profiles)
	}
	if base.Sandbox.Profiles["b"].Network != "none" {
		t.Error("merge changed the base policy's profiles")
	}
}
