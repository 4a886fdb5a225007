package jobs

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// Queue is app.Queue on River: the jobs a change leaves behind, inserted in
// its transaction.
type Queue struct{ client *river.Client[pgx.Tx] }

// NewQueue returns the queue of client (an insert-only client will do).
func NewQueue(client *river.Client[pgx.Tx]) Queue { return Queue{client: client} }

var _ app.Queue = Queue{}

// queueOf is the queue of the River client that works the job of ctx.
func queueOf(ctx context.Context) Queue { return NewQueue(river.ClientFromContext[pgx.Tx](ctx)) }

// WaveStart queues the start job of a wave at its start time (at once if
// that has passed).
func (q Queue) WaveStart(ctx context.Context, tx pgx.Tx, w migration.Wave) error {
	opts := &river.InsertOpts{}
	if w.StartAt.After(time.Now()) {
		opts.ScheduledAt = w.StartAt
	}
	_, err := q.client.InsertTx(ctx, tx, WaveStartArgs{WaveID: w.ID, Rev: w.ScheduleRev}, opts)
	return err
}

// Moves queues a job for each move.
func (q Queue) Moves(ctx context.Context, tx pgx.Tx, queued []store.QueuedMove, maxAttempts int, at time.Time) error {
	if len(queued) == 0 {
		return nil
	}
	opts := &river.InsertOpts{MaxAttempts: maxAttempts}
	if at.After(time.Now()) {
		opts.ScheduledAt = at
	}
	// In chunks, so that a wave of 100,000 does not hold every job's
	// encoded row in memory at once.
	for chunk := range slices.Chunk(queued, enqueueChunk) {
		params := make([]river.InsertManyParams, len(chunk))
		for i, m := range chunk {
			params[i] = river.InsertManyParams{Args: MoveArgs{MoveID: m.MoveID, Run: m.Run}, InsertOpts: opts}
		}
		if _, err := q.client.InsertManyFastTx(ctx, tx, params); err != nil {
			return err
		}
	}
	return nil
}

// enqueueChunk is how many move jobs are inserted at a time.
const enqueueChunk = 2000

// Rollbacks queues the rollback job of each move set rolling back.
func (q Queue) Rollbacks(ctx context.Context, tx pgx.Tx, queued []store.RollbackQueued) error {
	if len(queued) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(queued))
	for i, r := range queued {
		params[i] = river.InsertManyParams{Args: RollbackArgs{MoveID: r.MoveID, Run: r.Run}, InsertOpts: &river.InsertOpts{MaxAttempts: r.MaxAttempts}}
	}
	_, err := q.client.InsertManyTx(ctx, tx, params)
	return err
}

// Notify tells the webhooks of a wave's event (notify).
func (q Queue) Notify(ctx context.Context, tx pgx.Tx, ev store.WaveEvent, w migration.Wave) error {
	return notify(ctx, tx, q.client, ev, w)
}
