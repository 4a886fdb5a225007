package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

type testBundle struct {
	pool      *pgxpool.Pool
	shell     *sim.Shell
	scheduler *jobs.Scheduler
	q         *store.Queries
}

// setup starts workers against a database of the test's own and a simulated
// shell with no failures unless the test sets behaviours.
func setup(t *testing.T) *testBundle {
	t.Helper()
	pool := dbtest.Pool(t)
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	log := slog.New(slog.DiscardHandler)
	client, err := jobs.NewClient(pool, shell, jobs.Config{
		MoveWorkers: 10, Control: true, RetryBase: 50 * time.Millisecond, ShellTimeout: 2 * time.Second,
		PollInterval: 50 * time.Millisecond,
	}, log)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, client.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(ctx)
	})
	return &testBundle{pool: pool, shell: shell, scheduler: jobs.NewScheduler(pool, client), q: store.New(pool)}
}

func members(n int, domain string) []migration.Member {
	out := make([]migration.Member, n)
	for i := range out {
		upn := fmt.Sprintf("user%03d@%s", i, domain)
		out[i] = migration.Member{UPN: upn, SIP: upn, DisplayName: fmt.Sprintf("User %d", i)}
	}
	return out
}

// planAll plans the whole group as one wave starting now.
func planAll(maxAttempts, concurrency int) store.PlanFunc {
	return func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: unplanned, StartAt: time.Now(), MaxAttempts: maxAttempts, Concurrency: concurrency}}, unplanned, next)
	}
}

// waitWaves waits until every wave of the group has completed.
func waitWaves(t *testing.T, q *store.Queries, groupID int64) []migration.Wave {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		waves, err := q.WaveList(context.Background(), groupID)
		require.NoError(t, err)
		done := len(waves) > 0
		for _, w := range waves {
			done = done && w.State == migration.WaveStateCompleted
		}
		if done {
			return waves
		}
		if time.Now().After(deadline) {
			t.Fatalf("waves did not complete: %+v", waves)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestWholeGroupMoved(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.shell.SetBehaviour("user001@contoso.com", sim.Behaviour{Kind: sim.KindAlreadyOnline})
	b.shell.SetBehaviour("user002@contoso.com", sim.Behaviour{Kind: sim.KindLicenceMissing})
	b.shell.SetBehaviour("user003@contoso.com", sim.Behaviour{Kind: sim.KindTimeout, Failures: 2})
	b.shell.SetBehaviour("user004@contoso.com", sim.Behaviour{Kind: sim.KindTimeout, Failures: 1, Lands: true})

	g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: "pilot", Source: "json", Members: members(40, "contoso.com")})
	require.NoError(t, err)
	_, err = b.scheduler.Plan(ctx, g.ID, "test", planAll(3, 5))
	require.NoError(t, err)
	waitWaves(t, b.q, g.ID)

	for i := range 40 {
		upn := fmt.Sprintf("user%03d@contoso.com", i)
		moves, err := b.q.MovesByUser(ctx, upn)
		require.NoError(t, err)
		require.Len(t, moves, 1)
		want := migration.MoveStateMoved
		switch i {
		case 1:
			want = migration.MoveStateSkipped
		case 2:
			want = migration.MoveStateFailed
		}
		require.Equal(t, want, moves[0].State, upn)
		require.LessOrEqual(t, b.shell.MovesFor(upn), 1, upn)
		rec, err := b.q.RollbackRecordGet(ctx, moves[0].ID)
		require.NoError(t, err)
		if want == migration.MoveStateMoved {
			require.NotNil(t, rec, "%s moved without a rollback record", upn)
		}
	}
	require.LessOrEqual(t, b.shell.Stats().MaxInFlight, 5)
}
