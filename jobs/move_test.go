package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

type testBundle struct {
	pool      *pgxpool.Pool
	client    *river.Client[pgx.Tx]
	shell     *sim.Shell
	scheduler *app.Service
	q         *store.Queries
}

// setup starts workers against a database of the test's own and a simulated
// shell with no failures unless the test sets behaviours.
func setup(t *testing.T) *testBundle {
	t.Helper()
	return setupWith(t, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}))
}

func setupWith(t *testing.T, shell *sim.Shell) *testBundle {
	t.Helper()
	pool := dbtest.Pool(t)
	client := jobstest.Start(t, pool, shell)
	return &testBundle{pool: pool, client: client, shell: shell, scheduler: app.New(pool, jobs.NewQueue(client)), q: store.New(pool)}
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

func TestMoveOutcomes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tests := []struct {
		name      string
		behaviour sim.Behaviour
		// want
		state       migration.MoveState
		code        migration.ErrorCode
		attempts    int
		moveCalls   int
		retryEvents int
		rollback    bool
	}{
		{"clean move", sim.Behaviour{Kind: sim.KindOK}, migration.MoveStateMoved, "", 1, 1, 0, true},
		{"already online is skipped", sim.Behaviour{Kind: sim.KindAlreadyOnline}, migration.MoveStateSkipped, "", 1, 0, 0, false},
		{"tenant not enabled fails at once", sim.Behaviour{Kind: sim.KindTenantNotEnabled}, migration.MoveStateFailed, migration.CodeTenantNotEnabled, 1, 1, 0, true},
		{"unknown user fails in pre-flight", sim.Behaviour{Kind: sim.KindNotFound}, migration.MoveStateFailed, migration.CodeUserNotFound, 1, 0, 0, false},
		{"time-outs retry, then succeed", sim.Behaviour{Kind: sim.KindTimeout, Failures: 2}, migration.MoveStateMoved, "", 3, 3, 2, true},
		{"a 507 within the licence settle time outlasts the attempts", sim.Behaviour{Kind: sim.KindLicenceProvisioning, Failures: 5}, migration.MoveStateFailed, migration.CodeLicenceProvisioning, 4, 4, 3, true},
		{"a time-out after the move landed is verified, not moved again", sim.Behaviour{Kind: sim.KindTimeout, Failures: 1, Lands: true}, migration.MoveStateMoved, "", 2, 1, 1, true},
	}
	var ms []migration.Member
	for i, tt := range tests {
		upn := fmt.Sprintf("outcome%02d@contoso.com", i)
		b.shell.SetBehaviour(upn, tt.behaviour)
		ms = append(ms, migration.Member{UPN: upn, SIP: upn})
	}
	g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: "outcomes", Source: "json", Members: ms})
	require.NoError(t, err)
	_, err = b.scheduler.Plan(ctx, app.As("test"), g.ID, planAll(4, 10))
	require.NoError(t, err)
	waitWaves(t, b.q, g.ID)

	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			upn := ms[i].UPN
			moves, err := b.q.MovesByUser(ctx, upn)
			require.NoError(t, err)
			require.Len(t, moves, 1)
			m := moves[0]
			require.Equal(t, tt.state, m.State)
			require.Equal(t, tt.code, m.ErrorCode)
			require.Equal(t, tt.attempts, m.Attempts)
			require.Equal(t, tt.moveCalls, b.shell.CallsFor(upn).MoveOnline, "Move-CsUser calls")
			require.LessOrEqual(t, b.shell.MovesFor(upn), 1, "moved twice")

			events, err := b.q.MoveEvents(ctx, m.ID)
			require.NoError(t, err)
			retries := 0
			for _, e := range events {
				if e.State == migration.MoveStateRetrying {
					retries++
					require.NotEmpty(t, e.ErrorCode, "a failed attempt's event names its error")
					require.Equal(t, retries, e.Attempt)
				}
			}
			require.Equal(t, tt.retryEvents, retries)
			require.Equal(t, tt.state, events[len(events)-1].State, "the last event is the outcome")

			rec, err := b.q.RollbackRecordGet(ctx, m.ID)
			require.NoError(t, err)
			require.Equal(t, tt.rollback, rec != nil, "rollback record")
			if rec != nil {
				require.Equal(t, "pool01.contoso.com", rec.RegistrarPool)
			}
		})
	}
}

// TestLicence507Settles: Microsoft answers 507 alike for a licence missing
// and one still provisioning. Without Graph, a user answering 507 is
// retried as provisioning within the licence settle time of its first 507,
// and fails as licence_missing after it; a licence that arrives meanwhile
// lets the move through.
func TestLicence507Settles(t *testing.T) {
	t.Parallel()
	// Long beside the retries (50 ms, doubling), so that a loaded machine's
	// delays do not end the settle time before the arriving licence's
	// second 507.
	const settle = 2 * time.Second
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
	pool := dbtest.Pool(t)
	client := jobstest.Start(t, pool, shell, func(c *jobs.Config) { c.LicenceSettle = settle })
	q, ctx := store.New(pool), context.Background()
	shell.SetBehaviour("missing@contoso.com", sim.Behaviour{Kind: sim.KindLicenceMissing})
	shell.SetBehaviour("arriving@contoso.com", sim.Behaviour{Kind: sim.KindLicenceProvisioning, Failures: 2})
	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "licences", Source: "json", Members: []migration.Member{
		{UPN: "missing@contoso.com", SIP: "missing@contoso.com"}, {UPN: "arriving@contoso.com", SIP: "arriving@contoso.com"}}})
	require.NoError(t, err)
	_, err = app.New(pool, jobs.NewQueue(client)).Plan(ctx, app.As("test"), g.ID, planAll(20, 2))
	require.NoError(t, err)
	waitWaves(t, q, g.ID)

	tests := []struct {
		upn   string
		state migration.MoveState
		code  migration.ErrorCode
	}{
		{"missing@contoso.com", migration.MoveStateFailed, migration.CodeLicenceMissing},
		{"arriving@contoso.com", migration.MoveStateMoved, ""},
	}
	for _, tt := range tests {
		t.Run(tt.upn, func(t *testing.T) {
			t.Parallel()
			moves, err := q.MovesByUser(ctx, tt.upn)
			require.NoError(t, err)
			m := moves[0]
			events, err := q.MoveEvents(ctx, m.ID)
			require.NoError(t, err)
			require.Equal(t, tt.state, m.State, "%+v", events)
			require.Equal(t, tt.code, m.ErrorCode)
			var first, last time.Time
			for _, e := range events {
				if e.State == migration.MoveStateRetrying {
					require.Equal(t, migration.CodeLicenceProvisioning, e.ErrorCode, "a 507 within the settle time is retried as provisioning")
					if first.IsZero() {
						first = e.At
					}
				}
				last = e.At
			}
			require.False(t, first.IsZero(), "the first 507 was retried")
			if tt.state == migration.MoveStateFailed {
				require.GreaterOrEqual(t, last.Sub(first), settle, "failed only once the settle time had passed")
				require.Less(t, m.Attempts, 20, "not every attempt spent")
			}
		})
	}
}

// TestWaveConcurrency holds a wave to its concurrency even with more
// workers free.
func TestWaveConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 20 * time.Millisecond})
	b := setupWith(t, shell)
	g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: "capped", Source: "json", Members: members(30, "contoso.com")})
	require.NoError(t, err)
	_, err = b.scheduler.Plan(ctx, app.As("test"), g.ID, planAll(3, 3))
	require.NoError(t, err)
	waitWaves(t, b.q, g.ID)
	require.Equal(t, 30, shell.Stats().MovesOnline)
	require.LessOrEqual(t, shell.Stats().MaxInFlight, 3)
	require.GreaterOrEqual(t, shell.Stats().MaxInFlight, 2, "the cap should be used")
}

// TestRetryByLead requeues a failed user as a new run; the job of the old
// run, if it ran again, would do nothing.
func TestRetryByLead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.shell.SetBehaviour("user000@contoso.com", sim.Behaviour{Kind: sim.KindTenantNotEnabled})
	g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: "retry", Source: "json", Members: members(3, "contoso.com")})
	require.NoError(t, err)
	_, err = b.scheduler.Plan(ctx, app.As("test"), g.ID, planAll(3, 3))
	require.NoError(t, err)
	waitWaves(t, b.q, g.ID)

	_, err = b.scheduler.UserRetry(ctx, app.As("lead"), "user001@contoso.com")
	require.Equal(t, migration.EConflict, migration.ErrorKind(err), "a moved user cannot be retried")
	_, err = b.scheduler.UserRetry(ctx, app.As("lead"), "nobody@contoso.com")
	require.Equal(t, migration.ENotFound, migration.ErrorKind(err))

	b.shell.SetBehaviour("user000@contoso.com", sim.Behaviour{Kind: sim.KindOK})
	m, err := b.scheduler.UserRetry(ctx, app.As("lead"), "USER000@contoso.com")
	require.NoError(t, err)
	require.Equal(t, 2, m.Run)
	waves := waitWaves(t, b.q, g.ID)
	require.NotNil(t, waves[0].FinishedAt)
	moves, err := b.q.MovesByUser(ctx, "user000@contoso.com")
	require.NoError(t, err)
	require.Equal(t, migration.MoveStateMoved, moves[0].State)
	require.Equal(t, 2, b.shell.CallsFor("user000@contoso.com").MoveOnline)
}

// TestResumeAfterWorkerDied: a move whose worker died after the move call
// (state moving, call issued) is found online by the next attempt and
// finished without a second move.
func TestResumeAfterWorkerDied(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: "resume", Source: "json", Members: members(1, "contoso.com")})
	require.NoError(t, err)
	// A wave far in the future, started by hand below.
	waves, err := b.scheduler.Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: 1, StartAt: time.Now().Add(time.Hour)}}, unplanned, next)
	})
	require.NoError(t, err)
	_, _, started, err := b.q.WaveStart(ctx, waves[0].ID, "test")
	require.NoError(t, err)
	require.True(t, started)
	queued, err := b.q.MoveList(ctx, waves[0].ID, migration.MoveStateQueued)
	require.NoError(t, err)
	// What the dead worker got done: pre-flight, the move call (which landed).
	for _, to := range []migration.MoveState{migration.MoveStatePreflight, migration.MoveStateMoving} {
		require.NoError(t, b.q.MoveUpdate(ctx, store.MoveChange{MoveID: queued[0].ID, To: to, Attempt: 1, MoveIssued: to == migration.MoveStateMoving, Message: "dead worker", Actor: "test"}))
	}
	require.NoError(t, b.shell.MoveOnline(ctx, "user000@contoso.com", migration.MoveOnlineOptions{}))

	_, err = b.client.Insert(ctx, jobs.MoveArgs{MoveID: queued[0].ID, Run: queued[0].Run}, nil)
	require.NoError(t, err)
	waitWaves(t, b.q, g.ID)
	m, err := b.q.MoveGet(ctx, queued[0].ID)
	require.NoError(t, err)
	require.Equal(t, migration.MoveStateMoved, m.State)
	require.Equal(t, 1, b.shell.CallsFor("user000@contoso.com").MoveOnline, "moved once, by the dead worker")
}

// TestRollback moves a user, then back to the pool in their rollback record.
func TestRollback(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.shell.SetBehaviour("user002@contoso.com", sim.Behaviour{Kind: sim.KindNotSyncedBack})
	g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: "rollback", Source: "json", Members: members(3, "contoso.com")})
	require.NoError(t, err)
	_, err = b.scheduler.Plan(ctx, app.As("test"), g.ID, planAll(3, 3))
	require.NoError(t, err)
	waitWaves(t, b.q, g.ID)

	_, err = b.scheduler.UserRollBack(ctx, app.As("lead"), "nobody@contoso.com")
	require.Equal(t, migration.ENotFound, migration.ErrorKind(err))
	m, err := b.scheduler.UserRollBack(ctx, app.As("lead"), "user000@contoso.com")
	require.NoError(t, err)
	_, err = b.scheduler.UserRollBack(ctx, app.As("lead"), "user000@contoso.com")
	require.Equal(t, migration.EConflict, migration.ErrorKind(err), "a rollback under way cannot be asked again")

	require.Eventually(t, func() bool {
		got, err := b.q.MoveGet(ctx, m.ID)
		return err == nil && got.State == migration.MoveStateRolledBack
	}, 30*time.Second, 50*time.Millisecond)
	u, err := b.shell.GetUser(ctx, "user000@contoso.com")
	require.NoError(t, err)
	require.False(t, u.HomedOnline(""))
	require.Equal(t, "pool01.contoso.com", u.RegistrarPool)
	require.Equal(t, 1, b.shell.CallsFor("user000@contoso.com").MoveToPool)
	events, err := b.q.MoveEvents(ctx, m.ID)
	require.NoError(t, err)
	last := events[len(events)-1]
	require.Equal(t, migration.MoveStateRolledBack, last.State)
	require.Contains(t, last.Message, "moved back to pool01.contoso.com")
	require.Contains(t, last.Message, "brings no contacts from Teams", "the user is told what Microsoft says of contacts on a move back")

	// The other user stays online; their move is untouched.
	u, err = b.shell.GetUser(ctx, "user001@contoso.com")
	require.NoError(t, err)
	require.True(t, u.HomedOnline(""))

	// A move back the service refuses (506) ends the rollback, failed.
	m, err = b.scheduler.UserRollBack(ctx, app.As("lead"), "user002@contoso.com")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		got, err := b.q.MoveGet(ctx, m.ID)
		return err == nil && got.State == migration.MoveStateRollbackFailed && got.ErrorCode == migration.CodeNotSynchronised
	}, 30*time.Second, 50*time.Millisecond)
	// ...and can be asked for again.
	b.shell.SetBehaviour("user002@contoso.com", sim.Behaviour{Kind: sim.KindOK})
	_, err = b.scheduler.UserRollBack(ctx, app.As("lead"), "user002@contoso.com")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		got, err := b.q.MoveGet(ctx, m.ID)
		return err == nil && got.State == migration.MoveStateRolledBack
	}, 30*time.Second, 50*time.Millisecond)
}

// TestSessionBrokenNotCounted: a shell session that breaks under a move is
// the host's fault, not the user's: the move goes on without counting the
// attempt, and its timeline says so; past three in one run, breaks count as
// the transient failures they are, so that a move cannot wait for ever.
func TestSessionBrokenNotCounted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		users        int
		breaks       int
		notCounted   int
		lastAttempts int // the most attempts any user took
	}{
		{"two breaks across the wave", 3, 2, 2, 1},
		{"more breaks than a run may ignore", 1, 5, 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}})
			shell.BreakSessions(tc.breaks)
			b := setupWith(t, shell)
			g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: "sessions", Source: "json", Members: members(tc.users, "contoso.com")})
			require.NoError(t, err)
			_, err = b.scheduler.Plan(ctx, app.As("test"), g.ID, planAll(5, 1))
			require.NoError(t, err)
			waitWaves(t, b.q, g.ID)
			var moved, attempts, notCounted int
			require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'moved'), max(attempts) FROM moves`).Scan(&moved, &attempts))
			require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM move_events WHERE error_code = 'session_broken' AND message LIKE '%not counted: session_broken%'`).Scan(&notCounted))
			require.Equal(t, tc.users, moved)
			require.Equal(t, tc.notCounted, notCounted)
			require.Equal(t, tc.lastAttempts, attempts)
		})
	}
}

// TestDatabaseFailuresNotCounted: connections to the database cut again and
// again in the middle of a wave (as a Postgres restart or a network cut
// does) are not the users' fault: with nothing wrong with any user, every
// user is moved at the first attempt.
func TestDatabaseFailuresNotCounted(t *testing.T) {
	t.Parallel()
	const users = 150
	ctx := context.Background()
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 20 * time.Millisecond})
	b := setupWith(t, shell)
	var name string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT current_database()`).Scan(&name))
	admin, err := pgx.Connect(ctx, dbtest.ServerURL())
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close(context.Background()) })

	g, err := b.q.GroupCreate(ctx, store.NewGroup{Name: "db cuts", Source: "json", Members: members(users, "contoso.com")})
	require.NoError(t, err)
	_, err = b.scheduler.Plan(ctx, app.As("test"), g.ID, planAll(5, 10))
	require.NoError(t, err)
	cuts := 0
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var done int
		err := b.pool.QueryRow(ctx, `SELECT count(*) FROM waves WHERE state = 'completed'`).Scan(&done)
		if err == nil && done == 1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the wave did not complete")
		if cuts < 6 {
			_, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name)
			require.NoError(t, err)
			cuts++
		}
		time.Sleep(300 * time.Millisecond)
	}
	var moved, attempts, told int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'moved'), max(attempts) FROM moves`).Scan(&moved, &attempts))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM move_events WHERE message LIKE '%not counted: the database failed%'`).Scan(&told))
	t.Logf("%d cuts; %d moves told of a database failure", cuts, told)
	if attempts > 1 {
		rows, err := b.pool.Query(ctx, `SELECT e.at::text || ' ' || e.state || ' ' || coalesce(e.error_code, '') || ' ' || e.message FROM move_events e
			JOIN moves m ON m.id = e.move_id WHERE m.attempts > 1 ORDER BY e.id`)
		require.NoError(t, err)
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			t.Log(line)
		}
	}
	require.Equal(t, users, moved)
	require.Equal(t, 1, attempts, "no attempt spent on the database")
}
