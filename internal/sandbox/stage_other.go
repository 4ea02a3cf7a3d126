//go:build !linux

package sandbox

import (
	"context"
	"errors"
	"os"
	"os/exec"
)

// Main does nothing off Linux: there are no sandbox stages.
func Main() {}

func runSandboxed(context.Context, Spec, string, []string, *Result) (*Result, error) {
	return nil, errors.New("sandbox: the sandbox needs Linux (namespaces, Landlock, seccomp); use --mode direct or dry-run")
}

func setProcessGroup(*exec.Cmd)          {}
func exitSignal(*os.ProcessState) string { return "" }
func signalNumber(*os.ProcessState) int  { return 0 }
