package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/browsertest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
)

// TestBrowserLeadActions: every action a lead (here an admin, who may
// also make tokens and end sessions) takes on the pages beyond the
// journey's, by clicks, each after a confirmation that says what it does:
// a wave held by hybrid readiness started anyway, a wave's failed users
// retried in a new wave, a wave rolled back, a scheduled wave rescheduled,
// its users changed, paused and resumed, a wave cancelled, a user's move
// retried, the dry run, a readiness check, the cap, a webhook added and
// removed, a token made and revoked, a session ended; then each is in the
// audit log. Pages are checked for accessibility in the states they reach,
// confirmation dialogs open.
func TestBrowserLeadActions(t *testing.T) {
	t.Parallel()
	ctx := browsertest.Browser(t, browsertest.Timeout(10*time.Minute))
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 25 * time.Millisecond})
	b := setupPagesWorking(t, shell, shell, simGraph(t, shell, sim.GraphConfig{}))
	bg := context.Background()
	q := store.New(b.pool)
	shot := func(name string) { browsertest.Screenshot(t, ctx, "actions-"+name) }
	check := func(page string) { browsertest.AssertAccessible(t, ctx, page) }
	state := func(what, want string, within time.Duration) {
		eventually(t, ctx, what, `document.querySelector('h1 [data-field="state"]').textContent`, want, within)
	}
	// act clicks an action's button (a CSS selector, or an XPath), checks
	// the first dialog it opens, confirms, and returns what the dialog said.
	var checkedDialog bool
	act := func(what, button string) string {
		var said string
		by := chromedp.ByQuery
		if strings.HasPrefix(button, "/") {
			by = chromedp.BySearch // an XPath
		}
		step(t, ctx, what+": the confirmation", chromedp.Click(button, by), chromedp.WaitVisible(`#confirm-dialog`, chromedp.ByID),
			chromedp.Text(`#confirm-text`, &said, chromedp.ByID))
		if !checkedDialog {
			check("a confirmation, open")
			shot("confirmation")
			checkedDialog = true
		}
		step(t, ctx, what, chromedp.Click(`#confirm-ok`, chromedp.ByID))
		return said
	}
	openWave := func(w int64) {
		step(t, ctx, fmt.Sprintf("wave %d's page", w), chromedp.Navigate(fmt.Sprintf("%s/ui/waves/%d", b.srv.URL, w)), chromedp.WaitVisible(`h1 [data-field="state"]`, chromedp.ByQuery))
	}

	// Hybrid readiness fails on premises (as a worker would record it):
	// a wave due now waits for it.
	broken := sim.DefaultOnPremises("")
	broken.HostingProviders = nil
	require.NoError(t, q.ReadinessSave(bg, store.ReadinessSection{Section: migration.SectionOnPremises,
		Checks: migration.OnPremReadiness(broken, "", ""), CheckedAt: time.Now(), CheckedBy: "sfb01-4242"}))
	g := b.createGroup(t, "Actions pilot", users(8, "act."))
	shell.SetBehaviour("act.001@contoso.com", sim.Behaviour{Kind: sim.KindLicenceMissing})
	later := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	planned := decode[map[string][]map[string]any](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{
		{"size": 4, "start_at": "now", "name": "first", "max_attempts": 1},
		{"size": 2, "start_at": later, "name": "later"},
		{"size": 1, "start_at": later, "name": "spare"},
	}}), http.StatusCreated)
	ids := make([]int64, 3)
	for i, w := range planned["waves"] {
		ids[i] = int64(w["id"].(float64))
	}
	first, laterID, spare := ids[0], ids[1], ids[2]
	b.waitWave(t, first, "held by readiness", func(w wave) bool { return strings.HasPrefix(w.StateReason, "not started: hybrid readiness check ") })

	step(t, ctx, "signing in", chromedp.Navigate(b.srv.URL+"/ui/"), signInEntra("admin@contoso.com"), chromedp.WaitVisible(`#overview-summary`, chromedp.ByID))
	check("the overview, a wave held by readiness")
	shot("overview")
	step(t, ctx, "the pilot groups", chromedp.Navigate(b.srv.URL+"/ui/groups"), chromedp.WaitVisible(`#import-csv`, chromedp.ByID))
	check("pilot groups, one listed")

	// The dry run on the group's page.
	var dry string
	step(t, ctx, "the dry run", chromedp.Navigate(fmt.Sprintf("%s/ui/groups/%d", b.srv.URL, g.ID)),
		chromedp.Click(`#dry-run button`, chromedp.ByQuery), chromedp.WaitVisible(`#dry-run .result:is(.ok, .warn)`, chromedp.ByQuery),
		chromedp.Text(`#dry-run .result`, &dry, chromedp.ByQuery))
	require.Contains(t, dry, "Nothing was moved")
	check("group with a dry run's result")

	// The held wave: started despite the readiness check.
	step(t, ctx, "the held wave's page", chromedp.Click(fmt.Sprintf("#wave-%d-name a", first), chromedp.ByQuery), chromedp.WaitVisible(`#action-override`, chromedp.ByID))
	var reason string
	step(t, ctx, "the held wave's reason", chromedp.Text(`[data-field="reason"]`, &reason, chromedp.ByQuery))
	require.Contains(t, reason, "hybrid readiness check")
	check("wave held by readiness")
	shot("held")
	step(t, ctx, "marking the page", chromedp.Evaluate(`window.notReloaded = true`, nil))
	said := act("starting the held wave", `#action-override`)
	require.Contains(t, said, "although a hybrid readiness check that blocks moves fails")
	state("the held wave completing", "completed", 2*time.Minute)
	// Its failures and its timeline follow it too, without a reload.
	eventually(t, ctx, "the failure listed", `String(document.querySelector('#failures tbody').textContent.includes('licence_missing'))`, "true", 10*time.Second)
	eventually(t, ctx, "the completion in the timeline", `String(document.querySelector('#timeline tbody').textContent.includes('completed'))`, "true", 10*time.Second)
	eventually(t, ctx, "no reload", `String(window.notReloaded === true)`, "true", time.Second)
	check("completed wave with a failure")

	// Its failed user, retried in a new wave: the page goes to it.
	step(t, ctx, "the retry button", chromedp.WaitVisible(`#action-retry`, chromedp.ByID))
	said = act("retrying the failed users", `#action-retry`)
	require.Contains(t, said, "A new wave is made of this wave's failed users")
	var path string
	eventually(t, ctx, "the retry wave's page", `String(location.pathname !== '/ui/waves/`+fmt.Sprint(first)+`')`, "true", 30*time.Second)
	step(t, ctx, "the retry wave's address", chromedp.WaitVisible(`h1 [data-field="state"]`, chromedp.ByQuery), chromedp.Evaluate(`location.pathname`, &path))
	var name string
	step(t, ctx, "the retry wave's name", chromedp.Text(`h1`, &name, chromedp.ByQuery))
	require.Contains(t, name, "first retry")
	state("the retry wave completing", "completed", 2*time.Minute)

	// The first wave rolled back: its moved users go back on premises.
	openWave(first)
	step(t, ctx, "the rollback button", chromedp.WaitVisible(`#action-rollback`, chromedp.ByID))
	step(t, ctx, "marking the page", chromedp.Evaluate(`window.notReloaded = true`, nil))
	said = act("rolling the wave back", `#action-rollback`)
	require.Contains(t, said, "goes back on premises")
	require.Contains(t, said, migration.ExpectMovedBack)
	state("the wave rolled back", "rolled back", 2*time.Minute)
	eventually(t, ctx, "no reload", `String(window.notReloaded === true)`, "true", time.Second)
	check("rolled-back wave")
	shot("rolled-back")

	// A scheduled wave: rescheduled, its users changed, paused, resumed.
	openWave(laterID)
	check("scheduled wave")
	newStart := time.Now().Add(26 * time.Hour).Truncate(time.Minute)
	step(t, ctx, "the new start", chromedp.SetValue(`#reschedule-at`, newStart.Format("2006-01-02T15:04"), chromedp.ByID))
	said = act("rescheduling", `#action-reschedule`)
	require.Contains(t, said, "start moving at the new time")
	require.Eventually(t, func() bool { return b.wave(t, laterID).StartAt.Equal(newStart) }, 30*time.Second, 100*time.Millisecond,
		"the wave starts at the time given, in the browser's time zone")
	openWave(laterID)
	step(t, ctx, "the users to change", chromedp.SendKeys(`#members-add`, "act.007@contoso.com", chromedp.ByID),
		chromedp.SendKeys(`#members-remove`, "act.005@contoso.com", chromedp.ByID))
	said = act("changing the wave's users", `#action-members`)
	require.Contains(t, said, "wait, unplanned, for another wave")
	require.Eventually(t, func() bool {
		ms, err := app.New(b.pool, nil).WaveMoves(bg, laterID, "")
		in := map[string]migration.MoveState{}
		for _, m := range ms {
			in[m.UPN] = m.State
		}
		return err == nil && in["act.007@contoso.com"] == migration.MoveStatePending && in["act.005@contoso.com"] == migration.MoveStateCancelled
	}, 30*time.Second, 100*time.Millisecond, "act.007 added, act.005 removed (its move cancelled)")
	openWave(laterID)
	step(t, ctx, "marking the page", chromedp.Evaluate(`window.notReloaded = true`, nil))
	said = act("pausing the scheduled wave", `#action-pause`)
	require.Contains(t, said, "no other user of this wave starts moving")
	state("the wave paused", "paused", 10*time.Second)
	step(t, ctx, "the resume button", chromedp.WaitVisible(`#action-resume`, chromedp.ByID))
	check("wave paused before its start")
	act("resuming the scheduled wave", `#action-resume`)
	state("the wave scheduled again", "scheduled", 10*time.Second)
	step(t, ctx, "the pause button again", chromedp.WaitVisible(`#action-pause`, chromedp.ByID))
	eventually(t, ctx, "no reload", `String(window.notReloaded === true)`, "true", time.Second)

	// A wave cancelled: its buttons go.
	openWave(spare)
	said = act("cancelling a wave", `#action-cancel`)
	require.Contains(t, said, "Users not yet moved stay on premises")
	state("the wave cancelled", "cancelled", 10*time.Second)
	eventually(t, ctx, "a cancelled wave's buttons", `String(document.querySelectorAll('#wave-actions form').length)`, "0", 10*time.Second)
	check("cancelled wave")

	// A user's move retried, found by the lookup's form.
	step(t, ctx, "looking the user up", chromedp.Click(`nav a[href="/ui/lookup"]`, chromedp.ByQuery), chromedp.WaitVisible(`#q`, chromedp.ByID))
	check("the lookup, empty")
	step(t, ctx, "the user's page", chromedp.SendKeys(`#q`, "act.001@contoso.com", chromedp.ByID), chromedp.Submit(`#q`, chromedp.ByID),
		chromedp.WaitVisible(`#user-retry`, chromedp.ByID))
	said = act("retrying the user's move", `#user-retry`)
	require.Contains(t, said, "runs again now in first retry, with a fresh count of attempts")
	require.Eventually(t, func() bool {
		u := b.user(t, "act.001@contoso.com")
		return u.Move != nil && u.Move.Run == 2
	}, 30*time.Second, 100*time.Millisecond, "the user's move runs again")

	// Readiness: checked now, on request.
	step(t, ctx, "the readiness page", chromedp.Click(`nav a[href="/ui/readiness"]`, chromedp.ByQuery), chromedp.WaitVisible(`#readiness-check button`, chromedp.ByQuery),
		chromedp.Click(`#readiness-check button`, chromedp.ByQuery), chromedp.WaitVisible(`#readiness-check .result.ok`, chromedp.ByQuery))

	// Settings: the cap, a webhook, a token, a session.
	step(t, ctx, "the settings page", chromedp.Click(`nav a[href="/ui/settings"]`, chromedp.ByQuery), chromedp.WaitVisible(`#cap-value`, chromedp.ByID),
		chromedp.SetValue(`#cap-value`, "7", chromedp.ByID), chromedp.Evaluate(`window.beforeCap = true`, nil))
	said = act("changing the cap", `#cap button`)
	// The page reloads once the cap is saved, showing it.
	eventually(t, ctx, "the settings page reloaded", `String(window.beforeCap === true)`, "false", 30*time.Second)
	eventually(t, ctx, "the cap shown", `document.getElementById('cap-value').value`, "7", 30*time.Second)
	require.Contains(t, said, "At most this many users are moved at once")
	require.Eventually(t, func() bool {
		st, _, err := app.New(b.pool, nil).Settings(bg)
		return err == nil && st.MaxInFlight == 7
	}, 30*time.Second, 100*time.Millisecond, "the cap is 7")
	step(t, ctx, "the settings page again", chromedp.WaitVisible(`#webhook-name`, chromedp.ByID),
		chromedp.SendKeys(`#webhook-name`, "Migration channel", chromedp.ByID),
		chromedp.SendKeys(`#webhook-url`, "https://contoso.webhook.office.com/workflows/123", chromedp.ByID),
		chromedp.SetValue(`#webhook-format`, "teams", chromedp.ByID),
		chromedp.Click(`#webhook-add button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#webhook-add .result:is(.ok, .error)`, chromedp.ByQuery),
		chromedp.Text(`#webhook-add .result`, &said, chromedp.ByQuery))
	require.Equal(t, "Added.", said)
	step(t, ctx, "the webhook listed", chromedp.WaitVisible(`//button[text()="Remove Migration channel"]`, chromedp.BySearch))
	check("settings with a webhook")
	act("removing the webhook", `.actions form[data-method="DELETE"] button`)
	eventually(t, ctx, "the webhook gone", `String(document.body.textContent.includes('Remove Migration channel'))`, "false", 30*time.Second)

	var secret string
	step(t, ctx, "making a token", chromedp.SendKeys(`#token-name`, "nightly report", chromedp.ByID), chromedp.SetValue(`#token-role`, "lead", chromedp.ByID),
		chromedp.Click(`#token-create button`, chromedp.ByQuery), chromedp.WaitVisible(`#token-create .result code`, chromedp.ByQuery),
		chromedp.Text(`#token-create .result code`, &secret, chromedp.ByQuery))
	require.True(t, strings.HasPrefix(secret, auth.TokenPrefix), secret)
	check("settings with a new token's secret")
	shot("token-made")
	step(t, ctx, "the token listed", chromedp.Reload(), chromedp.WaitVisible(`//td[text()="nightly report"]`, chromedp.BySearch))
	act("revoking the token", `//td[text()="nightly report"]/following-sibling::td//button`)
	eventually(t, ctx, "the token revoked", `String([...document.querySelectorAll('tr')].some(r => r.textContent.includes('nightly report') && r.textContent.includes('revoked')))`, "true", 30*time.Second)
	res := b.doAs(t, secret, "GET", "/api/v1/me")
	require.Equal(t, http.StatusUnauthorized, res.Status, "a revoked token reads nothing")

	_, other, err := app.New(b.pool, nil).SessionStart(bg, app.As("test"), store.NewSession{Name: "other.lead@contoso.com", Role: auth.RoleLead, Via: "entra",
		ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	step(t, ctx, "the session listed", chromedp.Reload(), chromedp.WaitVisible(`//td[text()="other.lead@contoso.com"]`, chromedp.BySearch))
	said = act("ending a session", `//td[text()="other.lead@contoso.com"]/following-sibling::td//button`)
	require.Contains(t, said, "signed out of the pages")
	require.Eventually(t, func() bool {
		_, err := app.New(b.pool, nil).SessionAuthenticate(bg, other)
		return errors.Is(err, auth.ErrUnknown)
	}, 30*time.Second, 100*time.Millisecond, "the session ended")

	// Every action is in the audit log, under the admin's name.
	var audit string
	step(t, ctx, "the audit log", chromedp.Click(`nav a[href="/ui/audit"]`, chromedp.ByQuery), chromedp.WaitVisible(`//h1[text()="Audit log"]`, chromedp.BySearch),
		chromedp.Text(`main`, &audit, chromedp.ByQuery))
	for _, want := range []string{"started first of Actions pilot despite the readiness check", "retried the failed users of first of Actions pilot",
		"rolled back first of Actions pilot", "rescheduled later of Actions pilot", "changed the users of later of Actions pilot",
		"paused later of Actions pilot", "resumed later of Actions pilot", "cancelled spare of Actions pilot", "moved act.001@contoso.com again",
		"ran the dry run of Actions pilot", "asked the workers to check readiness now", "changed the cap on moves in flight", "added a webhook",
		"removed a webhook", "made an API token", "revoked an API token", "ended someone's session"} {
		require.Contains(t, audit, want)
	}
	// Filtered: a wave's pauses only, and the CSV of just those.
	step(t, ctx, "filtering the audit log", chromedp.SetValue(`#a-what`, "pause a wave", chromedp.ByID), chromedp.Submit(`#a-what`, chromedp.ByID),
		chromedp.WaitVisible(`#audit-csv`, chromedp.ByID), chromedp.Text(`#audit tbody`, &audit, chromedp.ByQuery))
	require.Contains(t, audit, "paused later of Actions pilot")
	require.NotContains(t, audit, "resumed")
	check("the audit log, filtered")
	require.Contains(t, audit, "admin@contoso.com")
	shot("audit")
}
