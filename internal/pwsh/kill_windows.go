//go:build windows

package pwsh

import (
	"os/exec"
	"strconv"
	"time"
)

// killTree kills the command and every process it started (taskkill /T)
// when the call's context ends.
func killTree(cmd *exec.Cmd) {
	cmd.Cancel = func() error {
		return exec.Command("taskkill", "/T", "/F", "/PID", strconv.Itoa(cmd.Process.Pid)).Run()
	}
	cmd.WaitDelay = 5 * time.Second
}
