package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/browsertest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/jobs"
)

// TestBrowserHelpdeskCompletion: a helpdesk agent looks up two moved users
// whose completion is not finished, on a simulated tenant whose Meeting
// Migration Service keeps a fast clock. For each, the page says in plain
// words what is left after the move, who does it, and what the user should
// expect, and the API says the same.
func TestBrowserHelpdeskCompletion(t *testing.T) {
	t.Parallel()
	ctx := browsertest.Browser(t)
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{},
		Meetings: sim.MeetingsTiming{StartAfter: 100 * time.Millisecond, Takes: 100 * time.Millisecond, RetryEvery: 10 * time.Millisecond}})
	const pending, failed = "pat.pending@contoso.com", "fay.failed@contoso.com"
	shell.SetBehaviour(pending, sim.Behaviour{Kind: sim.KindOK, Meetings: sim.MeetingsNoRecord})
	shell.SetBehaviour(failed, sim.Behaviour{Kind: sim.KindOK, Meetings: sim.MeetingsFail})
	b := setupPages(t, shell, func(c *jobs.Config) {
		c.CompletionEvery = 200 * time.Millisecond
		c.MeetingsTiming = migration.MeetingsTiming{StartAfter: 100 * time.Millisecond, RetryFor: time.Hour, Poll: 100 * time.Millisecond}
	})
	g := b.createGroup(t, "Completion pilot", []member{{UPN: pending, DisplayName: "Pat Pending"}, {UPN: failed, DisplayName: "Fay Failed"}})
	canary := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 2, "start_at": "now", "name": "canary"}}}), http.StatusCreated).Waves[0]
	b.waitFinished(t, g.ID)
	item := func(upn string) map[string]any {
		st := decode[map[string]any](t, b.get(t, "/api/v1/users/"+upn), http.StatusOK)
		items, _ := st["completion"].([]any)
		if len(items) != 1 {
			return nil
		}
		return items[0].(map[string]any)
	}
	require.Eventually(t, func() bool {
		p, f := item(pending), item(failed)
		return p != nil && f != nil && f["state"] == "failed" && p["evidence"] != nil
	}, 30*time.Second, 100*time.Millisecond)

	// The wave counts each moved user once by completion, says who needs
	// a person, and its list filtered so shows exactly them.
	w := decode[struct {
		Completion struct {
			Users   int    `json:"users"`
			Done    int    `json:"done"`
			Pending int    `json:"pending"`
			Needs   int    `json:"needs_someone"`
			Says    string `json:"says"`
		} `json:"completion"`
		Attention []struct {
			Kind  string `json:"kind"`
			Users int    `json:"users"`
		} `json:"attention"`
	}](t, b.get(t, fmt.Sprintf("/api/v1/waves/%d", canary.ID)), http.StatusOK)
	require.Equal(t, [4]int{2, 0, 1, 1}, [4]int{w.Completion.Users, w.Completion.Done, w.Completion.Pending, w.Completion.Needs})
	require.Equal(t, "After the move: 0 done, 1 pending, 1 needing someone.", w.Completion.Says)
	require.Contains(t, w.Attention, struct {
		Kind  string `json:"kind"`
		Users int    `json:"users"`
	}{"completion", 1})
	for filter, want := range map[string][]string{"needs": {failed}, "pending": {pending}, "done": {}} {
		list := decode[struct {
			Users []struct {
				UPN string `json:"upn"`
			} `json:"users"`
		}](t, b.get(t, fmt.Sprintf("/api/v1/waves/%d/users?completion=%s", canary.ID, filter)), http.StatusOK)
		got := []string{}
		for _, u := range list.Users {
			got = append(got, u.UPN)
		}
		require.Equal(t, want, got, "the users whose completion is %s", filter)
	}
	apiErr(t, b.get(t, fmt.Sprintf("/api/v1/waves/%d/users?completion=soon", canary.ID)), http.StatusUnprocessableEntity, "invalid_completion")
	// The page the attention leads to says what it is filtered by, and
	// offers the filter.
	res := b.get(t, fmt.Sprintf("/ui/waves/%d/users?completion=needs", canary.ID))
	require.Equal(t, http.StatusOK, res.Status)
	page := string(res.Body)
	require.Contains(t, page, "1 user shown: moved and needing someone after the move.")
	require.Contains(t, page, failed)
	require.NotContains(t, page, pending)
	require.Contains(t, page, `<option value="needs" selected>needing someone after the move</option>`)

	tests := []struct {
		upn, state               string
		summary, next, itemWords string
	}{
		{pending, "pending", "Still to come after the move: meetings migrated to Teams.",
			"Nothing to do yet: Microsoft has not started migrating the user's meetings yet.", "pending"},
		{failed, "failed", "Needs someone after the move: meetings migrated to Teams.",
			"A migration lead triggers the migration again for the user (Start-CsExMeetingMigration", "failed"},
	}
	step(t, ctx, "signing in", chromedp.Navigate(b.srv.URL+"/ui/lookup"), signInEntra("helpdesk@contoso.com"), chromedp.WaitVisible(`#q`, chromedp.ByID))
	for _, tt := range tests {
		var summary, expect, next, state, checklist string
		step(t, ctx, "the lookup of "+tt.upn, chromedp.Navigate(b.srv.URL+"/ui/lookup?q="+tt.upn), chromedp.WaitVisible(`#completion`, chromedp.ByID),
			chromedp.Text(`#summary`, &summary, chromedp.ByID),
			chromedp.Text(`#user-status dl.facts dd:nth-of-type(2)`, &expect, chromedp.ByQuery),
			chromedp.Text(`#user-status dl.facts dd:nth-of-type(3)`, &next, chromedp.ByQuery),
			chromedp.Text(`#completion-meetings .item-state`, &state, chromedp.ByQuery),
			chromedp.Text(`#completion`, &checklist, chromedp.ByID))
		require.Contains(t, summary, tt.summary, tt.upn)
		require.Contains(t, next, tt.next, tt.upn)
		require.Contains(t, expect, "meetings", "%s: what the user should expect", tt.upn)
		require.Equal(t, tt.itemWords, state, tt.upn)
		require.Contains(t, checklist, "Get-CsMeetingMigrationStatus", "%s: what cutover saw", tt.upn)
		require.Equal(t, tt.state, item(tt.upn)["state"], "%s: the API says the same", tt.upn)
		browsertest.AssertAccessible(t, ctx, "a moved user's completion, "+tt.state)
	}
}
