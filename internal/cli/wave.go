package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/live"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// cliActor names the person at the command line in timelines.
func cliActor(getenv Env) string {
	if u := getenv("USER"); u != "" {
		return "cli:" + u
	}
	if u := getenv("USERNAME"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

// leadSession is what a lead's command needs: the database and the use
// cases, with a River client that inserts jobs (and works none), and a
// notifier that tells the pages following the waves it changes.
type leadSession struct {
	pool     *pgxpool.Pool
	app      *app.Service
	notifier *live.Notifier
	actor    string
}

// close sends what the session changed to the pages, then closes the pool.
func (s *leadSession) close() {
	s.notifier.Close()
	s.pool.Close()
}

func openLead(ctx context.Context, c common, getenv Env, stderr io.Writer) (*leadSession, error) {
	log, err := c.logger(stderr)
	if err != nil {
		return nil, err
	}
	pool, err := store.Open(ctx, c.DatabaseURL)
	if err != nil {
		return nil, err
	}
	client, err := jobs.NewClient(pool, nil, jobs.Config{}, log.With("component", "river"))
	if err != nil {
		pool.Close()
		return nil, err
	}
	notifier := live.NewNotifier(pool, log)
	return &leadSession{pool: pool, app: app.New(pool, jobs.NewQueue(client)).WithNotifier(notifier), notifier: notifier, actor: cliActor(getenv)}, nil
}

const waveUsage = `wave ACTION ID [flags] [users]

Actions:
  show ID                 progress, settings and timeline of the wave
  pause ID                moves in flight finish, none start
  resume ID               resume a paused or halted wave, or let a blocked one start
  cancel ID               cancel the moves not started; moves in flight finish
  rollback ID             move the wave's moved users back on premises
  retry-failed ID         plan the wave's failed users into a new wave (--start)
  reschedule ID --start T move the start of a wave that has not started
  override-readiness ID   start a scheduled wave although a hybrid readiness check
                          that blocks moves fails (in the audit log)
  confirm-routing ID      confirm that the SBC sends the wave's numbers to Direct
                          Routing (its Enterprise Voice users' calling completes)
  approve-numbers ID      approve moving the wave's numbers to online management
                          (number plan online; done in the wave's window)
  add ID USER...          add users of the wave's group to a wave not started
  remove ID USER...       remove users from a wave not started`

func runWave(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("wave", waveUsage, getenv, stderr)
	var c common
	var start string
	var asJSON bool
	c.register(f)
	f.StringVar(&start, "start", "", `start time: RFC 3339 (2026-11-23T22:00:00Z) or "now" (retry-failed, reschedule)`)
	f.BoolVar(&asJSON, "json", false, "print the wave as JSON")
	action, err := f.action(args)
	if err != nil {
		return err
	}
	want := map[string]bool{"show": false, "pause": false, "resume": false, "cancel": false, "rollback": false,
		"retry-failed": false, "reschedule": false, "override-readiness": false, "confirm-routing": false, "approve-numbers": false,
		"add": true, "remove": true}
	takesUsers, ok := want[action]
	if !ok || f.NArg() < 1 || (takesUsers && f.NArg() < 2) || (!takesUsers && f.NArg() != 1) {
		fmt.Fprintf(stderr, "cutover wave: want an action, a wave ID and (for add and remove) users; got %q %v\n", action, f.Args())
		f.Usage()
		return errUsage
	}
	id, err := strconv.ParseInt(f.Arg(0), 10, 64)
	if err != nil || id < 1 {
		return fmt.Errorf("wave ID %q is not a number", f.Arg(0))
	}
	at := time.Now()
	switch {
	case start == "" && action == "reschedule":
		return errors.New("reschedule needs --start (an RFC 3339 time like 2026-11-23T22:00:00Z, or now)")
	case start != "":
		var ok bool
		if at, ok = migration.ParseStart(start, time.Now(), time.UTC); !ok {
			return fmt.Errorf("--start %q is not an RFC 3339 time like 2026-11-23T22:00:00Z (or now)", start)
		}
	}
	s, err := openLead(ctx, c, getenv, stderr)
	if err != nil {
		return err
	}
	defer s.close()
	saySimulated(ctx, s.app, stderr)
	var w migration.Wave
	// The audit log names the action as the use case does, whichever
	// front end asked.
	named := map[string]app.AuditAction{"pause": app.AuditWavePause, "resume": app.AuditWaveResume, "cancel": app.AuditWaveCancel,
		"rollback": app.AuditWaveRollBack, "retry-failed": app.AuditWaveRetryFailed, "reschedule": app.AuditWaveReschedule,
		"override-readiness": app.AuditWaveOverrideReadiness, "add": app.AuditWaveMembers, "remove": app.AuditWaveMembers,
		"confirm-routing": app.AuditWaveConfirmRouting, "approve-numbers": app.AuditWaveApproveNumbers}
	a := app.Actor{Name: s.actor, Action: named[action], Target: "wave " + f.Arg(0), WaveID: &id, Written: new(bool)}
	switch action {
	case "show":
		w, err = s.app.Wave(ctx, id)
	case "pause":
		w, err = s.app.WavePause(ctx, a, id)
	case "resume":
		w, err = s.app.WaveResume(ctx, a, id)
	case "cancel":
		w, err = s.app.WaveCancel(ctx, a, id)
	case "rollback":
		w, err = s.app.WaveRollBack(ctx, a, id)
	case "retry-failed":
		w, err = s.app.WaveRetryFailed(ctx, a, app.WaveScheduleRequest{WaveID: id, StartAt: at})
	case "reschedule":
		w, err = s.app.WaveReschedule(ctx, a, app.WaveScheduleRequest{WaveID: id, StartAt: at})
	case "override-readiness":
		w, err = s.app.WaveOverrideReadiness(ctx, a, id)
	case "confirm-routing":
		w, err = s.app.WaveConfirmRouting(ctx, a, id)
	case "approve-numbers":
		w, err = s.app.WaveApproveNumbers(ctx, a, id)
	case "add":
		w, err = s.app.WaveMembers(ctx, a, app.WaveMembersRequest{WaveID: id, Add: f.Args()[1:]})
	case "remove":
		w, err = s.app.WaveMembers(ctx, a, app.WaveMembersRequest{WaveID: id, Remove: f.Args()[1:]})
	}
	if action != "show" && err != nil {
		auditCLI(ctx, s.app, a, err)
	}
	if err != nil {
		return explain(err)
	}
	if w, err = s.app.Wave(ctx, w.ID); err != nil {
		return err
	}
	return printWave(ctx, stdout, s.app, w, asJSON)
}

// explain turns an error meant for the API into lines for a terminal.
func explain(err error) error {
	var e *migration.Error
	if !errors.As(err, &e) || len(e.Details) < 2 {
		return err
	}
	msg := e.Message
	for _, p := range e.Details {
		msg += "\n  " + p.String()
	}
	return errors.New(msg)
}

// printWave writes a wave, its progress and its timeline.
func printWave(ctx context.Context, w io.Writer, svc *app.Service, wave migration.Wave, asJSON bool) error {
	tally, err := svc.WaveTally(ctx, wave.ID)
	if err != nil {
		return err
	}
	events, err := svc.WaveTimeline(ctx, wave.ID)
	if err != nil {
		return err
	}
	pr := migration.NewProgress(tally.Counts, wave.StartedAt, wave.FinishedAt, time.Now())
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"wave": wave, "progress": pr, "events": events})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Wave:\t%d %s (number %d of group %d)\n", wave.ID, wave.Name, wave.Number, wave.GroupID)
	state := string(wave.State)
	if wave.StateReason != "" {
		state += ": " + wave.StateReason
	}
	fmt.Fprintf(tw, "State:\t%s\n", state)
	fmt.Fprintf(tw, "Starts:\t%s\n", wave.StartAt.Format(time.RFC3339))
	fmt.Fprintf(tw, "Progress:\t%s %d in flight now.\n", pr.Says, pr.InFlight)
	fmt.Fprintf(tw, "In flight at most:\t%d now (concurrency %d)\n", wave.ConcurrencyLimit, wave.Concurrency)
	if wave.Threshold.Set() {
		fmt.Fprintf(tw, "Halts at:\t%s\n", thresholdText(wave.Threshold, wave.RollbackOnHalt))
	}
	if len(wave.Windows) > 0 {
		fmt.Fprintf(tw, "Windows:\t%s (%s)\n", strings.Join(wave.Windows, ", "), wave.TimeZone)
	}
	if wave.BypassEnterpriseVoiceCheck {
		fmt.Fprintf(tw, "Voice:\tEnterprise Voice users without Teams Phone move with -BypassEnterpriseVoiceCheck\n")
	}
	fmt.Fprintf(tw, "Numbers:\t%s\n", wave.NumberPlan.Words())
	if wave.NumbersApprovedAt != nil {
		fmt.Fprintf(tw, "Number moves:\tapproved by %s at %s\n", wave.NumbersApprovedBy, wave.NumbersApprovedAt.Format(time.RFC3339))
	}
	if wave.RoutingConfirmedAt != nil {
		fmt.Fprintf(tw, "SBC routing:\tconfirmed by %s at %s\n", wave.RoutingConfirmedBy, wave.RoutingConfirmedAt.Format(time.RFC3339))
	} else {
		fmt.Fprintf(tw, "SBC routing:\tnot confirmed (cutover wave confirm-routing %d)\n", wave.ID)
	}
	if wave.ReadinessOverride {
		fmt.Fprintf(tw, "Readiness:\toverridden by a lead: starts although a hybrid readiness check fails\n")
	}
	if len(wave.BlackoutDates) > 0 {
		fmt.Fprintf(tw, "Not on:\t%s\n", strings.Join(wave.BlackoutDates, ", "))
	}
	_ = tw.Flush()
	if len(events) > 0 {
		fmt.Fprintln(w, "\nTimeline:")
		for _, e := range events {
			fmt.Fprintf(w, "  %s  %-20s %s (%s)\n", e.At.Local().Format("2006-01-02 15:04:05"), e.Kind, e.Message, e.Actor)
		}
	}
	return nil
}

func thresholdText(t migration.Threshold, rollback bool) string {
	s := ""
	if t.Percent > 0 {
		s = fmt.Sprintf("%g%% permanent failures", t.Percent)
	}
	if t.Count > 0 {
		if s != "" {
			s += " or "
		}
		s += fmt.Sprintf("%d permanent failures", t.Count)
	}
	s += fmt.Sprintf(", once %d moves have ended", t.MinSample)
	if rollback {
		s += "; then rolls back the users it moved"
	}
	return s
}

func runSettings(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("settings", "settings [--max-in-flight N]", getenv, stderr)
	var c common
	var maxInFlight int
	c.register(f)
	f.IntVar(&maxInFlight, "max-in-flight", 0, "set the cap on moves in flight across every wave and worker process")
	if err := f.parse(args, 0); err != nil {
		return err
	}
	pool, err := store.Open(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := app.New(pool, nil)
	saySimulated(ctx, svc, stderr)
	if maxInFlight != 0 {
		a := app.Actor{Name: cliActor(getenv), Action: app.AuditMaxInFlight, Target: fmt.Sprint(maxInFlight), Written: new(bool)}
		_, err = svc.SetMaxInFlight(ctx, a, maxInFlight)
		auditCLI(ctx, svc, a, err)
		if err != nil {
			return err
		}
	}
	st, held, err := svc.Settings(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Moves in flight: %d now, at most %d across every wave and worker (set %s by %s)\n",
		held, st.MaxInFlight, st.UpdatedAt.Local().Format(time.RFC3339), or(st.UpdatedBy, "default"))
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func runWebhook(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("webhook", "webhook add --name N [--format slack|teams|json] (URL in $CUTOVER_WEBHOOK_URL or --url) | list | remove ID", getenv, stderr)
	var c common
	var name, url, format string
	c.register(f)
	f.StringVar(&name, "name", "", "the webhook's name")
	f.secret(&url, "url", "CUTOVER_WEBHOOK_URL", "the incoming webhook's URL")
	f.StringVar(&format, "format", "", "slack, teams or json (default: from the URL's host)")
	action, err := f.action(args)
	if err != nil {
		return err
	}
	pool, err := store.Open(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := app.New(pool, nil)
	saySimulated(ctx, svc, stderr)
	switch {
	case action == "add" && f.NArg() == 0:
		a := app.Actor{Name: cliActor(getenv), Action: app.AuditWebhookAdd, Target: "webhook " + name, Written: new(bool)}
		h, err := svc.WebhookAdd(ctx, a, app.WebhookRequest{Name: name, URL: url, Format: format})
		auditCLI(ctx, svc, a, err)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "webhook %d %q added: %s format to %s; it hears of waves started, halted, completed and rolled back\n", h.ID, h.Name, h.Format, h.Host)
		return nil
	case action == "list" && f.NArg() == 0:
		hooks, err := svc.Webhooks(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tFORMAT\tHOST\tADDED BY")
		for _, h := range hooks {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", h.ID, h.Name, h.Format, h.Host, h.CreatedBy)
		}
		return tw.Flush()
	case action == "remove" && f.NArg() == 1:
		id, err := strconv.ParseInt(f.Arg(0), 10, 64)
		if err != nil {
			return fmt.Errorf("webhook ID %q is not a number", f.Arg(0))
		}
		a := app.Actor{Name: cliActor(getenv), Action: app.AuditWebhookRemove, Target: "webhook " + f.Arg(0), Written: new(bool)}
		err = svc.WebhookRemove(ctx, a, id)
		auditCLI(ctx, svc, a, err)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "webhook %d removed\n", id)
		return nil
	}
	fmt.Fprintf(stderr, "cutover webhook: want add, list or remove ID; got %q %v\n", action, f.Args())
	f.Usage()
	return errUsage
}

func runReport(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("report", "report (--wave ID | --group ID) [--failures] [--out FILE]", getenv, stderr)
	var c common
	var waveID, groupID int64
	var failures bool
	var out string
	c.register(f)
	f.Int64Var(&waveID, "wave", 0, "the wave to report on")
	f.Int64Var(&groupID, "group", 0, "the pilot group to report on")
	f.BoolVar(&failures, "failures", false, "failures counted by error code, with what fixes them, instead of a line per user")
	f.StringVar(&out, "out", "", "file to write the CSV to (default: standard output)")
	if err := f.parse(args, 0); err != nil {
		return err
	}
	if (waveID == 0) == (groupID == 0) {
		return errors.New("say which wave (--wave ID) or which group (--group ID) to report on")
	}
	pool, err := store.Open(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := app.New(pool, nil)
	saySimulated(ctx, svc, stderr)
	if waveID != 0 {
		_, err = svc.Wave(ctx, waveID)
	} else {
		_, err = svc.Group(ctx, groupID)
	}
	if err != nil {
		return err
	}
	w := stdout
	if out != "" {
		file, err := os.Create(out)
		if err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	if failures {
		counts, err := svc.Failures(ctx, groupID, waveID)
		if err != nil {
			return err
		}
		return app.Summarise(counts).WriteCSV(w)
	}
	rows, err := svc.Report(ctx, groupID, waveID)
	if err != nil {
		return err
	}
	return app.WriteReport(w, rows)
}
