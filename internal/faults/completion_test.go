package faults

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/graph"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

// TestFaultCompletionCrash: the worker process dies while a wave's numbers
// move to online management (its jobs cancelled mid-call, its claims on
// completion items left behind), and a new one takes over. Nothing is
// lost: every number ends assigned online, each cleared on premises
// exactly once (a step that must not repeat), and every Enterprise Voice
// user's calling completes once the SBC's routing is confirmed.
func TestFaultCompletionCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.Pool(t)
	shell := sim.NewShell(sim.ShellConfig{Seed: 28, Mix: sim.Mix{}, Latency: 200 * time.Millisecond, DirectorySync: 3 * time.Second})
	fake, err := sim.StartGraph(shell, sim.GraphConfig{})
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	dir, err := graph.New(graph.Config{TenantID: fake.TenantID(), ClientID: "cutover-test", ClientSecret: "test-secret",
		GraphURL: fake.GraphURL(), AuthorityHost: fake.URL() + "/", HTTPClient: fake.Client()})
	require.NoError(t, err)
	options := func(c *jobs.Config) {
		c.Directory, c.CompletionEvery = dir, 200*time.Millisecond
		c.ShellTimeout, c.GraphTimeout = 2*time.Second, 2*time.Second
		c.NumberTiming = migration.NumberTiming{Poll: 300 * time.Millisecond, SyncWait: time.Hour}
		c.VoiceTiming = migration.VoiceTiming{Wait: time.Hour, Poll: 300 * time.Millisecond}
	}
	first := jobstest.Start(t, pool, shell, options)
	scheduler := app.New(pool, jobs.NewQueue(first))
	q := store.New(pool)

	var members []migration.Member
	for i := 0; len(members) < 12; i++ {
		upn := fmt.Sprintf("caller%03d@contoso.com", i)
		u, err := shell.GetUser(ctx, upn)
		require.NoError(t, err)
		if u.EnterpriseVoiceEnabled {
			members = append(members, migration.Member{UPN: upn, SIP: upn})
		}
	}
	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "numbers", Source: "json", Members: members})
	require.NoError(t, err)
	waves, err := scheduler.Plan(ctx, app.As("lea"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: unplanned, StartAt: time.Now(), MaxAttempts: 3, Concurrency: 10,
			Controls: migration.Controls{NumberPlan: migration.NumbersOnline}}}, unplanned, next)
	})
	require.NoError(t, err)
	wave := waves[0].ID
	// Approved ahead of the wave, as a change board does.
	_, err = scheduler.WaveApproveNumbers(ctx, app.As("lea"), wave)
	require.NoError(t, err)

	clears := func() (n, assigned int) {
		for _, m := range members {
			c, a := shell.LineCleared(m.UPN)
			n += c
			if a {
				assigned++
			}
		}
		return n, assigned
	}
	require.Eventually(t, func() bool { n, _ := clears(); return n > 0 }, time.Minute, 5*time.Millisecond, "the first number cleared")
	// The process dies: its running jobs are cancelled in the middle of
	// their calls, and its claims stay until their lease ends.
	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, first.StopAndCancel(stop))
	n, assigned := clears()
	t.Logf("at the crash: %d of %d numbers cleared, %d assigned", n, len(members), assigned)
	jobstest.Start(t, pool, shell, options)

	doneOf := func(kind migration.ItemKind) int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM completion_items c JOIN moves m ON m.id = c.move_id
			WHERE m.wave_id = $1 AND c.kind = $2 AND c.state = 'done'`, wave, string(kind)).Scan(&n))
		return n
	}
	if !assertEventually(t, func() bool { return doneOf(migration.ItemNumber) == len(members) }, 90*time.Second) {
		rows, _ := pool.Query(ctx, `SELECT kind || ' ' || state || ' ' || coalesce(check_at::text, '-') || ' ' || says FROM completion_items`)
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			t.Log(s)
		}
		rows, _ = pool.Query(ctx, `SELECT kind || ' ' || state || ' ' || coalesce(errors::text, '') FROM river_job WHERE kind = 'completion' ORDER BY id DESC LIMIT 5`)
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			t.Log(s)
		}
		t.Fatal("every number moved online after the crash")
	}
	for _, m := range members {
		c, a := shell.LineCleared(m.UPN)
		require.Equal(t, 1, c, "%s: the LineURI cleared once", m.UPN)
		require.True(t, a, "%s: the number assigned online", m.UPN)
	}
	_, err = scheduler.WaveConfirmRouting(ctx, app.As("lea"), wave)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return doneOf(migration.ItemVoice) == len(members) }, time.Minute, 200*time.Millisecond,
		"every voice user's calling complete")

}

// assertEventually is require.Eventually that says whether it held.
func assertEventually(t *testing.T, cond func() bool, within time.Duration) bool {
	t.Helper()
	for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}
