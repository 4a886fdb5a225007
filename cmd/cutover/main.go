// Command cutover moves Skype for Business users from on-premises servers to
// the cloud, in waves. See "cutover --help".
//
// This is the one place that wires the Microsoft Graph client (a large SDK,
// kept in internal/graph) into the command line.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cutover/cutover/internal/cli"
	"github.com/cutover/cutover/internal/graph"
	"github.com/cutover/cutover/internal/migration"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := program().Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// program is the command line with the Graph client.
func program() cli.Program {
	return cli.Program{OpenDirectory: openDirectory}
}

func openDirectory(_ context.Context, s cli.GraphSettings) (migration.Directory, error) {
	return graph.New(graph.Config{
		TenantID: s.TenantID, ClientID: s.ClientID, ClientSecret: s.ClientSecret, CertificateFile: s.Certificate,
		GraphURL: s.BaseURL, AuthorityHost: s.AuthorityHost, HTTPClient: s.HTTPClient,
	})
}
