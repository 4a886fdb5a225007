package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/browsertest"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
)

// TestBrowserPagesOnPhone: every page, on a phone (mobile and touch
// emulated, 390 CSS pixels wide), fits the screen's width, passes the
// accessibility check and, the shell being simulated, says so: the sign-in,
// the simulated Entra ID's, and each page an admin can open, with a group,
// its waves and a user to show.
func TestBrowserPagesOnPhone(t *testing.T) {
	t.Parallel()
	ctx := browsertest.Browser(t, browsertest.Phone())
	b := setupPages(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}))
	g := b.createGroup(t, "Phone pilot", users(3, "phone."))
	later := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	planned := decode[map[string][]map[string]any](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{
		{"size": 2, "start_at": later, "name": "a wave with a rather long name for a small screen"}}}), http.StatusCreated)
	waveID := int64(planned["waves"][0]["id"].(float64))
	// The workers' shell is the simulated tenant's, as with serve --shell sim.
	require.NoError(t, store.New(b.pool).SettingsSetSimulated(context.Background(), store.Simulated{Shell: true}))

	fits := func(page string) {
		t.Helper()
		var overflow bool
		step(t, ctx, page+": its width", chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow))
		require.False(t, overflow, "%s fits a phone's width", page)
		if page != "simulated Entra ID sign-in" { // the tenant's own page, not cutover's
			var banner string
			step(t, ctx, page+": the simulated banner", chromedp.Text(`.simulated`, &banner, chromedp.ByQuery))
			require.Contains(t, banner, "Simulated tenant. The on-premises shell is simulated", page)
		}
		browsertest.AssertAccessible(t, ctx, page+" on a phone")
	}
	step(t, ctx, "the sign-in page", chromedp.Navigate(b.srv.URL+"/ui/"), chromedp.WaitVisible(`#signin-entra`, chromedp.ByID))
	fits("sign-in")
	step(t, ctx, "the simulated Entra ID's page", chromedp.Click(`#signin-entra`, chromedp.ByID), chromedp.WaitVisible(`#username`, chromedp.ByID))
	fits("simulated Entra ID sign-in")
	step(t, ctx, "signing in", chromedp.SendKeys(`#username`, "admin@contoso.com", chromedp.ByID),
		chromedp.SendKeys(`#password`, "any password", chromedp.ByID), chromedp.Click(`#signin`, chromedp.ByID),
		chromedp.WaitVisible(`#overview-summary`, chromedp.ByID))
	fits("the overview")
	for _, page := range []string{
		"/ui/groups",
		fmt.Sprintf("/ui/groups/%d/users", g.ID),
		fmt.Sprintf("/ui/waves/%d/users", waveID),
		"/ui/lookup?q=phone",
		fmt.Sprintf("/ui/groups/%d", g.ID),
		fmt.Sprintf("/ui/waves/%d", waveID),
		"/ui/lookup",
		"/ui/lookup?q=phone.000@contoso.com",
		"/ui/readiness",
		"/ui/settings",
		"/ui/audit",
	} {
		step(t, ctx, page, chromedp.Navigate(b.srv.URL+page), chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
		fits(page)
	}
	browsertest.Screenshot(t, ctx, "phone-audit")
}
