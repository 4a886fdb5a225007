package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/browsertest"
	"github.com/cutover/cutover/internal/cli"
	"github.com/cutover/cutover/internal/sim"
)

// The pages tell the truth: where a user stands across every group, counts
// that count each user once and never read failure as success, and the
// users a lead must act on, found and acted on from the pages.

// planNow plans a group as one wave starting now, with one attempt per user,
// and returns the wave.
func (b *testBundle) planNow(t *testing.T, groupID int64, name string, size int) wave {
	t.Helper()
	return decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, groupID, map[string]any{"waves": []map[string]any{
		{"size": size, "start_at": "now", "name": name, "max_attempts": 1, "concurrency": 4}}}), http.StatusCreated).Waves[0]
}

func (b *testBundle) waitState(t *testing.T, waveID int64, state string) wave {
	t.Helper()
	return b.waitWave(t, waveID, state, func(w wave) bool { return w.State == state })
}

// status runs `cutover status` against the test's database, as a helpdesk
// agent at a terminal would, and returns what it printed.
func (b *testBundle) status(t *testing.T, identity string) string {
	t.Helper()
	var out, errs bytes.Buffer
	code := cli.Main(context.Background(), []string{"status", "--database-url", b.pool.Config().ConnString(), identity},
		func(string) string { return "" }, &out, &errs)
	require.Equal(t, 0, code, errs.String())
	return out.String()
}

// phoneCheck shows the page at a phone's size, checks it for
// accessibility and that nothing runs off the screen, and goes back to a
// laptop's size.
func phoneCheck(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	step(t, ctx, page+" on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	var overflow bool
	step(t, ctx, page+": its width", chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow))
	require.False(t, overflow, "%s fits a phone's width", page)
	browsertest.AssertAccessible(t, ctx, page+", at 390 px")
	step(t, ctx, page+" on a laptop again", chromedp.EmulateViewport(1280, 900))
}

// TestBrowserUserTruthAfterRollback: the falsehood of issue 25. A user
// moved by one group, imported into a second (skipped there: already
// online), then rolled back by a wave rollback of the first, is on premises:
// the user's page, the API and `cutover status` say so, list both moves,
// and offer to move the user again. Before the rollback, the first group's
// move can still be rolled back from the user's page; a wave rollback that
// meets the user busy in a third group is refused in words that name the
// user, the wave and the group, and what to do.
func TestBrowserUserTruthAfterRollback(t *testing.T) {
	t.Parallel()
	ctx := browsertest.Browser(t, browsertest.Timeout(8*time.Minute))
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 10 * time.Millisecond})
	b := setupPages(t, shell)
	const mei = "mei.walsh@contoso.com"

	finance := b.createGroup(t, "Pilot: Finance", []member{{UPN: mei, DisplayName: "Mei Walsh"}, {UPN: "ana.lima@contoso.com", DisplayName: "Ana Lima"}})
	first := b.planNow(t, finance.ID, "wave 1", 2)
	b.waitState(t, first.ID, "completed")
	sales := b.createGroup(t, "Pilot: Sales", []member{{UPN: mei, DisplayName: "Mei Walsh"}, {UPN: "ken.ito@contoso.com", DisplayName: "Ken Ito"}})
	second := b.planNow(t, sales.ID, "wave 1", 2)
	b.waitState(t, second.ID, "completed")

	st := b.user(t, mei)
	require.Equal(t, "skipped", st.State, "Sales found her online")
	require.Equal(t, "teams", st.Place)
	require.Len(t, st.Moves, 2)

	// The lead finds her by her first name and sees the move that put her
	// in Teams, which can be rolled back.
	var place, summary, confirmText string
	step(t, ctx, "signing in", chromedp.Navigate(b.srv.URL+"/ui/lookup"), signInEntra("lead@contoso.com"), chromedp.WaitVisible(`#q`, chromedp.ByID))
	step(t, ctx, "the lookup by first name", chromedp.SendKeys(`#q`, "Mei", chromedp.ByID), chromedp.Submit(`#q`, chromedp.ByID),
		chromedp.WaitVisible(`#summary`, chromedp.ByID), chromedp.Text(`#user-place`, &place, chromedp.ByID), chromedp.Text(`#summary`, &summary, chromedp.ByID))
	require.Equal(t, "in Teams", place)
	require.Contains(t, summary, "moved online by cutover in wave 1 of Pilot: Finance")
	step(t, ctx, "the rollback's confirmation", chromedp.Click(`#user-rollback`, chromedp.ByID), chromedp.WaitVisible(`#confirm-dialog`, chromedp.ByID),
		chromedp.Text(`#confirm-text`, &confirmText, chromedp.ByID), chromedp.Click(`#confirm-dialog button[value="cancel"]`, chromedp.ByQuery))
	require.Contains(t, confirmText, "their move in wave 1 of Pilot: Finance", "the rollback undoes Finance's move, not Sales' skip")
	browsertest.AssertAccessible(t, ctx, "a user in Teams by an earlier group's move")

	// A third group plans her: Finance's rollback is refused in words.
	legal := b.createGroup(t, "Pilot: Legal", []member{{UPN: mei, DisplayName: "Mei Walsh"}})
	later := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, legal.ID, map[string]any{"waves": []map[string]any{{"size": 1, "start_at": future().Format(time.RFC3339), "name": "wave 1"}}}), http.StatusCreated).Waves[0]
	var refusal string
	step(t, ctx, "Finance's wave", chromedp.Navigate(fmt.Sprintf("%s/ui/waves/%d", b.srv.URL, first.ID)), chromedp.WaitVisible(`#action-rollback`, chromedp.ByID))
	step(t, ctx, "rolling Finance back", chromedp.Click(`#action-rollback`, chromedp.ByID), chromedp.WaitVisible(`#confirm-dialog`, chromedp.ByID),
		chromedp.Click(`#confirm-ok`, chromedp.ByID), chromedp.WaitVisible(`#wave-actions .result.error`, chromedp.ByQuery),
		chromedp.Text(`#wave-actions .result.error`, &refusal, chromedp.ByQuery))
	require.Contains(t, refusal, "Mei Walsh (mei.walsh@contoso.com) is planned into the scheduled wave wave 1 of Pilot: Legal")
	require.Contains(t, refusal, "remove the user from that wave")
	requireNoDatabaseWords(t, refusal)
	browsertest.AssertAccessible(t, ctx, "a wave rollback refused")

	// The lead removes her from Legal's wave (cancelling it: she is its
	// only user) and rolls Finance back.
	decode[wave](t, b.waveAction(t, later.ID, "cancel", nil), http.StatusOK)
	step(t, ctx, "Finance's wave again", chromedp.Reload(), chromedp.WaitVisible(`#action-rollback`, chromedp.ByID),
		chromedp.Click(`#action-rollback`, chromedp.ByID), chromedp.WaitVisible(`#confirm-dialog`, chromedp.ByID), chromedp.Click(`#confirm-ok`, chromedp.ByID))
	b.waitState(t, first.ID, "rolled_back")

	// The truth: back on premises, by Finance's rollback.
	st = b.user(t, mei)
	require.Equal(t, "rolled_back", st.State)
	require.Equal(t, "on_premises", st.Place)
	require.Equal(t, "rolled_back", st.Outcome)
	require.Equal(t, "Pilot: Finance", st.Move.GroupName)
	require.Contains(t, st.Explanation.Summary, "Moved back on premises")
	require.NotContains(t, st.Explanation.Summary, "already homed online")
	require.Len(t, st.Moves, 3, "Finance's, Sales' and Legal's")
	require.True(t, st.Moves[0].Current)
	require.Equal(t, "Pilot: Finance", st.Moves[0].GroupName, "the move that happened last comes first")
	require.NotNil(t, st.Moves[0].RollbackRecord)

	var state, moves string
	var retry bool
	step(t, ctx, "her page after the rollback", chromedp.Navigate(b.srv.URL+"/ui/lookup?q="+mei), chromedp.WaitVisible(`#summary`, chromedp.ByID),
		chromedp.Text(`#user-place`, &place, chromedp.ByID), chromedp.Text(`#user-state`, &state, chromedp.ByID),
		chromedp.Text(`#summary`, &summary, chromedp.ByID), chromedp.Text(`#user-status`, &moves, chromedp.ByID),
		chromedp.Evaluate(`!!document.getElementById('user-retry')`, &retry))
	require.Equal(t, "on premises (Skype for Business Server)", place)
	require.Equal(t, "rolled back", state)
	require.Contains(t, summary, "Moved back on premises")
	require.NotContains(t, summary, "already homed online")
	for _, want := range []string{"wave 1 of Pilot: Finance", "wave 1 of Pilot: Sales", "wave 1 of Pilot: Legal", "(where the user stands now)"} {
		require.Contains(t, moves, want)
	}
	require.True(t, retry, "a user rolled back can be moved again")
	browsertest.Screenshot(t, ctx, "truth-rolled-back")
	browsertest.AssertAccessible(t, ctx, "a user rolled back after a skip elsewhere")
	phoneCheck(t, ctx, "a user with three moves")

	out := b.status(t, mei)
	require.Contains(t, out, "on premises")
	require.Contains(t, out, "rolled back (wave 1 of Pilot: Finance)")
	require.Contains(t, out, "Move 3 of 3: wave 1 of Pilot: Finance, rolled back, where the user stands now")
	require.Contains(t, out, "wave 1 of Pilot: Sales, already in Teams")
	summaryLine := regexp.MustCompile(`(?m)^Summary:.*$`).FindString(out)
	require.Contains(t, summaryLine, "Moved back on premises")
	require.NotContains(t, summaryLine, "already homed online")

	// Moved again, in a wave of her own.
	step(t, ctx, "moving her again", chromedp.Click(`#user-retry`, chromedp.ByID), chromedp.WaitVisible(`#confirm-dialog`, chromedp.ByID),
		chromedp.Text(`#confirm-text`, &confirmText, chromedp.ByID), chromedp.Click(`#confirm-ok`, chromedp.ByID))
	require.Contains(t, confirmText, "a new wave of Pilot: Finance holding the user alone")
	st = waitFor(t, "Mei moved again", func() (userStatus, bool) {
		st := b.user(t, mei)
		return st, st.State == "moved"
	})
	require.Equal(t, "teams", st.Place)
	require.Equal(t, "wave 1 retry", st.Move.WaveName)
	eventually(t, ctx, "her page following the move", `document.getElementById('user-place').textContent`, "in Teams", time.Minute)
}

// TestBrowserNothingFlatters: a group in which every user was found online
// or failed reads as nobody moved, not as done; after a retry wave no count
// exceeds its users, on the group's page, the list of groups, the API and
// the report.
func TestBrowserNothingFlatters(t *testing.T) {
	t.Parallel()
	ctx := browsertest.Browser(t, browsertest.Timeout(6*time.Minute))
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 10 * time.Millisecond})
	b := setupPages(t, shell)
	members := users(6, "none.")
	for i, m := range members {
		kind := sim.KindAlreadyOnline
		if i%2 == 1 {
			kind = sim.KindLicenceMissing
		}
		shell.SetBehaviour(m.UPN, sim.Behaviour{Kind: kind})
	}
	g := b.createGroup(t, "Pilot: Nobody", members)
	planned := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, g.ID, map[string]any{"waves": []map[string]any{
		{"size": 2, "start_at": "now", "name": "canary", "max_attempts": 1},
		{"size": 4, "start_at": "now", "name": "wave 1", "max_attempts": 1},
	}}), http.StatusCreated).Waves
	for _, w := range planned {
		b.waitState(t, w.ID, "completed")
	}

	checkGroup := func(what string) {
		t.Helper()
		var summary, legend, attention, classes string
		var badges []string
		step(t, ctx, what+": the group's page", chromedp.Navigate(fmt.Sprintf("%s/ui/groups/%d", b.srv.URL, g.ID)),
			chromedp.WaitVisible(`#group-summary`, chromedp.ByID),
			chromedp.Text(`#group-summary`, &summary, chromedp.ByID),
			chromedp.Text(`#group-bar [data-field="legend"]`, &legend, chromedp.ByQuery),
			chromedp.Text(`#group-attention`, &attention, chromedp.ByID),
			chromedp.AttributeValue(`#group-status`, "class", &classes, nil, chromedp.ByID),
			chromedp.Evaluate(`[...document.querySelectorAll('.wave [data-field="state"]')].map(e => e.className)`, &badges))
		require.Equal(t, "0 of 6 users moved to Teams, 3 already in Teams, 3 failed.", summary, what)
		require.Contains(t, legend, "3 already in Teams")
		require.Contains(t, legend, "3 failed")
		require.Contains(t, attention, "Nobody in this group was moved")
		require.Contains(t, attention, "3 users failed and wait for a person")
		require.Contains(t, classes, "needs-attention")
		for _, c := range badges {
			require.Contains(t, c, "state-attention", "a completed wave that moved nobody is not shown as a success")
		}
		var body string
		step(t, ctx, what+": the page's text", chromedp.Text(`main`, &body, chromedp.ByQuery))
		require.NotRegexp(t, `\b100(\.0)?%`, body, what)
		require.NotContains(t, body, " done", what)
		for _, n := range regexp.MustCompile(`\b(\d+) (users|moved|already|failed|still)`).FindAllStringSubmatch(body, -1) {
			k, _ := strconv.Atoi(n[1])
			require.LessOrEqual(t, k, 6, "%s: no count exceeds the group's 6 users: %q", what, n[0])
		}
		var list string
		step(t, ctx, what+": the list of groups", chromedp.Navigate(b.srv.URL+"/ui/groups"), chromedp.WaitVisible(`.cards`, chromedp.ByQuery),
			chromedp.Text(`.cards`, &list, chromedp.ByQuery))
		require.Contains(t, list, "needs attention")
		require.Contains(t, list, "0 of 6 users moved to Teams")
		require.NotRegexp(t, `\b100(\.0)?%`, list)
		browsertest.AssertAccessible(t, ctx, what+": the list of groups")
	}

	step(t, ctx, "signing in", chromedp.Navigate(b.srv.URL+"/ui/"), signInEntra("lead@contoso.com"), chromedp.WaitVisible(`#overview-summary`, chromedp.ByID))
	var overview string
	step(t, ctx, "the overview", chromedp.Text(`main`, &overview, chromedp.ByQuery))
	require.Contains(t, overview, "0 of 6 users moved to Teams, 3 already in Teams, 3 failed.")
	require.Contains(t, overview, "Pilot: Nobody: Nobody in this group was moved")
	require.Contains(t, overview, "licence_missing")
	browsertest.AssertAccessible(t, ctx, "the overview of a deployment that moved nobody")
	phoneCheck(t, ctx, "the overview")
	checkGroup("after the plan")
	browsertest.Screenshot(t, ctx, "nobody-moved-groups")

	// The failed users retried as a new wave, which fails them again.
	var waveSays, badge, waveAttention string
	step(t, ctx, "wave 1's page", chromedp.Navigate(fmt.Sprintf("%s/ui/waves/%d", b.srv.URL, planned[1].ID)), chromedp.WaitVisible(`#action-retry`, chromedp.ByID),
		chromedp.Text(`h1 ~ [data-field="counts"]`, &waveSays, chromedp.ByQuery),
		chromedp.AttributeValue(`h1 [data-field="state"]`, "class", &badge, nil, chromedp.ByQuery),
		chromedp.Text(`#wave-attention`, &waveAttention, chromedp.ByID))
	require.Equal(t, "0 of 4 users moved to Teams, 2 already in Teams, 2 failed.", waveSays)
	require.Contains(t, badge, "state-attention", "completed, but not a success")
	require.Contains(t, waveAttention, "wave 1 moved nobody")
	browsertest.AssertAccessible(t, ctx, "a completed wave that moved nobody")
	step(t, ctx, "retrying its failed users", chromedp.Click(`#action-retry`, chromedp.ByID), chromedp.WaitVisible(`#confirm-dialog`, chromedp.ByID), chromedp.Click(`#confirm-ok`, chromedp.ByID))
	retry := waitFor(t, "the retry wave", func() (group, bool) {
		gv := b.group(t, g.ID)
		return gv, len(gv.Waves) == 3 && gv.Waves[2].State == "completed"
	})
	require.Equal(t, 6, retry.Progress.Total, "each member once")
	sum := 0
	for _, n := range retry.Progress.Counts {
		sum += n
	}
	require.Equal(t, 6, sum, "no user counted twice: %v", retry.Progress.Counts)
	report := b.get(t, fmt.Sprintf("/api/v1/groups/%d/report.csv", g.ID))
	rows, err := csv.NewReader(bytes.NewReader(report.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+6, "the report has a line per user")
	checkGroup("after the retry wave")
	step(t, ctx, "the group again", chromedp.Navigate(fmt.Sprintf("%s/ui/groups/%d", b.srv.URL, g.ID)), chromedp.WaitVisible(`#group-summary`, chromedp.ByID))
	browsertest.Screenshot(t, ctx, "nobody-moved-group")
	browsertest.AssertAccessible(t, ctx, "a group that moved nobody")
	phoneCheck(t, ctx, "a group that moved nobody")
}

// TestBrowserFindAndRetryChosen: a lead finds a failed user by the start
// of their name, then chooses three failed users of a wave in its list and
// retries exactly those; the list's CSV holds exactly the rows shown.
func TestBrowserFindAndRetryChosen(t *testing.T) {
	t.Parallel()
	ctx := browsertest.Browser(t, browsertest.Timeout(6*time.Minute))
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 10 * time.Millisecond})
	b := setupPages(t, shell)
	names := []string{"Grace Hopper", "Greta Lind", "Ada Byron", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth", "Frances Allen"}
	var members []member
	var failing []string
	for i, n := range names {
		upn := strings.ToLower(strings.ReplaceAll(n, " ", ".")) + "@contoso.com"
		members = append(members, member{UPN: upn, DisplayName: n})
		if i < 6 {
			failing = append(failing, upn)
			shell.SetBehaviour(upn, sim.Behaviour{Kind: sim.KindLicenceMissing})
		}
	}
	g := b.createGroup(t, "Pilot: Engineering", members)
	w := b.planNow(t, g.ID, "wave 1", len(members))
	b.waitState(t, w.ID, "completed")

	// Found by the start of a first name: both "Gr" users, then Grace.
	var found, summary string
	step(t, ctx, "signing in", chromedp.Navigate(b.srv.URL+"/ui/lookup"), signInEntra("lead@contoso.com"), chromedp.WaitVisible(`#q`, chromedp.ByID))
	step(t, ctx, "looking up \"gr\"", chromedp.SendKeys(`#q`, "gr", chromedp.ByID), chromedp.Submit(`#q`, chromedp.ByID),
		chromedp.WaitVisible(`#matches`, chromedp.ByID), chromedp.Text(`#matches`, &found, chromedp.ByID))
	require.Contains(t, found, "Grace Hopper")
	require.Contains(t, found, "Greta Lind")
	browsertest.AssertAccessible(t, ctx, "the lookup's matches")
	phoneCheck(t, ctx, "the lookup's matches")
	step(t, ctx, "Grace's page", chromedp.Click(`//a[text()="Grace Hopper"]`, chromedp.BySearch), chromedp.WaitVisible(`#summary`, chromedp.ByID),
		chromedp.Text(`#summary`, &summary, chromedp.ByID))
	require.Contains(t, summary, "The move failed")

	// The wave's failed users, from the failures table's link.
	step(t, ctx, "the wave's page", chromedp.Navigate(fmt.Sprintf("%s/ui/waves/%d", b.srv.URL, w.ID)), chromedp.WaitVisible(`#failures a`, chromedp.ByQuery),
		chromedp.Click(`#failures a`, chromedp.ByQuery), chromedp.WaitVisible(`#users`, chromedp.ByID))
	shown := func() []string {
		var upns []string
		step(t, ctx, "the users shown", chromedp.Evaluate(`[...document.querySelectorAll('#users tbody input[name="users"]')].map(e => e.value)`, &upns))
		return upns
	}
	require.ElementsMatch(t, failing, shown(), "the failures' link lists exactly the failed users")
	browsertest.AssertAccessible(t, ctx, "a wave's failed users")

	// Exactly three chosen and retried, their licences now assigned.
	chosen := []string{failing[0], failing[2], failing[4]}
	for _, upn := range failing {
		shell.SetBehaviour(upn, sim.Behaviour{Kind: sim.KindOK})
	}
	for _, upn := range chosen {
		step(t, ctx, "choosing "+upn, chromedp.Click(fmt.Sprintf(`#users input[value=%q]`, upn), chromedp.ByQuery))
	}
	var count, confirmText string
	step(t, ctx, "the count chosen", chromedp.Text(`#chosen-count`, &count, chromedp.ByID))
	require.Equal(t, "3 users chosen.", count)
	step(t, ctx, "retrying the chosen", chromedp.Click(`#chosen-retry`, chromedp.ByID), chromedp.WaitVisible(`#confirm-dialog`, chromedp.ByID),
		chromedp.Text(`#confirm-text`, &confirmText, chromedp.ByID))
	require.Contains(t, confirmText, "3 users are moved to Teams again now")
	browsertest.AssertAccessible(t, ctx, "retrying chosen users: the confirmation")
	step(t, ctx, "confirming", chromedp.Click(`#confirm-ok`, chromedp.ByID))
	waitFor(t, "the chosen moved", func() (string, bool) {
		for _, upn := range chosen {
			if b.user(t, upn).State != "moved" {
				return upn, false
			}
		}
		return "", true
	})
	for _, upn := range failing {
		st := b.user(t, upn)
		if slices.Contains(chosen, upn) {
			require.Equal(t, "moved", st.State, upn)
			require.Equal(t, 2, st.Move.Run, "%s ran again in its wave", upn)
			require.Equal(t, w.ID, st.Move.WaveID)
		} else {
			require.Equal(t, "failed", st.State, "%s was not chosen", upn)
			require.Equal(t, 1, st.Move.Run)
		}
	}

	// The failed users left, and the CSV of exactly them.
	b.waitState(t, w.ID, "completed")
	step(t, ctx, "the failed users again", chromedp.Reload(), chromedp.WaitVisible(`#users`, chromedp.ByID))
	rows := shown()
	require.ElementsMatch(t, []string{failing[1], failing[3], failing[5]}, rows)
	var csvText string
	step(t, ctx, "the list's CSV", chromedp.Evaluate(`fetch(document.getElementById('list-csv').href, {credentials: 'same-origin'}).then(r => r.text())`, &csvText,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	records, err := csv.NewReader(strings.NewReader(csvText)).ReadAll()
	require.NoError(t, err)
	var inCSV []string
	for _, r := range records[1:] {
		inCSV = append(inCSV, r[0])
	}
	require.Equal(t, rows, inCSV, "the CSV has exactly the rows shown, in their order")
	browsertest.Screenshot(t, ctx, "wave-failed-users")
	phoneCheck(t, ctx, "a wave's failed users")

	// The group's list, searched by a surname.
	var groupRows []string
	step(t, ctx, "the group's users", chromedp.Navigate(fmt.Sprintf("%s/ui/groups/%d/users?q=knuth", b.srv.URL, g.ID)), chromedp.WaitVisible(`#users`, chromedp.ByID),
		chromedp.Evaluate(`[...document.querySelectorAll('#users tbody td[data-label="User"] .muted')].map(e => e.textContent)`, &groupRows))
	require.Equal(t, []string{"donald.knuth@contoso.com"}, groupRows)
	browsertest.AssertAccessible(t, ctx, "a group's users, searched")
	phoneCheck(t, ctx, "a group's users")
}

// requireNoDatabaseWords fails if text carries what only a database says.
func requireNoDatabaseWords(t *testing.T, text string) {
	t.Helper()
	for _, w := range []string{"Key (", "violates", "constraint", "duplicate key", "SQLSTATE", "ERROR:", "pgx", "already exists.", "relation "} {
		require.NotContains(t, text, w, "database text reached a person: %s", text)
	}
}

// TestRefusalsInWords provokes every constraint a lead's action can meet
// and checks that each refusal says what is wrong in words, naming the
// users and waves concerned, with no database text.
func TestRefusalsInWords(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const ana = "ana.lima@contoso.com"
	// Ana is moved by Finance, is in Legal's group (not yet in a wave), and
	// is planned into Sales' scheduled wave.
	finance := b.createGroup(t, "Pilot: Finance", []member{{UPN: ana, DisplayName: "Ana Lima"}, {UPN: "x@contoso.com"}})
	fw := b.planNow(t, finance.ID, "wave 1", 2)
	b.waitState(t, fw.ID, "completed")
	legal := b.createGroup(t, "Pilot: Legal", []member{{UPN: "lee@contoso.com"}, {UPN: ana, DisplayName: "Ana Lima"}})
	legalWave := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, legal.ID, map[string]any{"waves": []map[string]any{{"size": 1, "start_at": future().Format(time.RFC3339), "name": "spare"}}}), http.StatusCreated).Waves[0]
	sales := b.createGroup(t, "Pilot: Sales", []member{{UPN: ana, DisplayName: "Ana Lima"}})
	sw := decode[struct {
		Waves []wave `json:"waves"`
	}](t, b.plan(t, sales.ID, map[string]any{"waves": []map[string]any{{"size": 1, "start_at": future().Format(time.RFC3339), "name": "wave 2"}}}), http.StatusCreated).Waves[0]

	tests := []struct {
		name   string
		do     func() response
		status int
		code   string
		says   []string
	}{
		{"a group's name in use", func() response {
			return b.postJSON(t, "/api/v1/groups", map[string]any{"name": "Pilot: Finance", "members": []member{{UPN: "y@contoso.com"}}})
		}, http.StatusUnprocessableEntity, "group_exists", []string{"a pilot group with this name exists already"}},
		{"a UPN twice in a list", func() response {
			return b.postJSON(t, "/api/v1/groups", map[string]any{"name": "Twice", "members": []member{{UPN: "z@contoso.com"}, {UPN: "Z@contoso.com"}}})
		}, http.StatusUnprocessableEntity, "", []string{"z@contoso.com"}},
		{"a wave rolled back while a user is planned elsewhere", func() response {
			return b.waveAction(t, fw.ID, "rollback", nil)
		}, http.StatusConflict, "user_busy", []string{"Ana Lima (ana.lima@contoso.com) is planned into the scheduled wave wave 2 of Pilot: Sales", "remove the user from that wave"}},
		{"a user rolled back while planned elsewhere", func() response {
			return b.postJSON(t, "/api/v1/users/"+ana+"/rollback", nil)
		}, http.StatusConflict, "not_moved", []string{"ana.lima@contoso.com", "being moved", "wave 2 of Pilot: Sales"}},
		{"a user added to a wave while planned elsewhere", func() response {
			return b.waveAction(t, legalWave.ID, "members", map[string]any{"add": []string{ana}})
		}, http.StatusUnprocessableEntity, "invalid_members", []string{"Ana Lima (ana.lima@contoso.com) is planned into the scheduled wave wave 2 of Pilot: Sales"}},
		{"a group planned while a user is planned elsewhere", func() response {
			g := b.createGroup(t, "Pilot: HR", []member{{UPN: ana, DisplayName: "Ana Lima"}})
			return b.plan(t, g.ID, map[string]any{"waves": []map[string]any{{"size": 1, "start_at": "now"}}})
		}, http.StatusConflict, "user_busy", []string{"Ana Lima (ana.lima@contoso.com) is planned into the scheduled wave wave 2 of Pilot: Sales"}},
		{"a wave's chosen users retried who are not failed", func() response {
			return b.postJSON(t, fmt.Sprintf("/api/v1/waves/%d/users/retry", fw.ID), map[string]any{"users": []string{ana}})
		}, http.StatusConflict, "not_retryable", []string{"Ana Lima (ana.lima@contoso.com)"}},
		{"a wave's chosen users who are not in it", func() response {
			return b.postJSON(t, fmt.Sprintf("/api/v1/waves/%d/users/retry", sw.ID), map[string]any{"users": []string{"nobody@contoso.com"}})
		}, http.StatusUnprocessableEntity, "invalid_users", []string{"nobody@contoso.com is not in wave 2"}},
		{"a SIP address twice in a list", func() response {
			return b.postJSON(t, "/api/v1/groups", map[string]any{"name": "Twice SIP", "members": []member{{UPN: "s1@contoso.com", SIP: "same@contoso.com"}, {UPN: "s2@contoso.com", SIP: "same@contoso.com"}}})
		}, http.StatusUnprocessableEntity, "", []string{"same@contoso.com"}},
		{"a token's name in use", func() response {
			admin := *b
			admin.token = newToken(t, b.pool, "admin")
			admin.postJSON(t, "/api/v1/tokens", map[string]any{"name": "nightly", "role": "lead"})
			return admin.postJSON(t, "/api/v1/tokens", map[string]any{"name": "nightly", "role": "lead"})
		}, http.StatusConflict, "token_exists", []string{`a token named "nightly" is in use already`}},
		{"a webhook's name in use", func() response {
			hook := map[string]any{"name": "Migration channel", "url": "https://contoso.webhook.office.com/workflows/1"}
			b.postJSON(t, "/api/v1/webhooks", hook)
			return b.postJSON(t, "/api/v1/webhooks", hook)
		}, http.StatusConflict, "webhook_exists", []string{`a webhook named "Migration channel" exists already`}},
	}
	for _, tt := range tests {
		res := tt.do()
		body := string(res.Body)
		require.Equal(t, tt.status, res.Status, "%s: %s", tt.name, body)
		requireNoDatabaseWords(t, body)
		if tt.code != "" {
			apiErr(t, res, tt.status, tt.code)
		}
		var e struct {
			Error apiError `json:"error"`
		}
		require.NoError(t, json.Unmarshal(res.Body, &e), tt.name)
		all := e.Error.Message
		for _, d := range e.Error.Details {
			all += " " + d.Message
		}
		for _, s := range tt.says {
			require.Contains(t, all, s, tt.name)
		}
	}
}
