package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/jobs"
)

// runCheck checks this host now, as a worker would (PowerShell, modules,
// server build, TLS 1.2, sign-in, then the on-premises configuration and
// DNS), records the result, and prints the deployment's whole readiness.
func (p Program) runCheck(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("check", "check [flags] [host]", getenv, stderr)
	var k checkFlags
	k.register(f)
	if err := f.parse(args, -1); err != nil {
		return err
	}
	c, sh, gf, asJSON := k.c, k.sh, k.gf, k.asJSON
	if what := f.Args(); len(what) > 1 || len(what) == 1 && what[0] != "host" {
		fmt.Fprintln(stderr, `cutover check: the one thing to check is "host" (the default)`)
		f.Usage()
		return errUsage
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	a, err := p.openAdapters(ctx, c.DatabaseURL, sh, gf, log)
	if err != nil {
		return err
	}
	defer a.close()
	sayIfSimulated(stderr, k.simulated())
	jc, err := jobsConfig(workerFlags{}, gf, sh, a.dir)
	if err != nil {
		return err
	}
	// An inserting client only (no queues): it tells webhooks of a hold.
	client, ready, err := jobs.NewClientWithReadiness(a.pool, a.shell, jc, log)
	if err != nil {
		return err
	}
	h, err := ready.Check(ctx, client)
	if err != nil {
		return err
	}
	r, err := app.New(a.pool, nil).DeploymentReadiness(ctx, a.dir, time.Now(), gf.MaxSyncAge)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(stdout, map[string]any{"host": h, "deployment": r})
	}
	state := "ready: it takes moves"
	if !h.Ready {
		state = "NOT READY: it takes no moves until the failed checks pass"
	}
	fmt.Fprintf(stdout, "This host (%s, worker %s): %s\n", h.Host, h.ID, state)
	printChecks(stdout, h.Checks)
	fmt.Fprintln(stdout)
	printDeployment(stdout, r)
	return nil
}
