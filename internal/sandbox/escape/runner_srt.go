package escape

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// srtRunner runs the script under Anthropic's sandbox-runtime (the `srt`
// CLI of npm @anthropic-ai/sandbox-runtime): bubblewrap for the file system
// and namespaces, a host-side proxy for the network allowlist, seccomp
// against new Unix sockets and namespaces. It takes the profile as a
// settings file. It has no resource limits; the wall limit is the runner's
// own, as a host calling srt would impose it.
type srtRunner struct {
	bin     string // SENTINEL_E2E_SRT: node_modules/.bin/srt
	nodeDir string // directory of the Node that runs it
}

var _ Runner = (*srtRunner)(nil)

func newSRTRunner() *srtRunner {
	r := &srtRunner{bin: os.Getenv("SENTINEL_E2E_SRT")}
	switch node := os.Getenv("SENTINEL_E2E_NODE"); {
	case node != "":
		r.nodeDir = filepath.Dir(node)
	case r.bin != "":
		// e2e-hosts pins a Node of its own beside srt in node_modules/.bin;
		// the Node on PATH may be too old for srt.
		r.nodeDir = filepath.Dir(r.bin)
	}
	return r
}

func (*srtRunner) Name() string { return "srt" }

func (r *srtRunner) Available() error {
	if r.bin == "" {
		return errors.New("SENTINEL_E2E_SRT is not set: install e2e-hosts (npm ci in e2e-hosts) and point it at e2e-hosts/node_modules/.bin/srt")
	}
	if err := executable(r.bin); err != nil {
		return fmt.Errorf("SENTINEL_E2E_SRT: %w", err)
	}
	if err := executable(filepath.Join(r.nodeDir, "node")); err != nil {
		return fmt.Errorf("no Node for srt (set SENTINEL_E2E_NODE): %w", err)
	}
	var missing []string
	for _, tool := range []string{"bwrap", "socat", "rg"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("srt needs %s on PATH (Debian: apt-get install bubblewrap socat ripgrep)", strings.Join(missing, ", "))
	}
	return nil
}

func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// srtSettings is the subset of srt's settings file the profile needs.
type srtSettings struct {
	Network struct {
		AllowedDomains []string `json:"allowedDomains"`
		DeniedDomains  []string `json:"deniedDomains"`
	} `json:"network"`
	Filesystem struct {
		DenyRead   []string `json:"denyRead"`
		AllowWrite []string `json:"allowWrite"`
		DenyWrite  []string `json:"denyWrite"`
	} `json:"filesystem"`
}

// srtTmp is the run's temporary directory. srt cannot mount a private
// /tmp (it stays read-only); the closest it offers is TMPDIR, which it sets
// from CLAUDE_CODE_TMPDIR, to a directory of this Env's own.
func srtTmp(env Env) string { return filepath.Join(env.State, "srt-tmp") }

// settings translates the profile. srt's reads are allowed by default, so
// Hidden becomes denyRead; writes are denied by default, so Writable and
// the run's TMPDIR are the whole allowWrite. A host is an IP literal with
// its port, which srt allows without its resolved-address check.
func (r *srtRunner) settings(env Env) srtSettings {
	p := env.Profile()
	var s srtSettings
	s.Network.DeniedDomains = []string{}
	for _, h := range p.AllowedHosts {
		s.Network.AllowedDomains = append(s.Network.AllowedDomains, h.String())
	}
	s.Filesystem.DenyRead = p.Hidden
	s.Filesystem.AllowWrite = append(slices.Clone(p.Writable), srtTmp(env))
	s.Filesystem.DenyWrite = []string{}
	return s
}

func (r *srtRunner) Run(ctx context.Context, env Env, lim Limits, script string) (Result, error) {
	data, err := json.MarshalIndent(r.settings(env), "", "  ")
	if err != nil {
		return Result{}, err
	}
	path := filepath.Join(env.State, "srt-settings.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return Result{}, err
	}
	if err := os.MkdirAll(srtTmp(env), 0o700); err != nil {
		return Result{}, err
	}
	cmd := exec.Command(r.bin, "--settings", path, "-c", script)
	cmd.Dir = env.Workspace
	cmd.Env = append(withPathFirst(env.Environ(), r.nodeDir), "CLAUDE_CODE_TMPDIR="+srtTmp(env))
	return runCommand(ctx, cmd, lim.WallTime)
}

// withPathFirst puts dir at the front of environ's PATH.
func withPathFirst(environ []string, dir string) []string {
	out := make([]string, 0, len(environ)+1)
	found := false
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			kv = "PATH=" + dir + string(os.PathListSeparator) + v
			found = true
		}
		out = append(out, kv)
	}
	if !found {
		out = append(out, "PATH="+dir)
	}
	return out
}
