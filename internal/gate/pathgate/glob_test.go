package pathgate

import (
	"slices"
	"strings"
	"testing"
)

func TestExpandBraces(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a", []string{"a"}},
		{"{a,b}", []string{"a", "b"}},
		{"x/{a,b}.{c,d}", []string{"x/a.c", "x/a.d", "x/b.c", "x/b.d"}},
		{"{a,{b,c}}z", []string{"az", "bz", "cz"}},
		{`\{a,b}`, []string{`\{a,b}`}},
		{"[{]x", []string{"[{]x"}},
		{"{}", []string{""}},
	}
	for _, tt := range tests {
		got, err := expandBraces(tt.in, maxAlternatives)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("expandBraces(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := expandBraces(strings.Repeat("{a,b}", 9), maxAlternatives); err == nil {
		t.Error("expandBraces accepted 512 alternatives")
	}
}

func TestIntersects(t *testing.T) {
	tests := []struct {
		pattern, path string
		strict, want  bool
	}{
		// Loose: anchored patterns against wildcard paths.
		{"/etc/shadow", "/etc/*", false, true},
		{"/etc/shadow", "/etc/s*", false, true},
		{"/etc/shadow", "/etc/p*", false, false},
		{"/etc/shadow", "/e*/sha*", false, true},
		{"/home/u/.ssh/**", "/home/u/.ssh/*", false, true},
		{"/home/u/.ssh/**", "/home/u/*", false, false}, // a shell "*" skips dot files
		{"/home/u/.ssh/**", "/home/u/.*", false, true},
		{"/home/u/.ssh/**", "/home/*/.ssh/id_rsa", false, true},
		{"/home/u/.ssh/**", "/home/u/**", false, false}, // globstar skips dot dirs
		{"/proc/*/environ", "/proc/*/env*", false, true},
		{"/etc/ssh/ssh_host_*_key", "/etc/ssh/*", false, true},
		{"/etc/ssh/ssh_host_*_key", "/etc/ssh/*.pub", false, false},
		{"/a/b", "…/b", false, true},
		{"/a/b", "…/c", false, false},
		// Unknown location (…): a known name has to meet a name in the
		// pattern.
		{"/home/u/.aws/**", "…/.aws/credentials", false, true},
		{"/home/u/.ssh/**", "…/notes.txt", false, false},
		{"/home/u/.ssh/**", "…/*", false, false},
		{"/home/u/.ssh/**", "/home/u/…", false, true}, // everything below
		{"/etc/shadow", "…/etc/bash_completion", false, false},
		{"/root/**", "…/etc/x", false, false},
		{"**/id_rsa", "…/id_rsa", true, true},
		{"/proc/*/environ", "…/bundled-libs/…", false, false}, // "*" spells no name
		{"**/*.pem", "…/server.pem", true, true},
		// A globstar does not enter dot directories.
		{"**/.git/hooks/**", "/w/**/*.pyc", true, false},
		{"**/.git/hooks/**", "/w/.git/**/*.py", true, true},
		// Strict: unanchored patterns need a wildcard at least as specific.
		{"**/*.pem", "/w/*.pem", true, true},
		{"**/*.pem", "/w/prod-*.pem", true, true},
		{"**/*.pem", "/w/*", true, false},
		{"**/*.pem", "/w/cert*", true, false},
		{"**/id_rsa", "/w/*", true, false},
		{"**/.env", "/w/*", true, false},
		{"**/.env", "**/.env", true, true},
		{"**/service-account*.json", "/w/*.json", true, false},
		{"**/service-account*.json", "/w/service-account-*.json", true, true},
	}
	for _, tt := range tests {
		q := splitComps(tt.path)
		for i, c := range q {
			if c == "…" {
				q[i] = anyPath
			}
		}
		got := intersects(nil, splitComps(tt.pattern), q, tt.strict)
		if got != tt.want {
			t.Errorf("intersects(%q, %q, strict=%v) = %v, want %v", tt.pattern, tt.path, tt.strict, got, tt.want)
		}
	}
}

func TestLabel(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"~/.ssh/**", "an SSH key or configuration file"},
		{"id_ed25519", "a private key"},
		{"*.pem", "a private key"},
		{".env.*", "an environment file"},
		{"/etc/shadow", "a system credential file"},
		{"/proc/*/environ", "a process environment"},
		{"~/.sentinel/**", "Sentinel's own data"},
		{".git/hooks/**", "a git hook"},
		{"~/.zsh_history", "a shell or client history"},
		{"~/.aws/**", "a credential file"},
	}
	for _, tt := range tests {
		if got := label(tt.pattern); got != tt.want {
			t.Errorf("label(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}
