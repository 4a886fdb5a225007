package app

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// ReviewWave reviews a wave in tx, under its lock: it reads the facts in
// one statement, asks the rule what they mean (migration.ReviewWave), and
// applies the answer in one call: the adaptive limit, a halt, a rollback on
// halt, a completion. It queues the rollbacks and notifies webhooks of a
// halt or a completion. moveID is the move whose end it follows, and end
// how it ended (migration.Recount, moveID 0: a review without a move's
// end: the sweep, a lead's resume, a wave that starts with nothing to move).
func ReviewWave(ctx context.Context, tx pgx.Tx, queue Queue, waveID, moveID int64, end migration.MoveEnding, actor string) (store.WaveOutcome, error) {
	q := store.New(tx)
	f, err := q.WaveReviewFactsLocked(ctx, waveID, moveID, end)
	if err != nil {
		return store.WaveOutcome{}, err
	}
	out, err := q.WaveReviewApply(ctx, f, migration.ReviewWave(f, end), actor)
	if err != nil {
		return out, err
	}
	if err := queue.Rollbacks(ctx, tx, out.RollBacks); err != nil {
		return out, err
	}
	if out.Halted || out.Completed {
		if err := queue.Notify(ctx, tx, out.Event, out.Wave); err != nil {
			return out, err
		}
	}
	return out, nil
}

// ReviewAfterEnd reviews a move's wave once the move's end has committed,
// from the facts read in the end's own round trip (store.MoveEnd): only
// when the rule says the end changes the wave does it take the wave's lock
// (ReviewWave, in a transaction of its own), since while a wave of
// thousands runs almost every move's end changes nothing. A review cut off
// by a dead process is made up for by the sweep (ReviewWaveTx).
func ReviewAfterEnd(ctx context.Context, pool *pgxpool.Pool, queue Queue, f migration.WaveFacts, moveID int64, end migration.MoveEnding, actor string) (store.WaveOutcome, error) {
	if !migration.ReviewWave(f, end).Changes() {
		return store.WaveOutcome{}, nil
	}
	return ReviewWaveTx(ctx, pool, queue, f.Wave.ID, moveID, end, actor)
}

// ReviewWaveTx runs ReviewWave in a transaction of its own.
func ReviewWaveTx(ctx context.Context, pool *pgxpool.Pool, queue Queue, waveID, moveID int64, end migration.MoveEnding, actor string) (store.WaveOutcome, error) {
	var out store.WaveOutcome
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) (err error) {
		out, err = ReviewWave(ctx, tx, queue, waveID, moveID, end, actor)
		return err
	})
	return out, err
}

// rollBackWave sets the wave's moved users rolling back and queues their
// rollback jobs.
func rollBackWave(ctx context.Context, tx pgx.Tx, queue Queue, waveID int64, message, actor string) error {
	queued, err := store.New(tx).MovesRollBack(ctx, waveID, message, actor)
	if err != nil {
		return err
	}
	return queue.Rollbacks(ctx, tx, queued)
}

// unblock returns a group's blocked waves to their schedule once no
// earlier wave is halted, and queues their starts.
func unblock(ctx context.Context, tx pgx.Tx, queue Queue, groupID int64, actor string) error {
	waves, err := store.New(tx).WavesUnblock(ctx, groupID, actor)
	if err != nil {
		return err
	}
	for _, w := range waves {
		if err := queue.WaveStart(ctx, tx, w); err != nil {
			return err
		}
	}
	return nil
}
