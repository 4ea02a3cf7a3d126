package verify

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// checkPush lists the remote branch and compares its tip with the claimed
// commit. A remote that cannot be listed is FAIL: the push is unconfirmed.
func checkPush(ctx context.Context, r *runner) tally {
	var t tally
	p := r.claim.Push
	if p == nil {
		return t
	}
	st, code, note, ref := r.push(ctx, *p)
	t.add(st, code, note)
	t.passed = ref
	return t
}

// push returns the status, code and note, and on PASS a summary.
func (r *runner) push(ctx context.Context, p Push) (Status, string, string, string) {
	dir := r.abs(p.Dir) // "" is Workdir itself
	remote := p.Remote
	if remote == "" {
		remote = "origin"
	}
	if err := safeArg("Remote", remote); err != nil {
		return Fail, "push.invalid_claim", err.Error(), ""
	}
	branch := p.Branch
	if branch == "" {
		out, err := r.git(ctx, dir, "symbolic-ref", "--quiet", "--short", "HEAD")
		if err != nil {
			return Fail, "push.invalid_claim", fmt.Sprintf("push claim has no Branch and %s has no branch checked out (%v): name the branch", dir, err), ""
		}
		branch = out
	}
	if err := validBranch(branch); err != nil {
		return Fail, "push.invalid_claim", err.Error(), ""
	}
	want, err := r.expectedCommit(ctx, dir, p.Commit)
	if err != nil {
		return Fail, "push.invalid_claim", err.Error(), ""
	}
	url, err := r.remoteURL(ctx, dir, remote)
	if err != nil {
		return Fail, "push.no_remote", err.Error(), ""
	}
	ref := "refs/heads/" + branch
	// Listed from "/", outside the repository: the repository's own
	// configuration (upload-pack, ssh command, credential helpers) is what
	// an agent can edit, so it must not run here.
	out, err := r.gitIn(ctx, "/", "-c", "protocol.ext.allow=never", "ls-remote", "--end-of-options", url, ref)
	if err != nil {
		return Fail, "push.unreachable", fmt.Sprintf("cannot list %s of remote %s, push of %s not confirmed: %v", ref, remote, short(want), err), ""
	}
	got, found := "", false
	for _, line := range strings.Split(out, "\n") {
		sha, name, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if ok && name == ref {
			got, found = strings.ToLower(sha), true
		}
	}
	switch {
	case !found:
		return Fail, "push.branch_missing", fmt.Sprintf("remote %s has no branch %s: the claimed push of %s did not happen", remote, branch, short(want)), ""
	case got != want:
		return Fail, "push.mismatch", fmt.Sprintf("remote %s branch %s is at %s, not at the claimed %s: the push did not happen or was overwritten", remote, branch, short(got), short(want)), ""
	}
	return Pass, "", "", fmt.Sprintf("remote %s branch %s is at %s", remote, branch, short(want))
}

// expectedCommit resolves the claimed commit (default HEAD) to a full
// object name in the local repository.
func (r *runner) expectedCommit(ctx context.Context, dir, commit string) (string, error) {
	rev := commit
	if rev == "" {
		rev = "HEAD"
	}
	if err := safeArg("Commit", rev); err != nil {
		return "", err
	}
	out, err := r.git(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err == nil && isHex(out) {
		return strings.ToLower(out), nil
	}
	// A full object name needs no local repository: the push may have
	// come from elsewhere.
	if commit != "" && isHex(commit) && (len(commit) == 40 || len(commit) == 64) {
		return strings.ToLower(commit), nil
	}
	if err == nil {
		err = fmt.Errorf("unexpected output %q", clip(out, 100))
	}
	return "", fmt.Errorf("push claim Commit %q: not a commit in %s: %v", rev, dir, err)
}

// remoteURL returns the URL a push to remote goes to: a configured
// remote's push URL, or remote itself when it is a URL or a path. Reading
// it runs nothing from the repository.
func (r *runner) remoteURL(ctx context.Context, dir, remote string) (string, error) {
	url := remote
	if !strings.ContainsAny(remote, `/:\`) {
		out, err := r.git(ctx, dir, "remote", "get-url", "--push", remote)
		if err != nil {
			return "", fmt.Errorf("remote %q is not configured in %s: %v", remote, dir, err)
		}
		url = out
	}
	// A relative path is relative to the repository, but ls-remote runs
	// elsewhere.
	if isLocalPath(url) && !filepath.IsAbs(url) {
		url = filepath.Join(dir, url)
	}
	return url, nil
}

// isLocalPath tells a path from a URL ("https://…") and from the scp form
// ("host:path").
func isLocalPath(u string) bool {
	if strings.Contains(u, "://") {
		return false
	}
	colon, slash := strings.IndexByte(u, ':'), strings.IndexByte(u, '/')
	return colon < 0 || (slash >= 0 && slash < colon)
}

// git runs git in the repository dir and returns its trimmed output.
func (r *runner) git(ctx context.Context, dir string, args ...string) (string, error) {
	return r.gitIn(ctx, dir, append([]string{"-C", dir}, args...)...)
}

func (r *runner) gitIn(ctx context.Context, cwd string, args ...string) (string, error) {
	res, err := runCommand(ctx, r.opts.Timeout, r.opts.MaxOutputBytes, cwd, []string{"GIT_TERMINAL_PROMPT=0"}, append([]string{r.opts.Git}, args...))
	out := strings.TrimSpace(res.output)
	if err != nil {
		return "", fmt.Errorf("git: %w", err)
	}
	if res.exit != 0 {
		if out == "" {
			out = fmt.Sprintf("exit status %d", res.exit)
		}
		return "", errors.New(clip(out, 1<<10))
	}
	return out, nil
}

// safeArg rejects values git would read as options or that cannot be a
// single argument.
func safeArg(field, v string) error {
	if strings.HasPrefix(v, "-") || strings.ContainsAny(v, "\x00\n\r") || len(v) > 4096 {
		return fmt.Errorf("push claim %s %q: may not start with '-' or contain control characters", field, v)
	}
	return nil
}

// validBranch applies the rules of git check-ref-format to a branch name.
func validBranch(b string) error {
	bad := func(why string) error {
		return fmt.Errorf("push claim Branch %q: %s (name the branch without refs/heads/, like \"main\")", b, why)
	}
	switch {
	case b == "" || b == "@":
		return bad("empty")
	case strings.HasPrefix(b, "-"):
		return bad("starts with '-'")
	case strings.HasPrefix(b, "refs/"):
		return bad("starts with refs/")
	case strings.Contains(b, "..") || strings.Contains(b, "@{") || strings.Contains(b, "//"):
		return bad("contains '..', '@{' or '//'")
	case strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") || strings.HasSuffix(b, ".") || strings.HasSuffix(b, ".lock"):
		return bad("starts or ends with '/', or ends with '.' or '.lock'")
	case len(b) > 1024:
		return bad("too long")
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) {
			return bad(fmt.Sprintf("contains %q", c))
		}
	}
	for _, part := range strings.Split(b, "/") {
		if strings.HasPrefix(part, ".") {
			return bad("a component starts with '.'")
		}
	}
	return nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
