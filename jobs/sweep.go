package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// WaveSweepArgs reviews every wave a move's end may still change, in case
// the review after some move's end was cut off (its process died between
// the move's end and its review): a wave whose last move so ended would otherwise
// run for ever. River's leader inserts it every SweepInterval.
type WaveSweepArgs struct{}

// Kind implements river.JobArgs.
func (WaveSweepArgs) Kind() string { return "wave_sweep" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (WaveSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueControl, MaxAttempts: 1, UniqueOpts: oneAtATime}
}

// oneAtATime keeps a periodic job to one run at a time: none is inserted
// while another is waiting or running.
var oneAtATime = river.UniqueOpts{ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}}

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
	ids, err := store.New(w.pool).WavesToReview(ctx)
	if err != nil {
		return err
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	for _, id := range ids {
		out, err := app.ReviewWaveTx(ctx, w.pool, NewQueue(client), id, 0, migration.Recount, w.actor)
		if err != nil {
			return err
		}
		touchOutcome(w.cfg.Notifier, id, out)
		logOutcome(w.log, out)
	}
	return w.heal(ctx, client)
}

// heal gives every stranded move (not final, no River job that will run it)
// a new job, and says so in its timeline. A move is stranded when River
// discarded its job or it was deleted, or when its job completed without
// the move's end recorded. The outcome is on disk before a job returns, so
// a crash of Postgres should not leave that (River would write the job's
// end from memory once Postgres is back); it is healed all the same, as no
// move may be left without a job. That completed job holds the move's
// unique key (MoveArgs); it is deleted with the new job's insert, in one
// transaction. The new job reads the homing first, as any run does, so a
// user whose move call was made is verified, not moved again, and it
// counts its attempts afresh: what was lost costs the user none.
func (w *WaveSweepWorker) heal(ctx context.Context, client *river.Client[pgx.Tx]) error {
	stranded, err := store.New(w.pool).MovesWithoutJob(ctx, w.cfg.StrandedQuiet, 1000)
	if err != nil || len(stranded) == 0 {
		return err
	}
	for _, m := range stranded {
		why, healed := "River gave it up, or it was deleted", false
		err := pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
			args, opts := MoveArgs{MoveID: m.MoveID, Run: m.Run}, &river.InsertOpts{MaxAttempts: m.MaxAttempts}
			res, err := client.InsertTx(ctx, tx, args, opts)
			if err != nil {
				return err
			}
			if res.UniqueSkippedAsDuplicate {
				if res.Job.State != rivertype.JobStateCompleted {
					return nil // a job that will run the move came after the read
				}
				done := res.Job.ID
				if _, err := client.JobDeleteTx(ctx, tx, done); err != nil {
					return err
				}
				if res, err = client.InsertTx(ctx, tx, args, opts); err != nil {
					return err
				}
				if res.UniqueSkippedAsDuplicate {
					return fmt.Errorf("move %d: a new job is refused as a duplicate after its completed one was deleted", m.MoveID)
				}
				why = fmt.Sprintf("its job %d completed without recording the move's end", done)
			}
			healed = true
			return store.New(tx).MoveEventAdd(ctx, m.MoveID, migration.MoveEvent{Actor: w.actor,
				Message: "no job was left to run this move (" + why + "): a new one is queued, which reads the user's homing first"})
		})
		if err != nil {
			return err
		}
		if !healed {
			continue
		}
		w.log.Warn("a stranded move was given a new job", "move_id", m.MoveID, "run", m.Run, "why", why)
		if w.cfg.Interrupted != nil {
			w.cfg.Interrupted(CauseStranded, 1)
		}
	}
	return nil
}
