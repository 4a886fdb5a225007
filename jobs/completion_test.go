package jobs_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

// TestMeetingsCompletion: a whole wave on the simulated tenant, its
// Meeting Migration Service on a fast clock. Every user the wave moved has
// a meetings item, and only they; it ends as the simulator's fate for the
// user implies (migrated: done; failing as the service retries: failed with
// the fix; never shown: handed to a person). Each change is in the user's
// timeline.
func TestMeetingsCompletion(t *testing.T) {
	t.Parallel()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{},
		Meetings: sim.MeetingsTiming{StartAfter: 300 * time.Millisecond, Takes: 300 * time.Millisecond, RetryEvery: 50 * time.Millisecond}})
	fates := map[string]sim.Behaviour{
		"user000@contoso.com": {Kind: sim.KindOK, Meetings: sim.MeetingsMigrate},
		"user001@contoso.com": {Kind: sim.KindOK, Meetings: sim.MeetingsFail},
		"user002@contoso.com": {Kind: sim.KindOK, Meetings: sim.MeetingsNoRecord},
		"user003@contoso.com": {Kind: sim.KindLicenceMissing}, // never moved
		"user004@contoso.com": {Kind: sim.KindAlreadyOnline},  // moved by nobody
	}
	for upn, b := range fates {
		shell.SetBehaviour(upn, b)
	}
	pool := dbtest.Pool(t)
	client := jobstest.Start(t, pool, shell, func(c *jobs.Config) {
		c.CompletionEvery = 200 * time.Millisecond
		c.MeetingsTiming = migration.MeetingsTiming{StartAfter: 200 * time.Millisecond, RetryFor: 3 * time.Second, Poll: 100 * time.Millisecond}
	})
	q, ctx := store.New(pool), context.Background()
	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "completion", Source: "json", Members: members(5, "contoso.com")})
	require.NoError(t, err)
	_, err = app.New(pool, jobs.NewQueue(client)).Plan(ctx, app.As("test"), g.ID, planAll(1, 5))
	require.NoError(t, err)
	waitWaves(t, q, g.ID)

	items := func() map[string]migration.CompletionItem {
		out := map[string]migration.CompletionItem{}
		for upn := range fates {
			moves, err := q.MovesByUser(ctx, upn)
			require.NoError(t, err)
			got, err := q.CompletionOf(ctx, []int64{moves[0].ID})
			require.NoError(t, err)
			for _, it := range got[moves[0].ID] {
				if it.Kind == migration.ItemMeetings {
					out[upn] = it
				}
			}
		}
		return out
	}
	want := map[string]migration.ItemState{
		"user000@contoso.com": migration.ItemDone,
		"user001@contoso.com": migration.ItemFailed,
		"user002@contoso.com": migration.ItemPerson,
	}
	var got map[string]migration.CompletionItem
	require.Eventually(t, func() bool {
		got = items()
		for upn, state := range want {
			if got[upn].State != state {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "items: %+v", got)
	require.Len(t, got, len(want), "only the users the wave moved have items: %+v", got)
	require.Contains(t, got["user000@contoso.com"].Evidence, "State Succeeded")
	require.Contains(t, got["user001@contoso.com"].Evidence, "State Failed")
	require.Contains(t, got["user001@contoso.com"].Fix, "Start-CsExMeetingMigration")
	require.Contains(t, got["user002@contoso.com"].Fix, "Meeting Migration Tool")

	moves, err := q.MovesByUser(ctx, "user001@contoso.com")
	require.NoError(t, err)
	events, err := q.MoveEvents(ctx, moves[0].ID)
	require.NoError(t, err)
	var said []string
	for _, e := range events {
		said = append(said, e.Message)
	}
	require.True(t, slices.ContainsFunc(said, func(m string) bool {
		return strings.HasPrefix(m, "completion: Microsoft could not migrate the user's meetings: 0 of ")
	}), "the timeline says what completion found: %q", said)

	// A lead asks that Microsoft migrate the failed user's meetings again:
	// cutover sends Start-CsExMeetingMigration once, and the new migration
	// succeeds. A second request is refused, as is one for a user whose
	// meetings were migrated.
	svc := app.New(pool, jobs.NewQueue(client))
	lead := app.As("lea")
	_, err = svc.UserMigrateMeetings(ctx, lead, "user001@contoso.com")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return items()["user001@contoso.com"].State == migration.ItemDone }, 30*time.Second, 50*time.Millisecond,
		"the meetings migrated after the lead's request")
	require.Equal(t, 1, shell.MeetingsTriggered("user001@contoso.com"))
	for _, upn := range []string{"user001@contoso.com", "user000@contoso.com"} {
		_, err = svc.UserMigrateMeetings(ctx, lead, upn)
		require.Equal(t, migration.EConflict, migration.ErrorKind(err), "%s: %v", upn, err)
	}
	st, err := svc.LookUp(ctx, "user002@contoso.com", time.Now())
	require.NoError(t, err)
	require.True(t, st.Offers(app.UserMigrateMeetings), "a user whose meetings Microsoft never migrated may be asked for again")

	// The request's answer is lost (the shell stops answering while it is
	// sent): cutover does not send it again, and hands the user to a person.
	shell.Freeze()
	_, err = svc.UserMigrateMeetings(ctx, lead, "user002@contoso.com")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return items()["user002@contoso.com"].State == migration.ItemPerson }, 30*time.Second, 50*time.Millisecond,
		"a request whose answer was lost goes to a person")
	shell.Thaw()
	time.Sleep(time.Second) // several looks of the completion job
	require.Zero(t, shell.MeetingsTriggered("user002@contoso.com"), "the frozen call took no effect, and was not sent again")
	require.Contains(t, items()["user002@contoso.com"].Fix, "only if no new migration shows")
	st, err = svc.LookUp(ctx, "user002@contoso.com", time.Now())
	require.NoError(t, err)
	require.False(t, st.Offers(app.UserMigrateMeetings), "asked once: not offered again")
}

// TestCompletionThroughAnOutage: Microsoft's side stops answering while the
// moved users' meetings are followed (the voice items of its Enterprise
// Voice users wait for a Graph these workers are not given). No item fails or is handed to a
// person for it, and nothing is said in the timelines; when it answers
// again every item ends as the simulator says.
func TestCompletionThroughAnOutage(t *testing.T) {
	t.Parallel()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{},
		Meetings: sim.MeetingsTiming{StartAfter: 200 * time.Millisecond, Takes: 200 * time.Millisecond, RetryEvery: 20 * time.Millisecond}})
	pool := dbtest.Pool(t)
	client := jobstest.Start(t, pool, shell, func(c *jobs.Config) {
		c.CompletionEvery, c.ShellTimeout = 200*time.Millisecond, 500*time.Millisecond
		c.MeetingsTiming = migration.MeetingsTiming{StartAfter: time.Second, RetryFor: time.Hour, Poll: 100 * time.Millisecond}
	})
	q, ctx := store.New(pool), context.Background()
	ms := members(6, "contoso.com")
	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "outage", Source: "json", Members: ms})
	require.NoError(t, err)
	_, err = app.New(pool, jobs.NewQueue(client)).Plan(ctx, app.As("test"), g.ID, planAll(1, 6))
	require.NoError(t, err)
	waitWaves(t, q, g.ID)

	shell.Freeze() // before the first look at anyone's meetings (a second after the move)
	time.Sleep(3 * time.Second)
	var said int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM move_events WHERE message LIKE 'completion:%meetings%'`).Scan(&said))
	require.Zero(t, said, "nothing is said of a look Microsoft did not answer")
	var final int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM completion_items WHERE kind = 'meetings' AND state <> 'pending'`).Scan(&final))
	require.Zero(t, final, "no item ends while Microsoft does not answer")

	shell.Thaw()
	require.Eventually(t, func() bool {
		var pending int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM completion_items WHERE kind = 'meetings' AND state = 'pending'`).Scan(&pending))
		return pending == 0
	}, 30*time.Second, 100*time.Millisecond)
	var done, moved int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM completion_items WHERE kind = 'meetings' AND state = 'done'`).Scan(&done))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM moves WHERE state = 'moved'`).Scan(&moved))
	require.Equal(t, moved, done+func() int {
		var failed int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM completion_items WHERE kind = 'meetings' AND state = 'failed'`).Scan(&failed))
		return failed
	}(), "every item ended as the simulator's seed says: migrated or failed")
	require.Equal(t, len(ms), moved)
}
