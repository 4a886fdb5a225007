package jobs

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/store"
)

// WaveStartArgs starts a wave. The job is scheduled at the wave's start time.
type WaveStartArgs struct {
	WaveID int64 `json:"wave_id"`
}

// Kind implements river.JobArgs.
func (WaveStartArgs) Kind() string { return "wave_start" }

// InsertOpts implements river.JobArgsWithInsertOpts: one start job per wave.
func (WaveStartArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueControl, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// WaveStartWorker sets a wave running and queues a move job for each of its
// users, in one transaction with the job's completion.
type WaveStartWorker struct {
	river.WorkerDefaults[WaveStartArgs]
	pool  *pgxpool.Pool
	actor string
}

// Work implements river.Worker.
func (w *WaveStartWorker) Work(ctx context.Context, job *river.Job[WaveStartArgs]) error {
	return pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		wave, queued, started, err := q.WaveStart(ctx, job.Args.WaveID, w.actor)
		if err != nil {
			return err
		}
		if started {
			if len(queued) > 0 {
				params := make([]river.InsertManyParams, len(queued))
				for i, m := range queued {
					params[i] = river.InsertManyParams{
						Args:       MoveArgs{MoveID: m.MoveID, Run: m.Run},
						InsertOpts: &river.InsertOpts{MaxAttempts: wave.MaxAttempts},
					}
				}
				if _, err := river.ClientFromContext[pgx.Tx](ctx).InsertManyFastTx(ctx, tx, params); err != nil {
					return err
				}
			} else if _, err := q.WaveFinishIfDone(ctx, wave.ID); err != nil {
				return err
			}
		}
		return complete(ctx, tx, job)
	})
}
