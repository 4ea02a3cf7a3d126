package escape

import (
	"context"
	"os/exec"
)

// directRunner runs the script with plain bash: no isolation at all, only
// the wall limit, enforced by killing the script's process group. It is the
// control: a case that does not escape here cannot detect an escape.
type directRunner struct{}

var _ Runner = directRunner{}

func (directRunner) Name() string { return "direct" }

func (directRunner) Available() error {
	_, err := exec.LookPath("bash")
	return err
}

func (directRunner) Run(ctx context.Context, env Env, lim Limits, script string) (Result, error) {
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = env.Workspace
	cmd.Env = env.Environ()
	return runCommand(ctx, cmd, lim.WallTime)
}
