package main

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
)

// The fault suite: each scenario injects a fault real migrations meet in
// the middle of a wave, and checks that the wave ends with every user in a
// final state, none moved twice, and every timeline consistent. Run it alone
// with: go test ./cmd/cutover -run TestFault

// checkWaveOutcome checks, once every wave has ended: every user in a final
// state; no user moved twice at the server; each timeline a legal walk of
// the state machine from pending to the move's state, with no event twice.
func checkWaveOutcome(t *testing.T, pool *pgxpool.Pool, shell *sim.Shell, members []migration.Member) {
	t.Helper()
	ctx := context.Background()
	var active int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM moves WHERE state NOT IN ('moved', 'skipped', 'failed', 'cancelled')`).Scan(&active))
	require.Zero(t, active, "every user in a final state")
	// The invariant: no move that is not final lacks a job to run it.
	stranded, serr := store.New(pool).MovesWithoutJob(ctx, 0, 10)
	require.NoError(t, serr)
	require.Empty(t, stranded, "moves without a job to run them")
	for _, m := range members {
		require.LessOrEqual(t, shell.MovesFor(m.UPN), 1, "%s moved more than once", m.UPN)
	}

	type event struct {
		MoveID  int64
		ID      int64
		State   migration.MoveState
		Attempt int
		Message string
	}
	rows, _ := pool.Query(ctx, `SELECT e.move_id, coalesce(e.seq, 0), e.state, e.attempt, e.message FROM move_timeline e ORDER BY e.move_id, e.at, e.seq NULLS FIRST`)
	events, err := pgx.CollectRows(rows, pgx.RowToStructByPos[event])
	require.NoError(t, err)
	finals := map[int64]migration.MoveState{}
	rows, _ = pool.Query(ctx, `SELECT id, state FROM moves`)
	var id int64
	var st migration.MoveState
	_, err = pgx.ForEachRow(rows, []any{&id, &st}, func() error { finals[id] = st; return nil })
	require.NoError(t, err)

	var prev event
	for i, e := range events {
		first := i == 0 || events[i-1].MoveID != e.MoveID
		if first {
			require.Equal(t, migration.MoveStatePending, e.State, "move %d: its timeline starts when it was planned", e.MoveID)
		} else {
			require.False(t, e.State == prev.State && e.Attempt == prev.Attempt && e.Message == prev.Message,
				"move %d: event %q twice", e.MoveID, e.Message)
			if e.State != prev.State {
				require.True(t, prev.State.CanMoveTo(e.State), "move %d: a gap in its timeline, %s then %s", e.MoveID, prev.State, e.State)
			}
		}
		last := i == len(events)-1 || events[i+1].MoveID != e.MoveID
		if last {
			require.Equal(t, finals[e.MoveID], e.State, "move %d: its timeline ends where the move is", e.MoveID)
		}
		prev = e
	}
	require.Len(t, finals, len(members))
}

// faultWorker returns the arguments of a worker process for the fault suite:
// short time-outs, so that River rescues a dead worker's moves in seconds.
func faultWorker(dbURL, tenant string) []string {
	return []string{"serve", "--role", "workers", "--database-url", dbURL, "--workers", "25",
		"--shell", "sim+" + tenant, "--shell-timeout", "1s", "--retry-base", "50ms", "--retry-max", "1s", "--log-level", "error"}
}

// TestFaultKillWorkerRepeatedly kills a worker process with SIGKILL at
// random points of a 2,000-user wave, five times, restarting it each time.
func TestFaultKillWorkerRepeatedly(t *testing.T) {
	t.Parallel()
	const users = 2000
	ctx := context.Background()
	dbURL := dbtest.URL(t)
	// The simulated tenant's usual mix: some users fail for good, some time
	// out (some of those land all the same) or are throttled and retry.
	shell := sim.NewShell(sim.ShellConfig{Seed: 11, Latency: 20 * time.Millisecond})
	tenant := httptest.NewServer(shell.Handler())
	t.Cleanup(tenant.Close)
	pool, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	worker := faultWorker(dbURL, tenant.URL)
	current := startCutover(t, worker...)
	members := planUsers(t, pool, "kill", users, 50)

	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	kills := 0
	for kills < 5 {
		time.Sleep(time.Duration(500+rnd.IntN(2500)) * time.Millisecond)
		var done int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM moves WHERE state IN ('moved', 'skipped', 'failed')`).Scan(&done))
		if done == users {
			break
		}
		require.NoError(t, current.Process.Kill())
		_ = current.Wait()
		kills++
		t.Logf("kill %d after %d of %d users ended", kills, done, users)
		current = startCutover(t, worker...)
	}
	require.Equal(t, 5, kills, "the wave ended before five kills: make it longer")
	waitFor(t, pool, 4*time.Minute, 1, `SELECT count(*) FROM waves WHERE state = 'completed'`)
	checkWaveOutcome(t, pool, shell, members)
}

// faultWave runs a wave of users in the database at dbURL (pool is on it),
// with a worker process and the simulated tenant, calls fault n times, after
// each n+1th share of the users has ended, and checks the outcome once the
// wave has completed.
func faultWave(t *testing.T, pool *pgxpool.Pool, dbURL, prefix string, seed int64, users, n int, fault func(i int)) {
	t.Helper()
	shell := sim.NewShell(sim.ShellConfig{Seed: seed, Latency: 20 * time.Millisecond})
	tenant := httptest.NewServer(shell.Handler())
	t.Cleanup(tenant.Close)
	startCutover(t, faultWorker(dbURL, tenant.URL)...)
	members := planUsers(t, pool, prefix, users, 40)
	for i := range n {
		waitFor(t, pool, time.Minute, (i+1)*users/(n+2), `SELECT count(*) FROM moves WHERE state IN ('moved', 'skipped', 'failed')`)
		fault(i)
		pool.Reset() // this test's own connections went too
	}
	waitFor(t, pool, 4*time.Minute, 1, `SELECT count(*) FROM waves WHERE state = 'completed'`)
	checkWaveOutcome(t, pool, shell, members)
	var moves int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM moves`).Scan(&moves))
	require.Equal(t, users, moves, "no move lost")
}

// TestFaultDatabaseConnectionsDropped drops every connection of the wave's
// database in the middle of a wave, three times, as a Postgres restart does
// to its clients: transactions in flight fail, and every process must
// reconnect and carry on. (TestFaultPostgresCrash restarts a server itself.)
func TestFaultDatabaseConnectionsDropped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := dbtest.URL(t)
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	name := strings.TrimPrefix(u.Path, "/")
	pool, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	admin, err := pgx.Connect(ctx, dbtest.ServerURL())
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close(context.Background()) })

	faultWave(t, pool, dbURL, "drop", 3, 600, 3, func(int) {
		var dropped int
		require.NoError(t, admin.QueryRow(ctx, `
			SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			                      WHERE datname = $1 AND pid <> pg_backend_pid()) t`, name).Scan(&dropped))
		t.Logf("dropped %d connections", dropped)
		require.Positive(t, dropped)
	})
}

// TestFaultPostgresCrash crashes the database server twice in the middle
// of a wave (an immediate shutdown: no checkpoint, recovery from the WAL on
// start) and starts it again: the wave completes and nothing is lost. The
// server is one of the test's own, so that the other tests' is untouched.
func TestFaultPostgresCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startPgServer(t)
	admin, err := pgx.Connect(ctx, srv.URL("postgres"))
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE DATABASE cutover")
	require.NoError(t, err)
	require.NoError(t, admin.Close(ctx))
	dbURL := srv.URL("cutover")
	pool, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = store.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
	require.NoError(t, err)

	faultWave(t, pool, dbURL, "crash", 4, 600, 2, func(i int) {
		srv.Crash()
		t.Logf("crashed and restarted the server (%d)", i+1)
	})
}

// waitWaveEnd waits for a wave to leave running, and returns its state.
func waitWaveEnd(t *testing.T, pool *pgxpool.Pool, waveID int64, within time.Duration) migration.WaveState {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		w, err := store.New(pool).WaveGet(context.Background(), waveID)
		require.NoError(t, err)
		if w.State != migration.WaveStateRunning && w.State != migration.WaveStateScheduled {
			return w.State
		}
		require.True(t, time.Now().Before(deadline), "wave %d still %s after %s", waveID, w.State, within)
		time.Sleep(50 * time.Millisecond)
	}
}

// limitEvents returns the wave's adaptive-concurrency events.
func limitEvents(t *testing.T, pool *pgxpool.Pool, waveID int64) (lowered, raised int) {
	t.Helper()
	events, err := store.New(pool).WaveEvents(context.Background(), waveID)
	require.NoError(t, err)
	for _, e := range events {
		switch e.Kind {
		case migration.WaveEventLimitLowered:
			lowered++
		case migration.WaveEventLimitRaised:
			raised++
		}
	}
	return lowered, raised
}

// TestFaultStorms: a storm of shell time-outs, and one of Graph throttling
// (30% of requests and of batch items answered 429), each in the middle of
// a wave. The waves complete; under the time-outs the wave's limit on moves
// in flight visibly backs off, and comes back.
func TestFaultStorms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		graph sim.GraphConfig
		storm func(shell *sim.Shell, upns []string)
		backs bool
	}{
		{
			name: "shell time-outs",
			storm: func(shell *sim.Shell, upns []string) {
				for i, upn := range upns {
					if i%3 == 0 && i < len(upns)/2 { // the first half of the wave: a third of its users time out twice
						shell.SetBehaviour(upn, sim.Behaviour{Kind: sim.KindTimeout, Failures: 2, Lands: i%2 == 0})
					}
				}
			},
			backs: true,
		},
		{name: "Graph throttling", graph: sim.GraphConfig{Throttle: 0.3, ThrottleBatchItems: 0.3}, storm: func(*sim.Shell, []string) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newAPIEnv(t, tt.graph)
			f := &fixtures{t: t, env: env, q: store.New(env.pool)}
			id, upns := f.group(150)
			tt.storm(env.shell, upns)
			waves, err := env.scheduler.Plan(context.Background(), app.As("test"), id, func(unplanned, next int) ([]migration.WaveSpec, error) {
				return migration.CheckWaves([]migration.WaveSpec{{Size: unplanned, StartAt: time.Now(), MaxAttempts: 4, Concurrency: 8,
					Controls: migration.Controls{Threshold: migration.Threshold{Percent: 20, MinSample: 20}}}}, unplanned, next)
			})
			require.NoError(t, err)
			require.Equal(t, migration.WaveStateCompleted, waitWaveEnd(t, env.pool, waves[0].ID, 3*time.Minute))
			members := make([]migration.Member, len(upns))
			for i, u := range upns {
				members[i] = migration.Member{UPN: u}
			}
			checkWaveOutcome(t, env.pool, env.shell, members)
			lowered, raised := limitEvents(t, env.pool, waves[0].ID)
			t.Logf("limit lowered %d times, raised %d times", lowered, raised)
			if tt.backs {
				require.Positive(t, lowered, "the wave backed off")
				require.Positive(t, raised, "and came back")
			}
		})
	}
}
