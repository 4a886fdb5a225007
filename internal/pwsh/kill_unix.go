//go:build !windows

package pwsh

import (
	"os/exec"
	"syscall"
	"time"
)

// killTree makes the command run in a process group of its own, killed
// whole when the call's context ends: PowerShell's children go with it.
func killTree(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
}
