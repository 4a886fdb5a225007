package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/readiness"
)

// checkFlags are the flags of the commands that check (preflight, check):
// the database, the shell, Graph, and JSON output.
type checkFlags struct {
	c      common
	sh     shellFlags
	gf     graphFlags
	asJSON bool
}

func (k *checkFlags) register(f *flags) {
	k.c.register(f)
	k.sh.register(f, "sim")
	k.gf.register(f, "off", migration.DefaultLicenceSettle)
	f.BoolVar(&k.asJSON, "json", false, "print the result as JSON")
}

func (p Program) runPreflight(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("preflight", "preflight [flags] tenant | group ID | wave ID", getenv, stderr)
	var k checkFlags
	k.register(f)
	if err := f.parse(args, -1); err != nil {
		return err
	}
	c, sh, gf, asJSON := k.c, k.sh, k.gf, k.asJSON
	what := f.Args()
	want := 2
	if len(what) > 0 && what[0] == "tenant" {
		want = 1
	}
	if len(what) == 0 || len(what) != want || (what[0] != "tenant" && what[0] != "group" && what[0] != "wave") {
		fmt.Fprintln(stderr, "cutover preflight: say what to check: tenant, group ID or wave ID")
		f.Usage()
		return errUsage
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	if gf.Graph == "off" || gf.Graph == "" {
		return errors.New("pre-flight checks need Microsoft Graph: set --graph (or CUTOVER_GRAPH) to sim or Graph's URL")
	}
	a, err := p.openAdapters(ctx, c.DatabaseURL, sh, gf, log)
	if err != nil {
		return err
	}
	sayIfSimulated(stderr, k.simulated())
	defer a.close()
	svc, dir := app.New(a.pool, nil), a.dir
	now := time.Now()

	if what[0] == "tenant" {
		r, err := svc.TenantReadiness(ctx, dir, now, gf.MaxSyncAge)
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(stdout, r)
		}
		fmt.Fprintf(stdout, "Tenant %s: %s\n\n", r.Tenant, r.Status)
		printChecks(stdout, r.Checks)
		if r.Status == migration.CheckFail {
			return errors.New("the tenant is not ready: fix the failed checks first")
		}
		return nil
	}
	id, err := strconv.ParseInt(what[1], 10, 64)
	if err != nil || id < 1 {
		return fmt.Errorf("%s ID %q is not a number", what[0], what[1])
	}
	groupID, waveID := id, int64(0)
	if what[0] == "wave" {
		w, err := svc.Wave(ctx, id)
		if err != nil {
			return err
		}
		groupID, waveID = w.GroupID, id
	} else if _, err := svc.Group(ctx, id); err != nil {
		return err
	}
	members, err := svc.Members(ctx, groupID, waveID)
	if err != nil {
		return err
	}
	r, err := svc.DryRun(ctx, dir, members, now, gf.LicenceSettle)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(stdout, r)
	}
	printReport(stdout, r)
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printChecks writes checks one a line, with the fix under each that did
// not pass.
func printChecks(w io.Writer, checks []migration.Check) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range checks {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Status, c.Name, c.Evidence)
		if c.Fix != "" {
			fmt.Fprintf(tw, "  \t\tFix: %s\n", c.Fix)
		}
	}
	tw.Flush()
}

// printReport writes a dry run's outcome: counts, failures by code with
// their fix, and the users who would not move.
func printReport(w io.Writer, r readiness.Report) {
	fmt.Fprintf(w, "Checked %d users in Entra ID: %d pass, %d with warnings, %d would fail.\n", r.Checked, r.Passed, r.Warned, r.Failed)
	if len(r.ByCode) > 0 {
		fmt.Fprintln(w, "\nWould fail, by error code:")
		printFailures(w, r.ByCode)
	}
	if len(r.Users) > 0 {
		fmt.Fprintln(w, "\nUsers:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, u := range r.Users {
			for _, c := range u.Checks {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", u.UPN, c.Status, c.Name, c.Evidence)
			}
		}
		tw.Flush()
	}
	printVoice(w, r, 0)
}

// printVoice lists a dry run's Enterprise Voice users and their numbers (at
// most max of them; 0 for all): their numbers are a workstream of their own.
func printVoice(w io.Writer, r readiness.Report, max int) {
	teamsPhone := 0
	for _, v := range r.Voice {
		if v.TeamsPhone {
			teamsPhone++
		}
	}
	fmt.Fprintf(w, "\nEnterprise Voice users: %d (%d with Teams Phone, %d without)", len(r.Voice), teamsPhone, len(r.Voice)-teamsPhone)
	if r.VoiceUnread > 0 {
		fmt.Fprintf(w, "; %d users' voice settings not read yet (a worker reads them at its next host check)", r.VoiceUnread)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, v := range r.Voice {
		if max > 0 && i == max {
			fmt.Fprintf(tw, "  … and %d more (cutover preflight group ID lists them all)\n", len(r.Voice)-max)
			break
		}
		phone := "Teams Phone"
		if !v.TeamsPhone {
			phone = "no Teams Phone: teams_phone_missing unless the wave bypasses the voice check"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.UPN, v.LineURI, phone)
	}
	tw.Flush()
}

// printFailures writes failure counts by error code, each with its
// explanation and fix.
func printFailures(w io.Writer, counts []migration.FailureCount) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range counts {
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", f.Code, f.Count, f.Explanation)
		fmt.Fprintf(tw, "  \t\tFix: %s\n", f.Fix)
	}
	tw.Flush()
}
