package api_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/browsertest"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/live"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

// pagesBundle serves the pages as `cutover serve` does: sign-in through the
// simulated Entra ID, live updates from the changes the workers notify.
type pagesBundle struct {
	*testBundle
	signin *sim.SignIn
}

func setupPages(t *testing.T, shell *sim.Shell, options ...func(*jobs.Config)) *pagesBundle {
	t.Helper()
	return setupPagesWorking(t, shell, shell, nil, options...)
}

// setupPagesWorking is setupPages with the workers calling the shell
// through workers, a wrapper of the test's own around shell, and the pages
// reading Microsoft Graph through dir if it is not nil.
func setupPagesWorking(t *testing.T, shell *sim.Shell, workers migration.Shell, dir migration.Directory, options ...func(*jobs.Config)) *pagesBundle {
	t.Helper()
	pool := dbtest.Pool(t)
	log := slog.New(slog.DiscardHandler)
	notifier := live.NewNotifier(pool, log)
	t.Cleanup(notifier.Close)
	client := jobstest.Start(t, pool, workers, append([]func(*jobs.Config){func(c *jobs.Config) { c.LicenceSettle, c.Notifier = time.Nanosecond, notifier }}, options...)...)
	hub := live.NewHub(pool, log)
	hubCtx, stopHub := context.WithCancel(context.Background())
	t.Cleanup(stopHub)
	go hub.Run(hubCtx)

	signin, err := sim.StartSignIn(sim.SignInConfig{})
	require.NoError(t, err)
	t.Cleanup(signin.Close)
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	roles, err := auth.ParseRoleMap(auth.DefaultRoleMap)
	require.NoError(t, err)
	oidc, err := auth.NewOIDC(auth.OIDCConfig{Issuer: signin.Issuer(), ClientID: signin.ClientID(), ClientSecret: signin.ClientSecret(),
		RedirectURL: srv.URL + "/ui/signin/callback", Roles: roles})
	require.NoError(t, err)
	server := api.NewServer(pool, app.New(pool, jobs.NewQueue(client)).WithNotifier(notifier), log, &api.Options{SignIn: oidc, Directory: dir})
	server.ServeLive(hub)
	t.Cleanup(server.CloseLive)
	srv.Config.Handler = server.Handler()
	return &pagesBundle{testBundle: &testBundle{srv: srv, shell: shell, pool: pool, token: newToken(t, pool, auth.RoleLead)}, signin: signin}
}

// signInEntra signs in from the sign-in page through the simulated Entra
// ID's own page, as a person does.
func signInEntra(upn string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.WaitVisible(`#signin-entra`, chromedp.ByID),
		chromedp.Click(`#signin-entra`, chromedp.ByID),
		chromedp.WaitVisible(`#username`, chromedp.ByID),
		chromedp.SendKeys(`#username`, upn, chromedp.ByID),
		chromedp.SendKeys(`#password`, "any password", chromedp.ByID),
		chromedp.Click(`#signin`, chromedp.ByID),
		chromedp.WaitVisible(`main h1`, chromedp.ByQuery),
	}
}

// confirm clicks a button, then the confirmation dialog's, and returns what
// the dialog said it would do.
func confirm(button string, said *string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Click(button, chromedp.ByQuery),
		chromedp.WaitVisible(`#confirm-dialog`, chromedp.ByID),
		chromedp.Text(`#confirm-text`, said, chromedp.ByID),
		chromedp.Click(`#confirm-ok`, chromedp.ByID),
	}
}

// heldShell lets the first free move calls through and holds every later
// one until release is closed, so that a wave the test means to pause is
// still running when the click lands, however slow the machine.
type heldShell struct {
	migration.Shell
	free    atomic.Int64
	release chan struct{}
}

func holdAfter(shell migration.Shell, free int64) *heldShell {
	h := &heldShell{Shell: shell, release: make(chan struct{})}
	h.free.Store(free)
	return h
}

func (h *heldShell) MoveOnline(ctx context.Context, identity string, opts migration.MoveOnlineOptions) error {
	if h.free.Add(-1) < 0 {
		select {
		case <-h.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return h.Shell.MoveOnline(ctx, identity, opts)
}

// stepTimeout bounds one step of a browser journey: a page that never
// shows what a step waits for fails that step, by name, long before go
// test's deadline stops the whole package without saying which.
const stepTimeout = 2 * time.Minute

// step runs a journey's actions under stepTimeout.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	require.NoError(t, chromedp.Run(ctx, actions...), what)
}

// eventually polls a page expression until it returns want.
func eventually(t *testing.T, ctx context.Context, what, expr, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var got string
	for {
		read, cancel := context.WithTimeout(ctx, stepTimeout)
		err := chromedp.Run(read, chromedp.Evaluate(expr, &got))
		cancel()
		if err == nil && got == want {
			return
		}
		require.True(t, time.Now().Before(deadline), "%s: never %q (last %q, %v)", what, want, got, err)
		time.Sleep(150 * time.Millisecond)
	}
}

// TestBrowserLeadJourney is a migration lead's whole job by clicks: sign in
// through the simulated Entra ID, import a CSV with errors then the pilot
// file, plan it with a preview, watch the canary complete, pause and resume
// the next wave while it runs, and roll one user back. Every page is checked
// for accessibility on the way; screenshots are kept.
func TestBrowserLeadJourney(t *testing.T) {
	t.Parallel()
	// The whole journey takes about a minute on an idle machine; CI runs it
	// beside every other test and the fuzzers' builds, where it once took
	// more than four.
	ctx := browsertest.Browser(t, browsertest.Timeout(10*time.Minute))
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 150 * time.Millisecond})
	// The canary's ten moves go through; the later waves' wait until wave 1
	// has been paused, resumed and loaded running, so that it cannot end
	// before a click or a page the test is waiting for.
	held := holdAfter(shell, 10)
	b := setupPagesWorking(t, shell, held, nil)
	shot := func(name string) { browsertest.Screenshot(t, ctx, "journey-"+name) }
	check := func(page string) { browsertest.AssertAccessible(t, ctx, page) }

	// Sign in: no token is pasted anywhere.
	var who string
	step(t, ctx, "the sign-in page",
		chromedp.Navigate(b.srv.URL+"/ui/"),
		chromedp.WaitVisible(`#signin-entra`, chromedp.ByID),
	)
	check("sign-in")
	step(t, ctx, "the simulated Entra ID's page", chromedp.Click(`#signin-entra`, chromedp.ByID), chromedp.WaitVisible(`#username`, chromedp.ByID))
	check("simulated Entra ID sign-in")
	shot("entra-signin")
	step(t, ctx, "signing in",
		chromedp.SendKeys(`#username`, "lead@contoso.com", chromedp.ByID),
		chromedp.SendKeys(`#password`, "any password", chromedp.ByID),
		chromedp.Click(`#signin`, chromedp.ByID),
		chromedp.WaitVisible(`#overview-summary`, chromedp.ByID),
		// Read in one step: the sign-in's redirects may replace the node
		// between a lookup and a read.
		chromedp.Evaluate(`document.querySelector('.who').textContent`, &who),
	)
	require.Equal(t, "Morgan Lead", who)
	require.Equal(t, []string{"lead@contoso.com"}, b.signin.SignedIn())
	check("the overview, before any group")
	step(t, ctx, "the pilot groups", chromedp.Click(`nav a[href="/ui/groups"]`, chromedp.ByQuery), chromedp.WaitVisible(`#import-csv`, chromedp.ByID))
	check("pilot groups")

	// A CSV with errors: each shown by line, nothing kept.
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("upn,display_name\nalice@contoso.com,Alice\nnot-an-address,Bob\n,Nobody\nalice@contoso.com,Alice again\n"), 0o644))
	var problems string
	step(t, ctx, "importing a CSV with errors",
		chromedp.SendKeys(`#import-name`, "Pilot: Finance", chromedp.ByID),
		chromedp.SetUploadFiles(`#import-file`, []string{bad}, chromedp.ByID),
		chromedp.Click(`#import-csv button[data-preview]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#import-csv .result.error li`, chromedp.ByQuery),
		chromedp.Text(`#import-csv .result`, &problems, chromedp.ByQuery),
	)
	require.Contains(t, problems, "line 3")
	require.Contains(t, problems, "line 4")
	require.Contains(t, problems, "line 5")
	shot("import-errors")
	check("import with errors")
	groups, err := app.New(b.pool, nil).Groups(context.Background())
	require.NoError(t, err)
	require.Empty(t, groups, "a file with errors keeps nothing")

	// The pilot file: imported, and the group's page opens.
	good, err := filepath.Abs(filepath.Join("..", "..", "examples", "pilot-users.csv"))
	require.NoError(t, err)
	var summary, checked string
	step(t, ctx, "checking the pilot file",
		chromedp.SetUploadFiles(`#import-file`, []string{good}, chromedp.ByID),
		chromedp.Click(`#import-csv button[data-preview]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#import-csv .result.ok`, chromedp.ByQuery),
		chromedp.Text(`#import-csv .result`, &checked, chromedp.ByQuery))
	require.Contains(t, checked, "Checked: 200 users")
	require.Contains(t, checked, "None of them is in another group's moves.")
	check("an import checked")
	groups, err = app.New(b.pool, nil).Groups(context.Background())
	require.NoError(t, err)
	require.Empty(t, groups, "a check keeps nothing")
	step(t, ctx, "importing the pilot file",
		chromedp.Click(`#import-csv button[data-save]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#plan`, chromedp.ByID),
		chromedp.Text(`#group-summary`, &summary, chromedp.ByID),
	)
	require.Contains(t, summary, "0 of 200 users moved to Teams")
	check("group before its plan")

	// Plan with a preview first: the waves, their sizes and start times.
	var preview, said string
	var saveHidden bool
	step(t, ctx, "the plan's save before a preview", chromedp.Evaluate(`document.querySelector('#plan button[data-save]').hidden`, &saveHidden))
	require.True(t, saveHidden, "a plan is saved from its preview only")
	step(t, ctx, "previewing the plan",
		chromedp.SetValue(`#plan-shorthand`, "canary 10, then waves of 95 every 25s, starting now", chromedp.ByID),
		chromedp.SetValue(`#plan-concurrency`, "2", chromedp.ByID),
		chromedp.Click(`#plan button[data-preview]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#plan .result table`, chromedp.ByQuery),
		chromedp.Text(`#plan .result`, &preview, chromedp.ByQuery),
	)
	require.Contains(t, preview, "Preview: 3 waves, 200 users")
	require.Contains(t, preview, "canary")
	require.Contains(t, preview, "No move has ended in the last week, so when the waves end is not estimated yet.")
	shot("plan-preview")
	check("plan preview")
	groups, err = app.New(b.pool, nil).Groups(context.Background())
	require.NoError(t, err)
	require.Len(t, groups, 1)
	waves, err := store.New(b.pool).WaveList(context.Background(), groups[0].ID)
	require.NoError(t, err)
	require.Empty(t, waves, "a preview keeps nothing")
	step(t, ctx, "saving the plan", confirm(`#plan button[data-save]`, &said))
	require.Contains(t, said, "200 users not yet in a wave")
	require.Contains(t, said, "Preview: 3 waves, 200 users, the first starting", "the save's confirmation says what the preview showed")
	step(t, ctx, "the waves on the group's page", chromedp.WaitVisible(`.waves .wave`, chromedp.ByQuery))
	waves, err = store.New(b.pool).WaveList(context.Background(), groups[0].ID)
	require.NoError(t, err)
	require.Len(t, waves, 3)
	canary, wave1 := fmt.Sprintf("#wave-%d", waves[0].ID), fmt.Sprintf("#wave-%d", waves[1].ID)

	// The canary completes on the page, which follows it without a reload.
	step(t, ctx, "the canary on the group's page",
		chromedp.WaitVisible(canary, chromedp.ByQuery),
		chromedp.Evaluate(`window.notReloaded = true`, nil),
	)
	eventually(t, ctx, "the canary", `document.querySelector('`+canary+` [data-field="state"]').textContent`, "completed", time.Minute)
	eventually(t, ctx, "no reload", `String(window.notReloaded === true)`, "true", time.Second)
	shot("canary-completed")
	check("group with the canary completed")

	// The next wave, while it runs: pause it, then resume it.
	eventually(t, ctx, "wave 1 starting", `document.querySelector('`+wave1+` [data-field="state"]').textContent`, "running", time.Minute)
	step(t, ctx, "opening wave 1's page",
		chromedp.Click(wave1+`-name a`, chromedp.ByQuery),
		chromedp.WaitVisible(`#action-pause`, chromedp.ByID),
	)
	check("running wave")
	// Pause and resume: the page changes in place, without a reload, its
	// state and its buttons both.
	step(t, ctx, "marking wave 1's page", chromedp.Evaluate(`window.notReloaded = true`, nil))
	step(t, ctx, "pausing wave 1", confirm(`#action-pause`, &said))
	require.Contains(t, said, "Moves already in flight finish")
	shot("pause-confirm")
	step(t, ctx, "the resume button", chromedp.WaitVisible(`#action-resume`, chromedp.ByID))
	eventually(t, ctx, "wave paused", `document.querySelector('h1 [data-field="state"]').textContent`, "paused", 10*time.Second)
	eventually(t, ctx, "what the pause did, said", `document.getElementById('action-status').textContent`, "Paused: moves in flight finish, no other starts.", 10*time.Second)
	shot("wave-paused")
	check("paused wave")
	step(t, ctx, "resuming wave 1", confirm(`#action-resume`, &said))
	require.Contains(t, said, "starts moving its remaining users")
	step(t, ctx, "the pause button again", chromedp.WaitVisible(`#action-pause`, chromedp.ByID))
	eventually(t, ctx, "wave 1 running again", `document.querySelector('h1 [data-field="state"]').textContent`, "running", 10*time.Second)
	eventually(t, ctx, "no reload", `String(window.notReloaded === true)`, "true", time.Second)
	// Only now may its moves go on: the page shows it running.
	close(held.release)
	// It runs on, and its page follows it without a reload.
	eventually(t, ctx, "wave 1 completing", `document.querySelector('h1 [data-field="state"]').textContent`, "completed", 2*time.Minute)
	// Its buttons follow: a completed wave offers a rollback, not a pause.
	eventually(t, ctx, "the completed wave's buttons", `String(!!document.getElementById('action-rollback') && !document.getElementById('action-pause'))`, "true", 10*time.Second)
	eventually(t, ctx, "no reload", `String(window.notReloaded === true)`, "true", time.Second)
	shot("wave-completed")

	// One user rolled back, after confirming what it does to them.
	moves, err := app.New(b.pool, nil).WaveMoves(context.Background(), waves[0].ID, "moved")
	require.NoError(t, err)
	require.NotEmpty(t, moves)
	upn := moves[0].UPN
	step(t, ctx, "looking a moved user up",
		chromedp.Click(`nav a[href="/ui/lookup"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#q`, chromedp.ByID),
		chromedp.SendKeys(`#q`, upn, chromedp.ByID),
		chromedp.Submit(`#q`, chromedp.ByID),
		chromedp.WaitVisible(`#user-rollback`, chromedp.ByID),
	)
	check("moved user")
	// What the page says of the action is kept as it changes.
	step(t, ctx, "listening to the page's note", chromedp.Evaluate(`window.notes = [];
		new MutationObserver(() => window.notes.push(document.getElementById('action-status').hidden ? '' : document.getElementById('action-status').textContent))
			.observe(document.getElementById('action-status'), {childList: true, characterData: true, subtree: true, attributes: true})`, nil))
	step(t, ctx, "rolling the user back", chromedp.Evaluate(`window.notReloaded = true`, nil), confirm(`#user-rollback`, &said))
	require.Contains(t, said, "back on premises")
	require.Contains(t, said, "brings no contacts from Teams")
	// The user's page follows the rollback by itself, without a reload.
	eventually(t, ctx, "the user rolled back", `document.getElementById('user-state').textContent`, "rolled back", time.Minute)
	eventually(t, ctx, "what the rollback did, said", `String(window.notes.includes("Asked: the user goes back on premises; this page follows it."))`, "true", time.Second)
	// The note was of a rollback under way: once it has ended, it goes.
	eventually(t, ctx, "the note gone once the rollback ended", `String(document.getElementById('action-status').hidden)`, "true", 10*time.Second)
	eventually(t, ctx, "no reload", `String(window.notReloaded === true)`, "true", time.Second)
	shot("user-rolled-back")

	// Every page the lead used, and the ones they may open, pass the check.
	for _, page := range []string{"/ui/settings", "/ui/readiness", fmt.Sprintf("/ui/waves/%d", waves[0].ID), "/ui/audit"} {
		step(t, ctx, "opening a page", chromedp.Navigate(b.srv.URL+page), chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
		check(page)
	}
	shot("audit-log")
	var audit string
	step(t, ctx, "reading the audit log", chromedp.Text(`main`, &audit, chromedp.ByQuery))
	for _, want := range []string{"lead@contoso.com", "signed in", "planned Pilot: Finance", "paused wave 1 of Pilot: Finance", "back on premises",
		"tried to import pilot group Pilot: Finance; refused invalid_csv: line 3"} {
		require.Contains(t, audit, want)
	}
	require.Equal(t, 1, strings.Count(audit, "planned Pilot: Finance"), "the plan is in the audit log once; its preview changed nothing")
	require.Equal(t, 1, strings.Count(audit, "imported pilot group Pilot: Finance"), "the import is in the audit log once; its check changed nothing")

	// On a phone, the wave's page fits the screen.
	step(t, ctx, "the wave's page on a phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(fmt.Sprintf("%s/ui/waves/%d", b.srv.URL, waves[1].ID)),
		chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
	var overflow bool
	step(t, ctx, "measuring the page's width", chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow))
	require.False(t, overflow, "the wave's page fits a phone's width")
	check("wave on a phone")
	shot("wave-phone")
}

// TestBrowserHelpdeskSession: a helpdesk agent signs in through Entra ID,
// looks a user up and is offered no change; an account without a role is
// refused at sign-in.
func TestBrowserHelpdeskSession(t *testing.T) {
	t.Parallel()
	ctx := browsertest.Browser(t)
	b := setupPages(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}))
	g := b.createGroup(t, "Helpdesk pilot", []member{{UPN: "grace.chen@contoso.com", DisplayName: "Grace Chen"}})
	decode[map[string]any](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 1, "start_at": "now", "name": "canary"}}}), http.StatusCreated)
	b.waitFinished(t, g.ID)

	var page string
	var buttons int
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.srv.URL+"/ui/lookup?q=grace.chen@contoso.com"),
		signInEntra("helpdesk@contoso.com"),
		chromedp.WaitVisible(`#summary`, chromedp.ByID),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('main form[data-url], #user-actions').length`, &buttons),
	))
	require.Contains(t, page, "Grace Chen")
	require.Zero(t, buttons, "helpdesk is offered no change")
	browsertest.AssertAccessible(t, ctx, "helpdesk lookup")
	browsertest.Screenshot(t, ctx, "helpdesk-entra-lookup")

	// An account with no role in cutover is told so, and gets no session.
	ctx2 := browsertest.Browser(t)
	var notice string
	require.NoError(t, chromedp.Run(ctx2,
		chromedp.Navigate(b.srv.URL+"/ui/"),
		signInEntra("nobody@contoso.com"),
		chromedp.Text(`.notice`, &notice, chromedp.ByQuery),
	))
	require.Contains(t, notice, "has no role in cutover")
	require.Contains(t, notice, "Cutover.Lead")
	browsertest.AssertAccessible(t, ctx2, "sign-in refused")

	// An admin's settings page lists the tokens and the open sessions, the
	// helpdesk agent's among them, each with its button.
	ctx3 := browsertest.Browser(t)
	var sessions string
	require.NoError(t, chromedp.Run(ctx3,
		chromedp.Navigate(b.srv.URL+"/ui/settings"),
		signInEntra("admin@contoso.com"),
		chromedp.WaitVisible(`#sessions`, chromedp.ByID),
		chromedp.Text(`[aria-label="Sessions"]`, &sessions, chromedp.ByQuery),
	))
	require.Contains(t, sessions, "helpdesk@contoso.com")
	require.Contains(t, sessions, "admin@contoso.com")
	browsertest.AssertAccessible(t, ctx3, "admin settings")
	browsertest.Screenshot(t, ctx3, "admin-settings")
}

// TestPageSessionWrites: a page session's changes need its anti-forgery
// token and cutover's own origin; a forged cross-site change does nothing
// and is in the audit log as refused; a helpdesk session is refused every
// write route; a session ends on sign-out and on an admin's revocation.
func TestPageSessionWrites(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	svc := app.New(b.pool, nil)
	start := func(role auth.Role) (string, string) {
		sess, secret, err := svc.SessionStart(ctx, app.As("test"), store.NewSession{Name: string(role) + "@contoso.com", Role: role, Via: "entra",
			ExpiresAt: time.Now().Add(time.Hour)})
		require.NoError(t, err)
		p, err := svc.SessionAuthenticate(ctx, secret)
		require.NoError(t, err)
		require.Equal(t, sess.ID, p.SessionID)
		return secret, p.CSRF
	}
	leadSecret, leadCSRF := start(auth.RoleLead)
	g := b.createGroup(t, "Forgery pilot", users(2, "forge."))
	future := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	planned := decode[map[string][]map[string]any](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 2, "start_at": future}}}), http.StatusCreated)
	waveID := int64(planned["waves"][0]["id"].(float64))
	pause := fmt.Sprintf("/api/v1/waves/%d/pause", waveID)

	send := func(method, path, secret, csrf, origin string) *http.Response {
		r, err := http.NewRequest(method, b.srv.URL+path, strings.NewReader("{}"))
		require.NoError(t, err)
		r.Header.Set("Content-Type", "application/json")
		if secret != "" {
			r.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: secret})
		}
		if csrf != "" {
			r.Header.Set(api.CSRFHeader, csrf)
		}
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		res, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	for _, tc := range []struct {
		name, secret, csrf, origin string
		status                     int
		outcome                    string
	}{
		{"forged cross-site: no token, another origin", leadSecret, "", "https://evil.example", http.StatusForbidden, "refused cross_origin"},
		{"forged cross-site with a stolen token", leadSecret, leadCSRF, "https://evil.example", http.StatusForbidden, "refused cross_origin"},
		{"same origin without the token", leadSecret, "", b.srv.URL, http.StatusForbidden, "refused csrf_token"},
		{"same origin with a wrong token", leadSecret, "x" + leadCSRF, b.srv.URL, http.StatusForbidden, "refused csrf_token"},
		{"no session at all", "", "", "https://evil.example", http.StatusUnauthorized, "refused unauthenticated"},
	} {
		res := send("POST", pause, tc.secret, tc.csrf, tc.origin)
		require.Equal(t, tc.status, res.StatusCode, tc.name)
		w := b.get(t, fmt.Sprintf("/api/v1/waves/%d", waveID))
		require.Contains(t, string(w.Body), `"state": "scheduled"`, "%s: nothing changed", tc.name)
		entries, err := svc.AuditLog(ctx, store.AuditFilter{Limit: 1})
		require.NoError(t, err)
		require.Equal(t, tc.outcome, entries[0].Outcome, tc.name)
		require.Equal(t, "wave pause", entries[0].Action, tc.name)
	}

	// The page's own change: same origin, the session's token.
	require.Equal(t, http.StatusOK, send("POST", pause, leadSecret, leadCSRF, b.srv.URL).StatusCode)
	entries, err := svc.AuditLog(ctx, store.AuditFilter{Limit: 1})
	require.NoError(t, err)
	require.Equal(t, "ok", entries[0].Outcome)
	require.Equal(t, "lead@contoso.com", entries[0].Actor)

	// Helpdesk: 403 on every write route, even with its own token and origin.
	hdSecret, hdCSRF := start(auth.RoleHelpdesk)
	for _, rt := range api.NewServer(b.pool, svc, slog.New(slog.DiscardHandler), nil).Routes() {
		if rt.Method == http.MethodGet || rt.Method == http.MethodHead || strings.HasPrefix(rt.Pattern, "/ui/") {
			continue
		}
		path := strings.NewReplacer("{id}", fmt.Sprint(waveID), "{identity}", "forge.000@contoso.com").Replace(rt.Pattern)
		if strings.HasPrefix(rt.Pattern, "/api/v1/groups/{id}") {
			path = strings.Replace(rt.Pattern, "{id}", fmt.Sprint(g.ID), 1)
		}
		res := send(rt.Method, path, hdSecret, hdCSRF, b.srv.URL)
		require.Equal(t, http.StatusForbidden, res.StatusCode, "helpdesk %s %s", rt.Method, rt.Pattern)
	}

	// Sign-out ends the session: the cookie no longer reads anything.
	form := strings.NewReader("csrf=" + leadCSRF)
	r, err := http.NewRequest("POST", b.srv.URL+"/ui/signout", form)
	require.NoError(t, err)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", b.srv.URL)
	r.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: leadSecret})
	res, err := noRedirect.Do(r)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Eventually(t, func() bool {
		return send("GET", "/api/v1/me", leadSecret, "", "").StatusCode == http.StatusUnauthorized
	}, 10*time.Second, 100*time.Millisecond, "a signed-out session reads nothing")

	// A sign-in posted by another site (with a token of its own) is
	// refused and starts no session; the same from the page does.
	signin := func(origin string) *http.Response {
		r, err := http.NewRequest("POST", b.srv.URL+"/ui/signin", strings.NewReader("token="+b.token))
		require.NoError(t, err)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", origin)
		res, err := noRedirect.Do(r)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	res = signin("https://evil.example")
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Empty(t, res.Cookies(), "no session for a forged sign-in")
	entries, err = svc.AuditLog(ctx, store.AuditFilter{Limit: 1})
	require.NoError(t, err)
	require.Equal(t, store.AuditEntry{Actor: "anonymous from https://evil.example", Action: "sign in", Outcome: "refused cross_origin"},
		store.AuditEntry{Actor: entries[0].Actor, Action: entries[0].Action, Outcome: entries[0].Outcome})
	res = signin(b.srv.URL)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.NotEmpty(t, res.Cookies(), "the page's own sign-in starts a session")

	// A session past its expiry reads nothing.
	_, expired, err := svc.SessionStart(ctx, app.As("test"), store.NewSession{Name: "late@contoso.com", Role: auth.RoleLead, Via: "entra",
		ExpiresAt: time.Now().Add(-time.Minute)})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, send("GET", "/api/v1/me", expired, "", "").StatusCode, "an expired session reads nothing")

	// An admin ends another's session.
	other, _ := start(auth.RoleLead)
	require.Equal(t, http.StatusOK, send("GET", "/api/v1/me", other, "", "").StatusCode)
	admin := newToken(t, b.pool, auth.RoleAdmin)
	list := decode[map[string][]store.Session](t, b.doAs(t, admin, "GET", "/api/v1/sessions"), http.StatusOK)
	require.NotEmpty(t, list["sessions"])
	ended := decode[store.Session](t, b.doAs(t, admin, "DELETE", fmt.Sprintf("/api/v1/sessions/%d", list["sessions"][0].ID)), http.StatusOK)
	require.NotNil(t, ended.EndedAt)
	require.Eventually(t, func() bool {
		return send("GET", "/api/v1/me", other, "", "").StatusCode == http.StatusUnauthorized
	}, 10*time.Second, 100*time.Millisecond, "a revoked session reads nothing")
}

// noRedirect shows a redirect rather than following it.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// doAs calls the API with another's token.
func (b *testBundle) doAs(t *testing.T, token, method, path string) response {
	t.Helper()
	other := *b
	other.token = token
	return other.do(t, method, path, "", nil)
}
