package jobs_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/jobs/jobstest"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// TestWaveSweep: a worker that recorded its move's end and died before it
// reviewed the wave leaves the wave running; the sweep completes it, or
// halts it when the threshold was crossed.
func TestWaveSweep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		outcome   migration.MoveState
		threshold migration.Threshold
		want      migration.WaveState
	}{
		{name: "last move moved", outcome: migration.MoveStateMoved, want: migration.WaveStateCompleted},
		{name: "failure over the threshold", outcome: migration.MoveStateFailed,
			threshold: migration.Threshold{Count: 1, MinSample: 1}, want: migration.WaveStateHalted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := context.Background()
			g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: "sweep", Source: "json", Members: members(2, "contoso.com")})
			require.NoError(t, err)
			// A wave far in the future, started by hand below, so that no
			// worker moves its users.
			waves, err := b.scheduler.Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
				return migration.CheckWaves([]migration.WaveSpec{{Size: 2, StartAt: time.Now().Add(time.Hour),
					Controls: migration.Controls{Threshold: tt.threshold}}}, unplanned, next)
			})
			require.NoError(t, err)
			_, _, started, err := b.q.WaveStart(ctx, waves[0].ID, "test")
			require.NoError(t, err)
			require.True(t, started)
			queued, err := b.q.MoveList(ctx, waves[0].ID, migration.MoveStateQueued)
			require.NoError(t, err)
			// The dead worker's moves: both ended, the wave not reviewed.
			for i, m := range queued {
				to := []migration.MoveState{migration.MoveStatePreflight, migration.MoveStateMoving, migration.MoveStateVerifying, migration.MoveStateMoved}
				if i == 0 && tt.outcome == migration.MoveStateFailed {
					to = []migration.MoveState{migration.MoveStatePreflight, migration.MoveStateFailed}
				}
				for _, s := range to {
					c := store.MoveChange{MoveID: m.ID, To: s, Attempt: 1, MoveIssued: s == migration.MoveStateMoving, Message: "dead worker", Actor: "test"}
					if s == migration.MoveStateFailed {
						c.ErrorCode = migration.CodeLicenceMissing
					}
					require.NoError(t, b.q.MoveUpdate(ctx, c))
				}
			}
			w, err := b.q.WaveGet(ctx, waves[0].ID)
			require.NoError(t, err)
			require.Equal(t, migration.WaveStateRunning, w.State, "nothing reviewed the wave yet")

			_, err = b.client.Insert(ctx, jobs.WaveSweepArgs{}, nil)
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				w, err = b.q.WaveGet(ctx, waves[0].ID)
				return err == nil && w.State == tt.want
			}, 10*time.Second, 20*time.Millisecond, "the wave is %s", w.State)
		})
	}
}

// TestSweepHealsStrandedMove: a move is left with no job that will run it,
// in two ways. Its River job is deleted (as River does when it gives a job
// up) while it is in preflight; or its job completed after the move call
// without the move's end recorded (as a job's end River writes from memory
// after an outage of Postgres would leave a lost outcome). One
// sweep gives each such move a new job, says why in its timeline and counts
// it in the metrics; the wave completes with every user moved once.
func TestSweepHealsStrandedMove(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// strand leaves the first move stranded.
		strand func(t *testing.T, q *store.Queries, pool *pgxpool.Pool, client *river.Client[pgx.Tx], shell *sim.Shell, m migration.Move)
		why    string
	}{
		{name: "job deleted", why: "River gave it up, or it was deleted",
			strand: func(t *testing.T, q *store.Queries, _ *pgxpool.Pool, _ *river.Client[pgx.Tx], _ *sim.Shell, m migration.Move) {
				require.NoError(t, q.MoveUpdate(context.Background(), store.MoveChange{MoveID: m.ID, To: migration.MoveStatePreflight, Attempt: 1,
					Message: "a worker that died", Actor: "test"}))
			}},
		{name: "job completed, the end lost", why: "completed without recording the move's end",
			strand: func(t *testing.T, q *store.Queries, pool *pgxpool.Pool, client *river.Client[pgx.Tx], shell *sim.Shell, m migration.Move) {
				ctx := context.Background()
				u, err := shell.GetUser(ctx, m.UPN)
				require.NoError(t, err)
				for _, c := range []store.MoveChange{
					{To: migration.MoveStatePreflight, Message: "pre-flight"},
					{To: migration.MoveStateMoving, MoveIssued: true, Capture: &u, Message: "moving"},
				} {
					c.MoveID, c.Attempt, c.Actor = m.ID, 1, "test"
					require.NoError(t, q.MoveUpdate(ctx, c))
				}
				require.NoError(t, shell.MoveOnline(ctx, m.UPN, migration.MoveOnlineOptions{}))
				// The job as River leaves it once Postgres is back: completed.
				res, err := client.Insert(ctx, jobs.MoveArgs{MoveID: m.ID, Run: m.Run}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
				require.NoError(t, err)
				_, err = pool.Exec(ctx, `UPDATE river_job SET state = 'completed', attempt = 1, finalized_at = now() WHERE id = $1`, res.Job.ID)
				require.NoError(t, err)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
			pool := dbtest.Pool(t)
			var stranded atomic.Int64
			client := jobstest.Start(t, pool, shell, func(c *jobs.Config) {
				c.StrandedQuiet = time.Millisecond
				c.Interrupted = func(cause string, n int) {
					if cause == jobs.CauseStranded {
						stranded.Add(int64(n))
					}
				}
			})
			q, ctx := store.New(pool), context.Background()
			g, err := q.GroupCreate(ctx, store.NewGroup{Name: "stranded", Source: "json", Members: members(3, "contoso.com")})
			require.NoError(t, err)
			// Started by hand: its moves are queued, as a dead worker left
			// them, with no job.
			waves, err := app.New(pool, jobs.NewQueue(client)).Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
				return migration.CheckWaves([]migration.WaveSpec{{Size: 3, StartAt: time.Now().Add(time.Hour), MaxAttempts: 3}}, unplanned, next)
			})
			require.NoError(t, err)
			_, _, started, err := q.WaveStart(ctx, waves[0].ID, "test")
			require.NoError(t, err)
			require.True(t, started)
			queued, err := q.MoveList(ctx, waves[0].ID, migration.MoveStateQueued)
			require.NoError(t, err)
			tt.strand(t, q, pool, client, shell, queued[0])
			var jobsLeft int
			require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'move' AND finalized_at IS NULL`).Scan(&jobsLeft))
			require.Zero(t, jobsLeft, "no job runs these moves")

			_, err = client.Insert(ctx, jobs.WaveSweepArgs{}, nil)
			require.NoError(t, err)
			waitWaves(t, q, g.ID)
			for i, m := range queued {
				got, err := q.MoveGet(ctx, m.ID)
				require.NoError(t, err)
				require.Equal(t, migration.MoveStateMoved, got.State)
				require.Equal(t, 1, shell.MovesFor(got.UPN), "moved once")
				events, err := q.MoveEvents(ctx, m.ID)
				require.NoError(t, err)
				why := "River gave it up, or it was deleted"
				if i == 0 {
					why = tt.why
				}
				require.True(t, slices.ContainsFunc(events, func(e migration.MoveEvent) bool {
					return strings.Contains(e.Message, "no job was left to run this move") && strings.Contains(e.Message, why)
				}), "the timeline says why the move was given a new job")
			}
			require.EqualValues(t, len(queued), stranded.Load(), "each healed move is counted")
		})
	}
}
