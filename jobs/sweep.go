package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// WaveSweepArgs looks at every wave a move's end may still change, in case
// the look after some move's end was cut off (its process died between the
// move's end and the look): a wave whose last move so ended would otherwise
// run for ever. River's leader inserts it every SweepInterval.
type WaveSweepArgs struct{}

// Kind implements river.JobArgs.
func (WaveSweepArgs) Kind() string { return "wave_sweep" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (WaveSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueControl, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// SweepInterval is how often the waves are swept (WaveSweepArgs).
const SweepInterval = 30 * time.Second

// WaveSweepWorker works WaveSweepArgs.
type WaveSweepWorker struct {
	river.WorkerDefaults[WaveSweepArgs]
	pool  *pgxpool.Pool
	cfg   Config
	log   *slog.Logger
	actor string
}

// Work implements river.Worker.
func (w *WaveSweepWorker) Work(ctx context.Context, job *river.Job[WaveSweepArgs]) error {
	ids, err := store.New(w.pool).WavesUnsettled(ctx)
	if err != nil {
		return err
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	for _, id := range ids {
		out, err := reviewWaveTx(ctx, w.pool, client, id, false, w.actor)
		if err != nil {
			return err
		}
		touchOutcome(w.cfg.Notifier, id, out)
		logOutcome(w.log, out)
	}
	return w.heal(ctx, client)
}

// heal gives every stranded move (not final, no River job that will run it:
// River discarded its job, or it was deleted) a new job, and says so in its
// timeline. The new job reads the homing first, as any run does.
func (w *WaveSweepWorker) heal(ctx context.Context, client *river.Client[pgx.Tx]) error {
	stranded, err := store.New(w.pool).MovesWithoutJob(ctx, w.cfg.StrandedQuiet, 1000)
	if err != nil || len(stranded) == 0 {
		return err
	}
	for _, m := range stranded {
		err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
			res, err := client.InsertTx(ctx, tx, MoveArgs{MoveID: m.MoveID, Run: m.Run}, &river.InsertOpts{MaxAttempts: m.MaxAttempts})
			if err != nil {
				return err
			}
			if res.UniqueSkippedAsDuplicate {
				w.log.Warn("a stranded move's new job was refused as a duplicate of a finished one", "move_id", m.MoveID, "run", m.Run)
				return nil
			}
			return store.New(tx).MoveEventAdd(ctx, m.MoveID, migration.MoveEvent{Actor: w.actor,
				Message: "no job was left to run this move (River gave it up, or it was deleted): a new one is queued"})
		})
		if err != nil {
			return err
		}
		w.log.Warn("a stranded move was given a new job", "move_id", m.MoveID, "run", m.Run)
	}
	return nil
}
