package jobs

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/cutover/cutover/internal/live"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// ReviewWave looks at a move's wave once the move has ended, under the wave's
// lock in tx (success: it went without throttling): it halts the wave when
// its failures cross the threshold, rolls back what a halt says to roll
// back, completes the wave when nothing is left, and notifies webhooks of
// what happened.
func ReviewWave(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], waveID int64, success bool, actor string) (store.WaveOutcome, error) {
	q := store.New(tx)
	out, err := q.WaveReview(ctx, waveID, success, actor)
	if err != nil {
		return out, err
	}
	if out.Wave.State == migration.WaveStateHalted && out.Wave.RollbackOnHalt {
		// Users the wave moved, including those whose move was in flight
		// when it halted and has just ended.
		if err := RollBackWave(ctx, tx, client, waveID, "rollback on halt: moving the user back on premises", actor); err != nil {
			return out, err
		}
	}
	if out.Halted || out.Completed {
		if err := notify(ctx, tx, client, out.Event, out.Wave); err != nil {
			return out, err
		}
	}
	return out, nil
}

// reviewWaveIfChanged reviews a move's wave once the move's end has
// committed, from the wave's activity read after that commit (store.MoveEnd):
// when the end may change the wave (store.WaveReviewNeeded) it runs
// ReviewWave, under the wave's lock, in a transaction of its own. A look cut
// off by a dead process is made up for by WaveSweepWorker.
func reviewWaveIfChanged(ctx context.Context, pool *pgxpool.Pool, client *river.Client[pgx.Tx], act store.WaveActivity, success bool, actor string) (store.WaveOutcome, error) {
	var out store.WaveOutcome
	may, err := store.New(pool).WaveReviewNeeded(ctx, act, success)
	if err != nil || !may {
		return out, err
	}
	return reviewWaveTx(ctx, pool, client, act.Wave.ID, success, actor)
}

// reviewWaveTx runs ReviewWave in a transaction of its own.
func reviewWaveTx(ctx context.Context, pool *pgxpool.Pool, client *river.Client[pgx.Tx], waveID int64, success bool, actor string) (store.WaveOutcome, error) {
	var out store.WaveOutcome
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) (err error) {
		out, err = ReviewWave(ctx, tx, client, waveID, success, actor)
		return err
	})
	return out, err
}

// touchOutcome tells the pages of a wave looked at (its review committed),
// and those of the waves its halt blocked.
func touchOutcome(n *live.Notifier, waveID int64, out store.WaveOutcome) {
	n.Touch(waveID)
	for _, b := range out.Blocked {
		n.Touch(b.ID)
	}
}

// logOutcome logs a wave's halt or completion.
func logOutcome(log *slog.Logger, out store.WaveOutcome) {
	switch {
	case out.Halted:
		log.Warn("wave halted", "wave_id", out.Wave.ID, "wave", out.Wave.Name, "reason", out.Reason, "cancelled", out.Cancelled, "blocked_waves", len(out.Blocked))
	case out.Completed:
		log.Info("wave completed", "wave_id", out.Wave.ID, "wave", out.Wave.Name)
	}
}

// RollBackWave sets the wave's moved users rolling back and queues their
// rollback jobs.
func RollBackWave(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], waveID int64, message, actor string) error {
	queued, err := store.New(tx).MovesRollBack(ctx, waveID, message, actor)
	if err != nil || len(queued) == 0 {
		return err
	}
	params := make([]river.InsertManyParams, len(queued))
	for i, r := range queued {
		params[i] = river.InsertManyParams{Args: RollbackArgs{MoveID: r.MoveID, Run: r.Run}, InsertOpts: &river.InsertOpts{MaxAttempts: r.MaxAttempts}}
	}
	_, err = client.InsertManyTx(ctx, tx, params)
	return err
}

// EnqueueMoves queues a job for each move.
func EnqueueMoves(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], queued []store.QueuedMove, maxAttempts int, at time.Time) error {
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
		if _, err := client.InsertManyFastTx(ctx, tx, params); err != nil {
			return err
		}
	}
	return nil
}

// enqueueChunk is how many move jobs are inserted at a time.
const enqueueChunk = 2000

// ScheduleStart queues the start job of a wave at its start time (at once if
// that has passed).
func ScheduleStart(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], w migration.Wave) error {
	opts := &river.InsertOpts{}
	if w.StartAt.After(time.Now()) {
		opts.ScheduledAt = w.StartAt
	}
	_, err := client.InsertTx(ctx, tx, WaveStartArgs{WaveID: w.ID, Rev: w.ScheduleRev}, opts)
	return err
}

// Unblock returns a group's blocked waves to their schedule once no earlier
// wave is halted.
func Unblock(ctx context.Context, tx pgx.Tx, client *river.Client[pgx.Tx], groupID int64, actor string) error {
	waves, err := store.New(tx).WavesUnblock(ctx, groupID, actor)
	if err != nil {
		return err
	}
	for _, w := range waves {
		if err := ScheduleStart(ctx, tx, client, w); err != nil {
			return err
		}
	}
	return nil
}
