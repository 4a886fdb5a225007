package app

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// Queue runs the work a change leaves behind: it queues jobs in the
// change's transaction, so that they run only if it commits. The workers'
// package implements it with River (jobs.NewQueue), and depends on this
// one: the application layer never sees the workers.
type Queue interface {
	// WaveStart queues the start of wave w at its start time (at once if
	// that has passed).
	WaveStart(ctx context.Context, tx pgx.Tx, w migration.Wave) error
	// Moves queues a move job for each of queued, with maxAttempts
	// attempts, at at (at once if that has passed).
	Moves(ctx context.Context, tx pgx.Tx, queued []store.QueuedMove, maxAttempts int, at time.Time) error
	// Rollbacks queues the rollback job of each move set rolling back.
	Rollbacks(ctx context.Context, tx pgx.Tx, queued []store.RollbackQueued) error
	// Notify tells the webhooks of event ev of wave w, if they hear of its
	// kind (migration.Notified).
	Notify(ctx context.Context, tx pgx.Tx, ev store.WaveEvent, w migration.Wave) error
}
