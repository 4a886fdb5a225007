package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
)

// TestAdaptiveConcurrency: time-outs halve the wave's limit on moves in
// flight (once per burst: failures of moves that started before the cut do
// not cut again); moves that go well raise it one step at a time, back up to
// the wave's concurrency.
func TestAdaptiveConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 10 * time.Millisecond})
	b := setupWith(t, shell)
	// The first users of the wave time out once each.
	for i := range 8 {
		shell.SetBehaviour(fmt.Sprintf("user%03d@contoso.com", i), sim.Behaviour{Kind: sim.KindTimeout, Failures: 1})
	}
	g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: "adaptive", Source: "json", Members: members(120, "contoso.com")})
	require.NoError(t, err)
	waves, err := b.scheduler.Plan(ctx, app.As("test"), g.ID, planAll(3, 8))
	require.NoError(t, err)
	waitWaves(t, b.q, g.ID)

	events, err := b.q.WaveEvents(ctx, waves[0].ID)
	require.NoError(t, err)
	var lowered, raised []string
	for _, e := range events {
		switch e.Kind {
		case migration.WaveEventLimitLowered:
			lowered = append(lowered, e.Message)
		case migration.WaveEventLimitRaised:
			raised = append(raised, e.Message)
		}
	}
	require.NotEmpty(t, lowered, "time-outs lower the limit")
	require.Contains(t, lowered[0], "limited to 4 (was 8): timeout")
	require.Less(t, len(lowered), 8, "one cut per burst, not one per failure: %v", lowered)
	require.NotEmpty(t, raised, "the limit comes back")
	w, err := b.q.WaveGet(ctx, waves[0].ID)
	require.NoError(t, err)
	require.Equal(t, 8, w.ConcurrencyLimit, "back to the wave's concurrency once the time-outs stopped: %v", raised)
	require.Equal(t, 120, shell.Stats().MovesOnline)
	for _, e := range raised {
		require.Regexp(t, `^moves in flight limited to \d+ \(was \d+\)$`, e)
	}
}

// TestSlowServiceBacksOff: every call for a user slowed past the shell
// time-out (the service answers, slowly: its probes come back at once) is
// the service struggling, not an outage: within 10 s the wave's limit falls,
// and the users' time-outs count as theirs.
func TestSlowServiceBacksOff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 20 * time.Millisecond})
	b := setupWith(t, shell)
	g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: "slow", Source: "json", Members: members(400, "contoso.com")})
	require.NoError(t, err)
	waves, err := b.scheduler.Plan(ctx, app.As("test"), g.ID, planAll(5, 10))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return shell.Stats().MovesOnline >= 30 }, 30*time.Second, 20*time.Millisecond, "the wave got going")

	shell.SlowDown(3 * time.Second) // the shell time-out is 2 s (jobstest.Config)
	slowed := time.Now()
	var lowered time.Duration
	require.Eventually(t, func() bool {
		events, err := b.q.WaveEvents(ctx, waves[0].ID)
		require.NoError(t, err)
		for _, e := range events {
			if e.Kind == migration.WaveEventLimitLowered && e.At.After(slowed) {
				lowered = e.At.Sub(slowed)
				return true
			}
		}
		return time.Since(slowed) > 30*time.Second
	}, 31*time.Second, 100*time.Millisecond)
	shell.SlowDown(0)
	require.NotZero(t, lowered, "the limit fell while every call was slow")
	require.LessOrEqual(t, lowered, 10*time.Second, "the limit falls within 10 s")
	t.Logf("limit lowered %s after every call slowed", lowered.Round(100*time.Millisecond))
	holds, err := b.q.Holds(ctx)
	require.NoError(t, err)
	require.Empty(t, holds, "a slow service that answers its probes is not held")
}
