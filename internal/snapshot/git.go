package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Git is run on workspaces an agent writes to, and a repository's own
// config can make git run commands, so git is run defensively: without
// the caller's GIT_* variables, without optional locks (status must not
// rewrite the index of the workspace being recorded), with the fsmonitor
// and hooks off, submodules ignored, bounded output and a timeout; and
// git status, which runs the filter drivers a repository configures, is
// not run at all in a repository whose own config names one. Git's
// answers are a convenience: Take records them, and Restore accepts
// content from git only when it hashes to what Take recorded.

// maxGitOutput bounds what is kept of one git command's output.
const maxGitOutput = 64 << 10

// gitBin returns the git binary, or "" when there is none.
func (s *Store) gitBin() string {
	if s.opts.NoGit {
		return ""
	}
	bin := s.opts.GitPath
	if bin == "" {
		bin = "git"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return ""
	}
	return path
}

func (s *Store) gitCmd(ctx context.Context, bin, dir string, args ...string) *exec.Cmd {
	full := append([]string{"-C", dir, "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "--no-pager"}, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	env := []string{"GIT_OPTIONAL_LOCKS=0", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "LC_ALL=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	cmd.WaitDelay = time.Second
	return cmd
}

// capped keeps the first maxGitOutput bytes written to it and counts the
// rest.
type capped struct {
	buf bytes.Buffer
	n   int64
}

func (c *capped) Write(p []byte) (int, error) {
	if room := maxGitOutput - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	c.n += int64(len(p))
	return len(p), nil
}

// git runs one git command in dir and returns its trimmed output.
func (s *Store) git(ctx context.Context, bin, dir string, args ...string) (string, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.GitTimeout)
	defer cancel()
	var out, errOut capped
	cmd := s.gitCmd(ctx, bin, dir, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errOut.buf.String())
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return "", 0, fmt.Errorf("git %s: %w: %s", args[0], err, msg)
	}
	return strings.TrimSpace(out.buf.String()), out.n, nil
}

// gitState returns the state of the repository holding ws, or nil when
// there is no git or ws is not in a repository.
func (s *Store) gitState(ctx context.Context, ws string) *Git {
	bin := s.gitBin()
	if bin == "" {
		return nil
	}
	root, _, err := s.git(ctx, bin, ws, "rev-parse", "--show-toplevel")
	if err != nil || !filepath.IsAbs(root) {
		return nil
	}
	g := &Git{Root: filepath.Clean(root)}
	// A repository without commits has no HEAD; that is not an error.
	if head, _, err := s.git(ctx, bin, ws, "rev-parse", "--verify", "-q", "HEAD^{commit}"); err == nil && isLowerHex(head) && len(head) >= 40 {
		g.Head = head
	}
	if branch, _, err := s.git(ctx, bin, ws, "symbolic-ref", "-q", "--short", "HEAD"); err == nil {
		g.Branch = branch
	}
	if filters, err := s.repoFilters(ctx, bin, ws); err != nil || filters != "" {
		g.Dirty = true
		g.Note = "status not run, taken as dirty: the repository's own config names filter drivers (" + filters + "), which git status would run"
		if err != nil {
			g.Note = "status not run, taken as dirty: reading the repository's filter config: " + err.Error()
		}
		return g
	}
	_, n, err := s.git(ctx, bin, ws, "status", "--porcelain", "-z", "--ignore-submodules=all")
	switch {
	case err != nil:
		g.Dirty = true
		g.Note = "status unknown, taken as dirty: " + err.Error()
	default:
		g.Dirty = n > 0
	}
	return g
}

// repoFilters names the filter drivers that config outside the system
// and global files (the repository's, which the agent can write, and what
// it includes) defines, reading the config without running anything.
func (s *Store) repoFilters(ctx context.Context, bin, ws string) (string, error) {
	out, n, err := s.git(ctx, bin, ws, "config", "--show-scope", "--includes", "--get-regexp", `^filter\.`)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return "", nil // no filter configured anywhere
	}
	if err != nil {
		return "", err
	}
	if n > maxGitOutput {
		return "", errors.New("more filter config than is read")
	}
	var names []string
	for line := range strings.Lines(out) {
		scope, rest, _ := strings.Cut(strings.TrimSpace(line), "\t")
		if scope == "system" || scope == "global" {
			continue
		}
		key, _, _ := strings.Cut(rest, " ")
		if len(names) < 5 {
			names = append(names, key)
		}
	}
	return strings.Join(names, ", "), nil
}

// gitBlob streams the content the snapshot's commit holds for the
// workspace file p. The caller verifies it against the recorded hash.
func (s *Store) gitBlob(ctx context.Context, snap *Snapshot, p string) (io.ReadCloser, string, error) {
	g := snap.Git
	if g == nil || g.Head == "" {
		return nil, "", errors.New("the workspace was not in a git repository with a commit")
	}
	bin := s.gitBin()
	if bin == "" {
		return nil, "", errors.New("git is not available")
	}
	inRepo, err := filepath.Rel(g.Root, filepath.Join(snap.Workspace, filepath.FromSlash(p)))
	if err != nil || !filepath.IsLocal(inRepo) || !isLowerHex(g.Head) {
		return nil, "", fmt.Errorf("%s is not inside the repository %s", p, g.Root)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.GitTimeout)
	// A raw blob, no filters: filters run commands the repository's
	// config names.
	cmd := s.gitCmd(ctx, bin, g.Root, "cat-file", "blob", g.Head+":"+filepath.ToSlash(inRepo))
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, "", err
	}
	from := "git commit " + g.Head[:12]
	return &gitReader{out: out, cmd: cmd, cancel: cancel}, from, nil
}

type gitReader struct {
	out    io.ReadCloser
	cmd    *exec.Cmd
	cancel context.CancelFunc
}

func (g *gitReader) Read(p []byte) (int, error) { return g.out.Read(p) }

func (g *gitReader) Close() error {
	g.cancel()
	_ = g.cmd.Wait()
	return nil
}
