package jobs_test

import (
	"context"
	"log/slog"
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

// TestWaveWaitsForHybridReadiness: with no hosting provider on premises, a
// wave does not start and says why, naming the fix; a lead's override starts
// it; and once the configuration is fixed, the next host check records it.
func TestWaveWaitsForHybridReadiness(t *testing.T) {
	t.Parallel()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	broken := sim.DefaultOnPremises("")
	broken.HostingProviders = nil
	shell.SetOnPremises(broken)
	pool := dbtest.Pool(t)
	q, ctx := store.New(pool), context.Background()
	client, _ := jobstest.StartChecked(t, pool, shell, func(c *jobs.Config) { c.HostCheckEvery = 200 * time.Millisecond })

	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "readiness", Source: "json", Members: members(5, "contoso.com")})
	require.NoError(t, err)
	scheduler := app.New(pool, jobs.NewQueue(client))
	waves, err := scheduler.Plan(ctx, app.As("test"), g.ID, planAll(3, 5))
	require.NoError(t, err)
	var w migration.Wave
	require.Eventually(t, func() bool {
		w, err = q.WaveGet(ctx, waves[0].ID)
		return err == nil && w.StateReason != ""
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, migration.WaveStateScheduled, w.State)
	require.Contains(t, w.StateReason, "hosting_provider")
	require.Contains(t, w.StateReason, "New-CsHostingProvider -Identity Office365")
	require.Zero(t, shell.Stats().Calls.MoveOnline)

	w, err = scheduler.WaveOverrideReadiness(ctx, app.As("lead"), w.ID)
	require.NoError(t, err)
	require.True(t, w.ReadinessOverride)
	waitWaves(t, q, g.ID)
	require.Equal(t, 5, shell.Stats().MovesOnline)
	_, err = scheduler.WaveOverrideReadiness(ctx, app.As("lead"), w.ID)
	require.Equal(t, migration.EConflict, migration.ErrorKind(err), "only a scheduled wave waits for readiness")

	// Fixed on premises: the next check records it.
	shell.SetOnPremises(sim.DefaultOnPremises(""))
	require.Eventually(t, func() bool {
		sections, err := q.ReadinessList(ctx)
		if err != nil {
			return false
		}
		for _, s := range sections {
			if s.Section == migration.SectionOnPremises {
				return migration.Worst(s.Checks) == migration.CheckPass
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond)
}

// TestHoldReasons: a running wave shows every hold in force; it is told
// once that it is held (one event, one webhook) however many holds come,
// and once that its moves start again, when the last clears.
func TestHoldReasons(t *testing.T) {
	t.Parallel()
	pool := dbtest.Pool(t)
	// Not started: no worker, and no host check that would clear the holds.
	client, ready, err := jobs.NewClientWithReadiness(pool, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}), jobstest.Config, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	q, ctx := store.New(pool), context.Background()
	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "holds", Source: "json", Members: members(2, "contoso.com")})
	require.NoError(t, err)
	waves, err := app.New(pool, jobs.NewQueue(client)).Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: 2, StartAt: time.Now().Add(time.Hour)}}, unplanned, next)
	})
	require.NoError(t, err)
	_, _, started, err := q.WaveStart(ctx, waves[0].ID, "test") // running, its moves left alone
	require.NoError(t, err)
	require.True(t, started)
	reason := func() string {
		w, err := q.WaveGet(ctx, waves[0].ID)
		require.NoError(t, err)
		return w.StateReason
	}
	require.NoError(t, ready.Hold(ctx, client, migration.CodeSignInFailed, migration.HoldReason(migration.CodeSignInFailed), "AADSTS50076"))
	require.NoError(t, ready.Hold(ctx, client, migration.CodeGraphUnavailable, migration.HoldReason(migration.CodeGraphUnavailable), "no answer"))
	require.Equal(t, "moves wait: Move-CsUser cannot sign in to Teams; Microsoft Graph does not answer", reason())
	events := func(kind string) int {
		evs, err := q.WaveEvents(ctx, waves[0].ID)
		require.NoError(t, err)
		n := 0
		for _, e := range evs {
			if e.Kind == kind {
				n++
			}
		}
		return n
	}
	require.Equal(t, 1, events(migration.WaveEventHeld), "held once, however many holds")
	require.NoError(t, ready.Release(ctx, migration.CodeGraphUnavailable))
	require.Equal(t, "moves wait: Move-CsUser cannot sign in to Teams", reason(), "the hold still in force is shown")
	require.Zero(t, events(migration.WaveEventReleased), "still held")
	require.NoError(t, ready.Release(ctx, migration.CodeSignInFailed))
	require.Empty(t, reason())
	require.Equal(t, 1, events(migration.WaveEventReleased))
}
