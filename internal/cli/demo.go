package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cutover/cutover/examples"
	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/readiness"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
)

// demoPlan is the plan the demo gives its group: a canary, then two waves a
// few seconds apart.
const demoPlan = "canary 20, then waves of 90 every 8s, starting now"

func (p Program) runDemo(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("demo", "demo [flags]", getenv, stderr)
	var (
		c                common
		wf               workerFlags
		dbName, listen   string
		csvPath, plan    string
		seed             int
		latency, timeout time.Duration
		keep             bool
	)
	var gf graphFlags
	var sf signinFlags
	c.register(f)
	wf.register(f, time.Second)
	sf.register(f, "sim")
	gf.register(f, "sim", 3*time.Second) // simulated licences provision in seconds
	f.str(&dbName, "database", "CUTOVER_DEMO_DATABASE", "cutover_demo", "database the demo creates (and resets each run) on the server of --database-url")
	f.str(&listen, "listen", "CUTOVER_LISTEN", "127.0.0.1:8080", "address the API listens on (another free port if taken)")
	f.str(&csvPath, "users", "CUTOVER_DEMO_USERS", "", "CSV of the pilot group (default: the 200 users of examples/pilot-users.csv)")
	f.str(&plan, "plan", "CUTOVER_DEMO_PLAN", demoPlan, "the plan, in shorthand")
	f.int(&seed, "sim-seed", "CUTOVER_SIM_SEED", 7, "seed of the simulated tenant's failure mix")
	f.dur(&latency, "sim-latency", "CUTOVER_SIM_LATENCY", 150*time.Millisecond, "mean latency of a simulated shell call")
	f.dur(&timeout, "timeout", "CUTOVER_DEMO_TIMEOUT", 3*time.Minute, "give up if the waves have not finished by then")
	f.BoolVar(&keep, "keep", false, "keep the API up after the summary, until interrupted")
	if err := f.parse(args, 0); err != nil {
		return err
	}
	if getenv("CUTOVER_LOG_LEVEL") == "" && !flagSet(f, "log-level") {
		// The demo's own output is the progress; logs only say what went wrong.
		c.LogLevel = "warn"
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	users := examples.PilotUsersCSV
	if csvPath != "" {
		if users, err = os.ReadFile(csvPath); err != nil {
			return err
		}
	}

	demoURL := withDatabase(c.DatabaseURL, dbName)
	fmt.Fprintf(stdout, "cutover demo: a pilot group moved against the simulated tenant\n\nDatabase %s (reset)\n", store.Redact(demoURL))
	if err := resetDatabase(ctx, demoURL); err != nil {
		return err
	}
	pool, err := openDatabase(ctx, demoURL, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	// The simulated Meeting Migration Service keeps a faster clock than
	// Microsoft's (90 minutes, then about 2 hours), so that the demo shows
	// each user's meetings end as the seed says; cutover's looks follow it.
	shell := sim.NewShell(sim.ShellConfig{Seed: int64(seed), Latency: latency, Meetings: demoMeetings})
	dir, closeGraph, err := gf.open(ctx, p, shell)
	if err != nil {
		return err
	}
	defer closeGraph()
	// The demo acts as a lead, with a token of its own made for this run.
	_, token, err := store.New(pool).TokenCreate(ctx, "demo", auth.RoleLead, "cutover demo")
	if err != nil {
		return err
	}
	// The simulated SIP domains' DNS, on loopback, for the hybrid readiness.
	simDNS, err := sim.StartDNS(0, sim.DefaultSIPDomains())
	if err != nil {
		return fmt.Errorf("simulated DNS: %w", err)
	}
	defer simDNS.Close()
	jc, err := jobsConfig(wf, gf, shellFlags{DNSServer: simDNS.Addr()}, dir)
	if err != nil {
		return err
	}
	jc.HostRecheck = 500 * time.Millisecond // a lead's request for a check is answered at once
	jc.CompletionEvery, jc.MeetingsTiming, jc.VoiceTiming = time.Second, demoMeetingsTiming, migration.VoiceTiming{Wait: 15 * time.Second, Poll: time.Second}
	jc.PollInterval = 200 * time.Millisecond
	jc.RetryMax = min(wf.RetryMax, 5*time.Second)
	if err := sf.check(); err != nil {
		return err
	}
	svc, err := startService(ctx, pool, shell, serviceConfig{Role: RoleAll, Listen: listen, FallbackListen: true, Jobs: jc, MaxSyncAge: gf.MaxSyncAge,
		Simulated: store.Simulated{Shell: true, Graph: gf.Graph == "sim"}, SignIn: sf}, log)
	if err != nil {
		return err
	}
	defer svc.stop(context.WithoutCancel(ctx))
	graph := "off"
	if dir != nil {
		graph = gf.Graph
	}
	fmt.Fprintf(stdout, "API      %s/api/v1\n", svc.URL)
	fmt.Fprintf(stdout, "Tenant   simulated (seed %d, %s per shell call), Microsoft Graph %s, %d moves at once\n\n", seed, latency, graph, wf.Workers)

	cl := &apiClient{base: svc.URL + "/api/v1", token: token, http: &http.Client{Timeout: 30 * time.Second}}
	var group app.GroupView
	if err := cl.do(ctx, "POST", "/groups?name="+url.QueryEscape("Pilot (demo)"), "text/csv", users, &group); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	fmt.Fprintf(stdout, "Imported %d users into pilot group %q.\n", group.Members, group.Name)
	if err := printReadiness(ctx, stdout, cl); err != nil {
		return err
	}
	if dir != nil {
		var r readiness.Report
		if err := cl.do(ctx, "POST", fmt.Sprintf("/groups/%d/preflight", group.ID), "", nil, &r); err != nil {
			return fmt.Errorf("pre-flight: %w", err)
		}
		fmt.Fprintf(stdout, "Pre-flight (dry run) in Entra ID: %d pass, %d with warnings, %d would fail.\n", r.Passed, r.Warned, r.Failed)
		printFailures(stdout, r.ByCode)
		printVoice(stdout, r, 5)
	}
	var planned struct {
		Waves []app.WaveView `json:"waves"`
	}
	body, _ := json.Marshal(map[string]any{"shorthand": plan, "max_attempts": 4, "concurrency": 10,
		"failure_threshold": map[string]any{"percent": demoHaltPercent, "min_sample": 20}})
	if err := cl.do(ctx, "POST", fmt.Sprintf("/groups/%d/plan", group.ID), "application/json", body, &planned); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	fmt.Fprintf(stdout, "Planned %q: %d waves, up to 4 attempts and 10 moves at once each;\n"+
		"a wave halts (and the waves after it wait) if %d%% of its moves fail for good.\n\n", plan, len(planned.Waves), demoHaltPercent)

	start := time.Now()
	deadline := time.After(timeout)
	bars := newProgressPrinter(stdout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		id := group.ID
		group = app.GroupView{} // decode afresh: decoding into the old maps would keep stale counts
		if err := cl.do(ctx, "GET", fmt.Sprintf("/groups/%d", id), "", nil, &group); err != nil {
			return fmt.Errorf("progress: %w", err)
		}
		bars.print(group, time.Now())
		if group.FinishedAt != nil {
			break
		}
		if halted := haltedWave(group); halted != nil {
			fmt.Fprintf(stdout, "\n%s halted: %s\nLater waves are blocked until a lead resumes or cancels it (cutover wave resume|cancel %d).\n",
				halted.Name, halted.StateReason, halted.ID)
			printSummary(stdout, group)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("the waves did not finish within %s", timeout)
		case <-tick.C:
		}
	}
	fmt.Fprintf(stdout, "\nAll %d users reached a final state in %s.\n\n", group.Members, time.Since(start).Round(100*time.Millisecond))
	printSummary(stdout, group)
	if group, err = waitCompletion(ctx, cl, group.ID, deadline); err != nil {
		return err
	}
	// As a lead does once the SBC sends a wave's numbers to Direct Routing:
	// confirmed for the first wave whose users wait on it, the others'
	// wait shows.
	for _, wv := range group.Waves {
		if n := wv.Completion.WaitRouting; n > 0 {
			var confirmed app.WaveView
			if err := cl.do(ctx, "POST", fmt.Sprintf("/waves/%d/confirm-routing", wv.ID), "", nil, &confirmed); err != nil {
				return fmt.Errorf("confirm routing: %w", err)
			}
			fmt.Fprintf(stdout, "\nA lead confirms that the SBC sends %s's numbers to Direct Routing (POST /api/v1/waves/%d/confirm-routing):\n"+
				"the calling of its %d Enterprise Voice users waiting on it is checked again.\n", wv.Name, wv.ID, n)
			if group, err = waitCompletion(ctx, cl, group.ID, deadline); err != nil {
				return err
			}
			break
		}
	}
	printCompletion(stdout, group)

	if err := printExample(ctx, stdout, app.New(pool, nil), group); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nLook any user up:  cutover status --database-url '%s' <upn or sip address>\n", store.Redact(demoURL))
	fmt.Fprintf(stdout, "A wave's timeline: cutover wave show %d; its report: cutover report --wave %d (add --failures for the summary by error code)\n",
		group.Waves[0].ID, group.Waves[0].ID)
	if !keep {
		fmt.Fprintf(stdout, "The API was at %s/api/v1 (stopped now; run with --keep to explore it, e.g. GET /api/v1/groups/%d).\n", svc.URL, group.ID)
		return nil
	}
	fmt.Fprintf(stdout, "The API stays up at %s/api/v1 (try GET /api/v1/groups/%d with a token: cutover token create --role lead --name me --database-url '%s').\n",
		svc.URL, group.ID, store.Redact(demoURL))
	if sim := svc.signin.Sim; sim != nil {
		fmt.Fprintf(stdout, "The pages: %s/ui/ — sign in through the simulated Entra ID as", svc.URL)
		for _, a := range sim.Accounts() {
			if len(a.Roles) > 0 {
				fmt.Fprintf(stdout, " %s (%s)", a.UPN, strings.Join(a.Roles, ", "))
			}
		}
		fmt.Fprintln(stdout, ", any password.")
	}
	fmt.Fprintln(stdout, "Ctrl-C to stop.")
	<-ctx.Done()
	return nil
}

// printReadiness prints the deployment's whole readiness report (worker
// hosts, tenant, on premises, DNS), once the workers have checked it.
func printReadiness(ctx context.Context, stdout io.Writer, cl *apiClient) error {
	// Ask the workers to check now, as a lead would: the SIP domains of
	// the group just imported are looked up.
	var asked struct {
		RequestedAt time.Time `json:"requested_at"`
	}
	if err := cl.do(ctx, "POST", "/readiness/check", "", nil, &asked); err != nil {
		return fmt.Errorf("readiness: %w", err)
	}
	var r readiness.Deployment
	for range 100 {
		r = readiness.Deployment{}
		if err := cl.do(ctx, "GET", "/readiness", "", nil, &r); err != nil {
			return fmt.Errorf("readiness: %w", err)
		}
		if dns := r.Sections[len(r.Sections)-1]; dns.CheckedAt != nil && !dns.CheckedAt.Before(asked.RequestedAt) {
			break // checked since the request
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintln(stdout)
	printDeployment(stdout, r)
	fmt.Fprintln(stdout)
	return nil
}

// printDeployment writes the deployment's readiness report: what holds moves
// now, then each section with its checks and their fixes.
func printDeployment(w io.Writer, r readiness.Deployment) {
	fmt.Fprintf(w, "Hybrid readiness: %s\n", r.Status)
	for _, h := range r.Holds {
		fmt.Fprintf(w, "  MOVES HELD since %s: %s (%s)\n", h.Since.Format(time.RFC3339), h.Reason, h.Evidence)
	}
	for _, s := range r.Sections {
		fmt.Fprintf(w, "  %s: %s\n", s.Title, s.Status)
		printChecks(w, s.Checks)
	}
}

func flagSet(f *flags, name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

// apiClient calls the API over HTTP, as a lead's script would.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func (c *apiClient) do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e struct {
			Error migration.Error `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("%s %s: %s: %s (%s)", method, path, resp.Status, e.Error.Message, e.Error.Code)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// demoHaltPercent is the demo waves' failure threshold: far above the
// simulated tenant's share of permanent failures.
const demoHaltPercent = 35

// haltedWave returns the group's first halted wave, if any.
func haltedWave(g app.GroupView) *app.WaveView {
	for i := range g.Waves {
		if g.Waves[i].State == migration.WaveStateHalted {
			return &g.Waves[i]
		}
	}
	return nil
}

// printSummary prints the outcome per wave and the failures by error code.
func printSummary(w io.Writer, g app.GroupView) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "wave\tusers\tmoved\tskipped\tfailed\tretried\ttook\t")
	for _, wv := range g.Waves {
		c := wv.Progress.Counts
		took := "-"
		if wv.StartedAt != nil && wv.FinishedAt != nil {
			took = wv.FinishedAt.Sub(*wv.StartedAt).Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t\n", wv.Name, wv.Progress.Total,
			c[migration.MoveStateMoved], c[migration.MoveStateSkipped], c[migration.MoveStateFailed], wv.Progress.Retried, took)
	}
	c := g.Progress.Counts
	fmt.Fprintf(tw, "all\t%d\t%d\t%d\t%d\t%d\t\t\n", g.Members, c[migration.MoveStateMoved], c[migration.MoveStateSkipped], c[migration.MoveStateFailed], g.Progress.Retried)
	tw.Flush()
	if len(g.Failures) == 0 {
		fmt.Fprintln(w, "\nNo failures.")
		return
	}
	fmt.Fprintln(w, "\nFailed, by error code:")
	printFailures(w, g.Failures)
}

// The demo's Meeting Migration Service: the simulator's clock, and
// cutover's looks at it.
var (
	demoMeetings       = sim.MeetingsTiming{StartAfter: 2 * time.Second, Takes: 2 * time.Second, RetryEvery: 200 * time.Millisecond}
	demoMeetingsTiming = migration.MeetingsTiming{StartAfter: 2 * time.Second, RetryFor: 15 * time.Second, Poll: time.Second}
)

// waitCompletion waits until no moved user's completion is pending, and
// returns the group as it is then.
func waitCompletion(ctx context.Context, cl *apiClient, id int64, deadline <-chan time.Time) (app.GroupView, error) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		var g app.GroupView
		if err := cl.do(ctx, "GET", fmt.Sprintf("/groups/%d", id), "", nil, &g); err != nil {
			return g, fmt.Errorf("completion: %w", err)
		}
		pending := 0
		for _, w := range g.Waves {
			pending += w.Completion.Pending
		}
		if pending == 0 {
			return g, nil
		}
		select {
		case <-ctx.Done():
			return g, ctx.Err()
		case <-deadline:
			return g, fmt.Errorf("completion did not settle: %d users still pending", pending)
		case <-tick.C:
		}
	}
}

// printCompletion writes what happened after the move, by wave: the moved
// users whose meetings Microsoft migrated, and those who need someone.
func printCompletion(w io.Writer, g app.GroupView) {
	fmt.Fprintln(w, "\nAfter the move (meetings migrated by Microsoft's Meeting Migration Service; Enterprise Voice users' calling in Teams):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "wave\tmoved users\tdone\tpending\tneed someone\t")
	var all migration.CompletionSum
	for _, wv := range g.Waves {
		c := wv.Completion
		all = all.Add(migration.CompletionDone, c.Done).Add(migration.CompletionPending, c.Pending).Add(migration.CompletionNeeds, c.Needs)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", wv.Name, c.Users, c.Done, c.Pending, c.Needs)
	}
	fmt.Fprintf(tw, "all\t%d\t%d\t%d\t%d\t\n", all.Users, all.Done, all.Pending, all.Needs)
	tw.Flush()
	for _, wv := range g.Waves {
		if wv.Completion.Needs > 0 {
			fmt.Fprintf(w, "Those of %s who need someone: GET /api/v1/waves/%d/users?completion=needs (or its page's list)\n", wv.Name, wv.ID)
		}
		if n := wv.Completion.WaitRouting; n > 0 {
			fmt.Fprintf(w, "  of them, %d wait for a lead to confirm the SBC's routing: cutover wave confirm-routing %d\n", n, wv.ID)
		}
	}
}

// printExample shows the helpdesk view of one user who needed a retry.
func printExample(ctx context.Context, w io.Writer, svc *app.Service, g app.GroupView) error {
	for _, wv := range g.Waves {
		moves, err := svc.WaveMoves(ctx, wv.ID, migration.MoveStateMoved)
		if err != nil {
			return err
		}
		for _, m := range moves {
			if m.Attempts > 1 {
				st, err := svc.LookUp(ctx, m.UPN, time.Now())
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "\nA user who needed %d attempts, as helpdesk sees them (cutover status %s):\n\n", m.Attempts, m.UPN)
				var b strings.Builder
				printStatus(&b, st)
				fmt.Fprint(w, indent(b.String(), "  "))
				return nil
			}
		}
	}
	return nil
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" && l != "\n" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}
