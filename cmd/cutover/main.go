// Command cutover moves Skype for Business users from on-premises servers to
// the cloud, in waves. See "cutover --help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cutover/cutover/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
