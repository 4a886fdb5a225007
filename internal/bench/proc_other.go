//go:build !linux

package bench

import "os/exec"

// dieWithParent does nothing here: the processes stop when the bench does
// (its context, Ctrl-C), but not when it is killed.
func dieWithParent(cmd *exec.Cmd) {}
