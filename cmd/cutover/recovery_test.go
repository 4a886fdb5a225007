package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/readiness"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
)

// Recovery after a worker process dies. The figures these tests log are the
// ones docs/operations.md gives under "When a worker dies" (go test ./cmd/cutover -run TestRecovery -v).

// processID is the River client ID (and slot holder) of a cutover process.
func processID(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	host, err := os.Hostname()
	require.NoError(t, err)
	return fmt.Sprintf("%s-%d", host, cmd.Process.Pid)
}

// ended counts the moves in a final state.
const ended = `SELECT count(*) FROM moves WHERE state IN ('moved', 'skipped', 'failed', 'cancelled')`

// twoWorkersWave is one wave of TestRecoveryTwoWorkers: its database, its
// simulated tenant, its two worker processes and its users.
type twoWorkersWave struct {
	pool    *pgxpool.Pool
	shell   *sim.Shell
	victim  *exec.Cmd
	members []migration.Member
	start   time.Time
}

// startTwoWorkers starts a 300-user wave with 1-second moves on two worker
// processes sharing a cap of 10, on a database of its own.
func startTwoWorkers(t *testing.T, name string) *twoWorkersWave {
	const users = 300
	ctx := context.Background()
	dbURL := dbtest.URL(t)
	w := &twoWorkersWave{shell: sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 10 * time.Millisecond, MoveLatency: time.Second})}
	tenant := httptest.NewServer(w.shell.Handler())
	t.Cleanup(tenant.Close)
	pool, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	w.pool = pool
	_, err = pool.Exec(ctx, `UPDATE deployment_settings SET max_in_flight = 10`)
	require.NoError(t, err)
	worker := []string{"serve", "--role", "workers", "--database-url", dbURL, "--workers", "10",
		"--shell", "sim+" + tenant.URL, "--retry-base", "100ms", "--log-level", "warn"}
	w.victim = startCutover(t, worker...)
	startCutover(t, worker...)
	w.start = time.Now()
	w.members = planUsers(t, pool, name, users, 10)
	return w
}

// took waits for the wave to end, checks its outcome and returns how long
// it took from its plan to its end, as the database recorded the end.
func (w *twoWorkersWave) took(t *testing.T) time.Duration {
	waitFor(t, w.pool, 4*time.Minute, 1, `SELECT count(*) FROM waves WHERE state = 'completed'`)
	var end time.Time
	require.NoError(t, w.pool.QueryRow(context.Background(), `SELECT finished_at FROM waves`).Scan(&end))
	checkWaveOutcome(t, w.pool, w.shell, w.members)
	return end.Sub(w.start)
}

// TestRecoveryTwoWorkers: two worker processes share a cap of 10 on a
// 300-user wave of 1-second moves; one is SIGKILLed a third of the way
// through, while it holds slots. The other is back to 9 move calls in
// flight within 30 seconds of the kill (its slots are freed when it misses
// its heartbeats), and the wave ends within 1.3 times the same wave without
// a kill, nobody moved twice. The two waves run at the same time, each on
// its own database, tenant and processes, so that both see the same load
// on the machine.
func TestRecoveryTwoWorkers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := startTwoWorkers(t, "base")
	killed := startTwoWorkers(t, "two")

	waitFor(t, killed.pool, 2*time.Minute, len(killed.members)/3, ended)
	id := processID(t, killed.victim)
	var held int
	require.Eventually(t, func() bool {
		require.NoError(t, killed.pool.QueryRow(ctx, `SELECT count(*) FROM cap_slots WHERE holder = $1 AND expires_at > now()`, id).Scan(&held))
		return held > 0
	}, 30*time.Second, 5*time.Millisecond, "the process to kill holds slots")
	require.NoError(t, killed.victim.Process.Kill())
	at := time.Now()
	_ = killed.victim.Wait()
	// The simulated shell counts the move calls running at the server.
	var refilled time.Duration
	require.Eventually(t, func() bool {
		if killed.shell.Stats().InFlight >= 9 && time.Since(at) > time.Second {
			refilled = time.Since(at)
			return true
		}
		return false
	}, time.Minute, 5*time.Millisecond, "9 move calls in flight again")

	without, with := base.took(t), killed.took(t)
	ratio := float64(with) / float64(without)
	t.Logf("two workers, cap 10, 300 users, 1 s moves: without a kill %s; with one SIGKILLed holding %d slots: 9 calls in flight again %s after the kill, wave %s (%.2f×)",
		without.Round(100*time.Millisecond), held, refilled.Round(100*time.Millisecond), with.Round(100*time.Millisecond), ratio)
	require.Less(t, refilled, 30*time.Second, "the dead process's slots are back in service")
	require.LessOrEqual(t, ratio, 1.3, "the wave with a kill against the same without")
}

// TestRecoveryServeRestarted: a single serve is SIGKILLed in the middle of
// a wave and restarted at once. Its moves in flight are handed to the new
// process within a minute of the restart (when the dead one misses its
// heartbeats, not after River's rescue), and nobody who was verifying at
// the kill fails as not provisioned because of the time stranded.
func TestRecoveryServeRestarted(t *testing.T) {
	t.Parallel()
	const users = 200
	ctx := context.Background()
	dbURL := dbtest.URL(t)
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 10 * time.Millisecond, MoveLatency: 500 * time.Millisecond})
	tenant := httptest.NewServer(shell.Handler())
	t.Cleanup(tenant.Close)
	// Teams shows a move three seconds after it; the provisioning wait is
	// short, so that time counted while stranded would fail users.
	fake, err := sim.StartGraph(shell, sim.GraphConfig{ClientID: "cutover-test", ClientSecret: "test-secret", ProvisioningDelay: 3 * time.Second})
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	ca := filepath.Join(t.TempDir(), "graph.pem")
	require.NoError(t, os.WriteFile(ca, fake.CertificatePEM(), 0o600))
	pool, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	worker := []string{"serve", "--role", "workers", "--database-url", dbURL, "--workers", "25",
		"--shell", "sim+" + tenant.URL, "--retry-base", "200ms", "--log-level", "warn",
		"--graph", fake.GraphURL(), "--graph-authority", fake.URL() + "/", "--graph-tenant", fake.TenantID(),
		"--graph-client-id", "cutover-test", "--graph-ca-file", ca, "--provisioning-wait", "15s"}
	env := []string{"CUTOVER_GRAPH_CLIENT_SECRET=test-secret"}
	first := startCutoverEnv(t, env, worker...)
	members := planUsers(t, pool, "restart", users, 25)

	waitFor(t, pool, 2*time.Minute, users/4, ended)
	// The kill must strand moves its jobs are running: on a loaded machine
	// the process can be between moves when the count is reached, or every
	// move verifying can wait in a snoozed job (twice in CI: 24 jobs and no
	// move in flight, then no job running at all).
	waitFor(t, pool, time.Minute, 3, fmt.Sprintf(`SELECT count(*) FROM moves WHERE state IN ('preflight', 'moving', 'verifying')
		AND id IN (SELECT (args->>'move_id')::bigint FROM river_job WHERE kind = 'move' AND state = 'running'
		           AND attempted_by[array_upper(attempted_by, 1)] = '%s')`, processID(t, first)))
	require.NoError(t, first.Process.Kill())
	killed := time.Now()
	_ = first.Wait()
	startCutoverEnv(t, env, worker...)
	restarted := time.Now()
	// A statement the dead process sent just before it died may still
	// commit: look at what it left a moment later (it is found dead only
	// after ten seconds, and until then its jobs stay as it left them).
	time.Sleep(time.Second)
	verifying := ids(t, pool, `SELECT id FROM moves WHERE state = 'verifying'`)
	inFlight := ids(t, pool, `SELECT id FROM moves WHERE state IN ('preflight', 'moving', 'verifying')
		AND id IN (SELECT (args->>'move_id')::bigint FROM river_job WHERE kind = 'move' AND state = 'running'
		           AND attempted_by[array_upper(attempted_by, 1)] = $1)`, processID(t, first))
	var before int
	require.NoError(t, pool.QueryRow(ctx, ended).Scan(&before))

	// The first move ended after the restart, and the last of those
	// stranded in flight at the kill handed on.
	waitFor(t, pool, time.Minute, before+1, ended)
	firstEnd := time.Since(restarted)
	require.Eventually(t, func() bool {
		var left int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'move' AND state = 'running'
			AND (args->>'move_id')::bigint = ANY($1) AND attempted_by[array_upper(attempted_by, 1)] = $2`, inFlight, processID(t, first)).Scan(&left))
		return left == 0
	}, time.Minute, 20*time.Millisecond, "the dead process's moves handed on within a minute of the restart")
	handedOn := time.Since(restarted)
	waitFor(t, pool, 4*time.Minute, 1, `SELECT count(*) FROM waves WHERE state = 'completed'`)
	wave := time.Since(killed)
	checkWaveOutcome(t, pool, shell, members)

	var notProvisioned int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM moves WHERE id = ANY($1) AND error_code = $2`,
		verifying, migration.CodeNotProvisionedOnline).Scan(&notProvisioned))
	require.Zero(t, notProvisioned, "users verifying at the kill failed as not provisioned")
	var told int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT move_id) FROM move_events WHERE move_id = ANY($1) AND message LIKE 'worker % stopped %'`, inFlight).Scan(&told))
	require.Equal(t, len(inFlight), told, "each stranded move's timeline says it was handed on")
	// The lead is told: in the wave's timeline and the readiness report.
	var waveTold int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM wave_events WHERE kind = $1 AND message LIKE '%' || $2 || '%'`,
		migration.WaveEventWorkerLost, processID(t, first)).Scan(&waveTold))
	require.Equal(t, 1, waveTold, "the wave's timeline says the worker was lost")
	report, err := readiness.DeploymentReadiness(ctx, store.New(pool), nil, time.Now(), time.Hour)
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(report.Sections[0].Checks, func(c migration.Check) bool {
		return strings.Contains(c.Name, processID(t, first)) && c.Status == migration.CheckWarn && strings.Contains(c.Evidence, "no heartbeat since")
	}), "the readiness report names the lost process: %+v", report.Sections[0].Checks)
	t.Logf("serve SIGKILLed with %d moves in flight (%d verifying) and restarted at once: first move ended %s after the restart, the last stranded move handed on after %s, the wave's end %s after the kill",
		len(inFlight), len(verifying), firstEnd.Round(100*time.Millisecond), handedOn.Round(100*time.Millisecond), wave.Round(100*time.Millisecond))
	require.Less(t, handedOn, time.Minute)
}

// ids reads a column of move IDs.
func ids(t *testing.T, pool *pgxpool.Pool, query string, args ...any) []int64 {
	t.Helper()
	rows, err := pool.Query(context.Background(), query, args...)
	require.NoError(t, err)
	var out []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		out = append(out, id)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestServeSaysGraphNotReady: with Entra ID's sign-in unreachable, `serve`
// says when it starts that the deployment is not ready and why; a wave
// started then shows that reason and spends no attempt; when the sign-in
// comes back, the wave completes.
func TestServeSaysGraphNotReady(t *testing.T) {
	t.Parallel()
	const users = 5
	ctx := context.Background()
	dbURL := dbtest.URL(t)
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 10 * time.Millisecond})
	tenant := httptest.NewServer(shell.Handler())
	t.Cleanup(tenant.Close)
	fake, err := sim.StartGraph(shell, sim.GraphConfig{ClientID: "cutover-test", ClientSecret: "test-secret"})
	require.NoError(t, err)
	t.Cleanup(fake.Close)
	fake.SetSignInDown(true)
	ca := filepath.Join(t.TempDir(), "graph.pem")
	require.NoError(t, os.WriteFile(ca, fake.CertificatePEM(), 0o600))
	pool, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	_, out := startCutoverOutput(t, []string{"CUTOVER_GRAPH_CLIENT_SECRET=test-secret"},
		"serve", "--role", "workers", "--database-url", dbURL, "--workers", "5",
		"--shell", "sim+"+tenant.URL, "--retry-base", "200ms", "--log-level", "info",
		"--graph", fake.GraphURL(), "--graph-authority", fake.URL()+"/", "--graph-tenant", fake.TenantID(),
		"--graph-client-id", "cutover-test", "--graph-ca-file", ca)
	require.Eventually(t, func() bool {
		s := out.String()
		return strings.Contains(s, "the deployment is not ready") && strings.Contains(s, "Microsoft Graph does not answer")
	}, time.Minute, 50*time.Millisecond, "serve says the deployment is not ready, and why")

	members := planUsers(t, pool, "graphdown", users, users)
	require.Eventually(t, func() bool {
		var reason string
		require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(state_reason, '') FROM waves`).Scan(&reason))
		return strings.Contains(reason, "Microsoft Graph does not answer")
	}, time.Minute, 50*time.Millisecond, "the wave shows why its moves wait")
	var spent int
	require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(max(attempts), 0) FROM moves`).Scan(&spent))
	require.Zero(t, spent, "no attempt spent while Graph is down")

	fake.SetSignInDown(false)
	waitFor(t, pool, 2*time.Minute, 1, `SELECT count(*) FROM waves WHERE state = 'completed'`)
	require.NoError(t, pool.QueryRow(ctx, `SELECT max(attempts) FROM moves`).Scan(&spent))
	require.Equal(t, 1, spent, "each user moved at the first attempt")
	checkWaveOutcome(t, pool, shell, members)
}
