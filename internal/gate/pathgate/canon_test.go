package pathgate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentinel-agent/sentinel/internal/gate"
)

// world is a temporary workspace and home with links in them:
//
//	ws/src/main.go
//	ws/package.json
//	ws/etc        -> /etc                      (a link to a system directory)
//	ws/notes.txt  -> home/.ssh/id_rsa          (a link to a private key)
//	ws/inner      -> src                       (a link that stays inside)
//	ws/up         -> ../outside                (relative, leaves the workspace)
//	ws/loop1 <-> ws/loop2                      (a cycle)
//	ws/.env.example -> .env                    (an allowed name for a secret)
//	home/.ssh/id_rsa, home/.ssh/id_rsa.pub
//	outside/file
type world struct {
	root, ws, home, outside string
	env                     gate.Env
}

func newWorld(t testing.TB) world {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := world{root: root, ws: filepath.Join(root, "ws"), home: filepath.Join(root, "home"), outside: filepath.Join(root, "outside")}
	for _, d := range []string{w.ws + "/src", w.home + "/.ssh", w.outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{w.ws + "/src/main.go", w.ws + "/package.json", w.ws + "/.env", w.home + "/.ssh/id_rsa", w.home + "/.ssh/id_rsa.pub", w.outside + "/file"} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	links := [][2]string{
		{"/etc", w.ws + "/etc"},
		{w.home + "/.ssh/id_rsa", w.ws + "/notes.txt"},
		{"src", w.ws + "/inner"},
		{"../outside", w.ws + "/up"},
		{"loop2", w.ws + "/loop1"},
		{"loop1", w.ws + "/loop2"},
		{".env", w.ws + "/.env.example"},
	}
	for _, l := range links {
		if err := os.Symlink(l[0], l[1]); err != nil {
			t.Fatal(err)
		}
	}
	w.env = gate.Env{Workspace: w.ws, Home: w.home, Cwd: w.ws}
	return w
}

func TestCanonicalize(t *testing.T) {
	w := newWorld(t)
	sub := w.env
	sub.Cwd = w.ws + "/src"
	tests := []struct {
		name     string
		path     string
		env      gate.Env
		wantAbs  string
		wantIn   bool
		wantRel  string
		wantLink bool
		wantErr  error
	}{
		{"relative", "src/main.go", w.env, w.ws + "/src/main.go", true, "src/main.go", false, nil},
		{"relative to cwd", "main.go", sub, w.ws + "/src/main.go", true, "src/main.go", false, nil},
		{"dot dot inside", "src/../package.json", w.env, w.ws + "/package.json", true, "package.json", false, nil},
		{"workspace itself", ".", w.env, w.ws, true, ".", false, nil},
		{"escape by dot dot", "../outside/file", w.env, w.outside + "/file", false, "", false, nil},
		{"tilde", "~", w.env, w.home, false, "", false, nil},
		{"tilde slash", "~/.ssh/id_rsa", w.env, w.home + "/.ssh/id_rsa", false, "", false, nil},
		{"dollar home", "$HOME/.ssh/id_rsa", w.env, w.home + "/.ssh/id_rsa", false, "", false, nil},
		{"braced home", "${HOME}/.ssh", w.env, w.home + "/.ssh", false, "", false, nil},
		{"tilde root", "~root/.bashrc", w.env, "/root/.bashrc", false, "", false, nil},
		{"tilde other user", "~alice/x", w.env, w.root + "/alice/x", false, "", false, nil},
		{"not a home form", "$HOMEDIR/x", w.env, w.ws + "/$HOMEDIR/x", true, "$HOMEDIR/x", false, nil},
		{"link to system dir", "etc/passwd", w.env, "/etc/passwd", false, "", true, nil},
		{"link to key", "notes.txt", w.env, w.home + "/.ssh/id_rsa", false, "", true, nil},
		{"link staying inside", "inner/main.go", w.env, w.ws + "/src/main.go", true, "src/main.go", true, nil},
		{"relative link leaving", "up/file", w.env, w.outside + "/file", false, "", true, nil},
		{"dot dot after link is physical", "etc/../tmp", w.env, "/tmp", false, "", true, nil},
		{"missing tail kept", "src/new/dir/f.txt", w.env, w.ws + "/src/new/dir/f.txt", true, "src/new/dir/f.txt", false, nil},
		{"proc root", "/proc/self/root/etc/shadow", w.env, "/etc/shadow", false, "", true, nil},
		{"proc cwd", "/proc/self/cwd/src/main.go", w.env, w.ws + "/src/main.go", true, "src/main.go", true, nil},
		{"dev stdout is not followed", "/dev/stdout", w.env, "/dev/stdout", false, "", false, nil},
		{"proc environ", "/proc/1/environ", w.env, "/proc/1/environ", false, "", false, nil},
		{"loop", "loop1/x", w.env, "", false, "", false, ErrLoop},
		{"nul", "a\x00b", w.env, "", false, "", false, ErrNUL},
		{"empty", "", w.env, "", false, "", false, ErrEmpty},
		{"too long", strings.Repeat("a/", MaxPathLen), w.env, "", false, "", false, ErrTooLong},
		{"no home", "~/x", gate.Env{Workspace: w.ws}, "", false, "", false, ErrNoHome},
		{"no base", "x", gate.Env{Home: w.home}, "", false, "", false, ErrNoBase},
		{"workspace as base when cwd unset", "x", gate.Env{Workspace: w.ws}, w.ws + "/x", true, "x", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonicalize(tt.path, tt.env)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Canonicalize(%q) error = %v, want %v", tt.path, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Canonicalize(%q): %v", tt.path, err)
			}
			if got.Abs != tt.wantAbs || got.InWorkspace != tt.wantIn || got.Rel != tt.wantRel || got.ViaSymlink != tt.wantLink {
				t.Errorf("Canonicalize(%q) = {Abs:%q In:%v Rel:%q Link:%v}, want {Abs:%q In:%v Rel:%q Link:%v}",
					tt.path, got.Abs, got.InWorkspace, got.Rel, got.ViaSymlink, tt.wantAbs, tt.wantIn, tt.wantRel, tt.wantLink)
			}
			again, err := Canonicalize(got.Abs, tt.env)
			if err != nil || again.Abs != got.Abs {
				t.Errorf("not idempotent: Canonicalize(%q) = %q, %v", got.Abs, again.Abs, err)
			}
		})
	}
}

func TestCanonicalizeWorkspaceThroughLink(t *testing.T) {
	// The workspace given through a link is compared after resolution.
	w := newWorld(t)
	alias := filepath.Join(w.root, "alias")
	if err := os.Symlink(w.ws, alias); err != nil {
		t.Fatal(err)
	}
	env := gate.Env{Workspace: alias, Home: w.home, Cwd: alias}
	got, err := Canonicalize("src/main.go", env)
	if err != nil {
		t.Fatal(err)
	}
	if got.Abs != w.ws+"/src/main.go" || !got.InWorkspace || got.Rel != "src/main.go" {
		t.Errorf("got %+v, want %s inside the workspace", got, w.ws+"/src/main.go")
	}
}

func TestExpandHome(t *testing.T) {
	tests := []struct{ in, want string }{
		{"~", "/home/u"},
		{"~/a", "/home/u/a"},
		{"$HOME/a", "/home/u/a"},
		{"${HOME}", "/home/u"},
		{"~root", "/root"},
		{"~bob/x", "/home/bob/x"},
		{"~~", "~~"},
		{"a/~", "a/~"},
		{"/x/$HOME", "/x/$HOME"},
	}
	for _, tt := range tests {
		got, err := ExpandHome(tt.in, "/home/u/")
		if err != nil || got != tt.want {
			t.Errorf("ExpandHome(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := ExpandHome("~/x", ""); !errors.Is(err, ErrNoHome) {
		t.Errorf("ExpandHome without home: err = %v, want ErrNoHome", err)
	}
}
