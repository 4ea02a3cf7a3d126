//go:build !unix

package verify

import "os/exec"

const openNonblock = 0

// killGroup kills only the command itself where process groups are not
// available; WaitDelay still bounds the wait for its children.
func killGroup(*exec.Cmd) {}
