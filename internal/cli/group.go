package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

const groupUsage = `group import FILE --name NAME [flags]
group import --entra-group ID --name NAME --graph URL [flags]

Imports a pilot group from a CSV file (- for standard input), or from the
members of an Entra ID group read through Microsoft Graph, as the pilot
groups page and POST /api/v1/groups do: the same checks, the same report.
--preview checks the members and keeps nothing; --leave-out busy,in_teams
leaves out users who stand in cutover's moves in other groups.`

// runGroup is "cutover group import": a lead's import from a script.
func (p Program) runGroup(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("group", groupUsage, getenv, stderr)
	var c common
	var gf graphFlags
	var name, leaveOut, entraGroup string
	var preview, asJSON bool
	c.register(f)
	gf.register(f, "off", migration.DefaultLicenceSettle)
	f.StringVar(&name, "name", "", "the group's name (default: the file's name without .csv)")
	f.StringVar(&entraGroup, "entra-group", "", "import the members of this Entra ID group (its object ID) instead of a file")
	f.StringVar(&leaveOut, "leave-out", "", "leave out users in cutover's moves elsewhere: busy, in_teams (comma-separated)")
	f.BoolVar(&preview, "preview", false, "check the members and say what the import would find, keeping nothing")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	action, err := f.action(args)
	if err != nil {
		return err
	}
	if want := 1; action != "import" || (entraGroup != "") == (f.NArg() == want) || f.NArg() > want {
		fmt.Fprintf(stderr, "cutover group: want import and either a CSV file or --entra-group; got %q %v\n", action, f.Args())
		f.Usage()
		return errUsage
	}
	req := app.ImportRequest{Preview: preview, EntraGroupID: strings.TrimSpace(entraGroup)}
	if entraGroup == "" {
		path := f.Arg(0)
		in := io.Reader(os.Stdin)
		if path != "-" {
			file, err := os.Open(path)
			if err != nil {
				return fmt.Errorf("cannot read %s: %w", path, err)
			}
			defer file.Close()
			in = file
			if name == "" {
				name = strings.TrimSuffix(baseName(path), ".csv")
			}
		}
		req.CSV = in
	} else if gf.Graph == "off" || gf.Graph == "" {
		return errors.New("an import from Entra ID reads Microsoft Graph: set --graph (or CUTOVER_GRAPH) to Graph's URL and the app registration's credentials")
	}
	if strings.TrimSpace(name) == "" {
		return errors.New("the group needs a name: --name \"Pilot: Finance\"")
	}
	req.Name = name
	if leaveOut != "" {
		req.LeaveOut = strings.Split(leaveOut, ",")
	}
	s, err := openLead(ctx, c, getenv, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	if req.EntraGroupID != "" {
		dir, closeGraph, err := gf.open(ctx, p, nil)
		if err != nil {
			return err
		}
		defer closeGraph()
		s.app.WithDirectory(dir)
	}
	a := app.Actor{Name: s.actor, Action: app.AuditGroupImport, Target: "group " + strings.TrimSpace(name), Subject: strings.TrimSpace(name), Written: new(bool)}
	done, err := s.app.Import(ctx, a, req)
	if !preview {
		auditCLI(ctx, s.app, a, err)
	}
	if err != nil {
		return explain(err)
	}
	if asJSON {
		return printJSON(stdout, done)
	}
	r := done.Report
	if preview {
		fmt.Fprintf(stdout, "Preview of %s (nothing kept): %d users read, %d would be kept.\n", strings.TrimSpace(name), r.Users, r.Kept)
	} else {
		fmt.Fprintf(stdout, "Imported %s (group %d): %d users read, %d in the group.\n", done.Group.Name, done.Group.ID, r.Users, r.Kept)
	}
	for _, c := range []struct {
		what string
		c    store.ImportConcern
	}{{"being moved in another group", r.Busy}, {"in Teams already by another group's moves", r.InTeams}} {
		if c.c.Users > 0 {
			fmt.Fprintf(stdout, "%d users %s:\n", c.c.Users, c.what)
			for _, says := range c.c.Says {
				fmt.Fprintf(stdout, "  %s\n", says)
			}
		}
	}
	if len(done.IgnoredColumns) > 0 {
		fmt.Fprintf(stdout, "Columns not read: %s.\n", strings.Join(done.IgnoredColumns, ", "))
	}
	if !preview {
		fmt.Fprintf(stdout, "Plan it: cutover plan %d --shorthand \"canary 10, then waves of 50 every 1h, starting now\"\n", done.Group.ID)
	}
	return nil
}

const planUsage = `plan GROUP_ID --shorthand "canary 10, then waves of 50 every 1h, starting at 2026-11-23T22:00:00Z" [flags]

Plans the group's members not yet in a wave into waves, as the group's page
and POST /api/v1/groups/{id}/plan do. --preview says which waves the plan
would make, and keeps nothing.`

// runPlan is "cutover plan": a lead's plan from a script.
func runPlan(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("plan", planUsage, getenv, stderr)
	var c common
	var req app.PlanRequest
	var asJSON bool
	c.register(f)
	f.StringVar(&req.Shorthand, "shorthand", "", `the plan in words: "canary 10, then waves of 50 every 1h, starting now"`)
	f.IntVar(&req.MaxAttempts, "max-attempts", 0, "attempts per user in every wave (0: the default)")
	f.IntVar(&req.Concurrency, "concurrency", 0, "moves in flight at once per wave (0: the default)")
	f.StringVar(&req.StartTimeZone, "time-zone", "", "the time zone (IANA, e.g. Europe/London) of start times written without one (default UTC)")
	f.StringVar((*string)(&req.NumberPlan), "number-plan", "", "where Enterprise Voice users' numbers are managed after the move: on_premises (default) or online (moved once a lead approves, in the wave's window)")
	f.BoolVar(&req.Preview, "preview", false, "say which waves the plan would make, keeping nothing")
	f.BoolVar(&asJSON, "json", false, "print the waves as JSON")
	if err := f.parse(args, 1); err != nil {
		return err
	}
	id, err := strconv.ParseInt(f.Arg(0), 10, 64)
	if err != nil || id < 1 {
		return fmt.Errorf("group ID %q is not a number", f.Arg(0))
	}
	if req.Shorthand == "" {
		return fmt.Errorf("the plan needs --shorthand (%q)", "canary 10, then waves of 50 every 1h, starting now")
	}
	s, err := openLead(ctx, c, getenv, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	saySimulated(ctx, s.app, stderr)
	var waves []migration.Wave
	if req.Preview {
		waves, _, err = s.app.PlanGroupPreview(ctx, id, req, time.Now())
	} else {
		a := app.Actor{Name: s.actor, Action: app.AuditGroupPlan, Target: "group " + f.Arg(0), GroupID: &id, Written: new(bool)}
		waves, err = s.app.PlanGroup(ctx, a, id, req, time.Now())
		auditCLI(ctx, s.app, a, err)
	}
	if err != nil {
		return explain(err)
	}
	if asJSON {
		return printJSON(stdout, waves)
	}
	if req.Preview {
		fmt.Fprintln(stdout, "Preview (nothing kept):")
	}
	for _, w := range waves {
		fmt.Fprintf(stdout, "%-16s %5d users  starts %s  %d attempts  %d at once\n", w.Name, w.Size, w.StartAt.UTC().Format("2006-01-02 15:04:05 UTC"), w.MaxAttempts, w.Concurrency)
	}
	return nil
}

// baseName is the last element of a path, whether / or \ separates them.
func baseName(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[i+1:]
	}
	return path
}
