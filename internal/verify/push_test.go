package verify

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitRun runs git in dir with a fixed identity and no user configuration.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=Verify Test", "-c", "user.email=verify@example.com", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// pushedRepo makes a bare repository standing in for the remote and a
// clone with one commit pushed to main. It returns the clone and the
// remote's path.
func pushedRepo(t *testing.T) (clone, remote string) {
	t.Helper()
	needTool(t, "git")
	root := t.TempDir()
	remote = filepath.Join(root, "remote.git")
	clone = filepath.Join(root, "work")
	gitRun(t, root, "init", "--bare", "--quiet", remote)
	gitRun(t, root, "clone", "--quiet", remote, clone)
	gitRun(t, clone, "checkout", "--quiet", "-B", "main")
	write(t, filepath.Join(clone, "README"), "one\n")
	gitRun(t, clone, "add", "README")
	gitRun(t, clone, "commit", "--quiet", "-m", "one")
	gitRun(t, clone, "push", "--quiet", "origin", "main")
	return clone, remote
}

func commit(t *testing.T, dir, content string) string {
	t.Helper()
	write(t, filepath.Join(dir, "README"), content)
	gitRun(t, dir, "commit", "--quiet", "-am", content)
	return gitRun(t, dir, "rev-parse", "HEAD")
}

func TestPush(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(t *testing.T, clone, remote string) Push
		status    Status
		code      string
		reasonHas string
	}{
		{"pushed HEAD to main", func(t *testing.T, clone, _ string) Push {
			return Push{Dir: clone, Remote: "origin", Branch: "main"}
		}, Pass, "", "remote origin branch main is at"},
		{"defaults: origin, the checked-out branch, HEAD", func(t *testing.T, clone, _ string) Push {
			return Push{Dir: clone}
		}, Pass, "", "branch main"},
		{"committed but not pushed", func(t *testing.T, clone, _ string) Push {
			commit(t, clone, "two")
			return Push{Dir: clone, Branch: "main"}
		}, Fail, "push.mismatch", "not at the claimed"},
		{"explicit full commit that was pushed", func(t *testing.T, clone, _ string) Push {
			sha := gitRun(t, clone, "rev-parse", "HEAD")
			commit(t, clone, "two")
			return Push{Dir: clone, Branch: "main", Commit: sha}
		}, Pass, "", "branch main"},
		{"abbreviated commit resolves locally", func(t *testing.T, clone, _ string) Push {
			return Push{Dir: clone, Branch: "main", Commit: gitRun(t, clone, "rev-parse", "--short", "HEAD")}
		}, Pass, "", "branch main"},
		{"full commit unknown locally is compared as is", func(t *testing.T, clone, _ string) Push {
			return Push{Dir: clone, Branch: "main", Commit: strings.Repeat("ab", 20)}
		}, Fail, "push.mismatch", "not at the claimed abababababab"},
		{"branch never pushed", func(t *testing.T, clone, _ string) Push {
			gitRun(t, clone, "checkout", "--quiet", "-b", "feature")
			commit(t, clone, "feature work")
			return Push{Dir: clone}
		}, Fail, "push.branch_missing", "has no branch feature"},
		{"remote given as a path", func(t *testing.T, clone, remote string) Push {
			return Push{Dir: clone, Remote: remote, Branch: "main"}
		}, Pass, "", "branch main"},
		{"remote given as a path relative to the repository", func(t *testing.T, clone, _ string) Push {
			return Push{Dir: clone, Remote: "../remote.git", Branch: "main"}
		}, Pass, "", "branch main"},
		{"push URL is the one checked", func(t *testing.T, clone, remote string) Push {
			empty := filepath.Join(t.TempDir(), "empty.git")
			gitRun(t, clone, "init", "--bare", "--quiet", empty)
			gitRun(t, clone, "remote", "set-url", "--push", "origin", empty)
			return Push{Dir: clone, Branch: "main"}
		}, Fail, "push.branch_missing", "has no branch main"},
		{"remote unreachable", func(t *testing.T, clone, _ string) Push {
			return Push{Dir: clone, Remote: "/nonexistent/remote.git", Branch: "main"}
		}, Fail, "push.unreachable", "push of"},
		{"remote unreachable over the network", func(t *testing.T, clone, _ string) Push {
			return Push{Dir: clone, Remote: "http://127.0.0.1:1/repo.git", Branch: "main"}
		}, Fail, "push.unreachable", "not confirmed"},
		{"remote name not configured", func(t *testing.T, clone, _ string) Push {
			return Push{Dir: clone, Remote: "upstream", Branch: "main"}
		}, Fail, "push.no_remote", `remote "upstream" is not configured`},
		{"detached HEAD without a branch", func(t *testing.T, clone, _ string) Push {
			gitRun(t, clone, "checkout", "--quiet", "--detach")
			return Push{Dir: clone}
		}, Fail, "push.invalid_claim", "name the branch"},
		{"not a repository", func(t *testing.T, _, _ string) Push {
			return Push{Dir: t.TempDir(), Branch: "main"}
		}, Fail, "push.invalid_claim", "not a commit"},
		{"remote that is an option", func(t *testing.T, clone, _ string) Push {
			return Push{Dir: clone, Remote: "--upload-pack=touch /tmp/x", Branch: "main"}
		}, Fail, "push.invalid_claim", "may not start with '-'"},
		{"branch that is an option", func(t *testing.T, clone, _ string) Push {
			return Push{Dir: clone, Branch: "--all"}
		}, Fail, "push.invalid_claim", "starts with '-'"},
		{"branch with a full ref", func(t *testing.T, clone, _ string) Push {
			return Push{Dir: clone, Branch: "refs/heads/main"}
		}, Fail, "push.invalid_claim", "starts with refs/"},
		{"commit that is an option", func(t *testing.T, clone, _ string) Push {
			return Push{Dir: clone, Branch: "main", Commit: "--output=/tmp/x"}
		}, Fail, "push.invalid_claim", "may not start with '-'"},
		{"git not installed fails closed", func(t *testing.T, clone, _ string) Push {
			t.Setenv("PATH", t.TempDir())
			return Push{Dir: clone, Branch: "main"}
		}, Fail, "push.invalid_claim", "git is not installed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clone, remote := pushedRepo(t)
			p := tt.setup(t, clone, remote)
			r := Run(context.Background(), Claim{Push: &p}, nil, offline(t.TempDir()))
			assertCheck(t, r, CheckPush, tt.status, tt.code, tt.reasonHas)
		})
	}
}

// The repository's own configuration is the agent's to edit; listing the
// remote must not run the upload-pack it names.
func TestPushDoesNotRunRepositoryConfig(t *testing.T) {
	clone, _ := pushedRepo(t)
	marker := filepath.Join(t.TempDir(), "ran")
	hook := write(t, filepath.Join(t.TempDir(), "evil-upload-pack"), "#!/bin/sh\ntouch "+marker+"\nexec git-upload-pack \"$@\"\n")
	if err := os.Chmod(hook, 0o755); err != nil {
		t.Fatal(err)
	}
	gitRun(t, clone, "config", "remote.origin.uploadpack", hook)
	gitRun(t, clone, "config", "core.sshCommand", hook)
	r := Run(context.Background(), Claim{Push: &Push{Dir: clone, Branch: "main"}}, nil, offline(t.TempDir()))
	assertCheck(t, r, CheckPush, Pass, "", "branch main")
	if _, err := os.Stat(marker); err == nil {
		t.Error("verification ran the upload-pack named in the repository's configuration")
	}
	// The same configuration does run for a plain ls-remote inside the
	// repository, so the test would catch a regression.
	gitRun(t, clone, "ls-remote", "origin")
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("control: git ls-remote origin did not run the configured upload-pack: %v", err)
	}
}

func TestValidBranch(t *testing.T) {
	for _, ok := range []string{"main", "feature/x", "release-1.2", "user/a_b"} {
		if err := validBranch(ok); err != nil {
			t.Errorf("validBranch(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "@", "-x", "a..b", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", `a\b`, "a/", "/a", "a.", "a.lock", "a//b", "a@{1}", ".a", "a/.b", "a\x7f", "refs/heads/x"} {
		if err := validBranch(bad); err == nil {
			t.Errorf("validBranch(%q) = nil, want an error", bad)
		}
	}
}

func TestIsLocalPath(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"/srv/repo.git", true},
		{"../repo.git", true},
		{"./a:b/repo", true},
		{"https://example.com/r.git", false},
		{"file:///srv/r.git", false},
		{"git@example.com:org/r.git", false},
		{"host:r.git", false},
	}
	for _, tt := range tests {
		if got := isLocalPath(tt.in); got != tt.want {
			t.Errorf("isLocalPath(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
