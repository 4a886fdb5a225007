package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/browsertest"
	"github.com/cutover/cutover/internal/sim"
)

// The browser tests drive the pages in headless Chromium, as people use
// them (internal/browsertest starts it and keeps the screenshots).

// signIn fills the sign-in form the page showed in place of itself.
func signIn(token string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.WaitVisible(`#token`, chromedp.ByID),
		chromedp.SendKeys(`#token`, token, chromedp.ByID),
		chromedp.Submit(`#token`, chromedp.ByID),
	}
}

func TestBrowserHelpdeskLookup(t *testing.T) {
	t.Parallel()
	ctx := browsertest.Browser(t)
	b := setup(t)
	g := b.createGroup(t, "Browser pilot", []member{{UPN: "grace.chen@contoso.com", DisplayName: "Grace Chen"}, {UPN: "ivan.petrov@contoso.com"}})
	future := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	decode[map[string]any](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 2, "start_at": future, "name": "canary"}}}), http.StatusCreated)
	token := newToken(t, b.pool, auth.RoleHelpdesk)

	var label, heading, summary, state string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.srv.URL+"/ui/lookup"),
		signIn(token),
		chromedp.WaitVisible(`#q`, chromedp.ByID),
		chromedp.Text(`label[for="q"]`, &label),
		chromedp.SendKeys(`#q`, "SIP:Grace.Chen@contoso.com", chromedp.ByID),
		chromedp.Submit(`#q`, chromedp.ByID),
		chromedp.WaitVisible(`#summary`, chromedp.ByID),
		chromedp.Text(`#user-name`, &heading, chromedp.ByID),
		chromedp.Text(`#summary`, &summary, chromedp.ByID),
		chromedp.Text(`#user-state`, &state, chromedp.ByID),
	))
	require.Equal(t, "Name, UPN or SIP address (or their start)", label, "the search box is labelled")
	require.Equal(t, "Grace Chen", heading)
	require.Equal(t, "pending", state)
	require.Contains(t, summary, "Scheduled: canary of Browser pilot starts")
	browsertest.Screenshot(t, ctx, "helpdesk-lookup")
	browsertest.AssertAccessible(t, ctx, "helpdesk lookup, token sign-in")

	// Someone not in any group: said plainly.
	var notice string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.srv.URL+"/ui/lookup?q=nobody@contoso.com"),
		chromedp.Text(`.notice`, &notice, chromedp.ByQuery),
	))
	require.Contains(t, notice, `No user in any pilot group whose name, UPN or SIP address starts with "nobody@contoso.com"`)
	browsertest.AssertAccessible(t, ctx, "user not found")

	// Helpdesk sees users, not the pilot groups.
	var title string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.srv.URL+"/ui/groups"),
		chromedp.Text(`h1`, &title, chromedp.ByQuery),
	))
	require.Equal(t, "Not for your role", title)
	browsertest.AssertAccessible(t, ctx, "not for your role")

	// On a phone.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(b.srv.URL+"/ui/lookup?q=grace.chen@contoso.com"),
		chromedp.WaitVisible(`#summary`, chromedp.ByID),
	))
	var overflow bool
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow)))
	require.False(t, overflow, "the lookup fits a phone's width")
	browsertest.Screenshot(t, ctx, "helpdesk-lookup-phone")
}

// summaryText reads the group's summary line as shown.
const summaryText = `document.getElementById('group-summary').innerText`

func TestBrowserWaveDashboardLive(t *testing.T) {
	t.Parallel()
	ctx := browsertest.Browser(t)
	b := setupWith(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 25 * time.Millisecond}))
	const n = 40
	g := b.createGroup(t, "Live pilot", users(n, "live."))
	b.shell.SetBehaviour("live.007@contoso.com", sim.Behaviour{Kind: sim.KindLicenceMissing})
	// Late enough for the browser to start and sign in first on a loaded
	// machine.
	start := time.Now().Add(10 * time.Second).UTC().Format(time.RFC3339)
	decode[map[string]any](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{
		{"size": n, "start_at": start, "name": "wave A", "concurrency": 2, "max_attempts": 1}}}), http.StatusCreated)
	token := b.token // a lead's

	var before string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/ui/groups/%d", b.srv.URL, g.ID)),
		signIn(token),
		chromedp.WaitVisible(`#dashboard`, chromedp.ByID),
		// Read in one step: a live update may replace the node between a
		// lookup and a read.
		chromedp.Evaluate(summaryText, &before),
		// A mark that a reload would wipe out.
		chromedp.Evaluate(`window.notReloaded = true`, nil),
	))
	require.Contains(t, before, fmt.Sprintf("0 of %d users moved to Teams", n))
	browsertest.Screenshot(t, ctx, "dashboard-before")

	// The wave starts and runs; the page follows it by itself.
	var summary, counts, state, failures string
	deadline := time.Now().Add(90 * time.Second)
	for {
		require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(summaryText, &summary)))
		if summary == fmt.Sprintf("%d of %d users moved to Teams, 1 failed.", n-1, n) {
			break
		}
		require.True(t, time.Now().Before(deadline), "the dashboard never showed the wave done; last: %q", summary)
		time.Sleep(200 * time.Millisecond)
	}
	var notReloaded bool
	var legend string
	// The wave completes a moment after its last move ends (its review
	// follows the move's own commit): the page shows it as the next event
	// comes.
	eventually(t, ctx, "the wave completed", `document.querySelector('#wave-1 [data-field="state"]').textContent`, "completed", 10*time.Second)
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Evaluate(`window.notReloaded === true`, &notReloaded),
		chromedp.Text(`#wave-1 [data-field="counts"]`, &counts, chromedp.ByQuery),
		chromedp.Text(`#wave-1 [data-field="state"]`, &state, chromedp.ByQuery),
		chromedp.Text(`#wave-1 [data-field="legend"]`, &legend, chromedp.ByQuery),
		chromedp.Text(`#failures tbody`, &failures, chromedp.ByQuery),
	))
	require.True(t, notReloaded, "the page updated in place, without a reload")
	require.Equal(t, "completed", state)
	require.Contains(t, legend, fmt.Sprintf("%d moved to Teams", n-1))
	require.Contains(t, legend, "1 failed")
	require.Equal(t, fmt.Sprintf("%d of %d users moved to Teams, 1 failed.", n-1, n), counts)
	require.Contains(t, failures, "licence_missing")
	browsertest.Screenshot(t, ctx, "dashboard-after")
	browsertest.AssertAccessible(t, ctx, "group with a failure")

	// The wave's own page, by its link: its timeline and failures.
	var waveState, timeline, waveFailures string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`#wave-1-name a`, chromedp.ByQuery),
		chromedp.WaitVisible(`h1 [data-field="state"]`, chromedp.ByQuery),
		chromedp.Text(`h1 [data-field="state"]`, &waveState, chromedp.ByQuery),
		chromedp.Text(`table:not(#failures) tbody`, &timeline, chromedp.ByQuery),
		chromedp.Text(`#failures tbody`, &waveFailures, chromedp.ByQuery),
	))
	require.Equal(t, "completed", waveState)
	require.Contains(t, timeline, "started: 40 moves queued")
	require.Contains(t, timeline, "wave A completed")
	require.Contains(t, waveFailures, "licence_missing")
	browsertest.Screenshot(t, ctx, "wave-page")
	browsertest.AssertAccessible(t, ctx, "wave with a failure")
}

// TestBrowserReadinessPage: a lead opens the readiness page and sees what
// holds moves, every worker host, and each failed check with its fix.
func TestBrowserReadinessPage(t *testing.T) {
	t.Parallel()
	ctx := browsertest.Browser(t)
	b := setup(t)
	q, bg := store.New(b.pool), context.Background()
	old := sim.DefaultHost
	old.TeamsModule = "5.9.0"
	require.NoError(t, q.HostSave(bg, store.WorkerHost{ID: "sfb01-4242", Host: "sfb01", Facts: old, Checks: migration.HostReadiness(old), CheckedAt: time.Now()}))
	broken := sim.DefaultOnPremises("")
	broken.HostingProviders = nil
	require.NoError(t, q.ReadinessSave(bg, store.ReadinessSection{Section: migration.SectionOnPremises,
		Checks: migration.OnPremReadiness(broken, "", ""), CheckedAt: time.Now(), CheckedBy: "sfb01-4242"}))
	_, err := q.HoldSet(bg, store.Hold{Code: migration.CodeSignInFailed, Reason: "Move-CsUser cannot sign in to Teams",
		Evidence: migration.TextMFARequired.Fill("cutover"), SetBy: "sfb01-4242"})
	require.NoError(t, err)

	var body string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.srv.URL+"/ui/readiness"),
		signIn(b.token),
		chromedp.WaitVisible(`#section-on_premises`, chromedp.ByID),
		chromedp.Text(`main`, &body, chromedp.ByQuery),
	))
	for _, want := range []string{
		"Moves are held across the deployment", "AADSTS50076",
		"sfb01 (sfb01-4242): teams_module", "MicrosoftTeams 5.9.0 is older than 6.2.1", "Update-Module MicrosoftTeams",
		"no hosting provider has ProxyFqdn sipfed.online.lync.com", "New-CsHostingProvider -Identity Office365",
	} {
		require.Contains(t, body, want)
	}
	browsertest.Screenshot(t, ctx, "readiness")
	browsertest.AssertAccessible(t, ctx, "readiness with a hold and failed checks")
}
