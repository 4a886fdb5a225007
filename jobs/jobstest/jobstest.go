// Package jobstest starts cutover's workers for tests: fast polling and short
// retries, stopped when the test ends.
package jobstest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/jobs"
)

// Config is the workers' configuration in tests: ten moves at once, retries
// after 50 ms (doubling), a 2 s shell time-out, polling every 50 ms, a paused
// wave reviewed every 50 ms, a host that is not ready (or a held
// deployment) checked every 100 ms.
var Config = jobs.Config{
	MoveWorkers: 10, Control: true, RetryBase: 50 * time.Millisecond, ShellTimeout: 2 * time.Second,
	PollInterval: 50 * time.Millisecond, PausePoll: 50 * time.Millisecond, SlotPoll: 20 * time.Millisecond,
	HostRecheck: 100 * time.Millisecond,
}

// Start starts workers moving users through shell, and stops them when the
// test ends. Options change Config for this start. The worker host is
// checked at the first move.
func Start(t testing.TB, pool *pgxpool.Pool, shell migration.Shell, options ...func(*jobs.Config)) *river.Client[pgx.Tx] {
	t.Helper()
	client, _ := start(t, pool, shell, options...)
	return client
}

// StartChecked is Start with the worker host checked before it returns, as
// cutover serve does.
func StartChecked(t testing.TB, pool *pgxpool.Pool, shell migration.Shell, options ...func(*jobs.Config)) (*river.Client[pgx.Tx], *jobs.Readiness) {
	t.Helper()
	client, ready := start(t, pool, shell, options...)
	if err := ready.Start(context.Background(), client); err != nil {
		t.Fatalf("jobstest: checking the host: %v", err)
	}
	return client, ready
}

func start(t testing.TB, pool *pgxpool.Pool, shell migration.Shell, options ...func(*jobs.Config)) (*river.Client[pgx.Tx], *jobs.Readiness) {
	t.Helper()
	cfg := Config
	for _, o := range options {
		o(&cfg)
	}
	client, ready, err := jobs.NewClientWithReadiness(pool, shell, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("jobstest: %v", err)
	}
	if err := client.Start(context.Background()); err != nil {
		t.Fatalf("jobstest: start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(ctx)
	})
	return client, ready
}
