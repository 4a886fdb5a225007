package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

// TestMain lets the test binary stand in for the cutover binary: run with
// CUTOVER_TEST_MAIN=1, it is cutover.
func TestMain(m *testing.M) {
	if os.Getenv("CUTOVER_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// startCutover starts this binary as "cutover args...", stopped (SIGTERM) when
// the test ends.
func startCutover(t *testing.T, args ...string) *bytes.Buffer {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CUTOVER_TEST_MAIN=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("cutover %v:\n%s", args, out.String())
		}
	})
	return &out
}

// TestTwoWorkerProcesses moves a 500-user group with two worker-only serve
// processes sharing one database and one simulated tenant: every user is
// moved, none twice, and both processes did part of the work.
func TestTwoWorkerProcesses(t *testing.T) {
	t.Parallel()
	const users = 500
	ctx := context.Background()
	dbURL := dbtest.URL(t)
	shell := sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}, Latency: 10 * time.Millisecond})
	tenant := httptest.NewServer(shell.Handler())
	t.Cleanup(tenant.Close)

	pool, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	inserter, err := jobs.NewClient(pool, nil, jobs.Config{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	members := make([]migration.Member, users)
	for i := range members {
		members[i] = migration.Member{UPN: fmt.Sprintf("u%04d@contoso.com", i)}
	}
	members, err = migration.NormalizeMembers(members)
	require.NoError(t, err)
	q := store.New(pool)
	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "two workers", Source: "json", Members: members})
	require.NoError(t, err)

	for range 2 {
		startCutover(t, "serve", "--role", "workers", "--database-url", dbURL, "--workers", "20",
			"--shell", "sim+"+tenant.URL, "--log-level", "warn", "--retry-base", "100ms")
	}
	_, err = jobs.NewScheduler(pool, inserter).Plan(ctx, g.ID, "test", func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{
			{Size: 100, StartAt: time.Now(), Concurrency: 30},
			{Size: 400, StartAt: time.Now(), Concurrency: 30},
		}, unplanned, next)
	})
	require.NoError(t, err)

	deadline := time.Now().Add(2 * time.Minute)
	for {
		var active int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM waves WHERE state <> 'completed'`).Scan(&active))
		if active == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "waves still running after 2 minutes")
		time.Sleep(100 * time.Millisecond)
	}

	var moved, workers int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM moves WHERE state = 'moved'`).Scan(&moved))
	require.Equal(t, users, moved)
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT actor) FROM move_events WHERE state = 'moved'`).Scan(&workers))
	require.Equal(t, 2, workers, "both processes should have moved users")
	for _, m := range members {
		calls := shell.CallsFor(m.UPN)
		require.Equal(t, 1, calls.MoveOnline, "%s: Move-CsUser calls", m.UPN)
		require.Equal(t, 1, shell.MovesFor(m.UPN), "%s: moves that took effect", m.UPN)
	}
	require.LessOrEqual(t, shell.Stats().MaxInFlight, 60, "two waves of concurrency 30")
}
